"""Pretrain the tiny narrator's SigLIP-style vision tower on rendered frames with dense labels.

Why: every real recipe starts from a pretrained vision encoder (SigLIP, Qwen2.5-VL's ViT) whose
patch features already say what is where; fine-tuning only teaches the language side to read them.
A randomly initialised tower has nothing to read. Measured with benchmarks/probe_tiny_narrator.py
(README, Training): with the frozen random tower the tiny narrator named the first shape's colour
on 0 of 19 test clips whatever else changed (more clips, more epochs, a bigger decoder, a trained
tower); with this pretrained tower it names it on 17 to 18 of 19.

What it learns: frames of freshly drawn scenes of the sample world's generator
(data/sample/make_sample_world.py: `make_scene`, `render_frames`, `label_map`), never the sample
world's own videos, each patch labelled from the scene spec:

- the background colour (every patch);
- the colour and kind of the shape covering the patch ("none" when no shape covers enough of it);
- whether the sign covers the patch;
- the patch's own grid position, and the centre of its shape in the frame (regression), so the
  features say where a shape is, not only that it is there.

Linear heads on the tower's last hidden states (what LLaVA's projector reads,
`vision_feature_layer=-1`) are trained with the tower and thrown away, as a pretraining head is.
Frames go through the model's own image processor, so pixels are prepared as in training and
inference. Deterministic: seeded scenes, seeded batches, a fixed step count.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

# Share of a patch's pixels a shape (or the sign) must cover for the patch to be labelled with it:
# the edge of a shape grazing a patch is not what the patch shows.
SHAPE_COVER = 0.05
SIGN_COVER = 0.07
CENTRE_WEIGHT = 10.0  # the centre regression's loss weight (its squared error is in frame widths, ~0.001)


@dataclass(frozen=True)
class TowerPretraining:
    """params.yaml `tiny_model.tower_pretraining`."""

    world: str  # path of the sample world's generator (make_sample_world.py)
    scenes: int  # scenes drawn for training (frames_per_scene frames of each)
    eval_scenes: int  # other scenes, for the held-out accuracy reported after training
    frames_per_scene: int
    steps: int
    batch_size: int
    learning_rate: float
    seed: int

    @classmethod
    def from_params(cls, section: dict[str, Any]) -> TowerPretraining:
        missing = sorted(set(cls.__dataclass_fields__) - set(section))
        if missing:
            raise ValueError(f"params tiny_model.tower_pretraining is missing {missing}")
        if int(section["steps"]) < 3:
            raise ValueError(f"params tiny_model.tower_pretraining.steps is {section['steps']}: use 3 or more")
        return cls(world=str(section["world"]), scenes=int(section["scenes"]), eval_scenes=int(section["eval_scenes"]),
                   frames_per_scene=int(section["frames_per_scene"]), steps=int(section["steps"]),
                   batch_size=int(section["batch_size"]), learning_rate=float(section["learning_rate"]),
                   seed=int(section["seed"]))


def load_world(path: str | Path) -> ModuleType:
    """Import the sample world's generator from its file (it is a script, not a package)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the sample world's generator (make_sample_world.py) is not there; "
                                "set params tiny_model.tower_pretraining.world")
    spec = importlib.util.spec_from_file_location("make_sample_world", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: @dataclass looks its module up in sys.modules.
    sys.modules.setdefault("make_sample_world", module)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Vocabulary:
    """Label names of each head, in index order (index 0 of colour and kind is "none")."""

    backgrounds: tuple[str, ...]
    colours: tuple[str, ...]
    kinds: tuple[str, ...]

    @classmethod
    def of(cls, world: ModuleType) -> Vocabulary:
        return cls(tuple(world.BACKGROUNDS), ("none", *world.PALETTE), ("none", *world.SHAPE_KINDS))


def patch_labels(world: ModuleType, scene: dict, t: float, grid: int, vocabulary: Vocabulary) -> np.ndarray:
    """Labels of the grid x grid patches of the frame at time t, row-major: (grid*grid, 6) int64.

    Columns: background, colour, kind, sign (0/1), shape centre x and y in thousandths of the frame
    (0 where no shape is labelled).
    """
    pixels = world.label_map(scene, t)
    height, width = pixels.shape
    if height % grid or width % grid:
        raise ValueError(f"a {width}x{height} frame does not split into a {grid}x{grid} patch grid")
    ph, pw = height // grid, width // grid
    labels = np.zeros((grid * grid, 6), np.int64)
    labels[:, 0] = vocabulary.backgrounds.index(scene["background"])
    for row in range(grid):
        for col in range(grid):
            block = pixels[row * ph:(row + 1) * ph, col * pw:(col + 1) * pw]
            counts = np.bincount(block.ravel(), minlength=2 + len(scene["shapes"]))
            patch = labels[row * grid + col]
            patch[3] = int(counts[1] >= SIGN_COVER * block.size)
            if counts[2:].max() >= SHAPE_COVER * block.size:
                shape = scene["shapes"][int(counts[2:].argmax())]
                patch[1] = vocabulary.colours.index(world.shape_colour_at(shape, t))
                patch[2] = vocabulary.kinds.index(shape["kind"])
                x, y = world.shape_xy(shape, t, scene["duration_s"])
                patch[4], patch[5] = int(1000 * x / width), int(1000 * y / height)
    return labels


def render_set(world: ModuleType, image_processor: Any, *, scenes: int, frames_per_scene: int, grid: int,
               seed: int, desc: str = "render") -> tuple[torch.Tensor, torch.Tensor]:
    """Frames of `scenes` fresh scenes (pixel_values as the processor makes them) and their patch labels."""
    rng = np.random.default_rng(seed)
    vocabulary = Vocabulary.of(world)
    images: list[Image.Image] = []
    labels: list[np.ndarray] = []
    for k in tqdm(range(scenes), desc=desc, unit="scene", mininterval=2.0):
        # Mostly LVD-2M-like scenes, some of the longer event scenes of YouDescribe and WebVTT videos.
        profile = "events" if rng.random() < 0.25 else "lvd"
        scene = world.make_scene(rng, f"pretrain{seed}-{k}", profile=profile)
        count = min(frames_per_scene, scene["n_frames"])
        wanted = set(rng.choice(scene["n_frames"], size=count, replace=False).tolist())
        for index, frame in enumerate(world.render_frames(scene)):
            if index in wanted:
                images.append(Image.fromarray(frame))
                labels.append(patch_labels(world, scene, index / scene["fps"], grid, vocabulary))
    pixel_values = image_processor(images=images, return_tensors="pt")["pixel_values"]
    return pixel_values, torch.from_numpy(np.stack(labels))


class PretrainingHeads(torch.nn.Module):
    """Linear read-outs of each patch feature; used only during pretraining."""

    def __init__(self, hidden: int, vocabulary: Vocabulary, grid: int) -> None:
        super().__init__()
        self.background = torch.nn.Linear(hidden, len(vocabulary.backgrounds))
        self.colour = torch.nn.Linear(hidden, len(vocabulary.colours))
        self.kind = torch.nn.Linear(hidden, len(vocabulary.kinds))
        self.sign = torch.nn.Linear(hidden, 2)
        self.position = torch.nn.Linear(hidden, grid * grid)
        self.centre = torch.nn.Linear(hidden, 2)

    def loss_and_accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """features (batch, patches, hidden), labels (batch, patches, 6) -> loss, accuracies on this batch."""
        ce = torch.nn.functional.cross_entropy
        shape = labels[..., 1] > 0
        position = torch.arange(features.shape[1]).expand(features.shape[0], -1)
        logits = {"background": self.background(features), "colour": self.colour(features), "kind": self.kind(features),
                  "sign": self.sign(features), "position": self.position(features)}
        targets = {"background": labels[..., 0], "colour": labels[..., 1], "kind": labels[..., 2],
                   "sign": labels[..., 3], "position": position}
        loss = sum(ce(logits[name].flatten(0, 1), targets[name].flatten()) for name in logits)
        centre_error = torch.zeros(())
        if shape.any():
            centre_error = (self.centre(features)[shape] - labels[..., 4:6][shape].float() / 1000).pow(2).mean()
        loss = loss + CENTRE_WEIGHT * centre_error
        with torch.no_grad():
            right = {name: logits[name].argmax(-1) == targets[name] for name in logits}
            accuracy = {
                "background": right["background"].float().mean().item(),
                "shape_or_not": ((logits["colour"].argmax(-1) > 0) == shape).float().mean().item(),
                "colour_on_shapes": right["colour"][shape].float().mean().item() if shape.any() else float("nan"),
                "kind_on_shapes": right["kind"][shape].float().mean().item() if shape.any() else float("nan"),
                "sign": right["sign"].float().mean().item(),
                "centre_rmse_frame_widths": centre_error.sqrt().item(),
            }
        return loss, accuracy


def pretrain_tower(tower: torch.nn.Module, image_processor: Any, world: ModuleType, config: TowerPretraining,
                   *, grid: int) -> dict[str, Any]:
    """Train `tower` (a SiglipVisionModel) in place; returns held-out accuracies before and after.

    Runs under a forked RNG seeded from `config.seed`: the caller's random state is untouched and
    the same config gives the same weights.
    """
    vocabulary = Vocabulary.of(world)
    train_x, train_y = render_set(world, image_processor, scenes=config.scenes, frames_per_scene=config.frames_per_scene,
                                  grid=grid, seed=config.seed, desc="tower pretraining frames")
    eval_x, eval_y = render_set(world, image_processor, scenes=config.eval_scenes,
                                frames_per_scene=config.frames_per_scene, grid=grid, seed=config.seed + 1,
                                desc="tower held-out frames")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        heads = PretrainingHeads(tower.config.hidden_size, vocabulary, grid)

        def evaluate() -> dict[str, float]:
            tower.eval()
            with torch.no_grad():
                _, accuracy = heads.loss_and_accuracy(tower(pixel_values=eval_x).last_hidden_state, eval_y)
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
            loss, _ = heads.loss_and_accuracy(tower(pixel_values=train_x[index]).last_hidden_state, train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        after = evaluate()
    tower.eval()
    return {"train_frames": len(train_x), "held_out_frames": len(eval_x), "steps": config.steps,
            "held_out_before": before, "held_out_after": after, "labels": asdict(vocabulary)}
