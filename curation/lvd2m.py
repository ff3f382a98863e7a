"""LVD-2M release CSVs -> normalized examples (one per clip).

Format facts (from the LVD-2M release; see tests/fixtures/README.md):
- columns are read by name; `total score` has a space; the HDVG file adds `orig_span`
  and `scene_cut`;
- `span` / `orig_span` are strings holding a Python list of two timestamps,
  e.g. "['00:00:17.759', '00:00:23.279']"; they are parsed with a regular expression,
  never evaluated; WebVid rows have no span (the clip is the whole linked file);
- `scene_cut` is "[start_frame, end_frame]" inside orig_span, -1 meaning "to its end";
- `raw_caption` of a clip over 30 s holds one `Caption x:` part per ~30 s window;
- `refined_caption` may begin with "CAPTION:".

Unlike the official downloader, clips of 20 s and longer are kept.

The reader streams the file in blocks and works on whole columns with Polars, so a
2-million-row release ingests in about a minute on two cores (benchmarks/).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa

from config.params import Lvd2mParams
from curation.bookkeeping import FileResult
from curation.io import find_inputs, iter_csv_batches
from curation.schema import (
    EXAMPLE_SCHEMA,
    QUARANTINE_SCHEMA,
    SEGMENT_CAPTION_PART,
    SOURCE_LVD2M,
    conform,
    quarantine_table,
    text_hash_column,
)

BASE_COLUMNS = ("key", "video_id", "url", "dataset_src", "video_time", "total score")
COLUMN_HINT = (
    "LVD-2M files need the columns key, video_id, url, dataset_src, video_time, 'total score' "
    "(with the space) and the caption column named by params ingest.lvd2m.caption_field"
)

_TIMESTAMP = r"(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)"
_SPAN = rf"""^\s*\[\s*['"]{_TIMESTAMP}['"]\s*,\s*['"]{_TIMESTAMP}['"]\s*\]\s*$"""
_SCENE_CUT = r"^\s*\[\s*(-?\d+)\s*,\s*(-?\d+)\s*\]\s*$"
_CAPTION_PART_MARK = r"Caption\s*\d+\s*:"
_CAPTION_PREFIX = r"^\s*CAPTION:\s*"


class SeenKeys:
    """Clip keys already ingested, kept as one Arrow-backed column (2M keys: ~60 MB)."""

    def __init__(self) -> None:
        self.keys = pl.Series("key", [], dtype=pl.String)

    def add(self, keys: pl.Series) -> None:
        self.keys = pl.concat([self.keys, keys.rename("key")], rechunk=True)


def read(params: Lvd2mParams, *, block_size: int = 64 << 20) -> Iterator[FileResult]:
    """The release's files (params dir + pattern, in name order), one result per block, in file order.

    Streams: a block's result is yielded before the next block is read, so memory stays flat
    on a 2-million-row release. A clip key repeated in a later block or file is quarantined
    as a duplicate rather than producing two examples.
    """
    seen_keys = SeenKeys()
    for path in find_inputs(params.dir, params.pattern, "ingest.lvd2m"):
        yield from _read_file(path, params, seen_keys, block_size)


def _read_file(path: Path, params: Lvd2mParams, seen_keys: SeenKeys, block_size: int) -> Iterator[FileResult]:
    read_any = False
    for batch in iter_csv_batches(
        path, source=SOURCE_LVD2M, required_columns=[*BASE_COLUMNS, params.caption_field], hint=COLUMN_HINT,
        block_size=block_size,
    ):
        frame = pl.from_arrow(batch.table)
        assert isinstance(frame, pl.DataFrame)
        examples, quarantined = _normalize_block(
            frame,
            row_numbers=batch.row_numbers,
            raw_file=str(path),
            params=params,
            seen_keys=seen_keys,
        )
        quarantine = quarantine_table(batch.quarantined + quarantined)
        read_any = True
        # One example per clip record: every record read is either an example or quarantined.
        yield FileResult(str(path), examples.num_rows + quarantine.num_rows, examples.num_rows, examples, quarantine)
    if not read_any:  # a header-only file still gets its (zero) counts
        yield FileResult(str(path), 0, 0, EXAMPLE_SCHEMA.empty_table(), QUARANTINE_SCHEMA.empty_table())


def parse_timestamp_list(column: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """('HH:MM:SS.mmm', 'HH:MM:SS.mmm') string list -> (start_s, end_s); null where it does not parse."""
    parts = column.str.extract_groups(_SPAN)

    def seconds(h: str, m: str, s: str) -> pl.Expr:
        return (
            parts.struct.field(h).cast(pl.Float64) * 3600
            + parts.struct.field(m).cast(pl.Float64) * 60
            + parts.struct.field(s).cast(pl.Float64)
        )

    return seconds("1", "2", "3"), seconds("4", "5", "6")


def split_raw_caption(raw_caption: str) -> list[str]:
    """Split an LVD-2M raw_caption into its `Caption x:` parts (one part when unmarked)."""
    frame = pl.DataFrame({"raw_caption": [raw_caption]})
    return frame.select(_caption_parts(pl.col("raw_caption"))).item().to_list()


def _caption_parts(column: pl.Expr) -> pl.Expr:
    marked = column.str.replace_all(_CAPTION_PART_MARK, "\x1e")
    return (
        marked.str.split("\x1e")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def _normalize_block(
    frame: pl.DataFrame,
    *,
    row_numbers: Sequence[int],
    raw_file: str,
    params: Lvd2mParams,
    seen_keys: SeenKeys,
) -> tuple[pa.Table, list[dict[str, object]]]:
    caption_field = params.caption_field
    file_columns = frame.columns
    has = set(file_columns).__contains__
    frame = frame.with_columns(pl.Series("raw_row", list(row_numbers), dtype=pl.Int64))

    span_start, span_end = parse_timestamp_list(pl.col("span")) if has("span") else (pl.lit(None), pl.lit(None))
    orig_start, orig_end = (
        parse_timestamp_list(pl.col("orig_span")) if has("orig_span") else (pl.lit(None), pl.lit(None))
    )
    cut = pl.col("scene_cut").str.extract_groups(_SCENE_CUT) if has("scene_cut") else None
    blank = lambda name: pl.col(name).str.strip_chars() == ""  # noqa: E731
    parsed = frame.with_columns(
        pl.col("video_time").str.strip_chars().cast(pl.Float64, strict=False).alias("_video_time"),
        pl.col("total score").str.strip_chars().cast(pl.Float64, strict=False).alias("_motion"),
        span_start.cast(pl.Float64).alias("_span_start"),
        span_end.cast(pl.Float64).alias("_span_end"),
        orig_start.cast(pl.Float64).alias("orig_span_start_s"),
        orig_end.cast(pl.Float64).alias("orig_span_end_s"),
        (cut.struct.field("1").cast(pl.Int64) if cut is not None else pl.lit(None, pl.Int64)).alias(
            "scene_cut_start_frame"
        ),
        (cut.struct.field("2").cast(pl.Int64) if cut is not None else pl.lit(None, pl.Int64)).alias(
            "scene_cut_end_frame"
        ),
        pl.col(caption_field).str.replace(_CAPTION_PREFIX, "").str.strip_chars().alias("text"),
    )

    # One reason per malformed record: the first problem found, in this order.
    problems: list[tuple[str, pl.Expr, pl.Expr]] = [
        ("missing_field", blank("key"), pl.lit("field 'key' is empty")),
        ("missing_field", blank("video_id"), pl.lit("field 'video_id' is empty")),
        ("missing_field", pl.col("text") == "", pl.lit(f"field '{caption_field}' is empty")),
        ("missing_field", blank("video_time"), pl.lit("field 'video_time' is empty")),
        (
            "bad_number",
            pl.col("_video_time").is_null() | ~pl.col("_video_time").is_finite(),
            pl.format("field 'video_time' is not a number: {}", pl.col("video_time")),
        ),
        (
            "bad_number",
            ~blank("total score") & (pl.col("_motion").is_null() | ~pl.col("_motion").is_finite()),
            pl.format("field 'total score' is not a number: {}", pl.col("total score")),
        ),
    ]
    if has("span"):
        problems.append(
            ("bad_span", ~blank("span") & pl.col("_span_start").is_null(), pl.format("unparseable span: {}", pl.col("span")))
        )
    if has("orig_span"):
        problems.append(
            (
                "bad_span",
                ~blank("orig_span") & pl.col("orig_span_start_s").is_null(),
                pl.format("unparseable orig_span: {}", pl.col("orig_span")),
            )
        )
    if has("scene_cut"):
        problems.append(
            (
                "bad_span",
                ~blank("scene_cut") & pl.col("scene_cut_start_frame").is_null(),
                pl.format("unparseable scene_cut: {}", pl.col("scene_cut")),
            )
        )
    reason = pl.lit(None, pl.String)
    detail = pl.lit(None, pl.String)
    for code, condition, message in reversed(problems):
        reason = pl.when(condition).then(pl.lit(code)).otherwise(reason)
        detail = pl.when(condition).then(message).otherwise(detail)
    parsed = parsed.with_columns(reason.alias("_reason"), detail.alias("_detail"))

    # Duplicate clip keys: the first occurrence (within the release, across files) wins.
    duplicate = pl.col("_reason").is_null() & (
        ~pl.col("key").is_first_distinct() | pl.col("key").is_in(seen_keys.keys.implode())
    )
    parsed = parsed.with_columns(
        pl.when(duplicate).then(pl.lit("duplicate_key")).otherwise(pl.col("_reason")).alias("_reason"),
        pl.when(duplicate)
        .then(pl.format("clip key {} already seen earlier in the release", pl.col("key")))
        .otherwise(pl.col("_detail"))
        .alias("_detail"),
    )

    hashes = _row_hashes(parsed, file_columns)
    parsed = parsed.with_columns(pl.Series("raw_row_hash", hashes))
    bad = parsed.filter(pl.col("_reason").is_not_null())
    good = parsed.filter(pl.col("_reason").is_null())
    seen_keys.add(good.get_column("key"))

    quarantined = [
        {
            "source": SOURCE_LVD2M,
            "raw_file": raw_file,
            "raw_row": row["raw_row"],
            "raw_row_hash": row["raw_row_hash"],
            "reason": row["_reason"],
            "detail": f"row {row['raw_row']}: {row['_detail']}",
            "raw_record": _csv_line([row[c] for c in file_columns]),
        }
        for row in bad.iter_rows(named=True)
    ]
    return _examples(good, raw_file, params, has("raw_caption")), quarantined


def _examples(good: pl.DataFrame, raw_file: str, params: Lvd2mParams, has_raw_caption: bool) -> pa.Table:
    # A clip without a span (WebVid) is the whole linked file.
    clip_start = pl.coalesce(pl.col("_span_start"), pl.lit(0.0))
    clip_end = pl.coalesce(pl.col("_span_end"), pl.col("_video_time"))
    frame = good.with_columns(
        (pl.lit(SOURCE_LVD2M + ":") + pl.col("key")).alias("example_id"),
        pl.lit(SOURCE_LVD2M).alias("source"),
        pl.lit(raw_file).alias("raw_file"),
        pl.lit("video").alias("media_kind"),
        pl.col("key").alias("clip_key"),
        clip_start.alias("clip_start_s"),
        clip_end.alias("clip_end_s"),
        pl.lit(params.caption_field).alias("text_field"),
        pl.col("_motion").alias("motion_score"),
        pl.col("_video_time").alias("clip_duration_s"),
        pl.lit(params.license).alias("license"),
        text_hash_column(pl.col("text")),
    )
    if has_raw_caption:
        frame = _with_caption_segments(frame, params.raw_caption_window_s)
    else:
        frame = frame.with_columns(pl.Series("segments", [[]] * frame.height, dtype=SEGMENT_LIST_DTYPE))
    return conform(frame, EXAMPLE_SCHEMA)


SEGMENT_LIST_DTYPE = pl.List(
    pl.Struct({"start_s": pl.Float64, "end_s": pl.Float64, "text": pl.String, "kind": pl.String, "pause_s": pl.Float64})
)


def _with_caption_segments(frame: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """`Caption x:` parts as segments: part i covers [i, i+1) x window_s from the clip start.

    The windows are approximate, as in the release: the captioner saw ~30 s pieces.
    """
    indexed = frame.with_row_index("_clip")
    parts = (
        indexed.select("_clip", "clip_start_s", "clip_end_s", _caption_parts(pl.col("raw_caption")).alias("text"))
        .explode("text")
        .filter(pl.col("text").is_not_null())
        .with_columns(pl.int_range(pl.len()).over("_clip").cast(pl.Float64).alias("_part"))
    )
    start = pl.col("clip_start_s") + pl.col("_part") * window_s
    segments = (
        parts.select(
            "_clip",
            pl.struct(
                start.alias("start_s"),
                pl.min_horizontal(start + window_s, pl.col("clip_end_s")).alias("end_s"),
                pl.col("text"),
                pl.lit(SEGMENT_CAPTION_PART).alias("kind"),
                pl.lit(None, pl.Float64).alias("pause_s"),
            ).alias("segments"),
        )
        .group_by("_clip", maintain_order=True)
        .agg(pl.col("segments"))
    )
    joined = indexed.join(segments, on="_clip", how="left").sort("_clip")
    return joined.with_columns(pl.col("segments").fill_null(pl.lit([], SEGMENT_LIST_DTYPE))).drop("_clip")


def _row_hashes(frame: pl.DataFrame, file_columns: Sequence[str]) -> list[str]:
    joined = frame.select(pl.concat_str([pl.col(c) for c in file_columns], separator="\x1f")).to_series()
    return [hashlib.blake2b(value.encode("utf-8"), digest_size=16).hexdigest() for value in joined]


def _csv_line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()
