"""Image descriptions (JSON Lines, ImageInWords format) -> examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.params import ImageDescriptionsParams
from curation.bookkeeping import FileResult
from curation.image_descriptions import read, read_file
from curation.io import InputFileError
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA, raw_hash

IIW = Path(__file__).parent / "fixtures" / "imageinwords" / "IIW-400_data.jsonl"
FIELDS = {"text_field": "IIW", "key_field": "image/key", "license": "iiw-cc-by-4.0"}


def read_one(path: Path, seen_keys: set[str] | None = None) -> FileResult:
    params = ImageDescriptionsParams(dir=str(path.parent), pattern=path.name, **FIELDS)
    return read_file(path, params, set() if seen_keys is None else seen_keys)


def write_jsonl(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "descriptions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def line(key: object = "img1", text: object = "A red kite flies over a beach.", **extra: object) -> str:
    return json.dumps({"image/key": key, "IIW": text, **extra})


def test_real_iiw_file_ingests() -> None:
    described = read_one(IIW)
    assert (described.raw_records, described.examples.num_rows, described.quarantined.num_rows) == (400, 400, 0)
    assert described.examples.schema == EXAMPLE_SCHEMA and described.quarantined.schema == QUARANTINE_SCHEMA
    first_line = IIW.read_text(encoding="utf-8").split("\n")[0]
    examples = described.examples.to_pylist()
    first = examples[0]
    assert first["example_id"] == f"image_descriptions:{json.loads(first_line)['image/key']}"
    assert first["video_id"] == "aar_test_04600"
    assert first["text"] == json.loads(first_line)["IIW"].strip()
    assert (first["raw_row"], first["raw_row_hash"]) == (1, raw_hash([first_line]))
    assert (first["media_kind"], first["text_field"], first["license"]) == ("image", "IIW", "iiw-cc-by-4.0")
    assert (first["clip_start_s"], first["clip_end_s"], first["url"], first["segments"]) == (None, None, None, [])
    assert [e["raw_row"] for e in examples] == list(range(1, 401))
    assert described.counts().records_used == 400


def test_bad_lines_are_quarantined_and_counts_reconcile(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path,
        [
            line("img1"),
            "{not json",
            json.dumps(["img2", "text"]),
            json.dumps({"image/key": "img3"}),  # no IIW
            "",  # blank lines are not records
            line("img4", "   "),
            line("", "A cat."),
            line("img1", "The same image again."),
            line(7, "Integer keys are ids too."),
            line("img8", 42),
        ],
    )
    described = read_one(path)
    quarantined = described.quarantined.to_pylist()
    assert [(q["raw_row"], q["reason"]) for q in quarantined] == [
        (2, "bad_json"),
        (3, "bad_json"),
        (4, "bad_json"),
        (6, "missing_field"),
        (7, "missing_field"),
        (8, "duplicate_key"),
        (10, "bad_json"),
    ]
    assert [(e["raw_row"], e["video_id"]) for e in described.examples.to_pylist()] == [(1, "img1"), (9, "7")]
    assert described.raw_records == 9 == described.examples.num_rows + described.quarantined.num_rows
    assert described.counts().records_used == 2
    assert quarantined[0]["raw_record"] == "{not json"


def test_duplicate_keys_across_files(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_jsonl(tmp_path / folder, [line("img1")])
    params = ImageDescriptionsParams(dir=str(tmp_path), pattern="*/descriptions.jsonl", **FIELDS)
    first, second = read(params)
    assert (Path(first.raw_file).parent.name, first.examples.num_rows) == ("a", 1)
    assert second.quarantined.column("reason").to_pylist() == ["duplicate_key"]


def test_non_utf8_file_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "descriptions.jsonl"
    path.write_bytes(b'{"image/key": "img1", "IIW": "A caf\xe9 terrace at night."}\n')
    with pytest.raises(InputFileError, match="not UTF-8") as err:
        read_one(path)
    assert str(path) in str(err.value)


def test_no_matching_file_names_the_params_key(tmp_path: Path) -> None:
    params = ImageDescriptionsParams(dir=str(tmp_path), pattern="*.jsonl", **FIELDS)
    with pytest.raises(InputFileError, match=r"no file matches.*\n.*ingest\.image_descriptions\.pattern"):
        list(read(params))
