"""Drop exact and near-duplicate examples, keeping the best one of each cluster.

Reads params `dedup` (threshold, labelled_pairs) and `embed` (encoder; batch_size),
data/interim/score/scored.parquet and data/interim/embeddings/embeddings.parquet; writes
- data/interim/dedup/deduped.parquet: SCORED_SCHEMA rows that survive (singletons and one
  representative per cluster), sorted by example_id;
- data/interim/dedup/clusters.parquet: CLUSTER_SCHEMA, every member of every cluster of two or
  more (the representative with is_representative = true; the others are the dropped examples);
- data/interim/dedup/threshold_curve.csv: precision / recall / F1 on the labelled pairs for
  thresholds 0.80 .. 0.99;
- reports/metrics/dedup.json: examples_in, kept, dropped_exact, dropped_near (examples_in =
  kept + dropped_exact + dropped_near, checked), clusters, largest_cluster, threshold, and
  precision / recall / f1 over labelled_pairs pairs at the threshold.
The rules are in curation/dedup.py. The labelled texts are embedded with the same encoder,
through the same cache function as the embed stage (reusing its rows where a text is there).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # never download a model at run time
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import polars as pl  # noqa: E402

from curation.dedup import deduplicate, evaluate_threshold, pair_scores, read_labelled_pairs, threshold_curve  # noqa: E402
from curation.embeddings import EMBEDDINGS_FILE, embed_with_cache, load_encoder, lookup, read_embeddings  # noqa: E402
from curation.io import InputFileError, load_params, write_json, write_parquet  # noqa: E402
from curation.schema import SCORED_SCHEMA, conform, text_hash  # noqa: E402

SCORED = Path("data/interim/score/scored.parquet")
EMBEDDINGS = Path("data/interim/embeddings") / EMBEDDINGS_FILE
OUT_DIR = Path("data/interim/dedup")
METRICS = Path("reports/metrics/dedup.json")
DEDUP_COLUMNS = ["example_id", "source", "text", "quality"]


def main() -> None:
    params = load_params()
    threshold = float(params["dedup"]["threshold"])
    encoder = load_encoder(str(params["embed"]["encoder"]))
    batch_size = int(params["embed"].get("batch_size", 64))  # does not change the embeddings

    stored = read_embeddings(EMBEDDINGS, encoder.encoder_id)
    if stored is None:
        raise InputFileError(EMBEDDINGS, "no embeddings found", "run `dvc repro embed` first")
    examples = pl.read_parquet(SCORED, columns=DEDUP_COLUMNS)

    def embeddings(hashes: list[str]):  # type: ignore[no-untyped-def]
        try:
            return lookup(stored, hashes)
        except KeyError as err:
            raise InputFileError(
                EMBEDDINGS,
                f"{err.args[0]} under encoder {encoder.encoder_id} (params embed.encoder = {encoder.name!r})",
                "run `dvc repro embed`: the embeddings are older than the scored examples or the encoder",
            ) from None

    result = deduplicate(examples, embeddings, threshold)

    # Labelled pairs: embedded through the same cache (sample texts are reused, the rest computed).
    pairs = read_labelled_pairs(params["dedup"]["labelled_pairs"])
    texts = pl.concat([pairs.get_column("text_a"), pairs.get_column("text_b")]).unique().sort()
    labelled, stats = embed_with_cache(
        texts.to_list(), texts.map_elements(text_hash, return_dtype=pl.String).to_list(), encoder, stored,
        batch_size, progress=False,
    )
    print(f"dedup: labelled texts: {stats.embedded} embedded, {stats.reused} from the embed stage", file=sys.stderr)
    scored_pairs = pair_scores(pairs, functools.partial(lookup, labelled))
    at_threshold = evaluate_threshold(scored_pairs, threshold)
    curve = threshold_curve(scored_pairs)

    survivors = result.survivors.implode()
    deduped = pl.scan_parquet(SCORED).filter(pl.col("example_id").is_in(survivors)).sort("example_id").collect()
    if deduped.height != result.counts["kept"]:
        raise AssertionError(f"internal error: {deduped.height} rows written, {result.counts['kept']} kept")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_parquet(conform(deduped, SCORED_SCHEMA), OUT_DIR / "deduped.parquet")
    write_parquet(result.clusters, OUT_DIR / "clusters.parquet")
    curve.write_csv(OUT_DIR / "threshold_curve.csv", float_precision=6)
    metrics = {
        **result.counts,
        "threshold": threshold,
        "precision": at_threshold["precision"],
        "recall": at_threshold["recall"],
        "f1": at_threshold["f1"],
        "labelled_pairs": pairs.height,
    }
    write_json(metrics, METRICS)
    print(
        f"dedup: {metrics['examples_in']} in, {metrics['kept']} kept, {metrics['dropped_exact']} exact and "
        f"{metrics['dropped_near']} near duplicates dropped in {metrics['clusters']} clusters "
        f"(largest {metrics['largest_cluster']}); labelled pairs at {threshold}: precision {metrics['precision']}, "
        f"recall {metrics['recall']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
