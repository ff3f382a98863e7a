"""The curation report: what the pipeline kept, dropped and mixed, for a person to review.

`build_report(inputs) -> Report` turns the pipeline's outputs (frames and parsed JSON, see
`ReportInputs`) into sections of tables and figures; `render_html(report)` makes one
self-contained HTML page (inline CSS, figures as base64 PNG data URIs, no script, no external
asset) and `render_markdown(report)` a short summary. All three are pure: the same inputs give
byte-identical outputs (fixed figure sizes and dpi, no PNG software/time metadata, no clock).

Dump text is untrusted (YouDescribe descriptions are user-generated). The HTML is built only
from `el()` / `esc()`: every child and attribute value that is not already `Html` is escaped
with `html.escape(..., quote=True)`, `on*` attributes cannot be built, and a link is only made
for http(s) URLs. Forgetting to escape is therefore impossible; a mistake can at worst
double-escape. The page also carries a Content-Security-Policy that forbids scripts and any load
other than inline data images, as a second line of defence.

Any input may be missing (a stage not run yet): the sections that need it then say which file
is not available instead of failing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import matplotlib
import numpy as np
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter, NullFormatter

from curation.filters import REJECT_REASONS
from curation.schema import QUARANTINE_REASONS, SOURCES

# Where the pipeline writes each input (for "not available" notes; stages/report.py reads these).
INPUT_FILES: dict[str, str] = {
    "funnel": "reports/metrics/funnel.json",
    "ingest_counts": "data/interim/ingest/<source>/counts.json",
    "quarantine": "data/interim/ingest/<source>/quarantine.parquet",
    "rejects": "data/interim/filter/rejects.parquet",
    "languages": "data/interim/filter/languages.json",
    "kept": "data/interim/filter/kept.parquet",
    "scored": "data/interim/score/scored.parquet",
    "deduped": "data/interim/dedup/deduped.parquet",
    "clusters": "data/interim/dedup/clusters.parquet",
    "threshold_curve": "data/interim/dedup/threshold_curve.csv",
    "dedup_metrics": "reports/metrics/dedup.json",
    "mixture": "data/mixtures/{train,val,test}.parquet",
    "manifest": "data/mixtures/manifest.json",
}
_PRODUCED_BY = {
    "funnel": "filter",
    "ingest_counts": "ingest_<source>",
    "quarantine": "ingest_<source>",
    "rejects": "filter",
    "languages": "filter",
    "kept": "filter",
    "scored": "score",
    "deduped": "dedup",
    "clusters": "dedup",
    "threshold_curve": "dedup",
    "dedup_metrics": "dedup",
    "mixture": "mix",
    "manifest": "mix",
}

EXAMPLES_PER_REASON = 3
TOP_CLUSTERS = 10
SAMPLES_PER_BUCKET = 3
TEXT_LIMIT = 240  # characters of dump text shown in a table cell
RECORD_LIMIT = 160  # characters of a quarantined raw record
HIST_BINS = 30
UNIT_BINS = np.linspace(0.0, 1.0, 21)  # quality and difficulty are in [0, 1]

# Funnel stages, in order; "loss" stages are what left between two levels.
FUNNEL_STAGES: tuple[tuple[str, str, str], ...] = (
    # (key, label, kind)
    ("raw_records", "raw records", "level"),
    ("quarantined", "quarantined", "loss"),
    ("examples", "examples", "level"),
    ("rejected", "rejected", "loss"),
    ("kept", "kept by filter", "level"),
    ("dedup_dropped", "dropped by dedup", "loss"),
    ("after_dedup", "after dedup", "level"),
    ("in_mixture", "in mixture", "level"),
)


# ---------------------------------------------------------------------------------------------
# Safe HTML: every piece of markup is built from escaped parts.
# ---------------------------------------------------------------------------------------------


class Html(str):
    """Markup known to be safe: made only by `esc`, `el`, `join` and this module's constants."""

    __slots__ = ()


def esc(value: object) -> Html:
    """Escape any value for HTML text or attribute context (`Html` passes through unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    """Concatenate parts, escaping each one that is not already `Html`."""
    return Html(esc(sep).join(esc(p) for p in parts))


_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_VOID = frozenset({"img", "meta", "br", "hr"})
_LOCAL_HREF = re.compile(r"(#[a-z0-9_-]+|plots/[a-z0-9_]+\.csv)\Z")
_DATA_PNG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]*\Z")


def is_web_url(url: object) -> bool:
    """True for an absolute http(s) URL without characters that could break out of it."""
    return isinstance(url, str) and re.fullmatch(r"https?://[^\s\"'<>`\\]+", url) is not None


def el(tag: str, *children: object, **attrs: object) -> Html:
    """One element. Children and attribute values are escaped unless already `Html`.

    Attribute names come from code (`class_` -> class, `http_equiv` -> http-equiv); event
    handler attributes are refused, and href/src accept only in-page anchors, the report's
    plot CSVs, http(s) URLs and PNG data URIs.
    """
    if not _NAME.match(tag):
        raise ValueError(f"bad tag name {tag!r}")
    parts = [f"<{tag}"]
    for raw_name, value in attrs.items():
        if value is None or value is False:
            continue
        name = raw_name.rstrip("_").replace("_", "-")
        if not _NAME.match(name) or name.startswith("on"):
            raise ValueError(f"attribute {name!r} is not allowed")
        if name in ("href", "src") and not (
            is_web_url(value) or _LOCAL_HREF.match(str(value)) or _DATA_PNG.match(str(value))
        ):
            raise ValueError(f"{name}={str(value)[:40]!r} is not an allowed URL")
        parts.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    parts.append(">")
    if tag in _VOID:
        if children:
            raise ValueError(f"<{tag}> takes no children")
        return Html("".join(parts))
    parts.extend(esc(c) for c in _flatten(children))
    parts.append(f"</{tag}>")
    return Html("".join(parts))


def _flatten(children: Iterable[object]) -> Iterable[object]:
    for child in children:
        if child is None:
            continue
        if isinstance(child, (list, tuple)):
            yield from _flatten(child)
        else:
            yield child


# ---------------------------------------------------------------------------------------------
# The report model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A URL from the data: a link when it is http(s), plain text otherwise."""

    text: str
    href: str


Cell = Union[str, int, float, Link, None]


@dataclass(frozen=True)
class Text:
    """A paragraph (`kind` "p"), a sub-heading ("h3") or a not-available note ("missing")."""

    text: str
    kind: str = "p"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    marks: tuple[str, ...] = ()  # per row: "" | "total" | "warn" | "kept"
    text_columns: tuple[int, ...] = ()  # columns holding long dump text (wide, wrapped)
    id_columns: tuple[int, ...] = ()  # long identifiers and paths (may break anywhere)
    summary: bool = False  # also in summary.md

    def column(self, name: str) -> list[Cell]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def row(self, first: Cell) -> tuple[Cell, ...]:
        """The row whose first cell is `first`."""
        matches = [r for r in self.rows if r[0] == first]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} rows start with {first!r} in table {self.title!r}")
        return matches[0]


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    png: bytes
    alt: str
    data: tuple[str, ...] = ()  # names of the plot CSVs (reports/curation/plots/<name>.csv) it draws


Block = Union[Text, Table, Figure]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]
    available: bool = True

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    @property
    def notes(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Text) and b.kind == "missing"]

    def table(self, title_start: str) -> Table:
        matches = [t for t in self.tables if t.title.startswith(title_start)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} tables titled {title_start!r}... in section {self.key!r}")
        return matches[0]


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


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report reads; None = not available (the stage that makes it has not run).

    Frames need only the columns named here, so the stage can read just those.
    """

    funnel: Mapping[str, Any] | None = None  # funnel.json
    ingest_counts: Mapping[str, Mapping[str, Any]] | None = None  # {source: counts.json}
    quarantine: pl.DataFrame | None = None  # source raw_file raw_row reason detail raw_record
    rejects: pl.DataFrame | None = None  # source raw_file raw_row text word_count language reject_reasons
    languages: Mapping[str, Mapping[str, int]] | None = None  # languages.json: {source: {label: n}}
    scored: pl.DataFrame | None = None  # source word_count language clip_s quality difficulty difficulty_bucket
    kept: pl.DataFrame | None = None  # fallback when scored is missing: source word_count language clip_start_s clip_end_s
    deduped: pl.DataFrame | None = None  # source
    clusters: pl.DataFrame | None = None  # CLUSTER_SCHEMA
    threshold_curve: pl.DataFrame | None = None  # threshold precision recall
    dedup_metrics: Mapping[str, Any] | None = None  # dedup.json
    mixture: pl.DataFrame | None = None  # MIXTURE_SCHEMA rows of all splits (split column)
    manifest: Mapping[str, Any] | None = None  # data/mixtures/manifest.json
    difficulty_buckets: tuple[str, ...] = ("easy", "medium", "hard")  # params score.difficulty_buckets


def not_available(*names: str) -> Text:
    files = ", ".join(INPUT_FILES[n] for n in names)
    stages = sorted({_PRODUCED_BY[n] for n in names})
    return Text(f"Not available: {files} not found (run `dvc repro {' '.join(stages)}`).", kind="missing")


# ---------------------------------------------------------------------------------------------
# build_report
# ---------------------------------------------------------------------------------------------


def build_report(inputs: ReportInputs) -> Report:
    plot_data: dict[str, pl.DataFrame] = {}
    funnel_rows = _funnel_counts(inputs)
    sections = (
        _funnel_section(inputs, funnel_rows, plot_data),
        _reasons_section(inputs, plot_data),
        _distributions_section(inputs, plot_data),
        _clusters_section(inputs),
        _dedup_section(inputs, plot_data),
        _mixture_section(inputs, plot_data),
        _samples_section(inputs),
    )
    return Report(
        title="Visual Narrator curation report",
        headline=_headline(inputs, funnel_rows),
        sections=sections,
        plot_data=dict(sorted(plot_data.items())),
    )


def _sources(*groups: Iterable[str]) -> list[str]:
    """Known sources in pipeline order, then any other source name sorted."""
    seen = {s for g in groups for s in g}
    return [s for s in SOURCES if s in seen] + sorted(seen - set(SOURCES))


def _counts_by(frame: pl.DataFrame | None, column: str = "source") -> dict[str, int] | None:
    if frame is None:
        return None
    return {str(k): int(v) for k, v in frame.group_by(column).len().iter_rows()}


# -- 1. funnel ---------------------------------------------------------------------------------


def _funnel_counts(inputs: ReportInputs) -> dict[str, dict[str, int | None]]:
    """{source: {stage key: count or None}} plus a "total" row."""
    funnel_sources = (inputs.funnel or {}).get("sources", {})
    after_dedup = _counts_by(inputs.deduped)
    if inputs.mixture is not None:
        in_mixture = _counts_by(inputs.mixture)
    elif inputs.manifest is not None:
        in_mixture = {s: int(v["obtained"]) for s, v in inputs.manifest.get("sources", {}).items()}
    else:
        in_mixture = None
    names = _sources(funnel_sources, after_dedup or {}, in_mixture or {})
    rows: dict[str, dict[str, int | None]] = {}
    for source in names:
        stats = funnel_sources.get(source)
        row: dict[str, int | None] = {
            key: (int(stats[key]) if stats is not None and key in stats else None)
            for key in ("raw_records", "quarantined", "examples", "rejected", "kept")
        }
        row["after_dedup"] = None if after_dedup is None else after_dedup.get(source, 0)
        row["dedup_dropped"] = (
            None if row["after_dedup"] is None or row["kept"] is None else row["kept"] - row["after_dedup"]
        )
        row["in_mixture"] = None if in_mixture is None else in_mixture.get(source, 0)
        rows[source] = row
    total: dict[str, int | None] = {}
    for key, _label, _kind in FUNNEL_STAGES:
        values = [r[key] for r in rows.values()]
        total[key] = None if not values or any(v is None for v in values) else sum(v for v in values if v is not None)
    rows["total"] = total
    return rows


def _funnel_section(
    inputs: ReportInputs, rows: dict[str, dict[str, int | None]], plot_data: dict[str, pl.DataFrame]
) -> Section:
    blocks: list[Block] = [
        Text(
            "Each source's records through the pipeline: raw records read from the dumps, malformed ones "
            "quarantined at ingest, examples built, examples rejected by the filter, duplicates dropped by "
            "dedup, and examples drawn into the training mixture (all splits)."
        )
    ]
    missing = [n for n in ("funnel", "deduped", "mixture") if getattr(inputs, n) is None]
    if "mixture" in missing and inputs.manifest is not None:
        missing.remove("mixture")
    if missing:
        blocks.append(not_available(*missing))
    if len(rows) == 1:  # only the total row: nothing known
        return Section("funnel", "1. Funnel per stage and source", tuple(blocks), available=False)
    columns = ("source", *(label for _k, label, _kind in FUNNEL_STAGES))
    table_rows = tuple((source, *(counts[k] for k, _l, _kind in FUNNEL_STAGES)) for source, counts in rows.items())
    blocks.append(
        Table(
            "Funnel: records per stage and source",
            columns,
            table_rows,
            marks=tuple("total" if r[0] == "total" else "" for r in table_rows),
            summary=True,
        )
    )
    long = [
        {"stage": f"{i + 1} {label}", "source": source, "count": counts[key]}
        for source, counts in rows.items()
        if source != "total"
        for i, (key, label, _kind) in enumerate(FUNNEL_STAGES)
        if counts[key] is not None
    ]
    plot_data["funnel"] = pl.DataFrame(long, schema={"stage": pl.String, "source": pl.String, "count": pl.Int64})
    blocks.append(
        Figure(
            "funnel",
            "Funnel per source (levels in blue, losses in orange)",
            _plot_funnel(rows),
            alt="Horizontal bar charts of the record counts at each pipeline stage, one panel per source",
            data=("funnel",),
        )
    )
    return Section("funnel", "1. Funnel per stage and source", tuple(blocks))


# -- 2. quarantine and reject reasons ----------------------------------------------------------


def clip_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """Whitespace collapsed to single spaces, cut to `limit` characters with a note of the rest."""
    flat = " ".join(str(text).split()) if text is not None else ""
    if len(flat) <= limit:
        return flat
    shown = flat[: limit - 1].rstrip()
    return f"{shown}… (+{len(flat) - len(shown)} chars)"


def _where(raw_file: object, raw_row: object) -> str:
    return f"{raw_file}:{'?' if raw_row is None else raw_row}"


def _spread(frame: pl.DataFrame, n: int, order: Sequence[str]) -> pl.DataFrame:
    """n rows, taking turns between sources, each source's rows in `order`."""
    if frame.height == 0:
        return frame
    ranked = frame.sort(order, nulls_last=True).with_columns(
        pl.int_range(pl.len()).over("source").alias("_turn")
    )
    return ranked.sort(["_turn", "source"]).head(n).drop("_turn")


def _reason_summary(
    title: str, counts: pl.DataFrame, descriptions: Mapping[str, str], sources: list[str]
) -> Table:
    """counts: reason, source, count."""
    rows = []
    totals = counts.group_by("reason").agg(pl.col("count").sum()).sort(["count", "reason"], descending=[True, False])
    for reason, total in totals.iter_rows():
        per = dict(counts.filter(pl.col("reason") == reason).select("source", "count").iter_rows())
        meaning = descriptions.get(reason, "(not a documented reason code)")
        rows.append((reason, meaning, total, *(per.get(s, 0) for s in sources)))
    return Table(title, ("reason", "meaning", "total", *sources), tuple(rows), text_columns=(1,))


def _reasons_section(inputs: ReportInputs, plot_data: dict[str, pl.DataFrame]) -> Section:
    blocks: list[Block] = []
    funnel_sources = (inputs.funnel or {}).get("sources", {})

    # Quarantine: malformed raw records.
    blocks.append(Text("Quarantined raw records (ingest)", kind="h3"))
    quarantine = inputs.quarantine
    if quarantine is not None:
        q_counts = quarantine.group_by("reason", "source").len(name="count").with_columns(pl.col("count").cast(pl.Int64))
    elif funnel_sources:
        q_counts = _counts_from_funnel(funnel_sources, "quarantined_by_reason")
    else:
        q_counts = None
    if quarantine is None:
        blocks.append(not_available("quarantine"))
    if q_counts is not None:
        plot_data["quarantine_reasons"] = q_counts.select("reason", "source", "count").sort("reason", "source")
        if q_counts.height == 0:
            blocks.append(Text("No record was quarantined."))
        else:
            sources = _sources(q_counts.get_column("source").to_list())
            blocks.append(_reason_summary("Quarantine reasons", q_counts, QUARANTINE_REASONS, sources))
    if quarantine is not None:
        for reason in _reasons_by_count(q_counts):
            group = quarantine.filter(pl.col("reason") == reason)
            picked = _spread(group, EXAMPLES_PER_REASON, ["raw_file", "raw_row"])
            rows = tuple(
                (
                    _where(r["raw_file"], r["raw_row"]),
                    r["source"],
                    clip_text(r["detail"], TEXT_LIMIT),
                    clip_text(r["raw_record"], RECORD_LIMIT),
                )
                for r in picked.iter_rows(named=True)
            )
            blocks.append(
                Table(
                    f"Quarantine {reason}: {picked.height} of {group.height} records",
                    ("raw_file:raw_row", "source", "detail", "raw record"),
                    rows,
                    text_columns=(2, 3),
                    id_columns=(0,),
                )
            )
    if inputs.ingest_counts:
        blocks.append(_per_file_table(inputs.ingest_counts))

    # Rejects: examples the filter dropped, with all their reasons.
    blocks.append(Text("Rejected examples (filter)", kind="h3"))
    rejects = inputs.rejects
    if rejects is not None:
        exploded = rejects.select("source", pl.col("reject_reasons").alias("reason")).explode("reason").drop_nulls("reason")
        r_counts = exploded.group_by("reason", "source").len(name="count").with_columns(pl.col("count").cast(pl.Int64))
    elif funnel_sources:
        r_counts = _counts_from_funnel(funnel_sources, "rejected_by_reason")
    else:
        r_counts = None
    if rejects is None:
        blocks.append(not_available("rejects"))
    if r_counts is not None:
        plot_data["reject_reasons"] = r_counts.select("reason", "source", "count").sort("reason", "source")
        if r_counts.height == 0:
            blocks.append(Text("No example was rejected."))
        else:
            sources = _sources(r_counts.get_column("source").to_list())
            blocks.append(
                Text("An example can have several reasons, so reason counts can add up to more than the rejected examples.")
            )
            blocks.append(_reason_summary("Reject reasons", r_counts, REJECT_REASONS, sources))
    if rejects is not None:
        for reason in _reasons_by_count(r_counts):
            group = rejects.filter(pl.col("reject_reasons").list.contains(reason))
            picked = _spread(group, EXAMPLES_PER_REASON, ["raw_file", "raw_row"])
            rows = tuple(
                (
                    _where(r["raw_file"], r["raw_row"]),
                    r["source"],
                    ", ".join(r["reject_reasons"]),
                    r.get("word_count"),
                    r.get("language"),
                    clip_text(r["text"]),
                )
                for r in picked.iter_rows(named=True)
            )
            blocks.append(
                Table(
                    f"Reject {reason}: {picked.height} of {group.height} examples",
                    ("raw_file:raw_row", "source", "all reasons", "words", "language", "text"),
                    rows,
                    text_columns=(5,),
                    id_columns=(0,),
                )
            )
    counts_known = [c for c in (q_counts, r_counts) if c is not None and c.height]
    if counts_known:
        blocks.insert(
            0,
            Figure(
                "reasons",
                "Quarantine and reject reasons per source",
                _plot_reasons(q_counts, r_counts),
                alt="Horizontal stacked bars: number of records per quarantine reason and per reject reason, by source",
                data=tuple(n for n in ("quarantine_reasons", "reject_reasons") if n in plot_data),
            ),
        )
    available = q_counts is not None or r_counts is not None
    return Section("reasons", "2. Quarantine and reject reasons", tuple(blocks), available=available)


def _counts_from_funnel(funnel_sources: Mapping[str, Any], key: str) -> pl.DataFrame:
    rows = [
        {"reason": reason, "source": source, "count": int(n)}
        for source, stats in funnel_sources.items()
        for reason, n in (stats.get(key) or {}).items()
    ]
    return pl.DataFrame(rows, schema={"reason": pl.String, "source": pl.String, "count": pl.Int64})


def _reasons_by_count(counts: pl.DataFrame | None) -> list[str]:
    if counts is None or counts.height == 0:
        return []
    totals = counts.group_by("reason").agg(pl.col("count").sum())
    return totals.sort(["count", "reason"], descending=[True, False]).get_column("reason").to_list()


def _per_file_table(ingest_counts: Mapping[str, Mapping[str, Any]]) -> Table:
    files = [f for counts in ingest_counts.values() for f in counts.get("files", {}).values()]
    reasons = sorted({r for f in files for r in f.get("quarantine_reasons", {})})
    rows = []
    for source in _sources(ingest_counts):
        for raw_file, f in sorted(ingest_counts[source].get("files", {}).items()):
            by_reason = f.get("quarantine_reasons", {})
            counts = (f.get("raw_records"), f.get("quarantined"), f.get("examples"))
            rows.append((raw_file, source, *counts, *(by_reason.get(r, 0) for r in reasons)))
    return Table(
        "Ingest per raw file",
        ("raw_file", "source", "raw records", "quarantined", "examples", *reasons),
        tuple(rows),
        marks=tuple("warn" if (r[3] or 0) > 0 else "" for r in rows),
    )


# -- 3. distributions --------------------------------------------------------------------------


def _distribution_frame(inputs: ReportInputs) -> tuple[pl.DataFrame | None, str]:
    if inputs.scored is not None:
        return inputs.scored, "scored examples (kept by the filter)"
    if inputs.kept is not None:
        kept = inputs.kept
        if "clip_s" not in kept.columns and {"clip_start_s", "clip_end_s"} <= set(kept.columns):
            kept = kept.with_columns((pl.col("clip_end_s") - pl.col("clip_start_s")).alias("clip_s"))
        return kept, "examples kept by the filter"
    return None, ""


def histogram(frame: pl.DataFrame, column: str, sources: list[str], bins: np.ndarray | int = HIST_BINS) -> pl.DataFrame | None:
    """Counts per bin and source: bin_start, bin_end, then one column per source (zeros included).

    Every known source gets a column, so a `dvc plots` declaration naming them never breaks.
    None when the column has no values at all.
    """
    values = frame.select("source", pl.col(column).cast(pl.Float64)).drop_nulls().filter(pl.col(column).is_finite())
    if values.height == 0:
        return None
    if isinstance(bins, int):
        edges = np.histogram_bin_edges(values.get_column(column).to_numpy(), bins=bins)
    else:
        edges = np.asarray(bins, dtype=float)
    data: dict[str, Any] = {"bin_start": edges[:-1].round(6), "bin_end": edges[1:].round(6)}
    for source in _sources(SOURCES, sources):
        own = values.filter(pl.col("source") == source).get_column(column).to_numpy()
        counts, _ = np.histogram(own, bins=edges)
        data[source] = counts.astype(np.int64)
    return pl.DataFrame(data)


def _distributions_section(inputs: ReportInputs, plot_data: dict[str, pl.DataFrame]) -> Section:
    frame, population = _distribution_frame(inputs)
    blocks: list[Block] = []
    if frame is None:
        blocks.append(not_available("scored"))
        if inputs.languages is None:
            return Section("distributions", "3. Distributions", tuple(blocks), available=False)
    sources = _sources(frame.get_column("source").unique().to_list()) if frame is not None else []
    if frame is not None:
        blocks.append(Text(f"Distributions over the {frame.height:,} {population}, per source."))
        blocks.append(_stats_table(frame, sources, inputs.difficulty_buckets))

    # Language: of all examples (before the filter) when languages.json is there.
    if inputs.languages is not None:
        lang_rows = [
            {"language": str(label), "source": source, "count": int(n)}
            for source, labels in inputs.languages.items()
            for label, n in labels.items()
        ]
        lang_note = "Language labels of all examples before the filter (data/interim/filter/languages.json)."
    elif frame is not None and "language" in frame.columns:
        lang_rows = [
            {"language": str(label), "source": str(source), "count": int(n)}
            for source, label, n in frame.group_by("source", "language").len().iter_rows()
        ]
        lang_note = f"Language labels of the {population}."
    else:
        lang_rows = []
        lang_note = ""
    if lang_rows:
        languages = pl.DataFrame(lang_rows, schema={"language": pl.String, "source": pl.String, "count": pl.Int64}).sort(
            "language", "source"
        )
        plot_data["languages"] = languages
        blocks.append(Text(lang_note))
        blocks.append(
            Figure(
                "languages",
                "Language labels per source",
                _plot_languages(languages),
                alt="Horizontal bars: number of examples per language label, one panel per source",
                data=("languages",),
            )
        )

    if frame is not None:
        specs = [
            ("word_count", "word_count_hist", "Word count", HIST_BINS),
            ("clip_s", "clip_duration_hist", "Clip duration (s)", HIST_BINS),
            ("quality", "quality_hist", "Quality score", UNIT_BINS),
            ("difficulty", "difficulty_hist", "Difficulty score", UNIT_BINS),
        ]
        for column, name, label, bins in specs:
            if column not in frame.columns:
                blocks.append(Text(f"{label}: not available (no {column} column; run `dvc repro score`).", kind="missing"))
                continue
            table = histogram(frame, column, sources, bins)
            if table is None:
                blocks.append(Text(f"{label}: no values (images have no clip duration)."))
                continue
            plot_data[name] = table
            nulls = frame.get_column(column).null_count()
            blocks.append(
                Figure(
                    name,
                    f"{label} per source" + (f" ({nulls:,} examples without a value left out)" if nulls else ""),
                    _plot_histograms(table, label),
                    alt=f"Histograms of {label.lower()}, one panel per source",
                    data=(name,),
                )
            )
    return Section("distributions", "3. Distributions", tuple(blocks))


def _stats_table(frame: pl.DataFrame, sources: list[str], buckets: Sequence[str]) -> Table:
    rows = []
    has = set(frame.columns)
    for source in sources:
        part = frame.filter(pl.col("source") == source)
        row: list[Cell] = [source, part.height]
        for column in ("word_count", "clip_s"):
            values = part.get_column(column).drop_nulls() if column in has else pl.Series([], dtype=pl.Float64)
            row.append(_num(values.median()) if len(values) else None)
            row.append(f"{_fmt(values.quantile(0.05))}–{_fmt(values.quantile(0.95))}" if len(values) else None)
        for column in ("quality", "difficulty"):
            row.append(_num(part.get_column(column).mean()) if column in has and part.height else None)
        if "difficulty_bucket" in has:
            by_bucket = _counts_by(part, "difficulty_bucket") or {}
            row.extend(by_bucket.get(b, 0) for b in buckets)
        rows.append(tuple(row))
    bucket_columns = tuple(f"{b}" for b in buckets) if "difficulty_bucket" in has else ()
    return Table(
        "Summary per source",
        (
            "source", "examples", "words median", "words p5–p95", "clip s median", "clip s p5–p95",
            "quality mean", "difficulty mean", *bucket_columns,
        ),
        tuple(rows),
    )


# -- 4. duplicate clusters ---------------------------------------------------------------------


def _clusters_section(inputs: ReportInputs) -> Section:
    title = f"4. Largest duplicate clusters (top {TOP_CLUSTERS})"
    clusters = inputs.clusters
    if clusters is None:
        return Section("clusters", title, (not_available("clusters"),), available=False)
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
    blocks: list[Block] = [
        Text(
            f"{sizes.height:,} clusters hold {clusters.height:,} examples. In each, the representative (highest "
            "quality) is kept and the other members are dropped; similarity is the cosine to the representative "
            "(1.0 for exact matches of the normalized text)."
        ),
        Table(
            f"The {top.height} largest clusters",
            ("rank", "cluster (representative id)", "members", "exact", "near", "min similarity", "sources"),
            tuple(
                (i + 1, r["cluster_id"], r["size"], r["exact"], r["near"], _num(r["min_similarity"]), r["sources"])
                for i, r in enumerate(top.iter_rows(named=True))
            ),
        ),
    ]
    for i, summary in enumerate(top.iter_rows(named=True)):
        members = clusters.filter(pl.col("cluster_id") == summary["cluster_id"]).sort(
            ["is_representative", "similarity", "example_id"], descending=[True, True, False]
        )
        rows = tuple(
            (
                "kept" if m["is_representative"] else "dropped",
                m["example_id"],
                m["source"],
                m["match"],
                _num(m["similarity"]),
                _num(m["quality"]),
                clip_text(m["text"]),
            )
            for m in members.iter_rows(named=True)
        )
        blocks.append(
            Table(
                f"Cluster {i + 1}: {summary['size']} members ({summary['exact']} exact, {summary['near']} near)",
                ("fate", "example_id", "source", "match", "similarity", "quality", "text"),
                rows,
                marks=tuple("kept" if r[0] == "kept" else "" for r in rows),
                text_columns=(6,),
                id_columns=(1,),
            )
        )
    return Section("clusters", title, tuple(blocks))


# -- 5. dedup precision / recall ---------------------------------------------------------------


def _dedup_section(inputs: ReportInputs, plot_data: dict[str, pl.DataFrame]) -> Section:
    title = "5. Dedup precision and recall"
    metrics = inputs.dedup_metrics
    curve = inputs.threshold_curve
    blocks: list[Block] = []
    if metrics is None:
        blocks.append(not_available("dedup_metrics"))
    else:
        labels = [
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
        ]
        known = {k for k, _ in labels}
        rows = [(label, _num(metrics[key])) for key, label in labels if key in metrics]
        rows += [(str(key), _num(value)) for key, value in sorted(metrics.items()) if key not in known and _is_number(value)]
        blocks.append(
            Text(
                "Precision and recall of the near-duplicate rule on the labelled pairs "
                "(params dedup.labelled_pairs), at the threshold in params dedup.threshold."
            )
        )
        blocks.append(Table("Dedup at the threshold", ("metric", "value"), tuple(rows), summary=True))
    if curve is None:
        blocks.append(not_available("threshold_curve"))
    elif curve.height:
        curve = curve.select(
            pl.col("threshold").cast(pl.Float64), pl.col("precision").cast(pl.Float64), pl.col("recall").cast(pl.Float64)
        ).sort("threshold")
        plot_data["threshold_curve"] = curve
        at = _float(metrics.get("threshold")) if metrics else None
        blocks.append(
            Figure(
                "threshold_curve",
                "Precision and recall against the threshold" + (f" (dashed: {at:g})" if at is not None else ""),
                _plot_threshold_curve(curve, at, metrics or {}),
                alt="Line chart of precision and recall of near-duplicate detection as the cosine threshold varies",
                data=("threshold_curve",),
            )
        )
    available = metrics is not None or curve is not None
    return Section("dedup", title, tuple(blocks), available=available)


# -- 6. mixture --------------------------------------------------------------------------------


def _mixture_section(inputs: ReportInputs, plot_data: dict[str, pl.DataFrame]) -> Section:
    title = "6. Mixture composition"
    manifest = inputs.manifest
    mixture = inputs.mixture
    blocks: list[Block] = []
    if manifest is None:
        blocks.append(not_available("manifest"))
    if mixture is None:
        blocks.append(not_available("mixture"))
    if manifest is None and mixture is None:
        return Section("mixture", title, tuple(blocks), available=False)
    buckets = list((manifest or {}).get("curriculum", {}).get("buckets") or inputs.difficulty_buckets)

    if manifest is not None:
        sources_info = manifest.get("sources", {})
        weights = manifest.get("weights_asked", {})
        obtained_total = sum(int(v.get("obtained", 0)) for v in sources_info.values())
        facts = [f"size asked {manifest.get('size_asked', 'n/a')}", f"obtained {obtained_total:,}"]
        if "seed" in manifest:
            facts.append(f"seed {manifest['seed']}")
        policy = manifest.get("curriculum", {}).get("policy")
        if policy:
            facts.append(f"curriculum policy {policy}")
        blocks.append(Text("Mixture: " + ", ".join(facts) + "."))
        rows = []
        for source in _sources(sources_info, weights):
            info = sources_info.get(source, {})
            shortfall = int(info.get("shortfall", 0))
            obtained = info.get("obtained")
            rows.append(
                (
                    source,
                    _pct(weights.get(source)),
                    info.get("asked"),
                    info.get("available"),
                    obtained,
                    _pct(None if obtained is None or not obtained_total else obtained / obtained_total),
                    shortfall,
                    f"SHORT by {shortfall:,}" if shortfall > 0 else "ok",
                )
            )
        total_short = sum(int(r[6]) for r in rows)
        rows.append(
            (
                "total",
                _pct(sum(float(w) for w in weights.values())) if weights else None,
                sum(int(r[2] or 0) for r in rows),
                sum(int(r[3] or 0) for r in rows),
                obtained_total,
                _pct(1.0 if obtained_total else None),
                total_short,
                f"SHORT by {total_short:,}" if total_short else "ok",
            )
        )
        blocks.append(
            Table(
                "Asked against obtained per source",
                ("source", "weight asked", "asked", "available", "obtained", "share obtained", "shortfall", "flag"),
                tuple(rows),
                marks=tuple("total" if r[0] == "total" else ("warn" if int(r[6]) > 0 else "") for r in rows),
                summary=True,
            )
        )
        src_rows = [r for r in rows if r[0] != "total"]
        plot_data["mixture_sources"] = pl.DataFrame(
            {
                "source": [r[0] for r in src_rows],
                "asked": [int(r[2] or 0) for r in src_rows],
                "obtained": [int(r[4] or 0) for r in src_rows],
                "shortfall": [int(r[6]) for r in src_rows],
            },
            schema={"source": pl.String, "asked": pl.Int64, "obtained": pl.Int64, "shortfall": pl.Int64},
        )

    split_counts = _split_counts(mixture, manifest, buckets)
    if split_counts is not None:
        by_source, by_bucket, videos = split_counts
        split_names = _split_order(by_source)
        sources = _sources(by_source.filter(pl.col("count") > 0).get_column("source").unique().to_list())
        rows = []
        for split in split_names:
            part = dict(by_source.filter(pl.col("split") == split).select("source", "count").iter_rows())
            rows.append((split, sum(part.values()), videos.get(split), *(part.get(s, 0) for s in sources)))
        all_videos = videos.get("total", sum(videos.values()) if len(videos) == len(split_names) else None)
        per_source = (sum(int(r[3 + i]) for r in rows) for i in range(len(sources)))
        rows.append(("total", sum(int(r[1]) for r in rows), all_videos, *per_source))
        blocks.append(
            Table(
                "Per split and source",
                ("split", "examples", "videos", *sources),
                tuple(rows),
                marks=tuple("total" if r[0] == "total" else "" for r in rows),
                summary=True,
            )
        )
        rows = []
        for split in split_names:
            part = dict(by_bucket.filter(pl.col("split") == split).select("bucket", "count").iter_rows())
            n = sum(part.values())
            rows.append((split, n, *(f"{part.get(b, 0):,} ({_pct(part.get(b, 0) / n if n else None)})" for b in buckets)))
        blocks.append(Table("Per split and difficulty bucket", ("split", "examples", *buckets), tuple(rows)))
        plot_data["mixture_buckets"] = by_bucket.sort("split", "bucket")
    blocks.append(
        Figure(
            "mixture",
            "Asked against obtained per source, and difficulty buckets per split",
            _plot_mixture(plot_data.get("mixture_sources"), split_counts[1] if split_counts else None, buckets),
            alt="Left: bars of examples asked and obtained per source. Right: stacked bars of difficulty buckets per split",
            data=tuple(n for n in ("mixture_sources", "mixture_buckets") if n in plot_data),
        )
    )
    return Section("mixture", title, tuple(blocks))


def _split_order(frame: pl.DataFrame) -> list[str]:
    names = frame.get_column("split").unique().to_list()
    known = [s for s in ("train", "val", "test") if s in names]
    return known + sorted(set(names) - set(known))


def _split_counts(
    mixture: pl.DataFrame | None, manifest: Mapping[str, Any] | None, buckets: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]] | None:
    """(split, source, count), (split, bucket, count), {split: videos}: from the files, else the manifest."""
    schema_s = {"split": pl.String, "source": pl.String, "count": pl.Int64}
    schema_b = {"split": pl.String, "bucket": pl.String, "count": pl.Int64}
    if mixture is not None:
        by_source = mixture.group_by("split", "source").len(name="count").cast({"count": pl.Int64})
        by_bucket = (
            mixture.group_by("split", pl.col("difficulty_bucket").alias("bucket")).len(name="count").cast({"count": pl.Int64})
        )
        videos = {str(k): int(v) for k, v in mixture.group_by("split").agg(pl.col("video_id").n_unique()).iter_rows()}
        videos["total"] = mixture.get_column("video_id").n_unique()
        return by_source.select(list(schema_s)), by_bucket.select(list(schema_b)), videos
    splits = (manifest or {}).get("splits")
    if not splits:
        return None
    by_source = pl.DataFrame(
        [{"split": sp, "source": s, "count": int(n)} for sp, v in splits.items() for s, n in v.get("by_source", {}).items()],
        schema=schema_s,
    )
    by_bucket = pl.DataFrame(
        [{"split": sp, "bucket": b, "count": int(n)} for sp, v in splits.items() for b, n in v.get("by_bucket", {}).items()],
        schema=schema_b,
    )
    videos = {sp: int(v["videos"]) for sp, v in splits.items() if "videos" in v}
    return by_source, by_bucket, videos


# -- 7. samples --------------------------------------------------------------------------------


def _stable_key(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def _samples_section(inputs: ReportInputs) -> Section:
    title = f"7. Sample examples per difficulty bucket ({SAMPLES_PER_BUCKET} each)"
    if inputs.mixture is not None:
        frame, population = inputs.mixture.filter(pl.col("split") == "train"), "the mixture's train split"
        if frame.height == 0:
            frame, population = inputs.mixture, "the mixture"
    elif inputs.scored is not None:
        frame, population = inputs.scored, "the scored examples (mixture not available)"
    else:
        return Section("samples", title, (not_available("mixture", "scored"),), available=False)
    blocks: list[Block] = [
        Text(
            f"Drawn from {population}: a fixed pseudo-random choice (hash of the example id), "
            "taking turns between sources. Times are seconds into the source video."
        )
    ]
    needed = {"example_id", "source", "video_id", "text", "difficulty_bucket"}
    if not needed <= set(frame.columns):
        missing = ", ".join(sorted(needed - set(frame.columns)))
        return Section("samples", title, (Text(f"Not available: no {missing} column.", kind="missing"),), available=False)
    present = frame.get_column("difficulty_bucket").unique().to_list()
    buckets = [b for b in inputs.difficulty_buckets if b in present] + sorted(set(present) - set(inputs.difficulty_buckets))
    for bucket in buckets:
        part = frame.filter(pl.col("difficulty_bucket") == bucket)
        part = part.with_columns(pl.col("example_id").map_elements(_stable_key, return_dtype=pl.Int64).alias("_key"))
        picked = _spread(part, SAMPLES_PER_BUCKET, ["_key", "example_id"])
        rows = tuple(
            (
                r["example_id"],
                r["source"],
                r["video_id"],
                _clip_span(r.get("clip_start_s"), r.get("clip_end_s")),
                Link(str(r["url"]), str(r["url"])) if r.get("url") else None,
                _num(r.get("difficulty")),
                _num(r.get("quality")),
                clip_text(r["text"]),
            )
            for r in picked.iter_rows(named=True)
        )
        blocks.append(
            Table(
                f"Bucket {bucket}: {picked.height} of {part.height:,} examples",
                ("example_id", "source", "video_id", "clip", "url", "difficulty", "quality", "text"),
                rows,
                text_columns=(7,),
                id_columns=(0, 2),
            )
        )
    return Section("samples", title, tuple(blocks))


def _clip_span(start: object, end: object) -> str:
    if start is None or end is None:
        return "image (no clip)"
    return f"{float(start):.1f}\u2060–\u2060{float(end):.1f}\u00a0s"  # type: ignore[arg-type]  # (word joiners: no line break)


# -- headline ----------------------------------------------------------------------------------


def _headline(inputs: ReportInputs, funnel_rows: dict[str, dict[str, int | None]]) -> dict[str, float | int]:
    """Headline counts for reports/metrics/curation.json (`dvc exp show`); absent inputs, absent keys."""
    out: dict[str, float | int] = {}
    total = funnel_rows.get("total", {})
    for key, name in (
        ("raw_records", "raw_records"),
        ("quarantined", "quarantined"),
        ("examples", "examples"),
        ("rejected", "rejected"),
        ("kept", "kept_after_filter"),
        ("after_dedup", "kept_after_dedup"),
    ):
        if total.get(key) is not None:
            out[name] = int(total[key])  # type: ignore[arg-type]
    metrics = inputs.dedup_metrics or {}
    for key in ("precision", "recall", "f1", "threshold"):
        if _is_number(metrics.get(key)):
            out[f"dedup_{key}"] = round(float(metrics[key]), 4)
    if inputs.mixture is not None:
        out["mixture_size"] = inputs.mixture.height
    elif inputs.manifest is not None:
        out["mixture_size"] = sum(int(v.get("obtained", 0)) for v in inputs.manifest.get("sources", {}).values())
    if inputs.manifest is not None:
        out["mixture_size_asked"] = int(inputs.manifest.get("size_asked", 0))
        out["mixture_shortfall_total"] = sum(int(v.get("shortfall", 0)) for v in inputs.manifest.get("sources", {}).values())
    if inputs.mixture is not None:
        train = inputs.mixture.filter(pl.col("split") == "train")
        if train.height:
            out["mean_quality_train"] = round(float(train.get_column("quality").mean()), 4)  # type: ignore[arg-type]
            out["mean_difficulty_train"] = round(float(train.get_column("difficulty").mean()), 4)  # type: ignore[arg-type]
    return out


# -- small helpers -----------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: object) -> float | None:
    return float(value) if _is_number(value) else None  # type: ignore[arg-type]


def _num(value: object) -> float | int | None:
    """Round floats to 3 decimals (display), keep ints."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    return None


def _fmt(value: object) -> str:
    number = _num(value)
    return "n/a" if number is None else f"{number:g}"


def _pct(value: object) -> str | None:
    return None if value is None else f"{100 * float(value):.1f}%"  # type: ignore[arg-type]


def format_cell(value: Cell) -> str:
    """How a cell reads (HTML and Markdown): ints with thousands separators, floats trimmed."""
    if value is None:
        return "n/a"
    if isinstance(value, Link):
        return value.text
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Figures (matplotlib Agg, deterministic bytes)
# ---------------------------------------------------------------------------------------------

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.usetex": False,
    "text.parse_math": False,  # dump text and labels are never mathtext
    "svg.hashsalt": "visual-narrator",
    "path.simplify": True,
}
_DPI = 100
_WIDTH_IN = 9.6
_LEVEL, _LOSS = "#4c78a8", "#f58518"


def source_color(source: str) -> str:
    palette = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"]
    if source in SOURCES:
        return palette[SOURCES.index(source)]
    return palette[len(SOURCES) + _stable_key(source) % (len(palette) - len(SOURCES))]


def _figure(height_in: float) -> MplFigure:
    fig = MplFigure(figsize=(_WIDTH_IN, height_in), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: MplFigure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _draw(draw: Any, height_in: float) -> bytes:
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(_RC)
        fig = _figure(height_in)
        draw(fig)
        fig.tight_layout()
        return _png(fig)


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = max(1, min(n, max_cols))
    return math.ceil(max(n, 1) / cols), cols


def _plot_funnel(rows: dict[str, dict[str, int | None]]) -> bytes:
    panels = ["total", *[s for s in rows if s != "total"]]
    nrows, ncols = _grid(len(panels), 3)

    def draw(fig: MplFigure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        labels = [label for _k, label, _kind in FUNNEL_STAGES]
        for ax, name in zip(axes.flat, panels):
            counts = rows[name]
            values = [counts[k] or 0 for k, _l, _kind in FUNNEL_STAGES]
            colors = [_LEVEL if kind == "level" else _LOSS for _k, _l, kind in FUNNEL_STAGES]
            y = np.arange(len(labels))
            ax.barh(y, values, color=colors)
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            top = max(values) if any(values) else 1
            ax.set_xlim(0, top * 1.3)
            for yi, (key, _l, _kind) in zip(y, FUNNEL_STAGES):
                text = "n/a" if counts[key] is None else f"{counts[key]:,}"
                ax.text((counts[key] or 0) + top * 0.02, yi, text, va="center", fontsize=7)
            ax.set_title("all sources" if name == "total" else name)
            ax.tick_params(axis="x", labelsize=7)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)

    return _draw(draw, 2.4 * nrows)


def _plot_reasons(q_counts: pl.DataFrame | None, r_counts: pl.DataFrame | None) -> bytes:
    parts = [(t, c) for t, c in (("quarantine", q_counts), ("reject", r_counts)) if c is not None and c.height]
    heights = [max(1, c.get_column("reason").n_unique()) for _t, c in parts]

    def draw(fig: MplFigure) -> None:
        axes = fig.subplots(1, len(parts), squeeze=False)[0]
        for ax, (kind, counts) in zip(axes, parts):
            reasons = list(reversed(_reasons_by_count(counts)))
            sources = _sources(counts.get_column("source").unique().to_list())
            left = np.zeros(len(reasons))
            for source in sources:
                own = dict(counts.filter(pl.col("source") == source).select("reason", "count").iter_rows())
                values = np.array([own.get(r, 0) for r in reasons], dtype=float)
                ax.barh(reasons, values, left=left, color=source_color(source), label=source)
                left += values
            for yi, total in enumerate(left):
                ax.text(total, yi, f" {int(total):,}", va="center", fontsize=7)
            ax.set_xlim(0, max(left.max(), 1) * 1.15)
            ax.set_title(f"{kind} reasons")
            ax.legend(fontsize=7, frameon=False, loc="lower right")

    return _draw(draw, max(2.0, 0.3 * max(heights) + 1.0))


def _plot_languages(languages: pl.DataFrame) -> bytes:
    sources = _sources(languages.get_column("source").unique().to_list())
    nrows, ncols = _grid(len(sources))

    def draw(fig: MplFigure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, source in zip(axes.flat, sources):
            own = languages.filter(pl.col("source") == source).sort(["count", "language"], descending=[True, False])
            top, rest = own.head(8), own.slice(8)
            labels = top.get_column("language").to_list()
            values = top.get_column("count").to_list()
            if rest.height:
                labels.append(f"other ({rest.height})")
                values.append(int(rest.get_column("count").sum()))
            ax.barh(labels, values, color=source_color(source))
            ax.invert_yaxis()
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            for yi, v in enumerate(values):
                ax.text(v, yi, f" {v:,}", va="center", fontsize=7)
            ax.set_xlim(0.8, max(values) * 4)
            ax.set_title(source)
        for ax in list(axes.flat)[len(sources):]:
            ax.set_visible(False)

    return _draw(draw, 2.0 * nrows)


def _plot_histograms(table: pl.DataFrame, label: str) -> bytes:
    fixed = {"bin_start", "bin_end"}
    sources = [c for c in table.columns if c not in fixed and int(table.get_column(c).sum()) > 0]
    nrows, ncols = _grid(len(sources))
    starts = table.get_column("bin_start").to_numpy()
    widths = table.get_column("bin_end").to_numpy() - starts

    def draw(fig: MplFigure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
        for ax, source in zip(axes.flat, sources):
            counts = table.get_column(source).to_numpy()
            ax.bar(starts, counts, width=widths, align="edge", color=source_color(source), edgecolor="white", linewidth=0.3)
            ax.set_title(f"{source} (n={int(counts.sum()):,})")
            ax.set_xlabel(label)
        for ax in list(axes.flat)[len(sources):]:
            ax.set_visible(False)

    return _draw(draw, 2.2 * nrows)


def _plot_threshold_curve(curve: pl.DataFrame, threshold: float | None, metrics: Mapping[str, Any]) -> bytes:
    def draw(fig: MplFigure) -> None:
        ax = fig.subplots()
        x = curve.get_column("threshold").to_numpy()
        ax.plot(x, curve.get_column("precision").to_numpy(), marker=".", label="precision", color=_LEVEL)
        ax.plot(x, curve.get_column("recall").to_numpy(), marker=".", label="recall", color=_LOSS)
        if threshold is not None:
            ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
            for key, color in (("precision", _LEVEL), ("recall", _LOSS)):
                value = _float(metrics.get(key))
                if value is not None:
                    ax.plot([threshold], [value], "o", color=color)
                    ax.annotate(f"{key} {value:.3f}", (threshold, value), textcoords="offset points", xytext=(6, 4), fontsize=7)
        ax.set_xlabel("cosine threshold")
        ax.set_ylim(-0.02, 1.12)
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)

    return _draw(draw, 3.2)


def _plot_mixture(sources: pl.DataFrame | None, by_bucket: pl.DataFrame | None, buckets: Sequence[str]) -> bytes:
    panels = [p for p in ("sources", "buckets") if (sources if p == "sources" else by_bucket) is not None]

    def draw(fig: MplFigure) -> None:
        axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
        for ax, panel in zip(axes, panels):
            if panel == "sources" and sources is not None:
                names = sources.get_column("source").to_list()
                y = np.arange(len(names))
                asked = sources.get_column("asked").to_numpy()
                obtained = sources.get_column("obtained").to_numpy()
                ax.barh(y - 0.2, asked, height=0.4, color="#bab0ac", label="asked")
                ax.barh(y + 0.2, obtained, height=0.4, color=_LEVEL, label="obtained")
                for yi, (a, o) in enumerate(zip(asked, obtained)):
                    label = f" {int(o):,}" + (f"  short by {int(a - o):,}" if o < a else "")
                    ax.text(o, yi + 0.2, label, va="center", fontsize=7, color="#b00020" if o < a else "black")
                ax.set_yticks(y, names)
                ax.invert_yaxis()
                ax.set_xlim(0, max(int(asked.max(initial=0)), int(obtained.max(initial=0)), 1) * 1.45)
                ax.set_title("examples asked vs obtained")
                ax.legend(frameon=False, fontsize=7, loc="lower right")
            elif by_bucket is not None:
                splits = _split_order(by_bucket)
                present = by_bucket.get_column("bucket").unique().to_list()
                order = [b for b in buckets if b in present] + sorted(set(present) - set(buckets))
                left = np.zeros(len(splits))
                shades = ["#9ecae1", "#4292c6", "#08519c", "#6baed6", "#2171b5", "#08306b"]
                for i, bucket in enumerate(order):
                    own = dict(by_bucket.filter(pl.col("bucket") == bucket).select("split", "count").iter_rows())
                    values = np.array([own.get(s, 0) for s in splits], dtype=float)
                    ax.barh(splits, values, left=left, color=shades[i % len(shades)], label=bucket)
                    left += values
                ax.invert_yaxis()
                ax.set_title("difficulty buckets per split")
                ax.legend(frameon=False, fontsize=7, loc="lower right")

    return _draw(draw, 2.6)


# ---------------------------------------------------------------------------------------------
# render_html / render_markdown
# ---------------------------------------------------------------------------------------------

_CSS = Html(
    """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1f;background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0 .2em}h2{font-size:1.3em;margin:1.8em 0 .5em;border-bottom:2px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .4em}
nav ul{columns:2;font-size:.95em;list-style:none;padding-left:0}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px 10px;min-width:120px}
.card .v{font-size:1.25em;font-weight:600}.card .k{font-size:.8em;color:#555}
table{border-collapse:collapse;margin:.4em 0 1em;background:#fff;font-size:.86em}
caption{text-align:left;font-weight:600;padding:4px 0;caption-side:top}
th,td{border:1px solid #ddd;padding:3px 7px;vertical-align:top}
th{background:#f0f0f0;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td{overflow-wrap:break-word}
td.t{min-width:32ch;max-width:70ch;overflow-wrap:anywhere}
td.u,td.id{overflow-wrap:anywhere;min-width:10ch}
.tw{overflow-x:auto}
tr.total td{font-weight:600;background:#f4f4f4}
tr.warn td{background:#fdecea}
tr.kept td{background:#e8f5e9}
.missing{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px}
figure{margin:.6em 0 1.2em}figure img{max-width:100%;height:auto;border:1px solid #eee;background:#fff}
figcaption{font-size:.85em;color:#444}
footer{margin-top:3em;font-size:.8em;color:#666}
"""
)
# No script may run and nothing may load but the inline PNGs, even if something slipped through.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

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


def _cell_html(value: Cell, kind: str | None) -> Html:
    if isinstance(value, Link):
        if is_web_url(value.href):
            return el("td", el("a", value.text, href=value.href, rel="noopener noreferrer"), class_="u")
        return el("td", value.text, class_="u")
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return el("td", format_cell(value), class_="n" if numeric else kind)


def _table_html(table: Table) -> Html:
    marks = table.marks or ("",) * len(table.rows)
    kinds = {**{i: "id" for i in table.id_columns}, **{i: "t" for i in table.text_columns}}
    head = el("thead", el("tr", [el("th", c, scope="col") for c in table.columns]))
    body = el(
        "tbody",
        [
            el("tr", [_cell_html(v, kinds.get(i)) for i, v in enumerate(row)], class_=mark or None)
            for row, mark in zip(table.rows, marks)
        ],
    )
    return el("div", el("table", el("caption", table.title), head, body), class_="tw")


def _figure_html(figure: Figure) -> Html:
    src = "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")
    data_links: list[object] = []
    for i, name in enumerate(figure.data):
        data_links += [", " if i else " Data: ", el("a", f"plots/{name}.csv", href=f"plots/{name}.csv")]
    return el(
        "figure",
        el("img", src=src, alt=figure.alt, width=str(int(_WIDTH_IN * _DPI))),
        el("figcaption", figure.title, "." if figure.data else "", data_links),
        id=f"fig-{figure.name}",
    )


def _block_html(block: Block) -> Html:
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Figure):
        return _figure_html(block)
    if block.kind == "h3":
        return el("h3", block.text)
    if block.kind == "missing":
        return el("p", block.text, class_="missing")
    return el("p", block.text)


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML page (str)."""
    cards = [
        el("div", el("div", format_cell(value), class_="v"), el("div", HEADLINE_LABELS.get(key, key), class_="k"), class_="card")
        for key, value in report.headline.items()
    ]
    toc = el("nav", el("ul", [el("li", el("a", s.title, href=f"#{s.key}")) for s in report.sections]))
    sections = [
        el("section", el("h2", section.title), [_block_html(b) for b in section.blocks], id=section.key)
        for section in report.sections
    ]
    document = el(
        "html",
        el(
            "head",
            el("meta", charset="utf-8"),
            el("meta", http_equiv="Content-Security-Policy", content=_CSP),
            el("meta", name="viewport", content="width=device-width, initial-scale=1"),
            el("title", report.title),
            el("style", _CSS),
        ),
        el(
            "body",
            el(
                "main",
                el("h1", report.title),
                el(
                    "p",
                    "Built by stages/report.py from the pipeline's outputs; "
                    "every figure's numbers are in reports/curation/plots/.",
                ),
                el("div", cards, class_="cards", id="headline"),
                toc,
                sections,
                el("footer", "Dump text is shown escaped and truncated; raw_file:raw_row locates each record in its dump."),
            ),
        ),
        lang="en",
    )
    return "<!DOCTYPE html>\n" + document + "\n"


_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(value: object) -> str:
    """Text safe inside a Markdown table cell: one line, `|` and inline-markup characters escaped."""
    text = " ".join(str(value).split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_UNDERSCORE.sub(r"\\_", text)


def _table_markdown(table: Table) -> list[str]:
    numeric = [any(_is_number(r[i]) for r in table.rows) for i in range(len(table.columns))]
    lines = [
        f"**{md_escape(table.title)}**",
        "",
        "| " + " | ".join(md_escape(c) for c in table.columns) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    for row in table.rows:
        lines.append("| " + " | ".join(md_escape(format_cell(v)) for v in row) + " |")
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    """summary.md: headline counts and the summary tables (funnel, dedup, mixture)."""
    lines = [f"# {md_escape(report.title)}: summary", "", "Full report: `reports/curation/index.html`.", ""]
    if report.headline:
        lines += ["| headline | value |", "|---|---:|"]
        lines += [f"| {md_escape(HEADLINE_LABELS.get(k, k))} | {md_escape(format_cell(v))} |" for k, v in report.headline.items()]
        lines.append("")
    for section in report.sections:
        tables = [t for t in section.tables if t.summary]
        notes = section.notes
        if not tables and not notes:
            continue
        lines += [f"## {md_escape(section.title)}", ""]
        for note in notes:
            lines += [f"_{md_escape(note)}_", ""]
        for table in tables:
            lines += _table_markdown(table)
    return "\n".join(lines).rstrip() + "\n"
