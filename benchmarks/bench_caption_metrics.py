"""Scoring 5,000 predictions: eval.caption_metrics.score_captions against pycocoevalcap alone.

    python -m benchmarks.bench_caption_metrics            # 5,000 predictions, 5 references each, 3 rounds
    python -m benchmarks.bench_caption_metrics --n 1000

Data: real captions (the COCO and TextCaps annotation samples and the photos' references in
tests/fixtures), drawn with a fixed seed: each prediction gets 5 references and a candidate
from the same pool. Three timings per round, alternating, median reported:

- reference: what COCOEvalCap.evaluate() runs minus SPICE: PTBTokenizer on references and on
  candidates, then Bleu(4), Meteor, Rouge, Cider.compute_score;
- scorers only: the four compute_score calls on already tokenized text (no tokenizer, no JVM start
  for it): the strictest baseline;
- ours: score_captions(..., spice="off"): tokenization (one JVM start), the same scorers,
  per-example records.
The bound the scorer is held to: ours at most 1.5x pycocoevalcap's scorers. Both ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from eval.caption_metrics import score_captions

FIXTURES = Path(__file__).resolve().parents[1] / "tests/fixtures"


def caption_pool() -> list[str]:
    coco = json.loads((FIXTURES / "coco/captions_val2014_sample100.json").read_text())
    textcaps = json.loads((FIXTURES / "textcaps/TextCaps_0.1_val_sample100.json").read_text())
    refs = json.loads((FIXTURES / "images/refs.json").read_text())
    pool = [a["caption"] for a in coco["annotations"]] + [r["caption_str"] for r in textcaps["data"]]
    return sorted(set(pool + [c for v in refs.values() for c in v]))


def reference_run(references: dict, candidates: dict) -> float:
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    start = time.perf_counter()
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({k: [{"caption": c} for c in v] for k, v in references.items()})
    res = tokenizer.tokenize({k: [{"caption": candidates[k]}] for k in references})
    scorers_only(gts, res)
    return time.perf_counter() - start


def scorers_only(gts: dict, res: dict) -> float:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge

    start = time.perf_counter()
    for scorer in (Bleu(4), Meteor(), Rouge(), Cider()):
        scorer.compute_score(gts, res, verbose=0) if isinstance(scorer, Bleu) else scorer.compute_score(gts, res)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pool = caption_pool()
    rng = np.random.default_rng(0)
    references = {i: [pool[j] for j in rng.choice(len(pool), 5, replace=False)] for i in range(args.n)}
    candidates = {i: pool[int(rng.integers(len(pool)))] for i in range(args.n)}

    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({k: [{"caption": c} for c in v] for k, v in references.items()})
    res = tokenizer.tokenize({k: [{"caption": candidates[k]}] for k in references})

    times: dict[str, list[float]] = {"reference": [], "scorers only": [], "ours": []}
    check = None
    for _ in range(args.rounds):
        times["reference"].append(reference_run(references, candidates))
        times["scorers only"].append(scorers_only(gts, res))
        start = time.perf_counter()
        scores = score_captions(references, candidates, spice="off")
        times["ours"].append(time.perf_counter() - start)
        check = scores.corpus
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.n} predictions x 5 references, {args.rounds} rounds (median); {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    for name, seconds in median.items():
        print(f"  {name:13s} {seconds:6.2f} s   (all: {', '.join(f'{t:.2f}' for t in times[name])})")
    print(f"  ours / reference    = {median['ours'] / median['reference']:.2f}x")
    print(f"  ours / scorers only = {median['ours'] / median['scorers only']:.2f}x   (bound: 1.5x)")
    print(f"  CIDEr {check['CIDEr']:.4f}, BLEU-4 {check['Bleu_4']:.4f}, METEOR {check['METEOR']:.4f}")


if __name__ == "__main__":
    main()
