"""Narrate held-out clips with a trained narrator and score the narrations with CIDEr-D.

Generation is greedy (deterministic) with the same conversation format as training
(train/dataset.py), so the processor saved with the model decides how frames become tokens.
CIDEr-D is pycocoevalcap's `Cider` (the COCO caption evaluation's CIDEr-D: tf-idf n-grams 1-4,
Gaussian length penalty, clipped counts; scale 0-10 per reference), after its PTB tokenizer
(Java), as COCO results are reported.
"""

from __future__ import annotations

from typing import Any

import torch

from train.dataset import conversation


def narrate(model: Any, processor: Any, images: list[Any], *, style: str = "dense", max_new_tokens: int = 160) -> str:
    """One greedy narration for one clip's frames, in a style of train.dataset.PROMPTS."""
    prompt = processor.apply_chat_template(conversation(len(images), style=style), add_generation_prompt=True,
                                           tokenize=False)
    inputs = processor(images=images, text=prompt, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return processor.tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def cider_d(references: dict[str, list[str]], candidates: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Corpus CIDEr-D and the per-example scores, keyed like the inputs."""
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    keys = sorted(candidates)
    tokenizer = PTBTokenizer()
    refs = tokenizer.tokenize({k: [{"caption": r} for r in references[k]] for k in keys})
    cands = tokenizer.tokenize({k: [{"caption": candidates[k]}] for k in keys})
    score, per_example = Cider().compute_score(refs, cands)
    return float(score), {k: float(s) for k, s in zip(keys, per_example)}
