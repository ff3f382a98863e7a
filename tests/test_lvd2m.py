"""LVD-2M ingest: the release's quirks, and one test per defect class."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from pydantic import ValidationError

from config.params import Lvd2mParams
from curation.bookkeeping import FileResult, IngestCounts
from curation.io import InputFileError
from curation.lvd2m import read, split_raw_caption
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA

# Deliberately not the order of the release's documentation: columns are read by name.
COLUMNS = ["span", "refined_caption", "key", "total score", "url", "video_id", "raw_caption", "dataset_src",
           "orig_caption", "rewritten_caption", "video_time"]
CAPTION = "A red circle moves from the left edge of the frame to the right edge while a blue square waits."


def row(clip_key: str, **overrides: str) -> dict[str, str]:
    video_id = clip_key.split(".")[0]
    base = {
        "key": clip_key,
        "video_id": video_id,
        "url": f"https://www.youtube.com/watch?v={video_id}",
        "dataset_src": "panda70m",
        "orig_caption": "a circle",
        "raw_caption": "The image shows a red circle.",
        "refined_caption": CAPTION,
        "rewritten_caption": "red circle moving right",
        "total score": "31.5",
        "video_time": "6.0",
        "span": "['00:00:01.000', '00:00:07.000']",
    }
    base.update(overrides)
    return base


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS, extra_lines: str = "") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        handle.write(extra_lines)
    return path


def lvd2m_params(directory: Path, pattern: str, **overrides: object) -> Lvd2mParams:
    section = {
        "dir": str(directory),
        "pattern": pattern,
        "caption_field": "refined_caption",
        "raw_caption_window_s": 30.0,
        "license": "test",
    }
    return Lvd2mParams.model_validate({**section, **overrides})


def results(path: Path, *, block_size: int = 64 << 20, **overrides: object) -> list[FileResult]:
    """The reader's results for the one file `path` (its folder + its name as the pattern)."""
    out = list(read(lvd2m_params(path.parent, path.name, **overrides), block_size=block_size))
    for result in out:
        assert result.examples.schema == EXAMPLE_SCHEMA and result.quarantined.schema == QUARANTINE_SCHEMA
        result.counts()  # raises unless raw_records == records_used + quarantined
    return out


def frames(out: list[FileResult]) -> tuple[pl.DataFrame, pl.DataFrame]:
    examples = pa.concat_tables([r.examples for r in out])
    quarantined = pa.concat_tables([r.quarantined for r in out])
    return pl.from_arrow(examples), pl.from_arrow(quarantined)  # type: ignore[return-value]


def ingest(path: Path, **kwargs: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    return frames(results(path, **kwargs))  # type: ignore[arg-type]


def test_clean_row_becomes_one_example_with_lineage(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ytb.csv", [row("abcdefghijk.3_0")])
    examples, quarantined = ingest(path)
    assert quarantined.height == 0
    ex = examples.row(0, named=True)
    assert ex["example_id"] == "lvd2m:abcdefghijk.3_0"
    assert ex["raw_file"] == str(path) and ex["raw_row"] == 2
    assert len(ex["raw_row_hash"]) == 32
    assert (ex["clip_start_s"], ex["clip_end_s"]) == (1.0, 7.0)
    assert ex["text"] == CAPTION and ex["text_field"] == "refined_caption"
    assert ex["motion_score"] == 31.5 and ex["clip_duration_s"] == 6.0
    assert ex["media_kind"] == "video" and ex["dataset_src"] == "panda70m"


def test_span_with_hours_and_double_quotes(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [row("v.1", span='["01:02:03.500", "01:02:33.250"]', video_time="29.75")])
    examples, _ = ingest(path)
    assert examples["clip_start_s"][0] == pytest.approx(3723.5)
    assert examples["clip_end_s"][0] == pytest.approx(3753.25)


def test_caption_prefix_is_stripped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [row("v.1", refined_caption="CAPTION: " + CAPTION)])
    examples, _ = ingest(path)
    assert examples["text"][0] == CAPTION


def test_long_clips_are_kept_and_raw_caption_parts_get_30s_windows(tmp_path: Path) -> None:
    raw = "Caption 1: A red circle appears. Caption 2: It turns green. Caption 3: It leaves the frame."
    path = write_csv(
        tmp_path / "a.csv",
        [
            row("long.1", video_time="75.0", span="['00:00:10.000', '00:01:25.000']", raw_caption=raw),
            row("mid.1", video_time="22.0", span="['00:00:00.000', '00:00:22.000']"),
        ],
    )
    examples, quarantined = ingest(path)
    assert quarantined.height == 0 and examples.height == 2  # nothing under or over 20 s is dropped
    segments = examples.filter(pl.col("clip_key") == "long.1")["segments"][0].to_list()
    assert [s["text"] for s in segments] == ["A red circle appears.", "It turns green.", "It leaves the frame."]
    assert [(s["start_s"], s["end_s"]) for s in segments] == [(10.0, 40.0), (40.0, 70.0), (70.0, 85.0)]
    assert {s["kind"] for s in segments} == {"caption_part"}


def test_split_raw_caption_without_marks_is_one_part() -> None:
    assert split_raw_caption("One paragraph only.") == ["One paragraph only."]
    assert split_raw_caption("Caption 1: a Caption 2: b") == ["a", "b"]


def test_webvid_row_without_span_is_the_whole_clip(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [row("w.1", span="", dataset_src="webvid", url="https://x.invalid/w.mp4")])
    examples, _ = ingest(path)
    assert (examples["clip_start_s"][0], examples["clip_end_s"][0]) == (0.0, 6.0)


def test_hdvg_orig_span_and_scene_cut(tmp_path: Path) -> None:
    columns = [*COLUMNS, "orig_span", "scene_cut"]
    rows = [
        row("h.1", dataset_src="hdvg", orig_span="['00:00:00.000', '00:00:20.000']", scene_cut="[12, -1]"),
        row("h.2", dataset_src="hdvg", orig_span="['00:00:00.000', '00:00:20.000']", scene_cut="[12, x]"),
    ]
    examples, quarantined = ingest(write_csv(tmp_path / "hdvg.csv", rows, columns))
    ex = examples.row(0, named=True)
    assert (ex["orig_span_start_s"], ex["orig_span_end_s"]) == (0.0, 20.0)
    assert (ex["scene_cut_start_frame"], ex["scene_cut_end_frame"]) == (12, -1)
    assert quarantined["reason"].to_list() == ["bad_span"] and quarantined["raw_row"].to_list() == [3]


def test_inverted_span_is_ingested_for_the_filter_to_judge(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [row("v.1", span="['00:00:09.000', '00:00:03.000']")])
    examples, quarantined = ingest(path)
    assert quarantined.height == 0
    assert examples["clip_end_s"][0] < examples["clip_start_s"][0]


@pytest.mark.parametrize(
    ("overrides", "reason", "field"),
    [
        ({"span": "['00:00:01.000'"}, "bad_span", "span"),
        ({"span": "['00:00:xx', '00:00:05.000']"}, "bad_span", "span"),
        ({"span": "__import__('os').system('echo pwned')"}, "bad_span", "span"),  # never evaluated
        ({"video_time": "six"}, "bad_number", "video_time"),
        ({"total score": "high"}, "bad_number", "total score"),
        ({"refined_caption": "   "}, "missing_field", "refined_caption"),
        ({"key": ""}, "missing_field", "key"),
        ({"video_id": ""}, "missing_field", "video_id"),
    ],
)
def test_malformed_row_is_quarantined_and_the_rest_goes_on(
    tmp_path: Path, overrides: dict[str, str], reason: str, field: str
) -> None:
    path = write_csv(tmp_path / "a.csv", [row("ok.1"), row("bad.1", **overrides), row("ok.2")])
    examples, quarantined = ingest(path)
    assert examples["clip_key"].to_list() == ["ok.1", "ok.2"]
    assert examples["raw_row"].to_list() == [2, 4]
    bad = quarantined.row(0, named=True)
    assert (bad["reason"], bad["raw_row"]) == (reason, 3)
    assert field in bad["detail"] and "row 3" in bad["detail"]
    # Nothing the user gave is lost: the record is kept as CSV text.
    assert next(csv.reader([bad["raw_record"]])) == list(row("bad.1", **overrides)[c] for c in COLUMNS)


def test_ragged_rows_are_quarantined_with_their_row_numbers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [row("ok.1")], extra_lines="only,three,fields\n")
    with path.open("a", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow([row("ok.2")[c] for c in COLUMNS])
    examples, quarantined = ingest(path)
    assert examples.height == 2
    assert quarantined.select("reason", "raw_row", "raw_record").rows() == [("ragged_row", 3, "only,three,fields")]


def test_duplicate_keys_within_and_across_files(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [row("k.1"), row("k.2"), row("k.1")])
    second = write_csv(tmp_path / "b.csv", [row("k.2"), row("k.3")])
    out = list(read(lvd2m_params(tmp_path, "*.csv")))
    ex_a, q_a = frames([r for r in out if r.raw_file == str(first)])
    ex_b, q_b = frames([r for r in out if r.raw_file == str(second)])
    assert ex_a["clip_key"].to_list() == ["k.1", "k.2"] and q_a["raw_row"].to_list() == [4]
    assert ex_b["clip_key"].to_list() == ["k.3"] and q_b["reason"].to_list() == ["duplicate_key"]


def test_files_are_read_in_name_order_and_streamed_block_by_block(tmp_path: Path) -> None:
    write_csv(tmp_path / "b.csv", [row(f"b.{i}", refined_caption=f"{CAPTION} {i}") for i in range(200)])
    write_csv(tmp_path / "a.csv", [row("a.1")])
    (tmp_path / "c.csv").write_bytes(b"key,video_id\n\xe9\n")  # unusable, read last
    blocks = read(lvd2m_params(tmp_path, "*.csv"), block_size=4096)
    # Results come before the whole release is read: the bad last file fails only when reached.
    first, second = next(blocks), next(blocks)
    assert (Path(first.raw_file).name, Path(second.raw_file).name) == ("a.csv", "b.csv")
    b_blocks = [second, *(next(blocks) for _ in range(2))]
    assert {r.raw_file for r in b_blocks} == {str(tmp_path / "b.csv")}
    with pytest.raises(InputFileError, match=r"c\.csv"):
        list(blocks)


def test_counts_of_a_file_are_summed_over_its_blocks(tmp_path: Path) -> None:
    rows = [row(f"v.{i}", refined_caption=f"{CAPTION} {i}") for i in range(300)]
    rows[10]["video_time"] = "n/a"
    path = write_csv(tmp_path / "a.csv", rows)
    out = results(path, block_size=4096)
    assert len(out) > 1
    counts = IngestCounts()
    for result in out:
        counts.add(result)
    assert counts.as_dict()["files"][str(path)] == {
        "raw_records": 300,
        "records_used": 299,
        "quarantined": 1,
        "examples": 299,
        "quarantine_reasons": {"bad_number": 1},
    }


def test_header_only_file_is_counted_with_zero_records(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [])
    [result] = results(path)
    assert (result.raw_file, result.raw_records, result.examples.num_rows) == (str(path), 0, 0)


def test_records_reconcile_with_an_independent_count_across_blocks(tmp_path: Path) -> None:
    rows = [row(f"v.{i}", refined_caption=f"{CAPTION}\nSecond line {i}.") for i in range(400)]
    rows[50]["video_time"] = "n/a"
    path = write_csv(tmp_path / "a.csv", rows, extra_lines="a,b\n")
    with path.open(newline="", encoding="utf-8") as handle:
        records = sum(1 for _ in csv.reader(handle)) - 1
    examples, quarantined = ingest(path, block_size=4096)  # many blocks
    assert examples.height + quarantined.height == records == 401
    assert sorted(examples["raw_row"].to_list() + quarantined["raw_row"].to_list()) == list(range(2, 403))
    assert examples.filter(pl.col("clip_key") == "v.399")["raw_row"][0] == 401


def test_caption_field_is_a_parameter(tmp_path: Path) -> None:
    examples, _ = ingest(write_csv(tmp_path / "a.csv", [row("v.1")]), caption_field="rewritten_caption")
    assert examples["text"][0] == "red circle moving right"
    assert examples["text_field"][0] == "rewritten_caption"
    with pytest.raises(ValidationError, match="caption_field"):
        lvd2m_params(tmp_path, "a.csv", caption_field="summary")


def test_missing_required_column_names_file_column_and_fix(tmp_path: Path) -> None:
    columns = [c for c in COLUMNS if c != "total score"]
    path = write_csv(tmp_path / "nope.csv", [{k: v for k, v in row("v.1").items() if k != "total score"}], columns)
    with pytest.raises(InputFileError) as err:
        ingest(path)
    message = str(err.value)
    assert "nope.csv" in message and "'total score'" in message and "fix:" in message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "latin.csv", [row("v.1")])
    path.write_bytes(path.read_bytes().replace(b"A red circle", "Un cercle rouge \u00e9t\u00e9".encode("latin-1")))
    with pytest.raises(InputFileError, match=r"latin\.csv: not UTF-8.*\n.*iconv"):
        ingest(path)


def test_file_that_is_not_csv(tmp_path: Path) -> None:
    path = tmp_path / "dump.json"
    path.write_text('{"key": "v.1", "video_id": "v"}\n')
    with pytest.raises(InputFileError, match=r"dump\.json: missing required column"):
        ingest(path)


def test_missing_folder_no_match_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"absent: folder not found\n.*ingest\.lvd2m\.dir"):
        list(read(lvd2m_params(tmp_path / "absent", "*.csv")))
    with pytest.raises(InputFileError, match=r"no file matches '\*\.csv'\n.*ingest\.lvd2m\.pattern"):
        list(read(lvd2m_params(tmp_path, "*.csv")))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputFileError, match=r"empty\.csv: empty file"):
        ingest(tmp_path / "empty.csv")
