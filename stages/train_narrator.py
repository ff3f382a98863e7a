"""Fine-tune the narrator named by params `train.recipe` on the mixture's train split.

`--run` is one of: curriculum (the mix stage's order, paced by params train.pacing), shuffle (the
baseline: seeded shuffle every epoch), blind (the control: curriculum order, every frame black).

Reads params `train` and `score.difficulty_buckets`, the recipe file (train/recipes/<name>.yaml),
the frames stage's train split and frame policy (policy.json) and the mixture's train split.
Before loading any weights it prints the predicted peak memory and refuses to start over the
recipe's budget (train/memory.py), and checks that the frames were sampled with the recipe's
frame policy. Writes into --model-out: final/ (the trained adapter or model, and the processor,
whose processor_config.json carries the frame policy for eval and narration) and checkpoints/
(kept between runs: a killed run resumes from the last one); into --reports: metrics.json,
dvclive/ (loss, learning rate, tokens/s, memory per logged step), gradient_flow/ and
over_length.json. Paths are the arguments dvc.yaml gives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import get_args

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from local folders or the local cache

import torch  # noqa: E402

from config.params import BLIND_RUN, Run, TrainParams, load_params  # noqa: E402
from curation.io import write_json  # noqa: E402
from narrate.conversation import load_examples  # noqa: E402
from narrate.frames import read_policy_file, write_frame_policy  # noqa: E402
from narrate.model import apply_pixel_budget, load_narrator  # noqa: E402
from train.dataset import trainable_examples  # noqa: E402
from train.memory import check_budget, predict_peak_memory  # noqa: E402
from train.recipes import load_recipe  # noqa: E402
from train.sft import (  # noqa: E402
    GradientFlowCallback,
    ThroughputCallback,
    drop_incomplete_checkpoints,
    phase_trainer,
)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", choices=get_args(Run), required=True)
    parser.add_argument("--frames", type=Path, required=True, help="the frames stage's folder (train split, policy.json)")
    parser.add_argument("--mixture", type=Path, required=True, help="the mix stage's folder (train split)")
    parser.add_argument("--model-out", type=Path, required=True, help="folder for final/ and checkpoints/")
    parser.add_argument("--reports", type=Path, required=True, help="folder for metrics.json, dvclive/, gradient_flow/")
    args = parser.parse_args()
    params = load_params()
    train_params = params.train
    recipe = load_recipe(train_params.recipe)
    pacing = "shuffle" if args.run == "shuffle" else train_params.pacing
    competence = {"initial_competence": train_params.competence.initial,
                  "full_competence_at": train_params.competence.full_at} if pacing == "competence" else {}
    frames_file, mixture_file = args.frames / "train.parquet", args.mixture / "train.parquet"
    model_dir, report_dir = args.model_out, args.reports

    from accelerate import PartialState

    # Under `accelerate launch` every process runs this script; only the main one writes files.
    state = PartialState(cpu=not torch.cuda.is_available())
    main_process = state.is_main_process
    plan = predict_peak_memory(recipe)
    if main_process:
        print(plan, file=sys.stderr)
    check_budget(plan, recipe.memory.budget_gib)  # MemoryBudgetError names the knobs to turn
    policy = read_policy_file(args.frames)
    if policy != recipe.data:
        sys.exit(f"train: {args.frames} was sampled with the frame policy {policy.to_dict()}, but recipe "
                 f"{recipe.name} asks for {recipe.data.to_dict()}\n  fix: `dvc repro frames` (the frames stage "
                 "samples with the recipe in params train.recipe)")

    torch.manual_seed(recipe.train.seed)
    model, processor = load_narrator(recipe.model.path)
    apply_pixel_budget(processor, policy.max_pixels, recipe.data.frames_per_image)
    examples = load_examples(frames_file, mixture_file)
    dataset, kept, over_length = trainable_examples(examples, processor, recipe.train.max_seq_length,
                                                    blind=args.run == BLIND_RUN)

    # A checkpoint is resumed only by the same run: same recipe, params (except step counts) and data.
    fingerprint = run_fingerprint(args.run, recipe, train_params, [frames_file, mixture_file])
    stamp = model_dir / "checkpoints" / "run_fingerprint.txt"
    if main_process:
        if stamp.exists() and stamp.read_text().strip() != fingerprint:
            print(f"train: {model_dir / 'checkpoints'} belongs to another configuration: starting afresh", file=sys.stderr)
            shutil.rmtree(model_dir / "checkpoints")
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint + "\n")
    state.wait_for_everyone()

    # Examples per optimizer step over all processes: the unit the `competence` pacing draws in.
    global_batch = recipe.train.per_device_batch_size * recipe.train.gradient_accumulation_steps * state.num_processes
    steps = 0
    log_history: list[dict] = []
    for phase in recipe.phases:
        checkpoints = model_dir / "checkpoints" / phase.name
        logging_callbacks = [ThroughputCallback(), _dvclive(report_dir / "dvclive" / phase.name)] if main_process else []
        # The kept examples in the pacing's order over the phase's epochs, the phase's tower modes.
        trainer, towers = phase_trainer(
            model, processor, recipe, phase, dataset, kept, checkpoints,
            bucket_order=params.score.difficulty_buckets, pacing=pacing, batch_size=global_batch, **competence,
            max_steps=train_params.max_steps, save_steps=train_params.save_steps,
            logging_steps=train_params.logging_steps, callbacks=logging_callbacks,
        )
        if main_process:
            for dropped in drop_incomplete_checkpoints(checkpoints):
                print(f"train: {dropped} was cut off while being saved: removed", file=sys.stderr)
        state.wait_for_everyone()
        resume = any(checkpoints.glob("checkpoint-*"))
        if resume:
            if main_process:
                print(f"train: resuming {phase.name} from {checkpoints}", file=sys.stderr)
            restore_weights(trainer.model, checkpoints)
        flow = GradientFlowCallback(towers, report_dir / "gradient_flow" / f"{phase.name}.json" if main_process else None)
        trainer.add_callback(flow)
        trainer.train(resume_from_checkpoint=True if resume else None)
        if not flow.done and flow.report_file is not None:  # resumed with no step left: nothing to check
            flow.report_file.parent.mkdir(parents=True, exist_ok=True)
            flow.report_file.write_text(json.dumps({"checked": False, "reason": "resumed with no step left"}) + "\n")
        steps += trainer.state.global_step
        log_history += [{"phase": phase.name, **entry} for entry in trainer.state.log_history]
        model = trainer.model
        if hasattr(model, "merge_and_unload") and phase is not recipe.phases[-1]:
            model = model.merge_and_unload()  # the next phase adapts the merged weights

    final = model_dir / "final"
    if main_process and final.exists():
        shutil.rmtree(final)
    state.wait_for_everyone()
    trainer.save_model(str(final))  # writes on the main process only
    if not main_process:
        return
    processor.save_pretrained(str(final))
    write_frame_policy(final, policy)  # eval and narration sample frames the way training did
    losses = [e["loss"] for e in log_history if "loss" in e]
    write_json(
        {
            "run": args.run,
            "recipe": recipe.name,
            "pacing": pacing,
            "blind": args.run == BLIND_RUN,
            "examples": len(examples),
            "trained_examples": len(dataset),
            "over_length": len(over_length),
            "steps": steps,
            "processes": state.num_processes,
            "first_loss": losses[0] if losses else None,
            "final_loss": losses[-1] if losses else None,
            "predicted_peak_gib": round(plan.total_gib, 3),
        },
        report_dir / "metrics.json",
    )
    (report_dir / "over_length.json").write_text(json.dumps(over_length, indent=2) + "\n")


def restore_weights(model: torch.nn.Module, checkpoints: Path) -> None:
    """Load the last checkpoint's full weights through from_pretrained.

    Why: transformers 5.24 saves LLaVA under its legacy key names (`language_model.model.*`) and
    renames them in from_pretrained, but Trainer's resume loads the file with load_state_dict,
    which matches none of them: it warns and goes on from the initial weights. (Adapter-only
    checkpoints, PEFT, are loaded by the Trainer correctly.)
    """
    from transformers import AutoModelForImageTextToText
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(checkpoints))
    if last is None or not (Path(last) / "model.safetensors").exists() or hasattr(model, "peft_config"):
        return
    saved = AutoModelForImageTextToText.from_pretrained(last, local_files_only=True, use_safetensors=True,
                                                        trust_remote_code=False)
    missing, unexpected = model.load_state_dict(saved.state_dict(), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"{last}: checkpoint does not match the model (missing {missing[:3]}, unexpected {unexpected[:3]})")


def run_fingerprint(run: str, recipe, train_params: TrainParams, data: list[Path]) -> str:  # type: ignore[no-untyped-def]
    """What a checkpoint must match to be resumed: the run, recipe, params, data and training code."""
    digest = hashlib.sha256()
    settings = train_params.model_dump(exclude={"max_steps", "save_steps", "logging_steps"})
    digest.update(json.dumps({"run": run, "params": settings}, sort_keys=True, default=str).encode())
    code = [Path(__file__)] + sorted((Path(__file__).resolve().parents[1] / "train").glob("*.py"))
    for path in (Path(recipe.source), *data, Path(recipe.model.path) / "model.safetensors", *code):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _dvclive(folder: Path):  # type: ignore[no-untyped-def]
    from dvclive import Live
    from transformers.integrations import DVCLiveCallback

    return DVCLiveCallback(live=Live(dir=str(folder), save_dvc_exp=False, dvcyaml=None, report=None))


if __name__ == "__main__":
    main()
