"""`visual-narrator`: narrate photos and videos with a trained narrator, or export it for the Hub.

    visual-narrator narrate photo.jpg clips/ talk.mp4 --out-dir narrations/
    visual-narrator narrate photo.jpg --format text                     # narrations on stdout
    visual-narrator narrate film.mp4 --srt --words-per-second 2.5 --scene-threshold 30
    visual-narrator export --dry-run build/hub                          # see narrate/publish.py
    visual-narrator export --project ~/narrator --run shuffle --dry-run build/shuffle

`narrate` writes `<out-dir>/narrations.jsonl` (one record per image and per video scene: file,
narration, model, settings; or the file and its error) and, per video, `<out-dir>/<name>.vtt`,
a timed audio-description track (`<name>.srt` too with --srt). A file that cannot be read is
named on stderr and recorded; the rest of the batch goes on, and the exit status is 1.
Frames are sampled with the frame policy saved with the model (train stage), so the narrator
sees them as in training; a model without one (a base model) needs --recipe.

The default model is the pipeline's trained narrator, `models/narrator/curriculum/final` of the
project root: the folder holding dvc.yaml, from the current folder upward (else the repository this
package is in). A model that is missing or unusable ends the command with one line on stderr that
names it and says what to do. --quiet leaves only results and errors: no progress bars, no log lines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from narrate.frames import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

DEFAULT_RUN = "curriculum"
RUN_MODEL = "models/narrator/{run}/final"  # where the train stage saves each run's narrator
DEFAULT_MODEL = RUN_MODEL.format(run=DEFAULT_RUN)
PROJECT_HELP = ("the project root: the folder holding dvc.yaml, from the current folder upward, else this package's "
                "repository")


def find_project(start: Path | None = None) -> Path | None:
    """The project root: the folder holding dvc.yaml, from `start` (the current folder) upward, else
    the repository this package is in; None outside any project."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file():
            return folder
    repository = Path(__file__).resolve().parents[1]
    return repository if (repository / "dvc.yaml").is_file() else None


def model_folder(model: str) -> Path | None:
    """The folder holding the model's files: a local folder, or a hub id's snapshot in the local
    Hugging Face cache (nothing is downloaded); None when neither exists."""
    from huggingface_hub import try_to_load_from_cache

    local = Path(model).expanduser()
    if local.is_dir():
        return local
    if local.is_absolute() or model.startswith(".") or model.count("/") != 1:
        return None
    cached = try_to_load_from_cache(model, "config.json")
    return Path(cached).parent if isinstance(cached, str) else None


def checked_model(command: str, given: str | None, project: Path | None, run: str = DEFAULT_RUN) -> tuple[str, Path]:
    """The model (as given, or the trained narrator of `run` in `project`) and its folder, once it
    holds safetensors weights; else exit with one line naming it and what to do."""
    if given is None:
        if project is None:
            raise SystemExit(f"{command}: no project (a folder with dvc.yaml) in {Path.cwd()} or above, so no default "
                             "model: pass --model PATH of a trained narrator")
        given = str(project / RUN_MODEL.format(run=run))
        todo = f"run `dvc repro` in {project} to train it, or pass --model PATH"
    else:
        todo = f"pass --model PATH of a trained narrator (e.g. {DEFAULT_MODEL} of the project after `dvc repro`)"
    folder = model_folder(given)
    if folder is None:
        raise SystemExit(f"{command}: no model at {given} (no such folder, nor a model id in the local Hugging Face "
                         f"cache): {todo}")
    if not any(folder.glob("*.safetensors")):
        raise SystemExit(f"{command}: {given} holds no *.safetensors weights, so it is not a trained narrator: {todo}")
    return given, folder


def saved_frame_policy(command: str, model: str, folder: Path, fix: str) -> Any:
    """The frame policy saved with the model; else exit with one line saying `fix`."""
    from narrate.frames import POLICY_KEY, read_frame_policy

    try:
        return read_frame_policy(folder)
    except KeyError:
        raise SystemExit(f"{command}: {model} has no saved frame policy (processor_config.json, key {POLICY_KEY}): "
                         f"it was not saved by the train stage; {fix}") from None


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


def frame_policy_for(model: str, folder: Path, recipe: str | None) -> Any:
    """The recipe's frame policy when one is named, else the one saved with the model."""
    if recipe:
        from train.recipes import RecipeError, load_recipe

        try:
            return load_recipe(recipe).data
        except RecipeError as err:
            raise SystemExit(f"narrate: {err}") from None
    from train.recipes import available_recipes

    return saved_frame_policy("narrate", model, folder, "pass --recipe NAME to sample frames as that recipe does "
                              f"({', '.join(available_recipes())}), or --model PATH of a trained narrator")


def open_narrator(model: str) -> tuple[Any, Any]:
    """load_narrator, its one-line error kept to one line (a processor missing from the folder)."""
    from narrate.model import NarratorNotAvailableError, load_narrator

    try:
        return load_narrator(model)
    except NarratorNotAvailableError as err:
        raise SystemExit(f"narrate: {err}") from None


def narrate_command(args: argparse.Namespace) -> int:
    from narrate.conversation import PROMPTS
    from narrate.frames import Frames, Media, sample_frames
    from narrate.generation import DECODING, generate
    from narrate.scenes import SceneOptions, detect_scenes
    from narrate.tracks import cues_for_scenes, write_tracks

    scene_options = SceneOptions(args.scene_threshold, args.min_scene_s, args.max_scene_s)
    files, errors = collect_inputs(args.inputs)
    if not files and errors:
        for given, why in errors:
            print(f"narrate: {given}: {why}", file=sys.stderr)
        return 1
    model_name, folder = checked_model("narrate", args.model, find_project())
    policy = frame_policy_for(model_name, folder, args.recipe)
    model, processor = open_narrator(model_name)
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
        records.append({**owner, "narration": text, "model": model_name, "settings": settings})
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
    project = args.project or find_project()
    if project is None:
        raise SystemExit(f"export: no project (a folder with dvc.yaml) in {Path.cwd()} or above: pass --project PATH "
                         "of the pipeline's checkout")
    model, folder = checked_model("export", args.model and str(args.model), project, args.run)
    saved_frame_policy("export", model, folder, f"export a narrator the train stage saved ({RUN_MODEL})")

    def write(out: Path) -> Path:
        from narrate.model import NarratorNotAvailableError
        from train.recipes import RecipeError

        try:
            return export(folder, out, project=project, run=args.run, recipe_name=args.recipe, merge=not args.adapter)
        except (FileExistsError, NarratorNotAvailableError, RecipeError) as err:  # a folder, base model or recipe
            raise SystemExit(f"export: {err}") from None

    if args.dry_run:
        print(f"export: wrote {write(args.dry_run)} (dry run: nothing uploaded)")
        return 0
    with tempfile.TemporaryDirectory(prefix="narrator-export-") as work:
        commit = push(write(Path(work) / "export"), args.repo_id, private=not args.public)
    print(f"export: uploaded to {args.repo_id}: {commit}")
    return 0


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help: added by argparse unless the help says it itself."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text:
            return text
        if isinstance(action, argparse._StoreTrueAction):
            return f"{text} (default: off)"
        return super()._get_help_string(action) or text


def build_parser() -> argparse.ArgumentParser:
    from narrate.conversation import PROMPTS

    parser = argparse.ArgumentParser(prog="visual-narrator", description=__doc__.splitlines()[0],
                                     formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    narrate = commands.add_parser("narrate", help="narrate images and videos", formatter_class=HelpFormatter,
                                  description="Narrate images and videos with a trained narrator.")
    narrate.add_argument("inputs", nargs="+", help="image files, video files or folders")
    narrate.add_argument("--model", default=None,
                         help=f"trained narrator: a folder, or a hub id in the local Hugging Face cache (default: "
                              f"{DEFAULT_MODEL} of {PROJECT_HELP})")
    narrate.add_argument("--recipe", default=None,
                         help="sample frames as this recipe does, for a model saved without a frame policy (default: "
                              "the frame policy saved with the model)")
    narrate.add_argument("--out-dir", default="narrations", help="where narrations.jsonl and the tracks go")
    narrate.add_argument("--format", choices=("jsonl", "text"), default="jsonl",
                         help="text: also print 'file: narration' lines on stdout")
    narrate.add_argument("--image-style", choices=tuple(PROMPTS), default="dense", help="narration style of images")
    narrate.add_argument("--video-style", choices=tuple(PROMPTS), default="audio_description",
                         help="narration style of video scenes")
    narrate.add_argument("--max-new-tokens", type=int, default=160, help="longest narration, in tokens")
    narrate.add_argument("--batch-size", type=int, default=8, help="narrations generated per forward pass")
    narrate.add_argument("--scene-threshold", type=float, default=30.0,
                         help="mean grey-level difference (0-255) between frames that starts a new scene")
    narrate.add_argument("--min-scene-s", type=float, default=1.0, help="shortest scene, in seconds")
    narrate.add_argument("--max-scene-s", type=float, default=10.0, help="longer scenes are split (seconds)")
    narrate.add_argument("--words-per-second", type=float, default=2.5,
                         help="speaking rate that bounds each cue's length (audio description: ~2-3)")
    narrate.add_argument("--srt", action="store_true", help="also write SubRip (.srt) tracks")
    narrate.add_argument("--quiet", action="store_true",
                         help="only results and errors: no progress bars, no log lines, no summary")
    narrate.set_defaults(handler=narrate_command)

    export = commands.add_parser("export", help="export the narrator in Hugging Face format with its model card",
                                 formatter_class=HelpFormatter,
                                 description="Export a trained narrator in Hugging Face format with its model card.")
    export.add_argument("--project", type=Path, default=None,
                        help=f"the pipeline checkout whose params.yaml, dvc.lock and reports the card reads (default: "
                             f"{PROJECT_HELP})")
    export.add_argument("--model", type=Path, default=None,
                        help=f"the trained narrator folder (default: {RUN_MODEL.format(run='RUN')} of the project, RUN "
                             "from --run)")
    export.add_argument("--run", default=DEFAULT_RUN, help="train run whose model and metrics the card reports")
    export.add_argument("--recipe", default=None, help="recipe name for the card (default: params train.recipe)")
    export.add_argument("--adapter", action="store_true", help="keep a LoRA adapter unmerged (default: merge it)")
    export.add_argument("--dry-run", metavar="OUT_DIR", type=Path, default=None,
                        help="write exactly what would be uploaded to OUT_DIR, a new or empty folder; upload nothing "
                             "(default: upload to --repo-id)")
    export.add_argument("--repo-id", default=None,
                        help="Hub repository to upload to, e.g. me/visual-narrator-3b (default: none; needed unless "
                             "--dry-run)")
    export.add_argument("--public", action="store_true", help="create the Hub repository public (default: private)")
    export.add_argument("--quiet", action="store_true", help="only the result line: no progress bars, no log lines")
    export.set_defaults(handler=export_command)
    return parser


def quiet_libraries() -> None:
    """No progress bars, log lines or warnings from transformers, huggingface_hub and Python."""
    import warnings

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
    warnings.simplefilter("ignore")
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as transformers_logging

    disable_progress_bars()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quiet:
        quiet_libraries()
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
