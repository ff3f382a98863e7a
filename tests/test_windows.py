"""Narration windows: padding, widening, clamping and the two grouping policies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.params import WindowParams
from curation.windows import narration_windows

PARAMS = {
    "policy": "merged",
    "pad_before_s": 1.0,
    "pad_after_s": 1.0,
    "min_window_s": 2.0,
    "max_window_s": 20.0,
    "merge_gap_s": 3.0,
}


def policy(**overrides: object) -> WindowParams:
    return WindowParams.model_validate({**PARAMS, **overrides})


def spans(windows: list) -> list[tuple[float, float, tuple[int, ...]]]:
    return [(pytest.approx(w.start_s), pytest.approx(w.end_s), w.members) for w in windows]


def test_window_params_are_checked_when_read() -> None:
    # narration_windows trusts its params: params.yaml is validated when it is read.
    with pytest.raises(ValidationError, match="policy"):
        policy(policy="sliding")
    with pytest.raises(ValidationError, match="larger than max_window_s"):
        policy(min_window_s=30.0)


def test_per_clip_pads_each_moment() -> None:
    windows = narration_windows([(10.0, 14.0), (15.0, 18.0)], policy(policy="per_clip"))
    assert spans(windows) == [(9.0, 15.0, (0,)), (14.0, 19.0, (1,))]


def test_zero_length_moment_is_widened_around_its_centre() -> None:
    # An extended YouDescribe clip: the video pauses, so the moment has no length.
    windows = narration_windows([(41.0, 41.0)], policy(pad_before_s=0.5, pad_after_s=0.5, min_window_s=3.0))
    assert spans(windows) == [(39.5, 42.5, (0,))]


def test_window_is_clamped_at_zero_and_at_the_video_duration() -> None:
    windows = narration_windows([(0.2, 0.2), (59.5, 59.8)], policy(policy="per_clip"), duration_s=60.0)
    assert spans(windows) == [(0.0, 1.2, (0,)), (58.5, 60.0, (1,))]


def test_clamping_never_cuts_a_moment_that_overruns_the_duration() -> None:
    # The filter stage judges overruns; the window must still show the described moment.
    [window] = narration_windows([(58.0, 62.0)], policy(), duration_s=60.0)
    assert (window.start_s, window.end_s) == (57.0, 62.0)


def test_merged_joins_moments_within_the_gap() -> None:
    moments = [(10.0, 12.0), (14.0, 15.0), (19.0, 20.0)]  # gaps 2.0 (join) and 4.0 (split)
    assert spans(narration_windows(moments, policy())) == [(9.0, 16.0, (0, 1)), (18.0, 21.0, (2,))]


def test_merged_gap_is_measured_from_the_latest_end_so_far() -> None:
    # The second moment ends before the first: the third's gap is measured from 30, not 12.
    moments = [(10.0, 30.0), (11.0, 12.0), (32.0, 33.0)]
    assert [w.members for w in narration_windows(moments, policy(max_window_s=40.0))] == [(0, 1, 2)]


def test_merged_stops_growing_at_max_window() -> None:
    moments = [(10.0, 10.0), (13.0, 13.0), (16.0, 16.0), (19.0, 19.0)]
    # With padding, three moments make [9, 17] (8 s); a fourth would make [9, 20] (11 s).
    windows = narration_windows(moments, policy(max_window_s=9.0))
    assert [w.members for w in windows] == [(0, 1, 2), (3,)]
    assert all(w.end_s - w.start_s <= 9.0 for w in windows)


def test_a_single_moment_longer_than_max_window_keeps_its_own_window() -> None:
    [window] = narration_windows([(0.0, 30.0)], policy(max_window_s=10.0))
    assert (window.start_s, window.end_s) == (0.0, 31.0)


def test_reversed_moment_covers_its_start() -> None:
    # A broken cue (end before start) is not dropped here; the filter stage rejects it.
    [window] = narration_windows([(10.0, 9.0)], policy(min_window_s=0.0))
    assert (window.start_s, window.end_s) == (9.0, 11.0)


def test_unsorted_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted by start"):
        narration_windows([(5.0, 6.0), (1.0, 2.0)], policy())


def test_no_moments_no_windows() -> None:
    assert narration_windows([], policy()) == []
