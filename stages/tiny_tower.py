"""Pretrain the `tiny` recipe's vision tower, as the real recipes start from a pretrained SigLIP.

Reads the recipe's tower architecture and frame policy (train/recipes/tiny.yaml: architecture.vision,
data; dvc.yaml tracks those keys only) and params `tiny_model.tower_pretraining`, draws fresh scenes
of the sample world's generator (the `sampleworld` package; never its videos) laid out as the frame
policy lays out frames (a 2x2 grid), and trains the tower on per-patch labels
(train/tiny_tower.py). Writes --out: the tower in Hugging Face format (SiglipVisionModel) and
tower_pretraining.json (held-out accuracies). It depends on nothing the mixture changes, so a
mixture experiment never reruns it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sampleworld
from config.params import load_params
from train.recipes import load_recipe
from train.tiny_tower import pretrain_tiny_tower


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="tower folder to write")
    args = parser.parse_args()
    pretraining = load_params().tiny_model.tower_pretraining
    _, report = pretrain_tiny_tower(args.out, load_recipe("tiny"), sampleworld, pretraining)
    after = report["held_out_after"]
    print(f"tiny_tower: pretrained on {report['train_images']:,} images ({report['layout']}): held-out per-patch "
          f"accuracy: colour {after['colour_on_shapes']:.3f}, kind {after['kind_on_shapes']:.3f} and motion "
          f"{after['motion_on_shapes']:.3f} of shape patches, background {after['background']:.3f}, sign word "
          f"{after['sign_word_on_sign']:.3f}")


if __name__ == "__main__":
    main()
