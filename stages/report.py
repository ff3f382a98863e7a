"""Write the curation report people review before training.

Reads what the pipeline produced (curation/report.py: ReportInputs; dvc.yaml lists every file as
a dep, so each must exist) and params `score.difficulty_buckets`; writes
- reports/curation/index.html: one self-contained page (inline CSS, PNG figures as data URIs),
- reports/curation/summary.md: headline counts, funnel, dedup precision/recall, mixture tables,
- reports/curation/plots/*.csv: the numbers behind every figure, for `dvc plots show`,
- reports/metrics/curation.json: headline counts for `dvc metrics show` / `dvc exp show`.
Outputs are byte-identical for identical inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from config.params import load_params
from curation.io import write_json
from curation.report import Report, ReportInputs, build_report, render_html, render_markdown
from curation.schema import SOURCES

OUT_DIR = Path("reports/curation")
METRICS = Path("reports/metrics/curation.json")
INGEST_DIR = Path("data/interim/ingest")
FILTER_DIR = Path("data/interim/filter")
SCORED = Path("data/interim/score/scored.parquet")
DEDUP_DIR = Path("data/interim/dedup")
DEDUP_METRICS = Path("reports/metrics/dedup.json")
FUNNEL = Path("reports/metrics/funnel.json")
MIXTURE_DIR = Path("data/mixtures")
SPLITS = ("train", "val", "test")

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


def load_inputs(root: Path, difficulty_buckets: tuple[str, ...]) -> ReportInputs:
    """Read every input under `root` (a missing file is an error: dvc.yaml lists them all)."""
    sources = sorted(p.name for p in (root / INGEST_DIR).glob("*") if p.is_dir())
    sources = [s for s in SOURCES if s in sources] + [s for s in sources if s not in SOURCES]
    quarantines = [_parquet(root / INGEST_DIR / s / "quarantine.parquet") for s in sources]
    splits = [_parquet(root / MIXTURE_DIR / f"{split}.parquet", MIXTURE_COLUMNS) for split in SPLITS]
    return ReportInputs(
        funnel=_json(root / FUNNEL),
        ingest_counts={s: _json(root / INGEST_DIR / s / "counts.json") for s in sources},
        quarantine=pl.concat(quarantines, how="vertical_relaxed"),
        rejects=_parquet(root / FILTER_DIR / "rejects.parquet", REJECT_COLUMNS),
        languages=_json(root / FILTER_DIR / "languages.json"),
        scored=_parquet(root / SCORED, SCORED_COLUMNS),
        deduped=_parquet(root / DEDUP_DIR / "deduped.parquet", ["source"]),
        clusters=_parquet(root / DEDUP_DIR / "clusters.parquet"),
        threshold_curve=pl.read_csv(root / DEDUP_DIR / "threshold_curve.csv"),
        dedup_metrics=_json(root / DEDUP_METRICS),
        mixture=pl.concat(splits, how="vertical_relaxed"),
        manifest=_json(root / MIXTURE_DIR / "manifest.json"),
        difficulty_buckets=difficulty_buckets,
    )


def write_report(report: Report, root: Path) -> None:
    out = root / OUT_DIR
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    for stale in plots.glob("*.csv"):  # a direct rerun must not leave CSVs of plots that are gone
        stale.unlink()
    for name, frame in report.plot_data.items():
        frame.write_csv(plots / f"{name}.csv", float_precision=6)
    (out / "index.html").write_text(render_html(report), encoding="utf-8")
    (out / "summary.md").write_text(render_markdown(report), encoding="utf-8")
    write_json(report.headline, root / METRICS)


def main(root: Path = Path(".")) -> None:
    buckets = load_params(root / "params.yaml").score.difficulty_buckets
    report = build_report(load_inputs(root, buckets))
    write_report(report, root)
    print(f"wrote {OUT_DIR / 'index.html'} ({len(report.sections)} sections, {len(report.plot_data)} plot CSVs)")


if __name__ == "__main__":
    main()
