"""YouDescribe audio descriptions -> narration examples.

Two raw forms carry the same clips:
- the YuWA CSV export (`premium_transcribed_audio_clips_english.csv`), one row per audio clip;
- YouDescribe API v1 responses (`GET /v1/videos/{youtube_id}`), one JSON file per video.

`read(params)` is the source's reader for the ingest stage. Each file reader turns a file
into `Clip`s plus quarantine rows. `quarantine_repeats` then drops clips already read (a
repeated audio clip id, or a description already read from an earlier file), and
`narration_examples` groups each description's clips into windows (curation/windows.py), one
example per window.

Timeline: times are seconds into the YouTube video. An inline clip plays over the video and
spans [start_time, start_time + duration] (end_time is derived, not trusted). An extended clip
pauses the video for `duration` seconds, so on the video timeline it is a moment
(end == start) and the pause is kept as the segment's `pause_s`.

Bookkeeping invariant: every raw clip record of a file ends up either in exactly one example's
segments or in quarantine, so `raw_records == records_used + quarantined` (checked by
curation.bookkeeping.FileResult.counts).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from config.params import WindowParams, YouDescribeParams
from curation.bookkeeping import FileResult
from curation.io import InputFileError, find_inputs, read_csv_header, read_csv_records
from curation.schema import (
    SEGMENT_EXTENDED,
    SEGMENT_INLINE,
    SOURCE_YOUDESCRIBE,
    examples_table,
    quarantine_table,
    raw_hash,
)
from curation.windows import narration_windows

CSV_COLUMNS = (
    "videos_youtube_id",
    "audio_descriptions_id",
    "audio_clips_id",
    "videos_youtube_status",
    "file_path",
    "file_name",
    "start_time",
    "end_time",
    "duration",
    "playback_type",
    "transcript_sentence",
)
# The columns this module reads; the others are kept only inside raw records and hashes.
CSV_REQUIRED = (
    "videos_youtube_id",
    "audio_descriptions_id",
    "audio_clips_id",
    "start_time",
    "duration",
    "playback_type",
    "transcript_sentence",
)
CSV_TEXT_FIELD = "transcript_sentence"
JSON_TEXT_FIELD = "transcript.sentence"
API_OK_CODE = 1000
PLAYBACK_TYPES = (SEGMENT_INLINE, SEGMENT_EXTENDED)


@dataclass(frozen=True)
class Clip:
    """One YouDescribe audio clip, placed on the video timeline."""

    video_id: str
    description_id: str
    clip_id: str
    start_s: float
    end_s: float  # == start_s for extended clips
    kind: str  # "inline" | "extended"
    pause_s: float | None  # extended clips: how long the video pauses
    text: str
    status: str  # videos_youtube_status, "" when blank
    raw_row: int
    raw_fields: tuple[str, ...]  # the raw record, for lineage hashes


@dataclass
class ClipFile:
    """What one raw file yields: clips, quarantine rows and the number of raw clip records."""

    raw_file: str
    text_field: str
    raw_records: int
    clips: list[Clip] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    video_duration_s: dict[str, float] = field(default_factory=dict)  # by video id, when the file says


class _BadClip(Exception):
    """A clip record that cannot be used; carries its quarantine reason code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------------------
# YuWA CSV
# ---------------------------------------------------------------------------


def read_yuwa_csv(path: str | Path) -> ClipFile:
    """Read a YuWA CSV export: valid rows become clips, malformed rows quarantine rows.

    Raises InputFileError for an unusable file, including the untranscribed YuWA variant,
    which has no text to learn from.
    """
    header = read_csv_header(path)
    if CSV_TEXT_FIELD not in header and {"audio_clips_id", "start_time", "playback_type"} <= set(header):
        raise InputFileError(
            path,
            f"has no transcripts (no {CSV_TEXT_FIELD!r} column): this is the untranscribed YuWA export",
            "use the transcribed export, premium_transcribed_audio_clips_english.csv, under ingest.youdescribe.dir",
        )
    batch = read_csv_records(
        path,
        source=SOURCE_YOUDESCRIBE,
        required_columns=CSV_REQUIRED,
        hint="use a YuWA export (premium_transcribed_audio_clips_english.csv format); columns: " + ", ".join(CSV_COLUMNS),
    )
    names = batch.table.column_names
    columns = batch.table.to_pydict()
    result = ClipFile(
        raw_file=str(path),
        text_field=CSV_TEXT_FIELD,
        raw_records=batch.table.num_rows + len(batch.quarantined),
        quarantined=list(batch.quarantined),
    )
    for i, raw_row in enumerate(batch.row_numbers):
        record = {name: columns[name][i] for name in names}
        raw_fields = tuple(record[name] for name in names)
        try:
            clip = _csv_clip(record, raw_row, raw_fields)
        except _BadClip as bad:
            result.quarantined.append(_quarantine(path, raw_row, raw_fields, bad.reason, bad.detail, _csv_line(raw_fields)))
            continue
        result.clips.append(clip)
    return result


def _csv_clip(record: Mapping[str, str], raw_row: int, raw_fields: tuple[str, ...]) -> Clip:
    for name in ("videos_youtube_id", "audio_descriptions_id", "audio_clips_id", CSV_TEXT_FIELD):
        if not record[name].strip():
            raise _BadClip("missing_field", f"{name} is empty")
    return _make_clip(
        video_id=record["videos_youtube_id"].strip(),
        description_id=record["audio_descriptions_id"].strip(),
        clip_id=record["audio_clips_id"].strip(),
        start_time=record["start_time"],
        duration=record["duration"],
        playback_type=record["playback_type"],
        text=record[CSV_TEXT_FIELD],
        status=record.get("videos_youtube_status", ""),
        raw_row=raw_row,
        raw_fields=raw_fields,
    )


def _csv_line(fields_: Sequence[str]) -> str:
    # read_csv_records keeps field values, not line text: re-serialise the record as CSV.
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields_)
    return out.getvalue()


# ---------------------------------------------------------------------------
# API v1 JSON
# ---------------------------------------------------------------------------


def read_api_json(path: str | Path) -> ClipFile:
    """Read one YouDescribe API v1 response (`{type, code: 1000, status, message, result}`).

    Clips are numbered 1, 2, ... in file order across all descriptions. A clip that is not
    usable becomes a quarantine row whose raw_record is the clip's JSON text. A file that is
    not JSON or not this shape raises InputFileError.
    """
    path = Path(path)
    fix = "save the body of a successful `GET /v1/videos/{youtube_id}` response (code 1000) as the file"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "file not found", "check ingest.youdescribe.dir and api_json_pattern in params.yaml") from None
    except UnicodeDecodeError as err:
        raise InputFileError(path, f"not UTF-8 text (byte {err.start})", "re-encode the file as UTF-8") from None
    except json.JSONDecodeError as err:
        raise InputFileError(path, f"not JSON ({err})", fix) from None
    if not isinstance(payload, dict) or "code" not in payload or "result" not in payload:
        raise InputFileError(path, "not a YouDescribe API v1 response (no `code` / `result` keys)", fix)
    if payload["code"] != API_OK_CODE:
        raise InputFileError(
            path, f"API error response: code {payload['code']!r}, message {payload.get('message')!r}", fix
        )
    video = payload["result"]
    if not isinstance(video, dict) or not isinstance(video.get("audio_descriptions"), list):
        raise InputFileError(path, "`result` is not a video with an `audio_descriptions` list", fix)

    video_id = _text(video.get("youtube_id")) or path.stem
    # The video's YouTube availability: YuWA's videos_youtube_status comes from `youtube_status`.
    status = _text(video.get("youtube_status")) or _text(video.get("status"))
    result = ClipFile(raw_file=str(path), text_field=JSON_TEXT_FIELD, raw_records=0)
    duration = _number_or_none(video.get("duration"))
    if duration is not None and duration > 0:
        result.video_duration_s[video_id] = duration

    clip_number = 0
    for description in video["audio_descriptions"]:
        clips = description.get("audio_clips") if isinstance(description, dict) else None
        description_id = _text(description.get("_id")) if isinstance(description, dict) else ""
        if not isinstance(clips, list) or not description_id:
            # Its clips cannot be numbered or grouped: quarantine the description as one record.
            result.raw_records += 1
            raw = _json_text(description)
            result.quarantined.append(
                _quarantine(path, None, (raw,), "bad_json", "audio description without `_id` or `audio_clips` list", raw)
            )
            continue
        for clip in clips:
            clip_number += 1
            result.raw_records += 1
            raw = _json_text(clip)
            try:
                result.clips.append(_json_clip(clip, video_id, description_id, status, clip_number, raw))
            except _BadClip as bad:
                result.quarantined.append(_quarantine(path, clip_number, (raw,), bad.reason, bad.detail, raw))
    return result


def _json_clip(clip: Any, video_id: str, description_id: str, status: str, number: int, raw: str) -> Clip:
    if not isinstance(clip, dict):
        raise _BadClip("bad_json", "audio clip is not a JSON object")
    missing = [key for key in ("_id", "playback_type", "start_time", "duration", "transcript") if key not in clip]
    if missing:
        raise _BadClip("bad_json", f"audio clip lacks key(s) {missing}")
    transcript = clip["transcript"]
    if not isinstance(transcript, list) or not all(isinstance(t, dict) for t in transcript):
        raise _BadClip("bad_json", "transcript is not a list of {sentence, start_time, end_time} objects")
    sentences = [_text(t.get("sentence")) for t in transcript]
    if not any(sentences):
        raise _BadClip("missing_field", "transcript is empty")
    clip_id = _text(clip["_id"])
    if not clip_id:
        raise _BadClip("missing_field", "_id is empty")
    return _make_clip(
        video_id=video_id,
        description_id=description_id,
        clip_id=clip_id,
        start_time=clip["start_time"],
        duration=clip["duration"],
        playback_type=clip["playback_type"],
        text=" ".join(s for s in sentences if s),
        status=status,
        raw_row=number,
        raw_fields=(raw,),
    )


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number_or_none(value: Any) -> float | None:
    try:
        return _number(value, "duration")
    except _BadClip:
        return None


# ---------------------------------------------------------------------------
# Shared clip checks
# ---------------------------------------------------------------------------


def _make_clip(
    *,
    video_id: str,
    description_id: str,
    clip_id: str,
    start_time: Any,
    duration: Any,
    playback_type: Any,
    text: str,
    status: str | None,
    raw_row: int,
    raw_fields: tuple[str, ...],
) -> Clip:
    kind = playback_type.strip().lower() if isinstance(playback_type, str) else playback_type
    if kind not in PLAYBACK_TYPES:
        raise _BadClip("bad_playback_type", f"playback_type {playback_type!r} is neither inline nor extended")
    start = _number(start_time, "start_time")
    length = _number(duration, "duration")
    text = text.strip()  # YuWA transcripts start with a space
    if not text:
        raise _BadClip("missing_field", "transcript text is empty")
    return Clip(
        video_id=video_id,
        description_id=description_id,
        clip_id=clip_id,
        start_s=start,
        end_s=start + length if kind == SEGMENT_INLINE else start,
        kind=kind,
        pause_s=length if kind == SEGMENT_EXTENDED else None,
        text=text,
        status=(status or "").strip(),
        raw_row=raw_row,
        raw_fields=raw_fields,
    )


def _number(value: Any, name: str) -> float:
    """A finite, non-negative number of seconds (from a CSV string or a JSON number/string)."""
    if isinstance(value, str) and not value.strip():
        raise _BadClip("missing_field", f"{name} is empty")
    if value is None:
        raise _BadClip("missing_field", f"{name} is null")
    if isinstance(value, bool):
        raise _BadClip("bad_number", f"{name} {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _BadClip("bad_number", f"{name} {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise _BadClip("bad_number", f"{name} {value!r} is not a finite number of seconds >= 0")
    return number


def _quarantine(
    path: str | Path, raw_row: int | None, raw_fields: Sequence[str], reason: str, detail: str, raw_record: str
) -> dict[str, Any]:
    return {
        "source": SOURCE_YOUDESCRIBE,
        "raw_file": str(path),
        "raw_row": raw_row,
        "raw_row_hash": raw_hash(raw_fields),
        "reason": reason,
        "detail": detail,
        "raw_record": raw_record,
    }


# ---------------------------------------------------------------------------
# Across files
# ---------------------------------------------------------------------------


def read(params: YouDescribeParams) -> Iterator[FileResult]:
    """The dump's files, one result each: CSV exports first, then API responses, each sorted.

    A clip seen twice is kept where it was first read, so this order decides which copy wins.
    """
    where = "ingest.youdescribe"
    csv_files = find_inputs(params.dir, params.csv_pattern, where) if params.csv_pattern else []
    json_files = find_inputs(params.dir, params.api_json_pattern, where) if params.api_json_pattern else []
    return file_results(_clip_files(csv_files, json_files), params.window, params.license)


def _clip_files(csv_files: Sequence[Path], json_files: Sequence[Path]) -> Iterator[ClipFile]:
    # Read lazily: a file is read when the stage asks for its result.
    for path in csv_files:
        yield read_yuwa_csv(path)
    for path in json_files:
        yield read_api_json(path)


def file_results(clip_files: Iterable[ClipFile], window: WindowParams, license: str) -> Iterator[FileResult]:
    """Turn read files (in the order given) into examples, one result per file."""
    for clip_file in quarantine_repeats(clip_files):
        rows = narration_examples(clip_file, window, license)
        yield FileResult(
            raw_file=clip_file.raw_file,
            raw_records=clip_file.raw_records,
            records_used=sum(len(r["segments"]) for r in rows),
            examples=examples_table(rows),
            quarantined=quarantine_table(clip_file.quarantined),
        )


def quarantine_repeats(files: Iterable[ClipFile]) -> Iterator[ClipFile]:
    """Quarantine clips already read, in file order, then record order (reason duplicate_key).

    A clip is a repeat when its audio clip id was seen before, or when its description was
    already read from an earlier file (a description is never split across files: that would
    give two examples the same example_id).
    """
    seen_clips: set[str] = set()
    description_file: dict[str, str] = {}
    for clip_file in files:
        kept: list[Clip] = []
        quarantined = list(clip_file.quarantined)
        for clip in sorted(clip_file.clips, key=lambda c: c.raw_row):
            first_file = description_file.setdefault(clip.description_id, clip_file.raw_file)
            if clip.clip_id in seen_clips:
                detail = f"audio_clips_id {clip.clip_id} was already read"
            elif first_file != clip_file.raw_file:
                detail = f"audio description {clip.description_id} was already read from {first_file}"
            else:
                seen_clips.add(clip.clip_id)
                kept.append(clip)
                continue
            raw_record = clip.raw_fields[0] if clip_file.text_field == JSON_TEXT_FIELD else _csv_line(clip.raw_fields)
            quarantined.append(
                _quarantine(clip_file.raw_file, clip.raw_row, clip.raw_fields, "duplicate_key", detail, raw_record)
            )
        yield replace(clip_file, clips=kept, quarantined=quarantined)


def narration_examples(clip_file: ClipFile, window: WindowParams, license: str) -> list[dict[str, Any]]:
    """One EXAMPLE_SCHEMA row per narration window of each description in `clip_file`.

    example_id is `youdescribe:<audio_descriptions_id>:<window index from 0>`; a description's
    clips are ordered by start time (ties by audio clip id) before windowing.
    """
    by_description: dict[str, list[Clip]] = {}
    for clip in clip_file.clips:
        by_description.setdefault(clip.description_id, []).append(clip)

    rows: list[dict[str, Any]] = []
    for description_id, clips in by_description.items():
        clips = sorted(clips, key=lambda c: (c.start_s, c.clip_id))
        # A description belongs to one video; its first clip in file order names it.
        first = min(clips, key=lambda c: c.raw_row)
        duration = clip_file.video_duration_s.get(first.video_id)
        windows = narration_windows([(c.start_s, c.end_s) for c in clips], window, duration)
        for index, span in enumerate(windows):
            members = [clips[i] for i in span.members]
            rows.append(
                {
                    "example_id": f"{SOURCE_YOUDESCRIBE}:{description_id}:{index}",
                    "source": SOURCE_YOUDESCRIBE,
                    "raw_file": clip_file.raw_file,
                    "raw_row": members[0].raw_row,
                    "raw_row_hash": raw_hash([f for c in members for f in c.raw_fields]),
                    "media_kind": "video",
                    "video_id": first.video_id,
                    "url": f"https://www.youtube.com/watch?v={first.video_id}",
                    "clip_key": description_id,
                    "clip_start_s": span.start_s,
                    "clip_end_s": span.end_s,
                    "text": " ".join(c.text for c in members),
                    "text_field": clip_file.text_field,
                    "segments": [
                        {"start_s": c.start_s, "end_s": c.end_s, "text": c.text, "kind": c.kind, "pause_s": c.pause_s}
                        for c in members
                    ],
                    "duration_s": duration,
                    "status": first.status,
                    "license": license,
                }
            )
    return rows
