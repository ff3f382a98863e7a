"""Run one benchmark: read its files, generate with the narrator, score, keep per-example records.

`evaluate_benchmark` takes one entry of params `eval.benchmarks` (see params.yaml):
`format` is narrator | coco | textcaps | mmbench; the other keys are that format's files and
generation settings. Missing files make a skipped result with the reason, never an exception:
a pipeline with no COCO on disk still reports everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.benchmarks import (
    MMBENCH_INSTRUCTION, circular_eval, coco_captions, mmbench_questions, narrator_split, textcaps_captions,
)
from eval.caption_metrics import cider_d, score_captions
from train.dataset import PROMPTS
from train.frames import FramePolicy
from train.narrate import DECODING, generate

FORMATS = {  # format -> the params keys naming its files
    "narrator": ("frames", "mixture"),
    "coco": ("annotations", "images"),
    "textcaps": ("annotations", "images"),
    "mmbench": ("tsv",),
}


@dataclass
class BenchmarkResult:
    name: str
    format: str
    status: str  # "evaluated" or "skipped"
    reason: str = ""  # why it was skipped
    metrics: dict[str, Any] = field(default_factory=dict)  # the scorer's scale (CIDEr 1.0 = papers' 100)
    settings: dict[str, Any] = field(default_factory=dict)  # generation settings, recorded with the numbers
    problems: list[str] = field(default_factory=list)  # items left out, metrics unavailable
    records: list[dict[str, Any]] = field(default_factory=list)  # one per example, for error analysis
    results: list[dict[str, Any]] = field(default_factory=list)  # COCO results format (caption benchmarks)


def missing_files(spec: dict[str, Any]) -> list[str]:
    """The spec's files that do not exist (the benchmark is then skipped)."""
    fmt = spec.get("format")
    if fmt not in FORMATS:
        raise ValueError(f"benchmark format {fmt!r}: use one of {', '.join(FORMATS)}")
    return [f"{key}: {spec.get(key)}" for key in FORMATS[fmt] if not spec.get(key) or not Path(spec[key]).exists()]


def generation_settings(spec: dict[str, Any], policy: FramePolicy, prompt: str, frames: str) -> dict[str, Any]:
    return {"prompt": prompt, "max_new_tokens": int(spec["max_new_tokens"]),
            "decoding": DECODING,
            "frames": frames, "max_pixels": policy.max_pixels, "layout": policy.layout}


def evaluate_benchmark(
    name: str, spec: dict[str, Any], model: Any, processor: Any, policy: FramePolicy, *,
    spice: str = "auto", batch_size: int = 8, limit: int | None = None,
) -> BenchmarkResult:
    """Evaluate the narrator on one benchmark of params `eval.benchmarks`."""
    fmt = spec.get("format")
    missing = missing_files(spec)
    if missing:
        return BenchmarkResult(name, str(fmt), "skipped",
                               reason=f"not found: {'; '.join(missing)} (see data/benchmarks/README.md)")
    if fmt == "mmbench":
        return _multiple_choice(name, spec, model, processor, policy, batch_size=batch_size, limit=limit)

    if fmt == "narrator":
        loaded = narrator_split(spec["frames"], spec["mixture"])
        prompt = "per source: " + "; ".join(f"{style}: {text!r}" for style, text in PROMPTS.items())
        frames = f"the frames stage's frames ({policy.per_example} per clip unless fps is set)"
    else:
        style = spec.get("style", "audio_description")
        if style not in PROMPTS:
            raise ValueError(f"eval.benchmarks.{name}.style {style!r}: use one of {', '.join(PROMPTS)}")
        reader = coco_captions if fmt == "coco" else textcaps_captions
        loaded = reader(spec["annotations"], spec["images"], style=style, policy=policy)
        prompt, frames = PROMPTS[style], "1 (a still image)"
    items = loaded.items[:limit] if limit else loaded.items
    settings = generation_settings(spec, policy, prompt, frames)
    if not items:
        return BenchmarkResult(name, fmt, "skipped", reason="no item could be evaluated", settings=settings,
                               problems=loaded.problems)

    with tqdm(total=len(items), desc=f"eval {name}", unit="item") as bar:
        predictions = generate(model, processor, ((item.load_frames(), PROMPTS[item.style]) for item in items),
                               max_new_tokens=settings["max_new_tokens"], batch_size=batch_size, progress=bar.update)
    candidates = {item.key: text for item, text in zip(items, predictions)}
    references = {item.key: item.references for item in items}
    scores = score_captions(references, candidates, spice=spice)
    records = [{"id": item.key, "prediction": candidates[item.key], "references": item.references, **item.meta,
                **{m: round(v, 6) for m, v in scores.per_example[item.key].items()}} for item in items]
    metrics: dict[str, Any] = dict(scores.corpus) | {"examples": len(items)}
    domains = sorted({item.meta["domain"] for item in items if "domain" in item.meta})
    if domains:  # NoCaps: CIDEr of each domain's images alone, as its leaderboard shows them
        for domain in domains:
            keys = [item.key for item in items if item.meta.get("domain") == domain]
            metrics[f"CIDEr_{domain}"] = cider_d({k: references[k] for k in keys}, {k: candidates[k] for k in keys})[0]
    problems = loaded.problems + [f"{m} unavailable: {why}" for m, why in scores.unavailable.items()]
    results = [{"image_id": item.key, "caption": candidates[item.key]} for item in items]
    return BenchmarkResult(name, fmt, "evaluated", metrics=metrics, settings=settings, problems=problems,
                           records=records, results=results)


def _multiple_choice(name: str, spec: dict[str, Any], model: Any, processor: Any, policy: FramePolicy, *,
                     batch_size: int, limit: int | None) -> BenchmarkResult:
    loaded = mmbench_questions(spec["tsv"])
    questions = loaded.items
    if limit:  # keep whole circular groups, or CircularEval would pass questions on fewer rotations
        groups = sorted({q.group for q in questions})[:limit]
        questions = [q for q in questions if q.group in set(groups)]
    settings = generation_settings(spec, policy, "{hint}\\n{question}\\nA. {A}\\nB. {B}...\\n" + MMBENCH_INSTRUCTION,
                                   "1 (the question's image)")
    if not questions:
        return BenchmarkResult(name, "mmbench", "skipped", reason="no question could be asked", settings=settings,
                               problems=loaded.problems)
    with tqdm(total=len(questions), desc=f"eval {name}", unit="question") as bar:
        answers = generate(model, processor, ((q.load_frames(policy), q.prompt()) for q in questions),
                           max_new_tokens=settings["max_new_tokens"], batch_size=batch_size, progress=bar.update)
    summary, records = circular_eval(questions, {q.index: a for q, a in zip(questions, answers)})
    metrics = {k: v for k, v in summary.items() if k != "by_category"}
    metrics |= {f"circular_accuracy_{category}": value for category, value in summary["by_category"].items()}
    problems = list(loaded.problems)
    if summary["unresolved"]:
        problems.append(f"{summary['unresolved']} of {summary['rows']} answers name no option by the rules "
                        "(counted wrong; see predictions.jsonl, field extracted = null)")
    return BenchmarkResult(name, "mmbench", "evaluated", metrics=metrics, settings=settings, problems=problems,
                           records=records)
