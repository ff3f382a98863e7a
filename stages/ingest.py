"""Ingest one source's raw dump into the normalized schema.

    python stages/ingest.py --source lvd2m --out data/interim/ingest/lvd2m

Reads params `ingest.<source>` and writes, under --out:
- examples.parquet   EXAMPLE_SCHEMA (curation/schema.py);
- quarantine.parquet QUARANTINE_SCHEMA: malformed raw records, each with its reason;
- counts.json        per raw file and total: raw_records == records_used + quarantined,
                     examples, quarantine_reasons (the filter stage folds the totals into the funnel).

Each source has one reader, `read(params section) -> Iterator[FileResult]`; this loop is the
same for all. Adding a source: write its reader and its params section, add a case below.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from config.params import IngestParams, load_params
from curation import image_descriptions, lvd2m, webvtt, youdescribe
from curation.bookkeeping import FileResult, IngestCounts, examples_by_id, quarantine_by_record
from curation.io import write_json, write_parquet
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA, SOURCES

# How a source's rows are ordered in its outputs:
# - "as_read": in the order the reader yields them, written as they come (memory stays flat);
# - "by_id":   examples sorted by example_id, quarantine by file, record number, reason, hash.
Order = Literal["as_read", "by_id"]


def reader(source: str, params: IngestParams) -> tuple[Iterator[FileResult], Order]:
    """The source's results, and the order its outputs are written in."""
    match source:
        case "lvd2m":
            return lvd2m.read(params.lvd2m), "as_read"  # a 2M-row release is never held in memory
        case "youdescribe":
            return youdescribe.read(params.youdescribe), "by_id"
        case "ad_webvtt":
            return webvtt.read(params.ad_webvtt), "by_id"
        case "image_descriptions":
            return image_descriptions.read(params.image_descriptions), "by_id"
    raise ValueError(f"unknown source {source!r}; use one of {list(SOURCES)}")


def ingest(results: Iterable[FileResult], order: Order, out: Path, desc: str) -> IngestCounts:
    """Write the results' examples and quarantine rows under `out`; return the per-file counts."""
    out.mkdir(parents=True, exist_ok=True)
    counts = IngestCounts()
    held: list[pa.Table] = []  # examples waiting to be sorted ("by_id")
    quarantined: list[pa.Table] = []  # small: kept until the end either way
    with (
        pq.ParquetWriter(out / "examples.parquet", EXAMPLE_SCHEMA, compression="zstd") as writer,
        tqdm(desc=f"ingest {desc}", unit=" records") as progress,
    ):
        for result in results:
            counts.add(result)  # checks that the result's records reconcile
            if order == "as_read":
                writer.write_table(result.examples)
            else:
                held.append(result.examples)
            quarantined.append(result.quarantined)
            progress.update(result.raw_records)
        if order == "by_id":
            writer.write_table(examples_by_id(held))
    if order == "as_read":
        quarantine = pa.concat_tables([QUARANTINE_SCHEMA.empty_table(), *quarantined])
    else:
        quarantine = quarantine_by_record(quarantined)
    write_parquet(quarantine, out / "quarantine.parquet")
    write_json(counts.as_dict(), out / "counts.json")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, choices=SOURCES, help="the params section ingest.<source> to read")
    parser.add_argument("--out", required=True, type=Path, help="folder for examples/quarantine.parquet, counts.json")
    args = parser.parse_args()
    results, order = reader(args.source, load_params().ingest)
    ingest(results, order, args.out, args.source)


if __name__ == "__main__":
    main()
