"""Evaluate the trained narrator on every benchmark of params `eval` and write reports/eval/.

Reads models/narrator/<eval.run>/final and its saved frame policy (checked against the frames
stage's, since the narrator's own split uses data/frames), then for each entry of
`eval.benchmarks` (skipped, with the reason, when its files are absent) writes
- reports/eval/metrics.json: DVC metrics, one object per evaluated benchmark (scorers' scale);
- reports/eval/benchmarks/<benchmark>/predictions.jsonl: one record per example with its scores;
- reports/eval/benchmarks/<benchmark>/results.json: COCO results format (caption benchmarks), to rescore
  with `python -m eval.caption_metrics <annotations> <results.json>`;
- reports/eval/summary.json: status, generation settings and problems of every benchmark;
- reports/eval/index.md, index.html, plots/scores.png, plots/scores.json (the DVC plot).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from curation.io import load_params, write_json
from eval.evaluate import evaluate_benchmark
from eval.report import html_page, load_published, markdown, plot_rows, scores_figure
from train.frames import policy_mismatch, read_frame_policy
from train.tiny_model import load_narrator

OUT = Path("reports/eval")
FRAMES_METRICS = Path("reports/metrics/frames.json")


def main() -> None:
    params = load_params()["eval"]
    folder = Path("models/narrator") / params["run"] / "final"
    if not folder.is_dir():
        sys.exit(f"eval: {folder} does not exist: params eval.run must be a train run (curriculum, shuffle, blind)")
    policy = read_frame_policy(folder)
    benchmarks = params["benchmarks"]
    if any(spec.get("format") == "narrator" for spec in benchmarks.values()):
        problem = policy_mismatch(policy, FRAMES_METRICS)
        if problem:
            sys.exit(f"eval: {folder} was trained with another frame policy than data/frames: {problem}")
    model, processor = load_narrator(str(folder))
    model.eval()

    shutil.rmtree(OUT / "benchmarks", ignore_errors=True)
    results = []
    for name, spec in benchmarks.items():
        result = evaluate_benchmark(name, spec, model, processor, policy, spice=params["spice"],
                                    batch_size=int(params["batch_size"]), limit=params.get("limit"))
        results.append(result)
        if result.status != "evaluated":
            print(f"eval: {name}: skipped: {result.reason}", file=sys.stderr)
            continue
        print(f"eval: {name}: " + ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items()
                                            if isinstance(v, float)), file=sys.stderr)
        out = OUT / "benchmarks" / name
        out.mkdir(parents=True, exist_ok=True)
        with (out / "predictions.jsonl").open("w", encoding="utf-8") as handle:
            for record in result.records:
                handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        if result.results:
            write_json(result.results, out / "results.json")

    write_json({r.name: r.metrics for r in results if r.status == "evaluated"}, OUT / "metrics.json")
    model_info = {"path": str(folder), "run": params["run"], "frame_policy": policy.to_dict()}
    write_json({"model": model_info,
                "benchmarks": {r.name: {"format": r.format, "status": r.status, "reason": r.reason,
                                        "settings": r.settings, "problems": r.problems} for r in results}},
               OUT / "summary.json")
    published = load_published()
    png = scores_figure(results, published, f"narrator ({params['run']}) next to published results")
    (OUT / "plots").mkdir(parents=True, exist_ok=True)
    (OUT / "plots" / "scores.png").write_bytes(png)
    write_json(plot_rows(results), OUT / "plots" / "scores.json")
    text = markdown(results, published, model_info)
    (OUT / "index.md").write_text(text, encoding="utf-8")
    (OUT / "index.html").write_text(html_page(text, png), encoding="utf-8")


if __name__ == "__main__":
    main()
