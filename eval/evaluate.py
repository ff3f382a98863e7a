"""Run one benchmark: read its files, generate with the narrator, score, keep per-example records.

`evaluate_benchmark` takes one entry of params `eval.benchmarks` (config/params.py `Benchmark`):
`format` is narrator | coco | textcaps | mmbench; the other keys are that format's files and
generation settings. Missing files make a skipped result with the reason, never an exception:
a pipeline with no COCO on disk still reports everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from config.params import Benchmark, CocoBenchmark, MmbenchBenchmark, NarratorBenchmark
from eval.benchmarks import (
    MMBENCH_INSTRUCTION,
    circular_eval,
    coco_captions,
    mmbench_questions,
    narrator_split,
    textcaps_captions,
)
from eval.caption_metrics import cider_d, score_captions
from eval.results import BenchmarkResult
from narrate.conversation import PROMPTS
from narrate.frames import FramePolicy
from narrate.generation import DECODING, generate

FILE_KEYS = {  # the params keys naming each benchmark kind's files
    NarratorBenchmark: ("frames", "mixture"),
    CocoBenchmark: ("annotations", "images"),
    MmbenchBenchmark: ("tsv",),
}


def missing_files(spec: Benchmark) -> list[str]:
    """The spec's files that do not exist (the benchmark is then skipped)."""
    files = {key: getattr(spec, key) for key in FILE_KEYS[type(spec)]}
    return [f"{key}: {path}" for key, path in files.items() if not Path(path).exists()]


def blacken(images: list[Image.Image]) -> list[Image.Image]:
    """Black images of the same sizes: what the blind control sees."""
    return [Image.new("RGB", image.size) for image in images]


def generation_settings(spec: Benchmark, policy: FramePolicy, prompt: str, frames: str) -> dict[str, Any]:
    return {"prompt": prompt, "max_new_tokens": spec.max_new_tokens,
            "decoding": DECODING,
            "frames": frames, "max_pixels": policy.max_pixels, "layout": policy.layout}


def evaluate_benchmark(
    name: str, spec: Benchmark, model: Any, processor: Any, policy: FramePolicy, *,
    spice: str = "auto", batch_size: int = 8, limit: int | None = None, blind: bool = False,
) -> BenchmarkResult:
    """Evaluate the narrator on one benchmark of params `eval.benchmarks` (`blind`: on black frames)."""
    fmt = spec.format
    missing = missing_files(spec)
    if missing:
        return BenchmarkResult(name, fmt, "skipped",
                               reason=f"not found: {'; '.join(missing)} (see data/benchmarks/README.md)")
    if isinstance(spec, MmbenchBenchmark):
        return _multiple_choice(name, spec, model, processor, policy, batch_size=batch_size, limit=limit, blind=blind)

    if isinstance(spec, NarratorBenchmark):
        loaded = narrator_split(spec.frames, spec.mixture)
        prompt = "per source: " + "; ".join(f"{style}: {text!r}" for style, text in PROMPTS.items())
        frames = f"the frames stage's frames ({policy.frames} per clip unless fps is set)"
    else:
        if spec.style not in PROMPTS:
            raise ValueError(f"eval.benchmarks.{name}.style {spec.style!r}: use one of {', '.join(PROMPTS)}")
        reader = coco_captions if fmt == "coco" else textcaps_captions
        loaded = reader(spec.annotations, spec.images, style=spec.style, policy=policy)
        prompt, frames = PROMPTS[spec.style], "1 (a still image)"
    if blind:
        frames += ", black (the blind control)"
    items = loaded.items[:limit] if limit else loaded.items
    settings = generation_settings(spec, policy, prompt, frames)
    if not items:
        return BenchmarkResult(name, fmt, "skipped", reason="no item could be evaluated", settings=settings,
                               problems=loaded.problems)

    with tqdm(total=len(items), desc=f"eval {name}", unit="item") as bar:
        requests = (((blacken if blind else list)(item.load_frames()), PROMPTS[item.style]) for item in items)
        predictions = generate(model, processor, requests,
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


def _multiple_choice(name: str, spec: MmbenchBenchmark, model: Any, processor: Any, policy: FramePolicy, *,
                     batch_size: int, limit: int | None, blind: bool) -> BenchmarkResult:
    loaded = mmbench_questions(spec.tsv)
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
        requests = (((blacken if blind else list)(q.load_frames(policy)), q.prompt()) for q in questions)
        answers = generate(model, processor, requests,
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
