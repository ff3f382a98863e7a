"""Mixtures: weights and shortfalls, video-disjoint splits, curriculum order, determinism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import polars as pl
import pytest

from config.params import DataParams
from curation.io import write_parquet
from curation.mixing import build_mixture, source_quotas
from curation.schema import MIXTURE_SCHEMA, SCORED_SCHEMA, conform

BUCKETS = ["easy", "medium", "hard"]


def scored(n_lvd: int = 200, n_yd: int = 40) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for i in range(n_lvd + n_yd):
        source = "lvd2m" if i < n_lvd else "youdescribe"
        difficulty = (i * 37 % 100) / 100
        row: dict[str, Any] = {name: None for name in SCORED_SCHEMA.names}
        row.update(
            example_id=f"{source}:{i}", source=source, raw_file="f", raw_row=i, raw_row_hash="0", media_kind="video",
            video_id=f"vid{i // 2}", text="t", text_hash="0", text_field="x", segments=[], license="l", word_count=1, language="en",
            sentence_count=1, event_count=1, idf_mean=1.0, type_token_ratio=1.0, stt_artefact_ratio=0.0, quality=0.5,
            difficulty=difficulty, difficulty_bucket=BUCKETS[min(2, int(difficulty * 3))],
        )
        rows.append(row)
    return pl.from_arrow(conform(pl.DataFrame(rows), SCORED_SCHEMA))  # type: ignore[return-value]


def config(**mix: Any) -> DataParams:
    base = {"lvd2m": 0.6, "youdescribe": 0.4, "size": 100, "seed": 0}
    base.update(mix)
    policy = base.pop("policy", "easy_to_hard")
    return DataParams.model_validate({"mix": base, "splits": {"val": 0.1, "test": 0.1}, "curriculum": {"policy": policy}})


def test_quotas_follow_weights_and_sum_to_size() -> None:
    assert source_quotas({"a": 0.5, "b": 0.25, "c": 0.25}, 10) == {"a": 5, "b": 3, "c": 2}
    assert sum(source_quotas({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, 100).values()) == 100


def test_weights_are_met_and_a_shortfall_is_reported_not_filled() -> None:
    splits, manifest = build_mixture(scored(), config(youdescribe=0.6, lvd2m=0.4), BUCKETS)
    sources = manifest["sources"]
    assert sources["lvd2m"] == {"asked": 40, "available": 200, "obtained": 40, "shortfall": 0}
    assert sources["youdescribe"] == {"asked": 60, "available": 40, "obtained": 40, "shortfall": 20}
    assert sum(frame.height for frame in splits.values()) == 80  # not topped up with lvd2m


def test_no_video_in_two_splits() -> None:
    splits, _ = build_mixture(scored(), config(size=240), BUCKETS)
    videos = {name: set(frame["video_id"]) for name, frame in splits.items()}
    assert not videos["train"] & videos["val"] and not videos["train"] & videos["test"]
    assert not videos["val"] & videos["test"]
    assert all(frame.height > 0 for frame in splits.values())


def test_split_of_a_video_does_not_depend_on_the_mixture() -> None:
    small, _ = build_mixture(scored(), config(size=60), BUCKETS)
    large, _ = build_mixture(scored(), config(size=200, seed=7), BUCKETS)
    split_of = lambda splits: {v: s for s, f in splits.items() for v in f["video_id"]}  # noqa: E731
    a, b = split_of(small), split_of(large)
    assert all(b[v] == s for v, s in a.items() if v in b)


@pytest.mark.parametrize("policy", ["easy_to_hard", "bucketed"])
def test_train_is_in_curriculum_order(policy: str) -> None:
    splits, _ = build_mixture(scored(), config(policy=policy), BUCKETS)
    train = splits["train"]
    order = [BUCKETS.index(b) for b in train["difficulty_bucket"]]
    assert order == sorted(order)
    assert train["curriculum_position"].to_list() == list(range(train.height))
    if policy == "easy_to_hard":
        for bucket in BUCKETS:
            values = train.filter(pl.col("difficulty_bucket") == bucket)["difficulty"].to_list()
            assert values == sorted(values)


def test_shuffle_baseline_is_not_sorted_but_is_seeded() -> None:
    first, _ = build_mixture(scored(), config(policy="shuffle"), BUCKETS)
    again, _ = build_mixture(scored(), config(policy="shuffle"), BUCKETS)
    other, _ = build_mixture(scored(), config(policy="shuffle", seed=1), BUCKETS)
    order = [BUCKETS.index(b) for b in first["train"]["difficulty_bucket"]]
    assert order != sorted(order)
    assert first["train"]["example_id"].to_list() == again["train"]["example_id"].to_list()
    assert first["train"]["example_id"].to_list() != other["train"]["example_id"].to_list()


def test_mixture_does_not_depend_on_input_row_order() -> None:
    rows = scored()
    a, _ = build_mixture(rows, config(), BUCKETS)
    b, _ = build_mixture(rows.reverse(), config(), BUCKETS)
    assert all(a[s].equals(b[s]) for s in a)


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"mix\.youdescrbe\n.*Extra inputs are not permitted"):
        config(youdescrbe=0.4)
    with pytest.raises(ValueError, match="every source weight is 0"):
        config(lvd2m=0, youdescribe=0)
    with pytest.raises(ValueError, match=r"curriculum\.policy\n.*'easy_to_hard', 'bucketed' or 'shuffle'"):
        config(policy="hardest_first")


def test_written_splits_load_with_datasets(tmp_path: Path) -> None:
    splits, _ = build_mixture(scored(), config(), BUCKETS)
    for name, frame in splits.items():
        write_parquet(conform(frame, MIXTURE_SCHEMA), tmp_path / f"{name}.parquet")
    loaded = datasets.load_dataset("parquet", data_dir=str(tmp_path), cache_dir=str(tmp_path / "hf"))
    assert set(loaded) == {"train", "validation", "test"}  # datasets maps val.parquet to "validation"
    assert loaded["train"].num_rows == splits["train"].height
    assert loaded["train"][0]["example_id"] == splits["train"]["example_id"][0]
