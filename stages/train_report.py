"""Score every trained run on the held-out test split and write reports/train/.

Reads models/narrator/<run>/final for the runs in stages/train_narrator.py, data/frames/test.parquet
and data/mixtures/test.parquet; checks that the test frames were sampled with the frame policy
saved with each model (its processor config), then narrates every test clip (greedy; the blind run sees black
frames, as it was trained) and writes
- reports/train/metrics.json: CIDEr-D per run, and each run's CIDEr-D over the blind control's;
- reports/train/index.md: the same table, the tiny narrator's floors, and sample narrations next to
  their references with the clip's video reference;
- reports/train/narrations.jsonl: every narration with its reference and CIDEr-D.
"""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

from curation.io import write_json
from eval.caption_metrics import cider_d
from train.dataset import load_examples
from train.frames import policy_mismatch, read_frame_policy
from train.narrate import narrate_examples
from train.tiny_model import load_narrator

RUNS = ("curriculum", "shuffle", "blind")
FRAMES_METRICS = Path("reports/metrics/frames.json")
OUT = Path("reports/train")
SAMPLES = 6
FLOOR_CIDER, FLOOR_OVER_BLIND = 2.0, 2.0


def main() -> None:
    examples = load_examples("data/frames/test.parquet", "data/mixtures/test.parquet")
    references = {row["example_id"]: [row["text"]] for row in examples.iter_rows(named=True)}
    scores: dict[str, float] = {}
    rows: list[dict[str, object]] = []
    for run in RUNS:
        folder = Path("models/narrator") / run / "final"
        problem = policy_mismatch(read_frame_policy(folder), FRAMES_METRICS)
        if problem:
            sys.exit(f"train_report: {folder} was trained with another frame policy: {problem}")
        model, processor = load_narrator(str(folder))
        model.eval()
        narrations = narrate_examples(model, processor, examples, blind=run == "blind")
        scores[run], per_example = cider_d(references, narrations)
        rows += [{"run": run, "example_id": k, "narration": v, "reference": references[k][0],
                  "cider_d": round(per_example[k], 4)} for k, v in sorted(narrations.items())]
        print(f"train_report: {run}: CIDEr-D {scores[run]:.3f} on {len(narrations)} test clips", file=sys.stderr)
    blind = scores["blind"]
    metrics = {
        "test_examples": examples.height,
        "cider_d": {run: round(score, 4) for run, score in scores.items()},
        "over_blind": {run: (round(scores[run] / blind, 3) if blind > 0 else None) for run in RUNS if run != "blind"},
    }
    write_json(metrics, OUT / "metrics.json")
    with (OUT / "narrations.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (OUT / "index.md").write_text(markdown(metrics, rows, examples), encoding="utf-8")


def markdown(metrics: dict, rows: list[dict[str, object]], examples) -> str:  # type: ignore[no-untyped-def]
    """The report. Dump text is untrusted: escaped, and table pipes neutralised."""

    def cell(text: object) -> str:
        return html.escape(str(text)).replace("|", "&#124;").replace("\n", " ")

    video = {r["example_id"]: f"{r['source']} clip" for r in examples.iter_rows(named=True)}
    lines = [
        "# Narrator training report",
        "",
        f"Held-out test split: {metrics['test_examples']} clips. CIDEr-D (pycocoevalcap, PTB-tokenized; "
        "10 = a perfect match with the one reference). Floors of the tiny narrator: CIDEr-D >= "
        f"{FLOOR_CIDER:g} and >= {FLOOR_OVER_BLIND:g}x the blind control.",
        "",
        "| run | CIDEr-D | over blind | meets floors |",
        "|---|---:|---:|---|",
    ]
    for run, score in metrics["cider_d"].items():
        ratio = metrics["over_blind"].get(run)
        meets = "" if run == "blind" else ("yes" if score >= FLOOR_CIDER and (ratio or 0) >= FLOOR_OVER_BLIND else "no")
        lines.append(f"| {run} | {score:.3f} | {'' if ratio is None else f'{ratio:.2f}x'} | {meets} |")
    lines += ["", "## Sample narrations (curriculum run)", ""]
    for row in [r for r in rows if r["run"] == "curriculum"][:SAMPLES]:
        lines += [f"**{cell(row['example_id'])}** ({cell(video.get(str(row['example_id']), ''))}, "
                  f"CIDEr-D {row['cider_d']})", "", f"- narration: {cell(row['narration'])}",
                  f"- reference: {cell(row['reference'])}", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
