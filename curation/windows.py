"""Narration windows: which stretch of video an example shows, given the described moments.

A *described moment* is a (start, end) pair in seconds on the video timeline: a YouDescribe
inline clip spans [start, start + duration]; an extended clip pauses the video, so its moment
has zero length (end == start); a WebVTT cue spans its cue times.

A window covers one or more consecutive moments:

    [first start - pad_before_s, last end + pad_after_s]

widened around its centre to at least `min_window_s`, then clamped at 0 and, when known, at
the video duration. Clamping only ever trims padding: a window always covers its moments, so a
moment that overruns the stated duration stays visible to the filter stage (which judges it
against `filter.time.duration_tolerance_s`) instead of being silently cut here.

Policies:
- ``per_clip``: every moment is its own window;
- ``merged``: the next moment joins the current window when it starts within `merge_gap_s` of
  the window's last end and the joined window would be at most `max_window_s` long. A single
  moment longer than `max_window_s` still gets its own window (it cannot be split).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config.params import WindowParams


@dataclass(frozen=True)
class Window:
    """A narration window and the indices (into the input moments) of the moments it covers."""

    start_s: float
    end_s: float
    members: tuple[int, ...]


def narration_windows(
    moments: Sequence[tuple[float, float]], params: WindowParams, duration_s: float | None = None
) -> list[Window]:
    """Group time-sorted (start, end) moments into windows as `params` (`ingest.<source>.window`) says.

    `moments` must be sorted by start. A moment whose end is before its start (a broken cue)
    is kept as is; its window simply covers its start. `duration_s` (the video length, if
    known) limits how far padding may reach.
    """
    for i in range(1, len(moments)):
        if moments[i][0] < moments[i - 1][0]:
            raise ValueError(f"moments must be sorted by start; moment {i} starts before moment {i - 1}")

    windows: list[Window] = []
    group: list[int] = []
    for index, (start, _end) in enumerate(moments):
        if group and params.policy == "merged":
            last_end = max(_moment_end(moments[i]) for i in group)
            joined = _window(moments, [*group, index], params, duration_s)
            if start - last_end <= params.merge_gap_s and joined.end_s - joined.start_s <= params.max_window_s:
                group.append(index)
                continue
        if group:
            windows.append(_window(moments, group, params, duration_s))
        group = [index]
    if group:
        windows.append(_window(moments, group, params, duration_s))
    return windows


def _moment_end(moment: tuple[float, float]) -> float:
    # A reversed moment (end < start) still occupies its start instant.
    return max(moment[0], moment[1])


def _window(
    moments: Sequence[tuple[float, float]], members: Sequence[int], params: WindowParams, duration_s: float | None
) -> Window:
    first = min(moments[i][0] for i in members)
    last = max(_moment_end(moments[i]) for i in members)
    start = first - params.pad_before_s
    end = last + params.pad_after_s
    if end - start < params.min_window_s:
        centre = (start + end) / 2
        start = centre - params.min_window_s / 2
        end = centre + params.min_window_s / 2
    # Clamp the padding, never the described moments themselves.
    start = min(max(start, 0.0), first)
    if duration_s is not None:
        end = max(min(end, duration_s), last)
    return Window(start_s=start, end_s=end, members=tuple(members))
