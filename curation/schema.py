"""The normalized example schema: the one place that says what a curated row is.

Every ingest stage (LVD-2M, YouDescribe, WebVTT description tracks, image
descriptions) writes Parquet with ``EXAMPLE_SCHEMA``; malformed raw records go to
Parquet with ``QUARANTINE_SCHEMA``; the filter stage writes rejected examples with
``REJECT_SCHEMA`` (the example columns plus its reason codes).

Times are seconds into the *source* video (the YouTube video for LVD-2M spans and
YouDescribe clips), so a frame sampler can seek straight to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa

# Source names: also the keys of params `ingest.*`, `filter.words.*` and `data.mix.*`.
SOURCE_LVD2M = "lvd2m"
SOURCE_YOUDESCRIBE = "youdescribe"
SOURCE_AD_WEBVTT = "ad_webvtt"
SOURCE_IMAGE_DESCRIPTIONS = "image_descriptions"
SOURCES = (SOURCE_LVD2M, SOURCE_YOUDESCRIBE, SOURCE_AD_WEBVTT, SOURCE_IMAGE_DESCRIPTIONS)

# Segment kinds.
SEGMENT_INLINE = "inline"  # YouDescribe clip spoken over the playing video
SEGMENT_EXTENDED = "extended"  # YouDescribe clip during which the video pauses
SEGMENT_CAPTION_PART = "caption_part"  # one `Caption x:` part of an LVD-2M raw_caption
SEGMENT_CUE = "cue"  # one WebVTT cue

SEGMENT_TYPE = pa.struct(
    [
        pa.field("start_s", pa.float64()),
        pa.field("end_s", pa.float64()),
        pa.field("text", pa.string()),
        pa.field("kind", pa.string()),
        # Extended YouDescribe clips pause the video for this long; null otherwise.
        pa.field("pause_s", pa.float64()),
    ]
)

EXAMPLE_SCHEMA = pa.schema(
    [
        # Identity and lineage
        pa.field("example_id", pa.string(), nullable=False),  # "<source>:<natural key>", stable across runs
        pa.field("source", pa.string(), nullable=False),
        pa.field("raw_file", pa.string(), nullable=False),  # path of the raw dump as given in params
        pa.field("raw_row", pa.int64(), nullable=False),  # first raw record of the example, see RAW_ROW_DOC
        pa.field("raw_row_hash", pa.string(), nullable=False),  # blake2b-128 hex of the raw record(s)
        # What to look at
        pa.field("media_kind", pa.string(), nullable=False),  # "video" or "image"
        pa.field("video_id", pa.string(), nullable=False),  # YouTube id, clip key or image key
        pa.field("url", pa.string()),
        pa.field("clip_key", pa.string()),  # LVD-2M `key`, YouDescribe audio_descriptions_id, ...
        pa.field("clip_start_s", pa.float64()),  # null for images
        pa.field("clip_end_s", pa.float64()),
        # What is said about it
        pa.field("text", pa.string(), nullable=False),
        pa.field("text_hash", pa.string(), nullable=False),  # text_hash(text): the cache key of language ids and embeddings
        pa.field("text_field", pa.string(), nullable=False),  # raw column the text came from
        pa.field("segments", pa.list_(SEGMENT_TYPE), nullable=False),  # empty list when the source has none
        # Source metadata
        pa.field("dataset_src", pa.string()),  # LVD-2M: hdvg | panda70m | internvid | webvid
        pa.field("motion_score", pa.float64()),  # LVD-2M `total score` (mean optical flow)
        pa.field("duration_s", pa.float64()),  # length of the source video, when the dump states it
        pa.field("clip_duration_s", pa.float64()),  # clip length as the dump states it (LVD-2M video_time)
        pa.field("status", pa.string()),  # YouDescribe videos_youtube_status; "" when blank in the dump
        pa.field("license", pa.string(), nullable=False),  # licence tag of the source dataset
        # LVD-2M HDVG extras: the big clip the scene cut lives in, and the cut in its frames (-1 = to the end)
        pa.field("orig_span_start_s", pa.float64()),
        pa.field("orig_span_end_s", pa.float64()),
        pa.field("scene_cut_start_frame", pa.int64()),
        pa.field("scene_cut_end_frame", pa.int64()),
    ]
)

RAW_ROW_DOC = (
    "1-based record number inside raw_file: CSV rows count the header as row 1 (as a spreadsheet "
    "shows them); JSON Lines count lines from 1; WebVTT counts cues from 1; YouDescribe API JSON "
    "counts audio clips in file order from 1."
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("raw_file", pa.string(), nullable=False),
        pa.field("raw_row", pa.int64()),  # null only when the reader cannot number the record
        pa.field("raw_row_hash", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),  # machine-readable code, see QUARANTINE_REASONS
        pa.field("detail", pa.string(), nullable=False),  # human-readable: which field, what was wrong
        pa.field("raw_record", pa.string(), nullable=False),  # the record as given, so nothing is lost
    ]
)

QUARANTINE_REASONS = {
    "ragged_row": "the CSV record has more or fewer fields than the header",
    "missing_field": "a required field is empty",
    "bad_number": "a numeric field does not parse as a number",
    "bad_span": "a span / orig_span / scene_cut field is not a list of two timestamps or frames",
    "bad_playback_type": "playback_type is neither inline nor extended",
    "bad_json": "a JSON record does not parse or lacks a required key",
    "duplicate_key": "the record's natural key was already seen earlier in the same source",
}

# The filter stage adds what it measured, so later stages and the report need not redo it.
FILTERED_SCHEMA = EXAMPLE_SCHEMA.append(pa.field("word_count", pa.int64(), nullable=False)).append(
    pa.field("language", pa.string(), nullable=False)  # langdetect label ("en", "es", ...) or "unknown"
)
REJECT_SCHEMA = FILTERED_SCHEMA.append(pa.field("reject_reasons", pa.list_(pa.string()), nullable=False))

# The score stage adds the score components (curation/scoring.py documents each formula).
SCORE_FIELDS = [
    pa.field("sentence_count", pa.int64(), nullable=False),  # sentences in the text
    pa.field("event_count", pa.int64(), nullable=False),  # timed segments (>= 1: the text itself)
    pa.field("clip_s", pa.float64()),  # clip length in seconds; null for images
    pa.field("descriptions_per_min", pa.float64()),  # timed segments per minute of clip; null for images
    pa.field("idf_mean", pa.float64(), nullable=False),  # mean IDF of the text's distinct words (lexical rarity)
    pa.field("type_token_ratio", pa.float64(), nullable=False),  # distinct / total words, first 100 words
    pa.field("stt_artefact_ratio", pa.float64(), nullable=False),  # speech-to-text fillers per word
    pa.field("quality", pa.float64(), nullable=False),  # 0..1, higher is better
    pa.field("difficulty", pa.float64(), nullable=False),  # 0..1, higher is harder
    pa.field("difficulty_bucket", pa.string(), nullable=False),  # score.difficulty_buckets, easiest first
]
SCORED_SCHEMA = pa.schema([*FILTERED_SCHEMA, *SCORE_FIELDS])

# Dedup: one row per example that is in a duplicate cluster (singletons are not listed).
CLUSTER_SCHEMA = pa.schema(
    [
        pa.field("cluster_id", pa.string(), nullable=False),  # the representative's example_id
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("representative_id", pa.string(), nullable=False),
        pa.field("is_representative", pa.bool_(), nullable=False),
        pa.field("match", pa.string(), nullable=False),  # "exact" (same normalized text) or "near" (embedding)
        pa.field("similarity", pa.float64(), nullable=False),  # cosine to the representative; 1.0 for exact
        pa.field("source", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("quality", pa.float64(), nullable=False),
    ]
)

# Mixtures: the scored columns plus where the example went.
MIXTURE_SCHEMA = pa.schema(
    [
        *SCORED_SCHEMA,
        pa.field("split", pa.string(), nullable=False),  # train | val | test, by source video
        pa.field("curriculum_position", pa.int64(), nullable=False),  # 0-based order within the split file
    ]
)


def raw_hash(parts: Iterable[str | None]) -> str:
    """Stable lineage hash of a raw record: blake2b-128 over its fields joined by \\x1f."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=16).hexdigest()


def text_hash(text: str) -> str:
    """Hash of a text, used as a cache key (language identification, embeddings)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def examples_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build an EXAMPLE_SCHEMA table from row dicts (without `text_hash`, computed here); missing
    nullable keys become null."""
    return pa.Table.from_pylist(
        [_complete({**r, "text_hash": text_hash(r["text"])}, EXAMPLE_SCHEMA) for r in rows], schema=EXAMPLE_SCHEMA
    )


def text_hash_column(text: pl.Expr) -> pl.Expr:
    """`text_hash` of every text in a column (for readers that build whole frames)."""
    return text.map_elements(text_hash, return_dtype=pl.String).alias("text_hash")


def quarantine_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build a QUARANTINE_SCHEMA table from row dicts."""
    return pa.Table.from_pylist([_complete(r, QUARANTINE_SCHEMA) for r in rows], schema=QUARANTINE_SCHEMA)


# The frames stage: sampled frames per mixture example (narrate/frames.py), and the examples
# left out of training with the reason.
FRAMES_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("curriculum_position", pa.int64(), nullable=False),
        pa.field("media_path", pa.string(), nullable=False),  # relative to params frames.media_root
        pa.field("frame_times_s", pa.list_(pa.float64()), nullable=False),  # in the media file's own time
        pa.field("frames", pa.list_(pa.binary()), nullable=False),  # PNG bytes, RGB
        pa.field("width", pa.int32(), nullable=False),
        pa.field("height", pa.int32(), nullable=False),
    ]
)
FRAME_SKIP_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),  # narrate/frames.py SKIP_REASONS
        pa.field("detail", pa.string(), nullable=False),
    ]
)


def conform(frame: pl.DataFrame | pa.Table, schema: pa.Schema = EXAMPLE_SCHEMA) -> pa.Table:
    """Cast a frame to `schema`: columns in schema order, missing nullable columns null.

    Fails with the column name when a non-nullable column is absent or has nulls, so a
    parser bug surfaces at the stage that made it rather than three stages later.
    """
    table = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name).cast(field.type)
        elif field.nullable:
            column = pa.nulls(table.num_rows, field.type)
        else:
            raise ValueError(f"internal error: column {field.name!r} is required by the schema but was not produced")
        if not field.nullable and column.null_count:
            raise ValueError(f"internal error: column {field.name!r} has {column.null_count} null values")
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _complete(row: Mapping[str, Any], schema: pa.Schema) -> dict[str, Any]:
    unknown = set(row) - set(schema.names)
    if unknown:
        raise ValueError(f"internal error: unknown columns {sorted(unknown)}")
    return {name: row.get(name) for name in schema.names}
