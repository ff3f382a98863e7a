"""The eval report: our numbers next to published ~3B results, as Markdown and a self-contained HTML page.

Numbers are printed as papers print them (CIDEr x 100, accuracy in percent); metrics.json keeps
the scorers' own scale. Every published figure carries its split and setting, and a row of ours
says which split and generation setting it comes from. When several training runs were
evaluated, a section compares their CIDEr-D on the narrator's held-out clips, each over the blind
control's.

`markdown(...)` and `html_page(...)` lay out the same content from reporting/templates/
(eval.md.j2, eval.html.j2). Predictions are model output and references are dataset text: the
HTML template autoescapes them and the Markdown one escapes every cell (reporting/render.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from matplotlib.figure import Figure

from eval.results import BenchmarkResult
from reporting.blocks import Table
from reporting.figures import draw
from reporting.render import render

PUBLISHED_FILE = Path(__file__).with_name("published.yaml")
CAPTION_COLUMNS = ("CIDEr", "Bleu_4", "METEOR", "ROUGE_L", "SPICE")  # printed x 100
SAMPLES = 5
TITLE = "Narrator evaluation report"
OURS, OTHERS = "#1f77b4", "#bbbbbb"


def load_published(path: str | Path = PUBLISHED_FILE) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def headline(result: BenchmarkResult) -> tuple[str, float] | None:
    """The benchmark's headline metric, in papers' scale."""
    if result.status != "evaluated":
        return None
    if result.format == "mmbench":
        return "CircularEval accuracy (%)", 100 * result.metrics["circular_accuracy"]
    return "CIDEr (x100)", 100 * result.metrics["CIDEr"]


def plot_rows(results: list[BenchmarkResult]) -> list[dict[str, Any]]:
    """Rows for the DVC plot (`dvc plots diff` overlays experiments): one per evaluated benchmark."""
    rows = []
    for result in results:
        head = headline(result)
        if head:
            rows.append({"benchmark": f"{result.name}: {head[0]}", "score": round(head[1], 3)})
    return rows


def scores_figure(results: list[BenchmarkResult], published: dict[str, Any], title: str) -> bytes:
    """Horizontal bars: each evaluated benchmark's headline, with its published figures beside it (PNG)."""
    labels, values, colours = [], [], []
    for result in results:
        head = headline(result)
        if not head:
            continue
        labels.append(f"{result.name}: ours ({head[0]})")
        values.append(head[1])
        colours.append(OURS)
        for entry in published.get(result.name, {}).get("results", []):
            labels.append(f"{result.name}: {entry['model']} ({entry['split']}, {entry['setting']})")
            values.append(float(entry["value"]))
            colours.append(OTHERS)

    def paint(figure: Figure) -> None:
        axes = figure.add_subplot()
        if labels:
            positions = list(range(len(labels)))[::-1]
            axes.barh(positions, values, color=colours)
            axes.set_yticks(positions, labels)
            for y, value in zip(positions, values):
                axes.text(value, y, f" {value:.1f}", va="center")
        else:
            axes.text(0.5, 0.5, "no benchmark evaluated", ha="center", va="center")
        axes.set_xlabel("score as papers print it (CIDEr x 100, accuracy %)")
        axes.set_title(title)

    return draw(paint, 0.45 * max(len(labels), 2) + 1.2)


# -- the report's tables -----------------------------------------------------------------------


def _x100(result: BenchmarkResult, metric: str) -> str:
    return f"{100 * result.metrics[metric]:.1f}" if metric in result.metrics else "n/a"


def results_table(results: list[BenchmarkResult]) -> Table:
    rows = []
    for r in results:
        if r.status != "evaluated":
            rows.append((r.name, "skipped", "", "", "", "", "", "", ""))
        elif r.format == "mmbench":
            accuracy = (f"{100 * r.metrics['circular_accuracy']:.1f} (circular), "
                        f"{100 * r.metrics['vanilla_accuracy']:.1f} (single pass)")
            rows.append((r.name, "evaluated", f"{r.metrics['questions']} questions", "", "", "", "", "", accuracy))
        else:
            rows.append((r.name, "evaluated", str(r.metrics["examples"]), *(_x100(r, m) for m in CAPTION_COLUMNS), ""))
    return Table(
        "",
        ("benchmark", "status", "examples", "CIDEr", "BLEU-4", "METEOR", "ROUGE-L", "SPICE", "accuracy (%)"),
        tuple(rows),
        kinds=("", "", *("n",) * 7),
    )


def runs_table(runs: Sequence[dict[str, Any]], blind_run: str | None, chosen: str) -> Table:
    """CIDEr-D (x 100) per training run and, with a blind control, each other run's ratio over it."""
    names = [r["run"] for r in runs]
    if blind_run is not None and blind_run not in names:
        raise ValueError(f"blind run {blind_run!r} is not one of the runs compared {names}")
    columns: tuple[str, ...] = ("run", "examples", "CIDEr-D (x100)")
    rows: list[tuple[Any, ...]] = [(r["run"], int(r["examples"]), f"{100 * r['cider_d']:.1f}") for r in runs]
    if blind_run is not None:
        blind = next(float(r["cider_d"]) for r in runs if r["run"] == blind_run)
        columns += ("over blind",)
        rows = [row + (_over_blind(r, blind, blind_run),) for row, r in zip(rows, runs)]
    marks = tuple("strong" if r["run"] == chosen else "" for r in runs)
    return Table("", columns, tuple(rows), kinds=("", "n", "n", "n")[: len(columns)], marks=marks)


def _over_blind(run: dict[str, Any], blind: float, blind_run: str) -> str:
    if run["run"] == blind_run:
        return "(control)"
    if blind <= 0:
        return "n/a (blind CIDEr-D is 0)"
    return f"{run['cider_d'] / blind:.2f}x"


def published_table(name: str, entry: dict[str, Any], ours: BenchmarkResult | None, run: str) -> Table:
    """Our headline on the benchmark (or why there is none), then the published figures."""
    head = headline(ours) if ours else None
    if head:
        first = (f"this narrator ({run})", f"{head[1]:.1f}", f"{name} (files in params eval.benchmarks.{name})",
                 "zero-shot transfer of the narrator, greedy", "reports/eval")
    else:
        first = ("this narrator", "not evaluated", "", ours.reason if ours else "not in params", "")
    rows = [first] + [(e["model"], f"{e['value']}", e["split"], e["setting"], e["source"]) for e in entry["results"]]
    return Table(
        "", ("model", "score", "split", "setting", "source"), tuple(rows),
        kinds=("", "n", "", "", ""), marks=("strong" if head else "",) + ("",) * len(entry["results"]),
    )


def settings_table(results: list[BenchmarkResult]) -> Table:
    rows = tuple(
        (r.name, r.settings["prompt"], str(r.settings["max_new_tokens"]), r.settings["decoding"], r.settings["frames"],
         str(r.settings["max_pixels"]))
        for r in results if r.settings
    )
    return Table("", ("benchmark", "prompt", "max new tokens", "decoding", "frames", "max pixels"), rows,
                 kinds=("", "t", "n", "", "", "n"))


def _context(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any],
             runs: Sequence[dict[str, Any]], blind_run: str | None) -> dict[str, Any]:
    by_name = {r.name: r for r in results}
    return {
        "title": TITLE,
        "model": model,
        "results": results_table(results),
        "skipped": [r for r in results if r.status != "evaluated"],
        "runs": runs_table(runs, blind_run, model["run"]) if runs else None,
        "blind_run": blind_run,
        "published": [
            {"name": name, "metric": entry["metric"], "scale": entry["scale"],
             "table": published_table(name, entry, by_name.get(name), model["run"])}
            for name, entry in published.items()
        ],
        "settings": settings_table(results),
        "problems": [(r.name, p) for r in results for p in r.problems],
        "samples": [{"name": r.name, "format": r.format, "records": r.records[:SAMPLES]}
                    for r in results if r.status == "evaluated"],
    }


def markdown(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any], *,
             runs: Sequence[dict[str, Any]] = (), blind_run: str | None = None) -> str:
    """reports/eval/index.md. `runs`: {run, cider_d (scorer's scale), examples} per training run
    compared (the section is left out without any); `blind_run`: the control among them, if any."""
    return render("eval.md.j2", **_context(results, published, model, runs, blind_run))


def html_page(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any], png: bytes, *,
              runs: Sequence[dict[str, Any]] = (), blind_run: str | None = None) -> str:
    """reports/eval/index.html: the Markdown report's content as one self-contained page, with the
    scores figure (`png`) inline."""
    return render("eval.html.j2", png=png, **_context(results, published, model, runs, blind_run))
