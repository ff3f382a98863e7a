"""WebVTT audio-description tracks -> narration examples.

Each cue is a described moment (kind "cue"); cues are grouped into narration windows
(curation/windows.py) and each window becomes one example. The file name up to the first
"_" is the video id (`vid00042_descriptions_en.vtt` -> `vid00042`). `read(params)` is the
source's reader for the ingest stage, one result per track.

Parsing is webvtt-py's; this module only decides what a cue's text is (cue tags such as
`<v Speaker>`, `<b>` and `<c.x>` removed, HTML entities decoded, lines joined with a space)
and what to do with unusable cues:
- a cue with no text is quarantined (missing_field);
- a cue whose end is not after its start is kept: the filter stage rejects it, with a reason
  a person can count in the funnel.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from config.params import AdWebvttParams, WindowParams
from curation.bookkeeping import FileResult
from curation.io import InputFileError, find_inputs
from curation.schema import SEGMENT_CUE, SOURCE_AD_WEBVTT, examples_table, quarantine_table, raw_hash
from curation.windows import narration_windows

TEXT_FIELD = "cue"


@dataclass(frozen=True)
class Cue:
    """One WebVTT cue, numbered from 1 in file order."""

    number: int
    start_s: float
    end_s: float
    text: str  # tags stripped, entities decoded, whitespace collapsed
    raw_fields: tuple[str, str, str]  # start, end and payload as written, for lineage hashes

    @property
    def raw_record(self) -> str:
        start, end, payload = self.raw_fields
        return f"{start} --> {end}\n{payload}"


def video_id_from_path(path: str | Path) -> str:
    """`vid00042_descriptions_en.vtt` -> `vid00042` (the whole stem when it has no "_")."""
    return Path(path).stem.split("_", 1)[0]


def read_cues(path: str | Path) -> list[Cue]:
    """Parse a WebVTT file with webvtt-py; raise InputFileError when it cannot be parsed."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found", "check ingest.ad_webvtt.dir and pattern in params.yaml")
    fix = "check it is a WebVTT file: first line `WEBVTT`, then cues timed `hh:mm:ss.ttt --> hh:mm:ss.ttt`"
    try:
        track = webvtt.read(str(path), encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputFileError(path, f"not UTF-8 text (byte {err.start})", "re-encode the file as UTF-8") from None
    except (MalformedFileError, MalformedCaptionError) as err:
        raise InputFileError(path, f"not a valid WebVTT file ({err})", fix) from None
    return [
        Cue(
            number=number,
            start_s=caption.start_time.in_milliseconds() / 1000,
            end_s=caption.end_time.in_milliseconds() / 1000,
            text=" ".join(html.unescape(caption.text).split()),
            raw_fields=(caption.start, caption.end, caption.raw_text),
        )
        for number, caption in enumerate(track.captions, start=1)
    ]


def read(params: AdWebvttParams) -> Iterator[FileResult]:
    """The description tracks (params dir + pattern, in name order), one result per track."""
    for path in find_inputs(params.dir, params.pattern, "ingest.ad_webvtt"):
        yield read_track(path, params.window, params.license)


def read_track(path: str | Path, window: WindowParams, license: str) -> FileResult:
    """Read one description track and turn its cues into windowed examples.

    example_id is `ad_webvtt:<file stem>:<window index from 0>`; raw_row is the number of the
    window's first cue.
    """
    path = Path(path)
    cues = read_cues(path)
    quarantined = [
        {
            "source": SOURCE_AD_WEBVTT,
            "raw_file": str(path),
            "raw_row": cue.number,
            "raw_row_hash": raw_hash(cue.raw_fields),
            "reason": "missing_field",
            "detail": "cue has no text",
            "raw_record": cue.raw_record,
        }
        for cue in cues
        if not cue.text
    ]
    # WebVTT asks for cues in start order, but a hand-written track may not be: sort (stable).
    usable = sorted((c for c in cues if c.text), key=lambda c: (c.start_s, c.number))
    video_id = video_id_from_path(path)

    examples: list[dict[str, Any]] = []
    for index, span in enumerate(narration_windows([(c.start_s, c.end_s) for c in usable], window)):
        members = [usable[i] for i in span.members]
        examples.append(
            {
                "example_id": f"{SOURCE_AD_WEBVTT}:{path.stem}:{index}",
                "source": SOURCE_AD_WEBVTT,
                "raw_file": str(path),
                "raw_row": members[0].number,
                "raw_row_hash": raw_hash([f for c in members for f in c.raw_fields]),
                "media_kind": "video",
                "video_id": video_id,
                "url": None,
                "clip_key": path.stem,
                "clip_start_s": span.start_s,
                "clip_end_s": span.end_s,
                "text": " ".join(c.text for c in members),
                "text_field": TEXT_FIELD,
                "segments": [
                    {"start_s": c.start_s, "end_s": c.end_s, "text": c.text, "kind": SEGMENT_CUE, "pause_s": None}
                    for c in members
                ],
                "license": license,
            }
        )
    return FileResult(
        raw_file=str(path),
        raw_records=len(cues),
        records_used=sum(len(e["segments"]) for e in examples),
        examples=examples_table(examples),
        quarantined=quarantine_table(quarantined),
    )
