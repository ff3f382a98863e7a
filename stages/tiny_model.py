"""Build the tiny LLaVA narrator the `tiny` recipe trains: random weights, a tokenizer from the train split.

Reads data/mixtures/train.parquet (the narrations the tokenizer is trained on; no held-out text)
and the `tiny` recipe (train/recipes/tiny.yaml: its architecture numbers, and its pixel budget,
which is the vision tower's input size), and writes models/tiny-llava/ in Hugging Face format
(safetensors, tokenizer, processor), built by train/tiny_model.py with a fixed seed: the same
mixture and recipe give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from train.recipes import load_recipe
from train.tiny_model import build_tiny_llava, count_parameters, load_narrator, tiny_llava_options

MIXTURE = Path("data/mixtures/train.parquet")
OUT = Path("models/tiny-llava")


def main() -> None:
    texts = pl.read_parquet(MIXTURE, columns=["text"]).get_column("text").to_list()
    try:
        options = tiny_llava_options(load_recipe("tiny"))
    except ValueError as err:
        raise SystemExit(str(err)) from err
    build_tiny_llava(texts, OUT, seed=0, **options)
    model, _ = load_narrator(str(OUT))
    print(f"tiny_model: {count_parameters(model):,} parameters in {OUT}")


if __name__ == "__main__":
    main()
