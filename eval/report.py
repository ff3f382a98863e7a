"""The eval report: the narrator's own held-out clips, then public benchmarks, each only beside
published figures of the same benchmark and split; as Markdown and a self-contained HTML page.

Numbers are printed as papers print them (CIDEr x 100, accuracy in percent); metrics.json keeps
the scorers' own scale. The narrator's held-out split (format `narrator`) is this project's own:
no published model was evaluated on it, so it has its own section (with the training runs
compared, each over the blind control) and never shares a table or chart with published figures.
A public benchmark's score sits beside the published figures of that benchmark only
(eval/published.yaml); figures on another split are listed as context and never charted.

The report is a list of sections of paragraphs, tables and figures (reporting/blocks.py), laid
out by reporting/templates/eval.md.j2 and eval.html.j2 (the curation report's page and styles).
Predictions are model output and references are dataset text: the HTML template autoescapes
them and the Markdown one escapes every cell (reporting/render.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from matplotlib.figure import Figure as MplFigure

from eval.results import BenchmarkResult
from reporting.blocks import Block, Cell, Figure, Table, Text
from reporting.figures import draw
from reporting.render import render

PUBLISHED_FILE = Path(__file__).with_name("published.yaml")
CAPTION_COLUMNS = ("CIDEr", "Bleu_4", "METEOR", "ROUGE_L", "SPICE")  # printed x 100
CAPTION_HEADERS = ("CIDEr", "BLEU-4", "METEOR", "ROUGE-L", "SPICE")
METRIC_LABELS = {"CIDEr": "CIDEr (x100)", "circular_accuracy": "CircularEval accuracy (%)"}
SAMPLES = 5
TITLE = "Narrator evaluation report"
OURS, OTHERS = "#4c78a8", "#bab0ac"  # reporting/figures.py's first colour; published figures in grey
OUR_SETTING = "zero-shot (not trained on this benchmark), greedy"
NO_COMPARISON = ("No chart next to published results: no evaluated benchmark has published figures "
                 "on its split (eval/published.yaml).")


@dataclass(frozen=True)
class Section:
    key: str  # the HTML id
    title: str
    blocks: tuple[Block, ...]


def load_published(path: str | Path = PUBLISHED_FILE) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def headline(result: BenchmarkResult) -> tuple[str, float] | None:
    """The benchmark's headline metric, in papers' scale."""
    if result.status != "evaluated":
        return None
    if result.format == "mmbench":
        return METRIC_LABELS["circular_accuracy"], 100 * result.metrics["circular_accuracy"]
    return METRIC_LABELS["CIDEr"], 100 * result.metrics["CIDEr"]


def plot_rows(results: list[BenchmarkResult]) -> list[dict[str, Any]]:
    """Rows for the DVC plot (`dvc plots diff` overlays experiments): our score on each evaluated benchmark."""
    rows = []
    for result in results:
        head = headline(result)
        if head:
            rows.append({"benchmark": f"{result.name}: {head[0]}", "score": round(head[1], 3)})
    return rows


def _public(results: list[BenchmarkResult]) -> list[BenchmarkResult]:
    """Every benchmark but the narrator's own held-out split."""
    return [r for r in results if r.format != "narrator"]


def _our_score(result: BenchmarkResult, entry: dict[str, Any]) -> float:
    return entry["scale"] * result.metrics[entry["metric"]]


def comparison_rows(results: list[BenchmarkResult], published: dict[str, Any]) -> list[dict[str, Any]]:
    """The bars of the chart next to published results: per evaluated public benchmark with published
    figures on its split, our score, then those figures; all on the scale papers print."""
    rows: list[dict[str, Any]] = []
    for result in _public(results):
        entry = published.get(result.name)
        if result.status != "evaluated" or entry is None:
            continue
        same_split = [e for e in entry["results"] if e["split"] == entry["split"]]
        if not same_split:
            continue
        common = {"benchmark": result.name, "metric": METRIC_LABELS[entry["metric"]], "split": entry["split"]}
        rows.append({**common, "model": "this narrator", "setting": "zero-shot", "score": round(_our_score(result, entry), 1),
                     "ours": True})
        rows += [{**common, "model": e["model"], "setting": e["setting"], "score": float(e["value"]), "ours": False}
                 for e in same_split]
    return rows


def scores_figure(results: list[BenchmarkResult], published: dict[str, Any], title: str) -> bytes:
    """One panel per benchmark of `comparison_rows`: our bar and the published bars (PNG). Without any,
    a figure that says so (the HTML page then shows the sentence instead)."""
    rows = comparison_rows(results, published)
    benchmarks = list(dict.fromkeys(r["benchmark"] for r in rows))

    def paint(figure: MplFigure) -> None:
        if not rows:
            axes = figure.add_subplot()
            axes.axis("off")
            axes.text(0.5, 0.5, NO_COMPARISON, ha="center", va="center", wrap=True)
            return
        sizes = [sum(1 for r in rows if r["benchmark"] == name) for name in benchmarks]
        grid = figure.add_gridspec(len(benchmarks), 1, height_ratios=sizes)
        for index, name in enumerate(benchmarks):
            _paint_panel(figure.add_subplot(grid[index]), [r for r in rows if r["benchmark"] == name])
        figure.suptitle(title)

    bars = len(rows)
    return draw(paint, 0.32 * bars + 0.9 * len(benchmarks) + 0.6 if rows else 1.2)


def _paint_panel(axes: Any, rows: list[dict[str, Any]]) -> None:
    """Our bar on top, the published figures under it, each labelled with its value."""
    positions = list(range(len(rows)))[::-1]
    values = [r["score"] for r in rows]
    axes.barh(positions, values, color=[OURS if r["ours"] else OTHERS for r in rows])
    axes.set_yticks(positions, [f"{r['model']} ({r['setting']})" for r in rows])
    for y, value in zip(positions, values):
        axes.text(value, y, f" {value:.1f}", va="center")
    axes.set_xlim(0, 1.12 * max(values + [1.0]))
    axes.set_title(f"{rows[0]['benchmark']} ({rows[0]['split']}): {rows[0]['metric']}", loc="left")


# -- the report's tables -----------------------------------------------------------------------


def _x100(result: BenchmarkResult, metric: str) -> str:
    return f"{100 * result.metrics[metric]:.1f}" if metric in result.metrics else "n/a"


def narrator_table(narrator: list[BenchmarkResult]) -> Table:
    """Caption metrics of the report's run on the narrator's held-out split(s)."""
    rows = tuple((r.name, int(r.metrics["examples"]), *(_x100(r, m) for m in CAPTION_COLUMNS)) for r in narrator)
    return Table("", ("split", "examples", *CAPTION_HEADERS), rows, kinds=("", *("n",) * 6))


def runs_table(runs: Sequence[dict[str, Any]], blind_run: str | None, chosen: str) -> Table:
    """CIDEr-D (x 100) per training run and, with a blind control, each other run's ratio over it."""
    names = [r["run"] for r in runs]
    if blind_run is not None and blind_run not in names:
        raise ValueError(f"blind run {blind_run!r} is not one of the runs compared {names}")
    columns: tuple[str, ...] = ("run", "examples", "CIDEr-D (x100)")
    rows: list[tuple[Cell, ...]] = [(r["run"], int(r["examples"]), f"{100 * r['cider_d']:.1f}") for r in runs]
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


def public_table(evaluated: list[BenchmarkResult]) -> Table:
    """Our scores on the evaluated public benchmarks: one row each, no published figure in it."""
    rows: list[tuple[Cell, ...]] = []
    for r in evaluated:
        if r.format == "mmbench":
            accuracy = (f"{100 * r.metrics['circular_accuracy']:.1f} (circular), "
                        f"{100 * r.metrics['vanilla_accuracy']:.1f} (single pass)")
            rows.append((r.name, f"{r.metrics['questions']} questions", "", "", "", "", "", accuracy))
        else:
            rows.append((r.name, str(r.metrics["examples"]), *(_x100(r, m) for m in CAPTION_COLUMNS), ""))
    return Table("", ("benchmark", "examples", *CAPTION_HEADERS, "accuracy (%)"), tuple(rows), kinds=("", *("n",) * 7))


def published_table(result: BenchmarkResult, entry: dict[str, Any], run: str) -> Table:
    """Our score on an evaluated benchmark, then that benchmark's published figures; a figure on
    another split is marked as context."""
    ours = (f"this narrator ({run})", f"{_our_score(result, entry):.1f}", entry["split"], OUR_SETTING, "this report")
    rows: list[tuple[Cell, ...]] = [ours]
    for e in entry["results"]:
        split = e["split"] if e["split"] == entry["split"] else f"{e['split']} (another split: context only)"
        rows.append((e["model"], f"{e['value']}", split, e["setting"], e["source"]))
    return Table("", ("model", METRIC_LABELS[entry["metric"]], "split", "setting", "source"), tuple(rows),
                 kinds=("", "n", "", "", ""), marks=("strong",) + ("",) * len(entry["results"]))


def skipped_table(skipped: list[BenchmarkResult], published: dict[str, Any]) -> Table:
    rows = tuple(
        (r.name, r.format, r.reason,
         f"{len(published[r.name]['results'])} in eval/published.yaml" if r.name in published else "none")
        for r in skipped
    )
    return Table("", ("benchmark", "format", "why", "published figures"), rows, kinds=("", "", "id", ""))


def settings_table(results: list[BenchmarkResult]) -> Table:
    rows = tuple(
        (r.name, r.settings["prompt"], str(r.settings["max_new_tokens"]), r.settings["decoding"], r.settings["frames"],
         str(r.settings["max_pixels"]))
        for r in results if r.settings
    )
    return Table("", ("benchmark", "prompt", "max new tokens", "decoding", "frames", "max pixels"), rows,
                 kinds=("", "t", "n", "", "", "n"))


def samples_table(result: BenchmarkResult) -> Table:
    records = result.records[:SAMPLES]
    if result.format == "mmbench":
        return Table(result.name, ("question", "answer", "model said", "extracted"),
                     tuple((str(r["index"]), r["answer"], r["prediction"], r["extracted"]) for r in records),
                     kinds=("n", "", "t", ""))
    rows = tuple((r["id"], f"{100 * r['CIDEr']:.1f}" if "CIDEr" in r else "n/a", r["prediction"], r["references"][0])
                 for r in records)
    return Table(result.name, ("id", "CIDEr (x100)", "prediction", "first reference"), rows, kinds=("id", "n", "t", "t"))


# -- the sections ------------------------------------------------------------------------------


def narrator_section(narrator: list[BenchmarkResult], runs: Sequence[dict[str, Any]], blind_run: str | None,
                     chosen: str) -> Section:
    names = ", ".join(r.name for r in narrator)
    blocks: list[Block] = [Text(
        f"Caption metrics of run {chosen} on the mix stage's held-out clips ({names or 'none evaluated'}), x 100. "
        "This split is the project's own: no published model was evaluated on it, so these scores have no "
        "published counterpart and are not comparable with any public benchmark's published figures."
    )]
    if narrator:
        blocks.append(narrator_table(narrator))
    if runs:
        blind = (f", and each run's CIDEr-D over the blind control's ({blind_run}: trained and evaluated on black "
                 "frames; a ratio near 1 means the run barely uses what it sees)") if blind_run is not None else ""
        blocks += [Text("Training runs compared", "h3"),
                   Text(f"CIDEr-D (x 100) of every training run on the held-out clips{blind}. "
                        f"The run this report is about ({chosen}) is in bold."),
                   runs_table(runs, blind_run, chosen)]
    return Section("narrator", "The narrator's held-out clips", tuple(blocks))


def public_section(public: list[BenchmarkResult], published: dict[str, Any], run: str, png: bytes) -> Section:
    evaluated = [r for r in public if r.status == "evaluated"]
    if not evaluated:
        return Section("public", "Public benchmarks", (Text("No public benchmark was evaluated (see Skipped benchmarks)."),))
    blocks: list[Block] = [
        Text("Scores as papers print them (CIDEr x 100, accuracy in percent). The narrator is not trained on any "
             "of these benchmarks: its scores are zero-shot. Each score sits only beside published figures of the "
             "same benchmark; each figure keeps the split and setting it was reported for, and one on another "
             "split is context only."),
        public_table(evaluated),
    ]
    for result in evaluated:
        entry = published.get(result.name)
        if entry is None:
            blocks.append(Text(f"{result.name}: no published figures (eval/published.yaml has none for it)."))
            continue
        blocks += [Text(f"{result.name}: next to published figures", "h3"), published_table(result, entry, run)]
    if comparison_rows(public, published):
        blocks.append(Figure("scores", f"narrator ({run}) next to published results, per benchmark: ours in blue, "
                                       "published figures on the same split in grey", png,
                             "Per benchmark, our score and the published figures on the same split, as bars"))
    else:
        blocks.append(Text(NO_COMPARISON))
    return Section("public", "Public benchmarks", tuple(blocks))


def problems_table(results: list[BenchmarkResult]) -> Table:
    """Each problem once, with the benchmarks it concerns (SPICE's absence is the same for all)."""
    where: dict[str, list[str]] = {}
    for r in results:
        for problem in r.problems:
            where.setdefault(problem, []).append(r.name)
    return Table("", ("benchmarks", "problem"), tuple((", ".join(names), p) for p, names in where.items()),
                 kinds=("", "t"))


def _sections(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any],
              runs: Sequence[dict[str, Any]], blind_run: str | None, png: bytes) -> list[Section]:
    narrator = [r for r in results if r.format == "narrator" and r.status == "evaluated"]
    public = _public(results)
    skipped = [r for r in results if r.status != "evaluated"]
    sections = [narrator_section(narrator, runs, blind_run, model["run"])]
    if public:
        sections.append(public_section(public, published, model["run"], png))
    if skipped:
        sections.append(Section("skipped", "Skipped benchmarks", (
            Text("Benchmarks whose files were absent when the eval ran (data/benchmarks/README.md says where they go)."),
            skipped_table(skipped, published))))
    sections.append(Section("settings", "Generation settings", (settings_table(results),)))
    if any(r.problems for r in results):
        sections.append(Section("problems", "Left out or unavailable", (problems_table(results),)))
    sections.append(Section("samples", "Sample predictions",
                            tuple(samples_table(r) for r in results if r.status == "evaluated")))
    return sections


def cards(results: list[BenchmarkResult], runs: Sequence[dict[str, Any]], blind_run: str | None,
          chosen: str) -> list[tuple[str, str]]:
    """(value, label) of the headline cards: the narrator's own split first, then what ran."""
    out: list[tuple[str, str]] = []
    own = next((r for r in runs if r["run"] == chosen), None)
    if own is not None:
        out += [(f"{100 * own['cider_d']:.1f}", f"CIDEr-D x100 ({chosen}, held-out clips)"),
                (f"{int(own['examples']):,}", "held-out clips")]
        blind = next((float(r["cider_d"]) for r in runs if r["run"] == blind_run), None)
        if blind is not None and chosen != blind_run:
            out.append((_over_blind(own, blind, str(blind_run)), "over the blind control"))
    public = _public(results)
    evaluated = sum(1 for r in public if r.status == "evaluated")
    out.append((f"{evaluated} of {len(public)}", "public benchmarks evaluated"))
    return out


def _context(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any],
             runs: Sequence[dict[str, Any]], blind_run: str | None, png: bytes) -> dict[str, Any]:
    sections = _sections(results, published, model, runs, blind_run, png)
    return {"title": TITLE, "model": model, "sections": sections,
            "cards": cards(results, runs, blind_run, model["run"])}


def markdown(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any], *,
             runs: Sequence[dict[str, Any]] = (), blind_run: str | None = None) -> str:
    """reports/eval/index.md. `runs`: {run, cider_d (scorer's scale), examples} per training run
    compared (left out without any); `blind_run`: the control among them, if any. The chart is
    linked as plots/scores.png."""
    return render("eval.md.j2", **_context(results, published, model, runs, blind_run, b""))


def html_page(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any], png: bytes, *,
              runs: Sequence[dict[str, Any]] = (), blind_run: str | None = None) -> str:
    """reports/eval/index.html: the Markdown report's content as one self-contained page, with the
    chart next to published results (`png`, from scores_figure) inline when there is one."""
    return render("eval.html.j2", **_context(results, published, model, runs, blind_run, png))
