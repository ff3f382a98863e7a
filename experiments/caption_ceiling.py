"""How high can CIDEr-D go on the sample world's LVD-2M test clips, per caption field?

An oracle narrator that knows every fact of a clip (the scene spec in data/sample/scenes.jsonl)
writes the clip's caption with the sample world's own generator (the `sampleworld` package), but
with other random choices than the reference (the generator picks one of several templates per
fact and, for refined_caption, a random selection and order of fact-free filler sentences). Its
CIDEr-D against the one reference is the ceiling a perfect narrator can reach with that caption
field.

    python -m experiments.caption_ceiling    # from the repository root; needs data/mixtures/test.parquet (dvc repro mix)

A second table asks where the CIDEr-D of raw captions lies: the same oracle against the clips'
real references (data/mixtures/test.parquet), with one kind of fact made wrong at a time (the
motion, the start position, the kind, the sign's word, the colour change left out, the second
shape left out). It says what a narrator that misses a fact can reach at most.

Why it matters: the tiny narrator's floor (CIDEr-D >= 2.0 on the held-out split) is only
reachable with a field whose ceiling is well above it. Figures are in EXPERIMENTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import polars as pl

import sampleworld as world
from eval.caption_metrics import cider_d

REPO = Path(__file__).resolve().parents[1]  # where the pipeline's data is

FIELDS = {  # the LVD-2M caption columns the sample world writes, by their generator
    "refined_caption": world.refined_caption,
    "raw_caption": world.llava_paragraph,  # raw_caption of a clip under 30 s is one LLaVA paragraph
    "rewritten_caption": world.rewritten_caption,
}
SEEDS = 5  # oracle captions per clip (each scored against an independently drawn reference)


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    scenes = {}
    for line in (REPO / "data/sample/scenes.jsonl").read_text(encoding="utf-8").splitlines():
        scene = json.loads(line)
        scenes[scene["video_id"]] = scene
    test = pl.read_parquet(REPO / "data/mixtures/test.parquet").filter(pl.col("source") == "lvd2m")
    clips = [(r["example_id"], world.window_facts(scenes[r["video_id"]], r["clip_start_s"], r["clip_end_s"]))
             for r in test.iter_rows(named=True) if r["clip_end_s"] - r["clip_start_s"] <= 30.0]
    print(f"{len(clips)} LVD-2M test clips of the sample world, {SEEDS} oracle captions each")
    print("| caption field | oracle CIDEr-D (mean of seeds) | min | max |")
    print("|---|---:|---:|---:|")
    for name, write in FIELDS.items():
        scores = []
        for seed in range(SEEDS):
            references = {k: [write(np.random.default_rng([seed, 0, i]), f)] for i, (k, f) in enumerate(clips)}
            candidates = {k: write(np.random.default_rng([seed, 1, i]), f) for i, (k, f) in enumerate(clips)}
            scores.append(cider_d(references, candidates)[0])
        print(f"| {name} | {np.mean(scores):.2f} | {min(scores):.2f} | {max(scores):.2f} |")

    ablation(clips, {row["example_id"]: [row["text"]] for row in test.iter_rows(named=True)})


WRONG = {  # one kind of fact made wrong (or left out) for every shape of a clip
    "motion": lambda v, rng: dataclasses.replace(
        v, motion=str(rng.choice([m for m in world.MOTIONS if m != v.motion])), bounce_period=1.0),
    "start position": lambda v, rng: dataclasses.replace(
        v, start_xy=(float(rng.uniform(0, world.W)), float(rng.uniform(0, world.H)))),
    "kind": lambda v, rng: dataclasses.replace(v, kind=str(rng.choice([k for k in world.SHAPE_KINDS if k != v.kind]))),
    "colour change": lambda v, rng: dataclasses.replace(v, change=None),
}


def ablation(clips: list, references: dict[str, list[str]]) -> None:
    def oracle(what: str | None, seed: int) -> dict[str, str]:
        rng = np.random.default_rng([seed, 2])
        out = {}
        for i, (key, facts) in enumerate(clips):
            shapes = [WRONG[what](v, rng) for v in facts.shapes] if what in WRONG else list(facts.shapes)
            sign = facts.sign
            if what == "second shape":
                shapes = shapes[:1]
            if what == "sign word" and sign is not None:
                sign = dataclasses.replace(sign, word=str(rng.choice([w for w in world.SIGN_WORDS if w != sign.word])))
            out[key] = world.llava_paragraph(np.random.default_rng([seed, 3, i]),
                                             dataclasses.replace(facts, shapes=shapes, sign=sign))
        return out

    refs = {key: references[key] for key, _ in clips}
    print(f"\nraw_caption oracle against the real references, one kind of fact wrong ({SEEDS} seeds)")
    print("| fact wrong | oracle CIDEr-D |")
    print("|---|---:|")
    for what in (None, *WRONG, "sign word", "second shape"):
        score = np.mean([cider_d(refs, oracle(what, seed))[0] for seed in range(SEEDS)])
        print(f"| {what or 'none'} | {score:.2f} |")


if __name__ == "__main__":
    main()
