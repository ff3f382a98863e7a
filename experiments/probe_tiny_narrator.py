"""What does the tiny narrator read from its frames? Train a variant, then count facts it gets right.

    python -m experiments.probe_tiny_narrator                     # the tiny recipe as shipped (pretrained tower)
    python -m experiments.probe_tiny_narrator --tower random      # the tower at its random initial weights
    python -m experiments.probe_tiny_narrator --vision full       # tower trained from scratch
    python -m experiments.probe_tiny_narrator --target shape      # learn only "<colour> <kind>." of the first shape
    python -m experiments.probe_tiny_narrator --target motion     # learn only the first shape's motion ("up.", "bounce.", ...)
    python -m experiments.probe_tiny_narrator --image-size 32 --patch 4 --max-seq-length 512
    python -m experiments.probe_tiny_narrator --synthetic 2000 --target shape --epochs 10   # more clips
    python -m experiments.probe_tiny_narrator --tower pooled --target shape                 # ideal colour features
    python -m experiments.probe_tiny_narrator --text-hidden 256 --text-layers 4 --lr 1e-3   # a bigger decoder
    python -m experiments.probe_tiny_narrator --pacing shuffle --seed 1                      # another order
    python -m experiments.probe_tiny_narrator --tower-from /tmp/tower   # a tower from experiments.pretrain_tiny_tower

Run from the repository root. Needs `dvc repro frames tiny_model` (data/frames, data/mixtures,
models/tiny-llava). Builds a tiny model in a temporary folder (train.tiny_model.build_tiny_llava)
and trains it on the train split with the train stage's own functions: the over-length examples
left out (train.dataset.trainable_examples), then one phase's trainer over the pacing's order
(train.sft.phase_trainer); narrates the test split as the train_report stage does
(narrate.generation.narrate_examples) and prints test CIDEr-D and, over the LVD-2M test clips, how often
the background colour and the first shape's colour, kind and motion match the reference.
`--target background` / `shape` / `motion` replace every LVD-2M narration by that one fact, to ask
whether the model can learn to read it at all (train loss printed too). The sample world's raw
captions name these facts in fixed phrases, which is what the patterns below read. Figures are in
EXPERIMENTS.md, with the machine.

`--synthetic N` trains on N fresh clips of the sample world's generator (the `sampleworld` package,
LVD-2M profile, its own seed: never the test clips) instead of the train split: is the sample too
small? `--tower pretrained` (the default) copies the tower of models/tiny-tower, which the tiny_tower stage
pretrained (train/tiny_tower.py); `--tower random` keeps the random initial tower. `--tower pooled` replaces the tower's output by what it would ideally give, the mean colour
of each 4x4 block of every patch (a fixed patch embedding read before the transformer layers): can
the decoder learn to read shapes from clean features at all?
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import torch

import sampleworld as world
from config.params import load_params
from eval.caption_metrics import cider_d
from narrate.conversation import load_examples
from narrate.frames import FramePolicy, arrange, fit_pixels, png_bytes, target_times
from narrate.generation import narrate_examples
from narrate.model import load_narrator
from train.curriculum import PACINGS
from train.dataset import trainable_examples
from train.recipes import load_recipe
from train.sft import phase_trainer
from train.tiny_model import build_tiny_llava, tiny_llava_options

REPO = Path(__file__).resolve().parents[1]  # where the pipeline's data and models are

BACKGROUND = re.compile(r"\b(%s) (?:background|backdrop|screen)" % "|".join(world.BACKGROUNDS))
FIRST_SHAPE = re.compile(r"\b(%s) (%s)\b" % ("|".join(world.PALETTE), "|".join(world.SHAPE_KINDS)))


def background(text: str) -> str | None:
    match = BACKGROUND.search(text)
    return match.group(1) if match else None


def first_shape_match(text: str) -> re.Match[str] | None:
    # After the background phrase, so "a blue background" is never read as a shape.
    match = BACKGROUND.search(text)
    return FIRST_SHAPE.search(text, match.end() if match else 0)


def first_shape(text: str) -> tuple[str, str] | None:
    shape = first_shape_match(text)
    return (shape.group(1), shape.group(2)) if shape else None


MOTIONS = (  # the first shape's motion, from the sample world's verb phrases (sampleworld.motion_vp)
    ("still", re.compile(r"\b(?:stays still|motionless|without moving|does not move)\b")),
    ("bounce", re.compile(r"\b(?:bounc\w*|hops)\b")),
    ("left_to_right", re.compile(r"\bleft to right\b|\btoward the right\b|\bleft side to the (?:centre|right)")),
    ("right_to_left", re.compile(r"\bright to left\b|\btoward the left\b|\bright side to the (?:centre|left)")),
    ("up", re.compile(r"\b(?:rises|upward|climbs)\b")),
    ("down", re.compile(r"\b(?:sinks|downward|down the frame|descends)\b")),
)


def first_motion(text: str) -> str | None:
    # The sentence that names the first shape.
    shape = first_shape_match(text)
    if not shape:
        return None
    end = text.find(".", shape.end())
    sentence = text[shape.start():end if end >= 0 else len(text)]
    return next((name for name, pattern in MOTIONS if pattern.search(sentence)), None)


def probe_text(text: str, target: str) -> str | None:
    if target == "background":
        return f"{background(text)} background." if background(text) else None
    if target == "motion":
        return f"{first_motion(text)}." if first_motion(text) else None
    shape = first_shape(text)
    return f"{shape[0]} {shape[1]}." if shape else None


def only_target(examples: pl.DataFrame, target: str) -> pl.DataFrame:
    lvd = examples.filter(pl.col("source") == "lvd2m")
    texts = [probe_text(t, target) for t in lvd["text"]]
    return lvd.with_columns(text=pl.Series(texts, dtype=pl.String)).drop_nulls("text")


def synthetic_examples(count: int, policy: FramePolicy, *, seed: int = 12345) -> pl.DataFrame:
    """`count` LVD-2M-profile clips from the sample world's generator: frames at the centres of equal
    slices of the whole clip, scaled and laid out by the frame policy as the frames stage does (which
    decodes the encoded video instead), the raw caption as the narration."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    rows = []
    for k in range(count):
        scene = world.make_scene(rng, f"synthetic{k:05d}", profile="lvd")
        wanted = [min(round(t * scene["fps"]), scene["n_frames"] - 1)
                  for t in target_times(0.0, scene["duration_s"], policy.per_example)]
        rendered = {i: f for i, f in enumerate(world.render_frames(scene)) if i in wanted}
        frames = [fit_pixels(Image.fromarray(rendered[i]), policy.max_pixels) for i in wanted]
        rows.append({"example_id": f"lvd2m:synthetic{k}", "source": "lvd2m", "curriculum_position": k,
                     "difficulty_bucket": "easy", "frames": [png_bytes(image) for image in arrange(policy, frames)],
                     "text": world.raw_caption(rng, scene, 0.0, scene["duration_s"])})
    return pl.DataFrame(rows)


def pool_patches(model, patch: int) -> None:  # type: ignore[no-untyped-def]
    """Make the tower output each patch's mean colour per 4x4 block (48 of its 64 features)."""
    embeddings = model.model.vision_tower.embeddings
    block = patch // 4
    with torch.no_grad():
        weight = torch.zeros_like(embeddings.patch_embedding.weight)  # (hidden, 3, patch, patch)
        for c in range(3):
            for i in range(4):
                for j in range(4):
                    weight[c * 16 + i * 4 + j, c, i * block:(i + 1) * block, j * block:(j + 1) * block] = 1 / block**2
        embeddings.patch_embedding.weight.copy_(weight)
        embeddings.patch_embedding.bias.zero_()
        embeddings.position_embedding.weight.zero_()
    # Read the embeddings, before the random layers. hidden_states[0] is asked for as -(layers + 1):
    # transformers 5.24 does not collect hidden states when the layer index is 0 (falsy).
    layer = -(len(model.model.vision_tower.encoder.layers) + 1)
    model.config.vision_feature_layer = model.model.config.vision_feature_layer = layer


def use_frame_markers() -> None:
    """Replace the user turn (narrate.conversation.user_turn, as narrate.generation imported it too) by one with frame markers."""
    import narrate.conversation
    import narrate.generation

    def user_turn(frame_count: int, prompt: str) -> dict:
        content: list[dict] = []
        for number in range(1, frame_count + 1):
            content += [{"type": "text", "text": f"Frame {number}: "}, {"type": "image"}]
        return {"role": "user", "content": content + [{"type": "text", "text": prompt}]}

    narrate.conversation.user_turn = narrate.generation.user_turn = user_turn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vision", choices=("frozen", "full"), default=None, help="default: the recipe's")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--patch", type=int, default=None)
    parser.add_argument("--max-seq-length", type=int, default=None, help="default: the recipe's (raise it with more patches)")
    parser.add_argument("--target", choices=("narration", "background", "shape", "motion"), default="narration")
    parser.add_argument("--synthetic", type=int, default=0, help="train on N generated clips instead of the train split")
    parser.add_argument("--tower", choices=("pretrained", "random", "pooled"), default="pretrained",
                        help="pretrained: the tiny_tower stage's tower (dvc repro tiny_tower)")
    parser.add_argument("--tower-from", type=Path, default=REPO / "models/tiny-tower",
                        help="--tower pretrained: the tower folder to copy (default: the tiny_tower stage's; "
                             "python -m experiments.pretrain_tiny_tower writes others)")
    parser.add_argument("--text-hidden", type=int, default=None, help="decoder width (default: the recipe's)")
    parser.add_argument("--text-layers", type=int, default=None, help="decoder layers (default: the recipe's)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the recipe's)")
    parser.add_argument("--pacing", choices=PACINGS, default="follow",
                        help="training order over epochs (train/curriculum.py); the curriculum run uses params train.pacing")
    parser.add_argument("--competence", type=float, nargs=2, default=None, metavar=("INITIAL", "FULL_AT"),
                        help="competence pacing: initial share of the data and share of training at full competence "
                             "(default: params train.competence)")
    parser.add_argument("--seed", type=int, default=None, help="training seed: order, dropout (default: the recipe's)")
    parser.add_argument("--frame-markers", action="store_true",
                        help='"Frame k: " text before each frame in the user turn (train and narrate)')
    args = parser.parse_args()

    params = load_params(REPO / "params.yaml")
    if args.competence is None:
        schedule = params.train.competence.model_dump()
        args.competence = (float(schedule["initial"]), float(schedule["full_at"]))
    if args.frame_markers:
        use_frame_markers()
    recipe = load_recipe("tiny")
    if args.seed is not None:
        recipe = recipe.model_copy(update=dict(train=recipe.train.model_copy(update=dict(seed=args.seed))))
    vision = recipe.architecture.vision
    phase = recipe.phases[0].model_copy(update=dict(vision=args.vision or recipe.phases[0].vision,
                                epochs=args.epochs or recipe.phases[0].epochs,
                                learning_rate=args.lr or recipe.phases[0].learning_rate))
    train = load_examples(REPO / "data/frames/train.parquet", REPO / "data/mixtures/train.parquet")
    test = load_examples(REPO / "data/frames/test.parquet", REPO / "data/mixtures/test.parquet")
    if args.synthetic:
        train = synthetic_examples(args.synthetic, recipe.data)
    if args.target != "narration":
        train, test = only_target(train, args.target), only_target(test, args.target)

    with tempfile.TemporaryDirectory() as work:
        overrides = {"image_size": args.image_size, "patch_size": args.patch, "text_hidden": args.text_hidden,
                     "text_layers": args.text_layers}
        options = tiny_llava_options(recipe) | {k: v for k, v in overrides.items() if v}
        folder = build_tiny_llava(train["text"].to_list(), Path(work) / "model", seed=0, **options)
        model, processor = load_narrator(str(folder))
        if args.tower == "pretrained":
            from transformers import SiglipVisionModel

            pretrained = SiglipVisionModel.from_pretrained(args.tower_from, local_files_only=True, use_safetensors=True)
            model.model.vision_tower.load_state_dict(pretrained.state_dict())
        if args.tower == "pooled":
            pool_patches(model, args.patch or vision.patch_size)
        # As the train stage: over-length examples left out, then the pacing's order over the phase's epochs.
        data, train, _ = trainable_examples(train, processor, args.max_seq_length or recipe.train.max_seq_length)
        if len(data) == 0:
            sys.exit("every example is over the length limit: raise --max-seq-length")
        trainer, _ = phase_trainer(
            model, processor, recipe, phase, data, train, Path(work) / "run",
            bucket_order=params.score.difficulty_buckets, pacing=args.pacing,
            batch_size=recipe.train.per_device_batch_size * recipe.train.gradient_accumulation_steps,
            initial_competence=args.competence[0], full_competence_at=args.competence[1], save_steps=10**9,
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
        narrations = narrate_examples(trainer.model.eval(), processor, test)

    references = {row["example_id"]: [row["text"]] for row in test.iter_rows(named=True)}
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    score, per_example = cider_d(references, narrations)
    lvd = [k for k in narrations if k.startswith("lvd2m:")]
    read = {"background": background, "shape colour": lambda t: (first_shape(t) or (None,))[0],
            "shape kind": lambda t: (first_shape(t) or (None, None))[1], "shape motion": first_motion}
    print(f"tiny probe: vision {phase.vision} ({args.tower} tower), {round(phase.epochs)} epochs, pacing {args.pacing}, "
          f"seed {recipe.train.seed}, target {args.target}, "
          f"{'synthetic' if args.synthetic else 'sample'} training clips, "
          f"image {args.image_size or vision.image_size}px / patch {args.patch or vision.patch_size}; "
          f"trained {len(train)} examples in {seconds:.0f} s, last logged loss {losses[-1] if losses else None}")
    print(f"test CIDEr-D {score:.3f} on {len(narrations)} clips")
    for column in ("source", "difficulty_bucket"):  # where the score comes from
        groups: dict[str, list[float]] = {}
        for row in test.iter_rows(named=True):
            groups.setdefault(row[column], []).append(per_example[row["example_id"]])
        print(f"  by {column}: " + ", ".join(f"{name} {sum(v) / len(v):.3f} ({len(v)})" for name, v in sorted(groups.items())))
    if args.target == "motion":  # the narration is the motion's name alone
        right = sum(narrations[k].strip() == references[k][0] for k in lvd)
        print(f"motion alone: {right}/{len(lvd)} LVD-2M test clips right (train loss above)")
    for fact, reader in read.items():
        pairs = [(reader(references[k][0]), reader(narrations[k])) for k in lvd]
        pairs = [(ref, got) for ref, got in pairs if ref is not None]
        right = sum(ref == got for ref, got in pairs)
        print(f"{fact}: {right}/{len(pairs)} LVD-2M test clips right")


if __name__ == "__main__":
    main()
