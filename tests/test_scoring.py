"""Scores: the documented formulas, and independence from row order."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from curation.schema import FILTERED_SCHEMA
from curation.scoring import idf_means, score_examples

TARGETS = {"lvd2m": 20, "youdescribe": 10, "ad_webvtt": 10, "image_descriptions": 40}
BUCKETS = ["easy", "medium", "hard"]
SEGMENT = {"start_s": 1.0, "end_s": 2.0, "text": "x", "kind": "inline", "pause_s": None}


def example(i: int, text: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in FILTERED_SCHEMA.names}
    row.update(
        example_id=f"lvd2m:v{i}", source="lvd2m", raw_file="f", raw_row=i + 2, raw_row_hash="0", media_kind="video",
        video_id=f"v{i}", text=text, text_field="refined_caption", segments=[], license="t",
        clip_start_s=0.0, clip_end_s=6.0, word_count=len(text.split()), language="en",
    )
    row.update(overrides)
    return row


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = pl.from_arrow(FILTERED_SCHEMA.empty_table()).schema  # type: ignore[union-attr]
    return pl.DataFrame(rows, schema=schema)


ROWS = [
    example(0, "A red circle moves to the left."),
    example(1, "A blue square turns green while a yellow triangle bounces up and down near the sign.",
            motion_score=40.0, clip_end_s=12.0, segments=[SEGMENT, SEGMENT, SEGMENT]),
    example(2, "A red circle moves to the right. It stops. Then it turns purple and leaves the frame quickly.",
            motion_score=25.0),
    example(3, "um a red uh circle um moves", source="youdescribe", example_id="youdescribe:d:0"),
    example(4, " ".join(["A photo of a garden with tall sunflowers and a wooden fence."] * 3),
            source="image_descriptions", media_kind="image", clip_start_s=None, clip_end_s=None,
            example_id="image_descriptions:k"),
]


def test_idf_mean_is_higher_for_rarer_words() -> None:
    texts = pl.Series(["the red circle", "the red square", "the red zeppelin quokka"])
    means = idf_means(texts).to_list()
    n = 3
    idf = lambda df: math.log((1 + n) / (1 + df)) + 1  # noqa: E731
    assert means[0] == pytest.approx((idf(3) + idf(3) + idf(1)) / 3)
    assert means[2] > means[0]


def test_components_and_quality_formula() -> None:
    scored = score_examples(frame(ROWS), TARGETS, BUCKETS)
    first = scored.row(0, named=True)
    assert first["sentence_count"] == 1 and first["event_count"] == 1
    assert first["clip_s"] == 6.0 and first["descriptions_per_min"] == pytest.approx(10.0)
    length_fit = math.exp(-abs(math.log(7 / 20)))
    diversity = min(1.0, first["type_token_ratio"] / 0.5)
    assert first["quality"] == pytest.approx(0.4 * length_fit + 0.3 * diversity + 0.3 * 1.0)
    noisy = scored.filter(pl.col("source") == "youdescribe").row(0, named=True)
    assert noisy["stt_artefact_ratio"] == pytest.approx(3 / 7)
    assert noisy["quality"] < first["quality"]
    image = scored.filter(pl.col("media_kind") == "image").row(0, named=True)
    assert image["clip_s"] is None and image["descriptions_per_min"] is None


def test_difficulty_grows_with_length_events_and_motion() -> None:
    scored = score_examples(frame(ROWS), TARGETS, BUCKETS).sort("example_id")
    by_id = dict(zip(scored["example_id"], scored["difficulty"]))
    assert by_id["lvd2m:v1"] > by_id["lvd2m:v0"]
    assert set(scored["difficulty_bucket"]) <= set(BUCKETS)
    assert all(0.0 <= d <= 1.0 for d in scored["difficulty"])


def test_scores_do_not_depend_on_row_order() -> None:
    forward = score_examples(frame(ROWS), TARGETS, BUCKETS).sort("example_id")
    backward = score_examples(frame(ROWS[::-1]), TARGETS, BUCKETS).sort("example_id")
    assert forward.equals(backward)


def test_buckets_are_equal_count_per_media_kind() -> None:
    rows = [example(i, " ".join(["word"] * (5 + i)) + ".", motion_score=float(i)) for i in range(30)]
    scored = score_examples(frame(rows), TARGETS, BUCKETS)
    assert scored.group_by("difficulty_bucket").len().sort("difficulty_bucket")["len"].to_list() == [10, 10, 10]
    easiest = scored.sort("difficulty").head(10)
    assert set(easiest["difficulty_bucket"]) == {"easy"}


def test_missing_target_is_an_actionable_error() -> None:
    with pytest.raises(ValueError, match=r"score\.target_words.*youdescribe"):
        score_examples(frame(ROWS), {"lvd2m": 20, "image_descriptions": 40}, BUCKETS)
