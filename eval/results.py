"""What evaluating one benchmark gives: scores, settings, problems and per-example records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BenchmarkResult:
    name: str
    format: str
    status: str  # "evaluated" or "skipped"
    reason: str = ""  # why it was skipped
    metrics: dict[str, Any] = field(default_factory=dict)  # the scorer's scale (CIDEr 1.0 = papers' 100)
    settings: dict[str, Any] = field(default_factory=dict)  # generation settings, recorded with the numbers
    problems: list[str] = field(default_factory=list)  # items left out, metrics unavailable
    records: list[dict[str, Any]] = field(default_factory=list)  # one per example, for error analysis
    results: list[dict[str, Any]] = field(default_factory=list)  # COCO results format (caption benchmarks)
