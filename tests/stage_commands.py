"""Run a stage's script the way dvc.yaml runs it, in another folder: tests take the command from
dvc.yaml (the one place that names each stage's files), not a copy of it."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def stage_argv(name: str, params_file: Path | None = None, **item: str) -> list[str]:
    """The argv of dvc.yaml stage `name` (`item`: the matrix / foreach values, e.g. run="blind",
    key="lvd2m"), params interpolated from `params_file`, the script as an absolute path."""
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"][name]
    command = " ".join(stage.get("do", stage)["cmd"].split())
    params = yaml.safe_load((params_file or REPO / "params.yaml").read_text(encoding="utf-8"))

    def value(match: re.Match[str]) -> str:
        path = match.group(1)
        if path == "key":
            return item["key"]
        if path.startswith("item."):
            return item[path.removeprefix("item.")]
        node = params
        for part in path.split("."):
            node = node[part]
        return str(node)

    argv = shlex.split(re.sub(r"\$\{([^}]+)\}", value, command))
    assert argv[0] == "python" and argv[1].startswith("stages/"), f"dvc.yaml stage {name}: unexpected command {command}"
    return [sys.executable, str(REPO / argv[1]), *argv[2:]]
