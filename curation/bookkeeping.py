"""What an ingest stage hands back: examples, quarantine rows and per-file counts.

Every ingest keeps the same books, so a person can check that nothing was lost:
for each raw file, `raw_records == records_used + quarantined`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from curation.schema import examples_table, quarantine_table


@dataclass
class FileCounts:
    """Counts for one raw file (or the total over files)."""

    raw_records: int = 0  # records read (CSV rows, JSON clips, cues, JSON Lines lines)
    records_used: int = 0  # records that ended up inside an example
    quarantined: int = 0  # records written to quarantine
    examples: int = 0  # examples made from the file
    quarantine_reasons: dict[str, int] = field(default_factory=dict)  # quarantined records by reason code

    def add(self, other: FileCounts) -> None:
        self.raw_records += other.raw_records
        self.records_used += other.records_used
        self.quarantined += other.quarantined
        self.examples += other.examples
        for reason, n in other.quarantine_reasons.items():
            self.quarantine_reasons[reason] = self.quarantine_reasons.get(reason, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "raw_records": self.raw_records,
            "records_used": self.records_used,
            "quarantined": self.quarantined,
            "examples": self.examples,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
        }


@dataclass
class IngestResult:
    """Examples and quarantine rows of one source, with per-file counts."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, FileCounts] = field(default_factory=dict)

    def add_file(
        self,
        raw_file: str,
        *,
        raw_records: int,
        records_used: int,
        examples: Sequence[Mapping[str, Any]],
        quarantined: Sequence[Mapping[str, Any]],
    ) -> FileCounts:
        """Add one file's output; fail loudly if its records do not reconcile."""
        if raw_file in self.counts:
            raise ValueError(f"{raw_file} is listed twice in the ingest inputs")
        reasons: dict[str, int] = {}
        for q in quarantined:
            reasons[q["reason"]] = reasons.get(q["reason"], 0) + 1
        counts = FileCounts(raw_records, records_used, len(quarantined), len(examples), reasons)
        if counts.raw_records != counts.records_used + counts.quarantined:
            raise ValueError(f"internal error: {raw_file}: raw records lost or counted twice, {counts.as_dict()}")
        self.counts[raw_file] = counts
        self.examples.extend(dict(r) for r in examples)
        self.quarantined.extend(dict(q) for q in quarantined)
        return counts

    def metrics(self) -> dict[str, Any]:
        """`{"files": {raw_file: counts}, "total": counts}` for data/interim/ingest/<source>/counts.json.

        counts = {raw_records, records_used, quarantined, examples, quarantine_reasons: {reason: n}},
        the same shape as the LVD-2M ingest's metrics.
        """
        total = FileCounts()
        for c in self.counts.values():
            total.add(c)
        return {"files": {name: c.as_dict() for name, c in self.counts.items()}, "total": total.as_dict()}

    def examples_table(self) -> pa.Table:
        """EXAMPLE_SCHEMA table sorted by example_id; example ids must be unique."""
        ids = [r["example_id"] for r in self.examples]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise ValueError(f"internal error: repeated example_id(s) {repeated}")
        return examples_table(sorted(self.examples, key=lambda r: r["example_id"]))

    def quarantine_table(self) -> pa.Table:
        """QUARANTINE_SCHEMA table sorted by file, record number (unnumbered last) and hash."""

        def key(q: Mapping[str, Any]) -> tuple[str, bool, int, str, str]:
            row = q.get("raw_row")
            return (q["raw_file"], row is None, row or 0, q["reason"], q["raw_row_hash"])

        return quarantine_table(sorted(self.quarantined, key=key))
