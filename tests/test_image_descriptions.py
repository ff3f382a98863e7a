"""Image descriptions (JSON Lines, ImageInWords format) -> examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curation.bookkeeping import IngestResult
from curation.image_descriptions import read_image_descriptions
from curation.io import InputFileError
from curation.schema import EXAMPLE_SCHEMA, raw_hash

IIW = Path(__file__).parent / "fixtures" / "imageinwords" / "IIW-400_data.jsonl"
FIELDS = {"text_field": "IIW", "key_field": "image/key", "license": "iiw-cc-by-4.0"}


def write_jsonl(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "descriptions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def line(key: object = "img1", text: object = "A red kite flies over a beach.", **extra: object) -> str:
    return json.dumps({"image/key": key, "IIW": text, **extra})


def test_real_iiw_file_ingests() -> None:
    described = read_image_descriptions(IIW, **FIELDS)
    assert (described.raw_records, len(described.examples), described.quarantined) == (400, 400, [])
    first_line = IIW.read_text(encoding="utf-8").split("\n")[0]
    first = described.examples[0]
    assert first["example_id"] == f"image_descriptions:{json.loads(first_line)['image/key']}"
    assert first["video_id"] == "aar_test_04600"
    assert first["text"] == json.loads(first_line)["IIW"].strip()
    assert (first["raw_row"], first["raw_row_hash"]) == (1, raw_hash([first_line]))
    assert (first["media_kind"], first["text_field"], first["license"]) == ("image", "IIW", "iiw-cc-by-4.0")
    assert (first["clip_start_s"], first["clip_end_s"], first["url"], first["segments"]) == (None, None, None, [])
    assert [e["raw_row"] for e in described.examples] == list(range(1, 401))

    result = IngestResult()
    result.add_file(
        described.raw_file,
        raw_records=described.raw_records,
        records_used=len(described.examples),
        examples=described.examples,
        quarantined=described.quarantined,
    )
    table = result.examples_table()
    assert table.schema == EXAMPLE_SCHEMA and table.num_rows == 400


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
    described = read_image_descriptions(path, **FIELDS)
    assert [(q["raw_row"], q["reason"]) for q in described.quarantined] == [
        (2, "bad_json"),
        (3, "bad_json"),
        (4, "bad_json"),
        (6, "missing_field"),
        (7, "missing_field"),
        (8, "duplicate_key"),
        (10, "bad_json"),
    ]
    assert [(e["raw_row"], e["video_id"]) for e in described.examples] == [(1, "img1"), (9, "7")]
    assert described.raw_records == 9 == len(described.examples) + len(described.quarantined)
    assert described.quarantined[0]["raw_record"] == "{not json"


def test_duplicate_keys_across_files(tmp_path: Path) -> None:
    seen: set[str] = set()
    first = read_image_descriptions(write_jsonl(tmp_path, [line("img1")]), **FIELDS, seen_keys=seen)
    (tmp_path / "second").mkdir()
    second = read_image_descriptions(write_jsonl(tmp_path / "second", [line("img1")]), **FIELDS, seen_keys=seen)
    assert len(first.examples) == 1
    assert [q["reason"] for q in second.quarantined] == ["duplicate_key"]


def test_non_utf8_file_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "descriptions.jsonl"
    path.write_bytes(b'{"image/key": "img1", "IIW": "A caf\xe9 terrace at night."}\n')
    with pytest.raises(InputFileError, match="not UTF-8") as err:
        read_image_descriptions(path, **FIELDS)
    assert str(path) in str(err.value)


def test_stage_writes_examples_and_metrics(tmp_path: Path) -> None:
    params = {"ingest": {"image_descriptions": {"dir": str(IIW.parent), "pattern": IIW.name, **FIELDS}}}
    (tmp_path / "params.yaml").write_text(json.dumps(params), encoding="utf-8")  # JSON is YAML
    stage = Path(__file__).parents[1] / "stages" / "ingest_image_descriptions.py"
    subprocess.run([sys.executable, str(stage)], cwd=tmp_path, check=True, capture_output=True)

    examples = pq.read_table(tmp_path / "data/interim/ingest/image_descriptions/examples.parquet")
    ids = examples.column("example_id").to_pylist()
    assert ids == sorted(ids) and len(ids) == 400
    metrics = json.loads((tmp_path / "data/interim/ingest/image_descriptions/counts.json").read_text())
    assert metrics["total"] == {
        "raw_records": 400,
        "records_used": 400,
        "quarantined": 0,
        "examples": 400,
        "quarantine_reasons": {},
    }
