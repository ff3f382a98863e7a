"""Build the tiny LLaVA narrator the `tiny` recipe trains: a pretrained tower, a random projector and decoder.

Reads data/mixtures/train.parquet (the narrations the tokenizer is trained on; no held-out text),
the `tiny` recipe (train/recipes/tiny.yaml: its architecture numbers, and its pixel budget, which
is the vision tower's input size) and params `tiny_model.tower_pretraining`, and writes
models/tiny-llava/ in Hugging Face format (safetensors, tokenizer, processor):

1. train/tiny_model.py builds the model with random weights (fixed seed);
2. train/tiny_tower.py pretrains its vision tower on freshly drawn sample-world scenes, laid out
   as the recipe's frame policy lays out frames (a 2x2 grid), with per-patch labels, as real
   recipes start from a pretrained SigLIP; the projector and the decoder stay random;
3. the model is saved again, with tower_pretraining.json (held-out accuracies), into
   models/tiny-llava.partial, renamed to models/tiny-llava at the end (a killed run leaves no
   untrained model where the train stage would load it).

The same mixture, recipe and params give the same bytes on the same machine.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

import sampleworld
from curation.io import load_params
from train.recipes import load_recipe
from train.tiny_model import count_parameters
from train.tiny_tower import TowerPretraining, build_pretrained_tiny_llava

MIXTURE = Path("data/mixtures/train.parquet")
OUT = Path("models/tiny-llava")


def main() -> None:
    params = load_params()
    texts = pl.read_parquet(MIXTURE, columns=["text"]).get_column("text").to_list()
    section = (params.get("tiny_model") or {}).get("tower_pretraining")
    if not isinstance(section, dict):
        raise SystemExit("tiny_model: params.yaml has no tiny_model.tower_pretraining section (see the repository's params.yaml)")
    try:
        recipe = load_recipe("tiny")
        pretraining = TowerPretraining.from_params(section)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"tiny_model: {err}") from err
    # The tower learns on the images the narrator will get: the recipe's frame policy (a 2x2 grid of 64x64 frames).
    model, report = build_pretrained_tiny_llava(texts, OUT, recipe, sampleworld, pretraining)
    after = report["held_out_after"]
    print(f"tiny_model: {count_parameters(model):,} parameters in {OUT}; tower pretrained on {report['train_images']:,} "
          f"images ({report['layout']}): held-out per-patch accuracy: colour {after['colour_on_shapes']:.3f}, kind "
          f"{after['kind_on_shapes']:.3f} and motion {after['motion_on_shapes']:.3f} of shape patches, "
          f"background {after['background']:.3f}, sign word {after['sign_word_on_sign']:.3f}")


if __name__ == "__main__":
    main()
