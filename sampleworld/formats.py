"""How the dumps are written on disk: column orders of the real files, timestamps, spans, floats, CSV, ObjectIds.

The column lists are those of the real releases (LVD-2M, its HDVG file, the YuWA export), in their
shuffled orders; ingest must read them by name. `parse_span` is the inverse of `fmt_span`.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

LVD_MAIN_COLUMNS = [
    "video_id", "refined_caption", "span", "key", "total score", "url",
    "orig_caption", "video_time", "dataset_src", "rewritten_caption", "raw_caption",
]
HDVG_COLUMNS = [
    "key", "orig_span", "raw_caption", "video_id", "scene_cut", "total score", "refined_caption",
    "url", "dataset_src", "span", "video_time", "rewritten_caption", "orig_caption",
]
YUWA_COLUMNS = [
    "videos_youtube_id", "audio_descriptions_id", "audio_clips_id", "videos_youtube_status", "file_path",
    "file_name", "start_time", "end_time", "duration", "playback_type", "transcript_sentence",
]


def fmt_ts(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{(ms // 60000) % 60:02d}:{(ms // 1000) % 60:02d}.{ms % 1000:03d}"


def fmt_span(a: float, b: float) -> str:
    return f"['{fmt_ts(a)}', '{fmt_ts(b)}']"


def parse_span(text: str) -> tuple[float, float]:
    """Inverse of fmt_span (for well-formed spans only)."""
    (h1, m1, s1), (h2, m2, s2) = re.findall(r"'(\d+):(\d+):(\d+(?:\.\d+)?)'", text)
    return int(h1) * 3600 + int(m1) * 60 + float(s1), int(h2) * 3600 + int(m2) * 60 + float(s2)


def fmt_float(x: float, nd: int = 3) -> str:
    return repr(round(float(x), nd))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def object_id(ts: int, machine: int, counter: int) -> str:
    return f"{ts & 0xFFFFFFFF:08x}{machine & 0xFFFFFFFFFF:010x}{counter & 0xFFFFFF:06x}"
