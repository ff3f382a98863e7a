"""Training mixtures: per-source weights, splits by source video, curriculum order.

- Weights (`data.mix.<source>`) are normalized to sum to 1; each source is asked for its
  share of `data.mix.size` (largest remainder, so the shares add up to the size). A source
  with fewer examples than asked gives all it has and the shortfall is reported in the
  manifest: it is never filled from other sources.
- Which examples a source gives is decided by a seeded hash of the example id, so the
  choice does not depend on row order, and growing `size` only adds examples.
- Splits are assigned by a hash of the source video id (`data.splits`): every example of a
  video lands in the same split, so no video is in two splits, whatever the mixture.
- The train split is written in curriculum order (`data.curriculum.policy`):
  `easy_to_hard` sorts by difficulty bucket, then difficulty; `bucketed` keeps bucket order and
  shuffles (seeded) inside each bucket; `shuffle` is the seeded-shuffle baseline.
  Val and test are sorted by example id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from config.params import DataParams
from curation.schema import SOURCES

SPLITS = ("train", "val", "test")


def source_quotas(weights: Mapping[str, float], size: int) -> dict[str, int]:
    """Split `size` by weight with the largest-remainder method (quotas sum to `size`)."""
    exact = {s: w * size for s, w in weights.items()}
    quotas = {s: int(v) for s, v in exact.items()}
    by_remainder = sorted(exact, key=lambda s: (-(exact[s] - quotas[s]), s))
    for source in by_remainder[: size - sum(quotas.values())]:
        quotas[source] += 1
    return quotas


def seeded_key(values: pl.Series, seed: int) -> pl.Series:
    """A stable pseudo-random 63-bit key per value: blake2b of "<seed>:<value>".

    Not Polars' own hash, which may change between Polars versions: a mixture must be the
    same wherever and whenever it is rebuilt.
    """
    salt = f"{seed}:".encode()
    keys = [
        int.from_bytes(hashlib.blake2b(salt + v.encode(), digest_size=8).digest(), "big") >> 1 for v in values.to_list()
    ]
    return pl.Series(values.name, keys, dtype=pl.Int64)


def assign_split(video_ids: pl.Series, val_share: float, test_share: float) -> pl.Series:
    """train / val / test from a hash of the video id (seed-free: stable across mixtures)."""
    unit = seeded_key(video_ids, 0).cast(pl.Float64) / float(2**63)
    return (
        pl.DataFrame({"unit": unit})
        .select(
            pl.when(pl.col("unit") < test_share)
            .then(pl.lit("test"))
            .when(pl.col("unit") < test_share + val_share)
            .then(pl.lit("val"))
            .otherwise(pl.lit("train"))
            .alias("split")
        )
        .to_series()
    )


def build_mixture(
    examples: pl.DataFrame, config: DataParams, buckets: Sequence[str]
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """Sample, split and order a mixture; returns the split frames and the manifest."""
    weights = config.mix.weights()
    quotas = source_quotas(weights, config.mix.size)
    keyed = examples.with_columns(seeded_key(examples.get_column("example_id"), config.mix.seed).alias("_key"))
    chosen, sources = [], {}
    for source in SOURCES:
        available = keyed.filter(pl.col("source") == source)
        take = min(quotas[source], available.height)
        chosen.append(available.sort("_key", "example_id").head(take))
        sources[source] = {
            "asked": quotas[source],
            "available": available.height,
            "obtained": take,
            "shortfall": quotas[source] - take,
        }
    mixture = pl.concat(chosen)
    mixture = mixture.with_columns(assign_split(mixture.get_column("video_id"), config.splits.val, config.splits.test))

    order = {name: i for i, name in enumerate(buckets)}
    bucket_index = pl.col("difficulty_bucket").replace_strict(order, return_dtype=pl.Int64)
    splits: dict[str, pl.DataFrame] = {}
    for split in SPLITS:
        part = mixture.filter(pl.col("split") == split)
        if split != "train":
            part = part.sort("example_id")
        elif config.curriculum.policy == "easy_to_hard":
            part = part.with_columns(bucket_index.alias("_bucket")).sort("_bucket", "difficulty", "example_id")
        elif config.curriculum.policy == "bucketed":
            part = part.with_columns(bucket_index.alias("_bucket")).sort("_bucket", "_key", "example_id")
        else:
            part = part.sort("_key", "example_id")
        splits[split] = part.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("curriculum_position")).drop(
            [c for c in part.columns if c.startswith("_")]
        )

    manifest = {
        "size_asked": config.mix.size,
        "size_obtained": sum(s["obtained"] for s in sources.values()),
        "seed": config.mix.seed,
        "weights_asked": {s: round(w, 6) for s, w in weights.items()},
        "weights_obtained": {
            s: round(v["obtained"] / max(1, sum(x["obtained"] for x in sources.values())), 6) for s, v in sources.items()
        },
        "sources": sources,
        "splits": {split: _split_summary(frame, buckets) for split, frame in splits.items()},
        "curriculum": {"policy": config.curriculum.policy, "buckets": list(buckets)},
    }
    return splits, manifest


def _split_summary(frame: pl.DataFrame, buckets: Sequence[str]) -> dict[str, Any]:
    by_source = dict(frame.group_by("source").len().sort("source").iter_rows())
    by_bucket = dict(frame.group_by("difficulty_bucket").len().iter_rows())
    return {
        "examples": frame.height,
        "videos": frame.get_column("video_id").n_unique(),
        "by_source": {s: int(by_source.get(s, 0)) for s in SOURCES},
        "by_bucket": {b: int(by_bucket.get(b, 0)) for b in buckets},
    }
