"""Compare the evaluated runs and write the eval report people read.

Reads <runs-dir>/<run>/summary.json of every run in params `train.runs` (the eval stage's
outputs) and the predictions of the run named by params `eval.run` (the narrator the report is
about); writes into --out
- metrics.json: the headline for `dvc metrics show` / `dvc exp show`: CIDEr-D of every run on the
  narrator's held-out clips, each run's ratio over the blind control (when it was trained), and
  the chosen run's headline score (CIDEr-D, or CircularEval accuracy) on every other evaluated
  benchmark; every other figure stays in the runs' own metrics.json and summary.json;
- index.md and index.html: the chosen run next to published results of ~3B models, the runs
  compared, generation settings, what was skipped, sample predictions;
- plots/scores.png and plots/scores.json (the DVC plot).
Paths are the arguments dvc.yaml gives.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from config.params import BLIND_RUN, load_params
from curation.io import write_json
from eval.report import html_page, load_published, markdown, plot_rows, scores_figure
from eval.results import BenchmarkResult


HEADLINE_METRIC = {"mmbench": "circular_accuracy"}  # by format; caption benchmarks: CIDEr


def read_results(run_dir: Path) -> tuple[dict[str, Any], list[BenchmarkResult]]:
    """The eval stage's summary of one run, as BenchmarkResults with their prediction records."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    results = []
    for name in summary["order"]:
        entry = summary["benchmarks"][name]
        predictions = run_dir / "benchmarks" / name / "predictions.jsonl"
        records = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()] \
            if entry["status"] == "evaluated" else []
        results.append(BenchmarkResult(name=name, records=records, **entry))
    return summary["model"], results


def runs_compared(summaries: dict[str, list[BenchmarkResult]]) -> list[dict[str, Any]]:
    """CIDEr-D of every run on the narrator-format benchmark (the mix stage's held-out clips)."""
    rows = []
    for run, results in summaries.items():
        narrator = [r for r in results if r.format == "narrator" and r.status == "evaluated"]
        if len(narrator) != 1:
            raise SystemExit(f"eval_report: run {run} has {len(narrator)} evaluated narrator-format benchmarks; "
                             "params eval.benchmarks must hold exactly one (the held-out clips)")
        rows.append({"run": run, "cider_d": narrator[0].metrics["CIDEr"], "examples": narrator[0].metrics["examples"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs-dir", type=Path, required=True, help="folder holding the eval stage's <run>/ outputs")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics.json, index.md/html, plots/")
    args = parser.parse_args()
    params = load_params()
    chosen, evaluated = params.eval.run, params.train.runs
    if chosen not in evaluated:
        raise SystemExit(f"eval_report: params eval.run = {chosen!r} is not one of params train.runs {list(evaluated)}: "
                         "add it there or pick one of those")

    per_run = {run: read_results(args.runs_dir / run) for run in evaluated}
    runs = runs_compared({run: results for run, (_, results) in per_run.items()})
    blind_run = BLIND_RUN if BLIND_RUN in evaluated else None
    blind = next((r["cider_d"] for r in runs if r["run"] == blind_run), None)
    model_info, results = per_run[chosen]
    headline: dict[str, Any] = {"cider_d": {r["run"]: round(r["cider_d"], 4) for r in runs}}
    if blind is not None:  # an experiment may train the curriculum run alone
        headline["over_blind"] = {r["run"]: (round(r["cider_d"] / blind, 3) if blind > 0 else None)
                                  for r in runs if r["run"] != blind_run}
    # The eval.run model's figure on each other benchmark, under the benchmark's name (a short column).
    headline |= {r.name: round(r.metrics[HEADLINE_METRIC.get(r.format, "CIDEr")], 4) for r in results
                 if r.status == "evaluated" and r.format != "narrator"}  # narrator: cider_d above
    write_json(headline, args.out / "metrics.json")

    published = load_published()
    png = scores_figure(results, published, f"narrator ({chosen}) next to published results")
    (args.out / "plots").mkdir(parents=True, exist_ok=True)
    (args.out / "plots" / "scores.png").write_bytes(png)
    write_json(plot_rows(results), args.out / "plots" / "scores.json")
    text = markdown(results, published, model_info, runs=runs, blind_run=blind_run)
    (args.out / "index.md").write_text(text, encoding="utf-8")
    page = html_page(results, published, model_info, png, runs=runs, blind_run=blind_run)
    (args.out / "index.html").write_text(page, encoding="utf-8")
    print("eval_report: CIDEr-D " + ", ".join(f"{r['run']} {r['cider_d']:.3f}" for r in runs), flush=True)


if __name__ == "__main__":
    main()
