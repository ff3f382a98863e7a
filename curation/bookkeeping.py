"""What a source's reader hands to the ingest stage, and the books the stage keeps.

Every reader yields `FileResult`s: the examples and quarantine rows made from one raw file
(or, for a reader that streams, from one block of it), with how many raw records it read and
used. The stage sums them per file, so a person can check that nothing was lost:
for each raw file, `raw_records == records_used + quarantined`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA


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


@dataclass(frozen=True)
class FileResult:
    """What a reader made from one raw file, or from one block of it."""

    raw_file: str  # the path as found from params (dir + pattern)
    raw_records: int  # raw records read
    records_used: int  # raw records that ended up inside an example
    examples: pa.Table  # EXAMPLE_SCHEMA
    quarantined: pa.Table  # QUARANTINE_SCHEMA

    def counts(self) -> FileCounts:
        """This result's counts; fails loudly if its records do not reconcile."""
        reasons = Counter(self.quarantined.column("reason").to_pylist())
        counts = FileCounts(
            self.raw_records, self.records_used, self.quarantined.num_rows, self.examples.num_rows, dict(reasons)
        )
        if counts.raw_records != counts.records_used + counts.quarantined:
            raise ValueError(f"internal error: {self.raw_file}: raw records lost or counted twice, {counts.as_dict()}")
        if self.examples.schema != EXAMPLE_SCHEMA or self.quarantined.schema != QUARANTINE_SCHEMA:
            raise ValueError(f"internal error: {self.raw_file}: a reader's tables do not have the ingest schemas")
        return counts


class IngestCounts:
    """Per-file counts of one source, summed over the results of each file."""

    def __init__(self) -> None:
        self.files: dict[str, FileCounts] = {}

    def add(self, result: FileResult) -> None:
        self.files.setdefault(result.raw_file, FileCounts()).add(result.counts())

    def as_dict(self) -> dict[str, Any]:
        """`{"files": {raw_file: counts}, "total": counts}`, the content of <out>/counts.json.

        counts = {raw_records, records_used, quarantined, examples, quarantine_reasons: {reason: n}}.
        """
        total = FileCounts()
        for counts in self.files.values():
            total.add(counts)
        return {"files": {name: c.as_dict() for name, c in self.files.items()}, "total": total.as_dict()}


def examples_by_id(tables: Sequence[pa.Table]) -> pa.Table:
    """The examples of `tables` in one table sorted by example_id; example ids must be unique."""
    table = pa.concat_tables([EXAMPLE_SCHEMA.empty_table(), *tables]).sort_by("example_id")
    ids = table.column("example_id").to_pylist()
    repeated = sorted({a for a, b in zip(ids, ids[1:]) if a == b})
    if repeated:
        raise ValueError(f"internal error: repeated example_id(s) {repeated[:5]}")
    # One chunk, so the Parquet bytes do not depend on how the readers split their output.
    return table.combine_chunks()


def quarantine_by_record(tables: Sequence[pa.Table]) -> pa.Table:
    """The quarantine rows of `tables` sorted by file, record number (unnumbered last), reason and hash."""
    table = pa.concat_tables([QUARANTINE_SCHEMA.empty_table(), *tables])
    rows = table.column("raw_row")
    keyed = table.append_column("_unnumbered", pc.is_null(rows)).append_column("_row", pc.fill_null(rows, 0))
    keys = ["raw_file", "_unnumbered", "_row", "reason", "raw_row_hash"]
    order = pc.sort_indices(keyed, sort_keys=[(key, "ascending") for key in keys])  # a stable sort
    return table.take(order).combine_chunks()
