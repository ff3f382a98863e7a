"""Test lanes and the one project-copy fixture.

`pytest` runs the fast lane: unit tests and small stage runs. `pytest --full` (what `make test`
and CI run) adds the tests marked `slow`: `dvc repro` on project copies, training runs,
kill-and-resume, the two-process run and the Chromium check.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="run the full suite: the slow tests too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def project_files() -> list[str]:
    """The files a clone of the project has: tracked ones plus new files not yet committed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (REPO / name).is_file())


@pytest.fixture(scope="session")
def copy_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A function that copies the project's files (as a fresh clone has them) into a new folder and
    returns it; `git init` and `dvc` commands are the caller's."""
    files = project_files()

    def copy(name: str) -> Path:
        work = tmp_path_factory.mktemp(name) / "project"
        for relative in files:
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, work / relative)
        return work

    return copy
