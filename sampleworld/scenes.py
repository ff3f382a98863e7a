"""The sample world itself: constants, seeded random helpers, scene specs and their physics.

A scene spec (one line of scenes.jsonl) is the ground truth of a video's pixels: background,
1 to 3 shapes with their paths and colour changes, and an optional sign. Everything else in the
package (pixels, captions, dumps) is computed from these specs, so this module owns what is true.

- constants: frame size, palette, backgrounds, sign words, shape kinds, motions;
- `sub_rng`, `pick`, `chance`, `on_grid`, `make_video_ids`: one independent generator per purpose;
- `make_scene`: draw a scene spec; `shape_xy`, `shape_colour_at`, `shape_visible`, `speed_px_s`,
  `scene_events`: where a shape is, what colour it has and what changes, at any time.
"""

from __future__ import annotations

import math
import zlib

import numpy as np


# --------------------------------------------------------------------------------------
# World constants
# --------------------------------------------------------------------------------------

W = H = 96
FPS_CHOICES = (8, 10)

PALETTE = {
    "red": (220, 40, 40),
    "green": (40, 190, 70),
    "blue": (40, 100, 240),
    "yellow": (245, 220, 40),
    "white": (245, 245, 245),
    "orange": (250, 140, 20),
    "purple": (150, 60, 200),
}
BACKGROUNDS = {
    "black": (10, 10, 10),
    "dark gray": (60, 60, 60),
    "navy blue": (15, 25, 80),
    "dark green": (15, 60, 30),
    "brown": (90, 55, 30),
}
# Shape colours that are too close to a background to read clearly are never combined.
BAD_COMBOS = {("blue", "navy blue"), ("green", "dark green"), ("purple", "navy blue"), ("orange", "brown"), ("red", "brown")}
SIGN_BOARD_RGB = (240, 236, 220)
SIGN_TEXT_RGB = (20, 20, 20)
SIGN_WORDS = ("STOP", "OPEN", "EXIT", "SALE", "HELLO", "PARK", "CAFE", "TAXI", "HOTEL", "WAIT", "BUS", "GO")
SHAPE_KINDS = ("circle", "square", "triangle")
MOTIONS = ("left_to_right", "right_to_left", "up", "down", "bounce", "still")
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --------------------------------------------------------------------------------------
# Random helpers
# --------------------------------------------------------------------------------------


def sub_rng(seed: int, *names: object) -> np.random.Generator:
    """An independent generator per purpose, so changing one part never reshuffles another."""
    entropy = [seed] + [zlib.crc32(str(n).encode("utf-8")) for n in names]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def on_grid(t: float, fps: int) -> float:
    return round(t * fps) / fps


def make_video_ids(rng: np.random.Generator, n: int, taken: set[str], alphabet: str = ID_ALPHABET) -> list[str]:
    ids = []
    while len(ids) < n:
        vid = "".join(alphabet[int(i)] for i in rng.integers(len(alphabet), size=11))
        if vid not in taken:
            taken.add(vid)
            ids.append(vid)
    return ids


# --------------------------------------------------------------------------------------
# Scene specs
# --------------------------------------------------------------------------------------


def bound_radius(shape: dict) -> float:
    return shape["radius_px"] * (1.2 if shape["kind"] == "square" else 1.0)


def shape_xy(shape: dict, t, duration: float):
    """Centre of a shape at time(s) t (seconds into the video). Vectorized over t."""
    t = np.asarray(t, dtype=np.float64)
    path = shape["path"]
    a = shape["appear_s"]
    if path["type"] == "still":
        x = np.full_like(t, path["at"][0])
        y = np.full_like(t, path["at"][1])
    elif path["type"] == "linear":
        u = np.clip((t - a) / (duration - a), 0.0, 1.0)
        x = path["from"][0] + (path["to"][0] - path["from"][0]) * u
        y = path["from"][1] + (path["to"][1] - path["from"][1]) * u
    else:  # bounce
        phase = np.maximum(t - a, 0.0)
        x = np.full_like(t, path["x"])
        y = path["floor_y"] - path["height"] * np.abs(np.sin(math.pi * phase / path["period_s"]))
    return x, y


def shape_colour_at(shape: dict, t: float) -> str:
    change = shape["colour_change"]
    if change is not None and t >= change["at_s"] - 1e-9:
        return change["to"]
    return shape["colour"]


def shape_visible(shape: dict, t: float) -> bool:
    return t >= shape["appear_s"] - 1e-9


def speed_px_s(shape: dict, duration: float) -> float:
    path = shape["path"]
    if path["type"] == "still":
        return 0.0
    if path["type"] == "linear":
        dist = math.hypot(path["to"][0] - path["from"][0], path["to"][1] - path["from"][1])
        return dist / (duration - shape["appear_s"])
    return 2.0 * path["height"] / path["period_s"]


def scene_events(scene: dict) -> list[tuple[float, str, int | None]]:
    """(time, kind, shape index) of every visible change after t=0, in time order."""
    events = []
    for i, s in enumerate(scene["shapes"]):
        if s["appear_s"] > 0:
            events.append((s["appear_s"], "appear", i))
        if s["colour_change"] is not None:
            events.append((s["colour_change"]["at_s"], "colour", i))
    sign = scene["sign"]
    if sign is not None and sign["appear_s"] > 0:
        events.append((sign["appear_s"], "sign", None))
    return sorted(events, key=lambda e: (e[0], e[1], -1 if e[2] is None else e[2]))


# Pixel widths of the words in Pillow's bundled font (Aileron Regular) at 16 px. A table rather
# than a measurement, so the layout (and so every text file) does not depend on the Pillow build.
SIGN_TEXT_WIDTH = {"STOP": 42, "OPEN": 45, "EXIT": 35, "SALE": 39, "HELLO": 54, "PARK": 43, "CAFE": 41,
                   "TAXI": 35, "HOTEL": 54, "WAIT": 40, "BUS": 31, "GO": 24}


def sign_text_width(word: str) -> int:
    return SIGN_TEXT_WIDTH[word]


def make_scene(rng: np.random.Generator, video_id: str, *, profile: str, duration_s: float | None = None) -> dict:
    """Draw a scene spec. profile: lvd | lvd_still | long | events (YouDescribe / WebVTT videos)."""
    for _attempt in range(500):
        scene = _try_scene(rng, video_id, profile, duration_s)
        if scene is not None:
            return scene
    raise RuntimeError(f"could not lay out a scene for {video_id} ({profile})")


def _try_scene(rng, video_id, profile, duration_s):
    fps = int(pick(rng, FPS_CHOICES))
    if duration_s is None:
        if profile == "events":
            duration_s = float(rng.uniform(7.0, 10.0))
        else:
            duration_s = float(rng.uniform(3.0, 8.0))
    n_frames = int(round(duration_s * fps))
    duration = n_frames / fps
    times = np.arange(n_frames) / fps

    bg = pick(rng, list(BACKGROUNDS))
    sign = None
    has_sign = chance(rng, {"lvd": 0.35, "lvd_still": 0.5, "long": 0.5, "events": 0.6}[profile])
    y_lo, y_hi = 0.0, float(H)
    if has_sign:
        word = pick(rng, SIGN_WORDS)
        position = pick(rng, ("top", "bottom"))
        width = sign_text_width(word) + 10
        cx = float(rng.integers(width // 2 + 4, W - width // 2 - 4 + 1))
        y0 = 3 if position == "top" else H - 23
        box = [int(cx - width / 2), y0, int(cx - width / 2) + width, y0 + 20]
        if position == "top":
            y_lo = 27.0
        else:
            y_hi = float(H - 27)
        sign = {"word": word, "position": position, "box": box, "appear_s": 0.0,
                "board_rgb": list(SIGN_BOARD_RGB), "text_rgb": list(SIGN_TEXT_RGB)}

    n_shapes = int(pick(rng, (1, 1, 2, 2, 2, 3)))
    if profile == "long":
        n_shapes = int(pick(rng, (2, 3)))
    if profile == "events":
        n_shapes = int(pick(rng, (2, 2, 3, 3)))
    shapes: list[dict] = []
    for i in range(n_shapes):
        kind = pick(rng, SHAPE_KINDS)
        same_kind_colours = set()
        for s in shapes:
            if s["kind"] == kind:
                same_kind_colours.add(s["colour"])
                if s["colour_change"]:
                    same_kind_colours.add(s["colour_change"]["to"])
        colours = [c for c in PALETTE if (c, bg) not in BAD_COMBOS and c not in same_kind_colours]
        colour = pick(rng, colours)
        radius = int(rng.integers(8, 14))
        if y_hi - y_lo < 80:
            radius = min(radius, 11)
        # appearance
        if i == 0:
            appear = 0.0
        elif profile == "long":
            appear = on_grid(float(rng.uniform(0.15, 0.45)) * duration, fps) if i == 1 else (
                0.0 if chance(rng, 0.5) else on_grid(float(rng.uniform(0.5, 0.75)) * duration, fps))
        else:
            late_p = 0.8 if profile == "events" else 0.45
            appear = on_grid(float(rng.uniform(0.8, duration - 1.4)), fps) if chance(rng, late_p) else 0.0
        # motion
        if profile == "lvd_still":
            motion = "still"
        elif i == 0 and profile in ("lvd", "long"):
            motion = pick(rng, MOTIONS[:-1])
        else:
            motion = pick(rng, MOTIONS)
        shape = {"id": i, "kind": kind, "colour": colour, "radius_px": radius, "appear_s": appear,
                 "motion": motion, "path": None, "colour_change": None}
        br = bound_radius(shape)
        xmin, xmax = math.ceil(br) + 2, W - math.ceil(br) - 2
        ymin, ymax = y_lo + math.ceil(br) + 2, y_hi - math.ceil(br) - 2
        if motion in ("left_to_right", "right_to_left"):
            y = float(rng.integers(int(ymin), int(ymax) + 1))
            xa = float(rng.integers(xmin, xmin + 12))
            xb = float(rng.integers(xmax - 12, xmax + 1))
            if motion == "right_to_left":
                xa, xb = xb, xa
            shape["path"] = {"type": "linear", "from": [xa, y], "to": [xb, y]}
        elif motion in ("up", "down"):
            if ymax - ymin < 30:
                continue
            x = float(rng.integers(xmin, xmax + 1))
            ya = float(rng.integers(int(ymax) - 6, int(ymax) + 1))  # low on screen
            yb = float(rng.integers(int(ymin), int(ymin) + 7))  # high on screen
            if motion == "down":
                ya, yb = yb, ya
            shape["path"] = {"type": "linear", "from": [x, ya], "to": [x, yb]}
        elif motion == "bounce":
            x = float(rng.integers(xmin, xmax + 1))
            floor_y = float(ymax)
            max_h = min(30.0, ymax - ymin)
            if max_h < 14:
                continue
            shape["path"] = {"type": "bounce", "x": x, "floor_y": floor_y,
                             "height": float(rng.integers(14, int(max_h) + 1)),
                             "period_s": float(pick(rng, (1.0, 1.2, 1.25, 1.5, 1.6)))}
        else:
            shape["path"] = {"type": "still", "at": [float(rng.integers(xmin, xmax + 1)),
                                                     float(rng.integers(int(ymin), int(ymax) + 1))]}
        # colour change
        change_p = {"lvd": 0.35, "lvd_still": 0.4, "long": 0.5, "events": 0.6}[profile]
        others = {s["colour"] for s in shapes if s["kind"] == kind} | {
            s["colour_change"]["to"] for s in shapes if s["kind"] == kind and s["colour_change"]}
        targets = [c for c in PALETTE if c != colour and (c, bg) not in BAD_COMBOS and c not in others]
        if chance(rng, change_p) and duration - appear > 2.2 and targets:
            if profile == "long":
                at = on_grid(float(rng.uniform(max(appear + 3.0, 0.55 * duration), 0.9 * duration)), fps)
            else:
                at = on_grid(float(rng.uniform(appear + 0.9, duration - 0.9)), fps)
            shape["colour_change"] = {"at_s": at, "to": pick(rng, targets)}
        shapes.append(shape)
    if not shapes:
        return None
    if sign is not None:
        late_p = {"lvd": 0.3, "lvd_still": 0.3, "long": 0.4, "events": 0.7}[profile]
        if chance(rng, late_p):
            sign["appear_s"] = on_grid(float(rng.uniform(0.8, duration - 1.4)), fps)

    scene = {"video_id": video_id, "duration_s": duration, "fps": fps, "n_frames": n_frames,
             "width": W, "height": H, "background": bg, "background_rgb": list(BACKGROUNDS[bg]),
             "shapes": shapes, "sign": sign}

    # Checks: shapes never overlap one another, stay inside the frame; events are spread out.
    for s in shapes:
        x, y = shape_xy(s, times, duration)
        br = bound_radius(s)
        if (x - br < 1).any() or (x + br > W - 1).any() or (y - br < y_lo).any() or (y + br > y_hi).any():
            return None
    for i in range(len(shapes)):
        for j in range(i + 1, len(shapes)):
            a, b = shapes[i], shapes[j]
            vis = times >= max(a["appear_s"], b["appear_s"]) - 1e-9
            if not vis.any():
                continue
            xa, ya = shape_xy(a, times[vis], duration)
            xb, yb = shape_xy(b, times[vis], duration)
            if (np.hypot(xa - xb, ya - yb) < bound_radius(a) + bound_radius(b) + 3).any():
                return None
    events = scene_events(scene)
    gap = 1.2 if profile == "events" else 0.9
    for (t1, _, _), (t2, _, _) in zip(events, events[1:]):
        if t2 - t1 < gap:
            return None
    if events and events[-1][0] > duration - 1.0:
        return None
    if profile == "events" and len(events) < 2:
        return None
    if profile == "long":
        # Something must happen in each half so that every `Caption x:` window has news.
        if len(events) < 2 or events[-1][0] < 0.55 * duration or events[0][0] > 0.5 * duration:
            return None
    return scene
