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


def main() -> None:
    params = load_params()
    config = MixConfig.from_params(params["data"])
    splits, manifest = build_mixture(pl.read_parquet(DEDUPED), config, params["score"]["difficulty_buckets"])
    for split in SPLITS:
        write_parquet(conform(splits[split], MIXTURE_SCHEMA), OUT_DIR / f"{split}.parquet")
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
