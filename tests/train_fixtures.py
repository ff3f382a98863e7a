"""Small training inputs made from the sample world, so training tests need no `dvc repro` first.

Writes data/mixtures/train.parquet and data/frames/train.parquet (the columns the train stage
reads) for the first `count` LVD-2M sample rows whose video exists, with frames sampled by the
real frames code from data/sample/videos with the tiny recipe's frame policy, and the policy in
data/frames/policy.json as the frames stage writes it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import yaml

from narrate.frames import Frames, Media, png_bytes, sample_frames, write_policy_file
from train.recipes import load_recipe

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data/sample"


def make_training_inputs(dest: Path, count: int = 16) -> pl.DataFrame:
    with (SAMPLE / "lvd2m/lvd2m_sample.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if (SAMPLE / "videos" / f"{r['video_id']}.mp4").exists()]
    buckets = ["easy", "medium", "hard"]
    policy = load_recipe("tiny").data
    mixture, frames = [], []
    for k, row in enumerate(rows[:count]):
        video = SAMPLE / "videos" / f"{row['video_id']}.mp4"
        sampled = sample_frames(Media(video, 0.0, 1.5, "video"), policy)
        assert isinstance(sampled, Frames), sampled
        example_id = f"lvd2m:{row['video_id']}:{k}"
        mixture.append({"example_id": example_id, "text": row["refined_caption"].removeprefix("CAPTION: "),
                        "source": "lvd2m", "difficulty_bucket": buckets[k * 3 // count], "curriculum_position": k})
        frames.append({"example_id": example_id, "frames": [png_bytes(im) for im in sampled.images]})
    (dest / "data/mixtures").mkdir(parents=True, exist_ok=True)
    (dest / "data/frames").mkdir(parents=True, exist_ok=True)
    table = pl.DataFrame(mixture)
    table.write_parquet(dest / "data/mixtures/train.parquet")
    pl.DataFrame(frames).write_parquet(dest / "data/frames/train.parquet")
    write_policy_file(dest / "data/frames", policy)
    return table


def quick_tower_pretraining(project: Path) -> None:
    """Shrink params tiny_model.tower_pretraining in `project` (a few seconds instead of a minute), so
    stages/tiny_tower.py runs quickly in a temp folder."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["tiny_model"]["tower_pretraining"].update(scenes=40, eval_scenes=10, steps=20)
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
