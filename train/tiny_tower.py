"""Pretrain the tiny narrator's SigLIP-style vision tower on rendered frames with dense labels.

Why: every real recipe starts from a pretrained vision encoder (SigLIP, Qwen2.5-VL's ViT) whose
patch features already say what is where; fine-tuning only teaches the language side to read them.
A randomly initialised tower has nothing to read. Measured with experiments/probe_tiny_narrator.py
(EXPERIMENTS.md): with the frozen random tower the tiny narrator named the first shape's colour
on 0 of 19 test clips whatever else changed (more clips, more epochs, a bigger decoder, a trained
tower); with this pretrained tower it names it on 17 to 18 of 19.

What it learns: images of freshly drawn scenes of the sample world's generator
(the `sampleworld` package: `make_scene`, `render_frames`, `label_map`), never the sample
world's own videos, made as the frames stage makes them: the recipe's frames at the centres of
equal slices of the clip, scaled to the pixel budget and laid out by the frame policy (one 2x2
grid of 4 frames for the tiny recipe, narrate/frames.py). Each patch is labelled from the scene spec:

- the background colour (every patch);
- the colour and kind of the shape covering the patch ("none" when no shape covers enough of it);
- whether the sign covers the patch, and the sign's word;
- the patch's own grid position, and the centre of its shape in its frame (regression), so the
  features say where a shape is, not only that it is there;
- what the shape does across the sampled frames: its motion (left to right, up, bounce, ...),
  whether its colour changes, whether it appears after the first frame. A grid shows every frame
  to the tower at once, so these can be read from the image; this is what lets the narrator say
  what moves (EXPERIMENTS.md).

Linear heads on the tower's last hidden states (what LLaVA's projector reads,
`vision_feature_layer=-1`) are trained with the tower and thrown away, as a pretraining head is.
Frames go through the model's own image processor, so pixels are prepared as in training and
inference. Deterministic: seeded scenes, seeded batches, a fixed step count.

The functions take the generator as their `world` argument (`import sampleworld as world`), so
a test or an experiment can hand them a stand-in world.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from config.params import TowerPretrainingParams
from narrate.frames import FramePolicy, arrange, fit_pixels, frame_in_cell, grid_shape, target_times

# Share of a patch's pixels a shape (or the sign) must cover for the patch to be labelled with it:
# the edge of a shape grazing a patch is not what the patch shows.
SHAPE_COVER = 0.05
SIGN_COVER = 0.07
CENTRE_WEIGHT = 10.0  # the centre regression's loss weight (its squared error is in frame widths, ~0.001)


@dataclass(frozen=True)
class Vocabulary:
    """Label names of each head, in index order (index 0 of colour, kind, motion and word is "none")."""

    backgrounds: tuple[str, ...]
    colours: tuple[str, ...]
    kinds: tuple[str, ...]
    motions: tuple[str, ...]
    sign_words: tuple[str, ...]

    @classmethod
    def of(cls, world: ModuleType) -> Vocabulary:
        return cls(tuple(world.BACKGROUNDS), ("none", *world.PALETTE), ("none", *world.SHAPE_KINDS),
                   ("none", *world.MOTIONS), ("none", *world.SIGN_WORDS))


# Columns of a patch label row.
LABEL_COLUMNS = ("background", "colour", "kind", "sign", "centre_x", "centre_y", "motion", "colour_changes",
                 "appears_later", "sign_word")


def patch_labels(world: ModuleType, scene: dict, t: float, grid: int, vocabulary: Vocabulary,
                 frame_times: list[float] | None = None) -> np.ndarray:
    """Labels of the grid x grid patches of the frame at time t, row-major: (grid*grid, 10) int64.

    Columns (LABEL_COLUMNS): background, colour, kind, sign (0/1), shape centre x and y in
    thousandths of the frame (0 where no shape is labelled), the shape's motion, whether its colour
    differs between the sampled `frame_times` (default: [t]), whether it is absent from the first of
    them, and the sign's word (0 where the sign does not cover the patch).
    """
    times = frame_times if frame_times is not None else [t]
    pixels = world.label_map(scene, t)
    height, width = pixels.shape
    if height % grid or width % grid:
        raise ValueError(f"a {width}x{height} frame does not split into a {grid}x{grid} patch grid")
    ph, pw = height // grid, width // grid
    labels = np.zeros((grid * grid, len(LABEL_COLUMNS)), np.int64)
    labels[:, 0] = vocabulary.backgrounds.index(scene["background"])
    for row in range(grid):
        for col in range(grid):
            block = pixels[row * ph:(row + 1) * ph, col * pw:(col + 1) * pw]
            counts = np.bincount(block.ravel(), minlength=2 + len(scene["shapes"]))
            patch = labels[row * grid + col]
            patch[3] = int(counts[1] >= SIGN_COVER * block.size)
            if patch[3]:
                patch[9] = vocabulary.sign_words.index(scene["sign"]["word"])
            if counts[2:].max() >= SHAPE_COVER * block.size:
                shape = scene["shapes"][int(counts[2:].argmax())]
                patch[1] = vocabulary.colours.index(world.shape_colour_at(shape, t))
                patch[2] = vocabulary.kinds.index(shape["kind"])
                x, y = world.shape_xy(shape, t, scene["duration_s"])
                patch[4], patch[5] = int(1000 * x / width), int(1000 * y / height)
                patch[6] = vocabulary.motions.index(shape["motion"])
                patch[7] = int(len({world.shape_colour_at(shape, u) for u in times}) > 1)
                patch[8] = int(not world.shape_visible(shape, times[0]))
    return labels


def render_set(world: ModuleType, image_processor: Any, policy: FramePolicy, *, scenes: int, patches_per_side: int,
               seed: int, desc: str = "render") -> tuple[torch.Tensor, torch.Tensor]:
    """Images of `scenes` fresh scenes as the model gets them (pixel_values) and their patch labels.

    Frames are the policy's: at the centres of equal slices of the clip, scaled to the pixel budget,
    laid out by `policy.layout` (one grid image per scene, or one image per frame).
    """
    rng = np.random.default_rng(seed)
    vocabulary = Vocabulary.of(world)
    columns, rows = grid_shape(policy.most_frames) if policy.layout == "grid" else (1, 1)
    if patches_per_side % columns or patches_per_side % rows:
        raise ValueError(f"a {patches_per_side}x{patches_per_side} patch grid does not split into {columns}x{rows} frames")
    cell = patches_per_side // columns  # patches per side of one frame (square frames)
    images: list[Image.Image] = []
    labels: list[np.ndarray] = []
    for k in tqdm(range(scenes), desc=desc, unit="scene", mininterval=2.0):
        # Mostly LVD-2M-like scenes, some of the longer event scenes of YouDescribe and WebVTT videos.
        profile = "events" if rng.random() < 0.25 else "lvd"
        scene = world.make_scene(rng, f"pretrain{seed}-{k}", profile=profile)
        times = target_times(0.0, scene["duration_s"], policy.frame_count(scene["duration_s"]))
        indices = [min(round(t * scene["fps"]), scene["n_frames"] - 1) for t in times]
        times = [i / scene["fps"] for i in indices]
        frames = [fit_pixels(Image.fromarray(frame), policy.max_pixels) for frame in world.render_frames(scene, indices)]
        per_frame = [patch_labels(world, scene, t, cell, vocabulary, times) for t in times]
        if policy.layout == "grid":
            images += arrange(policy, frames)
            grid = np.zeros((rows * cell, columns * cell, len(LABEL_COLUMNS)), np.int64)
            for c in range(columns * rows):  # the labels of the frame tile_frames put in cell c
                frame = per_frame[frame_in_cell(c, len(frames), policy.most_frames)]
                r0, c0 = (c // columns) * cell, (c % columns) * cell
                grid[r0:r0 + cell, c0:c0 + cell] = frame.reshape(cell, cell, -1)
            labels.append(grid.reshape(-1, len(LABEL_COLUMNS)))
        else:
            images += frames
            labels += per_frame
    pixel_values = image_processor(images=images, return_tensors="pt")["pixel_values"]
    return pixel_values, torch.from_numpy(np.stack(labels))


class PretrainingHeads(torch.nn.Module):
    """Linear read-outs of each patch feature; used only during pretraining."""

    def __init__(self, hidden: int, vocabulary: Vocabulary, patches: int) -> None:
        super().__init__()
        linear = torch.nn.Linear
        self.classifiers = torch.nn.ModuleDict({
            "background": linear(hidden, len(vocabulary.backgrounds)), "colour": linear(hidden, len(vocabulary.colours)),
            "kind": linear(hidden, len(vocabulary.kinds)), "sign": linear(hidden, 2), "position": linear(hidden, patches),
            "motion": linear(hidden, len(vocabulary.motions)), "colour_changes": linear(hidden, 2),
            "appears_later": linear(hidden, 2), "sign_word": linear(hidden, len(vocabulary.sign_words)),
        })
        self.centre = linear(hidden, 2)

    def loss(self, features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """features (batch, patches, hidden), labels (batch, patches, LABEL_COLUMNS) -> loss, and each
        head's logits plus the centre regression's squared error (what `accuracy` reads)."""
        ce = torch.nn.functional.cross_entropy
        shape = labels[..., LABEL_COLUMNS.index("colour")] > 0
        targets = self.targets(features, labels)
        outputs = {name: head(features) for name, head in self.classifiers.items()}
        loss = sum(ce(outputs[name].flatten(0, 1), targets[name].flatten()) for name in outputs)
        centre_error = torch.zeros(())
        if shape.any():
            centre_error = (self.centre(features)[shape] - labels[..., 4:6][shape].float() / 1000).pow(2).mean()
        outputs["centre_error"] = centre_error
        return loss + CENTRE_WEIGHT * centre_error, outputs

    def targets(self, features: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        targets = {name: labels[..., k] for k, name in enumerate(LABEL_COLUMNS) if name in self.classifiers}
        targets["position"] = torch.arange(features.shape[1]).expand(features.shape[0], -1)
        return targets

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor, outputs: dict[str, torch.Tensor]) -> dict[str, float]:
        """Per-patch accuracies of `outputs` (from `loss`); only for reports: training never reads them."""
        targets = self.targets(features, labels)
        shape, sign = labels[..., LABEL_COLUMNS.index("colour")] > 0, labels[..., LABEL_COLUMNS.index("sign")] > 0
        with torch.no_grad():
            right = {name: outputs[name].argmax(-1) == targets[name] for name in self.classifiers}

            def on(mask: torch.Tensor, name: str) -> float:
                return right[name][mask].float().mean().item() if mask.any() else float("nan")

            return {
                "background": right["background"].float().mean().item(),
                "shape_or_not": ((outputs["colour"].argmax(-1) > 0) == shape).float().mean().item(),
                "colour_on_shapes": on(shape, "colour"),
                "kind_on_shapes": on(shape, "kind"),
                "motion_on_shapes": on(shape, "motion"),
                "colour_changes_on_shapes": on(shape, "colour_changes"),
                "appears_later_on_shapes": on(shape, "appears_later"),
                "sign": right["sign"].float().mean().item(),
                "sign_word_on_sign": on(sign, "sign_word"),
                "centre_rmse_frame_widths": outputs["centre_error"].sqrt().item(),
            }


def pretrain_tower(tower: torch.nn.Module, image_processor: Any, world: ModuleType, config: TowerPretrainingParams,
                   policy: FramePolicy) -> dict[str, Any]:
    """Train `tower` (a SiglipVisionModel) in place on images laid out by `policy`; returns held-out
    accuracies before and after.

    Runs under a forked RNG seeded from `config.seed`: the caller's random state is untouched and
    the same config gives the same weights.
    """
    vocabulary = Vocabulary.of(world)
    patches_per_side = tower.config.image_size // tower.config.patch_size
    train_x, train_y = render_set(world, image_processor, policy, scenes=config.scenes, patches_per_side=patches_per_side,
                                  seed=config.seed, desc="tower pretraining images")
    eval_x, eval_y = render_set(world, image_processor, policy, scenes=config.eval_scenes,
                                patches_per_side=patches_per_side, seed=config.seed + 1, desc="tower held-out images")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        heads = PretrainingHeads(tower.config.hidden_size, vocabulary, patches_per_side**2)

        def evaluate() -> dict[str, float]:
            tower.eval()
            with torch.no_grad():
                features = tower(pixel_values=eval_x).last_hidden_state
                accuracy = heads.accuracy(features, eval_y, heads.loss(features, eval_y)[1])
            return {name: round(value, 4) for name, value in accuracy.items()}

        # The heads start random too: "before" is what a linear read-out trained on nothing gets,
        # so it only shows the scale; the probe's figures compare trained read-outs.
        before = evaluate()
        tower.train()
        parameters = list(tower.parameters()) + list(heads.parameters())
        optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate)
        # Warm up over 5% of the steps (at least 2: OneCycleLR needs a warm-up phase of >= 1 step).
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=config.steps,
                                                       pct_start=max(0.05, 2 / config.steps))
        batches = torch.Generator().manual_seed(config.seed)
        for _ in tqdm(range(config.steps), desc="tower pretraining", unit="step", mininterval=2.0):
            index = torch.randint(len(train_x), (config.batch_size,), generator=batches)
            loss, _ = heads.loss(tower(pixel_values=train_x[index]).last_hidden_state, train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        after = evaluate()
    tower.eval()
    return {"train_images": len(train_x), "held_out_images": len(eval_x), "layout": policy.layout, "steps": config.steps,
            "held_out_before": before, "held_out_after": after, "labels": asdict(vocabulary)}


TOWER_REPORT = "tower_pretraining.json"  # held-out accuracies, written next to the tower's weights


def tiny_vision_config(*, image_size: int, patch_size: int, vision_hidden: int, vision_layers: int, heads: int,
                       mlp_ratio: int) -> Any:
    """The tiny narrator's SigLIP-style tower: the one config the tower stage pretrains and LLaVA embeds."""
    from transformers import SiglipVisionConfig

    return SiglipVisionConfig(
        hidden_size=vision_hidden,
        intermediate_size=vision_hidden * mlp_ratio,
        num_hidden_layers=vision_layers,
        num_attention_heads=heads,
        image_size=image_size,
        patch_size=patch_size,
        vision_use_head=False,  # LLaVA reads hidden states; the pooling head would be dead weight
    )


def pretrain_tiny_tower(out: Path, recipe: Any, world: ModuleType,
                        config: TowerPretrainingParams) -> tuple[Any, dict[str, Any]]:
    """The tiny recipe's vision tower in `out`: a SigLIP-style tower initialised as the tiny LLaVA
    initialises its own (seed 0), pretrained on images laid out by the recipe's frame policy,
    saved with its pretraining report. Returns the tower and the report.

    Built in `<out>.partial` and renamed to `out` once pretrained: a run killed midway never
    leaves an untrained tower where the tiny_model stage would read it.
    """
    import json
    import shutil

    from transformers import SiglipImageProcessor, SiglipVisionModel

    arch = recipe.architecture.vision
    if arch.image_size is None:  # (load_recipe already checks data.max_pixels = image_size^2)
        raise ValueError(f"{recipe.source}: architecture.vision.image_size must be set: the tiny tower has a fixed input size")
    vision = tiny_vision_config(image_size=arch.image_size, patch_size=arch.patch_size, vision_hidden=arch.hidden_size,
                                vision_layers=arch.layers, heads=arch.attention_heads,
                                mlp_ratio=arch.intermediate_size // arch.hidden_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the seed build_tiny_llava initialises with: LLaVA builds its tower first
        tower = SiglipVisionModel(vision)
    # The image processor load_narrator gives the tiny narrator: SigLIP's, at the tower's input size.
    image_processor = SiglipImageProcessor(size={"height": arch.image_size, "width": arch.image_size})
    report = pretrain_tower(tower, image_processor, world, config, recipe.data)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    tower.save_pretrained(partial, safe_serialization=True)
    (partial / TOWER_REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return tower, report
