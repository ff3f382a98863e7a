"""The curation report's sections 4 and 5: the largest duplicate clusters, dedup precision and recall.

Same conventions as curation/report_sections.py (plain tables, plot numbers into `plot_data`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from curation.report_figures import plot_threshold_curve
from curation.report_sections import PlotData, Section, clip_text, num
from reporting.blocks import Block, Figure, Table, Text

TOP_CLUSTERS = 10


# -- 4. duplicate clusters ---------------------------------------------------------------------


def _cluster_members(clusters: pl.DataFrame, rank: int, summary: Mapping[str, Any]) -> Table:
    members = clusters.filter(pl.col("cluster_id") == summary["cluster_id"]).sort(
        ["is_representative", "similarity", "example_id"], descending=[True, True, False]
    )
    rows = tuple(
        (
            "kept" if m["is_representative"] else "dropped", m["example_id"], m["source"], m["match"],
            num(m["similarity"]), num(m["quality"]), clip_text(m["text"]),
        )
        for m in members.iter_rows(named=True)
    )
    return Table(
        f"Cluster {rank}: {summary['size']} members ({summary['exact']} exact, {summary['near']} near)",
        ("fate", "example_id", "source", "match", "similarity", "quality", "text"),
        rows,
        kinds=("", "id", "", "", "", "", "t"),
        marks=tuple("kept" if r[0] == "kept" else "" for r in rows),
    )


def clusters_section(clusters: pl.DataFrame) -> Section:
    title = f"4. Largest duplicate clusters (top {TOP_CLUSTERS})"
    if clusters.height == 0:
        return Section("clusters", title, (Text("Dedup found no duplicates: there is no cluster."),))
    sizes = (
        clusters.group_by("cluster_id")
        .agg(
            pl.len().alias("size"),
            (pl.col("match") == "exact").sum().alias("exact"),
            (pl.col("match") == "near").sum().alias("near"),
            pl.col("similarity").min().alias("min_similarity"),
            pl.col("source").unique().sort().str.join(", ").alias("sources"),
        )
        .sort(["size", "cluster_id"], descending=[True, False])
    )
    top = sizes.head(TOP_CLUSTERS)
    overview = Table(
        f"The {top.height} largest clusters",
        ("rank", "cluster (representative id)", "members", "exact", "near", "min similarity", "sources"),
        tuple(
            (i + 1, r["cluster_id"], r["size"], r["exact"], r["near"], num(r["min_similarity"]), r["sources"])
            for i, r in enumerate(top.iter_rows(named=True))
        ),
    )
    blocks: list[Block] = [
        Text(
            f"{sizes.height:,} clusters hold {clusters.height:,} examples. In each, the representative (highest "
            "quality) is kept and the other members are dropped; similarity is the cosine to the representative "
            "(1.0 for exact matches of the normalized text)."
        ),
        overview,
        *(_cluster_members(clusters, i + 1, summary) for i, summary in enumerate(top.iter_rows(named=True))),
    ]
    return Section("clusters", title, tuple(blocks))


# -- 5. dedup precision / recall ---------------------------------------------------------------

DEDUP_METRICS = (
    ("threshold", "near-duplicate threshold (cosine)"),
    ("precision", "precision at the threshold"),
    ("recall", "recall at the threshold"),
    ("f1", "F1 at the threshold"),
    ("labelled_pairs", "labelled pairs"),
    ("examples_in", "examples in"),
    ("kept", "kept"),
    ("dropped_exact", "dropped as exact duplicates"),
    ("dropped_near", "dropped as near duplicates"),
    ("clusters", "clusters"),
    ("largest_cluster", "largest cluster"),
)


def dedup_section(metrics: Mapping[str, Any], curve: pl.DataFrame, plot_data: PlotData) -> Section:
    known = {key for key, _label in DEDUP_METRICS}
    rows = [(label, num(metrics[key])) for key, label in DEDUP_METRICS]
    rows += [(key, num(value)) for key, value in sorted(metrics.items()) if key not in known and num(value) is not None]
    blocks: list[Block] = [
        Text(
            "Precision and recall of the near-duplicate rule on the labelled pairs "
            "(params dedup.labelled_pairs), at the threshold in params dedup.threshold."
        ),
        Table("Dedup at the threshold", ("metric", "value"), tuple(rows), summary=True),
    ]
    if curve.height:
        curve = curve.select(pl.col(c).cast(pl.Float64) for c in ("threshold", "precision", "recall")).sort("threshold")
        plot_data["threshold_curve"] = curve
        threshold = float(metrics["threshold"])
        blocks.append(
            Figure(
                "threshold_curve",
                f"Precision and recall against the threshold (dashed: {threshold:g})",
                plot_threshold_curve(curve, threshold, float(metrics["precision"]), float(metrics["recall"])),
                alt="Line chart of precision and recall of near-duplicate detection as the cosine threshold varies",
                data=("threshold_curve",),
            )
        )
    return Section("dedup", "5. Dedup precision and recall", tuple(blocks))
