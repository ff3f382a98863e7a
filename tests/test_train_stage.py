"""The train stage end to end on a few sample examples: logs, checks, saves, resumes, and runs LoRA."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .stage_commands import stage_argv
from .train_fixtures import make_training_inputs, quick_tower_pretraining

pytestmark = pytest.mark.slow  # the full suite only (tests/conftest.py)

REPO = Path(__file__).resolve().parents[1]


def run_stage(project: Path, name: str, **item: str) -> subprocess.CompletedProcess[str]:
    """Run dvc.yaml's stage `name` (for `item`, e.g. run="shuffle") in `project`."""
    result = subprocess.run(
        stage_argv(name, project / "params.yaml", **item), cwd=project, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def set_train_params(project: Path, **values: object) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"].update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("train")
    shutil.copy2(REPO / "params.yaml", work / "params.yaml")
    make_training_inputs(work, count=12)
    quick_tower_pretraining(work)
    run_stage(work, "tiny_tower")
    run_stage(work, "tiny_model")
    set_train_params(work, max_steps=4, save_steps=2, logging_steps=1)
    return work


def test_training_logs_checks_and_saves(project: Path) -> None:
    run_stage(project, "train", run="curriculum")
    report = project / "reports/train/curriculum"
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["trained_examples"] + metrics["over_length"] == metrics["examples"] == 12
    over = json.loads((report / "over_length.json").read_text())  # left out, never truncated
    assert len(over) == metrics["over_length"] and all(o["tokens"] > o["max_length"] for o in over)
    assert metrics["final_loss"] < metrics["first_loss"]
    flow = json.loads((report / "gradient_flow/sft.json").read_text())
    assert set(flow) == {"projector", "language"}  # the tiny recipe keeps its (pretrained) vision tower frozen
    assert all(t["with_gradient"] == t["trainable"] > 0 for t in flow.values())
    loss = (report / "dvclive/sft/plots/metrics/loss.tsv").read_text().splitlines()
    assert loss[0].split("\t")[:2] == ["step", "loss"] and len(loss) == 5  # header + 4 logged steps
    assert (report / "dvclive/sft/plots/metrics/tokens_per_second.tsv").exists()
    final = project / "models/narrator/curriculum/final"
    assert (final / "model.safetensors").exists() and (final / "processor_config.json").exists()
    from narrate.model import load_narrator

    model, processor = load_narrator(str(final))  # what eval and inference will open
    assert processor.tokenizer.image_token == "<image>"
    # The frame policy travels with the model: what the frames stage used, read back from the processor config.
    from narrate.frames import read_frame_policy, read_policy_file

    sampled_with = read_policy_file(project / "data/frames").to_dict()
    assert read_frame_policy(final).to_dict() == sampled_with
    # The processor takes one 2x2 grid of frames (layout grid) at the pixel budget per frame.
    assert sampled_with["layout"] == "grid" and sampled_with["frames"] == 4
    assert processor.image_processor.size["height"] * processor.image_processor.size["width"] == 4 * sampled_with["max_pixels"]


def test_frames_sampled_with_another_policy_are_refused(project: Path, tmp_path: Path) -> None:
    stale = tmp_path / "stale"
    shutil.copytree(project, stale, ignore=shutil.ignore_patterns("models"))
    shutil.copytree(project / "models/tiny-llava", stale / "models/tiny-llava")
    written = stale / "data/frames/policy.json"
    policy = json.loads(written.read_text())
    written.write_text(json.dumps({**policy, "max_pixels": 96 * 96}))
    result = subprocess.run(stage_argv("train", stale / "params.yaml", run="shuffle"), cwd=stale, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode != 0
    assert "data/frames was sampled with the frame policy" in result.stderr and "dvc repro frames" in result.stderr
    assert not (stale / "models/narrator/shuffle").exists()  # refused before any training


def test_competence_pacing_without_its_schedule_is_refused(tmp_path: Path) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"]["pacing"] = "competence"
    del params["train"]["competence"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run(stage_argv("train", tmp_path / "params.yaml", run="curriculum"), cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode != 0
    assert "params.yaml: missing key `train.competence`. Fix: add it" in result.stderr
    assert not (tmp_path / "models").exists()


def final_weights(project: Path, run: str) -> dict:  # type: ignore[type-arg]
    from safetensors.torch import load_file

    return load_file(project / "models/narrator" / run / "final/model.safetensors")


def complete_checkpoint(checkpoints: Path) -> bool:
    """A checkpoint whose trainer_state.json (written last) is whole: killing after it leaves one to resume."""
    for state in checkpoints.glob("checkpoint-*/trainer_state.json"):
        try:
            json.loads(state.read_text())
            return True
        except ValueError:
            pass
    return False


def test_a_killed_run_resumes_from_its_last_checkpoint(project: Path) -> None:
    set_train_params(project, max_steps=8, save_steps=2)
    run_stage(project, "train", run="shuffle")
    uninterrupted = final_weights(project, "shuffle")
    shutil.rmtree(project / "models/narrator/shuffle")

    # Start the same run and kill it (SIGKILL) as soon as its first checkpoint is on disk.
    checkpoints = project / "models/narrator/shuffle/checkpoints/sft"
    process = subprocess.Popen(stage_argv("train", project / "params.yaml", run="shuffle"), cwd=project,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not complete_checkpoint(checkpoints) and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (project / "models/narrator/shuffle/final").exists()

    resumed = run_stage(project, "train", run="shuffle")
    assert "resuming sft from" in resumed.stderr
    state = json.loads((checkpoints / "checkpoint-8/trainer_state.json").read_text())
    assert state["global_step"] == 8
    # The weights, not just the step counter, carry on: the same result as never stopping.
    weights = final_weights(project, "shuffle")
    diffs = {k: float((weights[k] - uninterrupted[k]).abs().max()) for k in weights}
    assert weights.keys() == uninterrupted.keys() and max(diffs.values()) < 1e-5, max(diffs.items(), key=lambda kv: kv[1])
    # Another configuration never resumes this run's checkpoints.
    set_train_params(project, pacing="baby_steps", max_steps=2)
    fresh = run_stage(project, "train", run="shuffle")
    assert "starting afresh" in fresh.stderr and "resuming" not in fresh.stderr
    set_train_params(project, pacing="follow", max_steps=4)


def test_lora_recipe_trains_adapters_with_gradients(project: Path) -> None:
    recipe = yaml.safe_load((REPO / "train/recipes/tiny.yaml").read_text())
    recipe["train"].update(language="lora", vision="frozen", projector="full")
    path = project / "tiny-lora.yaml"
    path.write_text(yaml.safe_dump(recipe))
    set_train_params(project, recipe=str(path), max_steps=2)
    run_stage(project, "train", run="blind")
    flow = json.loads((project / "reports/train/blind/gradient_flow/sft.json").read_text())
    assert set(flow) == {"projector", "language"}
    assert flow["language"]["with_gradient"] == flow["language"]["trainable"] == 2 * 4 * 4  # A and B, 4 targets, 4 layers
    assert (project / "models/narrator/blind/final/adapter_model.safetensors").exists()


def test_two_cpu_processes_under_accelerate_launch(project: Path) -> None:
    set_train_params(project, recipe="tiny", max_steps=2, save_steps=2)
    shutil.rmtree(project / "models/narrator/curriculum", ignore_errors=True)  # a fresh run, not a resume
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(REPO / "train/accelerate/cpu_2proc.yaml"),
         *stage_argv("train", project / "params.yaml", run="curriculum")[1:]],
        cwd=project, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    state = json.loads((project / "models/narrator/curriculum/checkpoints/sft/checkpoint-2/trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert (project / "models/narrator/curriculum/final/model.safetensors").exists()
    metrics = json.loads((project / "reports/train/curriculum/metrics.json").read_text())
    assert metrics["steps"] == 2 and metrics["processes"] == 2
    set_train_params(project, max_steps=4)


def test_checkpoints_cut_off_mid_save_are_dropped(tmp_path: Path) -> None:
    from train.sft import drop_incomplete_checkpoints

    for step, state in ((2, '{"global_step": 2}'), (4, ""), (6, None)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if state is not None:
            (folder / "trainer_state.json").write_text(state)
    assert drop_incomplete_checkpoints(tmp_path) == [tmp_path / "checkpoint-4", tmp_path / "checkpoint-6"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]
