"""Drop exact and near-duplicate examples, keeping the best one of each cluster.

Reads params `dedup.threshold`, the scored examples, the embed stage's embeddings (of the
examples' texts and of the labelled pairs' texts: this stage never loads the encoder) and the
labelled pairs; writes (paths are dvc.yaml's arguments)
- data/interim/dedup/deduped.parquet: SCORED_SCHEMA rows that survive (singletons and one
  representative per cluster), sorted by example_id;
- data/interim/dedup/clusters.parquet: CLUSTER_SCHEMA, every member of every cluster of two or
  more (the representative with is_representative = true; the others are the dropped examples);
- data/interim/dedup/threshold_curve.csv: precision / recall / F1 on the labelled pairs for
  thresholds 0.80 .. 0.99;
- reports/metrics/dedup.json: examples_in, kept, dropped_exact, dropped_near (examples_in =
  kept + dropped_exact + dropped_near, checked), clusters, largest_cluster, threshold, and
  precision / recall / f1 over labelled_pairs pairs at the threshold.
The rules are in curation/dedup.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
import pyarrow.compute as pc

from config.params import load_params
from curation.dedup import deduplicate, evaluate_threshold, pair_scores, read_labelled_pairs, threshold_curve
from curation.embeddings import lookup, read_embeddings
from curation.io import InputFileError, write_json, write_parquet
from curation.schema import SCORED_SCHEMA, conform

DEDUP_COLUMNS = ["example_id", "source", "text", "text_hash", "quality"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scored", type=Path, required=True, help="the score stage's scored.parquet")
    parser.add_argument("--embeddings", type=Path, required=True, help="the embed stage's embeddings.parquet")
    parser.add_argument("--pairs", type=Path, required=True, help="labelled duplicate / non-duplicate pairs (CSV)")
    parser.add_argument("--out", type=Path, required=True, help="folder for deduped, clusters, threshold_curve")
    parser.add_argument("--metrics", type=Path, required=True, help="dedup metrics JSON")
    args = parser.parse_args()
    threshold = load_params().dedup.threshold

    stored = read_embeddings(args.embeddings)
    if stored is None:
        raise InputFileError(args.embeddings, "no embeddings found", "run `dvc repro embed` first")
    encoders = pc.unique(stored.column("encoder_id")).to_pylist()
    examples = pl.read_parquet(args.scored, columns=DEDUP_COLUMNS)

    def embeddings(hashes: list[str]):  # type: ignore[no-untyped-def]
        try:
            return lookup(stored, hashes)
        except KeyError as err:
            raise InputFileError(
                args.embeddings, str(err.args[0]),
                "run `dvc repro embed`: the embeddings are older than the scored examples or the labelled pairs",
            ) from None

    result = deduplicate(examples, embeddings, threshold)
    pairs = read_labelled_pairs(args.pairs)
    scored_pairs = pair_scores(pairs, embeddings)
    at_threshold = evaluate_threshold(scored_pairs, threshold)
    curve = threshold_curve(scored_pairs)

    survivors = result.survivors.implode()
    deduped = pl.scan_parquet(args.scored).filter(pl.col("example_id").is_in(survivors)).sort("example_id").collect()
    if deduped.height != result.counts["kept"]:
        raise AssertionError(f"internal error: {deduped.height} rows written, {result.counts['kept']} kept")
    args.out.mkdir(parents=True, exist_ok=True)
    write_parquet(conform(deduped, SCORED_SCHEMA), args.out / "deduped.parquet")
    write_parquet(result.clusters, args.out / "clusters.parquet")
    curve.write_csv(args.out / "threshold_curve.csv", float_precision=6)
    metrics = {
        **result.counts,
        "threshold": threshold,
        "precision": at_threshold["precision"],
        "recall": at_threshold["recall"],
        "f1": at_threshold["f1"],
        "labelled_pairs": pairs.height,
    }
    write_json(metrics, args.metrics)
    print(
        f"dedup ({', '.join(encoders)}): {metrics['examples_in']} in, {metrics['kept']} kept, {metrics['dropped_exact']} exact and "
        f"{metrics['dropped_near']} near duplicates dropped in {metrics['clusters']} clusters "
        f"(largest {metrics['largest_cluster']}); labelled pairs at {threshold}: precision {metrics['precision']}, "
        f"recall {metrics['recall']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
