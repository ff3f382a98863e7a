"""The mixture experiment the README advertises, exactly as typed, on a copy of the whole pipeline.

`dvc exp run -S data.mix.youdescribe=0.4` (no targets) must rerun mix and what follows it, and
nothing upstream of the mixture: not ingest, filter, score, embed or dedup, and not the tiny
model's tower, which depends on the sample world alone. To keep the full suite fast the copy
shrinks what makes each stage slow (tower steps, training steps, eval items), not which stages
exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .test_versioning import run

pytestmark = pytest.mark.slow  # the full suite only (tests/conftest.py)

EXPERIMENT = ["dvc", "exp", "run", "-S", "data.mix.youdescribe=0.4"]  # the README's command
RERUN = {"mix", "frames", "report", "tiny_model", "train@curriculum", "train@shuffle", "train@blind",
         "eval@curriculum", "eval@shuffle", "eval@blind", "eval_report"}


def ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


@pytest.fixture(scope="module")
def project(copy_project: Callable[[str], Path]) -> Path:
    work = copy_project("experiment")
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["tiny_model"]["tower_pretraining"].update(scenes=40, eval_scenes=10, steps=20)
    params["train"].update(max_steps=2, save_steps=2)
    params["eval"]["limit"] = 4
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q", "-b", "main"], work)
    run(["git", "add", "-A"], work)
    run(["git", "commit", "-q", "-m", "project"], work)  # DVCLive, in the train stage, needs a commit
    run(["dvc", "repro"], work)
    run(["git", "add", "-A"], work)
    run(["git", "commit", "-q", "--allow-empty", "-m", "pipeline outputs"], work)
    return work


def test_mixture_experiment_reruns_mix_and_what_follows_only(project: Path) -> None:
    output = run(EXPERIMENT, project)
    assert ran(output) == RERUN, output
    # The experiment's metrics are whole: the new mixture's, and the runs trained and evaluated on it.
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project))
    assert "youdescribe" in json.dumps(shown)


def test_an_experiment_can_train_the_curriculum_run_alone(project: Path) -> None:
    # Another share than the first experiment's (whose results the workspace now holds), so mix reruns.
    output = run(["dvc", "exp", "run", "-S", "data.mix.youdescribe=0.3", "-S", "train.runs=[curriculum]"], project)
    assert ran(output) == {"mix", "frames", "report", "tiny_model", "train@curriculum", "eval@curriculum", "eval_report"}
    headline = json.loads((project / "reports/eval/metrics.json").read_text())
    assert set(headline["cider_d"]) == {"curriculum"} and "over_blind" not in headline
