"""Pretrain the tiny model's vision tower with other settings, into a folder the probe can read.

    python -m experiments.pretrain_tiny_tower /tmp/tower8k --scenes 8000 --steps 3000
    python -m experiments.probe_tiny_narrator --tower-from /tmp/tower8k --pacing competence

Run from the repository root. Does what the tiny_tower stage does (stages/tiny_tower.py) by
calling the same function, train.tiny_tower.pretrain_tiny_tower (pretrain the tiny recipe's tower
on scenes of the `sampleworld` generator), with params `tiny_model.tower_pretraining` overridden
from the command line; writes the tower folder and its tower_pretraining.json, and prints the
held-out per-patch accuracies. models/tiny-tower is never touched. Figures are in EXPERIMENTS.md,
with the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sampleworld as world
from config.params import load_params
from train.recipes import load_recipe
from train.tiny_tower import pretrain_tiny_tower

REPO = Path(__file__).resolve().parents[1]  # where the pipeline's data, params and models are


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="tower folder to write (not models/tiny-tower)")
    parser.add_argument("--scenes", type=int, default=None, help="training scenes (default: params)")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (default: params)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per step (default: params)")
    parser.add_argument("--learning-rate", type=float, default=None, help="peak learning rate (default: params)")
    parser.add_argument("--seed", type=int, default=None, help="default: params")
    args = parser.parse_args()
    if args.out.resolve() == (REPO / "models/tiny-tower").resolve():
        sys.exit("pretrain_tiny_tower: write somewhere else: models/tiny-tower is the tiny_tower stage's output")

    config = load_params(REPO / "params.yaml").tiny_model.tower_pretraining
    overrides = {"scenes": args.scenes, "steps": args.steps, "batch_size": args.batch_size,
                 "learning_rate": args.learning_rate, "seed": args.seed}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    recipe = load_recipe("tiny")
    started = time.perf_counter()
    _, report = pretrain_tiny_tower(args.out, recipe, world, config)
    seconds = time.perf_counter() - started
    print(f"tower pretraining: {config.scenes} scenes, {config.steps} steps of {config.batch_size}, seed {config.seed}: "
          f"{seconds:.0f} s")
    print("held-out: " + ", ".join(f"{name} {value}" for name, value in report["held_out_after"].items()))


if __name__ == "__main__":
    main()
