"""Generate the deterministic "sample world" of Visual Narrator.

Usage (from the repository root)::

    python -m sampleworld                 # writes data/sample/
    python -m sampleworld --no-video --out /tmp/world

`build` runs the dump writers (sampleworld.dumps), writes scenes.jsonl, defects.csv and the README,
and encodes one video per scene unless told not to.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from sampleworld.dumps import World
from sampleworld.readme import count_lower_desc, count_over_30, count_prefix, read_rows, write_readme
from sampleworld.render import encode_video


def build(out: Path, seed: int, videos: bool) -> World:
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("lvd2m", "youdescribe", "ad_webvtt"):
        shutil.rmtree(out / sub, ignore_errors=True)
    world = World(seed)
    world.build_lvd(out)
    world.build_youdescribe(out)
    world.build_webvtt(out)
    world.build_webvid(out)
    # a few numbers for the README
    world.n_prefix = count_prefix(out)
    world.n_lower = count_lower_desc(out)
    world.n_yuwa_desc = len({row[1] for row in read_rows(out / "youdescribe/yuwa_sample_world.csv")})
    world.n_over_30 = count_over_30(out)
    world.write_scenes(out)
    world.write_defects(out)
    write_readme(world, out)
    if videos:
        vdir = out / "videos"
        if vdir.exists():
            for stale in vdir.glob("*.mp4"):
                if stale.stem not in world.scenes:
                    stale.unlink()
        for k, (vid, scene) in enumerate(world.scenes.items()):
            encode_video(scene, vdir / f"{vid}.mp4")
            if (k + 1) % 50 == 0:
                print(f"  encoded {k + 1}/{len(world.scenes)} videos", file=sys.stderr)
    return world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/sample", help="output folder (default data/sample)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-video", action="store_true", help="skip encoding the videos")
    args = parser.parse_args(argv)
    world = build(Path(args.out), args.seed, videos=not args.no_video)
    print(f"sample world written to {args.out}: {len(world.scenes)} scenes, {len(world.defects)} defect rows"
          + ("" if args.no_video else ", videos encoded"))
    return 0
