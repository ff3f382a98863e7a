"""Templates to text: one Jinja2 environment for every report and the model card.

HTML templates (`*.html.j2`) are autoescaped: every value a template prints is HTML-escaped
(text and attribute context alike) unless it is `markupsafe.Markup`, which no report builds from
data. Markdown templates (`*.md.j2`) print data through the `md` filter, which makes any text one
inert line of Markdown (the dumps' text is untrusted, user-generated). Undefined names fail
(`StrictUndefined`), so a template never prints an empty value by mistake. Rendering is
deterministic: the same context gives the same bytes.

Every HTML page also carries `CSP` (no script, nothing loaded but inline PNG data URIs) as a
second line of defence behind the escaping.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reporting.blocks import Figure, Link, Table, format_cell, is_web_url
from reporting.figures import WIDTH_PX

TEMPLATES = Path(__file__).with_name("templates")

# No script may run and nothing may load but the inline PNGs, even if something slipped through.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # snake_case stays readable
_MD_LEADING = re.compile(r"^([#+-])")  # would start a heading, a list item or a rule
_MD_NUMBERED = re.compile(r"^(\d+)([.)])(?=\s|$)")  # would start a numbered list item


def md_cell(value: object) -> str:
    """Any text as one inert line of Markdown, safe in a table cell, a list item or a heading.

    Whitespace (newlines included) collapses to single spaces; `|`, backticks, emphasis, link and
    HTML characters are backslash-escaped, and so is a leading `#`, `-`, `+` or `1.`.
    """
    text = " ".join(str(value).split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_LEADING.sub(r"\\\1", text)
    return _MD_NUMBERED.sub(r"\1\\\2", text)


def md_code(value: object) -> str:
    """Text for inside a Markdown code span (outside tables): one line, no backtick to close it early."""
    return " ".join(str(value).split()).replace("`", "'")


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a `data:image/png;base64,...` URI (the only image source the CSP allows)."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not PNG bytes")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def cell_class(value: object, kind: str) -> str:
    """The CSS class of a table cell: numbers right-aligned ("n"), links ("u"), else its column's kind."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "n"
    if isinstance(value, Link):
        return "u"
    return kind


@functools.cache
def environment() -> Environment:
    """The one environment: autoescape for HTML templates (and template strings), strict undefined
    names, block tags on their own lines leave no blank line behind (trim_blocks, lstrip_blocks)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=md_cell, md_code=md_code, cell=format_cell, data_uri=png_data_uri)
    env.tests.update(table=lambda b: isinstance(b, Table), figure=lambda b: isinstance(b, Figure),
                     link=lambda v: isinstance(v, Link), web_url=is_web_url)
    env.globals.update(CSP=CSP, FIGURE_WIDTH_PX=WIDTH_PX, cell_class=cell_class)
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of reporting/templates/ with `context`."""
    return environment().get_template(template).render(**context)
