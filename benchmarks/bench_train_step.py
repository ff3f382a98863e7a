"""Seconds per optimizer step of the tiny recipe's SFT, fp32 against bf16 autocast, in one run.

    python -m benchmarks.bench_train_step [--steps 60] [--rounds 2]

Run from the repository root after `dvc repro frames tiny_model` (it reads data/frames/train.parquet,
data/mixtures/train.parquet and models/tiny-llava). Builds the trainer exactly as the train stage
does (train.sft.phase_trainer, shuffle pacing, the recipe's batch size), trains `--steps` steps in a
temporary folder with `train.mixed_precision` set to each value in turn, and prints the median
seconds per step of each and their ratio. Nothing is saved. The first 5 steps of each round are
not timed (allocator and autocast caches warm up).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from config.params import load_params  # noqa: E402
from narrate.conversation import load_examples  # noqa: E402
from narrate.model import apply_pixel_budget, load_narrator  # noqa: E402
from train.dataset import trainable_examples  # noqa: E402
from train.recipes import load_recipe  # noqa: E402
from train.sft import phase_trainer  # noqa: E402

WARMUP = 5


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        self.times.append(time.perf_counter())


def seconds_per_step(mixed_precision: str, steps: int) -> float:
    params = load_params("params.yaml")
    base = load_recipe(params.train.recipe)
    recipe = base.model_copy(update=dict(train=base.train.model_copy(update=dict(mixed_precision=mixed_precision))))
    torch.manual_seed(recipe.train.seed)
    model, processor = load_narrator(recipe.model.path)
    apply_pixel_budget(processor, recipe.data.max_pixels, recipe.data.frames_per_image)
    examples = load_examples("data/frames/train.parquet", "data/mixtures/train.parquet")
    dataset, kept, _ = trainable_examples(examples, processor, recipe.train.max_seq_length)
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as out:
        trainer, _ = phase_trainer(model, processor, recipe, recipe.phases[0], dataset, kept, Path(out),
                                   bucket_order=params.score.difficulty_buckets, pacing="shuffle",
                                   batch_size=recipe.train.per_device_batch_size, max_steps=steps + WARMUP,
                                   save_steps=10**9, logging_steps=10**9, callbacks=[timer])
        trainer.train()
    return (timer.times[-1] - timer.times[WARMUP - 1]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per setting (median reported)")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {time.strftime('%Y-%m-%d')}")
    results = {}
    for mixed_precision in ("no", "bf16"):
        rounds = [seconds_per_step(mixed_precision, args.steps) for _ in range(args.rounds)]
        results[mixed_precision] = statistics.median(rounds)
        print(f"mixed_precision {mixed_precision}: {results[mixed_precision]:.3f} s/step "
              f"(rounds: {', '.join(f'{r:.3f}' for r in rounds)})")
    print(f"bf16 / fp32 time per step = {results['bf16'] / results['no']:.2f}x")


if __name__ == "__main__":
    main()
