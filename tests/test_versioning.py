"""Dataset versioning with DVC: push / clone / pull round trip, clean rebuilds, experiments.

Runs the real pipeline in a git repository made from a copy of the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # the full suite only (tests/conftest.py)

REPO = Path(__file__).resolve().parents[1]
# The data pipeline (the train stages have their own test: tests/test_train_stage.py).
TARGETS = ["report", "frames"]
STAGES = ["ingest@lvd2m", "ingest@youdescribe", "ingest@ad_webvtt", "ingest@image_descriptions", "filter", "score",
          "embed", "dedup", "mix", "frames", "report"]


def run(cmd: list[str], cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "TQDM_DISABLE": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def stage_outs(lock_path: Path) -> dict[str, object]:
    lock = yaml.safe_load(lock_path.read_text())
    return {name: stage.get("outs") for name, stage in lock["stages"].items()}


@pytest.fixture(scope="module")
def project(copy_project: Callable[[str], Path]) -> Path:
    work = copy_project("versioned")
    run(["git", "init", "-q", "-b", "main"], work)
    run(["git", "add", "-A"], work)
    run(["git", "commit", "-q", "-m", "project"], work)
    run(["dvc", "repro", *TARGETS], work)
    run(["git", "add", "-A"], work)
    # --allow-empty: a clone that has the committed dvc.lock and reports may get them back unchanged.
    run(["git", "commit", "-q", "--allow-empty", "-m", "pipeline outputs"], work)
    return work


def test_push_clone_pull_gives_identical_mixtures_without_rerunning(project: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    run(["dvc", "remote", "add", "-d", "local", str(remote)], project)
    run(["dvc", "push"], project)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], tmp_path)
    run(["dvc", "remote", "add", "-d", "--local", "local", str(remote)], clone)
    run(["dvc", "pull", "--with-deps", *TARGETS], clone)
    assert "Data and pipelines are up to date" in run(["dvc", "status", *TARGETS], clone)
    assert digest(clone / "data/mixtures") == digest(project / "data/mixtures")
    assert (clone / "data/mixtures/train.parquet").stat().st_size > 0


def test_two_clean_runs_give_identical_lock_hashes(project: Path) -> None:
    before = stage_outs(project / "dvc.lock")
    shutil.rmtree(project / "data/interim")
    shutil.rmtree(project / "data/cache", ignore_errors=True)
    shutil.rmtree(project / "data/mixtures")
    run(["dvc", "repro", *TARGETS], project)
    assert stage_outs(project / "dvc.lock") == before


def test_mixture_experiment_reruns_only_mix_and_what_follows(project: Path) -> None:
    output = run(["dvc", "exp", "run", "-S", "data.mix.youdescribe=0.4", *TARGETS], project)
    ran = {stage for stage in STAGES if f"Running stage '{stage}'" in output}
    assert ran == {"mix", "frames", "report"}, output
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project))
    assert "data.mix.youdescribe" in json.dumps(shown) or "youdescribe" in json.dumps(shown)
    manifest = json.loads((project / "data/mixtures/manifest.json").read_text())
    weights = yaml.safe_load((REPO / "params.yaml").read_text())["data"]["mix"]
    others = sum(float(w) for source, w in weights.items() if source not in ("youdescribe", "size", "seed"))
    assert manifest["weights_asked"]["youdescribe"] == pytest.approx(0.4 / (0.4 + others))


def test_threshold_experiment_never_reembeds(project: Path) -> None:
    embeddings = digest(project / "data/interim/embeddings")
    output = run(["dvc", "exp", "run", "-S", "dedup.threshold=0.9", *TARGETS], project)
    ran = {stage for stage in STAGES if f"Running stage '{stage}'" in output}
    assert ran == {"dedup", "mix", "frames", "report"}, output
    assert digest(project / "data/interim/embeddings") == embeddings
    assert json.loads((project / "reports/metrics/dedup.json").read_text())["threshold"] == 0.9
