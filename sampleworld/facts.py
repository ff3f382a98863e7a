"""What is true of a time window of a scene: the facts every caption, in any language, is written from.

`window_facts(scene, t0, t1)` turns a scene spec into per-shape views (kind, size word, colours,
colour change, appearance time, motion, start and end positions) and the sign, relative to the
window's start. Also the position and number words and the small grammar helpers (`article`,
`cap`, `count_phrase`) that the English and foreign captions share.
"""

from __future__ import annotations

from dataclasses import dataclass

from sampleworld.scenes import scene_events, shape_colour_at, shape_xy, speed_px_s


NUMBER_WORDS = ["no", "one", "two", "three", "four", "five"]
SIZE_WORDS = {8: "small", 9: "small", 10: "medium-sized", 11: "medium-sized", 12: "large", 13: "large"}
PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles"}


def hpos(x: float) -> str:
    return "left" if x < 34 else "right" if x > 62 else "centre"


def vpos(y: float) -> str:
    return "top" if y < 34 else "bottom" if y > 62 else "middle"


REGION_PHRASE = {
    ("top", "left"): "in the upper left", ("top", "centre"): "near the top", ("top", "right"): "in the upper right",
    ("middle", "left"): "on the left", ("middle", "centre"): "in the centre", ("middle", "right"): "on the right",
    ("bottom", "left"): "in the lower left", ("bottom", "centre"): "near the bottom",
    ("bottom", "right"): "in the lower right",
}
HREGION_PHRASE = {"left": "on the left", "centre": "in the middle", "right": "on the right"}
HSIDE = {"left": "left side", "centre": "centre", "right": "right side"}
VSIDE = {"top": "top", "middle": "middle", "bottom": "bottom"}


def region_phrase(x: float, y: float) -> str:
    return REGION_PHRASE[(vpos(y), hpos(x))]


def article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def count_phrase(n: int, noun: str) -> str:
    return f"{NUMBER_WORDS[n]} {noun if n == 1 else PLURAL.get(noun, noun + 's')}"


@dataclass
class ShapeView:
    idx: int
    kind: str
    size: str
    colour0: str  # colour at its first visible moment in the window
    change: tuple[float, str, str] | None  # (seconds after window start, from, to)
    colour_end: str
    appears_rel: float | None  # seconds after window start, None if visible from the start
    motion: str
    speed: float
    start_xy: tuple[float, float]
    end_xy: tuple[float, float]
    visible_s: float
    bounce_period: float | None


@dataclass
class SignView:
    word: str
    position: str
    appears_rel: float | None


@dataclass
class WindowFacts:
    scene: dict
    t0: float
    t1: float
    shapes: list[ShapeView]
    sign: SignView | None

    @property
    def bg(self) -> str:
        return self.scene["background"]

    @property
    def length(self) -> float:
        return self.t1 - self.t0

    def n_start(self) -> int:
        return sum(1 for s in self.shapes if s.appears_rel is None)

    def n_end(self) -> int:
        return len(self.shapes)

    def kind_unique(self, kind: str) -> bool:
        return sum(1 for s in self.shapes if s.kind == kind) == 1


def window_facts(scene: dict, t0: float, t1: float) -> WindowFacts:
    fps = scene["fps"]
    duration = scene["duration_s"]
    last = t1 - 1.0 / fps
    views = []
    for i, s in enumerate(scene["shapes"]):
        if s["appear_s"] >= t1 - 1e-9:
            continue
        start = max(t0, s["appear_s"])
        appears_rel = s["appear_s"] - t0 if s["appear_s"] > t0 + 1e-9 else None
        change = None
        cc = s["colour_change"]
        colour0 = shape_colour_at(s, start)
        if cc is not None and start < cc["at_s"] < t1:
            change = (cc["at_s"] - t0, s["colour"], cc["to"])
        sx, sy = shape_xy(s, start, duration)
        ex, ey = shape_xy(s, last, duration)
        views.append(ShapeView(
            idx=i, kind=s["kind"], size=SIZE_WORDS[s["radius_px"]], colour0=colour0, change=change,
            colour_end=shape_colour_at(s, last), appears_rel=appears_rel, motion=s["motion"],
            speed=speed_px_s(s, duration), start_xy=(float(sx), float(sy)), end_xy=(float(ex), float(ey)),
            visible_s=t1 - start, bounce_period=s["path"].get("period_s"),
        ))
    views.sort(key=lambda v: (v.appears_rel or 0.0, v.idx))
    sign = None
    sg = scene["sign"]
    if sg is not None and sg["appear_s"] < t1 - 1e-9:
        sign = SignView(sg["word"], sg["position"], sg["appear_s"] - t0 if sg["appear_s"] > t0 + 1e-9 else None)
    return WindowFacts(scene, t0, t1, views, sign)


def window_is_clear(scene: dict, t0: float, t1: float, margin: float = 0.4) -> bool:
    """No visible change happens within `margin` seconds of either end of the window."""
    for t, _, _ in scene_events(scene):
        if abs(t - t0) < margin or abs(t - t1) < margin:
            return False
    return True
