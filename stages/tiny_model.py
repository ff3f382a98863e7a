"""Build the tiny LLaVA narrator the `tiny` recipe trains: a pretrained tower, a random projector and decoder.

Reads the mixture's train split (the narrations the tokenizer is trained on; no held-out text),
the `tiny` recipe (train/recipes/tiny.yaml: its architecture numbers, and its pixel budget, which
is the vision tower's input size) and params `tiny_model.tower_pretraining`, and writes --out in
Hugging Face format (safetensors, tokenizer, processor):

1. train/tiny_model.py builds the model with random weights (fixed seed);
2. train/tiny_tower.py pretrains its vision tower on freshly drawn sample-world scenes, laid out
   as the recipe's frame policy lays out frames (a 2x2 grid), with per-patch labels, as real
   recipes start from a pretrained SigLIP; the projector and the decoder stay random;
3. the model is saved again, with tower_pretraining.json (held-out accuracies), into
   <out>.partial, renamed to <out> at the end (a killed run leaves no untrained model where the
   train stage would load it).

The same mixture, recipe and params give the same bytes on the same machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

import sampleworld
from config.params import load_params
from train.recipes import load_recipe
from train.tiny_model import count_parameters
from train.tiny_tower import build_pretrained_tiny_llava


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-split", type=Path, required=True, help="the mixture's train.parquet")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    args = parser.parse_args()
    pretraining = load_params().tiny_model.tower_pretraining
    recipe = load_recipe("tiny")
    texts = pl.read_parquet(args.train_split, columns=["text"]).get_column("text").to_list()
    # The tower learns on the images the narrator will get: the recipe's frame policy (a 2x2 grid of 64x64 frames).
    model, report = build_pretrained_tiny_llava(texts, args.out, recipe, sampleworld, pretraining)
    after = report["held_out_after"]
    print(f"tiny_model: {count_parameters(model):,} parameters in {args.out}; tower pretrained on {report['train_images']:,} "
          f"images ({report['layout']}): held-out per-patch accuracy: colour {after['colour_on_shapes']:.3f}, kind "
          f"{after['kind_on_shapes']:.3f} and motion {after['motion_on_shapes']:.3f} of shape patches, "
          f"background {after['background']:.3f}, sign word {after['sign_word_on_sign']:.3f}")


if __name__ == "__main__":
    main()
