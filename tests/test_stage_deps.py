"""dvc.yaml lists, as deps of each stage, exactly the project code its script runs.

A stage whose code dep is missing serves stale results when that code changes (DVC does not
rerun it); a listed file the stage never imports reruns it for nothing. The imports are read
from the source (ast), transitively, within the project's packages.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "curation", "train", "eval", "narrate", "reporting", "sampleworld")
PACKAGE_DEPS = {"sampleworld"}  # listed as a folder: every module of it counts
# Files a module reads at run time, listed with it: the Jinja2 templates of the rendering module.
DATA_DEPS = {"reporting/render.py": "reporting/templates"}


def module_file(name: str) -> Path | None:
    path = REPO / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_files(source: Path) -> set[Path]:
    """Project files `source` imports, at module level or inside functions, transitively."""
    seen: set[Path] = set()
    todo = [source]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if name.split(".")[0] in PACKAGES and (found := module_file(name)) is not None:
                    todo.append(found)
    return seen


def listed_code(stage: dict) -> set[str]:
    return {d for d in stage.get("deps", []) if isinstance(d, str) and
            (d.endswith(".py") or d in PACKAGE_DEPS or d in DATA_DEPS.values())}


def used_code(script: Path) -> set[str]:
    used = set()
    for path in imported_files(script):
        relative = path.relative_to(REPO)
        if relative.parts[0] in PACKAGE_DEPS:
            used.add(relative.parts[0])
        elif relative.name != "__init__.py":
            used.add(str(relative))
            if str(relative) in DATA_DEPS:
                used.add(DATA_DEPS[str(relative)])
    return used


# A `foreach` stage's body is under `do:`.
STAGES = {name: stage.get("do", stage) for name, stage in
          yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"].items()}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_exactly_the_code_it_runs(name: str) -> None:
    stage = STAGES[name]
    script = REPO / stage["cmd"].split()[1]
    used, listed = used_code(script), listed_code(stage)
    assert not used - listed, f"dvc.yaml stage {name}: add these deps (the stage imports them): {sorted(used - listed)}"
    assert not listed - used, f"dvc.yaml stage {name}: remove these deps (the stage never imports them): {sorted(listed - used)}"


def test_committed_lock_matches_the_code_params_and_reports() -> None:
    """`dvc status` in the working tree reports no changed code, params, command or committed report.

    On a clean checkout this is the promise that `dvc repro` reruns nothing the lock already
    records (data outputs that are not pulled read "deleted" / "not in cache" and are fine).
    Fix a failure by rerunning the stage (`dvc repro`), or `dvc commit` when its outputs are unchanged.
    """
    status = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "DVC_NO_ANALYTICS": "1"}, check=True)
    stale = []
    for stage, changes in json.loads(status.stdout or "{}").items():
        for change in changes:
            if isinstance(change, str):  # "changed command", "always changed"
                stale.append(f"{stage}: {change}")
                continue
            if "changed params" in change:
                stale.append(f"{stage}: params {change['changed params']}")
            for kind in ("changed deps", "changed outs"):
                for path, state in change.get(kind, {}).items():
                    if state not in ("deleted", "not in cache"):
                        stale.append(f"{stage}: {path} {state}")
    assert not stale, "dvc.lock does not match the committed files; run `dvc repro`:\n" + "\n".join(stale)


def test_only_the_headline_files_are_dvc_metrics() -> None:
    """`dvc exp show` compares what is declared as metrics: the headline figures, not every detail."""
    declared = {next(iter(m)) if isinstance(m, dict) else m
                for stage in STAGES.values() for m in stage.get("metrics", [])}
    assert declared == {"reports/metrics/curation.json", "reports/eval/metrics.json"}
