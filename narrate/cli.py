"""`visual-narrator`: narrate photos and videos with a trained narrator, or export it for the Hub.

    visual-narrator narrate photo.jpg clips/ talk.mp4 --out-dir narrations/
    visual-narrator narrate photo.jpg --format text                     # narrations on stdout
    visual-narrator narrate film.mp4 --srt --words-per-second 2.5 --scene-threshold 30
    visual-narrator export --dry-run build/hub                          # see narrate/publish.py

`narrate` writes `<out-dir>/narrations.jsonl` (one record per image and per video scene: file,
narration, model, settings; or the file and its error) and, per video, `<out-dir>/<name>.vtt`,
a timed audio-description track (`<name>.srt` too with --srt). A file that cannot be read is
named on stderr and recorded; the rest of the batch goes on, and the exit status is 1.
Frames are sampled with the frame policy saved with the model (train stage), so the narrator
sees them as in training; a model without one (a base model) needs --recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from narrate.frames import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

DEFAULT_MODEL = "models/narrator/curriculum/final"  # the pipeline's trained narrator (dvc repro)


def collect_inputs(paths: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Image and video files from files and folders (folders: their media files, sorted); and errors."""
    files, errors = [], []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
            if not found:
                errors.append((given, f"no {'/'.join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)} files in this folder"))
            files += found
        elif path.is_file():
            if path.suffix.lower() not in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS:
                errors.append((given, f"unsupported file type {path.suffix or '(none)'}: narrate takes "
                                      f"{', '.join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)}"))
            else:
                files.append(path)
        else:
            errors.append((given, "no such file or folder"))
    return files, errors


def frame_policy_for(model: str, recipe: str | None) -> Any:
    from narrate.frames import read_frame_policy

    if recipe:
        from train.recipes import load_recipe

        return load_recipe(recipe).data
    try:
        return read_frame_policy(model)
    except KeyError as err:
        raise SystemExit(f"narrate: {model} has no saved frame policy (not a model saved by the train stage); "
                         "pass --recipe NAME to use that recipe's frames and pixel budget") from err


def narrate_command(args: argparse.Namespace) -> int:
    from narrate.conversation import PROMPTS
    from narrate.frames import Frames, Media, sample_frames
    from narrate.generation import DECODING, generate
    from narrate.model import load_narrator
    from narrate.scenes import SceneOptions, detect_scenes
    from narrate.tracks import cues_for_scenes, write_tracks

    scene_options = SceneOptions(args.scene_threshold, args.min_scene_s, args.max_scene_s)
    files, errors = collect_inputs(args.inputs)
    if not files and errors:
        for given, why in errors:
            print(f"narrate: {given}: {why}", file=sys.stderr)
        return 1
    policy = frame_policy_for(args.model, args.recipe)
    model, processor = load_narrator(args.model)
    model.eval()
    settings = {"style_image": args.image_style, "style_video": args.video_style, "prompt_image": PROMPTS[args.image_style],
                "prompt_video": PROMPTS[args.video_style], "max_new_tokens": args.max_new_tokens,
                "decoding": DECODING,
                "frame_policy": policy.to_dict()}

    requests: list[tuple[list, str]] = []
    owners: list[dict[str, Any]] = []  # what each request narrates
    videos: dict[Path, dict[str, Any]] = {}
    for path in tqdm(files, desc="reading media", unit="file", disable=args.quiet):
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            frames = sample_frames(Media(path, 0.0, 0.0, "image"), policy)
            if not isinstance(frames, Frames):
                errors.append((str(path), frames.detail.removeprefix(f"{path}: ")))
                continue
            requests.append((frames.images, PROMPTS[args.image_style]))
            owners.append({"file": str(path), "kind": "image"})
            continue
        try:
            scenes, duration = detect_scenes(path, scene_options)
        except ValueError as err:
            errors.append((str(path), str(err)))
            continue
        videos[path] = {"duration_s": duration, "scenes": [], "narrations": []}
        for start, end in scenes:
            frames = sample_frames(Media(path, start, end, "video"), policy)
            if not isinstance(frames, Frames):
                errors.append((f"{path} [{start:.2f}-{end:.2f} s]", frames.detail))
                continue
            requests.append((frames.images, PROMPTS[args.video_style]))
            owners.append({"file": str(path), "kind": "video_scene", "start_s": round(start, 3), "end_s": round(end, 3)})
            videos[path]["scenes"].append((start, end))

    with tqdm(total=len(requests), desc="narrating", unit="item", disable=args.quiet) as bar:
        narrations = generate(model, processor, requests, max_new_tokens=args.max_new_tokens,
                              batch_size=args.batch_size, progress=bar.update)
    records = []
    for owner, text in zip(owners, narrations):
        records.append({**owner, "narration": text, "model": args.model, "settings": settings})
        if owner["kind"] == "video_scene":
            videos[Path(owner["file"])]["narrations"].append(text)
    records += [{"file": given, "error": why} for given, why in errors]

    out = Path(args.out_dir)
    written: list[Path] = []
    for path, video in videos.items():
        cues = cues_for_scenes(video["scenes"], video["narrations"], video["duration_s"],
                               words_per_second=args.words_per_second)
        written += write_tracks(cues, out / f"{path.stem}.vtt", srt=args.srt)
    if args.format == "text":
        for record in records:
            if "error" not in record:
                where = f" [{record['start_s']:.2f}-{record['end_s']:.2f} s]" if record["kind"] == "video_scene" else ""
                print(f"{record['file']}{where}: {record['narration']}")
    if args.format == "jsonl" or videos:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "narrations.jsonl").open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        written.append(out / "narrations.jsonl")
    for given, why in errors:
        print(f"narrate: {given}: {why}", file=sys.stderr)
    if not args.quiet:
        print(f"narrate: {len(records) - len(errors)} narrations, {len(errors)} errors; wrote "
              f"{', '.join(str(p) for p in written) or 'nothing'}", file=sys.stderr)
    return 1 if errors else 0


def export_command(args: argparse.Namespace) -> int:
    import tempfile

    from narrate.publish import export, push

    if not args.dry_run and not args.repo_id:
        raise SystemExit("export: give --repo-id to upload, or --dry-run OUT_DIR to write the export locally")
    if args.dry_run:
        folder = export(args.model, args.dry_run, run=args.run, recipe_name=args.recipe, merge=not args.adapter)
        print(f"export: wrote {folder} (dry run: nothing uploaded)", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="narrator-export-") as work:
        folder = export(args.model, Path(work) / "export", run=args.run, recipe_name=args.recipe, merge=not args.adapter)
        commit = push(folder, args.repo_id, private=not args.public)
    print(f"export: uploaded to {args.repo_id}: {commit}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from narrate.conversation import PROMPTS

    parser = argparse.ArgumentParser(prog="visual-narrator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    narrate = commands.add_parser("narrate", help="narrate images and videos")
    narrate.add_argument("inputs", nargs="+", help="image files, video files or folders")
    narrate.add_argument("--model", default=DEFAULT_MODEL,
                         help=f"trained or merged narrator: a folder or a cached hub id (default: {DEFAULT_MODEL})")
    narrate.add_argument("--recipe", default=None, help="take frames and pixel budget from this recipe "
                                                        "(for models saved without a frame policy)")
    narrate.add_argument("--out-dir", default="narrations", help="where narrations.jsonl and the tracks go")
    narrate.add_argument("--format", choices=("jsonl", "text"), default="jsonl",
                         help="text: also print 'file: narration' lines on stdout")
    narrate.add_argument("--image-style", choices=tuple(PROMPTS), default="dense")
    narrate.add_argument("--video-style", choices=tuple(PROMPTS), default="audio_description")
    narrate.add_argument("--max-new-tokens", type=int, default=160)
    narrate.add_argument("--batch-size", type=int, default=8)
    narrate.add_argument("--scene-threshold", type=float, default=30.0,
                         help="mean grey-level difference (0-255) between frames that starts a new scene")
    narrate.add_argument("--min-scene-s", type=float, default=1.0)
    narrate.add_argument("--max-scene-s", type=float, default=10.0, help="longer scenes are split")
    narrate.add_argument("--words-per-second", type=float, default=2.5,
                         help="speaking rate that bounds each cue's length (audio description: ~2-3)")
    narrate.add_argument("--srt", action="store_true", help="also write SubRip (.srt) tracks")
    narrate.add_argument("--quiet", action="store_true", help="no progress bars")
    narrate.set_defaults(handler=narrate_command)

    export = commands.add_parser("export", help="export the narrator in Hugging Face format with its model card")
    export.add_argument("--model", default=DEFAULT_MODEL, help=f"the trained narrator folder (default: {DEFAULT_MODEL})")
    export.add_argument("--run", default="curriculum", help="train run whose metrics the card reports")
    export.add_argument("--recipe", default=None, help="recipe name for the card (default: params train.recipe)")
    export.add_argument("--adapter", action="store_true", help="keep a LoRA adapter unmerged (default: merge)")
    export.add_argument("--dry-run", metavar="OUT_DIR", default=None,
                        help="write exactly what would be uploaded to OUT_DIR, upload nothing")
    export.add_argument("--repo-id", default=None, help="Hub repository to upload to, e.g. me/visual-narrator-3b")
    export.add_argument("--public", action="store_true", help="create the Hub repository public (default: private)")
    export.set_defaults(handler=export_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
