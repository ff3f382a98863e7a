"""Narration examples for TRL's SFTTrainer: the frames stage's frames plus the mixture's text.

One example is one conversation in TRL's vision-language format:

    {"images": [frame, frame, ...],
     "messages": [{"role": "user", "content": [{"type": "image"}, ..., {"type": "text", "text": PROMPTS[style]}]},
                  {"role": "assistant", "content": [{"type": "text", "text": narration}]}]}

The prompt names the narration style, because the sources write in two: dense paragraphs
(LVD-2M, image descriptions) and one-sentence audio descriptions of a moment (YouDescribe,
WebVTT description tracks). With one prompt for both, the model cannot know which length to
write and every narration is a blend of the two (measured on the sample: a single prompt gave
the YouDescribe test clips CIDEr-D 0.0, paragraphs where a sentence was wanted). Inference picks
the style the same way (`narrate(..., style=...)`).

`SFTTrainer` with `assistant_only_loss=True` trains on the narration tokens only (the chat
template marks the assistant turn with `{% generation %}`). `blind=True` replaces every frame by
a black image of the same size: the blind control, which shows how much the narrations depend on
what is in the frames.

Visual tokens are never truncated: `split_by_length` measures every example with the processor
(image tokens expanded) before training, and examples over the limit are left out and counted.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
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
        raise ValueError(f"source {source!r} has no narration style: add it to train.dataset.STYLE_OF_SOURCE")
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


def to_dataset(examples: pl.DataFrame, *, blind: bool = False) -> datasets.Dataset:
    """A 🤗 Dataset of conversations, rows in the order given; frames decode to PIL on access.

    The PNG bytes go in as they are (an `Image` feature), not decoded here and re-encoded by
    datasets: at a real mixture's size that round trip is most of the preparation time.
    """
    black: dict[tuple[int, int], bytes] = {}

    def blank(png: bytes) -> bytes:  # a black PNG of the frame's size, made once per size
        with Image.open(io.BytesIO(png)) as frame:  # reads the header only
            size = frame.size
        if size not in black:
            buffer = io.BytesIO()
            Image.new("RGB", size).save(buffer, format="PNG")
            black[size] = buffer.getvalue()
        return black[size]

    rows = [
        {
            "example_id": row["example_id"],
            "images": [{"bytes": blank(png) if blind else png, "path": None} for png in row["frames"]],
            "messages": conversation(len(row["frames"]), row["text"], style=style_of(row["source"])),
        }
        for row in examples.iter_rows(named=True)
    ]
    return datasets.Dataset.from_list(rows).cast_column("images", datasets.List(datasets.Image()))


def token_length(processor: Any, images: list[Image.Image], messages: list[dict[str, Any]]) -> int:
    """Tokens of one full conversation after the processor expands each image into its visual tokens."""
    text = processor.apply_chat_template(messages, tokenize=False)
    return int(processor(images=images, text=text, return_tensors="pt")["input_ids"].shape[1])


def split_by_length(
    dataset: datasets.Dataset, processor: Any, max_length: int
) -> tuple[datasets.Dataset, list[dict[str, Any]]]:
    """Examples within `max_length` tokens, and the ones left out (example_id, tokens, max_length)."""
    keep: list[int] = []
    over: list[dict[str, Any]] = []
    for index, row in enumerate(dataset):
        tokens = token_length(processor, row["images"], row["messages"])
        if tokens <= max_length:
            keep.append(index)
        else:
            over.append({"example_id": row["example_id"], "tokens": tokens, "max_length": max_length})
    return dataset.select(keep), over


def trainable_examples(
    examples: pl.DataFrame, processor: Any, max_length: int, *, blind: bool = False
) -> tuple[datasets.Dataset, pl.DataFrame, list[dict[str, Any]]]:
    """What training gets from `examples` (rows of `load_examples`).

    Returns the conversations within `max_length` tokens (`to_dataset`, then `split_by_length`),
    the same rows of `examples` in the same order (their curriculum positions and buckets give the
    training order, train/curriculum.py: row i of one is row i of the other), and the examples
    left out for their length.
    """
    dataset, over_length = split_by_length(to_dataset(examples, blind=blind), processor, max_length)
    kept = examples.filter(examples["example_id"].is_in(dataset["example_id"]))
    return dataset, kept, over_length
