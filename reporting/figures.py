"""Matplotlib figures as byte-identical PNGs: the Agg canvas, a fixed style, size and dpi.

`draw(paint, height_in)` gives the PNG bytes of a figure `paint` fills in. The same data give the
same bytes: no pyplot state, matplotlib's defaults reset around each figure, a fixed width and
dpi, and no Software/time metadata in the PNG.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
WIDTH_IN = 9.6
WIDTH_PX = int(WIDTH_IN * DPI)  # the <img> width pages show figures at
LEVEL, LOSS = "#4c78a8", "#f58518"  # counts at a stage, and what left between two stages
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.usetex": False,
    "text.parse_math": False,  # dump text and labels are never mathtext
    "svg.hashsalt": "visual-narrator",
    "path.simplify": True,
}
_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac")


def source_color(source: str, known: Sequence[str]) -> str:
    """One colour per source, the same in every figure: the known sources (in their order) each
    have their own, any other source one of the spare colours (chosen by a hash of its name)."""
    if source in known:
        return _PALETTE[list(known).index(source)]
    spare = len(_PALETTE) - len(known)
    digest = int.from_bytes(hashlib.blake2b(source.encode("utf-8"), digest_size=8).digest(), "big") >> 1
    return _PALETTE[len(known) + digest % spare]


def grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    """Rows and columns of a panel grid for n panels."""
    cols = max(1, min(n, max_cols))
    return math.ceil(max(n, 1) / cols), cols


def draw(paint: Callable[[Figure], None], height_in: float) -> bytes:
    """PNG bytes of a WIDTH_IN x height_in figure that `paint` fills in."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        FigureCanvasAgg(figure)
        paint(figure)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
