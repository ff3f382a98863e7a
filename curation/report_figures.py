"""The curation report's figures, drawn from the tables the sections build (PNG bytes).

Each function takes data already in display order and returns byte-identical PNGs for the same
data (reporting/figures.py: fixed width, dpi and style).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from curation.schema import SOURCES
from reporting.figures import LEVEL, LOSS, draw, grid, source_color

FunnelRows = dict[str, dict[str, int]]  # {source or "total": {stage key: count}}
BUCKET_SHADES = ("#9ecae1", "#4292c6", "#08519c", "#6baed6", "#2171b5", "#08306b")


def _color(source: str) -> str:
    return source_color(source, SOURCES)


def plot_funnel(rows: FunnelRows, stages: Sequence[tuple[str, str, str]]) -> bytes:
    """One panel per source (all sources first): a bar per stage, (key, label, "level" | "loss")."""
    panels = ["total", *[s for s in rows if s != "total"]]
    nrows, ncols = grid(len(panels), 3)
    labels = [label for _key, label, _kind in stages]
    colors = [LEVEL if kind == "level" else LOSS for _key, _label, kind in stages]

    def paint(fig: Figure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, name in zip(axes.flat, panels):
            values = [rows[name][key] for key, _label, _kind in stages]
            y = np.arange(len(labels))
            ax.barh(y, values, color=colors)
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            top = max(values) if any(values) else 1
            ax.set_xlim(0, top * 1.3)
            for yi, value in zip(y, values):
                ax.text(value + top * 0.02, yi, f"{value:,}", va="center", fontsize=7)
            ax.set_title("all sources" if name == "total" else name)
            ax.tick_params(axis="x", labelsize=7)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)

    return draw(paint, 2.4 * nrows)


def plot_reasons(panels: Sequence[tuple[str, pl.DataFrame, list[str], list[str]]]) -> bytes:
    """Stacked bars per reason; panels: (kind, counts (reason, source, count), reasons by count, sources)."""
    heights = [max(1, len(reasons)) for _kind, _counts, reasons, _sources in panels]

    def paint(fig: Figure) -> None:
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (kind, counts, by_count, sources) in zip(axes, panels):
            reasons = list(reversed(by_count))
            left = np.zeros(len(reasons))
            for source in sources:
                own = dict(counts.filter(pl.col("source") == source).select("reason", "count").iter_rows())
                values = np.array([own.get(r, 0) for r in reasons], dtype=float)
                ax.barh(reasons, values, left=left, color=_color(source), label=source)
                left += values
            for yi, total in enumerate(left):
                ax.text(total, yi, f" {int(total):,}", va="center", fontsize=7)
            ax.set_xlim(0, max(left.max(), 1) * 1.15)
            ax.set_title(f"{kind} reasons")
            ax.legend(fontsize=7, frameon=False, loc="lower right")

    return draw(paint, max(2.0, 0.3 * max(heights) + 1.0))


def plot_languages(languages: pl.DataFrame, sources: list[str]) -> bytes:
    """One panel per source: the 8 most frequent language labels, the rest as "other"."""
    nrows, ncols = grid(len(sources))

    def paint(fig: Figure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, source in zip(axes.flat, sources):
            own = languages.filter(pl.col("source") == source).sort(["count", "language"], descending=[True, False])
            top, rest = own.head(8), own.slice(8)
            labels = top.get_column("language").to_list()
            values = top.get_column("count").to_list()
            if rest.height:
                labels.append(f"other ({rest.height})")
                values.append(int(rest.get_column("count").sum()))
            ax.barh(labels, values, color=_color(source))
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

    return draw(paint, 2.0 * nrows)


def plot_histograms(table: pl.DataFrame, label: str) -> bytes:
    """One panel per source with values; table: bin_start, bin_end, then a count column per source."""
    fixed = {"bin_start", "bin_end"}
    sources = [c for c in table.columns if c not in fixed and int(table.get_column(c).sum()) > 0]
    nrows, ncols = grid(len(sources))
    starts = table.get_column("bin_start").to_numpy()
    widths = table.get_column("bin_end").to_numpy() - starts

    def paint(fig: Figure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
        for ax, source in zip(axes.flat, sources):
            counts = table.get_column(source).to_numpy()
            ax.bar(starts, counts, width=widths, align="edge", color=_color(source), edgecolor="white", linewidth=0.3)
            ax.set_title(f"{source} (n={int(counts.sum()):,})")
            ax.set_xlabel(label)
        for ax in list(axes.flat)[len(sources):]:
            ax.set_visible(False)

    return draw(paint, 2.2 * nrows)


def plot_threshold_curve(curve: pl.DataFrame, threshold: float, precision: float, recall: float) -> bytes:
    """Precision and recall against the cosine threshold, with the chosen threshold marked."""

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        x = curve.get_column("threshold").to_numpy()
        ax.plot(x, curve.get_column("precision").to_numpy(), marker=".", label="precision", color=LEVEL)
        ax.plot(x, curve.get_column("recall").to_numpy(), marker=".", label="recall", color=LOSS)
        ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
        for name, value, color in (("precision", precision, LEVEL), ("recall", recall, LOSS)):
            ax.plot([threshold], [value], "o", color=color)
            ax.annotate(f"{name} {value:.3f}", (threshold, value), textcoords="offset points", xytext=(6, 4), fontsize=7)
        ax.set_xlabel("cosine threshold")
        ax.set_ylim(-0.02, 1.12)
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)

    return draw(paint, 3.2)


def plot_mixture(sources: pl.DataFrame, by_bucket: pl.DataFrame, splits: list[str], buckets: list[str]) -> bytes:
    """Left: examples asked and obtained per source. Right: difficulty buckets per split, stacked."""

    def paint(fig: Figure) -> None:
        left_ax, right_ax = fig.subplots(1, 2, squeeze=False)[0]
        names = sources.get_column("source").to_list()
        y = np.arange(len(names))
        asked = sources.get_column("asked").to_numpy()
        obtained = sources.get_column("obtained").to_numpy()
        left_ax.barh(y - 0.2, asked, height=0.4, color="#bab0ac", label="asked")
        left_ax.barh(y + 0.2, obtained, height=0.4, color=LEVEL, label="obtained")
        for yi, (a, o) in enumerate(zip(asked, obtained)):
            label = f" {int(o):,}" + (f"  short by {int(a - o):,}" if o < a else "")
            left_ax.text(o, yi + 0.2, label, va="center", fontsize=7, color="#b00020" if o < a else "black")
        left_ax.set_yticks(y, names)
        left_ax.invert_yaxis()
        left_ax.set_xlim(0, max(int(asked.max(initial=0)), int(obtained.max(initial=0)), 1) * 1.45)
        left_ax.set_title("examples asked vs obtained")
        left_ax.legend(frameon=False, fontsize=7, loc="lower right")

        stacked = np.zeros(len(splits))
        for i, bucket in enumerate(buckets):
            own = dict(by_bucket.filter(pl.col("bucket") == bucket).select("split", "count").iter_rows())
            values = np.array([own.get(s, 0) for s in splits], dtype=float)
            right_ax.barh(splits, values, left=stacked, color=BUCKET_SHADES[i % len(BUCKET_SHADES)], label=bucket)
            stacked += values
        right_ax.invert_yaxis()
        right_ax.set_title("difficulty buckets per split")
        right_ax.legend(frameon=False, fontsize=7, loc="lower right")

    return draw(paint, 2.6)
