"""The curation report: numbers per section, escaping of hostile dump text, determinism, the stage,
and a headless Chromium rendering (the payloads must not execute, nothing may fail to load)."""

from __future__ import annotations

import html.parser
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from curation.report import ReportInputs, build_report, render_html, render_markdown
from curation.report_sections import clip_text
from curation.schema import SOURCES
from reporting.blocks import Figure, Link, Table
from reporting.render import CSP, environment, md_cell
from stages import report as report_stage
from tests import report_fixtures as fx
from tests.stage_commands import stage_argv

CHROMIUM = Path("/usr/bin/chromium")
TITLE = "Visual Narrator curation report"


# ---------------------------------------------------------------------------------------------
# A small HTML tree reader (stdlib html.parser): elements, attributes, text per section.
# ---------------------------------------------------------------------------------------------


class Page(html.parser.HTMLParser):
    """Every start tag with its attributes, all text, the <title>, and the text and table cells of each <section>."""

    VOID = {"img", "meta", "br", "hr", "link", "input"}

    def __init__(self, document: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.title = ""
        self.section_text: dict[str, list[str]] = {}
        self.section_rows: dict[str, list[list[str]]] = {}
        self._stack: list[str] = []
        self._section: str | None = None
        self._section_depth = 0
        self._cell: list[str] | None = None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.VOID:
            return
        self._stack.append(tag)
        if tag == "section":
            self._section = dict(attrs).get("id") or ""
            self._section_depth = len(self._stack)
            self.section_text[self._section] = []
            self.section_rows[self._section] = []
        elif tag == "tr" and self._section is not None:
            self.section_rows[self._section].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if tag in ("td", "th") and self._cell is not None and self._section is not None:
            self.section_rows[self._section][-1].append("".join(self._cell).strip())
            self._cell = None
        if tag == "section" and len(self._stack) == self._section_depth:
            self._section = None
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._stack and self._stack[-1] == "title":
            self.title += data
        if self._section is not None:
            self.section_text[self._section].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def all_text(self) -> str:
        return "".join(self.text)

    def row(self, section: str, first: str) -> list[str]:
        rows = [r for r in self.section_rows[section] if r and r[0] == first]
        assert len(rows) >= 1, f"no row {first!r} in section {section!r}"
        return rows[0]


def assert_inert(page: Page) -> None:
    """No element or attribute that could run script or load anything from outside the page."""
    allowed = {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "div", "nav", "ul", "li",
        "a", "section", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "img", "figcaption", "footer",
        "strong", "code",
    }
    for tag, attrs in page.tags:
        assert tag in allowed, f"unexpected element <{tag} {attrs}>"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler attribute {name}={value!r} on <{tag}>"
            assert name not in ("srcdoc", "formaction", "style"), f"attribute {name} on <{tag}>"
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/png;base64,"), attrs.get("src", "")[:60]
        if tag == "a":
            href = attrs.get("href") or ""
            assert re.match(r"(https?://|#|plots/[a-z0-9_]+\.csv$)", href), f"link to {href!r}"
    assert not any(tag == "link" for tag, _ in page.tags)


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return fx.full_inputs()


@pytest.fixture(scope="module")
def report(inputs: ReportInputs):
    return build_report(inputs)


@pytest.fixture(scope="module")
def page_html(report) -> str:
    return render_html(report)


# ---------------------------------------------------------------------------------------------
# (a) sections and numbers
# ---------------------------------------------------------------------------------------------


def test_sections_in_order(report) -> None:
    assert [s.key for s in report.sections] == ["funnel", "reasons", "distributions", "clusters", "dedup", "mixture", "samples"]


def test_funnel_table_and_plot_data(report) -> None:
    table = report.section("funnel").table("Funnel")
    assert table.columns[1:] == (
        "raw records", "quarantined", "examples", "rejected", "kept by filter", "dropped by dedup", "after dedup", "in mixture",
    )
    assert table.row("lvd2m")[1:] == (12, 2, 10, 3, 7, 2, 5, 4)
    assert table.row("youdescribe")[1:] == (10, 2, 8, 2, 6, 1, 5, 5)
    assert table.row("total")[1:] == (22, 4, 18, 5, 13, 3, 10, 9)
    funnel = report.plot_data["funnel"]
    assert funnel.columns == ["stage", "source", "count"]
    assert funnel.filter(pl.col("source") == "lvd2m").get_column("count").to_list() == [12, 2, 10, 3, 7, 2, 5, 4]
    assert funnel.get_column("stage").unique().sort().to_list()[0] == "1 raw records"  # numbered: dvc plots sorts by name
    assert report.section("funnel").figures[0].png.startswith(b"\x89PNG")


def test_reasons_counts_and_three_examples_each(report) -> None:
    section = report.section("reasons")
    quarantine = section.table("Quarantine reasons")
    assert quarantine.row("duplicate_key")[2:] == (2, 0, 2)  # total, lvd2m, youdescribe
    assert quarantine.row("bad_span")[1].startswith("a span")  # the documented meaning
    rejects = section.table("Reject reasons")
    assert rejects.row("too_few_words")[2:] == (2, 2, 0)
    assert rejects.row("time_inverted")[2:] == (1, 1, 0)
    examples = section.table("Reject too_few_words")
    assert examples.column("raw_file:raw_row") == ["data/raw/lvd2m.csv:103", "data/raw/lvd2m.csv:104"]
    assert examples.column("all reasons")[1] == "too_few_words, time_inverted"
    for table in section.tables:
        if table.title.startswith(("Quarantine ", "Reject ")) and ":" in table.title:
            assert 1 <= len(table.rows) <= 3
    assert section.table("Quarantine duplicate_key").column("raw_file:raw_row") == [
        "data/raw/yd/<b>clips</b>.csv:3",
        "data/raw/yd/<b>clips</b>.csv:5",
    ]
    assert section.table("Ingest per raw file").row("data/raw/lvd2m/a.csv")[2:] == (12, 2, 10, 1, 0, 1)


def test_examples_are_spread_over_sources_and_truncated() -> None:
    long = "word " * 200  # 999 characters once whitespace is collapsed
    assert clip_text(long, 50) == "word " * 9 + "word… (+950 chars)"
    assert clip_text("a\n\tb  c") == "a b c"
    rows = [
        {"source": s, "raw_file": "f", "raw_row": i, "reject_reasons": ["boilerplate"], "text": "t", "word_count": 1, "language": "en"}
        for s in ("lvd2m", "youdescribe") for i in range(5)
    ]
    report = build_report(replace(fx.full_inputs(), rejects=pl.DataFrame(rows)))
    table = report.section("reasons").table("Reject boilerplate")
    assert table.title == "Reject boilerplate: 3 of 10 examples"
    assert table.column("source") == ["lvd2m", "youdescribe", "lvd2m"]


def test_distributions(report) -> None:
    section = report.section("distributions")
    stats = section.table("Summary per source")
    assert stats.row("lvd2m")[1] == 7
    assert stats.row("youdescribe")[-3:] == (2, 2, 2)  # easy, medium, hard
    for name in ("word_count_hist", "clip_duration_hist", "quality_hist", "difficulty_hist"):
        table = report.plot_data[name]
        assert table.columns[:2] == ["bin_start", "bin_end"]
        assert set(SOURCES) <= set(table.columns)  # every source column, so dvc plots' y list never breaks
        assert int(table.get_column("lvd2m").sum()) == 7 and int(table.get_column("youdescribe").sum()) == 6
    assert report.plot_data["quality_hist"].height == 20
    languages = report.plot_data["languages"]
    assert languages.filter((pl.col("source") == "lvd2m") & (pl.col("language") == "fr")).get_column("count").to_list() == [1]
    assert {f.name for f in section.figures} == {"languages", "word_count_hist", "clip_duration_hist", "quality_hist", "difficulty_hist"}


def test_largest_clusters_with_members(report) -> None:
    section = report.section("clusters")
    overview = section.table("The 2 largest clusters")
    assert overview.column("cluster (representative id)") == ["lvd2m:0", "youdescribe:0"]
    assert overview.column("members") == [3, 2]
    first = section.table("Cluster 1:")
    assert first.title == "Cluster 1: 3 members (2 exact, 1 near)"
    assert first.column("fate") == ["kept", "dropped", "dropped"]
    assert first.column("example_id") == ["lvd2m:0", "lvd2m:1", "lvd2m:2"]
    assert first.column("similarity") == [1.0, 1.0, 0.951]
    assert first.marks == ("kept", "", "")


def test_dedup_precision_recall_and_curve(report) -> None:
    section = report.section("dedup")
    table = section.table("Dedup at the threshold")
    values = dict(table.rows)
    assert values["precision at the threshold"] == 0.9 and values["recall at the threshold"] == 0.75
    assert values["near-duplicate threshold (cosine)"] == 0.92
    assert report.plot_data["threshold_curve"].columns == ["threshold", "precision", "recall"]
    assert section.figures[0].name == "threshold_curve"


def test_mixture_asked_vs_obtained_with_shortfall_flag(report) -> None:
    section = report.section("mixture")
    table = section.table("Asked against obtained")
    assert table.row("youdescribe")[1:] == ("60.0%", 6, 5, 5, "55.6%", 1, "SHORT by 1")
    assert table.row("lvd2m")[-1] == "ok"
    assert table.marks[table.rows.index(table.row("youdescribe"))] == "warn"
    assert table.row("total")[2:5] == (10, 10, 9)
    splits = section.table("Per split and source")
    assert splits.row("train")[1:] == (7, 7, 3, 4)
    assert splits.row("total")[1:] == (9, 9, 4, 5)
    buckets = section.table("Per split and difficulty bucket")
    assert buckets.columns == ("split", "examples", "easy", "medium", "hard")
    assert buckets.row("val")[1:] == (1, "0 (0.0%)", "0 (0.0%)", "1 (100.0%)")
    assert report.plot_data["mixture_sources"].filter(pl.col("source") == "youdescribe").row(0) == ("youdescribe", 6, 5, 1)


def test_samples_per_bucket_with_video_reference(report) -> None:
    section = report.section("samples")
    tables = section.tables
    assert [t.title.split(":")[0] for t in tables] == ["Bucket easy", "Bucket medium", "Bucket hard"]
    for table in tables:
        assert 1 <= len(table.rows) <= 3
        assert table.columns[:5] == ("example_id", "source", "video_id", "clip", "url")
    easy = tables[0]
    lvd = easy.row("lvd2m:0")
    assert lvd[2] == "lvvid0" and lvd[3] == "0.0\u2060–\u20604.5\u00a0s"
    assert lvd[4].href == "https://www.youtube.com/watch?v=lvvid0"  # type: ignore[union-attr]
    # the same inputs give the same samples
    assert build_report(fx.full_inputs()).section("samples") == section


def test_headline_metrics(report) -> None:
    assert report.headline == {
        "raw_records": 22, "quarantined": 4, "examples": 18, "rejected": 5, "kept_after_filter": 13,
        "kept_after_dedup": 10, "dedup_precision": 0.9, "dedup_recall": 0.75, "dedup_f1": 0.8182,
        "dedup_threshold": 0.92, "mixture_size": 9, "mixture_size_asked": 10, "mixture_shortfall_total": 1,
        "mean_quality_train": report.headline["mean_quality_train"], "mean_difficulty_train": report.headline["mean_difficulty_train"],
    }
    assert 0.0 < float(report.headline["mean_quality_train"]) <= 1.0


def test_empty_data_are_shown_as_empty(inputs: ReportInputs) -> None:
    """What can genuinely be empty (no quarantine, no reject, no duplicate, a source without rows) says so."""
    funnel = {**fx.FUNNEL, "sources": {**fx.FUNNEL["sources"], "ad_webvtt": {
        "raw_records": 0, "quarantined": 0, "examples": 0, "kept": 0, "rejected": 0}}}
    empty = replace(
        inputs, funnel=funnel, quarantine=inputs.quarantine.clear(), rejects=inputs.rejects.clear(),
        clusters=inputs.clusters.clear(), threshold_curve=inputs.threshold_curve.clear(),
    )
    report = build_report(empty)
    reasons = " ".join(b.text for b in report.section("reasons").blocks if hasattr(b, "text"))
    assert "No record was quarantined." in reasons and "No example was rejected." in reasons
    assert not report.section("reasons").figures and report.plot_data["reject_reasons"].height == 0
    assert report.section("clusters").blocks[0].text == "Dedup found no duplicates: there is no cluster."  # type: ignore[union-attr]
    assert not report.section("dedup").figures and "threshold_curve" not in report.plot_data
    assert report.section("funnel").table("Funnel").row("ad_webvtt")[1:] == (0, 0, 0, 0, 0, 0, 0, 0)
    assert_inert(Page(render_html(report)))


def test_funnel_refuses_sources_it_does_not_know(inputs: ReportInputs) -> None:
    funnel = {**fx.FUNNEL, "sources": {"lvd2m": fx.FUNNEL["sources"]["lvd2m"]}}
    with pytest.raises(ValueError, match=r"\['youdescribe'\] are in dedup or mixture outputs but not in funnel.json"):
        build_report(replace(inputs, funnel=funnel))


# ---------------------------------------------------------------------------------------------
# (b) hostile text: escaped everywhere, nothing live
# ---------------------------------------------------------------------------------------------


def test_templates_escape_and_link_only_web_urls() -> None:
    macros = environment().get_template("_blocks.html.j2").module
    table = Table(
        '<b>title</b>', ('<i>col</i>',),
        (("<script>x</script>",), (Link("js", "javascript:alert(1)"),), (Link("quote", 'https://x.org/" onerror="alert(1)'),),
         (Link("ok", "https://example.com/?a=1&b=2"),)),
    )
    cells = str(macros.table(table))
    assert "<caption>&lt;b&gt;title&lt;/b&gt;</caption>" in cells and "<th scope=\"col\">&lt;i&gt;col&lt;/i&gt;</th>" in cells
    assert "<td>&lt;script&gt;x&lt;/script&gt;</td>" in cells
    assert '<td class="u">js</td>' in cells and '<td class="u">quote</td>' in cells  # not links: not http(s)
    assert '<a href="https://example.com/?a=1&amp;b=2" rel="noopener noreferrer">ok</a>' in cells
    figure = str(macros.figure(Figure("f", "t<i>", b"\x89PNG\r\n\x1a\n", alt='"><svg onload=1>', data=("f",))))
    assert 'alt="&#34;&gt;&lt;svg onload=1&gt;"' in figure and "t&lt;i&gt;" in figure
    page = Page(cells + figure)
    assert [a["href"] for t, a in page.tags if t == "a"] == ["https://example.com/?a=1&b=2", "plots/f.csv"]
    assert not [name for _t, attrs in page.tags for name in attrs if name.startswith("on")]


def test_payloads_are_shown_as_text_and_nothing_is_live(page_html: str) -> None:
    page = Page(page_html)
    assert_inert(page)
    text = page.all_text()
    for payload in fx.PAYLOADS:
        assert payload in text, f"payload not shown verbatim as text: {payload}"
    for shown in (fx.QUARANTINE_DETAIL, fx.QUARANTINE_RECORD, fx.REJECT_TEXT, fx.NARRATION, fx.HOSTILE_VIDEO_ID, fx.HOSTILE_URL):
        assert shown in text
    assert "&amp;amp;" in page_html  # a literal "&amp;" in the dump stays literal on the page
    assert page.title == TITLE
    assert page_html.count("<script") == 0 and "<svg" not in page_html and "<iframe" not in page_html
    assert "javascript:" not in " ".join(str(a.get("href")) for t, a in page.tags if t == "a")
    # A Content-Security-Policy backs the escaping up: no script, nothing loaded but inline images.
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert [a["content"] for a in csp] == [CSP]
    assert "default-src 'none'" in CSP and "img-src data:" in CSP


def test_no_external_assets(page_html: str) -> None:
    assert not re.search(r"<(link|script|iframe|object|embed)\b", page_html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page_html.replace('href="https://www.youtube.com', ""))
    assert "@import" not in page_html and "url(" not in page_html


def markdown_tables(text: str) -> list[list[str]]:
    """The lines of each Markdown table (consecutive lines starting with |)."""
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def test_markdown_escapes_table_breaking_characters(inputs: ReportInputs) -> None:
    assert md_cell("a|b") == r"a\|b"
    assert md_cell("x\ny") == "x y"
    assert md_cell("<b>*x*</b> [l](u) _e_ snake_case") == r"\<b\>\*x\*\</b\> \[l\](u) \_e\_ snake_case"
    evil = "evil|<b>src</b>\n| x"
    funnel = {**fx.FUNNEL, "sources": {**fx.FUNNEL["sources"], evil: {
        "raw_records": 1, "quarantined": 0, "examples": 1, "kept": 1, "rejected": 0}}}
    summary = render_markdown(build_report(replace(inputs, funnel=funnel)))
    tables = markdown_tables(summary)
    assert len(tables) == 5  # headline, funnel, dedup, asked against obtained, per split
    for table in tables:
        cells = {len(re.split(r"(?<!\\)\|", line)) for line in table}
        assert len(cells) == 1, table  # every row has the header's number of cells
    assert r"| evil\|\<b\>src\</b\> \| x | 1 | 0 | 1 | 0 | 1 | 1 | 0 | 0 |" in summary


def test_summary_markdown_contents(report) -> None:
    summary = render_markdown(report)
    assert summary.startswith("# Visual Narrator curation report: summary")
    assert "| total | 22 | 4 | 18 | 5 | 13 | 3 | 10 | 9 |" in summary
    assert "| precision at the threshold | 0.9 |" in summary and "| recall at the threshold | 0.75 |" in summary
    assert "| youdescribe | 60.0% | 6 | 5 | 5 | 55.6% | 1 | SHORT by 1 |" in summary
    assert "PWNED" not in summary  # no dump text in the summary


# ---------------------------------------------------------------------------------------------
# Determinism and the stage
# ---------------------------------------------------------------------------------------------


def test_same_inputs_give_identical_bytes(report, page_html: str) -> None:
    again = build_report(fx.full_inputs())
    assert render_html(again) == page_html
    assert render_markdown(again) == render_markdown(report)
    for name, frame in report.plot_data.items():
        assert again.plot_data[name].write_csv() == frame.write_csv(), name
    for figure in (f for s in report.sections for f in s.figures):
        assert b"Software" not in figure.png and b"matplotlib" not in figure.png.lower()


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_report_stage(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report stage's main with dvc.yaml's arguments, in `project`."""
    monkeypatch.chdir(project)
    report_stage.main(stage_argv("report", project / "params.yaml")[2:])


def test_stage_writes_report_plots_and_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fx.write_pipeline_files(tmp_path)
    run_report_stage(tmp_path, monkeypatch)
    out = tmp_path / "reports/curation"
    first = files_under(out) | {"curation.json": (tmp_path / "reports/metrics/curation.json").read_bytes()}
    assert {"index.html", "summary.md", "plots/funnel.csv", "plots/threshold_curve.csv", "plots/quality_hist.csv",
            "plots/mixture_sources.csv", "plots/languages.csv"} <= set(first)
    assert (out / "plots/funnel.csv").read_text().splitlines()[:2] == ["stage,source,count", "1 raw records,lvd2m,12"]
    metrics = json.loads((tmp_path / "reports/metrics/curation.json").read_text())
    assert metrics["kept_after_dedup"] == 10 and metrics["shortfall"] == 1 and metrics["dedup_recall"] == 0.75
    assert "quarantined" not in metrics  # the page has every headline figure; the DVC metric the few to compare
    assert_inert(Page((out / "index.html").read_text(encoding="utf-8")))

    (out / "plots/stale.csv").write_text("x\n")
    run_report_stage(tmp_path, monkeypatch)
    second = files_under(out) | {"curation.json": (tmp_path / "reports/metrics/curation.json").read_bytes()}
    assert second == first  # byte-identical rerun, and no stale plot CSV left behind


def test_stage_fails_on_a_missing_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fx.write_pipeline_files(tmp_path)
    (tmp_path / "reports/metrics/dedup.json").unlink()  # dvc repro never runs the report without it
    with pytest.raises(FileNotFoundError, match="reports/metrics/dedup.json"):
        run_report_stage(tmp_path, monkeypatch)


# ---------------------------------------------------------------------------------------------
# (c) headless Chromium
# ---------------------------------------------------------------------------------------------


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make test` (it installs chromium) or apt-get install chromium"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_chromium_renders_report_and_payloads_stay_inert(tmp_path: Path, page_html: str) -> None:
    index = tmp_path / "index.html"
    index.write_text(page_html, encoding="utf-8")
    result = chromium(["--dump-dom", index.as_uri()], tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-3000:]
    dom = Page(result.stdout)

    # The page rendered: title, the funnel section and its numbers.
    assert dom.title == TITLE, f"title changed: {dom.title!r} (a payload ran?)"
    assert "Funnel: records per stage and source" in "".join(dom.section_text["funnel"])
    assert dom.row("funnel", "total") == ["total", "22", "4", "18", "5", "13", "3", "10", "9"]
    assert dom.row("funnel", "lvd2m") == ["lvd2m", "12", "2", "10", "3", "7", "2", "5", "4"]
    assert dom.row("mixture", "youdescribe")[-1] == "SHORT by 1"

    # No payload executed: nothing inserted, the payloads are text.
    assert_inert(dom)
    assert "injected" not in {a.get("id") for _t, a in dom.tags}
    text = dom.all_text()
    for payload in fx.PAYLOADS:
        assert payload in text

    # Console: no error, no blocked or failed load (any console output means something tried to run or load).
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
    for marker in ("Uncaught", "Failed to load resource", "Content Security Policy", "net::ERR_"):
        assert marker not in result.stderr, [line for line in result.stderr.splitlines() if marker in line]


@pytest.mark.slow
def test_chromium_screenshot_is_not_blank(tmp_path: Path, page_html: str) -> None:
    from PIL import Image

    index = tmp_path / "index.html"
    index.write_text(page_html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    result = chromium(["--window-size=1280,2000", f"--screenshot={shot}", index.as_uri()], tmp_path / "profile")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-3000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("L").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # text and figures, not an empty page

