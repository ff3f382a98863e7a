"""The eval report on hand-made results: the narrator's own split apart from every published figure,
each public benchmark beside its own published figures only, the chart's bars, skip reasons once,
the training runs compared, escaping, the curation report's page and CSP, determinism, and a
headless Chromium rendering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from eval.report import NO_COMPARISON, comparison_rows, html_page, load_published, markdown, scores_figure
from eval.results import BenchmarkResult
from reporting.render import CSP, render
from tests.test_report import Page, assert_inert, chromium, markdown_tables

PAYLOAD = "<script>document.title='PWNED'</script> | <img src=x onerror=\"document.title='PWNED'\">"
MODEL = {"path": "models/narrator/curriculum/final", "run": "curriculum",
         "frame_policy": {"per_example": 4, "layout": "grid"}}
SETTINGS = {"prompt": "Describe this moment.", "max_new_tokens": 40, "decoding": "greedy", "frames": "1 (a still image)",
            "max_pixels": 4096}
RUNS = [
    {"run": "curriculum", "cider_d": 2.235, "examples": 86},
    {"run": "shuffle", "cider_d": 2.094, "examples": 86},
    {"run": "blind", "cider_d": 0.52, "examples": 86},
]
CAPTIONS = {"examples": 2, "CIDEr": 0.5, "Bleu_4": 0.1, "METEOR": 0.2, "ROUGE_L": 0.3}
COCO_REASON = "not found: annotations: data/benchmarks/coco/captions_karpathy_test.json (see data/benchmarks/README.md)"
TEXTCAPS_REASON = f"not found: {PAYLOAD}"


def narrator_test() -> BenchmarkResult:
    return BenchmarkResult(
        name="narrator_test", format="narrator", status="evaluated", settings=SETTINGS,
        metrics={**CAPTIONS, "examples": 86, "CIDEr": 2.235},
        records=[{"id": "lvd2m:clip1", "CIDEr": 2.5, "prediction": "a red circle moves left", "references": ["a red circle"]}],
    )


def results() -> list[BenchmarkResult]:
    """Every kind of row: the narrator's split, public benchmarks with and without published figures,
    evaluated and skipped."""
    return [
        narrator_test(),
        BenchmarkResult(
            name="coco_karpathy_test", format="coco", status="evaluated", metrics=CAPTIONS, settings=SETTINGS,
            problems=[f"SPICE unavailable {PAYLOAD}"],
            records=[{"id": f"img{PAYLOAD}", "CIDEr": 0.25, "prediction": f"# {PAYLOAD}\na cat",
                      "references": [f"two cats | sleeping {PAYLOAD}"]}],
        ),
        BenchmarkResult(
            name="mmbench_dev", format="mmbench", status="evaluated", settings=SETTINGS,
            metrics={"questions": 2, "circular_accuracy": 0.5, "vanilla_accuracy": 0.75},
            records=[{"index": 7, "answer": "B", "prediction": f"B {PAYLOAD}", "extracted": "B"}],
        ),
        BenchmarkResult(name="sample_photos", format="coco", status="evaluated", metrics=CAPTIONS, settings=SETTINGS,
                        records=[{"id": 1, "CIDEr": 0.1, "prediction": "a cat", "references": ["two cats"]}]),
        BenchmarkResult(name="textcaps_val", format="textcaps", status="skipped", reason=TEXTCAPS_REASON),
    ]


def sample_world() -> list[BenchmarkResult]:
    """What the sample world evaluates: the narrator's split and the two sample photos; the rest is skipped."""
    photos = BenchmarkResult(name="sample_photos", format="coco", status="evaluated", metrics=CAPTIONS,
                             settings=SETTINGS, records=[])
    coco = BenchmarkResult(name="coco_karpathy_test", format="coco", status="skipped", reason=COCO_REASON)
    return [narrator_test(), photos, coco]


def render_both(given: list[BenchmarkResult] | None = None, **runs: Any) -> tuple[str, str]:
    given = results() if given is None else given
    published = load_published()
    png = scores_figure(given, published, "narrator next to published results")
    return markdown(given, published, MODEL, **runs), html_page(given, published, MODEL, png, **runs)


def section(text: str, heading: str) -> str:
    """A Markdown section's text, from its `## n. heading` to the next one."""
    return re.split(rf"^## \d+\. {re.escape(heading)}\n", text, flags=re.M)[1].split("\n## ")[0]


def published_models(name: str) -> set[str]:
    return {e["model"] for e in load_published()[name]["results"]}


def test_sections_and_numbers() -> None:
    text, _ = render_both(runs=RUNS, blind_run="blind")
    assert text.startswith("# Narrator evaluation report\n\nModel: `models/narrator/curriculum/final` (train run `curriculum`)")
    assert re.findall(r"^## (.+)$", text, re.M) == [
        "1. The narrator's held-out clips", "2. Public benchmarks", "3. Skipped benchmarks", "4. Generation settings",
        "5. Left out or unavailable", "6. Sample predictions"]
    assert "| CIDEr-D x100 (curriculum, held-out clips) | 223.5 |" in text and "| over the blind control | 4.30x |" in text
    assert "| public benchmarks evaluated | 3 of 4 |" in text
    public = section(text, "Public benchmarks")
    assert "| coco_karpathy_test | 2 | 50.0 | 10.0 | 20.0 | 30.0 | n/a | |" in public  # snake_case kept
    assert "| mmbench_dev | 2 questions | | | | | | 50.0 (circular), 75.0 (single pass) |" in public
    assert "| lvd2m:clip1 | 250.0 | a red circle moves left | a red circle |" in section(text, "Sample predictions")
    assert "| 7 | B | B \\<script\\>" in text
    assert text.endswith("|\n")
    for table in markdown_tables(text):
        assert len({len(re.split(r"(?<!\\)\|", line)) for line in table}) == 1, table


def test_the_narrator_split_never_sits_beside_published_figures() -> None:
    text, html = render_both(runs=RUNS, blind_run="blind")
    own = section(text, "The narrator's held-out clips")
    assert "no published counterpart" in own
    assert "| narrator_test | 86 | 223.5 | 10.0 | 20.0 | 30.0 | n/a |" in own
    every_published = set().union(*(published_models(n) for n in load_published()))
    for table in markdown_tables(text):
        cells = "\n".join(table)
        if "narrator_test" in cells or "223.5" in cells:
            assert not any(model in cells for model in every_published), table
    assert "narrator_test" not in {row["benchmark"] for row in comparison_rows(results(), load_published())}
    assert "narrator_test" not in section(text, "Public benchmarks")
    page = Page(html)
    narrator_cells = {cell for row in page.section_rows["narrator"] for cell in row}
    assert not narrator_cells & every_published


def test_each_public_benchmark_sits_beside_its_own_published_figures_only() -> None:
    text, _ = render_both()
    public = section(text, "Public benchmarks")
    blocks = re.split(r"^### ", public, flags=re.M)[1:]
    assert [b.split(":")[0] for b in blocks] == ["coco_karpathy_test", "mmbench_dev"]
    for block in blocks:
        name = block.split(":")[0]
        (table,) = markdown_tables(block)
        models = {re.split(r"(?<!\\)\|", line)[1].strip().strip("*") for line in table[2:]}
        assert models == published_models(name) | {"this narrator (curriculum)"}, (name, models)
    coco = markdown_tables(blocks[0])[0]
    assert coco[2] == ("| **this narrator (curriculum)** | **50.0** | **Karpathy test** | "
                       "**zero-shot (not trained on this benchmark), greedy** | **this report** |")
    assert "| PaliGemma-3B 224px | 141.9 | Karpathy val (another split: context only) |" in blocks[0]
    assert "sample_photos: no published figures" in public  # evaluated, with nothing to compare with


def test_chart_data_holds_our_bar_and_the_published_bars_of_the_same_split() -> None:
    rows = comparison_rows(results(), load_published())
    assert [r["benchmark"] for r in rows if r["ours"]] == ["coco_karpathy_test", "mmbench_dev"]
    coco = [r for r in rows if r["benchmark"] == "coco_karpathy_test"]
    assert coco[0] == {"benchmark": "coco_karpathy_test", "metric": "CIDEr (x100)", "split": "Karpathy test",
                       "model": "this narrator", "setting": "zero-shot", "score": 50.0, "ours": True}
    assert {(r["model"], r["score"], r["setting"]) for r in coco[1:]} == {
        ("BLIP-2 OPT-2.7B", 145.8, "fine-tuned"), ("BLIP-2 FlanT5-XL", 144.5, "fine-tuned"),
        ("Florence-2-L", 143.3, "fine-tuned"), ("Florence-2-L", 135.6, "zero-shot")}  # not the Karpathy val ones
    mmbench = [r for r in rows if r["benchmark"] == "mmbench_dev"]
    assert mmbench[0]["score"] == 50.0 and len(mmbench) == 1 + len(published_models("mmbench_dev"))
    assert all(r["split"] == load_published()[r["benchmark"]]["split"] for r in rows)
    _, html = render_both()
    assert [a["id"] for t, a in Page(html).tags if t == "figure"] == ["fig-scores"]
    assert NO_COMPARISON not in html


def test_without_published_figures_to_compare_there_is_no_chart() -> None:
    assert comparison_rows(sample_world(), load_published()) == []
    text, html = render_both(sample_world(), runs=RUNS, blind_run="blind")
    assert NO_COMPARISON in section(text, "Public benchmarks") and "![" not in text
    page = Page(html)
    assert not [a for t, a in page.tags if t in ("img", "figure")] and NO_COMPARISON in page.all_text()
    assert "BLIP-2" not in text and "BLIP-2" not in html  # a skipped benchmark's figures are not shown
    assert "| coco_karpathy_test | coco |" in section(text, "Skipped benchmarks")
    assert scores_figure(sample_world(), load_published(), "t").startswith(b"\x89PNG")  # the stage still writes one


def test_a_skip_reason_appears_once() -> None:
    text, html = render_both(sample_world())
    assert text.count(COCO_REASON) == 1 and Page(html).all_text().count(COCO_REASON) == 1
    text, html = render_both()
    assert Page(html).all_text().count(TEXTCAPS_REASON) == 1
    skipped = markdown_tables(section(text, "Skipped benchmarks"))[0]
    assert skipped[2].startswith("| textcaps_val | textcaps | not found: \\<script\\>")
    assert skipped[2].endswith("| 3 in eval/published.yaml |")


def test_a_problem_shared_by_benchmarks_is_listed_once() -> None:
    spice = "SPICE unavailable: no jars"
    given = sample_world()
    given[0].problems, given[1].problems = [spice], [spice]
    text, _ = render_both(given)
    assert markdown_tables(section(text, "Left out or unavailable"))[0][2] == f"| narrator_test, sample_photos | {spice} |"


def test_training_runs_compared_with_blind_ratio() -> None:
    text, html = render_both(runs=RUNS, blind_run="blind")
    own = section(text, "The narrator's held-out clips")
    assert "over the blind control's (blind:" in own
    assert markdown_tables(own)[1] == [
        "| run | examples | CIDEr-D (x100) | over blind |",
        "|---|---:|---:|---:|",
        "| **curriculum** | **86** | **223.5** | **4.30x** |",  # the run the report is about
        "| shuffle | 86 | 209.4 | 4.03x |",
        "| blind | 86 | 52.0 | (control) |",
    ]
    rows = {r[0]: r for r in Page(html).section_rows["narrator"] if r}
    assert rows["shuffle"] == ["shuffle", "86", "209.4", "4.03x"] and rows["blind"][-1] == "(control)"


def test_training_runs_without_a_blind_control_or_with_a_zero_one() -> None:
    text, _ = render_both(runs=RUNS[:2])
    assert "| run | examples | CIDEr-D (x100) |" in text and "over blind" not in text
    assert "Training runs compared" in text
    text, _ = render_both()
    assert "Training runs compared" not in text  # no runs given: no table of them
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
    assert "<script>" not in text and "\\<script\\>" in text
    sample = next(line for line in text.splitlines() if line.startswith("| img"))
    assert "| \\# \\<script\\>" in sample and sample.endswith(" |")  # one row: a newline or pipe adds none


def test_the_page_is_the_curation_reports_page() -> None:
    text, html = render_both(runs=RUNS, blind_run="blind")
    page = Page(html)
    assert page.title == "Narrator evaluation report"
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [CSP]
    style = re.search(r"<style>.*?</style>", html, re.S)
    assert style and style.group(0) in render("base.html.j2", title="x")  # the shared styles, unchanged
    assert ("div", {"class": "cards", "id": "headline"}) in page.tags and any(t == "nav" for t, _ in page.tags)
    assert list(page.section_text) == ["narrator", "public", "skipped", "settings", "problems", "samples"]
    headings = [h.split(". ", 1)[1] for h in re.findall(r"^## (.+)$", text, re.M)]
    assert [h.split(". ", 1)[1] for h in re.findall(r"<h2>(.+?)</h2>", html)] == [h.replace("'", "&#39;") for h in headings]
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
