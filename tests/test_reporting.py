"""The shared rendering module: HTML autoescaping, Markdown cell escaping, the CSP on every page,
PNG data URIs, deterministic figures and blocks that refuse malformed tables."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from matplotlib.figure import Figure as MplFigure

from reporting.blocks import Link, Table, Text, format_cell, is_web_url
from reporting.figures import draw, source_color
from reporting.render import CSP, TEMPLATES, environment, md_cell, md_code, png_data_uri

HOSTILE = '<script>alert(1)</script>" onerror="alert(2)'
PAGES = sorted(p.name for p in TEMPLATES.glob("*.html.j2") if not p.name.startswith("_") and p.name != "base.html.j2")


def small_png() -> bytes:
    def paint(fig: MplFigure) -> None:
        fig.subplots().plot([0, 1, 2], [1, 0, 1])

    return draw(paint, 1.0)


def page(body: str) -> str:
    """A page made with base.html.j2 (as every report page is), its title and body from data."""
    template = environment().from_string('{% extends "base.html.j2" %}{% block main %}<p>{{ body }}</p>{% endblock %}')
    return template.render(title=HOSTILE, body=body)


# -- HTML ---------------------------------------------------------------------------------------


def test_html_templates_autoescape_text_and_attributes() -> None:
    html = page(HOSTILE)
    assert "<script>" not in html and 'onerror="' not in html
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;&#34; onerror=&#34;alert(2)</title>" in html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;&#34; onerror=&#34;alert(2)</p>" in html
    table = Table("t", ("a",), ((Link(HOSTILE, "https://example.com/"),),))
    cell = str(environment().get_template("_blocks.html.j2").module.table(table))
    assert '<a href="https://example.com/" rel="noopener noreferrer">&lt;script&gt;' in cell
    assert environment().from_string("<img alt='{{ v }}'>").render(v="' onerror='x") == "<img alt='&#39; onerror=&#39;x'>"


def test_autoescape_is_on_for_html_and_strings_off_for_markdown() -> None:
    """Markdown escapes its own way (the md filter): HTML entities would show literally in some viewers."""
    autoescape = environment().autoescape
    assert callable(autoescape)
    assert autoescape("eval.html.j2") and autoescape("base.html.j2") and autoescape(None)  # None: from_string
    assert not autoescape("eval.md.j2") and not autoescape("model_card.md.j2")


def test_links_only_for_http_urls() -> None:
    assert is_web_url("https://www.youtube.com/watch?v=abc&t=3") and is_web_url("http://example.com")
    for url in ("javascript:alert(1)", "data:text/html,x", "//example.com", "https://x.org/\" onerror=\"a", "https://a b",
                "vbscript:x", "file:///etc/passwd", None, 3):
        assert not is_web_url(url), url


@pytest.mark.parametrize("name", PAGES)
def test_every_page_extends_base_and_so_carries_the_csp(name: str) -> None:
    assert (TEMPLATES / name).read_text(encoding="utf-8").count('{% extends "base.html.j2" %}') == 1
    html = page("x")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html.replace("&#39;", "'")
    assert CSP == "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def test_pages_are_the_expected_ones() -> None:
    assert PAGES == ["curation.html.j2", "eval.html.j2"]


def test_png_data_uri() -> None:
    png = small_png()
    uri = png_data_uri(png)
    assert uri.startswith("data:image/png;base64,iVBORw0KGgo") and re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=]+", uri)
    with pytest.raises(ValueError, match="not PNG"):
        png_data_uri(b"<svg onload=alert(1)>")


# -- Markdown -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("a|b", r"a\|b"),
        ("line one\nline two\r\n\tend", "line one line two end"),
        ("`code` and ``more``", r"\`code\` and \`\`more\`\`"),
        ("# heading", r"\# heading"),
        ("<script>x</script>", r"\<script\>x\</script\>"),
        ("- item", r"\- item"),
        ("+ item", r"\+ item"),
        ("1. item", r"1\. item"),
        ("3) item", r"3\) item"),
        ("0.66", "0.66"),
        ("[link](javascript:x) *em* _em_ ~s~ snake_case & \\", r"\[link\](javascript:x) \*em\* \_em\_ \~s\~ snake_case \& \\"),
    ],
)
def test_md_cell_escapes(text: str, cell: str) -> None:
    assert md_cell(text) == cell


def test_md_code_keeps_code_spans_closed() -> None:
    assert md_code("a`b\nc") == "a'b c"


def test_markdown_table_keeps_its_shape() -> None:
    table = Table("T|itle", ("name", "n"), (("evil|cell\n| x", 1), ("", 2), ("ok", None)), marks=("", "strong", ""))
    text = render_table_md(table)
    lines = text.splitlines()
    assert lines[0] == r"**T\|itle**" and lines[2:4] == ["| name | n |", "|---|---:|"]
    assert lines[4:] == [r"| evil\|cell \| x | 1 |", "| | **2** |", "| ok | n/a |"]
    for line in lines[2:]:
        assert len(re.split(r"(?<!\\)\|", line)) == 4


def render_table_md(table: Table) -> str:
    return str(environment().get_template("_blocks.md.j2").module.table(table))


# -- determinism and blocks ---------------------------------------------------------------------


def png_chunks(png: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        chunks.append(png[at + 4 : at + 8])
        at += 12 + length
    return chunks


def test_figures_are_byte_identical_without_metadata() -> None:
    first, second = small_png(), small_png()
    assert first == second
    assert set(png_chunks(first)) <= {b"IHDR", b"IDAT", b"IEND", b"pHYs"}  # no tEXt (Software), no tIME


def test_rendering_is_byte_identical() -> None:
    table = Table("t", ("a", "b"), (("x", 1.5), ("y", 1234)))
    first = render_table_md(table) + page(HOSTILE)
    assert first == render_table_md(table) + page(HOSTILE)


def test_source_colours_are_stable() -> None:
    known = ("lvd2m", "youdescribe")
    assert source_color("lvd2m", known) == "#4c78a8" and source_color("youdescribe", known) == "#f58518"
    assert source_color("new_source", known) == source_color("new_source", known)


def test_blocks_refuse_malformed_tables() -> None:
    with pytest.raises(ValueError, match="does not have the 2 columns"):
        Table("t", ("a", "b"), (("only one",),))
    with pytest.raises(ValueError, match="kinds"):
        Table("t", ("a",), (("x",),), kinds=("wide",))
    with pytest.raises(ValueError, match="marks"):
        Table("t", ("a",), (("x",),), marks=("", "total"))
    with pytest.raises(ValueError, match="text kind"):
        Text("x", kind="script")
    assert Table("t", ("a",), (("x",),)).kinds == ("",)


def test_format_cell() -> None:
    assert [format_cell(v) for v in (None, 1234567, 0.5, 2.0, 0.12345, True, "s", Link("t", "u"))] == [
        "n/a", "1,234,567", "0.5", "2", "0.123", "True", "s", "t",
    ]


def test_templates_live_in_the_package() -> None:
    assert TEMPLATES == Path(__file__).resolve().parents[1] / "reporting" / "templates"
    assert {"base.html.j2", "curation.html.j2", "curation.md.j2", "eval.html.j2", "eval.md.j2", "model_card.md.j2"} <= {
        p.name for p in TEMPLATES.iterdir()
    }
