"""The curation report's sections 6 and 7: the mixture against what was asked, and sample examples.

Same conventions as curation/report_sections.py (plain tables, plot numbers into `plot_data`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from curation.report_figures import plot_mixture
from curation.report_sections import PlotData, Section, clip_text, num, sources_in_order, spread
from reporting.blocks import Block, Figure, Link, Table, Text

SAMPLES_PER_BUCKET = 3
SPLITS = ("train", "val", "test")


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{100 * value:.1f}%"


def _split_order(frame: pl.DataFrame) -> list[str]:
    names = frame.get_column("split").unique().to_list()
    return [s for s in SPLITS if s in names] + sorted(set(names) - set(SPLITS))


def _asked_table(manifest: Mapping[str, Any]) -> Table:
    """Per source: weight asked, examples asked, available, obtained, share, shortfall (flagged)."""
    sources_info, weights = manifest["sources"], manifest["weights_asked"]
    obtained_total = sum(int(v["obtained"]) for v in sources_info.values())
    rows = []
    for source in sources_in_order(sources_info):
        info = sources_info[source]
        shortfall = int(info["shortfall"])
        share = info["obtained"] / obtained_total if obtained_total else None
        rows.append((
            source, _pct(weights[source]), info["asked"], info["available"], info["obtained"], _pct(share),
            shortfall, f"SHORT by {shortfall:,}" if shortfall > 0 else "ok",
        ))
    total_short = sum(int(r[6]) for r in rows)
    rows.append((
        "total", _pct(sum(float(w) for w in weights.values())), sum(int(r[2]) for r in rows),
        sum(int(r[3]) for r in rows), obtained_total, _pct(1.0 if obtained_total else None),
        total_short, f"SHORT by {total_short:,}" if total_short else "ok",
    ))
    return Table(
        "Asked against obtained per source",
        ("source", "weight asked", "asked", "available", "obtained", "share obtained", "shortfall", "flag"),
        tuple(rows),
        marks=tuple("total" if r[0] == "total" else ("warn" if int(r[6]) > 0 else "") for r in rows),
        summary=True,
    )


def _split_tables(mixture: pl.DataFrame, buckets: Sequence[str]) -> tuple[Table, Table, pl.DataFrame, list[str]]:
    """Per split and source, per split and bucket; the (split, bucket, count) frame and the split order."""
    by_source = mixture.group_by("split", "source").len(name="count").cast({"count": pl.Int64})
    by_bucket = (
        mixture.group_by("split", pl.col("difficulty_bucket").alias("bucket"))
        .len(name="count")
        .cast({"count": pl.Int64})
        .select("split", "bucket", "count")
        .sort("split", "bucket")
    )
    videos = dict(mixture.group_by("split").agg(pl.col("video_id").n_unique()).iter_rows())
    splits = _split_order(by_source)
    sources = sources_in_order(by_source.filter(pl.col("count") > 0).get_column("source").unique().to_list())
    rows = []
    for split in splits:
        part = dict(by_source.filter(pl.col("split") == split).select("source", "count").iter_rows())
        rows.append((split, sum(part.values()), videos[split], *(part.get(s, 0) for s in sources)))
    per_source = (sum(int(r[3 + i]) for r in rows) for i in range(len(sources)))
    rows.append(("total", mixture.height, mixture.get_column("video_id").n_unique(), *per_source))
    per_source_table = Table(
        "Per split and source",
        ("split", "examples", "videos", *sources),
        tuple(rows),
        marks=tuple("total" if r[0] == "total" else "" for r in rows),
        summary=True,
    )
    bucket_rows = []
    for split in splits:
        part = dict(by_bucket.filter(pl.col("split") == split).select("bucket", "count").iter_rows())
        n = sum(part.values())
        shares = (f"{part.get(b, 0):,} ({_pct(part.get(b, 0) / n if n else None)})" for b in buckets)
        bucket_rows.append((split, n, *shares))
    per_bucket_table = Table("Per split and difficulty bucket", ("split", "examples", *buckets), tuple(bucket_rows))
    return per_source_table, per_bucket_table, by_bucket, splits


def mixture_section(manifest: Mapping[str, Any], mixture: pl.DataFrame, plot_data: PlotData) -> Section:
    curriculum = manifest["curriculum"]
    buckets = list(curriculum["buckets"])
    facts = [
        f"size asked {manifest['size_asked']}",
        f"obtained {sum(int(v['obtained']) for v in manifest['sources'].values()):,}",
        f"seed {manifest['seed']}",
        f"curriculum policy {curriculum['policy']}",
    ]
    asked = _asked_table(manifest)
    sources = [r for r in asked.rows if r[0] != "total"]
    plot_data["mixture_sources"] = pl.DataFrame(
        {
            "source": [r[0] for r in sources],
            "asked": [int(r[2]) for r in sources],  # type: ignore[arg-type]
            "obtained": [int(r[4]) for r in sources],  # type: ignore[arg-type]
            "shortfall": [int(r[6]) for r in sources],  # type: ignore[arg-type]
        },
        schema={"source": pl.String, "asked": pl.Int64, "obtained": pl.Int64, "shortfall": pl.Int64},
    )
    per_source, per_bucket, by_bucket, splits = _split_tables(mixture, buckets)
    plot_data["mixture_buckets"] = by_bucket
    present = by_bucket.get_column("bucket").unique().to_list()
    bucket_order = [b for b in buckets if b in present] + sorted(set(present) - set(buckets))
    blocks: list[Block] = [
        Text("Mixture: " + ", ".join(facts) + "."),
        asked,
        per_source,
        per_bucket,
        Figure(
            "mixture",
            "Asked against obtained per source, and difficulty buckets per split",
            plot_mixture(plot_data["mixture_sources"], by_bucket, splits, bucket_order),
            alt="Left: bars of examples asked and obtained per source. Right: stacked bars of difficulty buckets per split",
            data=("mixture_sources", "mixture_buckets"),
        ),
    ]
    return Section("mixture", "6. Mixture composition", tuple(blocks))


# -- 7. samples --------------------------------------------------------------------------------


def _stable_key(value: str) -> int:
    """A fixed pseudo-random rank of an example id (the same in every run and on every machine)."""
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def _clip_span(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "image (no clip)"
    return f"{start:.1f}\u2060–\u2060{end:.1f}\u00a0s"  # word joiners: no line break inside the span


def _bucket_samples(train: pl.DataFrame, bucket: str) -> Table:
    part = train.filter(pl.col("difficulty_bucket") == bucket)
    part = part.with_columns(pl.col("example_id").map_elements(_stable_key, return_dtype=pl.Int64).alias("_key"))
    picked = spread(part, SAMPLES_PER_BUCKET, ["_key", "example_id"])
    rows = tuple(
        (
            r["example_id"], r["source"], r["video_id"], _clip_span(r["clip_start_s"], r["clip_end_s"]),
            Link(str(r["url"]), str(r["url"])) if r["url"] else None,
            num(r["difficulty"]), num(r["quality"]), clip_text(r["text"]),
        )
        for r in picked.iter_rows(named=True)
    )
    return Table(
        f"Bucket {bucket}: {picked.height} of {part.height:,} examples",
        ("example_id", "source", "video_id", "clip", "url", "difficulty", "quality", "text"),
        rows,
        kinds=("id", "", "id", "", "", "", "", "t"),
    )


def samples_section(mixture: pl.DataFrame, buckets: Sequence[str]) -> Section:
    train = mixture.filter(pl.col("split") == "train")
    present = train.get_column("difficulty_bucket").unique().to_list()
    order = [b for b in buckets if b in present] + sorted(set(present) - set(buckets))
    blocks: list[Block] = [
        Text(
            "Drawn from the mixture's train split: a fixed pseudo-random choice (hash of the example id), "
            "taking turns between sources. Times are seconds into the source video."
        ),
        *(_bucket_samples(train, bucket) for bucket in order),
    ]
    return Section("samples", f"7. Sample examples per difficulty bucket ({SAMPLES_PER_BUCKET} each)", tuple(blocks))
