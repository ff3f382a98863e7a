"""Step-one check that every tower marked trainable really receives gradients.

Why: LoRA under gradient checkpointing is a known trap (transformers 5.x's
`gradient_checkpointing_enable` now installs the input hook for PEFT models itself; a custom
loop, an older version or a call to `disable_input_require_grads` still falls into it). With reentrant checkpointing and frozen
embeddings, no input of a checkpointed block requires grad, so autograd records nothing inside
it and the LoRA weights there never get a gradient: the loss still goes down a little (via other
trainable parts), the run looks healthy, and the adapter learns nothing. The fix is
`model.enable_input_require_grads()` (or non-reentrant checkpointing); this check catches the
mistake, and any other tower that is silently cut off, after the first backward pass.

Towers, by module name (PEFT's `base_model.model.` prefix ignored), per model family in
TOWER_MODULES; train/sft.py reads the same map to decide what trains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

# Module names of each tower, per model family (transformers 5.x layouts). The language tower
# includes `lm_head`, which sits outside `language_model`.
TOWER_MODULES: dict[str, dict[str, tuple[str, ...]]] = {
    "llava": {"vision": ("vision_tower",), "projector": ("multi_modal_projector",),
              "language": ("language_model", "lm_head")},
    "qwen2_5_vl": {"vision": ("visual",), "projector": ("visual.merger",), "language": ("language_model", "lm_head")},
}


class GradientFlowError(RuntimeError):
    """A tower marked trainable got no gradient at step one. The message names it and the fix."""


@dataclass(frozen=True)
class TowerGradients:
    trainable: int  # trainable parameter tensors in the tower
    with_gradient: int  # of those, how many autograd reached (grad is not None)
    nonzero: int  # of those, how many have a non-zero gradient (LoRA's A is exactly 0 at step one: B starts at 0)


def tower_of(name: str) -> str | None:
    """The tower a parameter belongs to (projector checked first: Qwen's merger sits in `visual`)."""
    for tower in ("projector", "vision", "language"):
        modules = {m for family in TOWER_MODULES.values() for m in family[tower]}
        if any(f"{module}." in name for module in modules):
            return tower
    return None


def gradient_report(model: torch.nn.Module) -> dict[str, TowerGradients]:
    """Per tower: trainable parameter tensors, how many autograd reached, how many are non-zero."""
    counts: dict[str, list[int]] = {}
    for name, parameter in model.named_parameters():
        tower = tower_of(name)
        if tower is None or not parameter.requires_grad:
            continue
        entry = counts.setdefault(tower, [0, 0, 0])
        entry[0] += 1
        if parameter.grad is not None:
            entry[1] += 1
            entry[2] += int(bool(torch.any(parameter.grad != 0)))
    return {tower: TowerGradients(*values) for tower, values in counts.items()}


def check_gradient_flow(model: torch.nn.Module, trainable_towers: Iterable[str]) -> dict[str, TowerGradients]:
    """Raise GradientFlowError unless each named tower's trainable tensors all got a gradient, some non-zero."""
    report = gradient_report(model)
    problems = []
    for tower in trainable_towers:
        got = report.get(tower, TowerGradients(0, 0, 0))
        if got.trainable == 0:
            problems.append(f"{tower}: marked trainable in the recipe but has no trainable parameters")
        elif got.with_gradient < got.trainable:
            problems.append(f"{tower}: {got.trainable - got.with_gradient} of {got.trainable} trainable tensors got no gradient")
        elif got.nonzero == 0:
            problems.append(f"{tower}: every gradient is exactly zero")
    if problems:
        raise GradientFlowError(
            "gradient-flow check at step one failed:\n  " + "\n  ".join(problems) + "\n  fix: with gradient checkpointing "
            "and LoRA call model.enable_input_require_grads() (or use gradient_checkpointing_kwargs="
            "{'use_reentrant': False}); check the recipe's train.vision / train.projector / train.language modes"
        )
    return report
