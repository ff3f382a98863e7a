"""The curation report: what the pipeline kept, dropped and mixed, for a person to review.

`build_report(inputs) -> Report` turns the pipeline's outputs (`ReportInputs`) into sections of
plain tables, paragraphs and figures (curation/report_sections.py, report_dedup.py and
report_mixture.py; figures in report_figures.py). `render_html(report)` lays them out as one
self-contained HTML page (inline CSS, figures as base64 PNG data URIs, no script, no external
asset) and `render_markdown(report)` as a short summary, both from reporting/templates/. All
three are pure: the same inputs give byte-identical outputs.

Dump text is untrusted (YouDescribe descriptions are user-generated). The HTML template is
autoescaped, links are made only for http(s) URLs, and the page carries a Content-Security-Policy
that forbids scripts and any load other than inline data images (reporting/render.py).

The report stage runs after every stage it reads (dvc.yaml), so every input is required; data
that can genuinely be empty (no quarantined record, no duplicate cluster, a source without rows)
are shown as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from curation.report_dedup import clusters_section, dedup_section
from curation.report_figures import FunnelRows
from curation.report_mixture import mixture_section, samples_section
from curation.report_sections import Section, distributions_section, funnel_counts, funnel_section, reasons_section
from reporting.render import render

TITLE = "Visual Narrator curation report"
HEADLINE_LABELS = {
    "raw_records": "raw records",
    "quarantined": "quarantined",
    "examples": "examples",
    "rejected": "rejected",
    "kept_after_filter": "kept by filter",
    "kept_after_dedup": "kept after dedup",
    "dedup_precision": "dedup precision",
    "dedup_recall": "dedup recall",
    "dedup_f1": "dedup F1",
    "dedup_threshold": "dedup threshold",
    "mixture_size": "mixture size",
    "mixture_size_asked": "mixture size asked",
    "mixture_shortfall_total": "mixture shortfall",
    "mean_quality_train": "mean quality (train)",
    "mean_difficulty_train": "mean difficulty (train)",
}


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report reads (stages/report.py reads it from the pipeline's outputs).

    Frames need only the columns named here, so the stage can read just those.
    """

    funnel: Mapping[str, Any]  # reports/metrics/funnel.json
    ingest_counts: Mapping[str, Mapping[str, Any]]  # {source: data/interim/ingest/<source>/counts.json}
    quarantine: pl.DataFrame  # all sources' quarantine.parquet: source raw_file raw_row reason detail raw_record
    rejects: pl.DataFrame  # rejects.parquet: source raw_file raw_row text word_count language reject_reasons
    languages: Mapping[str, Mapping[str, int]]  # languages.json: {source: {label: n}}
    scored: pl.DataFrame  # scored.parquet: source word_count language clip_s quality difficulty difficulty_bucket
    deduped: pl.DataFrame  # deduped.parquet: source
    clusters: pl.DataFrame  # clusters.parquet (CLUSTER_SCHEMA)
    threshold_curve: pl.DataFrame  # threshold_curve.csv: threshold precision recall
    dedup_metrics: Mapping[str, Any]  # reports/metrics/dedup.json
    mixture: pl.DataFrame  # data/mixtures/{train,val,test}.parquet (MIXTURE_SCHEMA columns and split)
    manifest: Mapping[str, Any]  # data/mixtures/manifest.json
    difficulty_buckets: tuple[str, ...]  # params score.difficulty_buckets


@dataclass(frozen=True)
class Report:
    title: str
    headline: dict[str, float | int]  # reports/metrics/curation.json
    sections: tuple[Section, ...]
    plot_data: dict[str, pl.DataFrame] = field(default_factory=dict)  # plots/<name>.csv

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)


def build_report(inputs: ReportInputs) -> Report:
    plot_data: dict[str, pl.DataFrame] = {}
    funnel_rows = funnel_counts(inputs.funnel, inputs.deduped, inputs.mixture)
    sections = (
        funnel_section(funnel_rows, plot_data),
        reasons_section(inputs.quarantine, inputs.rejects, inputs.ingest_counts, plot_data),
        distributions_section(inputs.scored, inputs.languages, inputs.difficulty_buckets, plot_data),
        clusters_section(inputs.clusters),
        dedup_section(inputs.dedup_metrics, inputs.threshold_curve, plot_data),
        mixture_section(inputs.manifest, inputs.mixture, plot_data),
        samples_section(inputs.mixture, inputs.difficulty_buckets),
    )
    return Report(
        title=TITLE,
        headline=headline(inputs, funnel_rows),
        sections=sections,
        plot_data=dict(sorted(plot_data.items())),
    )


def headline(inputs: ReportInputs, funnel_rows: FunnelRows) -> dict[str, float | int]:
    """Headline counts for reports/metrics/curation.json (`dvc exp show`), in HEADLINE_LABELS order."""
    total = funnel_rows["total"]
    out: dict[str, float | int] = {
        "raw_records": total["raw_records"],
        "quarantined": total["quarantined"],
        "examples": total["examples"],
        "rejected": total["rejected"],
        "kept_after_filter": total["kept"],
        "kept_after_dedup": total["after_dedup"],
    }
    for key in ("precision", "recall", "f1", "threshold"):
        out[f"dedup_{key}"] = round(float(inputs.dedup_metrics[key]), 4)
    sources = inputs.manifest["sources"].values()
    out["mixture_size"] = inputs.mixture.height
    out["mixture_size_asked"] = int(inputs.manifest["size_asked"])
    out["mixture_shortfall_total"] = sum(int(v["shortfall"]) for v in sources)
    train = inputs.mixture.filter(pl.col("split") == "train")
    if train.height:  # a mixture too small for a train split has no train means
        out["mean_quality_train"] = round(float(train.get_column("quality").mean()), 4)  # type: ignore[arg-type]
        out["mean_difficulty_train"] = round(float(train.get_column("difficulty").mean()), 4)  # type: ignore[arg-type]
    return out


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML page (str)."""
    return render("curation.html.j2", title=report.title, report=report, labels=HEADLINE_LABELS)


def render_markdown(report: Report) -> str:
    """summary.md: headline counts and the summary tables (funnel, dedup, mixture)."""
    return render("curation.md.j2", report=report, labels=HEADLINE_LABELS)
