"""Reading raw dumps and writing stage outputs, with errors a person can act on.

Two kinds of bad input, two behaviours:
- an unusable *file* (missing, empty, not UTF-8, not CSV, a required column absent)
  raises `InputFileError`, whose message names the file, the problem and the fix;
- a malformed *record* inside a usable file becomes a quarantine row with a reason,
  and reading goes on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from curation.schema import raw_hash


class InputFileError(Exception):
    """A raw input file cannot be used at all. The message says which file, what, and the fix."""

    def __init__(self, path: str | Path, problem: str, fix: str):
        self.path = str(path)
        super().__init__(f"{path}: {problem}\n  fix: {fix}")


@dataclass
class CsvBatch:
    """A block of CSV records, every column as strings exactly as written in the file."""

    table: pa.Table
    row_numbers: list[int]  # record numbers (header = 1) of the table's rows
    quarantined: list[dict[str, Any]] = field(default_factory=list)  # ragged records seen in this block


def read_csv_header(path: str | Path) -> list[str]:
    """Column names of a CSV file, or an InputFileError saying why there are none."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found", "check the path in params.yaml (ingest section)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as err:
        raise InputFileError(
            path,
            f"not UTF-8 text (byte {err.start} of the header)",
            f"re-encode it, e.g. `iconv -f latin1 -t utf-8 {path.name} > fixed.csv`",
        ) from None
    except csv.Error as err:
        raise InputFileError(path, f"not a CSV file ({err})", "export the dump as comma-separated UTF-8 CSV") from None
    if not header:
        raise InputFileError(path, "empty file, no CSV header", "re-export the dump; the first line must name the columns")
    names = [name.strip() for name in header]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputFileError(path, f"duplicate column names {duplicates}", "rename or drop the repeated columns")
    return names


def require_columns(path: str | Path, present: Sequence[str], required: Sequence[str], hint: str) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise InputFileError(
            path,
            f"missing required column(s) {missing}; the header has {list(present)}",
            hint,
        )


def iter_csv_batches(
    path: str | Path,
    *,
    source: str,
    required_columns: Sequence[str],
    hint: str,
    block_size: int = 64 << 20,
) -> Iterator[CsvBatch]:
    """Stream a CSV file as string tables, quarantining ragged records with their row number.

    Parsing is single-threaded on purpose: only then does Arrow report the record number
    of a ragged row, and it keeps the order of records, and so every row's number, exact.
    """
    path = Path(path)
    names = read_csv_header(path)
    require_columns(path, names, required_columns, hint)

    ragged: list[tuple[int, str, int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    reader_options = pacsv.ReadOptions(
        column_names=names, skip_rows=1, use_threads=False, block_size=block_size, encoding="utf8"
    )
    parse_options = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    try:
        reader = pacsv.open_csv(
            path, read_options=reader_options, parse_options=parse_options, convert_options=convert_options
        )
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            return
        raise _arrow_error(path, err) from None

    # Arrow parses ahead of the batch it hands out, so a ragged record may be reported
    # before the batch it sits in: number the rows against every ragged number seen so far.
    skipped: set[int] = set()
    next_record = 2  # the header is record 1
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            batch = None
        except pa.ArrowInvalid as err:
            raise _arrow_error(path, err) from None
        quarantined = [_ragged_record(path, source, *item) for item in ragged]
        skipped.update(item[0] for item in ragged)
        ragged.clear()
        if batch is None:
            if quarantined:
                yield CsvBatch(pa.table({n: pa.array([], pa.string()) for n in names}), [], quarantined)
            return
        numbers: list[int] = []
        while len(numbers) < batch.num_rows:
            if next_record not in skipped:
                numbers.append(next_record)
            next_record += 1
        yield CsvBatch(pa.Table.from_batches([batch]), numbers, quarantined)


def _ragged_record(path: Path, source: str, number: int, text: str, expected: int, actual: int) -> dict[str, Any]:
    return {
        "source": source,
        "raw_file": str(path),
        "raw_row": number,
        "raw_row_hash": raw_hash([text]),
        "reason": "ragged_row",
        "detail": f"row {number} has {actual} fields, the header has {expected}",
        "raw_record": text,
    }


def read_csv_records(
    path: str | Path, *, source: str, required_columns: Sequence[str], hint: str
) -> CsvBatch:
    """Read a whole (small) CSV file: every record as strings, ragged ones quarantined."""
    batches = list(iter_csv_batches(path, source=source, required_columns=required_columns, hint=hint))
    if not batches:
        names = read_csv_header(path)
        return CsvBatch(pa.table({n: pa.array([], pa.string()) for n in names}), [])
    return CsvBatch(
        pa.concat_tables([b.table for b in batches]),
        [n for b in batches for n in b.row_numbers],
        [q for b in batches for q in b.quarantined],
    )


def _arrow_error(path: Path, err: Exception) -> InputFileError:
    message = str(err)
    if "UTF8" in message or "utf8" in message.lower():
        return InputFileError(
            path, "not UTF-8 text", f"re-encode it, e.g. `iconv -f latin1 -t utf-8 {path.name} > fixed.csv`"
        )
    return InputFileError(path, f"cannot be parsed as CSV ({message})", "export the dump as comma-separated UTF-8 CSV")


def find_inputs(directory: str | Path, pattern: str, where: str) -> list[Path]:
    """The files under `directory` matching a glob `pattern`, sorted; `where` names the params keys.

    Raw dumps are given as a folder plus a pattern (not a file list) so that dvc.yaml can
    depend on the folder: adding a file to it reruns the ingest.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputFileError(directory, "folder not found", f"check {where}.dir in params.yaml")
    paths = sorted(p for p in directory.glob(pattern) if p.is_file())
    if not paths:
        raise InputFileError(
            directory, f"no file matches {pattern!r}", f"check {where}.pattern in params.yaml, or add the dump files"
        )
    return paths


def write_parquet(table: pa.Table, path: str | Path) -> None:
    """Write a table deterministically (same rows in, same bytes out)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON with sorted keys, so metrics files diff cleanly between runs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
