"""Write the curation report people review before training.

Reads what the pipeline produced (curation/report.py: ReportInputs; every input is required:
dvc.yaml lists each as a dep) and params `score.difficulty_buckets`; writes into --out
- index.html: one self-contained page (inline CSS, PNG figures as data URIs),
- summary.md: headline counts, funnel, dedup precision/recall, mixture tables,
- plots/*.csv: the numbers behind every figure, for `dvc plots show`,
and to --metrics the few curation figures `dvc metrics show` / `dvc exp show` compare (funnel
totals, dedup, mixture size and shortfall; the page shows the rest). Outputs are
byte-identical for identical inputs; paths are the arguments dvc.yaml gives.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from config.params import load_params
from curation.io import write_json
from curation.report import Report, ReportInputs, build_report, render_html, render_markdown
from curation.schema import SOURCES

SPLITS = ("train", "val", "test")
# The curation figures `dvc exp show` compares, by metric name (short: they are table headers), from
# the page's headline figures (the page shows them all).
METRICS = {"raw_records": "raw_records", "kept_after_filter": "kept_after_filter", "kept_after_dedup": "kept_after_dedup",
           "dedup_precision": "dedup_precision", "dedup_recall": "dedup_recall", "mixture_size": "mixture_size",
           "shortfall": "mixture_shortfall_total"}

# Only the columns the report uses are read (a real release has millions of kept rows).
REJECT_COLUMNS = ["source", "raw_file", "raw_row", "text", "word_count", "language", "reject_reasons"]
SCORED_COLUMNS = ["source", "word_count", "language", "clip_s", "quality", "difficulty", "difficulty_bucket"]
MIXTURE_COLUMNS = [
    "example_id", "source", "video_id", "url", "clip_start_s", "clip_end_s", "text",
    "quality", "difficulty", "difficulty_bucket", "split",
]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _parquet(path: Path, columns: list[str] | None = None) -> pl.DataFrame:
    frame = pl.from_arrow(pq.read_table(path, columns=columns))
    assert isinstance(frame, pl.DataFrame)
    return frame


def load_inputs(args: argparse.Namespace, difficulty_buckets: tuple[str, ...]) -> ReportInputs:
    """Read every input named by the arguments (a missing file is an error: dvc.yaml lists them all)."""
    sources = sorted(p.name for p in args.ingest.glob("*") if p.is_dir())
    sources = [s for s in SOURCES if s in sources] + [s for s in sources if s not in SOURCES]
    quarantines = [_parquet(args.ingest / s / "quarantine.parquet") for s in sources]
    splits = [_parquet(args.mixture / f"{split}.parquet", MIXTURE_COLUMNS) for split in SPLITS]
    return ReportInputs(
        funnel=_json(args.funnel),
        ingest_counts={s: _json(args.ingest / s / "counts.json") for s in sources},
        quarantine=pl.concat(quarantines, how="vertical_relaxed"),
        rejects=_parquet(args.filter / "rejects.parquet", REJECT_COLUMNS),
        languages=_json(args.filter / "languages.json"),
        scored=_parquet(args.scored, SCORED_COLUMNS),
        deduped=_parquet(args.dedup / "deduped.parquet", ["source"]),
        clusters=_parquet(args.dedup / "clusters.parquet"),
        threshold_curve=pl.read_csv(args.dedup / "threshold_curve.csv"),
        dedup_metrics=_json(args.dedup_metrics),
        mixture=pl.concat(splits, how="vertical_relaxed"),
        manifest=_json(args.mixture / "manifest.json"),
        difficulty_buckets=difficulty_buckets,
    )


def write_report(report: Report, out: Path, metrics: Path) -> None:
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    for stale in plots.glob("*.csv"):  # a direct rerun must not leave CSVs of plots that are gone
        stale.unlink()
    for name, frame in report.plot_data.items():
        frame.write_csv(plots / f"{name}.csv", float_precision=6)
    (out / "index.html").write_text(render_html(report), encoding="utf-8")
    (out / "summary.md").write_text(render_markdown(report), encoding="utf-8")
    write_json({name: report.headline[key] for name, key in METRICS.items()}, metrics)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ingest", type=Path, required=True, help="folder of the ingest stages' outputs")
    parser.add_argument("--filter", type=Path, required=True, help="the filter stage's folder")
    parser.add_argument("--scored", type=Path, required=True, help="the score stage's scored.parquet")
    parser.add_argument("--dedup", type=Path, required=True, help="the dedup stage's folder")
    parser.add_argument("--mixture", type=Path, required=True, help="the mix stage's folder")
    parser.add_argument("--funnel", type=Path, required=True, help="the filter stage's funnel metrics")
    parser.add_argument("--dedup-metrics", type=Path, required=True, help="the dedup stage's metrics")
    parser.add_argument("--out", type=Path, required=True, help="folder for index.html, summary.md, plots/")
    parser.add_argument("--metrics", type=Path, required=True, help="curation metrics JSON")
    args = parser.parse_args(argv)
    buckets = load_params().score.difficulty_buckets
    report = build_report(load_inputs(args, buckets))
    write_report(report, args.out, args.metrics)
    print(f"wrote {args.out / 'index.html'} ({len(report.sections)} sections, {len(report.plot_data)} plot CSVs)")


if __name__ == "__main__":
    main()
