"""The plain data a report page is made of: paragraphs, tables and figures.

Reports build these from their inputs; the templates (`_blocks.html.j2`, `_blocks.md.j2`) lay
them out and escape every cell. Nothing here is markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

# Per column, the CSS class of its cells (numbers get "n" from their type anyway).
CELL_KINDS = (
    "",  # plain
    "n",  # a number already formatted as text: right-aligned
    "t",  # long dump text: wide and wrapped
    "id",  # identifier or path: may break anywhere
)
MARKS = ("", "total", "warn", "kept", "strong")  # a row's highlight


@dataclass(frozen=True)
class Link:
    """A URL from the data: a link when it is http(s), plain text otherwise."""

    text: str
    href: str


Cell = Union[str, int, float, Link, None]


def is_web_url(url: object) -> bool:
    """True for an absolute http(s) URL without characters that could break out of it."""
    return isinstance(url, str) and re.fullmatch(r"https?://[^\s\"'<>`\\]+", url) is not None


def format_cell(value: Cell) -> str:
    """How a cell reads (HTML and Markdown): ints with thousands separators, floats trimmed."""
    if value is None:
        return "n/a"
    if isinstance(value, Link):
        return value.text
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Text:
    """A paragraph (`kind` "p") or a sub-heading ("h3")."""

    text: str
    kind: str = "p"

    def __post_init__(self) -> None:
        if self.kind not in ("p", "h3"):
            raise ValueError(f"text kind {self.kind!r} is not p or h3")


@dataclass(frozen=True)
class Table:
    """A titled table: column headers, rows of cells, and how each column and row is shown.

    `kinds` (one per column, see CELL_KINDS) and `marks` (one per row, see MARKS) default to
    plain; `summary` tables also go into a report's Markdown summary.
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    kinds: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    summary: bool = False

    def __post_init__(self) -> None:
        width = len(self.columns)
        if any(len(row) != width for row in self.rows):
            raise ValueError(f"table {self.title!r}: a row does not have the {width} columns of its header")
        object.__setattr__(self, "kinds", self.kinds or ("",) * width)
        object.__setattr__(self, "marks", self.marks or ("",) * len(self.rows))
        if len(self.kinds) != width or not set(self.kinds) <= set(CELL_KINDS):
            raise ValueError(f"table {self.title!r}: kinds {self.kinds} do not match its columns")
        if len(self.marks) != len(self.rows) or not set(self.marks) <= set(MARKS):
            raise ValueError(f"table {self.title!r}: marks {self.marks} do not match its rows")

    @property
    def numeric(self) -> tuple[bool, ...]:
        """Per column: right-aligned (a number column, or any cell a number)."""
        return tuple(
            kind == "n" or any(_is_number(row[i]) for row in self.rows) for i, kind in enumerate(self.kinds)
        )

    def column(self, name: str) -> list[Cell]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def row(self, first: Cell) -> tuple[Cell, ...]:
        """The row whose first cell is `first`."""
        matches = [r for r in self.rows if r[0] == first]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} rows start with {first!r} in table {self.title!r}")
        return matches[0]


@dataclass(frozen=True)
class Figure:
    """A PNG figure; `data` names the CSV files (plots/<name>.csv) holding the numbers it draws."""

    name: str
    title: str
    png: bytes
    alt: str
    data: tuple[str, ...] = ()


Block = Union[Text, Table, Figure]
