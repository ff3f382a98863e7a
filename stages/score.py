"""Score every kept example: quality, difficulty and its curriculum bucket.

Reads params `score` and data/interim/filter/kept.parquet; writes
data/interim/score/scored.parquet (SCORED_SCHEMA, sorted by example_id).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curation.io import load_params, write_parquet
from curation.schema import SCORED_SCHEMA, conform
from curation.scoring import score_examples

KEPT = Path("data/interim/filter/kept.parquet")
OUT = Path("data/interim/score/scored.parquet")


def main() -> None:
    params = load_params()["score"]
    kept = pl.read_parquet(KEPT)
    scored = score_examples(kept, params["target_words"], params["difficulty_buckets"])
    write_parquet(conform(scored.sort("example_id"), SCORED_SCHEMA), OUT)
    print(f"scored {scored.height} examples", flush=True)


if __name__ == "__main__":
    main()
