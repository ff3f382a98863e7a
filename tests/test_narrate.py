"""Narrating photos and videos from the console: scenes, timed description tracks, errors that name the file,
one-line errors for a missing or unusable model, the project root's default model, --quiet, help with defaults."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import webvtt

from narrate.cli import DEFAULT_MODEL, build_parser
from narrate.frames import write_frame_policy
from narrate.scenes import SceneOptions, detect_scenes
from narrate.tracks import cues_for_scenes, fit_to_time, write_tracks
from train.recipes import load_recipe
from train.tiny_model import build_tiny_llava

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_VIDEO = REPO / "data/sample/videos/-1riP4QRab1.mp4"


def write_video(path: Path, colours: list[tuple[int, int, int]], seconds_each: float, fps: int = 10) -> Path:
    """A video of solid colour blocks: a hard cut between blocks."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for colour in colours:
            for _ in range(round(seconds_each * fps)):
                frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), colour, np.uint8), format="rgb24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_hard_cuts_start_scenes_and_long_scenes_are_split(tmp_path: Path) -> None:
    video = write_video(tmp_path / "cuts.mp4", [(200, 30, 30), (30, 30, 200), (30, 200, 30)], 2.0)
    scenes, duration = detect_scenes(video)
    assert duration == pytest.approx(6.0)
    assert [(round(a, 2), round(b, 2)) for a, b in scenes] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    parts, _ = detect_scenes(video, SceneOptions(threshold=30, max_scene_s=0.8))
    assert len(parts) == 9 and all(b - a <= 0.8 + 1e-9 for a, b in parts)  # each 2 s scene in 3 parts
    assert all(b == pytest.approx(c) for (_, b), (c, _) in zip(parts, parts[1:]))  # contiguous
    steady, _ = detect_scenes(SAMPLE_VIDEO)  # moving shapes on a still background: no cut
    assert len(steady) == 1


def test_unreadable_video_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="broken.mp4"):
        detect_scenes(bad)


def test_cues_fit_their_scene_and_the_track_parses(tmp_path: Path) -> None:
    assert fit_to_time("A red circle moves left. It stops. A square appears.", 3.0, 2.5) == "A red circle moves left. It stops."
    assert fit_to_time("one two three four five six", 1.0, 2.5) == "one two"  # no sentence fits: first words
    scenes = [(4.0, 9.0), (0.0, 4.0), (9.0, 13.0)]
    cues = cues_for_scenes(scenes, ["Later text.", "First text. More words here.", "Past the end -->\n\nof it."], 12.5)
    assert [(c.start_s, c.end_s) for c in cues] == [(0.0, 4.0), (4.0, 9.0), (9.0, 12.5)]  # clipped to the video
    paths = write_tracks(cues, tmp_path / "v.vtt", srt=True)
    parsed = webvtt.read(str(paths[0]))
    assert [c.start_in_seconds for c in parsed] == sorted(c.start_in_seconds for c in parsed)
    assert all(0 <= c.start_in_seconds < c.end_in_seconds <= 12.5 for c in parsed)
    assert parsed[2].text == "Past the end -> of it."  # model text cannot break the cue structure
    assert webvtt.from_srt(str(paths[1]))[0].text == "First text. More words here."
    assert "kind=\"descriptions\"" in paths[0].read_text()


@pytest.fixture(scope="module")
def narrator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("narrator") / "model"
    build_tiny_llava(["a red circle moves left on a black background", "a photo of two cats"] * 20, folder)
    write_frame_policy(folder, load_recipe("tiny").data)
    return folder


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    console = shutil.which("visual-narrator")
    command = [console] if console else [sys.executable, "-m", "narrate.cli"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout, whatever an older install maps
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_console_command_narrates_photos_and_a_video_and_reports_bad_files(narrator: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not media")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    result = run_cli("narrate", str(FIXTURES / "images/image1.jpg"), str(FIXTURES / "images/image2.jpg"),
                     str(SAMPLE_VIDEO), str(tmp_path / "broken.jpg"), str(tmp_path / "notes.txt"),
                     "--model", str(narrator), "--out-dir", str(tmp_path / "out"), "--max-new-tokens", "12",
                     "--srt", "--quiet", "--format", "text", cwd=tmp_path)
    assert result.returncode == 1  # two inputs failed; the others were narrated
    assert "broken.jpg: UnidentifiedImageError" in result.stderr and "notes.txt: unsupported file type .txt" in result.stderr
    records = [json.loads(line) for line in (tmp_path / "out/narrations.jsonl").read_text().splitlines()]
    ok = [r for r in records if "error" not in r]
    assert [r["kind"] for r in ok] == ["image", "image", "video_scene"]
    assert all(r["model"] == str(narrator) and r["settings"]["frame_policy"]["max_pixels"] == 4096 for r in ok)
    assert {Path(r["file"]).name for r in records if "error" in r} == {"broken.jpg", "notes.txt"}
    assert result.stdout.count(": ") >= 3 and "image1.jpg: " in result.stdout
    track = webvtt.read(str(tmp_path / f"out/{SAMPLE_VIDEO.stem}.vtt"))
    _, duration = detect_scenes(SAMPLE_VIDEO)
    assert all(0 <= c.start_in_seconds < c.end_in_seconds <= duration + 1e-3 for c in track)
    assert (tmp_path / f"out/{SAMPLE_VIDEO.stem}.srt").exists()


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit status not 0, stderr exactly one line (no traceback) holding every needle."""
    assert result.returncode != 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def without_frame_policy(narrator: Path, folder: Path) -> Path:
    shutil.copytree(narrator, folder)
    config = json.loads((folder / "processor_config.json").read_text())
    config.pop("visual_narrator_frame_policy")
    (folder / "processor_config.json").write_text(json.dumps(config))
    return folder


def test_a_model_without_frame_policy_needs_a_recipe(narrator: Path, tmp_path: Path) -> None:
    bare = without_frame_policy(narrator, tmp_path / "bare")
    result = run_cli("narrate", str(FIXTURES / "images/image1.jpg"), "--model", str(bare), "--quiet", cwd=tmp_path)
    assert_one_line_error(result, str(bare), "no saved frame policy", "--recipe")
    with_recipe = run_cli("narrate", str(FIXTURES / "images/image1.jpg"), "--model", str(bare), "--recipe", "tiny",
                          "--quiet", "--max-new-tokens", "5", "--out-dir", str(tmp_path / "o"), cwd=tmp_path)
    assert with_recipe.returncode == 0, with_recipe.stderr  # the advice works
    unknown = run_cli("narrate", str(FIXTURES / "images/image1.jpg"), "--model", str(bare), "--recipe", "nope",
                      cwd=tmp_path)
    assert_one_line_error(unknown, "Unknown recipe 'nope'", "tiny")


def test_a_missing_or_unusable_model_is_one_line_naming_it(narrator: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "dvc.yaml").write_text("stages: {}\n")
    photo = str(FIXTURES / "images/image1.jpg")
    default = project / DEFAULT_MODEL  # resolved from the project root, not the current folder
    assert_one_line_error(run_cli("narrate", photo, cwd=project / "sub"), str(default), "`dvc repro`", "--model PATH")
    assert_one_line_error(run_cli("export", "--dry-run", str(tmp_path / "e"), cwd=project / "sub"),
                          str(default), "`dvc repro`")
    missing = tmp_path / "nowhere"
    assert_one_line_error(run_cli("narrate", photo, "--model", str(missing), cwd=tmp_path), str(missing), "--model PATH")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_cli("narrate", photo, "--model", str(tmp_path / "empty"), cwd=tmp_path),
                          str(tmp_path / "empty"), "no *.safetensors weights")
    bare = without_frame_policy(narrator, tmp_path / "bare")
    assert_one_line_error(run_cli("export", "--model", str(bare), "--project", str(project), "--dry-run",
                                  str(tmp_path / "e"), cwd=tmp_path), str(bare), "no saved frame policy")
    assert not (tmp_path / "e").exists()


def test_the_default_model_is_the_project_roots_and_quiet_is_quiet(narrator: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "dvc.yaml").write_text("stages: {}\n")
    shutil.copytree(narrator, project / DEFAULT_MODEL)
    photo = FIXTURES / "images/image1.jpg"
    result = run_cli("narrate", str(photo), "--quiet", "--max-new-tokens", "5", "--out-dir", str(tmp_path / "out"),
                     cwd=project / "sub")
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr  # no bar, no log line
    record = json.loads((tmp_path / "out/narrations.jsonl").read_text())  # the result
    assert record["file"] == str(photo) and record["narration"] and record["model"] == str(project / DEFAULT_MODEL)
    exported = run_cli("export", "--dry-run", str(tmp_path / "hub"), "--quiet", cwd=project / "sub")
    assert exported.returncode == 0 and exported.stderr == "", exported.stderr
    assert exported.stdout == f"export: wrote {tmp_path / 'hub'} (dry run: nothing uploaded)\n"
    assert (tmp_path / "hub/README.md").is_file()


def test_every_option_has_help_that_shows_its_default() -> None:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        for action in command._actions:
            if action.option_strings and action.dest != "help":
                shown = command._get_formatter()._expand_help(action)  # the text --help prints for it
                assert action.help and "(default: " in shown, (name, action.dest, shown)
    shown = " ".join(run_cli("narrate", "--help", cwd=REPO).stdout.split())
    assert "(default: 160)" in shown and f"(default: {DEFAULT_MODEL} of the project root" in shown
    assert "--quiet only results and errors: no progress bars, no log lines, no summary (default: off)" in shown
