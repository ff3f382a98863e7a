"""Sample frames for every mixture example; examples without usable media are left out with a reason.

Reads params `frames` (media_root, min_window_s), the frame policy and pixel budget of the recipe
in params `train.recipe` (its `data:` section: the one place they are set, so the frames match
what that model is trained on) and data/mixtures/{train,val,test}.parquet;
writes data/frames/{train,val,test}.parquet (FRAMES_SCHEMA, in the mixture's curriculum order),
data/frames/skipped.parquet (FRAME_SKIP_SCHEMA: example, split, reason, detail) and
reports/metrics/frames.json (per split: examples = with_frames + skipped, skipped by reason).
The rules are in train/frames.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from tqdm import tqdm

from curation.io import load_params, write_json, write_parquet
from curation.mixing import SPLITS
from curation.schema import FRAME_SKIP_SCHEMA, FRAMES_SCHEMA, conform
from train.frames import SKIP_REASONS, FramePolicy, Skip, locate_media, png_bytes, sample_frames
from train.recipes import load_recipe

MIXTURES = Path("data/mixtures")
OUT_DIR = Path("data/frames")
METRICS = Path("reports/metrics/frames.json")
COLUMNS = ["example_id", "source", "media_kind", "video_id", "clip_key", "clip_start_s", "clip_end_s",
           "curriculum_position"]


def main() -> None:
    all_params = load_params()
    params = all_params["frames"]
    root = Path(params["media_root"])
    if not root.is_dir():
        sys.exit(f"params frames.media_root = {str(root)!r}: not a folder\n  fix: point it at the folder holding the videos")
    recipe = load_recipe(str(all_params["train"]["recipe"]))
    policy = FramePolicy.from_recipe(recipe.data, min_window_s=float(params["min_window_s"]))
    metrics: dict[str, object] = {"media_root": str(root)}
    skipped_rows: list[dict[str, object]] = []
    for split in SPLITS:
        examples = pl.read_parquet(MIXTURES / f"{split}.parquet", columns=COLUMNS).sort("curriculum_position")
        rows: list[dict[str, object]] = []
        for example in tqdm(examples.iter_rows(named=True), total=examples.height, desc=f"frames {split}", file=sys.stderr):
            media = locate_media(
                root, source=example["source"], media_kind=example["media_kind"], video_id=example["video_id"],
                clip_key=example["clip_key"], clip_start_s=example["clip_start_s"], clip_end_s=example["clip_end_s"],
            )
            frames = media if isinstance(media, Skip) else sample_frames(media, policy)
            if isinstance(frames, Skip):
                skipped_rows.append({"example_id": example["example_id"], "split": split, "source": example["source"],
                                     "reason": frames.reason, "detail": frames.detail})
                continue
            rows.append({
                "example_id": example["example_id"],
                "split": split,
                "curriculum_position": example["curriculum_position"],
                "media_path": frames.path.relative_to(root).as_posix(),
                "frame_times_s": frames.times_s,
                "frames": [png_bytes(image) for image in frames.images],
                "width": frames.images[0].width,
                "height": frames.images[0].height,
            })
        table = pl.DataFrame(rows) if rows else FRAMES_SCHEMA.empty_table()
        write_parquet(conform(table, FRAMES_SCHEMA), OUT_DIR / f"{split}.parquet")
        skipped_here = [r for r in skipped_rows if r["split"] == split]
        if examples.height != len(rows) + len(skipped_here):
            raise AssertionError(f"internal error: {split}: {examples.height} examples != {len(rows)} + {len(skipped_here)}")
        metrics[split] = {
            "examples": examples.height,
            "with_frames": len(rows),
            "skipped": len(skipped_here),
            "skipped_by_reason": {r: sum(1 for x in skipped_here if x["reason"] == r) for r in sorted(SKIP_REASONS)},
        }
    skipped = pl.DataFrame(skipped_rows, schema={f.name: pl.String for f in FRAME_SKIP_SCHEMA})
    write_parquet(conform(skipped.sort("split", "example_id"), FRAME_SKIP_SCHEMA), OUT_DIR / "skipped.parquet")
    metrics["recipe"] = recipe.name
    metrics["policy"] = policy.to_dict()
    write_json(metrics, METRICS)
    total_skipped = len(skipped_rows)
    if total_skipped:
        print(f"frames: {total_skipped} examples left out of training (see data/frames/skipped.parquet)", file=sys.stderr)


if __name__ == "__main__":
    main()
