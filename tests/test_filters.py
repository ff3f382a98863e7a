"""Filter rules: each fires on the defect it targets and stays quiet on a clean example."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from config.params import load_params
from curation.filters import REJECT_REASONS, reject_reasons
from curation.schema import EXAMPLE_SCHEMA

CLEAN = "A red circle moves from the left edge to the right edge while a blue square waits in the middle."
CONFIG = load_params().filter


def example(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {name: None for name in EXAMPLE_SCHEMA.names}
    base.update(
        example_id="lvd2m:x",
        source="lvd2m",
        raw_file="f.csv",
        raw_row=2,
        raw_row_hash="0" * 32,
        media_kind="video",
        video_id="x",
        text=CLEAN,
        text_field="refined_caption",
        segments=[],
        license="test",
        clip_start_s=1.0,
        clip_end_s=7.0,
        clip_duration_s=6.0,
        language="en",
    )
    base.update(overrides)
    return base


def judge(*rows: dict[str, Any]) -> list[list[str]]:
    schema = pl.from_arrow(EXAMPLE_SCHEMA.empty_table()).schema  # type: ignore[union-attr]
    frame = pl.DataFrame(list(rows), schema={**schema, "language": pl.String})
    return reject_reasons(frame, CONFIG)["reject_reasons"].to_list()


def test_clean_examples_of_every_source_are_kept() -> None:
    rows = [
        example(),
        example(source="youdescribe", text="A red circle appears on the left.", clip_duration_s=None, duration_s=30.0),
        example(source="ad_webvtt", text="A blue square turns green.", clip_duration_s=None),
        example(source="image_descriptions", media_kind="image", clip_start_s=None, clip_end_s=None,
                clip_duration_s=None, text=" ".join([CLEAN] * 2)),
    ]
    assert judge(*rows) == [[], [], [], []]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"text": "A red circle."}, "too_few_words"),
        ({"text": " ".join(f"word{i}" for i in range(300))}, "too_many_words"),
        ({"language": "es"}, "language_not_kept"),
        ({"text": CLEAN + " ### @@@ ^^^ ~~~ <<< >>> ||| {{{ }}} ^^^ ~~~ ###"}, "symbol_ratio"),
        ({"text": "the red ball rolls " * 12}, "repetition"),
        ({"text": "I'm sorry, but I cannot provide a description of this video as it shows nothing visible."},
         "boilerplate"),
        ({"text": CLEAN + " Subscribe to my channel at www.example.com for more."}, "boilerplate"),
        ({"clip_start_s": 9.0, "clip_end_s": 3.0}, "time_inverted"),
        ({"clip_start_s": 3.0, "clip_end_s": 3.0}, "time_inverted"),
        ({"clip_start_s": 3.0, "clip_end_s": 3.2, "clip_duration_s": 0.2}, "time_too_short"),
        ({"clip_start_s": -2.0, "clip_end_s": 4.0, "clip_duration_s": 6.0}, "time_outside_video"),
        ({"clip_start_s": 25.0, "clip_end_s": 31.0, "duration_s": 30.0}, "time_outside_video"),
        ({"clip_start_s": 1.0, "clip_end_s": 20.0, "clip_duration_s": 6.0}, "time_mismatch"),
        ({"segments": [{"start_s": 4.0, "end_s": 2.0, "text": "x", "kind": "inline", "pause_s": None}]},
         "segment_time_inverted"),
        ({"segments": [{"start_s": 4.0, "end_s": 4.0, "text": "x", "kind": "cue", "pause_s": None}]},
         "segment_time_inverted"),
    ],
)
def test_each_rule_fires_on_its_defect(overrides: dict[str, Any], reason: str) -> None:
    assert reason in REJECT_REASONS
    assert reason in judge(example(**overrides))[0]


def test_extended_clip_with_zero_length_on_the_timeline_is_fine() -> None:
    extended = {"start_s": 4.0, "end_s": 4.0, "text": "x", "kind": "extended", "pause_s": 3.5}
    assert judge(example(segments=[extended])) == [[]]


def test_speech_to_text_artefacts_count_stutters_in_transcribed_sources_only() -> None:
    noisy = "um so the the red uh circle circle moves um to the the left"
    rows = [example(source="youdescribe", text=noisy, clip_duration_s=None),
            example(source="youdescribe", text="[inaudible] a red circle [inaudible] moves [music]",
                    clip_duration_s=None),
            example(source="youdescribe", text="The red circle moves to the left.", clip_duration_s=None)]
    assert [("stt_artefacts" in r) for r in judge(*rows)] == [True, True, False]


def test_all_reasons_are_kept_not_just_the_first() -> None:
    reasons = judge(example(text="Hola.", language="es", clip_start_s=5.0, clip_end_s=1.0))[0]
    assert {"too_few_words", "language_not_kept", "time_inverted"} <= set(reasons)


def test_word_count_is_reported() -> None:
    schema = pl.from_arrow(EXAMPLE_SCHEMA.empty_table()).schema  # type: ignore[union-attr]
    frame = pl.DataFrame([example()], schema={**schema, "language": pl.String})
    assert reject_reasons(frame, CONFIG)["word_count"].to_list() == [len(CLEAN.split())]
