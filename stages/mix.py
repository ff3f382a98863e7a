"""Build the training mixture: weighted sources, splits by video, train in curriculum order.

Reads params `data` (and the bucket order in `score.difficulty_buckets`) and
data/interim/dedup/deduped.parquet; writes data/mixtures/{train,val,test}.parquet
(MIXTURE_SCHEMA; load with `datasets.load_dataset("parquet", data_dir="data/mixtures")`),
data/mixtures/manifest.json and the headline counts reports/metrics/mixture.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from config.params import load_params
from curation.io import write_json, write_parquet
from curation.mixing import SPLITS, build_mixture
from curation.schema import MIXTURE_SCHEMA, conform

SELECTION_COLUMNS = ["example_id", "source", "video_id", "difficulty", "difficulty_bucket"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deduped", type=Path, required=True, help="the dedup stage's deduped.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder for {train,val,test}.parquet and manifest.json")
    parser.add_argument("--metrics", type=Path, required=True, help="mixture metrics JSON")
    args = parser.parse_args()
    params = load_params()
    # Choose on the few columns the choice needs; read full rows only for the chosen examples.
    candidates = pl.read_parquet(args.deduped, columns=SELECTION_COLUMNS)
    splits, manifest = build_mixture(candidates, params.data, params.score.difficulty_buckets)
    chosen = pl.concat([splits[s].select("example_id", "split", "curriculum_position") for s in SPLITS])
    rows = pl.scan_parquet(args.deduped).filter(pl.col("example_id").is_in(chosen.get_column("example_id").implode()))
    full = rows.collect().join(chosen, on="example_id")
    for split in SPLITS:
        part = full.filter(pl.col("split") == split).sort("curriculum_position")
        write_parquet(conform(part, MIXTURE_SCHEMA), args.out / f"{split}.parquet")
    write_json(manifest, args.out / "manifest.json")
    shortfall = {s: v["shortfall"] for s, v in manifest["sources"].items() if v["shortfall"]}
    for source, missing in shortfall.items():
        print(f"warning: {source} is {missing} examples short of its weight (see {args.out / 'manifest.json'})")
    write_json(
        {
            "size": manifest["size_obtained"],
            **{split: manifest["splits"][split]["examples"] for split in SPLITS},
            "shortfall_total": sum(shortfall.values()),
            "obtained": {s: v["obtained"] for s, v in manifest["sources"].items()},
        },
        args.metrics,
    )


if __name__ == "__main__":
    main()
