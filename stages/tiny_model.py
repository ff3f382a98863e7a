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
from train.tiny_model import build_tiny_llava, count_parameters, load_narrator

MIXTURE = Path("data/mixtures/train.parquet")
OUT = Path("models/tiny-llava")


def main() -> None:
    texts = pl.read_parquet(MIXTURE, columns=["text"]).get_column("text").to_list()
    recipe = load_recipe("tiny")
    vision, language = recipe.architecture.vision, recipe.architecture.language
    if vision.image_size is None:  # (load_recipe already checks data.max_pixels = image_size^2)
        raise SystemExit(f"{recipe.source}: architecture.vision.image_size must be set: the tiny tower has a fixed input size")
    build_tiny_llava(
        texts, OUT, seed=0,
        image_size=vision.image_size, patch_size=vision.patch_size, vision_hidden=vision.hidden_size,
        vision_layers=vision.layers, text_hidden=language.hidden_size, text_layers=language.layers,
        heads=language.attention_heads, vocab_size=language.vocab_size,
        mlp_ratio=language.intermediate_size // language.hidden_size, max_positions=language.max_position_embeddings,
    )
    model, _ = load_narrator(str(OUT))
    print(f"tiny_model: {count_parameters(model):,} parameters in {OUT}")


if __name__ == "__main__":
    main()
