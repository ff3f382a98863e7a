"""What a narrator is asked and shown: the prompts per narration style, the chat turns, and the
frames of the frames stage, the same for training, evaluation and narration.

The prompt names the narration style, because the sources write in two: dense paragraphs (LVD-2M,
image descriptions) and one-sentence audio descriptions of a moment (YouDescribe, WebVTT
description tracks); train/dataset.py says why that matters.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from PIL import Image

from curation.schema import SOURCE_AD_WEBVTT, SOURCE_IMAGE_DESCRIPTIONS, SOURCE_LVD2M, SOURCE_YOUDESCRIBE

# Narration styles and their prompts; every source of curation/schema.py writes in one of them.
PROMPTS = {
    "dense": "Describe the clip in detail.",
    "audio_description": "Describe this moment in one short sentence.",
}
STYLE_OF_SOURCE = {
    SOURCE_LVD2M: "dense",
    SOURCE_IMAGE_DESCRIPTIONS: "dense",
    SOURCE_YOUDESCRIBE: "audio_description",
    SOURCE_AD_WEBVTT: "audio_description",
}
MIXTURE_COLUMNS = ["example_id", "text", "source", "difficulty_bucket", "curriculum_position"]


def style_of(source: str) -> str:
    if source not in STYLE_OF_SOURCE:
        raise ValueError(f"source {source!r} has no narration style: add it to narrate.conversation.STYLE_OF_SOURCE")
    return STYLE_OF_SOURCE[source]


def user_turn(frame_count: int, prompt: str) -> dict[str, Any]:
    """The user turn of the chat template: the frames, then the prompt text."""
    return {"role": "user", "content": [{"type": "image"}] * frame_count + [{"type": "text", "text": prompt}]}


def conversation(frame_count: int, narration: str | None = None, *, style: str = "dense") -> list[dict[str, Any]]:
    """The user turn (frames, then the style's prompt) and, for training, the assistant's narration."""
    if style not in PROMPTS:
        raise ValueError(f"narration style {style!r}: use one of {', '.join(PROMPTS)}")
    user = user_turn(frame_count, PROMPTS[style])
    if narration is None:
        return [user]
    return [user, {"role": "assistant", "content": [{"type": "text", "text": narration}]}]


def decode_frames(pngs: Sequence[bytes], *, blind: bool = False) -> list[Image.Image]:
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    if blind:
        return [Image.new("RGB", image.size) for image in images]
    return images


def load_examples(frames_file: str | Path, mixture_file: str | Path) -> pl.DataFrame:
    """Mixture rows that have frames, in curriculum order, with their PNG frames."""
    frames = pl.read_parquet(frames_file, columns=["example_id", "frames"])
    mixture = pl.read_parquet(mixture_file, columns=MIXTURE_COLUMNS)
    return mixture.join(frames, on="example_id", how="inner").sort("curriculum_position")
