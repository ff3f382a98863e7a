"""Write the curation report people review before training.

Reads what the pipeline produced (curation/report.py: INPUT_FILES; any of them may be missing,
e.g. before dedup has run: its sections then say "not available") and params
`score.difficulty_buckets`; writes
- reports/curation/index.html: one self-contained page (inline CSS, PNG figures as data URIs),
- reports/curation/summary.md: headline counts, funnel, dedup precision/recall, mixture tables,
- reports/curation/plots/*.csv: the numbers behind every figure, for `dvc plots show`,
- reports/metrics/curation.json: headline counts for `dvc metrics show` / `dvc exp show`.
Outputs are byte-identical for identical inputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from curation.io import load_params, write_json
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
KEPT_COLUMNS = ["source", "word_count", "language", "clip_start_s", "clip_end_s"]
MIXTURE_COLUMNS = [
    "example_id", "source", "video_id", "url", "clip_start_s", "clip_end_s", "text",
    "quality", "difficulty", "difficulty_bucket", "split",
]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _parquet(path: Path, columns: list[str] | None = None) -> pl.DataFrame | None:
    if not path.is_file():
        return None
    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    frame = pl.from_arrow(pq.read_table(path, columns=columns))
    assert isinstance(frame, pl.DataFrame)
    return frame


def load_inputs(root: Path, difficulty_buckets: tuple[str, ...]) -> ReportInputs:
    """Read every input that exists under `root`; the missing ones stay None."""
    sources = sorted(p.name for p in (root / INGEST_DIR).glob("*") if p.is_dir())
    sources = [s for s in SOURCES if s in sources] + [s for s in sources if s not in SOURCES]
    counts = {s: c for s in sources if (c := _json(root / INGEST_DIR / s / "counts.json")) is not None}
    quarantines = [q for s in sources if (q := _parquet(root / INGEST_DIR / s / "quarantine.parquet")) is not None]
    splits = [m for split in SPLITS if (m := _parquet(root / MIXTURE_DIR / f"{split}.parquet", MIXTURE_COLUMNS)) is not None]
    curve_path = root / DEDUP_DIR / "threshold_curve.csv"
    # Samples come from the mixture; only without one do they come from scored (then with text).
    sample_columns = [] if splits else [c for c in MIXTURE_COLUMNS if c not in SCORED_COLUMNS and c != "split"]
    scored = _parquet(root / SCORED, SCORED_COLUMNS + sample_columns)
    return ReportInputs(
        funnel=_json(root / FUNNEL),
        ingest_counts=counts or None,
        quarantine=pl.concat(quarantines, how="vertical_relaxed") if quarantines else None,
        rejects=_parquet(root / FILTER_DIR / "rejects.parquet", REJECT_COLUMNS),
        languages=_json(root / FILTER_DIR / "languages.json"),
        scored=scored,
        kept=_parquet(root / FILTER_DIR / "kept.parquet", KEPT_COLUMNS) if scored is None else None,
        deduped=_parquet(root / DEDUP_DIR / "deduped.parquet", ["source"]),
        clusters=_parquet(root / DEDUP_DIR / "clusters.parquet"),
        threshold_curve=pl.read_csv(curve_path) if curve_path.is_file() else None,
        dedup_metrics=_json(root / DEDUP_METRICS),
        mixture=pl.concat(splits, how="vertical_relaxed") if splits else None,
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
    params = load_params(root / "params.yaml")
    buckets = tuple(params.get("score", {}).get("difficulty_buckets") or ("easy", "medium", "hard"))
    report = build_report(load_inputs(root, buckets))
    write_report(report, root)
    missing = [note for section in report.sections for note in section.notes]
    for note in dict.fromkeys(missing):
        print(f"report: {note}", file=sys.stderr)
    print(f"wrote {OUT_DIR / 'index.html'} ({len(report.sections)} sections, {len(report.plot_data)} plot CSVs)")


if __name__ == "__main__":
    main()
