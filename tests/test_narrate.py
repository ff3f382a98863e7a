"""Narrating photos and videos from the console: scenes, timed description tracks, errors that name the file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import webvtt

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
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True)


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


def test_a_model_without_frame_policy_needs_a_recipe(narrator: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(narrator, bare)
    config = json.loads((bare / "processor_config.json").read_text())
    config.pop("visual_narrator_frame_policy")
    (bare / "processor_config.json").write_text(json.dumps(config))
    result = run_cli("narrate", str(FIXTURES / "images/image1.jpg"), "--model", str(bare), "--quiet", cwd=tmp_path)
    assert result.returncode != 0 and "no saved frame policy" in result.stderr and "--recipe" in result.stderr
    with_recipe = run_cli("narrate", str(FIXTURES / "images/image1.jpg"), "--model", str(bare), "--recipe", "tiny",
                          "--quiet", "--max-new-tokens", "5", "--out-dir", str(tmp_path / "o"), cwd=tmp_path)
    assert with_recipe.returncode == 0, with_recipe.stderr

