"""Dense image descriptions (JSON Lines, ImageInWords IIW-400 format) -> examples.

One line, one image: `{"image/key": ..., "IIW": "<description>", ...}`. The text and key
fields are named in params (`ingest.image_descriptions.text_field` / `key_field`). Images have
no timeline, so clip times are null and there are no segments. `read(params)` is the source's
reader for the ingest stage, one result per file.

Lines are numbered from 1 (raw_row); blank lines are not records and are skipped.
A line that is not a JSON object, or lacks either field, is quarantined (bad_json); an empty
description or key is missing_field; a key seen on an earlier line (of any file) is
duplicate_key. A file that is not UTF-8 cannot be used at all (InputFileError).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from config.params import ImageDescriptionsParams
from curation.bookkeeping import FileResult
from curation.io import InputFileError, find_inputs
from curation.schema import SOURCE_IMAGE_DESCRIPTIONS, examples_table, quarantine_table, raw_hash


def read(params: ImageDescriptionsParams) -> Iterator[FileResult]:
    """The description files (params dir + pattern, in name order), one result per file.

    An image described in two files is kept once, where first read.
    """
    seen_keys: set[str] = set()
    for path in find_inputs(params.dir, params.pattern, "ingest.image_descriptions"):
        yield read_file(path, params, seen_keys)


def read_file(path: str | Path, params: ImageDescriptionsParams, seen_keys: set[str]) -> FileResult:
    """Read a JSON Lines file of image descriptions; `seen_keys` (updated) carries keys across files."""
    path = Path(path)
    key_field, text_field = params.key_field, params.text_field
    try:
        # Split on "\n" only: str.splitlines() would also split on U+2028 inside JSON strings.
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except FileNotFoundError:
        raise InputFileError(
            path, "file not found", "check ingest.image_descriptions.dir and pattern in params.yaml"
        ) from None
    except UnicodeDecodeError as err:
        raise InputFileError(
            path, f"not UTF-8 text (byte {err.start})", f"re-encode it, e.g. `iconv -f latin1 -t utf-8 {path.name}`"
        ) from None

    raw_records = 0
    examples: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        raw_records += 1
        try:
            key, text = _key_and_text(line, key_field=key_field, text_field=text_field)
            if key in seen_keys:
                raise _BadLine("duplicate_key", f"{key_field} {key!r} was already read")
        except _BadLine as bad:
            quarantined.append(
                {
                    "source": SOURCE_IMAGE_DESCRIPTIONS,
                    "raw_file": str(path),
                    "raw_row": number,
                    "raw_row_hash": raw_hash([line]),
                    "reason": bad.reason,
                    "detail": f"line {number}: {bad.detail}",
                    "raw_record": line,
                }
            )
            continue
        seen_keys.add(key)
        examples.append(
            {
                "example_id": f"{SOURCE_IMAGE_DESCRIPTIONS}:{key}",
                "source": SOURCE_IMAGE_DESCRIPTIONS,
                "raw_file": str(path),
                "raw_row": number,
                "raw_row_hash": raw_hash([line]),
                "media_kind": "image",
                "video_id": key,
                "url": None,
                "clip_key": None,
                "clip_start_s": None,
                "clip_end_s": None,
                "text": text,
                "text_field": text_field,
                "segments": [],
                "license": params.license,
            }
        )
    return FileResult(
        raw_file=str(path),
        raw_records=raw_records,
        records_used=len(examples),  # one line, one example
        examples=examples_table(examples),
        quarantined=quarantine_table(quarantined),
    )


class _BadLine(Exception):
    """A line that cannot be used; carries its quarantine reason code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _key_and_text(line: str, *, key_field: str, text_field: str) -> tuple[str, str]:
    """The (key, description) of one JSON Lines record, or _BadLine saying why not."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise _BadLine("bad_json", f"not JSON ({err.msg})") from None
    if not isinstance(record, dict):
        raise _BadLine("bad_json", "not a JSON object")
    missing = [name for name in (key_field, text_field) if name not in record]
    if missing:
        raise _BadLine("bad_json", f"lacks key(s) {missing}")
    key, text = record[key_field], record[text_field]
    # Keys are ids: accept strings and integers, nothing else.
    if isinstance(key, bool) or not isinstance(key, (str, int)) or not isinstance(text, str):
        raise _BadLine("bad_json", f"{key_field} must be a string or integer and {text_field} a string")
    key, text = str(key).strip(), text.strip()
    if not key or not text:
        raise _BadLine("missing_field", f"{key_field if not key else text_field} is empty")
    return key, text
