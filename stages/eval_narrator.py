"""Evaluate one trained run's narrator on every benchmark of params `eval.benchmarks`.

Reads the model folder given by --model (its saved frame policy decides how frames are sampled
from benchmark images) and, for each entry of `eval.benchmarks` (skipped, with the reason, when
its files are absent), narrates every item once and scores it. The blind run is evaluated as it
was trained: on black frames of the same sizes. Writes into --out
- metrics.json: DVC metrics, one object per evaluated benchmark (the scorers' scale);
- summary.json: the model, the benchmarks in params order, and per benchmark its status, reason,
  metrics, generation settings and problems (what the eval_report stage reads);
- benchmarks/<benchmark>/predictions.jsonl: one record per example with its scores, and
  results.json: COCO results format (caption benchmarks), to rescore with
  `python -m eval.caption_metrics <annotations> <results.json>`.
Paths are the arguments dvc.yaml gives.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from config.params import BLIND_RUN, load_params
from curation.io import write_json
from eval.evaluate import evaluate_benchmark
from narrate.frames import read_frame_policy
from narrate.model import load_narrator

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="the train run's name (blind: evaluated on black frames)")
    parser.add_argument("--model", type=Path, required=True, help="the run's final model folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics, summary and predictions")
    args = parser.parse_args()
    params = load_params().eval
    policy = read_frame_policy(args.model)
    model, processor = load_narrator(str(args.model))
    model.eval()

    shutil.rmtree(args.out / "benchmarks", ignore_errors=True)
    results = []
    for name, spec in params.benchmarks.items():
        result = evaluate_benchmark(name, spec, model, processor, policy, spice=params.spice,
                                    batch_size=params.batch_size, limit=params.limit, blind=args.run == BLIND_RUN)
        results.append(result)
        if result.status != "evaluated":
            print(f"eval {args.run}: {name}: skipped: {result.reason}", file=sys.stderr)
            continue
        print(f"eval {args.run}: {name}: " + ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items()
                                                       if isinstance(v, float)), file=sys.stderr)
        out = args.out / "benchmarks" / name
        out.mkdir(parents=True, exist_ok=True)
        with (out / "predictions.jsonl").open("w", encoding="utf-8") as handle:
            for record in result.records:
                handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        if result.results:
            write_json(result.results, out / "results.json")

    write_json({r.name: r.metrics for r in results if r.status == "evaluated"}, args.out / "metrics.json")
    model_info = {"path": args.model.as_posix(), "run": args.run, "frame_policy": policy.to_dict()}
    write_json({"model": model_info,
                "order": [r.name for r in results],  # params order (the JSON's keys are sorted): the report's order
                "benchmarks": {r.name: {"format": r.format, "status": r.status, "reason": r.reason,
                                        "metrics": r.metrics, "settings": r.settings, "problems": r.problems}
                               for r in results}},
               args.out / "summary.json")


if __name__ == "__main__":
    main()
