"""The eval stages end to end on a tiny narrator: every benchmark format, skips, the runs compared,
reports, reproducibility."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
import yaml

from eval.caption_metrics import score_coco_files
from eval.report import NO_COMPARISON
from narrate.frames import write_frame_policy
from train.recipes import load_recipe

from .stage_commands import stage_argv
from .test_benchmarks import mmbench_rows, photos, write_mmbench
from .train_fixtures import make_training_inputs, quick_tower_pretraining

pytestmark = pytest.mark.slow  # the full suite only (tests/conftest.py)

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


RUNS = ("curriculum", "shuffle", "blind")  # dvc.yaml's runs


def run_stage(project: Path, name: str, **item: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(stage_argv(name, project / "params.yaml", **item), cwd=project, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("eval")
    shutil.copy2(REPO / "params.yaml", work / "params.yaml")
    make_training_inputs(work, count=6)
    for kind in ("mixtures", "frames"):  # the held-out split: the same few clips suffice to run the reader
        shutil.copy2(work / f"data/{kind}/train.parquet", work / f"data/{kind}/test.parquet")
    quick_tower_pretraining(work)
    run_stage(work, "tiny_tower")
    run_stage(work, "tiny_model")
    for run in RUNS:  # untrained narrators, saved as the train stage saves them
        final = work / "models/narrator" / run / "final"
        shutil.copytree(work / "models/tiny-llava", final)
        write_frame_policy(final, load_recipe("tiny").data)

    bench = work / "bench"
    photos(bench / "coco")
    refs = json.loads((FIXTURES / "images/refs.json").read_text())
    refs["image1"][0] = "<script>alert(1)</script> two cats | sleeping"  # dataset text is untrusted
    annotations = [{"id": n, "image_id": i, "caption": c} for n, (i, c) in
                   enumerate([(1, c) for c in refs["image1"]] + [(2, c) for c in refs["image2"]])]
    (bench / "coco/captions.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "image1.jpg", "domain": "in-domain"},  # NoCaps' field: CIDEr per domain
                   {"id": 2, "file_name": "image2.jpg", "domain": "out-domain"}], "annotations": annotations}))
    photos(bench / "textcaps/train")
    (bench / "textcaps/TextCaps_0.1_val.json").write_text(json.dumps({"data": [
        {"image_id": k, "image_path": f"train/{k}.jpg", "caption_str": refs[k][0], "reference_strs": refs[k]} for k in refs]}))
    write_mmbench(bench / "mmbench.tsv", mmbench_rows())

    params = yaml.safe_load((work / "params.yaml").read_text())
    params["eval"]["benchmarks"] = {
        "narrator_test": params["eval"]["benchmarks"]["narrator_test"],
        "coco_photos": {"format": "coco", "annotations": "bench/coco/captions.json", "images": "bench/coco",
                        "style": "audio_description", "max_new_tokens": 12},
        "textcaps_photos": {"format": "textcaps", "annotations": "bench/textcaps/TextCaps_0.1_val.json",
                            "images": "bench/textcaps", "style": "dense", "max_new_tokens": 12},
        "mmbench_photos": {"format": "mmbench", "tsv": "bench/mmbench.tsv", "max_new_tokens": 5},
        "coco_karpathy_test": {"format": "coco", "annotations": "bench/nowhere.json", "images": "bench/nowhere",
                               "style": "audio_description", "max_new_tokens": 12},
    }
    params["eval"]["benchmarks"]["narrator_test"]["max_new_tokens"] = 16
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))  # benchmark order is report order
    for run in RUNS:
        run_stage(work, "eval", run=run)
    run_stage(work, "eval_report")
    return work


def test_every_format_is_scored_and_absent_files_are_skipped(project: Path) -> None:
    metrics = json.loads((project / "reports/eval/runs/curriculum/metrics.json").read_text())
    assert set(metrics) == {"narrator_test", "coco_photos", "textcaps_photos", "mmbench_photos"}
    assert metrics["narrator_test"]["examples"] == 6 and metrics["coco_photos"]["examples"] == 2
    assert {"CIDEr_in-domain", "CIDEr_out-domain"} <= set(metrics["coco_photos"])
    assert {"Bleu_4", "METEOR", "ROUGE_L", "CIDEr"} <= set(metrics["textcaps_photos"])
    mmbench = metrics["mmbench_photos"]
    assert mmbench["questions"] == 2 and mmbench["rows"] == 4 and 0 <= mmbench["circular_accuracy"] <= mmbench["vanilla_accuracy"]
    summary = json.loads((project / "reports/eval/runs/curriculum/summary.json").read_text())["benchmarks"]
    assert summary["coco_karpathy_test"]["status"] == "skipped" and "bench/nowhere.json" in summary["coco_karpathy_test"]["reason"]
    assert summary["coco_photos"]["settings"] == {
        "prompt": "Describe this moment in one short sentence.", "max_new_tokens": 12,
        "decoding": "greedy do_sample=False, num_beams=1", "frames": "1 (a still image)", "max_pixels": 4096,
        "layout": "grid"}
    assert any("line 6 (index 2)" in p for p in summary["mmbench_photos"]["problems"])


def test_saved_results_rescore_to_the_reported_numbers(project: Path) -> None:
    results = project / "reports/eval/runs/curriculum/benchmarks/coco_photos/results.json"
    rescored = score_coco_files(project / "bench/coco/captions.json", results, spice="off")
    reported = json.loads((project / "reports/eval/runs/curriculum/metrics.json").read_text())["coco_photos"]
    assert all(rescored.corpus[m] == reported[m] for m in rescored.corpus)
    lines = (project / "reports/eval/runs/curriculum/benchmarks/narrator_test/predictions.jsonl").read_text().splitlines()
    ids = pl.read_parquet(project / "data/mixtures/test.parquet")["example_id"].to_list()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(ids)


def test_report_escapes_dataset_text_and_compares_no_benchmark_without_published_figures(project: Path) -> None:
    page = (project / "reports/eval/index.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # No evaluated benchmark has published figures (coco_karpathy_test was skipped): no chart, and none shown.
    assert NO_COMPARISON in page and "data:image/png;base64," not in page and "BLIP-2" not in page
    text = (project / "reports/eval/index.md").read_text()
    assert "| coco_karpathy_test | coco | not found:" in text and text.count("bench/nowhere.json") == 1
    plot = json.loads((project / "reports/eval/plots/scores.json").read_text())
    assert [row["benchmark"].split(":")[0] for row in plot] == ["narrator_test", "coco_photos", "textcaps_photos",
                                                                "mmbench_photos"]


def test_runs_are_compared_against_the_blind_control(project: Path) -> None:
    headline = json.loads((project / "reports/eval/metrics.json").read_text())
    assert set(headline["cider_d"]) == set(RUNS)
    # One headline per other evaluated benchmark, for the run of params eval.run: CIDEr-D, or accuracy.
    assert set(headline) == {"cider_d", "over_blind", "coco_photos", "textcaps_photos", "mmbench_photos"}
    own = json.loads((project / "reports/eval/runs/curriculum/metrics.json").read_text())
    assert headline["mmbench_photos"] == round(own["mmbench_photos"]["circular_accuracy"], 4)
    for run in RUNS:  # each run's CIDEr-D is its own eval's narrator_test score, not a second narration
        own = json.loads((project / f"reports/eval/runs/{run}/metrics.json").read_text())["narrator_test"]["CIDEr"]
        assert headline["cider_d"][run] == round(own, 4)
    blind = headline["cider_d"]["blind"]
    assert set(headline["over_blind"]) == {"curriculum", "shuffle"}
    if blind > 0:
        assert headline["over_blind"]["curriculum"] == round(headline["cider_d"]["curriculum"] / blind, 3)
    assert "Training runs compared" in (project / "reports/eval/index.md").read_text()
    # The blind control narrates black frames, as it was trained.
    settings = json.loads((project / "reports/eval/runs/blind/summary.json").read_text())["benchmarks"]["narrator_test"]["settings"]
    assert "black" in settings["frames"]


def test_a_second_run_writes_identical_outputs(project: Path) -> None:
    out = project / "reports/eval"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    run_stage(project, "eval", run="curriculum")
    run_stage(project, "eval_report")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
