"""Build the tiny LLaVA narrator the `tiny` recipe trains: the pretrained tower, a random projector and decoder.

Reads the mixture's train split (the narrations the tokenizer is trained on; no held-out text),
the `tiny` recipe's architecture (train/recipes/tiny.yaml) and the tiny_tower stage's tower, and
writes --out in Hugging Face format (safetensors, tokenizer, processor): train/tiny_model.py builds
the model with random weights (fixed seed), the pretrained tower replaces the random one, and the
tower's tower_pretraining.json is copied along. Seconds, not minutes: the tower is pretrained
once, by its own stage. Built in <out>.partial and renamed at the end. The same inputs give the
same bytes on the same machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from train.recipes import load_recipe
from train.tiny_model import build_tiny_llava_with_tower, count_parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-split", type=Path, required=True, help="the mixture's train.parquet")
    parser.add_argument("--tower", type=Path, required=True, help="the tiny_tower stage's folder")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    args = parser.parse_args()
    texts = pl.read_parquet(args.train_split, columns=["text"]).get_column("text").to_list()
    model = build_tiny_llava_with_tower(texts, args.out, load_recipe("tiny"), args.tower)
    print(f"tiny_model: {count_parameters(model):,} parameters in {args.out}, tower from {args.tower}")


if __name__ == "__main__":
    main()
