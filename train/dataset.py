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
the style the same way (narrate/conversation.py holds the prompts and the turn format).

`SFTTrainer` with `assistant_only_loss=True` trains on the narration tokens only (the chat
template marks the assistant turn with `{% generation %}`). `blind=True` replaces every frame by
a black image of the same size: the blind control, which shows how much the narrations depend on
what is in the frames.

Visual tokens are never truncated: `split_by_length` measures every example with the processor
(image tokens expanded) before training, and examples over the limit are left out and counted.
"""

from __future__ import annotations

import io
from typing import Any

import datasets
import polars as pl
from PIL import Image

from narrate.conversation import conversation, style_of


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
