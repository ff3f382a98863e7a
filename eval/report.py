"""The eval report: our numbers next to published ~3B results, as Markdown and a self-contained HTML page.

Numbers are printed as papers print them (CIDEr x 100, accuracy in percent); metrics.json keeps
the scorers' own scale. Every published figure carries its split and setting, and a row of ours
says which split and generation setting it comes from. Predictions are model output and
references are dataset text: both are escaped.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from eval.evaluate import BenchmarkResult

PUBLISHED_FILE = Path(__file__).with_name("published.yaml")
CAPTION_COLUMNS = ("CIDEr", "Bleu_4", "METEOR", "ROUGE_L", "SPICE")  # printed x 100
SAMPLES = 5


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
        colours.append("#1f77b4")
        for entry in published.get(result.name, {}).get("results", []):
            labels.append(f"{result.name}: {entry['model']} ({entry['split']}, {entry['setting']})")
            values.append(float(entry["value"]))
            colours.append("#bbbbbb")
    figure = Figure(figsize=(9, 0.45 * max(len(labels), 2) + 1.2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if labels:
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, labels, fontsize=8)
        for y, value in zip(positions, values):
            axes.text(value, y, f" {value:.1f}", va="center", fontsize=8)
    else:
        axes.text(0.5, 0.5, "no benchmark evaluated", ha="center", va="center")
    axes.set_xlabel("score as papers print it (CIDEr x 100, accuracy %)")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})  # no version stamp: byte-stable
    return buffer.getvalue()


def _fmt(result: BenchmarkResult, metric: str) -> str:
    if metric in result.metrics:
        return f"{100 * result.metrics[metric]:.1f}"
    return "n/a"


def markdown(results: list[BenchmarkResult], published: dict[str, Any], model: dict[str, Any]) -> str:
    """The report as Markdown. Cells are HTML-escaped and pipes neutralised (text is untrusted)."""

    def cell(text: object) -> str:
        return html.escape(str(text)).replace("|", "&#124;").replace("\n", " ")

    lines = [
        "# Narrator evaluation report",
        "",
        f"Model: `{cell(model['path'])}` (train run `{cell(model['run'])}`), frame policy "
        + ", ".join(f"{cell(k)}={cell(v)}" for k, v in model["frame_policy"].items()) + ". Caption metrics: pycocoevalcap's scorers after its PTB tokenizer, "
        "on the images of the results (as coco-caption evaluates); printed x 100 as papers print them "
        "(`reports/eval/metrics.json` keeps the scorers' 0-1 / 0-10 scale). MMBench: CircularEval, "
        "rule-based answer extraction, no LLM judge.",
        "",
        "## Results",
        "",
        "| benchmark | status | examples | CIDEr | BLEU-4 | METEOR | ROUGE-L | SPICE | accuracy (%) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.status != "evaluated":
            lines.append(f"| {cell(r.name)} | skipped | | | | | | | |")
            continue
        if r.format == "mmbench":
            lines.append(f"| {cell(r.name)} | evaluated | {r.metrics['questions']} questions | | | | | | "
                         f"{100 * r.metrics['circular_accuracy']:.1f} (circular), "
                         f"{100 * r.metrics['vanilla_accuracy']:.1f} (single pass) |")
        else:
            lines.append(f"| {cell(r.name)} | evaluated | {r.metrics['examples']} | "
                         + " | ".join(_fmt(r, m) for m in CAPTION_COLUMNS) + " | |")
    skipped = [r for r in results if r.status != "evaluated"]
    if skipped:
        lines += ["", "Skipped:", ""] + [f"- **{cell(r.name)}** ({cell(r.format)}): {cell(r.reason)}" for r in skipped]

    lines += ["", "## Next to published ~3B models", "",
              "Published figures keep the split and setting they were reported for; a figure from another "
              "split or setting is context, not a like-for-like comparison.", ""]
    for name, entry in published.items():
        ours = next((r for r in results if r.name == name), None)
        head = headline(ours) if ours else None
        lines += [f"### {cell(name)} ({cell(entry['metric'])}, x {entry['scale']})", "",
                  "| model | score | split | setting | source |", "|---|---:|---|---|---|"]
        if head:
            lines.append(f"| **this narrator ({cell(model['run'])})** | **{head[1]:.1f}** | {cell(name)} "
                         f"(files in params eval.benchmarks.{cell(name)}) | zero-shot transfer of the narrator, "
                         "greedy | reports/eval |")
        else:
            lines.append(f"| this narrator | not evaluated | | {cell(ours.reason if ours else 'not in params')} | |")
        for e in entry["results"]:
            lines.append(f"| {cell(e['model'])} | {e['value']} | {cell(e['split'])} | {cell(e['setting'])} | "
                         f"{cell(e['source'])} |")
        lines.append("")

    lines += ["## Generation settings", "", "| benchmark | prompt | max new tokens | decoding | frames | max pixels |",
              "|---|---|---:|---|---|---:|"]
    for r in results:
        if r.settings:
            s = r.settings
            lines.append(f"| {cell(r.name)} | {cell(s['prompt'])} | {s['max_new_tokens']} | {cell(s['decoding'])} | "
                         f"{cell(s['frames'])} | {s['max_pixels']} |")
    notes = [(r.name, p) for r in results for p in r.problems]
    if notes:
        lines += ["", "## Left out or unavailable", ""] + [f"- **{cell(n)}**: {cell(p)}" for n, p in notes]
    lines += ["", "## Sample predictions", ""]
    for r in results:
        if r.status != "evaluated":
            continue
        lines += [f"### {cell(r.name)}", ""]
        for record in r.records[:SAMPLES]:
            if r.format == "mmbench":
                lines.append(f"- question {record['index']}: answer {cell(record['answer'])}, model said "
                             f"\"{cell(record['prediction'])}\" -> {cell(record['extracted'])}")
            else:
                score = f", CIDEr {100 * record['CIDEr']:.1f}" if "CIDEr" in record else ""
                lines += [f"- **{cell(record['id'])}**{score}", f"  - prediction: {cell(record['prediction'])}",
                          f"  - reference: {cell(record['references'][0])}"]
        lines.append("")
    lines += ["![scores](plots/scores.png)", ""]
    return "\n".join(lines)


def html_page(markdown_text: str, png: bytes) -> str:
    """A self-contained HTML page of the Markdown report with the plot embedded.

    Every table cell and text from data was escaped when the Markdown was written, so the
    rendered page shows it as text."""
    import markdown

    body = markdown.markdown(markdown_text.replace("![scores](plots/scores.png)", ""), extensions=["tables"])
    image = base64.b64encode(png).decode()
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Narrator evaluation report</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style>"
            f"</head><body>\n{body}\n<img alt=\"scores\" src=\"data:image/png;base64,{image}\">\n</body></html>\n")
