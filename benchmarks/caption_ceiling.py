"""How high can CIDEr-D go on the sample world's LVD-2M test clips, per caption field?

An oracle narrator that knows every fact of a clip (the scene spec in data/sample/scenes.jsonl)
writes the clip's caption with the sample world's own generator, but with other random choices
than the reference (data/sample/make_sample_world.py picks one of several templates per fact and,
for refined_caption, a random selection and order of fact-free filler sentences). Its CIDEr-D
against the one reference is the ceiling a perfect narrator can reach with that caption field.

    python benchmarks/caption_ceiling.py        # needs data/mixtures/test.parquet (dvc repro mix)

Why it matters: issue 4's floor (CIDEr-D >= 2.0 on the held-out split) is only reachable with a
field whose ceiling is well above it. Figures are in the README.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "data/sample"))
sys.path.insert(0, str(REPO))

import make_sample_world as world  # noqa: E402

from eval.caption_metrics import cider_d  # noqa: E402

FIELDS = {  # the LVD-2M caption columns the sample world writes, by their generator
    "refined_caption": world.refined_caption,
    "raw_caption": world.llava_paragraph,  # raw_caption of a clip under 30 s is one LLaVA paragraph
    "rewritten_caption": world.rewritten_caption,
}
SEEDS = 5  # oracle captions per clip (each scored against an independently drawn reference)


def main() -> None:
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


if __name__ == "__main__":
    main()
