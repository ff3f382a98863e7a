"""Timed audio-description tracks: narrations as WebVTT cues (and SubRip) inside their scenes.

A cue spans its scene and holds what can be spoken in it: at most `words_per_second` x the
scene's length words. Whole sentences are kept while they fit; when even the first does not,
it is cut at a word boundary. Files are written by webvtt-py; the WebVTT track is meant for an
HTML5 `<track kind="descriptions" srclang="en" src="...">`, which a NOTE at its top says.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def fit_to_time(text: str, seconds: float, words_per_second: float) -> str:
    """The longest prefix of whole sentences speakable in `seconds`; else the first words that are."""
    budget = max(1, math.floor(seconds * words_per_second))
    kept: list[str] = []
    for sentence in SENTENCE_END.split(text.strip()):
        if len(" ".join(kept + [sentence]).split()) > budget:
            break
        kept.append(sentence)
    if kept:
        return " ".join(kept)
    return " ".join(text.split()[:budget])


def cues_for_scenes(scenes: Sequence[tuple[float, float]], narrations: Sequence[str], duration_s: float, *,
                    words_per_second: float = 2.5) -> list[Cue]:
    """One cue per scene with a narration, clipped to [0, duration_s], in time order."""
    if words_per_second <= 0:
        raise ValueError("words_per_second must be > 0")
    cues = []
    for (start, end), text in sorted(zip(scenes, narrations)):
        start, end = max(0.0, start), min(end, duration_s)
        fitted = fit_to_time(text, end - start, words_per_second) if text.strip() else ""
        if end > start and fitted:
            cues.append(Cue(start, end, fitted))
    return cues


def timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def write_tracks(cues: Sequence[Cue], vtt_path: str | Path, *, srt: bool = False) -> list[Path]:
    """Write the WebVTT track (and the SubRip twin when `srt`); returns the paths written."""
    import webvtt

    vtt = webvtt.WebVTT(header_comments=["audio descriptions: use as <track kind=\"descriptions\">"])
    for cue in cues:
        # Narrations are model output: a blank line would end the cue early, "-->" would read as timing.
        text = " ".join(cue.text.split()).replace("-->", "->")
        vtt.captions.append(webvtt.Caption(timestamp(cue.start_s), timestamp(cue.end_s), text))
    path = Path(vtt_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vtt.save(str(path))
    written = [path]
    if srt:
        vtt.save_as_srt(str(path.with_suffix(".srt")))
        written.append(path.with_suffix(".srt"))
    return written
