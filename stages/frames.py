"""Sample frames for every mixture example; examples without usable media are left out with a reason.

Reads params `frames` (media_root, min_window_s), the frame policy and pixel budget of the recipe
in params `train.recipe` (its `data:` section: the one place they are set, so the frames match
what that model is trained on) and the mixture's splits; writes into --out
{train,val,test}.parquet (FRAMES_SCHEMA, in the mixture's curriculum order), skipped.parquet
(FRAME_SKIP_SCHEMA: example, split, reason, detail) and policy.json (the frame policy, which the
train stage trains with), and to --metrics per split: examples = with_frames + skipped, skipped by
reason. The rules are in narrate/frames.py; paths are the arguments dvc.yaml gives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from tqdm import tqdm

from config.params import load_params
from curation.io import write_json, write_parquet
from curation.mixing import SPLITS
from curation.schema import FRAME_SKIP_SCHEMA, FRAMES_SCHEMA, conform
from narrate.frames import SKIP_REASONS, Skip, locate_media, png_bytes, sample_frames, write_policy_file
from train.recipes import load_recipe

COLUMNS = ["example_id", "source", "media_kind", "video_id", "clip_key", "clip_start_s", "clip_end_s",
           "curriculum_position"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mixture", type=Path, required=True, help="the mix stage's folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the frames, skipped.parquet and policy.json")
    parser.add_argument("--metrics", type=Path, required=True, help="frames metrics JSON")
    args = parser.parse_args()
    all_params = load_params()
    params = all_params.frames
    root = Path(params.media_root)
    if not root.is_dir():
        sys.exit(f"params frames.media_root = {str(root)!r}: not a folder\n  fix: point it at the folder holding the videos")
    recipe = load_recipe(all_params.train.recipe)
    policy = recipe.data
    metrics: dict[str, object] = {"media_root": str(root)}
    skipped_rows: list[dict[str, object]] = []
    for split in SPLITS:
        examples = pl.read_parquet(args.mixture / f"{split}.parquet", columns=COLUMNS).sort("curriculum_position")
        rows: list[dict[str, object]] = []
        for example in tqdm(examples.iter_rows(named=True), total=examples.height, desc=f"frames {split}", file=sys.stderr):
            media = locate_media(
                root, source=example["source"], media_kind=example["media_kind"], video_id=example["video_id"],
                clip_key=example["clip_key"], clip_start_s=example["clip_start_s"], clip_end_s=example["clip_end_s"],
            )
            frames = media if isinstance(media, Skip) else sample_frames(media, policy, params.min_window_s)
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
        write_parquet(conform(table, FRAMES_SCHEMA), args.out / f"{split}.parquet")
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
    write_parquet(conform(skipped.sort("split", "example_id"), FRAME_SKIP_SCHEMA), args.out / "skipped.parquet")
    write_policy_file(args.out, policy)
    metrics["recipe"] = recipe.name
    write_json(metrics, args.metrics)
    total_skipped = len(skipped_rows)
    if total_skipped:
        print(f"frames: {total_skipped} examples left out of training (see {args.out / 'skipped.parquet'})", file=sys.stderr)


if __name__ == "__main__":
    main()
