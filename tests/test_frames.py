"""Frames stage: media lookup stays inside the root, frames come from the right times, bad media is skipped."""

from __future__ import annotations

import json
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import polars as pl
import pytest
import yaml
from PIL import Image

from narrate.frames import (
    CORRUPT,
    MISSING,
    TOO_SHORT,
    UNSAFE,
    FramePolicy,
    Frames,
    Media,
    Skip,
    fit_pixels,
    is_plain_name,
    locate_media,
    read_frame_policy,
    read_policy_file,
    sample_frames,
    write_frame_policy,
)
from train.recipes import load_recipe

from .stage_commands import stage_argv

REPO = Path(__file__).resolve().parents[1]
FPS = 10


def write_video(path: Path, seconds: float, fps: int = FPS, size: int = 32) -> None:
    """Frame k is a flat grey of brightness 20 * (k // fps) + 10: the second it is in can be read back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "0", "g": "5"}
        stream.time_base = Fraction(1, fps)
        for k in range(int(seconds * fps)):
            value = 20 * (k // fps) + 10
            frame = av.VideoFrame.from_ndarray(np.full((size, size, 3), value, dtype=np.uint8), format="rgb24")
            frame.pts = k
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def brightness(image: Image.Image) -> float:
    return float(np.asarray(image.convert("L")).mean())


def locate(root: Path, **overrides: object) -> Media | Skip:
    example: dict[str, object] = {"source": "lvd2m", "media_kind": "video", "video_id": "vid", "clip_key": None,
                                  "clip_start_s": 1.0, "clip_end_s": 3.0}
    example.update(overrides)
    return locate_media(root, **example)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "..", ".hidden", "/abs", "a\\b", "x\x00y", ""])
def test_names_that_are_not_plain_file_names_are_refused(name: str) -> None:
    assert not is_plain_name(name)


def test_lookup_prefers_a_clip_file_and_makes_its_window_relative(tmp_path: Path) -> None:
    (tmp_path / "vid.mp4").write_bytes(b"x")
    found = locate(tmp_path)
    assert isinstance(found, Media) and found.path == tmp_path / "vid.mp4" and (found.start_s, found.end_s) == (1.0, 3.0)
    (tmp_path / "lvd2m").mkdir()
    (tmp_path / "lvd2m" / "vid.12_3.mp4").write_bytes(b"x")
    found = locate(tmp_path, clip_key="vid.12_3")
    assert isinstance(found, Media) and found.path.name == "vid.12_3.mp4"
    assert (found.start_s, found.end_s) == (0.0, 2.0)  # a pre-cut clip starts at its beginning


def test_missing_and_unsafe_media_are_skipped_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    assert locate(root, video_id="nothing").reason == MISSING  # type: ignore[union-attr]
    assert locate(root, video_id="../secret").reason == UNSAFE  # type: ignore[union-attr]
    assert locate(root, video_id="x", clip_key="../../secret").reason == UNSAFE  # type: ignore[union-attr]
    os.symlink(outside, root / "linked.mp4")  # a link inside the root that points out of it
    skip = locate(root, video_id="linked")
    assert isinstance(skip, Skip) and skip.reason == UNSAFE and "outside the media root" in skip.detail


def test_frames_are_the_nearest_decoded_frames_to_the_slice_centres(tmp_path: Path) -> None:
    write_video(tmp_path / "vid.mp4", seconds=4)
    media = locate(tmp_path, clip_start_s=1.0, clip_end_s=3.0)
    assert isinstance(media, Media)
    frames = sample_frames(media, FramePolicy(frames=4))
    assert isinstance(frames, Frames)
    assert frames.times_s == [1.2, 1.7, 2.2, 2.7]  # centres 1.25, 1.75, 2.25, 2.75 -> nearest of 10 fps (ties earlier)
    # Seconds 1 and 2 of the video have brightness 30 and 50.
    assert [round(brightness(im) / 10) * 10 for im in frames.images] == [30, 30, 50, 50]


def test_fps_policy_and_pixel_budget(tmp_path: Path) -> None:
    write_video(tmp_path / "vid.mp4", seconds=4, size=64)
    media = locate(tmp_path, clip_start_s=0.0, clip_end_s=2.0)
    frames = sample_frames(media, FramePolicy(fps=2.5, max_pixels=32 * 32))  # type: ignore[arg-type]
    assert isinstance(frames, Frames) and len(frames.images) == 5
    assert all(im.width * im.height <= 32 * 32 for im in frames.images)
    assert FramePolicy(fps=30, max_frames=16).frame_count(10.0) == 16


def test_fit_pixels_keeps_aspect_and_never_upscales() -> None:
    wide = fit_pixels(Image.new("RGB", (400, 100)), 10_000)
    assert wide.width * wide.height <= 10_000 and abs(wide.width / wide.height - 4) < 0.1
    small = Image.new("RGB", (20, 10))
    assert fit_pixels(small, 10_000) is small


def test_corrupt_and_too_short_media_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x01 not a video " * 50)
    skip = sample_frames(Media(tmp_path / "broken.mp4", 0.0, 2.0, "video"), FramePolicy())
    assert isinstance(skip, Skip) and skip.reason == CORRUPT and "broken.mp4" in skip.detail
    write_video(tmp_path / "short.mp4", seconds=2)
    past_the_end = sample_frames(Media(tmp_path / "short.mp4", 5.0, 7.0, "video"), FramePolicy())
    assert isinstance(past_the_end, Skip) and past_the_end.reason == TOO_SHORT
    tiny_window = sample_frames(Media(tmp_path / "short.mp4", 1.0, 1.1, "video"), FramePolicy(), min_window_s=0.2)
    assert isinstance(tiny_window, Skip) and tiny_window.reason == TOO_SHORT


def test_stage_reconciles_and_reports_every_skip(tmp_path: Path) -> None:
    media = tmp_path / "media"
    write_video(media / "good.mp4", seconds=3)
    (media / "corrupt.mp4").write_bytes(b"garbage" * 100)
    rows = [
        ("lvd2m:good", "lvd2m", "good", 0.0, 2.0),
        ("lvd2m:missing", "lvd2m", "missing", 0.0, 2.0),
        ("youdescribe:corrupt", "youdescribe", "corrupt", 0.0, 2.0),
        ("youdescribe:escape", "youdescribe", "../../etc/passwd", 0.0, 2.0),
        ("lvd2m:late", "lvd2m", "good", 10.0, 12.0),
    ]
    mixtures = tmp_path / "data/mixtures"
    mixtures.mkdir(parents=True)
    for split in ("train", "val", "test"):
        part = rows if split == "train" else rows[:1]
        pl.DataFrame({
            "example_id": [f"{r[0]}:{split}" for r in part], "source": [r[1] for r in part],
            "media_kind": ["video"] * len(part), "video_id": [r[2] for r in part], "clip_key": [None] * len(part),
            "clip_start_s": [r[3] for r in part], "clip_end_s": [r[4] for r in part],
            "curriculum_position": list(range(len(part))),
        }, schema_overrides={"clip_key": pl.String}).write_parquet(mixtures / f"{split}.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["frames"]["media_root"] = str(media)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(stage_argv("frames", tmp_path / "params.yaml"), cwd=tmp_path, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    metrics = json.loads((tmp_path / "reports/metrics/frames.json").read_text())
    assert metrics["train"]["examples"] == 5 == metrics["train"]["with_frames"] + metrics["train"]["skipped"]
    assert metrics["train"]["skipped_by_reason"] == {"corrupt_media": 1, "missing_media": 1, "too_short": 1,
                                                     "unsafe_media_path": 1}
    skipped = pl.read_parquet(tmp_path / "data/frames/skipped.parquet")
    assert dict(zip(skipped["example_id"], skipped["reason"])) == {
        "lvd2m:missing:train": "missing_media", "youdescribe:corrupt:train": "corrupt_media",
        "youdescribe:escape:train": "unsafe_media_path", "lvd2m:late:train": "too_short",
    }
    kept = pl.read_parquet(tmp_path / "data/frames/train.parquet")
    assert kept["example_id"].to_list() == ["lvd2m:good:train"] and kept["media_path"][0] == "good.mp4"
    first = Image.open(__import__("io").BytesIO(kept["frames"][0][0]))
    # Frame count, pixel budget and layout come from the recipe in params train.recipe, and are recorded:
    # the tiny recipe tiles its 4 frames (32x32 here, the video's size) into one 2x2 grid.
    recipe = load_recipe(params["train"]["recipe"])
    assert recipe.data.layout == "grid" and recipe.data.frames == 4
    assert first.size == (64, 64) and first.mode == "RGB" and len(kept["frames"][0]) == 1
    assert metrics["recipe"] == recipe.name and len(kept["frame_times_s"][0]) == recipe.data.frames
    assert read_policy_file(tmp_path / "data/frames") == recipe.data  # what the train stage trains with


def test_frame_policy_travels_in_the_processor_config(tmp_path: Path) -> None:
    from transformers import AutoProcessor, LlavaProcessor, SiglipImageProcessorPil

    from train.tiny_model import train_tokenizer

    processor = LlavaProcessor(image_processor=SiglipImageProcessorPil(size={"height": 64, "width": 64}),
                               tokenizer=train_tokenizer(["a red circle moves left"] * 4, vocab_size=300),
                               patch_size=16, vision_feature_select_strategy="full", num_additional_image_tokens=0)
    processor.save_pretrained(tmp_path)
    with pytest.raises(KeyError, match="frame policy is unknown"):
        read_frame_policy(tmp_path)
    policy = FramePolicy(frames=6, fps=None, max_frames=8, max_pixels=64 * 64)
    write_frame_policy(tmp_path, policy)
    assert read_frame_policy(tmp_path) == policy
    # transformers still opens the folder (the extra key is ignored), and the processor is unchanged.
    reopened = AutoProcessor.from_pretrained(tmp_path, local_files_only=True, trust_remote_code=False)
    assert dict(reopened.image_processor.size) == dict(processor.image_processor.size)
    assert load_recipe("qwen2.5-vl-3b-lora").data.max_pixels == 448 * 448


def test_frame_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match=r"fps\n.*greater than 0"):
        FramePolicy(fps=0.0)
    with pytest.raises(ValueError, match=r"max_pixels\n.*greater than or equal to 64"):
        FramePolicy(max_pixels=10)
    with pytest.raises(ValueError, match=r"layout\n.*'sequence' or 'grid'"):
        FramePolicy(layout="mosaic")
