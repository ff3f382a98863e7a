"""Build the training mixture: weighted sources, splits by video, train in curriculum order.

Reads params `data` (and the bucket order in `score.difficulty_buckets`) and
data/interim/dedup/deduped.parquet; writes data/mixtures/{train,val,test}.parquet
(MIXTURE_SCHEMA; load with `datasets.load_dataset("parquet", data_dir="data/mixtures")`),
data/mixtures/manifest.json and the headline counts reports/metrics/mixture.json.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curation.io import load_params, write_json, write_parquet
from curation.mixing import SPLITS, MixConfig, build_mixture
from curation.schema import MIXTURE_SCHEMA, conform

DEDUPED = Path("data/interim/dedup/deduped.parquet")
OUT_DIR = Path("data/mixtures")
METRICS = Path("reports/metrics/mixture.json")
SELECTION_COLUMNS = ["example_id", "source", "video_id", "difficulty", "difficulty_bucket"]


def main() -> None:
    params = load_params()
    config = MixConfig.from_params(params["data"])
    # Choose on the few columns the choice needs; read full rows only for the chosen examples.
    candidates = pl.read_parquet(DEDUPED, columns=SELECTION_COLUMNS)
    splits, manifest = build_mixture(candidates, config, params["score"]["difficulty_buckets"])
    chosen = pl.concat([splits[s].select("example_id", "split", "curriculum_position") for s in SPLITS])
    rows = pl.scan_parquet(DEDUPED).filter(pl.col("example_id").is_in(chosen.get_column("example_id").implode()))
    full = rows.collect().join(chosen, on="example_id")
    for split in SPLITS:
        part = full.filter(pl.col("split") == split).sort("curriculum_position")
        write_parquet(conform(part, MIXTURE_SCHEMA), OUT_DIR / f"{split}.parquet")
    write_json(manifest, OUT_DIR / "manifest.json")
    shortfall = {s: v["shortfall"] for s, v in manifest["sources"].items() if v["shortfall"]}
    for source, missing in shortfall.items():
        print(f"warning: {source} is {missing} examples short of its weight (see data/mixtures/manifest.json)")
    write_json(
        {
            "size": manifest["size_obtained"],
            **{split: manifest["splits"][split]["examples"] for split in SPLITS},
            "shortfall_total": sum(shortfall.values()),
            "obtained": {s: v["obtained"] for s, v in manifest["sources"].items()},
        },
        METRICS,
    )


if __name__ == "__main__":
    main()
