"""YouDescribe ingest: YuWA CSV and API v1 JSON -> windowed narration examples."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from config.params import WindowParams, YouDescribeParams
from curation.bookkeeping import FileResult, IngestCounts, examples_by_id
from curation.io import InputFileError
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA, raw_hash
from curation.youdescribe import (
    CSV_COLUMNS,
    ClipFile,
    file_results,
    read,
    read_api_json,
    read_yuwa_csv,
)

FIXTURES = Path(__file__).parent / "fixtures" / "youdescribe"
YUWA = FIXTURES / "yuwa_sample.csv"
UNTRANSCRIBED = FIXTURES / "yuwa_untranscribed_head20.csv"
API_SAMPLE = FIXTURES / "api_v1_sample.json"
WINDOW = {
    "policy": "merged",
    "pad_before_s": 1.0,
    "pad_after_s": 1.0,
    "min_window_s": 2.0,
    "max_window_s": 20.0,
    "merge_gap_s": 3.0,
}
MERGED = WindowParams.model_validate(WINDOW)
PER_CLIP = WindowParams.model_validate({**WINDOW, "policy": "per_clip"})
LICENSE = "youdescribe-cc-by-nc-nd-4.0"


def raw_rows() -> dict[int, dict[str, str]]:
    """The fixture's records by record number (header = 1), read independently with csv."""
    with YUWA.open(encoding="utf-8", newline="") as handle:
        return dict(enumerate(csv.DictReader(handle), start=2))


@dataclass
class Ingested:
    """The reader's results for some files, with their rows as dicts for easy checks."""

    results: list[FileResult]

    @property
    def examples(self) -> list[dict[str, Any]]:
        return [e for r in self.results for e in r.examples.to_pylist()]

    @property
    def quarantined(self) -> list[dict[str, Any]]:
        return [q for r in self.results for q in r.quarantined.to_pylist()]

    def metrics(self) -> dict[str, Any]:
        counts = IngestCounts()
        for result in self.results:
            counts.add(result)
        return counts.as_dict()

    def examples_table(self) -> pa.Table:
        return examples_by_id([r.examples for r in self.results])


def ingest(*files: ClipFile, policy: WindowParams = MERGED) -> Ingested:
    return Ingested(list(file_results(files, policy, LICENSE)))


def examples_of(result: Ingested, description_id: str) -> list[dict[str, Any]]:
    rows = [e for e in result.examples if e["clip_key"] == description_id]
    return sorted(rows, key=lambda e: int(e["example_id"].rsplit(":", 1)[1]))


def assert_reconciles(result: Ingested) -> None:
    metrics = result.metrics()  # also checks each file: raw_records == records_used + quarantined
    for counts in [*metrics["files"].values(), metrics["total"]]:
        assert counts["raw_records"] == counts["records_used"] + counts["quarantined"]
    assert metrics["total"]["examples"] == len(result.examples)


# ---------------------------------------------------------------------------
# The real YuWA sample
# ---------------------------------------------------------------------------


def test_real_csv_ingests_every_clip() -> None:
    clip_file = read_yuwa_csv(YUWA)
    assert (clip_file.raw_records, len(clip_file.clips), clip_file.quarantined) == (155, 155, [])
    result = ingest(clip_file)
    assert_reconciles(result)
    assert result.metrics()["total"]["records_used"] == 155
    assert len({e["clip_key"] for e in result.examples}) == 10
    # Tables conform to the schema, with unique ids.
    table = result.examples_table()
    assert table.schema == EXAMPLE_SCHEMA
    assert table.column("example_id").to_pylist() == sorted({e["example_id"] for e in result.examples})
    assert all(r.quarantined.schema == QUARANTINE_SCHEMA for r in result.results)


def test_per_clip_policy_gives_one_example_per_clip() -> None:
    result = ingest(read_yuwa_csv(YUWA), policy=PER_CLIP)
    assert len(result.examples) == 155
    assert all(len(e["segments"]) == 1 for e in result.examples)


def test_unsorted_description_comes_out_sorted() -> None:
    description = "5aa5c91176ea222478a8114e"
    rows = raw_rows()
    file_order = [float(r["start_time"]) for r in rows.values() if r["audio_descriptions_id"] == description]
    assert file_order != sorted(file_order), "fixture should hold this description out of order"

    for policy in (MERGED, PER_CLIP):
        examples = examples_of(ingest(read_yuwa_csv(YUWA), policy=policy), description)
        starts = [s["start_s"] for e in examples for s in e["segments"]]
        assert starts == sorted(file_order)
        assert [e["clip_start_s"] for e in examples] == sorted(e["clip_start_s"] for e in examples)
        # raw_row points at the record of each window's first (earliest) clip.
        for example in examples:
            first = rows[example["raw_row"]]
            assert float(first["start_time"]) == example["segments"][0]["start_s"]


def test_inline_end_is_start_plus_duration() -> None:
    rows = raw_rows()
    result = ingest(read_yuwa_csv(YUWA), policy=PER_CLIP)
    inline = [e for e in result.examples if e["segments"][0]["kind"] == "inline"]
    assert len(inline) == 59
    for example in inline:
        row, [segment] = rows[example["raw_row"]], example["segments"]
        assert segment["start_s"] == float(row["start_time"])
        assert segment["end_s"] == pytest.approx(float(row["start_time"]) + float(row["duration"]))
        assert segment["pause_s"] is None


def test_inline_end_time_column_is_not_trusted(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row(start_time="10.5", end_time="999", duration="2.25", playback_type="inline")])
    [clip] = read_yuwa_csv(path).clips
    assert (clip.start_s, clip.end_s) == (10.5, 12.75)


def test_extended_clip_is_a_moment_with_its_pause_kept() -> None:
    # Record 2: extended clip at 41.019 s, 4.86 s pause.
    [example] = [e for e in ingest(read_yuwa_csv(YUWA)).examples if e["raw_row"] == 2]
    assert example["segments"] == [
        {
            "start_s": 41.019,
            "end_s": 41.019,
            "text": "A purple hauled out cube with a square bubble in the middle is shown.",
            "kind": "extended",
            "pause_s": 4.86,
        }
    ]
    # Zero-length moment, padded by 1 s each side.
    assert (example["clip_start_s"], example["clip_end_s"]) == pytest.approx((40.019, 42.019))


def test_video_with_two_descriptions_gives_separate_examples() -> None:
    result = ingest(read_yuwa_csv(YUWA))
    video = [e for e in result.examples if e["video_id"] == "e7suMbRwwOI"]
    assert {e["clip_key"] for e in video} == {"5f24863c244b0e149217e1dd", "5f39b0a6ad1475481dd01bf7"}
    for example in video:
        assert example["example_id"].startswith(f"youdescribe:{example['clip_key']}:")
    assert sum(len(e["segments"]) for e in video if e["clip_key"] == "5f24863c244b0e149217e1dd") == 10
    assert sum(len(e["segments"]) for e in video if e["clip_key"] == "5f39b0a6ad1475481dd01bf7") == 13


def test_blank_status_is_kept_as_empty_string() -> None:
    result = ingest(read_yuwa_csv(YUWA))
    status = {e["clip_key"]: e["status"] for e in result.examples}
    assert status["5f6bc562152f97652a3be5eb"] == ""
    assert status["58e7cf3146e13dfd851a241c"] == "unavailable"
    assert status["58e7cf3146e13dfd851a241a"] == "available"


def test_example_fields_and_lineage() -> None:
    rows = raw_rows()
    result = ingest(read_yuwa_csv(YUWA))
    examples = {e["example_id"]: e for e in result.examples}
    first = examples["youdescribe:58e7cf3146e13dfd851a241a:0"]
    assert first["raw_row"] == 2
    assert first["raw_file"] == str(YUWA)
    assert first["raw_row_hash"] == raw_hash(rows[2][c] for c in CSV_COLUMNS)
    assert first["url"] == "https://www.youtube.com/watch?v=YmafohV2RX8"
    assert (first["source"], first["media_kind"], first["text_field"]) == ("youdescribe", "video", "transcript_sentence")
    assert (first["license"], first["duration_s"]) == (LICENSE, None)
    # Text: transcripts stripped of the dump's leading space, joined in time order.
    for example in result.examples:
        assert example["text"] == " ".join(s["text"] for s in example["segments"])
        assert example["text"] == example["text"].strip()
    merged = [e for e in result.examples if len(e["segments"]) > 1]
    assert merged, "the merged policy should join some clips of the sample"
    for example in merged:
        members = sorted(
            (r for r in rows.values() if r["audio_descriptions_id"] == example["clip_key"]),
            key=lambda r: (float(r["start_time"]), r["audio_clips_id"]),
        )
        members = [r for r in members if example["clip_start_s"] <= float(r["start_time"]) <= example["clip_end_s"]]
        assert len(members) == len(example["segments"])
        assert example["raw_row_hash"] == raw_hash(r[c] for r in members for c in CSV_COLUMNS)


def test_example_ids_are_stable_across_runs() -> None:
    first = ingest(read_yuwa_csv(YUWA)).examples_table()
    second = ingest(read_yuwa_csv(YUWA)).examples_table()
    assert first.equals(second)


# ---------------------------------------------------------------------------
# API v1 JSON
# ---------------------------------------------------------------------------


def test_api_json_sample() -> None:
    clip_file = read_api_json(API_SAMPLE)
    result = ingest(clip_file)
    assert_reconciles(result)
    examples = {e["example_id"]: e for e in result.examples}
    assert sorted(examples) == [
        "youdescribe:64b0c0ffee0000000000d001:0",
        "youdescribe:64b0c0ffee0000000000d001:1",
        "youdescribe:64b0c0ffee0000000000d001:2",
        "youdescribe:64b0c0ffee0000000000d002:0",
    ]
    merged = examples["youdescribe:64b0c0ffee0000000000d001:0"]
    # Clips 2 (extended, 12 s) and 4 (inline, 14-16 s) are 2 s apart: one window.
    assert merged["raw_row"] == 2
    assert (merged["clip_start_s"], merged["clip_end_s"]) == (11.0, 17.0)
    assert [(s["kind"], s["start_s"], s["end_s"], s["pause_s"]) for s in merged["segments"]] == [
        ("extended", 12.0, 12.0, 4.0),
        ("inline", 14.0, 16.0, None),
    ]
    # A transcript of two sentences is joined with a space.
    assert merged["text"] == (
        "A sheet of red paper lies on a wooden table. Two hands smooth it flat. She folds the sheet in half."
    )
    assert merged["text_field"] == "transcript.sentence"
    assert merged["video_id"] == "Xa1b2C3d4E5"
    assert (merged["status"], merged["duration_s"]) == ("available", 95.0)
    # The last clip's window stops at the video's end (95 s).
    last = examples["youdescribe:64b0c0ffee0000000000d001:2"]
    assert (last["raw_row"], last["clip_start_s"], last["clip_end_s"]) == (3, 93.5, 95.0)
    assert examples["youdescribe:64b0c0ffee0000000000d002:0"]["raw_row"] == 5


def test_same_description_in_csv_and_api_json_is_read_once(tmp_path: Path) -> None:
    payload = api_payload(
        [
            {"_id": "d1", "audio_clips": [api_clip("c1", 1.0), api_clip("c9", 20.0)]},
            {"_id": "d2", "audio_clips": [api_clip("c2", 3.0)]},
        ]
    )
    json_path = write_json(tmp_path, payload)
    csv_path = write_csv(tmp_path, [row(audio_descriptions_id="d1", audio_clips_id="c1")])
    result = ingest(read_yuwa_csv(csv_path), read_api_json(json_path))
    assert_reconciles(result)
    # d1 was read from the CSV first: all its API clips are repeats, even the new one (c9),
    # so no two examples can share an example_id.
    assert sorted(e["example_id"] for e in result.examples) == ["youdescribe:d1:0", "youdescribe:d2:0"]
    assert {(q["raw_row"], q["reason"]) for q in result.quarantined} == {(1, "duplicate_key"), (2, "duplicate_key")}


# ---------------------------------------------------------------------------
# Defects: one per class, each in a small file built here
# ---------------------------------------------------------------------------

GOOD = {
    "videos_youtube_id": "vid00000001",
    "audio_descriptions_id": "d1",
    "audio_clips_id": "c0",
    "videos_youtube_status": "available",
    "file_path": "/current/vid00000001",
    "file_name": "vid00000001_c0.wav",
    "start_time": "1.0",
    "end_time": "1.0",
    "duration": "2.0",
    "playback_type": "extended",
    "transcript_sentence": " A man waves at the camera.",
}


def row(**fields: str) -> dict[str, str]:
    return {**GOOD, **fields}


def write_csv(tmp_path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = CSV_COLUMNS) -> Path:
    path = tmp_path / "yuwa.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def quarantine_of(path: Path) -> list[tuple[int, str]]:
    clip_file = read_yuwa_csv(path)
    assert_reconciles(ingest(clip_file))
    return sorted((q["raw_row"], q["reason"]) for q in clip_file.quarantined)


def test_ragged_row_is_quarantined(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row(audio_clips_id="c1")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("vid00000001,d1,c2,available,/x,y.wav,3.0,3.0\n")  # 8 of 11 fields
    assert quarantine_of(path) == [(3, "ragged_row")]


def test_bad_number_is_quarantined(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [row(audio_clips_id="c1"), row(audio_clips_id="c2", start_time="1:05"), row(audio_clips_id="c3", duration="-2")],
    )
    assert quarantine_of(path) == [(3, "bad_number"), (4, "bad_number")]


def test_bad_playback_type_is_quarantined(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row(audio_clips_id="c1"), row(audio_clips_id="c2", playback_type="paused")])
    assert quarantine_of(path) == [(3, "bad_playback_type")]


def test_missing_text_or_id_is_quarantined(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [row(audio_clips_id="c1", transcript_sentence="  "), row(audio_clips_id=""), row(audio_clips_id="c3")],
    )
    assert quarantine_of(path) == [(2, "missing_field"), (3, "missing_field")]


def test_duplicate_clip_id_keeps_the_first(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row(audio_clips_id="c1"), row(audio_clips_id="c1", start_time="9.0")])
    result = ingest(read_yuwa_csv(path))
    assert_reconciles(result)
    assert [(q["raw_row"], q["reason"]) for q in result.quarantined] == [(3, "duplicate_key")]
    assert [e["raw_row"] for e in result.examples] == [2]
    # The quarantined record keeps its fields, re-serialised as CSV.
    assert next(csv.reader([result.quarantined[0]["raw_record"]]))[2] == "c1"


def test_non_utf8_csv_is_an_input_file_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row()])
    path.write_bytes(path.read_bytes().replace(b"waves", b"w\xe4ves"))
    with pytest.raises(InputFileError, match="not UTF-8") as err:
        read_yuwa_csv(path)
    assert str(path) in str(err.value)


def test_missing_required_column_is_an_input_file_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row()], columns=tuple(c for c in CSV_COLUMNS if c != "start_time"))
    with pytest.raises(InputFileError, match=r"missing required column\(s\) \['start_time'\]"):
        read_yuwa_csv(path)


def test_untranscribed_variant_is_refused_with_a_fix() -> None:
    with pytest.raises(InputFileError) as err:
        read_yuwa_csv(UNTRANSCRIBED)
    message = str(err.value)
    assert str(UNTRANSCRIBED) in message
    assert "has no transcripts" in message
    assert "premium_transcribed_audio_clips_english.csv" in message


def api_clip(clip_id: str, start: float, **fields: Any) -> dict[str, Any]:
    clip = {
        "_id": clip_id,
        "playback_type": "inline",
        "start_time": start,
        "end_time": start + 2.0,
        "duration": 2.0,
        "file_path": "/current/vid00000001",
        "file_name": f"vid00000001_{clip_id}.wav",
        "transcript": [{"sentence": f"Clip {clip_id} shows a dog.", "start_time": 0.0, "end_time": 1.5}],
    }
    return {**clip, **fields}


def api_payload(descriptions: list[Any], **result: Any) -> dict[str, Any]:
    return {
        "type": "success",
        "code": 1000,
        "status": 200,
        "message": "ok",
        "result": {"youtube_id": "vid00000001", "audio_descriptions": descriptions, **result},
    }


def write_json(tmp_path: Path, payload: Any) -> Path:
    path = tmp_path / "vid00000001.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def test_bad_api_clips_are_quarantined_with_their_json(tmp_path: Path) -> None:
    no_start = {k: v for k, v in api_clip("c2", 0).items() if k != "start_time"}
    clips = [
        api_clip("c1", 1.0),
        no_start,
        api_clip("c3", 5.0, transcript=[]),
        api_clip("c4", 7.0, playback_type="overlay"),
        api_clip("c5", 9.0, start_time="soon"),
        "not a clip",
    ]
    clip_file = read_api_json(write_json(tmp_path, api_payload([{"_id": "d1", "audio_clips": clips}])))
    result = ingest(clip_file)
    assert_reconciles(result)
    assert sorted((q["raw_row"], q["reason"]) for q in result.quarantined) == [
        (2, "bad_json"),
        (3, "missing_field"),
        (4, "bad_playback_type"),
        (5, "bad_number"),
        (6, "bad_json"),
    ]
    bad = next(q for q in result.quarantined if q["raw_row"] == 2)
    assert json.loads(bad["raw_record"]) == no_start
    assert [e["raw_row"] for e in result.examples] == [1]


def test_api_end_time_is_derived_and_duration_used(tmp_path: Path) -> None:
    clip = api_clip("c1", 10.0, end_time=0.0, duration=3.0)
    clip_file = read_api_json(write_json(tmp_path, api_payload([{"_id": "d1", "audio_clips": [clip]}], duration=12.5)))
    [example] = ingest(clip_file).examples
    assert (example["segments"][0]["start_s"], example["segments"][0]["end_s"]) == (10.0, 13.0)
    assert (example["clip_end_s"], example["duration_s"], example["status"]) == (13.0, 12.5, "")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not JSON"),
        (json.dumps([1, 2]), "not a YouDescribe API v1 response"),
        (json.dumps({"code": 1000, "message": "ok"}), "not a YouDescribe API v1 response"),
        (json.dumps({"code": 1004, "message": "Video not found", "result": None}), "API error response: code 1004"),
        (json.dumps({"code": 1000, "result": {"youtube_id": "x"}}), "audio_descriptions"),
    ],
)
def test_bad_api_file_is_an_input_file_error(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "vid00000001.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=problem) as err:
        read_api_json(path)
    assert str(path) in str(err.value) and "fix:" in str(err.value)


def test_non_utf8_api_json_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "vid00000001.json"
    path.write_bytes(json.dumps(api_payload([])).encode("utf-8").replace(b"ok", b"\xe4k"))
    with pytest.raises(InputFileError, match="not UTF-8"):
        read_api_json(path)


# ---------------------------------------------------------------------------
# The reader: CSV exports first, then API responses
# ---------------------------------------------------------------------------


def test_reader_reads_csv_exports_before_api_responses(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    (dump / "api_v1").mkdir(parents=True)
    # The API file's name sorts first, but CSV exports are read first: their copy of d1 wins.
    write_json(dump / "api_v1", api_payload([{"_id": "d1", "audio_clips": [api_clip("c1", 1.0)]}]))
    csv_path = write_csv(tmp_path, [row(audio_descriptions_id="d1", audio_clips_id="c1")])
    (dump / "z.csv").write_bytes(csv_path.read_bytes())
    params = YouDescribeParams(
        dir=str(dump), csv_pattern="*.csv", api_json_pattern="api_v1/*.json", license=LICENSE, window=MERGED
    )
    result = Ingested(list(read(params)))
    assert [Path(r.raw_file).name for r in result.results] == ["z.csv", "vid00000001.json"]
    assert [Path(e["raw_file"]).name for e in result.examples] == ["z.csv"]
    assert [q["reason"] for q in result.quarantined] == ["duplicate_key"]


def test_reader_without_api_pattern_reads_only_csv(tmp_path: Path) -> None:
    write_csv(tmp_path, [row()])
    params = YouDescribeParams(
        dir=str(tmp_path), csv_pattern="*.csv", api_json_pattern="", license=LICENSE, window=MERGED
    )
    assert [Path(r.raw_file).name for r in read(params)] == ["yuwa.csv"]
