"""Generate text from frames with a trained narrator: narrations, or answers to any prompt.

Generation is greedy (deterministic) with the same conversation format as training
(train/dataset.py), so the processor saved with the model decides how frames become tokens.
Requests are batched with left padding (decoder-only generation continues from the right end).
Scoring lives in eval/caption_metrics.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import torch

from narrate.conversation import PROMPTS, decode_frames, style_of, user_turn

GREEDY = {"do_sample": False, "num_beams": 1}  # the decoding every report records
DECODING = "greedy " + ", ".join(f"{k}={v}" for k, v in GREEDY.items())  # ... in these words


def generate(
    model: Any,
    processor: Any,
    requests: Iterable[tuple[list[Any], str]],
    *,
    max_new_tokens: int,
    batch_size: int = 8,
    progress: Any = None,
) -> list[str]:
    """Greedy answers to (frames, prompt) requests, in order; `progress` is called with each batch's size.

    `requests` is consumed one batch at a time: pass a generator that loads frames on demand and
    only one batch of frames is in memory, however large the benchmark.
    """
    tokenizer = processor.tokenizer
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    answers: list[str] = []
    pending = iter(requests)
    try:
        while batch := list(itertools.islice(pending, batch_size)):
            prompts = [processor.apply_chat_template([user_turn(len(images), prompt)], add_generation_prompt=True,
                                                     tokenize=False) for images, prompt in batch]
            images = [image for frames, _ in batch for image in frames]
            inputs = processor(images=images, text=prompts, return_tensors="pt", padding=True).to(model.device)
            with torch.inference_mode():
                output = model.generate(**inputs, max_new_tokens=max_new_tokens, **GREEDY,
                                        pad_token_id=tokenizer.pad_token_id)
            new_tokens = output[:, inputs["input_ids"].shape[1]:]
            answers += [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
            if progress is not None:
                progress(len(batch))
    finally:
        tokenizer.padding_side = side
    return answers


def narrate(model: Any, processor: Any, images: list[Any], *, style: str = "dense", max_new_tokens: int = 160) -> str:
    """One greedy narration for one clip's frames, in a style of train.dataset.PROMPTS."""
    if style not in PROMPTS:
        raise ValueError(f"narration style {style!r}: use one of {', '.join(PROMPTS)}")
    return generate(model, processor, [(images, PROMPTS[style])], max_new_tokens=max_new_tokens)[0]


def narrate_examples(model: Any, processor: Any, examples: Any, *, blind: bool = False, max_new_tokens: int = 160,
                     batch_size: int = 8) -> dict[str, str]:
    """One greedy narration per clip, by example_id, each in its source's style, `batch_size` clips a
    forward pass (`generate`).

    `examples`: rows with example_id, source and frames (PNG bytes), as `train.dataset.load_examples`
    gives them; `blind` narrates black frames of the same sizes, as the blind control was trained.
    """
    rows = list(examples.iter_rows(named=True))
    requests = ((decode_frames(row["frames"], blind=blind), PROMPTS[style_of(row["source"])]) for row in rows)
    answers = generate(model, processor, requests, max_new_tokens=max_new_tokens, batch_size=batch_size)
    return {row["example_id"]: answer for row, answer in zip(rows, answers, strict=True)}
