"""dvc.yaml lists, as deps of each stage, exactly the project code its script runs.

A stage whose code dep is missing serves stale results when that code changes (DVC does not
rerun it); a listed file the stage never imports reruns it for nothing. The imports are read
from the source (ast), transitively, within the project's packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("curation", "train", "eval", "narrate", "sampleworld")
PACKAGE_DEPS = {"sampleworld"}  # listed as a folder: every module of it counts


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
    return {d for d in stage.get("deps", []) if isinstance(d, str) and (d.endswith(".py") or d in PACKAGE_DEPS)}


def used_code(script: Path) -> set[str]:
    used = set()
    for path in imported_files(script):
        relative = path.relative_to(REPO)
        if relative.parts[0] in PACKAGE_DEPS:
            used.add(relative.parts[0])
        elif relative.name != "__init__.py":
            used.add(str(relative))
    return used


STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_exactly_the_code_it_runs(name: str) -> None:
    stage = STAGES[name]
    script = REPO / stage["cmd"].split()[1]
    used, listed = used_code(script), listed_code(stage)
    assert not used - listed, f"dvc.yaml stage {name}: add these deps (the stage imports them): {sorted(used - listed)}"
    assert not listed - used, f"dvc.yaml stage {name}: remove these deps (the stage never imports them): {sorted(listed - used)}"
