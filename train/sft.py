"""One recipe phase of narrator fine-tuning with TRL's SFTTrainer and PEFT LoRA, top to bottom.

1. `configure_towers`: freeze everything, then per tower (vision / projector / language) what the
   phase says: `full` trains every weight, `lora` adds PEFT adapters (target modules restricted
   to that tower by a regex: SigLIP and Qwen's vision blocks also have `q_proj`-like names),
   `frozen` trains nothing. Fully trained towers are PEFT `modules_to_save`, so the adapter
   folder carries them.
2. `sft_args`: SFTConfig from the recipe: loss on the narration tokens only
   (`assistant_only_loss`), no truncation (`max_length=None`: over-long examples are removed
   before training, see train/dataset.py), a sequential sampler over the curriculum order the
   caller already expanded to all epochs (train/curriculum.py), bf16 only on a GPU that has it.
3. `GradientFlowCallback`: after the first backward pass, every tower the phase trains must have
   gradients (train/gradient_flow.py), else the run stops before its first optimizer step.
4. `ThroughputCallback`: tokens per second and peak memory next to loss and learning rate in the
   logs (dvclive picks up every logged number).

`phase_trainer` puts 1 and 2 together with the training order (train/curriculum.py): the trainer
of one phase, as the train stage (stages/train_narrator.py) and the experiments build it.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from train.curriculum import training_order
from train.gradient_flow import TOWER_MODULES, check_gradient_flow
from train.recipes import Phase, Recipe


def configure_towers(model: torch.nn.Module, recipe: Recipe, phase: Phase) -> tuple[torch.nn.Module, list[str]]:
    """Apply the phase's tower modes; returns the (possibly PEFT-wrapped) model and the towers that train."""
    from peft import LoraConfig, get_peft_model

    names = TOWER_MODULES[recipe.model.family]
    modes = phase.modes()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    lora_patterns = []
    if modes["language"] == "lora":  # adapters in the decoder only, never on lm_head
        lora_patterns.append(rf".*{names['language'][0]}\..*\.({'|'.join(recipe.lora.target_modules)})")
    if modes["vision"] == "lora":
        if not recipe.lora.vision_target_modules:
            raise ValueError(f"{recipe.source}: phase {phase.name} has vision: lora but lora.vision_target_modules is empty")
        lora_patterns.append(rf".*{names['vision'][0]}\..*\.({'|'.join(recipe.lora.vision_target_modules)})")
    full = [module for t in ("vision", "projector", "language") if modes[t] == "full" for module in names[t]]
    if lora_patterns:
        config = LoraConfig(
            r=recipe.lora.r, lora_alpha=recipe.lora.alpha, lora_dropout=recipe.lora.dropout,
            target_modules="|".join(f"({p})" for p in lora_patterns), modules_to_save=full or None,
        )
        model = get_peft_model(model, config)
    else:
        for name, parameter in model.named_parameters():
            if any(f"{module}." in name for module in full):
                parameter.requires_grad_(True)
    if recipe.model.family == "llava":
        # LLaVA reads the tower's hidden states, never its post_layernorm: a weight that cannot
        # learn (the gradient-flow check flags it) and should not sit in the optimizer.
        for name, parameter in model.named_parameters():
            if names["vision"][0] in name and "post_layernorm" in name:
                parameter.requires_grad_(False)
    trainable = [t for t in ("vision", "projector", "language") if modes[t] != "frozen"]
    return model, trainable


def sft_args(recipe: Recipe, phase: Phase, output_dir: Path, *, max_steps: int = -1, save_steps: int = 50,
             logging_steps: int = 10, report_to: list[str] | None = None) -> Any:
    from trl import SFTConfig

    on_gpu = torch.cuda.is_available()
    bf16 = recipe.train.mixed_precision == "bf16"
    if bf16 and on_gpu and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{recipe.source}: train.mixed_precision is bf16 but this GPU has no bfloat16; set it to no")
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=1,  # the caller's dataset already holds every epoch, in curriculum order
        max_steps=max_steps,
        per_device_train_batch_size=recipe.train.per_device_batch_size,
        gradient_accumulation_steps=recipe.train.gradient_accumulation_steps,
        learning_rate=phase.learning_rate,
        lr_scheduler_type=recipe.train.lr_scheduler_type,
        warmup_steps=recipe.train.warmup_ratio,  # transformers 5: a float in [0, 1) is a ratio of the steps
        weight_decay=recipe.train.weight_decay,
        gradient_checkpointing=recipe.train.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if recipe.train.gradient_checkpointing else None,
        bf16=bf16,
        use_cpu=not on_gpu,
        assistant_only_loss=True,
        max_length=None,
        train_sampling_strategy="sequential",
        seed=recipe.train.seed,
        data_seed=recipe.train.seed,
        logging_steps=logging_steps,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=1,
        report_to=report_to or [],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def phase_trainer(
    model: torch.nn.Module,
    processor: Any,
    recipe: Recipe,
    phase: Phase,
    dataset: Any,
    examples: Any,
    output_dir: Path,
    *,
    bucket_order: Sequence[str],
    pacing: str,
    batch_size: int,
    initial_competence: float = 0.1,
    full_competence_at: float = 0.5,
    max_steps: int = -1,
    save_steps: int = 50,
    logging_steps: int = 10,
    callbacks: list[TrainerCallback] | None = None,
) -> tuple[Any, list[str]]:
    """The SFTTrainer of one phase, not yet trained, and the towers it trains.

    `dataset` and `examples` are what `train.dataset.trainable_examples` returns (the conversations
    and their rows). The trainer gets the conversations in the order `training_order` gives for
    `pacing` over the phase's epochs (bucket_order: params `score.difficulty_buckets`; batch_size:
    examples per optimizer step over all processes; the competence schedule for `competence`
    pacing), the model with the phase's tower modes (`configure_towers`), and `sft_args`.
    """
    from trl import SFTTrainer

    order = training_order(examples["curriculum_position"].to_list(), examples["difficulty_bucket"].to_list(),
                           bucket_order, epochs=max(1, round(phase.epochs)), pacing=pacing, seed=recipe.train.seed,
                           batch_size=batch_size, initial_competence=initial_competence,
                           full_competence_at=full_competence_at)
    data = dataset.select(order).select_columns(["images", "messages"])
    model, towers = configure_towers(model, recipe, phase)
    trainer = SFTTrainer(
        model=model,
        args=sft_args(recipe, phase, output_dir, max_steps=max_steps, save_steps=save_steps,
                      logging_steps=logging_steps),
        train_dataset=data,
        processing_class=processor,
        callbacks=callbacks,
    )
    return trainer, towers


class GradientFlowCallback(TrainerCallback):
    """Check gradient flow once, after the first backward pass, before the first optimizer step."""

    def __init__(self, towers: list[str], report_file: Path | None = None):
        self.towers = towers
        self.report_file = report_file
        self.done = False

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):  # type: ignore[no-untyped-def]
        if self.done or model is None:
            return
        report = check_gradient_flow(model, self.towers)  # raises GradientFlowError
        self.done = True
        if self.report_file is not None:
            self.report_file.parent.mkdir(parents=True, exist_ok=True)
            self.report_file.write_text(json.dumps({t: vars(r) for t, r in sorted(report.items())}, indent=2) + "\n")


class ThroughputCallback(TrainerCallback):
    """Add tokens/s (since the last log) and peak memory (GiB) to every log line."""

    def __init__(self) -> None:
        self.last_time = time.perf_counter()
        self.last_tokens = 0.0

    def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[no-untyped-def]
        if logs is None or "loss" not in logs:
            return
        now, tokens = time.perf_counter(), float(state.num_input_tokens_seen or logs.get("num_tokens", 0) or 0)
        if tokens > self.last_tokens and now > self.last_time:
            logs["tokens_per_second"] = round((tokens - self.last_tokens) / (now - self.last_time), 1)
        self.last_time, self.last_tokens = now, tokens
        if torch.cuda.is_available():
            logs["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        else:
            logs["peak_memory_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)


def drop_incomplete_checkpoints(checkpoints: Path) -> list[Path]:
    """Remove checkpoints a killed run left half-written; returns them.

    The Trainer writes trainer_state.json last, without an atomic rename, so a checkpoint whose
    state file is missing or does not parse was cut off mid-save. Resuming from it would crash
    (or load partial weights); the previous checkpoint, or a fresh start, is the safe choice.
    """
    dropped = []
    for folder in sorted(checkpoints.glob("checkpoint-*")):
        state = folder / "trainer_state.json"
        try:
            json.loads(state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            dropped.append(folder)
    for folder in dropped:
        shutil.rmtree(folder)
    return dropped
