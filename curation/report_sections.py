"""The curation report's sections 1-3 as plain data: paragraphs, tables and figures.

Each builder takes the pipeline outputs it shows (curation/report.py: ReportInputs), returns a
`Section`, and adds the numbers behind its figures to `plot_data` (reports/curation/plots/<name>.csv).
Sections 4-5 (duplicates) are in curation/report_dedup.py, 6-7 (mixture, samples) in
curation/report_mixture.py; this module also holds the helpers they share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from curation.filters import REJECT_REASONS
from curation.report_figures import (
    FunnelRows,
    plot_funnel,
    plot_histograms,
    plot_languages,
    plot_reasons,
)
from curation.schema import QUARANTINE_REASONS, SOURCES
from reporting.blocks import Block, Cell, Figure, Table, Text

EXAMPLES_PER_REASON = 3
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
PlotData = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Section:
    key: str  # the HTML id
    title: str
    blocks: tuple[Block, ...]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    @property
    def summary_tables(self) -> list[Table]:
        return [t for t in self.tables if t.summary]

    def table(self, title_start: str) -> Table:
        matches = [t for t in self.tables if t.title.startswith(title_start)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} tables titled {title_start!r}... in section {self.key!r}")
        return matches[0]


# -- shared helpers ----------------------------------------------------------------------------


def sources_in_order(*groups: Iterable[str]) -> list[str]:
    """Known sources in pipeline order, then any other source name sorted."""
    seen = {s for g in groups for s in g}
    return [s for s in SOURCES if s in seen] + sorted(seen - set(SOURCES))


def counts_by(frame: pl.DataFrame, column: str = "source") -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.group_by(column).len().iter_rows()}


def clip_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """Whitespace collapsed to single spaces, cut to `limit` characters with a note of the rest."""
    flat = " ".join(str(text).split()) if text is not None else ""
    if len(flat) <= limit:
        return flat
    shown = flat[: limit - 1].rstrip()
    return f"{shown}… (+{len(flat) - len(shown)} chars)"


def spread(frame: pl.DataFrame, n: int, order: Sequence[str]) -> pl.DataFrame:
    """n rows, taking turns between sources, each source's rows in `order`."""
    if frame.height == 0:
        return frame
    ranked = frame.sort(order, nulls_last=True).with_columns(pl.int_range(pl.len()).over("source").alias("_turn"))
    return ranked.sort(["_turn", "source"]).head(n).drop("_turn")


def num(value: object) -> float | int | None:
    """Floats rounded to 3 decimals for display (NaN: None), ints kept."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        return None if np.isnan(value) else round(value, 3)
    return value


def _fmt(value: object) -> str:
    number = num(value)
    return "n/a" if number is None else f"{number:g}"


# -- 1. funnel ---------------------------------------------------------------------------------


def funnel_counts(funnel: Mapping[str, Any], deduped: pl.DataFrame, mixture: pl.DataFrame) -> FunnelRows:
    """{source: {stage key: count}} for every source of funnel.json, plus a "total" row."""
    stats = funnel["sources"]
    after_dedup, in_mixture = counts_by(deduped), counts_by(mixture)
    unknown = (set(after_dedup) | set(in_mixture)) - set(stats)
    if unknown:
        raise ValueError(f"sources {sorted(unknown)} are in dedup or mixture outputs but not in funnel.json")
    rows: FunnelRows = {}
    for source in sources_in_order(stats):
        row = {key: int(stats[source][key]) for key in ("raw_records", "quarantined", "examples", "rejected", "kept")}
        row["after_dedup"] = after_dedup.get(source, 0)
        row["dedup_dropped"] = row["kept"] - row["after_dedup"]
        row["in_mixture"] = in_mixture.get(source, 0)
        rows[source] = row
    rows["total"] = {key: sum(r[key] for r in rows.values()) for key, _label, _kind in FUNNEL_STAGES}
    return rows


def funnel_section(rows: FunnelRows, plot_data: PlotData) -> Section:
    columns = ("source", *(label for _key, label, _kind in FUNNEL_STAGES))
    table_rows = tuple((source, *(counts[key] for key, _l, _k in FUNNEL_STAGES)) for source, counts in rows.items())
    plot_data["funnel"] = pl.DataFrame(
        [
            {"stage": f"{i + 1} {label}", "source": source, "count": counts[key]}  # numbered: dvc plots sorts by name
            for source, counts in rows.items()
            if source != "total"
            for i, (key, label, _kind) in enumerate(FUNNEL_STAGES)
        ],
        schema={"stage": pl.String, "source": pl.String, "count": pl.Int64},
    )
    blocks = (
        Text(
            "Each source's records through the pipeline: raw records read from the dumps, malformed ones "
            "quarantined at ingest, examples built, examples rejected by the filter, duplicates dropped by "
            "dedup, and examples drawn into the training mixture (all splits)."
        ),
        Table(
            "Funnel: records per stage and source",
            columns,
            table_rows,
            marks=tuple("total" if r[0] == "total" else "" for r in table_rows),
            summary=True,
        ),
        Figure(
            "funnel",
            "Funnel per source (levels in blue, losses in orange)",
            plot_funnel(rows, FUNNEL_STAGES),
            alt="Horizontal bar charts of the record counts at each pipeline stage, one panel per source",
            data=("funnel",),
        ),
    )
    return Section("funnel", "1. Funnel per stage and source", blocks)


# -- 2. quarantine and reject reasons ----------------------------------------------------------


def _where(raw_file: object, raw_row: object) -> str:
    return f"{raw_file}:{'?' if raw_row is None else raw_row}"


def _reason_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """reason, source, count (Int64) of a frame with source and reason columns."""
    counts = frame.group_by("reason", "source").len(name="count").with_columns(pl.col("count").cast(pl.Int64))
    return counts.select("reason", "source", "count").sort("reason", "source")


def _reasons_by_count(counts: pl.DataFrame) -> list[str]:
    totals = counts.group_by("reason").agg(pl.col("count").sum())
    return totals.sort(["count", "reason"], descending=[True, False]).get_column("reason").to_list()


def _reason_summary(title: str, counts: pl.DataFrame, descriptions: Mapping[str, str]) -> Table:
    sources = sources_in_order(counts.get_column("source").to_list())
    rows = []
    for reason in _reasons_by_count(counts):
        per = dict(counts.filter(pl.col("reason") == reason).select("source", "count").iter_rows())
        meaning = descriptions.get(reason, "(not a documented reason code)")
        rows.append((reason, meaning, sum(per.values()), *(per.get(s, 0) for s in sources)))
    kinds = ("", "t", "", *("",) * len(sources))
    return Table(title, ("reason", "meaning", "total", *sources), tuple(rows), kinds=kinds)


def _quarantine_examples(quarantine: pl.DataFrame, reason: str) -> Table:
    group = quarantine.filter(pl.col("reason") == reason)
    picked = spread(group, EXAMPLES_PER_REASON, ["raw_file", "raw_row"])
    rows = tuple(
        (_where(r["raw_file"], r["raw_row"]), r["source"], clip_text(r["detail"]), clip_text(r["raw_record"], RECORD_LIMIT))
        for r in picked.iter_rows(named=True)
    )
    return Table(
        f"Quarantine {reason}: {picked.height} of {group.height} records",
        ("raw_file:raw_row", "source", "detail", "raw record"),
        rows,
        kinds=("id", "", "t", "t"),
    )


def _reject_examples(rejects: pl.DataFrame, reason: str) -> Table:
    group = rejects.filter(pl.col("reject_reasons").list.contains(reason))
    picked = spread(group, EXAMPLES_PER_REASON, ["raw_file", "raw_row"])
    rows = tuple(
        (
            _where(r["raw_file"], r["raw_row"]), r["source"], ", ".join(r["reject_reasons"]),
            r["word_count"], r["language"], clip_text(r["text"]),
        )
        for r in picked.iter_rows(named=True)
    )
    return Table(
        f"Reject {reason}: {picked.height} of {group.height} examples",
        ("raw_file:raw_row", "source", "all reasons", "words", "language", "text"),
        rows,
        kinds=("id", "", "", "", "", "t"),
    )


def _per_file_table(ingest_counts: Mapping[str, Mapping[str, Any]]) -> Table:
    files = [f for counts in ingest_counts.values() for f in counts["files"].values()]
    reasons = sorted({r for f in files for r in f["quarantine_reasons"]})
    rows = []
    for source in sources_in_order(ingest_counts):
        for raw_file, f in sorted(ingest_counts[source]["files"].items()):
            by_reason = f["quarantine_reasons"]
            rows.append((raw_file, source, f["raw_records"], f["quarantined"], f["examples"],
                         *(by_reason.get(r, 0) for r in reasons)))
    return Table(
        "Ingest per raw file",
        ("raw_file", "source", "raw records", "quarantined", "examples", *reasons),
        tuple(rows),
        marks=tuple("warn" if r[3] > 0 else "" for r in rows),
    )


def reasons_section(
    quarantine: pl.DataFrame,
    rejects: pl.DataFrame,
    ingest_counts: Mapping[str, Mapping[str, Any]],
    plot_data: PlotData,
) -> Section:
    q_counts = _reason_counts(quarantine)
    exploded = rejects.select("source", pl.col("reject_reasons").alias("reason")).explode("reason")
    r_counts = _reason_counts(exploded.drop_nulls("reason"))
    plot_data["quarantine_reasons"] = q_counts
    plot_data["reject_reasons"] = r_counts
    blocks: list[Block] = []
    panels = [
        (kind, counts, _reasons_by_count(counts), sources_in_order(counts.get_column("source").to_list()))
        for kind, counts in (("quarantine", q_counts), ("reject", r_counts))
        if counts.height
    ]
    if panels:
        blocks.append(
            Figure(
                "reasons",
                "Quarantine and reject reasons per source",
                plot_reasons(panels),
                alt="Horizontal stacked bars: number of records per quarantine reason and per reject reason, by source",
                data=("quarantine_reasons", "reject_reasons"),
            )
        )

    # Quarantine: malformed raw records.
    blocks.append(Text("Quarantined raw records (ingest)", kind="h3"))
    if q_counts.height == 0:
        blocks.append(Text("No record was quarantined."))
    else:
        blocks.append(_reason_summary("Quarantine reasons", q_counts, QUARANTINE_REASONS))
        blocks += [_quarantine_examples(quarantine, reason) for reason in _reasons_by_count(q_counts)]
    blocks.append(_per_file_table(ingest_counts))

    # Rejects: examples the filter dropped, with all their reasons.
    blocks.append(Text("Rejected examples (filter)", kind="h3"))
    if r_counts.height == 0:
        blocks.append(Text("No example was rejected."))
    else:
        blocks.append(
            Text("An example can have several reasons, so reason counts can add up to more than the rejected examples.")
        )
        blocks.append(_reason_summary("Reject reasons", r_counts, REJECT_REASONS))
        blocks += [_reject_examples(rejects, reason) for reason in _reasons_by_count(r_counts)]
    return Section("reasons", "2. Quarantine and reject reasons", tuple(blocks))


# -- 3. distributions --------------------------------------------------------------------------


def histogram(frame: pl.DataFrame, column: str, bins: np.ndarray | int = HIST_BINS) -> pl.DataFrame | None:
    """Counts per bin and source: bin_start, bin_end, then one column per source (zeros included).

    Every known source gets a column, so a `dvc plots` declaration naming them never breaks.
    None when the column has no values at all (images have no clip duration).
    """
    values = frame.select("source", pl.col(column).cast(pl.Float64)).drop_nulls().filter(pl.col(column).is_finite())
    if values.height == 0:
        return None
    if isinstance(bins, int):
        edges = np.histogram_bin_edges(values.get_column(column).to_numpy(), bins=bins)
    else:
        edges = np.asarray(bins, dtype=float)
    data: dict[str, Any] = {"bin_start": edges[:-1].round(6), "bin_end": edges[1:].round(6)}
    for source in sources_in_order(SOURCES, frame.get_column("source").unique().to_list()):
        own = values.filter(pl.col("source") == source).get_column(column).to_numpy()
        counts, _ = np.histogram(own, bins=edges)
        data[source] = counts.astype(np.int64)
    return pl.DataFrame(data)


def _stats_table(scored: pl.DataFrame, sources: list[str], buckets: Sequence[str]) -> Table:
    rows = []
    for source in sources:
        part = scored.filter(pl.col("source") == source)
        row: list[Cell] = [source, part.height]
        for column in ("word_count", "clip_s"):
            values = part.get_column(column).drop_nulls()
            row.append(num(values.median()) if len(values) else None)
            row.append(f"{_fmt(values.quantile(0.05))}–{_fmt(values.quantile(0.95))}" if len(values) else None)
        row += [num(part.get_column("quality").mean()), num(part.get_column("difficulty").mean())]
        by_bucket = counts_by(part, "difficulty_bucket")
        row += [by_bucket.get(b, 0) for b in buckets]
        rows.append(tuple(row))
    columns = (
        "source", "examples", "words median", "words p5–p95", "clip s median", "clip s p5–p95",
        "quality mean", "difficulty mean", *buckets,
    )
    return Table("Summary per source", columns, tuple(rows))


def _languages_figure(languages: Mapping[str, Mapping[str, int]], plot_data: PlotData) -> list[Block]:
    rows = [
        {"language": str(label), "source": source, "count": int(n)}
        for source, labels in languages.items()
        for label, n in labels.items()
    ]
    if not rows:
        return []
    frame = pl.DataFrame(rows, schema={"language": pl.String, "source": pl.String, "count": pl.Int64})
    frame = frame.sort("language", "source")
    plot_data["languages"] = frame
    return [
        Text("Language labels of all examples before the filter (data/interim/filter/languages.json)."),
        Figure(
            "languages",
            "Language labels per source",
            plot_languages(frame, sources_in_order(frame.get_column("source").unique().to_list())),
            alt="Horizontal bars: number of examples per language label, one panel per source",
            data=("languages",),
        ),
    ]


HISTOGRAMS = (
    # (column of scored, plot name, label, bins)
    ("word_count", "word_count_hist", "Word count", HIST_BINS),
    ("clip_s", "clip_duration_hist", "Clip duration (s)", HIST_BINS),
    ("quality", "quality_hist", "Quality score", UNIT_BINS),
    ("difficulty", "difficulty_hist", "Difficulty score", UNIT_BINS),
)


def distributions_section(
    scored: pl.DataFrame, languages: Mapping[str, Mapping[str, int]], buckets: Sequence[str], plot_data: PlotData
) -> Section:
    sources = sources_in_order(scored.get_column("source").unique().to_list())
    blocks: list[Block] = [
        Text(f"Distributions over the {scored.height:,} scored examples (kept by the filter), per source."),
        _stats_table(scored, sources, buckets),
        *_languages_figure(languages, plot_data),
    ]
    for column, name, label, bins in HISTOGRAMS:
        table = histogram(scored, column, bins)
        if table is None:
            blocks.append(Text(f"{label}: no example has a value."))
            continue
        plot_data[name] = table
        nulls = scored.get_column(column).null_count()
        blocks.append(
            Figure(
                name,
                f"{label} per source" + (f" ({nulls:,} examples without a value left out)" if nulls else ""),
                plot_histograms(table, label),
                alt=f"Histograms of {label.lower()}, one panel per source",
                data=(name,),
            )
        )
    return Section("distributions", "3. Distributions", tuple(blocks))
