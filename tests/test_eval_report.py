"""The eval report on hand-made results: its sections, the training runs compared, escaping of
predictions and references, the CSP, determinism, and a headless Chromium rendering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from eval.results import BenchmarkResult
from eval.report import html_page, load_published, markdown, scores_figure
from reporting.render import CSP
from tests.test_report import Page, assert_inert, chromium, markdown_tables

PAYLOAD = "<script>document.title='PWNED'</script> | <img src=x onerror=\"document.title='PWNED'\">"
MODEL = {"path": "models/narrator/curriculum/final", "run": "curriculum",
         "frame_policy": {"per_example": 4, "layout": "grid"}}
SETTINGS = {"prompt": "Describe this moment.", "max_new_tokens": 40, "decoding": "greedy", "frames": "1 (a still image)",
            "max_pixels": 4096}
RUNS = [
    {"run": "curriculum", "cider_d": 2.105, "examples": 86},
    {"run": "shuffle", "cider_d": 2.094, "examples": 86},
    {"run": "blind", "cider_d": 0.52, "examples": 86},
]


def results() -> list[BenchmarkResult]:
    caption_metrics = {"examples": 2, "CIDEr": 0.5, "Bleu_4": 0.1, "METEOR": 0.2, "ROUGE_L": 0.3}
    return [
        BenchmarkResult(
            name="coco_karpathy_test", format="coco", status="evaluated", metrics=caption_metrics, settings=SETTINGS,
            problems=[f"SPICE unavailable {PAYLOAD}"],
            records=[{"id": f"img{PAYLOAD}", "CIDEr": 0.25, "prediction": f"# {PAYLOAD}\na cat",
                      "references": [f"two cats | sleeping {PAYLOAD}"]}],
        ),
        BenchmarkResult(
            name="mmbench_dev", format="mmbench", status="evaluated", settings=SETTINGS,
            metrics={"questions": 2, "circular_accuracy": 0.5, "vanilla_accuracy": 0.75},
            records=[{"index": 7, "answer": "B", "prediction": f"B {PAYLOAD}", "extracted": "B"}],
        ),
        BenchmarkResult(name="textcaps_val", format="textcaps", status="skipped", reason=f"not found: {PAYLOAD}"),
    ]


def render_both(**runs: Any) -> tuple[str, str]:
    published = load_published()
    png = scores_figure(results(), published, "narrator next to published results")
    return markdown(results(), published, MODEL, **runs), html_page(results(), published, MODEL, png, **runs)


def test_sections_and_numbers() -> None:
    text, _ = render_both()
    assert text.startswith("# Narrator evaluation report\n\nModel: `models/narrator/curriculum/final` (train run `curriculum`)")
    assert "| coco\\_karpathy\\_test | evaluated | 2 | 50.0 | 10.0 | 20.0 | 30.0 | n/a | |" not in text  # snake_case kept
    assert "| coco_karpathy_test | evaluated | 2 | 50.0 | 10.0 | 20.0 | 30.0 | n/a | |" in text
    assert "| mmbench_dev | evaluated | 2 questions | | | | | | 50.0 (circular), 75.0 (single pass) |" in text
    assert "| textcaps_val | skipped | | | | | | | |" in text
    assert "| **this narrator (curriculum)** | **50.0** |" in text  # ours, next to the published figures
    assert "| BLIP-2 OPT-2.7B | 145.8 | Karpathy test | fine-tuned |" in text
    assert "### coco_karpathy_test" in text and ", CIDEr 25.0\n  - prediction:" in text
    assert "- question 7: answer B, model said" in text
    assert text.endswith("![scores](plots/scores.png)\n")
    assert "Training runs compared" not in text  # no runs given: no section
    for table in markdown_tables(text):
        assert len({len(re.split(r"(?<!\\)\|", line)) for line in table}) == 1, table


def test_training_runs_compared_with_blind_ratio() -> None:
    text, html = render_both(runs=RUNS, blind_run="blind")
    section = text.split("## Training runs compared")[1].split("\n## ")[0]
    assert "over the blind control's (`blind`" in section
    assert markdown_tables(section) == [[
        "| run | examples | CIDEr-D (x100) | over blind |",
        "|---|---:|---:|---:|",
        "| **curriculum** | **86** | **210.5** | **4.05x** |",  # the run the report is about
        "| shuffle | 86 | 209.4 | 4.03x |",
        "| blind | 86 | 52.0 | (control) |",
    ]]
    assert text.index("## Results") < text.index("## Training runs compared") < text.index("## Next to published")
    rows = {r[0]: r for r in Page(html).section_rows["runs"] if r}
    assert rows["shuffle"] == ["shuffle", "86", "209.4", "4.03x"] and rows["blind"][-1] == "(control)"


def test_training_runs_without_a_blind_control_or_with_a_zero_one() -> None:
    text, _ = render_both(runs=RUNS[:2])
    assert "| run | examples | CIDEr-D (x100) |" in text and "over blind" not in text
    zero = [*RUNS[:2], {"run": "blind", "cider_d": 0.0, "examples": 86}]
    text, _ = render_both(runs=zero, blind_run="blind")
    assert "| shuffle | 86 | 209.4 | n/a (blind CIDEr-D is 0) |" in text
    with pytest.raises(ValueError, match="blind run 'black' is not one of the runs compared"):
        render_both(runs=RUNS, blind_run="black")


def test_predictions_and_references_are_escaped() -> None:
    text, html = render_both(runs=RUNS, blind_run="blind")
    page = Page(html)
    assert_inert(page)
    assert "<script>" not in html and "<img src=x" not in html
    assert PAYLOAD in page.all_text()  # shown as text
    assert page.title == "Narrator evaluation report"
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [CSP]
    assert "<script>" not in text and "\\<script\\>" in text
    prediction = next(line for line in text.splitlines() if line.startswith("  - prediction:"))
    assert prediction.startswith("  - prediction: \\# \\<script\\>") and prediction.endswith(" a cat")  # one line, no heading
    assert [len(t) for t in markdown_tables(text)][0] == 5  # a pipe in a cell does not add a row or a cell


def test_html_page_is_a_real_page_of_the_same_content() -> None:
    text, html = render_both(runs=RUNS, blind_run="blind")
    page = Page(html)
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert [h for h in headings] == ["Results", "Training runs compared", "Next to published ~3B models",
                                     "Generation settings", "Left out or unavailable", "Sample predictions"]
    assert list(page.section_text) == ["results", "runs", "published", "settings", "problems", "samples"]
    assert sum(1 for t, _a in page.tags if t == "table") == 6  # results, runs, 3 published, settings
    assert [a["src"][:22] for t, a in page.tags if t == "img"] == ["data:image/png;base64,"]
    assert "<pre" not in html


def test_same_inputs_give_identical_bytes() -> None:
    assert render_both(runs=RUNS, blind_run="blind") == render_both(runs=RUNS, blind_run="blind")


@pytest.mark.slow
def test_chromium_renders_eval_page_and_payloads_stay_inert(tmp_path: Path) -> None:
    _, html = render_both(runs=RUNS, blind_run="blind")
    index = tmp_path / "index.html"
    index.write_text(html, encoding="utf-8")
    result = chromium(["--dump-dom", index.as_uri()], tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-3000:]
    dom = Page(result.stdout)
    assert dom.title == "Narrator evaluation report", f"title changed: {dom.title!r} (a payload ran?)"
    assert_inert(dom)
    assert PAYLOAD in dom.all_text()
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
    for marker in ("Uncaught", "Failed to load resource", "Content Security Policy", "net::ERR_"):
        assert marker not in result.stderr
