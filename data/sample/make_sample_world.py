#!/usr/bin/env python3
"""Generate the deterministic "sample world" of Visual Narrator.

About 1,500 tiny synthetic videos (96x96 H.264) of coloured shapes and signs, plus raw
dumps that describe them in the exact formats of the real sources:

- LVD-2M release CSVs (``lvd2m/lvd2m_sample.csv``, ``lvd2m/hdvg_sample.csv``, ``lvd2m/webvid_sample.csv``);
- a YouDescribe YuWA CSV export (``youdescribe/yuwa_sample_world.csv``);
- YouDescribe API v1 responses (``youdescribe/api_v1/<video_id>.json``);
- WebVTT audio-description tracks (``ad_webvtt/<video_id>_descriptions_en.vtt``).

Every text is generated from the scene spec of its video (``scenes.jsonl``: the ground truth
of the pixels), so it is true of the pixels, except for the seeded defects, which are listed
row by row in ``defects.csv`` and counted in ``README.md`` (both written by this script).

Usage (from the repository root)::

    python data/sample/make_sample_world.py                 # writes data/sample/
    python data/sample/make_sample_world.py --no-video --out /tmp/world

Same seed, same bytes: text files are byte-identical on every platform; video files are
byte-identical for the same PyAV/FFmpeg/x264/Pillow builds (single-threaded x264 without
B-frames, bitexact flags, no timestamps in the container).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import shutil
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------------------
# World constants
# --------------------------------------------------------------------------------------

W = H = 96
FPS_CHOICES = (8, 10)
REPO_PREFIX = "data/sample"  # raw_file values in defects.csv are written as the params name them

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

# How many of each thing (see README.md).
N_LVD_MAIN_VIDEOS = 175  # 25 of them give two clips -> 200 rows
N_LVD_MAIN_TWO_CLIPS = 25
N_HDVG_VIDEOS = 45  # 5 of them give two clips -> 50 rows
N_HDVG_TWO_CLIPS = 5
N_YUWA_VIDEOS = 40
N_API_ONLY_VIDEOS = 13  # + 2 videos also in the YuWA CSV = 15 API files
N_VTT_VIDEOS = 6
# lvd2m/webvid_sample.csv: clean whole-video WebVid clips (LVD-2M's webvid_1200k_336_short.csv part).
# They are most of the tiny narrator's training data: measured with benchmarks/probe_tiny_narrator.py,
# the ~220 clips of the other files are too few for a model trained from scratch to learn where
# shapes are and how they move (README, Training). Built last, from their own random streams, so
# adding them changed none of the other files.
N_WEBVID_VIDEOS = 1200
LONG_DURATIONS_MAIN = (22.0, 26.0, 33.0, 37.0, 41.0, 45.0)
LONG_DURATIONS_HDVG = (24.0, 36.0)

LVD_MAIN_COLUMNS = [
    "video_id", "refined_caption", "span", "key", "total score", "url",
    "orig_caption", "video_time", "dataset_src", "rewritten_caption", "raw_caption",
]
HDVG_COLUMNS = [
    "key", "orig_span", "raw_caption", "video_id", "scene_cut", "total score", "refined_caption",
    "url", "dataset_src", "span", "video_time", "rewritten_caption", "orig_caption",
]
YUWA_COLUMNS = [
    "videos_youtube_id", "audio_descriptions_id", "audio_clips_id", "videos_youtube_status", "file_path",
    "file_name", "start_time", "end_time", "duration", "playback_type", "transcript_sentence",
]

# Defect counts per file: (file, defect) -> count. The README table is written from the
# rows actually produced, and the script asserts they equal these targets.
LVD_MAIN_DEFECTS = {
    "hallucinated_repeat": 20, "exact_duplicate": 6, "near_duplicate": 6, "non_english": 8,
    "too_short": 6, "too_long": 4, "broken_span": 4, "inverted_span": 4, "ragged_row": 2, "bad_number": 1,
}
HDVG_DEFECTS = {
    "hallucinated_repeat": 5, "exact_duplicate": 2, "near_duplicate": 2, "non_english": 2,
    "too_short": 1, "too_long": 1, "broken_span": 1, "inverted_span": 1,
}
N_LOW_MOTION_MAIN = 4

HALLUCINATION = (
    "The video captures a person preparing a meal in a bright home kitchen. Wearing a striped apron, "
    "the cook chops fresh vegetables on a wooden cutting board and slides them into a sizzling pan on "
    "the stove. Steam rises as the ingredients are stirred with a wooden spoon, and the camera cuts to "
    "close-ups of a simmering tomato sauce. The scene ends with the finished dish being plated, "
    "garnished with herbs and carried to a table by the window."
)

DEFECT_MEANING = {
    "hallucinated_repeat": "one fluent refined_caption about a cook in a kitchen (nothing like the videos), repeated verbatim",
    "exact_duplicate": "refined_caption copied verbatim from an earlier row of another video",
    "near_duplicate": "refined_caption copied from an earlier row of another video with a small edit (word swap / punctuation)",
    "non_english": "text in Spanish, French or German (a faithful translation of what the clip shows)",
    "too_short": "text under 8 words (LVD-2M) / 1-2 words (YouDescribe)",
    "too_long": "refined_caption over 300 words",
    "broken_span": "span does not parse as a list of two HH:MM:SS.mmm timestamps",
    "inverted_span": "span end is before span start",
    "ragged_row": "CSV record with more or fewer fields than the header",
    "bad_number": "video_time is not a number (`unknown`)",
    "long_clip": "NOT a defect: clip of 20 s or more (keep it; the official downloader wrongly drops these)",
    "low_motion": "NOT a defect: only still shapes, `total score` below 20",
    "blank_status": "NOT a defect of the text: videos_youtube_status is blank (as in about 30% of YuWA rows)",
    "unsorted_clips": "the rows of this audio description are not in start_time order (every row of the description is listed)",
    "stt_noise": "light speech-to-text noise: one filler (um/uh) or a repeated word; the text is still true",
    "bad_playback_type": "playback_type is `sideways` (neither inline nor extended)",
    "empty_transcript": "audio clip whose transcript list is empty (no text)",
    "cross_format_duplicate": "the same audio description (same ids, times and text) also appears in the YuWA CSV; every clip of the API copy is listed",
}
NOT_DEFECTS = {"long_clip", "low_motion", "blank_status", "stt_noise"}
# What the pipeline is expected to do with such a record.
EXPECTED = {
    "hallucinated_repeat": "reject (repeated caption)",
    "exact_duplicate": "reject the copy, keep its source",
    "near_duplicate": "reject the copy, keep its source",
    "non_english": "reject (language)",
    "too_short": "reject (word count)",
    "too_long": "reject (word count)",
    "broken_span": "quarantine (`bad_span`)",
    "inverted_span": "reject (clip times)",
    "ragged_row": "quarantine (`ragged_row`)",
    "bad_number": "quarantine (`bad_number`)",
    "bad_playback_type": "quarantine (`bad_playback_type`)",
    "empty_transcript": "no example from this clip (no text)",
    "cross_format_duplicate": "drop the API copy, keep the CSV one",
    "unsorted_clips": "keep; order clips by start_time",
    "blank_status": "keep (status is \"\")",
    "stt_noise": "keep",
    "long_clip": "keep",
    "low_motion": "keep",
}


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


def _sign_font(size: int = 16):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


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


# --------------------------------------------------------------------------------------
# Rendering and encoding
# --------------------------------------------------------------------------------------


def render_frames(scene: dict):
    """Yield RGB uint8 arrays (H, W, 3), one per frame."""
    from PIL import Image, ImageDraw

    bg = np.zeros((H, W, 3), np.uint8)
    bg[:] = scene["background_rgb"]
    sign = scene["sign"]
    sign_patch = None
    if sign is not None:
        x0, y0, x1, y1 = sign["box"]
        board = Image.new("RGB", (x1 - x0, y1 - y0), tuple(sign["board_rgb"]))
        draw = ImageDraw.Draw(board)
        draw.rectangle([0, 0, x1 - x0 - 1, y1 - y0 - 1], outline=(90, 90, 90))
        draw.text(((x1 - x0) / 2, (y1 - y0) / 2), sign["word"], font=_sign_font(16),
                  fill=tuple(sign["text_rgb"]), anchor="mm")
        sign_patch = np.asarray(board)
    for i in range(scene["n_frames"]):
        t = i / scene["fps"]
        frame = bg.copy()
        if sign_patch is not None and t >= sign["appear_s"] - 1e-9:
            x0, y0, x1, y1 = sign["box"]
            frame[y0:y1, x0:x1] = sign_patch
        img = Image.fromarray(frame)
        draw_shapes(ImageDraw.Draw(img), scene, t, lambda _k, s: PALETTE[shape_colour_at(s, t)])
        yield np.asarray(img)


def draw_shapes(draw, scene: dict, t: float, fill) -> None:
    """Draw the shapes visible at time t, in scene order (later ones on top); fill(index, shape) -> fill value."""
    for k, s in enumerate(scene["shapes"]):
        if not shape_visible(s, t):
            continue
        x, y = shape_xy(s, t, scene["duration_s"])
        x, y = int(np.rint(x)), int(np.rint(y))
        r = s["radius_px"]
        value = fill(k, s)
        if s["kind"] == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=value)
        elif s["kind"] == "square":
            h = int(round(r * 0.85))
            draw.rectangle([x - h, y - h, x + h, y + h], fill=value)
        else:
            draw.regular_polygon((x, y, r), 3, fill=value)


def label_map(scene: dict, t: float) -> np.ndarray:
    """What every pixel of the frame at time t shows: 0 background, 1 the sign, 2 + k shape k of scene["shapes"].

    Same geometry as render_frames (for training a vision tower with dense labels: train/tiny_tower.py).
    """
    from PIL import Image, ImageDraw

    img = Image.new("L", (scene["width"], scene["height"]), 0)
    draw = ImageDraw.Draw(img)
    sign = scene["sign"]
    if sign is not None and t >= sign["appear_s"] - 1e-9:
        x0, y0, x1, y1 = sign["box"]
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=1)
    draw_shapes(draw, scene, t, lambda k, _s: 2 + k)
    return np.asarray(img)


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range RGB -> planar yuv420p (as one (H*3/2, W) array). Pure numpy: exact."""
    a = rgb.astype(np.float64)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0

    def sub(p):
        return p.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))

    yy = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    uu = np.clip(np.rint(sub(cb)), 0, 255).astype(np.uint8).reshape(H // 4, W)
    vv = np.clip(np.rint(sub(cr)), 0, 255).astype(np.uint8).reshape(H // 4, W)
    return np.concatenate([yy, uu, vv], axis=0)


def encode_video(scene: dict, path: Path) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".mp4.tmp")
    with av.open(str(tmp), "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        # bframes=0: x264's B-frame/mbtree analysis reads uninitialised memory, which makes the
        # output depend on the heap's history; without B-frames the bytes are reproducible.
        stream = container.add_stream(
            "libx264", rate=scene["fps"],
            options={"crf": "30", "preset": "medium", "flags": "+bitexact",
                     "x264-params": "threads=1:bframes=0"},
        )
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.codec_context.thread_type = "NONE"
        frames = [rgb_to_yuv420p(f) for f in render_frames(scene)]  # kept alive while encoding
        for i, planes in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)


# --------------------------------------------------------------------------------------
# Facts about a time window of a scene
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# English text: phrases
# --------------------------------------------------------------------------------------


def time_phrase(rng, rel: float) -> str:
    if rel < 1.0:
        return pick(rng, ["within the first second", "almost immediately", "a moment after the start"])
    n = int(round(rel))
    unit = "second" if n == 1 else "seconds"
    opts = [f"after about {n} {unit}", f"roughly {n} {unit} in", f"around the {n}-second mark"]
    return pick(rng, opts)


def speed_adverb(rng, v: ShapeView) -> str:
    if v.speed < 5:
        return "slowly "
    if v.speed > 14:
        return pick(rng, ["quickly ", "rapidly "])
    return pick(rng, ["", "steadily ", "smoothly "])


def motion_vp(rng, v: ShapeView) -> str:
    """Verb phrase, third person singular present, true over the shape's visible part of the window."""
    sx, sy = v.start_xy
    ex, ey = v.end_xy
    if v.motion == "still":
        reg = region_phrase(sx, sy)
        return pick(rng, [f"stays still {reg}", f"remains motionless {reg}", f"sits {reg} without moving",
                          f"does not move from its spot {reg}"])
    spd = speed_adverb(rng, v)
    if v.motion in ("left_to_right", "right_to_left"):
        a, b = ("left", "right") if v.motion == "left_to_right" else ("right", "left")
        opts = [f"moves {spd}from {a} to {b}", f"glides {spd}toward the {b}", f"slides {spd}across the frame from {a} to {b}",
                f"travels {spd}in a straight line toward the {b} side"]
        if hpos(sx) != hpos(ex):
            opts.append(f"travels from the {HSIDE[hpos(sx)]} to the {HSIDE[hpos(ex)]} of the frame")
        return pick(rng, opts)
    if v.motion == "up":
        opts = [f"rises {spd}toward the top", f"moves {spd}upward", f"drifts {spd}upward"]
        if vpos(sy) != vpos(ey):
            opts.append(f"climbs from the {VSIDE[vpos(sy)]} to the {VSIDE[vpos(ey)]} of the frame")
        return pick(rng, opts)
    if v.motion == "down":
        opts = [f"sinks {spd}toward the bottom", f"moves {spd}downward", f"drifts {spd}down the frame"]
        if vpos(sy) != vpos(ey):
            opts.append(f"descends from the {VSIDE[vpos(sy)]} to the {VSIDE[vpos(ey)]} of the frame")
        return pick(rng, opts)
    reg = HREGION_PHRASE[hpos(sx)]
    if v.visible_s < (v.bounce_period or 1.0):
        return f"begins to bounce up and down {reg}"
    if v.visible_s >= 2 * (v.bounce_period or 1.0):
        return pick(rng, [f"bounces up and down {reg}", f"keeps bouncing up and down {reg}",
                          f"hops up and down repeatedly {reg}"])
    return pick(rng, [f"bounces up and down {reg}", f"hops up and down {reg}"])


def noun(v: ShapeView, colour: str | None = None, size: bool = False) -> str:
    colour = colour or v.colour0
    return article(f"{v.size} {colour} {v.kind}" if size else f"{colour} {v.kind}")


def ref(f: WindowFacts, v: ShapeView, colour: str | None = None) -> str:
    """Definite reference that is unambiguous within the window."""
    colour = colour or v.colour0
    return f"the {v.kind}" if f.kind_unique(v.kind) else f"the {colour} {v.kind}"


def breakdown(views: list[ShapeView]) -> str:
    kinds: dict[str, int] = {}
    for v in views:
        kinds[v.kind] = kinds.get(v.kind, 0) + 1
    parts = [count_phrase(n, k) if n > 1 else article(k) for k, n in kinds.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def sign_where(sv: SignView) -> str:
    return f"at the {sv.position}"


# --------------------------------------------------------------------------------------
# English text: LVD-2M refined caption (paragraph)
# --------------------------------------------------------------------------------------


def generic_sentences(f: WindowFacts) -> list[str]:
    """Sentences true of every clip of the world (flat shapes, fixed camera, no audio track)."""
    bg = f.bg
    many = len(f.shapes) > 1
    out = [
        "The camera stays completely still for the whole clip.",
        "There is no camera movement: no panning, tilting or zooming.",
        f"The {bg} background is flat and never changes colour.",
        "No people, animals or vehicles appear at any point.",
        "The shapes are drawn in solid, flat colours with no shading or texture." if many else
        "The shape is drawn in a solid, flat colour with no shading or texture.",
        "Each shape keeps the same size from start to finish." if many else
        "The shape keeps the same size from start to finish.",
        "There are no cuts or transitions; the clip is one continuous shot.",
        "The overall look is that of a simple, minimalist motion graphic.",
        "The frame is square and the composition is uncluttered.",
        "Nothing in the scene casts a shadow.",
        "The lighting is even across the whole frame.",
        f"The edges of the {'shapes' if many else 'shape'} are sharp against the {bg} backdrop.",
        "The scene looks computer-generated rather than filmed.",
        "Every shape stays fully inside the frame." if many else "The shape stays fully inside the frame.",
        "The background fills the entire frame from edge to edge.",
        "There is no soundtrack, dialogue or narration.",
    ]
    if len(f.shapes) > 1:
        out.append("The shapes never touch or overlap one another.")
    if f.sign is None:
        out.append("No text, logos or subtitles appear on screen.")
    else:
        out.append("Apart from the word on the sign, no text or logos appear.")
    return out


def opening_sentence(rng, f: WindowFacts) -> str:
    bg = f.bg
    n = f.n_end()
    opts = [
        f"The video shows a simple animation on a plain {bg} background.",
        f"This short clip presents flat geometric shapes against a solid {bg} backdrop.",
        f"The video captures a minimalist animated scene set on a {bg} background.",
        f"Set against a uniform {bg} background, the clip shows {NUMBER_WORDS[n]} simple shape{'s' if n > 1 else ''}.",
    ]
    return pick(rng, opts)


def shape_sentences(rng, f: WindowFacts, v: ShapeView) -> list[str]:
    out = []
    vp = motion_vp(rng, v)
    if v.appears_rel is None:
        nn = noun(v, size=chance(rng, 0.6))
        out.append(pick(rng, [
            f"{cap(nn)} {vp}.",
            f"On the {f.bg} background, {nn} {vp}.",
            f"There is {nn} that {vp}.",
            f"From the start, {nn} {vp}.",
        ]))
    else:
        nn = noun(v, size=chance(rng, 0.5))
        tp = time_phrase(rng, v.appears_rel)
        where = region_phrase(*v.start_xy)
        out.append(pick(rng, [
            f"{cap(tp)}, {nn} appears {where} and {vp}.",
            f"{cap(tp)}, {nn} pops into view {where}; it then {vp}.",
            f"{cap(nn)} appears {where} {tp} and {vp}.",
        ]))
    if v.change is not None:
        rel, c1, c2 = v.change
        r = ref(f, v, c1)
        tp = time_phrase(rng, rel)
        opts = [
            f"{cap(tp)}, {r} changes colour from {c1} to {c2}.",
            f"{cap(r)} then turns from {c1} to {c2}, {tp}.",
        ]
        if 0.3 <= rel / f.length <= 0.7:
            opts.append(f"Partway through, {r} switches from {c1} to {c2}.")
        if f.kind_unique(v.kind):
            opts.append(f"Its colour later changes to {c2} ({tp}).")
        out.append(pick(rng, opts))
    return out


def sign_sentence(rng, f: WindowFacts) -> str:
    s = f.sign
    where = sign_where(s)
    if s.appears_rel is None:
        return pick(rng, [
            f"A pale sign {where} of the frame reads \"{s.word}\".",
            f"{cap(where)} of the frame, a light rectangular sign shows the word {s.word} in dark letters.",
            f"A white sign with the word \"{s.word}\" is displayed {where}.",
        ])
    tp = time_phrase(rng, s.appears_rel)
    return pick(rng, [
        f"{cap(tp)}, a sign with the word \"{s.word}\" appears {where}.",
        f"A light sign reading {s.word} shows up {where} {tp}.",
    ])


def count_sentence(rng, f: WindowFacts) -> str:
    a, b = f.n_start(), f.n_end()
    if a == b:
        if b == 1:
            return pick(rng, ["Only one shape is visible throughout.", "No other shape appears in the clip."])
        return pick(rng, [
            f"{cap(NUMBER_WORDS[b])} shapes are visible throughout the clip.",
            f"In total there are {NUMBER_WORDS[b]} shapes: {breakdown(f.shapes)}.",
        ])
    if a == 0:
        return f"At first no shape is visible, but by the end there {'is' if b == 1 else 'are'} {NUMBER_WORDS[b]}."
    return pick(rng, [
        f"The clip starts with {NUMBER_WORDS[a]} shape{'s' if a > 1 else ''} and ends with {NUMBER_WORDS[b]}.",
        f"By the end, {NUMBER_WORDS[b]} shapes are on screen: {breakdown(f.shapes)}.",
        f"At first only {NUMBER_WORDS[a]} shape{'s are' if a > 1 else ' is'} visible, but by the end there are {NUMBER_WORDS[b]}.",
    ])


def words(text: str) -> int:
    return len(text.split())


def refined_caption(rng, f: WindowFacts, lo: int = 45, hi: int = 110) -> str:
    core = [opening_sentence(rng, f)]
    sign_first = f.sign is not None and f.sign.appears_rel is None and chance(rng, 0.5)
    if sign_first:
        core.append(sign_sentence(rng, f))
    for v in f.shapes:
        core.extend(shape_sentences(rng, f, v))
    if f.sign is not None and not sign_first:
        core.append(sign_sentence(rng, f))
    core.append(count_sentence(rng, f))
    fillers = generic_sentences(f)
    order = rng.permutation(len(fillers))
    target = int(rng.integers(max(lo, 50), 96))
    text = " ".join(core)
    extra = []
    for k in order:
        if words(text) + sum(words(e) for e in extra) >= target:
            break
        extra.append(fillers[int(k)])
    text = " ".join(core + extra)
    while words(text) > hi and extra:
        extra.pop()
        text = " ".join(core + extra)
    return text


def too_long_caption(rng, f: WindowFacts) -> str:
    """A truthful but rambling caption of more than 300 words."""
    parts = [opening_sentence(rng, f)]
    for v in f.shapes:
        parts.extend(shape_sentences(rng, f, v))
    if f.sign is not None:
        parts.append(sign_sentence(rng, f))
    parts.append(count_sentence(rng, f))
    parts.extend(generic_sentences(f))
    parts.append(llava_paragraph(rng, f))
    parts.extend([
        f"Looking more closely, the {f.bg} backdrop is perfectly uniform, without gradients, grain or vignetting, "
        "so the eye is drawn straight to the coloured forms.",
        "Because nothing else competes for attention, even small changes in position or colour are easy to follow.",
        "The animation proceeds at an even pace, and no element speeds up, slows down or changes size unexpectedly.",
        "From a technical point of view, the clip resembles a test pattern or a teaching aid that demonstrates "
        "motion, counting and colour recognition.",
        "A viewer could describe every frame precisely, since the scene contains only a handful of clearly separated elements.",
        "In summary, this is a short, calm and highly legible piece of motion design with a fixed viewpoint and a "
        "restrained colour palette.",
        "Such a clip is well suited to checking whether a description model can report positions, directions, counts "
        "and colours accurately.",
    ])
    text = " ".join(parts)
    assert words(text) > 300, words(text)
    return text


def too_short_caption(rng, f: WindowFacts) -> str:
    v = f.shapes[0]
    if v.motion == "still":
        verb = "stays still"
    elif v.motion == "bounce":
        verb = "bounces"
    else:
        verb = {"left_to_right": "moves right", "right_to_left": "moves left", "up": "moves up", "down": "moves down"}[v.motion]
    return pick(rng, [f"{cap(noun(v))} {verb}.", f"{cap(noun(v))} on {f.bg}.", f"Simple shapes on a {f.bg} background."])


# --------------------------------------------------------------------------------------
# English text: LLaVA-style raw caption, short prompt, alt text
# --------------------------------------------------------------------------------------


def llava_paragraph(rng, f: WindowFacts) -> str:
    out = [pick(rng, [
        f"The video shows an animated scene with a {f.bg} background.",
        f"In the video, we see a plain {f.bg} background with simple geometric shapes.",
        f"The image sequence shows a computer-generated animation on a {f.bg} background.",
    ])]
    for v in f.shapes:
        # still and bouncing shapes already say where they are in their verb phrase
        where = "" if v.motion in ("still", "bounce") else " " + region_phrase(*v.start_xy)
        if v.appears_rel is None:
            out.append(f"There is {noun(v)}{where}, which {motion_vp(rng, v)}.")
        else:
            when = "Shortly after the start" if v.appears_rel < 1.5 else pick(rng, ["Later in the video", "After a few seconds"])
            out.append(f"{when}, {noun(v)} appears{where} and {motion_vp(rng, v)}.")
        if v.change is not None:
            _, c1, c2 = v.change
            out.append(f"The {c1} {v.kind} changes its color to {c2}.")
    if f.sign is not None:
        s = f.sign
        lead = "There is also a sign" if s.appears_rel is None else "At one point, a sign appears"
        out.append(f"{lead} at the {s.position} of the frame with the word \"{s.word}\" written on it in black letters.")
    out.append(pick(rng, [
        "The overall style of the video is simple and minimalistic.",
        "The animation appears to be computer-generated, with no people or other objects present.",
        "The shapes are brightly colored and stand out clearly against the background.",
    ]))
    return " ".join(out)


def raw_caption(rng, scene: dict, t0: float, t1: float, window_s: float = 30.0) -> str:
    if t1 - t0 <= window_s:
        return llava_paragraph(rng, window_facts(scene, t0, t1))
    parts = []
    k = 0
    while t0 + k * window_s < t1 - 1e-9:
        a = t0 + k * window_s
        b = min(t0 + (k + 1) * window_s, t1)
        parts.append(f"Caption {k + 1}: {llava_paragraph(rng, window_facts(scene, a, b))}")
        k += 1
    return " ".join(parts)


def short_vp(rng, v: ShapeView) -> str:
    return {
        "left_to_right": pick(rng, ["gliding left to right", "sliding to the right", "moving rightward"]),
        "right_to_left": pick(rng, ["gliding right to left", "sliding to the left", "moving leftward"]),
        "up": pick(rng, ["rising upward", "floating up"]),
        "down": pick(rng, ["sinking downward", "drifting down"]),
        "bounce": pick(rng, ["bouncing up and down", "hopping in place"]),
        "still": pick(rng, ["standing still", "resting motionless"]),
    }[v.motion]


def rewritten_caption(rng, f: WindowFacts) -> str:
    v = f.shapes[0]
    first = f"{cap(noun(v))} {short_vp(rng, v)}"
    tail = pick(rng, [f" on a plain {f.bg} screen", f" against a {f.bg} backdrop", f" over a flat {f.bg} background"])
    extra = ""
    if len(f.shapes) > 1:
        w = f.shapes[1]
        extra = f", and {noun(w)} {short_vp(rng, w)}" + (" after it appears" if w.appears_rel is not None else "")
    sign = ""
    if f.sign is not None:
        sign = f", with a sign reading {f.sign.word} at the {f.sign.position}"
    change = ""
    for s in f.shapes[:2]:
        if s.change is not None:
            change = f"; the {s.change[1]} {s.kind} turns {s.change[2]}"
            break
    return f"{first}{tail}{extra}{sign}{change}."


def orig_caption(rng, f: WindowFacts) -> str:
    v = f.shapes[0]
    mv = {"left_to_right": "moving right", "right_to_left": "moving left", "up": "moving up", "down": "moving down",
          "bounce": "bouncing", "still": "still"}[v.motion]
    opts = [f"{v.colour0} {v.kind} {mv} on {f.bg} background",
            f"animated {v.colour0} {v.kind} on {f.bg}",
            f"{breakdown(f.shapes)} on a {f.bg} background"]
    if f.sign is not None:
        opts.append(f"{f.sign.word} sign and {breakdown(f.shapes)}")
    if v.change is not None:
        opts.append(f"{v.kind} changing from {v.change[1]} to {v.change[2]}")
    return pick(rng, opts)


# --------------------------------------------------------------------------------------
# Non-English captions (faithful translations)
# --------------------------------------------------------------------------------------

ES = {
    "colour": {"red": "rojo", "green": "verde", "blue": "azul", "yellow": "amarillo", "white": "blanco",
               "orange": "naranja", "purple": "morado"},
    "bg": {"black": "negro", "dark gray": "gris oscuro", "navy blue": "azul marino", "dark green": "verde oscuro",
           "brown": "marrón"},
    "kind": {"circle": "círculo", "square": "cuadrado", "triangle": "triángulo"},
    "size": {"small": "pequeño", "medium-sized": "mediano", "large": "grande"},
    "motion": {"left_to_right": "se desplaza de izquierda a derecha", "right_to_left": "se desplaza de derecha a izquierda",
               "up": "sube hacia la parte superior", "down": "baja hacia la parte inferior",
               "bounce": "rebota arriba y abajo", "still": "permanece inmóvil en su sitio"},
}
FR = {
    "colour": {"red": "rouge", "green": "vert", "blue": "bleu", "yellow": "jaune", "white": "blanc",
               "orange": "orange", "purple": "violet"},
    "bg": {"black": "noir", "dark gray": "gris foncé", "navy blue": "bleu marine", "dark green": "vert foncé",
           "brown": "marron"},
    "kind": {"circle": "cercle", "square": "carré", "triangle": "triangle"},
    "motion": {"left_to_right": "se déplace de gauche à droite", "right_to_left": "se déplace de droite à gauche",
               "up": "monte vers le haut de l'image", "down": "descend vers le bas de l'image",
               "bounce": "rebondit de haut en bas", "still": "reste immobile à sa place"},
}
DE = {
    "stem": {"red": "rot", "green": "grün", "blue": "blau", "yellow": "gelb", "white": "weiß",
             "orange": "orangefarben", "purple": "violett"},
    "noun": {"red": "Rot", "green": "Grün", "blue": "Blau", "yellow": "Gelb", "white": "Weiß",
             "orange": "Orange", "purple": "Violett"},
    "bg_dat": {"black": "schwarzen", "dark gray": "dunkelgrauen", "navy blue": "marineblauen",
               "dark green": "dunkelgrünen", "brown": "braunen"},
    "kind": {"circle": ("Kreis", "m"), "square": ("Quadrat", "n"), "triangle": ("Dreieck", "n")},
    "size": {"small": "klein", "medium-sized": "mittelgroß", "large": "groß"},
    "motion": {"left_to_right": "bewegt sich von links nach rechts", "right_to_left": "bewegt sich von rechts nach links",
               "up": "steigt nach oben", "down": "sinkt nach unten", "bounce": "hüpft auf und ab",
               "still": "bleibt unbewegt an seinem Platz"},
}


def _es_noun(v: ShapeView, colour: str | None = None) -> str:
    return f"un {ES['kind'][v.kind]} {ES['colour'][colour or v.colour0]} {ES['size'][v.size]}"


def _fr_noun(v: ShapeView, colour: str | None = None) -> str:
    c = FR["colour"][colour or v.colour0]
    k = FR["kind"][v.kind]
    return {"small": f"un petit {k} {c}", "medium-sized": f"un {k} {c} de taille moyenne", "large": f"un grand {k} {c}"}[v.size]


def _de_noun(v: ShapeView, colour: str | None = None, definite: bool = False) -> str:
    k, g = DE["kind"][v.kind]
    c = DE["stem"][colour or v.colour0]
    if definite:
        return f"{'der' if g == 'm' else 'das'} {c}e {k}"
    end = "er" if g == "m" else "es"
    return f"ein {DE['size'][v.size]}{end} {c}{end} {k}"


def foreign_caption(rng, f: WindowFacts, lang: str) -> str:
    out = []
    if lang == "es":
        out.append(f"El vídeo muestra una animación sencilla sobre un fondo {ES['bg'][f.bg]}.")
        for v in f.shapes:
            if v.appears_rel is None:
                out.append(f"{cap(_es_noun(v))} {ES['motion'][v.motion]}.")
            else:
                n = int(round(v.appears_rel))
                when = "Casi de inmediato" if v.appears_rel < 1 else f"Después de unos {n} segundo{'s' if n != 1 else ''}"
                out.append(f"{when} aparece {_es_noun(v)}, que {ES['motion'][v.motion]}.")
            if v.change is not None:
                out.append(f"Más tarde, el {ES['kind'][v.kind]} {ES['colour'][v.change[1]]} cambia de color y se vuelve "
                           f"{ES['colour'][v.change[2]]}.")
        if f.sign is not None:
            part = "superior" if f.sign.position == "top" else "inferior"
            out.append(f"En la parte {part} de la imagen hay un cartel claro con la palabra {f.sign.word}.")
        out.append("La cámara permanece fija y el fondo no cambia en ningún momento. "
                   "No aparecen personas ni otros objetos, solo figuras geométricas de colores planos.")
    elif lang == "fr":
        out.append(f"La vidéo montre une animation simple sur un fond {FR['bg'][f.bg]}.")
        for v in f.shapes:
            if v.appears_rel is None:
                out.append(f"{cap(_fr_noun(v))} {FR['motion'][v.motion]}.")
            else:
                n = int(round(v.appears_rel))
                when = "Presque aussitôt" if v.appears_rel < 1 else f"Après environ {n} seconde{'s' if n != 1 else ''}"
                out.append(f"{when}, {_fr_noun(v)} apparaît et {FR['motion'][v.motion]}.")
            if v.change is not None:
                out.append(f"Ensuite, le {FR['kind'][v.kind]} {FR['colour'][v.change[1]]} change de couleur et devient "
                           f"{FR['colour'][v.change[2]]}.")
        if f.sign is not None:
            part = "En haut" if f.sign.position == "top" else "En bas"
            out.append(f"{part} de l'image, un panneau clair affiche le mot {f.sign.word}.")
        out.append("La caméra reste fixe et le fond ne change jamais. "
                   "Aucune personne ni aucun autre objet n'apparaît, seulement des formes géométriques aux couleurs unies.")
    else:
        out.append(f"Das Video zeigt eine einfache Animation vor einem {DE['bg_dat'][f.bg]} Hintergrund.")
        for v in f.shapes:
            if v.appears_rel is None:
                out.append(f"{cap(_de_noun(v))} {DE['motion'][v.motion]}.")
            else:
                n = int(round(v.appears_rel))
                when = "Fast sofort" if v.appears_rel < 1 else f"Nach etwa {n} Sekunde{'n' if n != 1 else ''}"
                out.append(f"{when} erscheint {_de_noun(v)}; es {DE['motion'][v.motion]}."
                           if DE["kind"][v.kind][1] == "n" else
                           f"{when} erscheint {_de_noun(v)}; er {DE['motion'][v.motion]}.")
            if v.change is not None:
                out.append(f"Danach wechselt {_de_noun(v, v.change[1], definite=True)} die Farbe von "
                           f"{DE['noun'][v.change[1]]} zu {DE['noun'][v.change[2]]}.")
        if f.sign is not None:
            part = "Oben" if f.sign.position == "top" else "Unten"
            out.append(f"{part} im Bild ist ein helles Schild mit dem Wort {f.sign.word} zu sehen.")
        out.append("Die Kamera bleibt unbewegt, und der Hintergrund verändert sich nicht. "
                   "Es sind keine Personen oder anderen Gegenstände zu sehen, nur einfarbige geometrische Formen.")
    return " ".join(out)


# --------------------------------------------------------------------------------------
# English text: moments (YouDescribe clips, WebVTT cues)
# --------------------------------------------------------------------------------------


def moment_text(rng, scene: dict, kind: str, shape_idx: int | None, t: float) -> str:
    """What a describer says at time t (seconds into the video) about an event just seen.

    kind: intro (the scene as it is at t) | appear | colour | sign.
    """
    f = window_facts(scene, t, t + 1.0 / scene["fps"])
    duration = scene["duration_s"]
    views = {v.idx: v for v in f.shapes}
    bg = scene["background"]

    def here(i):
        s = scene["shapes"][i]
        x, y = shape_xy(s, t, duration)
        return region_phrase(float(x), float(y))

    def what(i):
        s = scene["shapes"][i]
        return article(f"{shape_colour_at(s, t)} {s['kind']}")

    def verb(i):
        return {"left_to_right": "moving to the right", "right_to_left": "moving to the left", "up": "moving up",
                "down": "moving down", "bounce": "bouncing up and down", "still": "standing still"}[scene["shapes"][i]["motion"]]

    if kind == "intro":
        idxs = [v.idx for v in f.shapes]
        if len(idxs) == 1:
            i = idxs[0]
            text = pick(rng, [
                f"On a {bg} background, {what(i)} is {verb(i)} {here(i)}.",
                f"{cap(what(i))} {here(i)}, against a plain {bg} background. It is {verb(i)}.",
                f"A {bg} screen with {what(i)} {here(i)}, {verb(i)}.",
            ])
        else:
            items = [f"{what(i)} {here(i)}" for i in idxs]
            listing = ", ".join(items[:-1]) + " and " + items[-1]
            text = pick(rng, [
                f"On a {bg} background, there are {NUMBER_WORDS[len(idxs)]} shapes: {listing}.",
                f"{cap(NUMBER_WORDS[len(idxs)])} shapes on a plain {bg} background: {listing}.",
            ])
        if f.sign is not None:
            text += f" A sign at the {f.sign.position} reads {f.sign.word}."
        return text
    if kind == "appear":
        i = shape_idx
        text = pick(rng, [
            f"{cap(what(i))} appears {here(i)}.",
            f"Now {what(i)} shows up {here(i)}.",
            f"{cap(what(i))} pops up {here(i)}.",
        ])
        text += " " + pick(rng, [f"It is {verb(i)}.", f"It starts {verb(i)}."] if scene["shapes"][i]["motion"] != "still"
                           else ["It stays where it is.", "It does not move."])
        n = len(f.shapes)
        if n > 1 and chance(rng, 0.6):
            text += f" There are now {NUMBER_WORDS[n]} shapes."
        return text
    if kind == "colour":
        i = shape_idx
        s = scene["shapes"][i]
        c1, c2 = s["colour"], s["colour_change"]["to"]
        same_kind = sum(1 for v in f.shapes if v.kind == s["kind"]) == 1
        who = f"The {s['kind']}" if same_kind and chance(rng, 0.5) else f"The {c1} {s['kind']}"
        text = pick(rng, [
            f"{who} turns {c2}.",
            f"{who} changes color from {c1} to {c2}.",
            f"{who} changes to {c2}. It is now {article(c2 + ' ' + s['kind'])}.",
        ])
        follow = (pick(rng, [f"It is still {verb(i)} {here(i)}.", f"It keeps {verb(i)}."]) if s["motion"] != "still"
                  else pick(rng, [f"It stays {here(i)}.", f"It has not moved from its place {here(i)}."]))
        return text + " " + follow
    sign = scene["sign"]
    return pick(rng, [
        f"A sign appears at the {sign['position']}. It reads {sign['word']}.",
        f"A light sign with the word {sign['word']} pops up at the {sign['position']}.",
        f"Text appears on a white sign at the {sign['position']}: {sign['word']}.",
    ])


def foreign_moment(scene: dict, kind: str, shape_idx: int | None, t: float, lang: str) -> str:
    bg = scene["background"]
    if kind in ("intro", "appear"):
        f = window_facts(scene, t, t + 1.0 / scene["fps"])
        v = next(v for v in f.shapes if shape_idx is None or v.idx == shape_idx)
        if lang == "es":
            return (f" {'Aparece' if kind == 'appear' else 'Se ve'} {_es_noun(v)} sobre un fondo {ES['bg'][bg]}; "
                    f"el {ES['kind'][v.kind]} {ES['motion'][v.motion]}.")
        return (f" On voit {_fr_noun(v)} sur un fond {FR['bg'][bg]} ; "
                f"le {FR['kind'][v.kind]} {FR['motion'][v.motion]}.")
    if kind == "colour":
        s = scene["shapes"][shape_idx]
        if lang == "es":
            return (f" El {ES['kind'][s['kind']]} {ES['colour'][s['colour']]} cambia de color y ahora es "
                    f"{ES['colour'][s['colour_change']['to']]}.")
        return (f" Le {FR['kind'][s['kind']]} {FR['colour'][s['colour']]} change de couleur et devient "
                f"{FR['colour'][s['colour_change']['to']]}.")
    sign = scene["sign"]
    if lang == "es":
        return f" Aparece un cartel claro en la parte {'superior' if sign['position'] == 'top' else 'inferior'} con la palabra {sign['word']}."
    return f" Un panneau clair apparaît en {'haut' if sign['position'] == 'top' else 'bas'} de l'image avec le mot {sign['word']}."


FILLERS = ("um", "uh")


def add_stt_noise(rng, text: str) -> str:
    """One filler word or one repeated word; the filler share stays at or under 1/8."""
    toks = text.split(" ")
    lead = toks[0] == ""
    body = toks[1:] if lead else toks
    if len(body) >= 8 and chance(rng, 0.6):
        pos = int(rng.integers(1, len(body)))
        body.insert(pos, pick(rng, FILLERS) + ("," if chance(rng, 0.3) else ""))
    else:
        pos = int(rng.integers(0, len(body) - 1))
        word = body[pos].rstrip(".,;:").lower() if pos else body[pos].rstrip(".,;:")
        body.insert(pos + 1, word)
    return (" " if lead else "") + " ".join(body)


def stt_lower(text: str) -> str:
    """The newer YuWA style: no leading space, lower case, no final full stop."""
    sentences = [p.strip().rstrip(".") for p in text.strip().split(". ")]
    return " ".join(p[:1].lower() + p[1:] for p in sentences if p)


# --------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------


def fmt_ts(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{(ms // 60000) % 60:02d}:{(ms // 1000) % 60:02d}.{ms % 1000:03d}"


def fmt_span(a: float, b: float) -> str:
    return f"['{fmt_ts(a)}', '{fmt_ts(b)}']"


def parse_span(text: str) -> tuple[float, float]:
    """Inverse of fmt_span (for well-formed spans only)."""
    (h1, m1, s1), (h2, m2, s2) = re.findall(r"'(\d+):(\d+):(\d+(?:\.\d+)?)'", text)
    return int(h1) * 3600 + int(m1) * 60 + float(s1), int(h2) * 3600 + int(m2) * 60 + float(s2)


def fmt_float(x: float, nd: int = 3) -> str:
    return repr(round(float(x), nd))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def object_id(ts: int, machine: int, counter: int) -> str:
    return f"{ts & 0xFFFFFFFF:08x}{machine & 0xFFFFFFFFFF:010x}{counter & 0xFFFFFF:06x}"


# --------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------


class World:
    def __init__(self, seed: int):
        self.seed = seed
        self.scenes: dict[str, dict] = {}
        self.used_in: dict[str, list[str]] = {}
        self.defects: list[dict] = []
        self.record_counts: dict[str, int] = {}
        self.clean_words: list[int] = []
        self.n_unsorted = 0
        taken: set[str] = set()
        rng = sub_rng(seed, "video-ids")
        self.lvd_main_ids = make_video_ids(rng, N_LVD_MAIN_VIDEOS, taken)
        self.hdvg_ids = make_video_ids(rng, N_HDVG_VIDEOS, taken)
        self.yuwa_ids = make_video_ids(rng, N_YUWA_VIDEOS, taken)
        self.api_only_ids = make_video_ids(rng, N_API_ONLY_VIDEOS, taken)
        # WebVTT file names are split at the first "_" to get the video id: no "_" in these ids.
        self.vtt_ids = make_video_ids(rng, N_VTT_VIDEOS, taken, alphabet=ID_ALPHABET.replace("_", ""))

    def add_scene(self, scene: dict, used_in: str) -> dict:
        self.scenes[scene["video_id"]] = scene
        self.used_in.setdefault(scene["video_id"], []).append(used_in)
        return scene

    def defect(self, source: str, raw_file: str, raw_row: int, key: str, defect: str) -> None:
        self.defects.append({"source": source, "raw_file": raw_file, "raw_row": raw_row, "key": key, "defect": defect})

    # ---------------------------------------------------------------- LVD-2M
    def build_lvd(self, out: Path) -> None:
        main_rows = self._lvd_clips(self.lvd_main_ids, N_LVD_MAIN_TWO_CLIPS, LONG_DURATIONS_MAIN, hdvg=False)
        hdvg_rows = self._lvd_clips(self.hdvg_ids, N_HDVG_TWO_CLIPS, LONG_DURATIONS_HDVG, hdvg=True)
        self._lvd_write(out, "lvd2m/lvd2m_sample.csv", LVD_MAIN_COLUMNS, main_rows, LVD_MAIN_DEFECTS, "main")
        self._lvd_write(out, "lvd2m/hdvg_sample.csv", HDVG_COLUMNS, hdvg_rows, HDVG_DEFECTS, "hdvg")

    def _lvd_clips(self, ids: list[str], n_two: int, long_durations, *, hdvg: bool) -> list[dict]:
        tag = "hdvg" if hdvg else "main"
        rng = sub_rng(self.seed, "lvd-plan", tag)
        n = len(ids)
        roles = ["normal"] * n
        order = list(rng.permutation(n))
        for k in range(len(long_durations)):
            roles[order[k]] = "long"
        pos = len(long_durations)
        if not hdvg:
            for k in range(N_LOW_MOTION_MAIN):
                roles[order[pos + k]] = "still"
            pos += N_LOW_MOTION_MAIN
        for k in range(n_two):
            roles[order[pos + k]] = "two"
        pos += n_two
        if not hdvg:
            n_webvid = 30
            for k in range(n_webvid):
                roles[order[pos + k]] = "webvid"
        long_iter = iter(long_durations)
        clips = []
        for i, vid in enumerate(ids):
            srng = sub_rng(self.seed, "scene", vid)
            role = roles[i]
            if role == "long":
                scene = make_scene(srng, vid, profile="long", duration_s=next(long_iter))
            elif role == "still":
                scene = make_scene(srng, vid, profile="lvd_still")
            elif role == "two":
                scene = make_scene(srng, vid, profile="lvd", duration_s=float(srng.uniform(6.5, 8.0)))
            else:
                scene = make_scene(srng, vid, profile="lvd")
            self.add_scene(scene, "lvd2m_hdvg" if hdvg else "lvd2m_main")
            crng = sub_rng(self.seed, "clip", vid)
            scene_no, first_m = int(crng.integers(0, 120)), int(crng.integers(0, 8))
            for m, window in enumerate(self._clip_windows(crng, scene, role)):
                key = f"{vid}.{scene_no}_{first_m + m}"
                clips.append(self._lvd_clip(crng, scene, window, role, hdvg, key))
        # File order: shuffled, as a release is not sorted by anything we rely on.
        perm = sub_rng(self.seed, "lvd-order", tag).permutation(len(clips))
        return [clips[int(k)] for k in perm]

    def _clip_windows(self, rng, scene: dict, role: str) -> list[tuple[float, float]]:
        fps, d = scene["fps"], scene["duration_s"]
        for _ in range(400):
            if role == "webvid":
                w = [(0.0, d)]
            elif role == "long":
                t0 = on_grid(float(rng.uniform(0.0, 1.0)), fps)
                t1 = on_grid(d - float(rng.uniform(0.0, 1.0)), fps)
                w = [(t0, t1)]
            elif role == "two":
                cut = on_grid(float(rng.uniform(3.0, d - 3.0)), fps)
                w = [(on_grid(float(rng.uniform(0.0, 0.5)), fps), cut),
                     (on_grid(cut + float(rng.uniform(0.0, 0.5)), fps), on_grid(d - float(rng.uniform(0.0, 0.5)), fps))]
            else:
                t0 = on_grid(float(rng.uniform(0.0, max(0.0, min(1.0, d - 2.5)))), fps)
                t1 = on_grid(d - float(rng.uniform(0.0, max(0.0, min(1.0, d - t0 - 2.2)))), fps)
                w = [(t0, t1)]
            ok = all(b - a >= 2.0 and window_is_clear(scene, a, b) for a, b in w)
            if role == "long":
                a, b = w[0]
                k = 1
                while a + 30.0 * k < b:
                    ok = ok and window_is_clear(scene, a + 30.0 * k, a + 30.0 * k + 0.01)
                    k += 1
                ok = ok and b - a >= 20.5
            if ok and all(window_facts(scene, a, b).shapes for a, b in w):
                return w
        raise RuntimeError(f"no clear clip window in {scene['video_id']}")

    def _lvd_clip(self, rng, scene: dict, window: tuple[float, float], role: str, hdvg: bool, key: str) -> dict:
        vid = scene["video_id"]
        t0, t1 = window
        f = window_facts(scene, t0, t1)
        if hdvg:
            src = "hdvg"
        elif role == "webvid":
            src = "webvid"
        else:
            src = pick(rng, ("panda70m", "panda70m", "panda70m", "internvid", "internvid"))
        moving = [v.speed for v in f.shapes if v.motion != "still"]
        if moving:
            score = 20.0 + 1.2 * sum(moving) + float(rng.uniform(0.5, 7.0))
        else:
            score = float(rng.uniform(3.0, 15.0))
        refined = refined_caption(rng, f)
        clip = {
            "key": key, "video_id": vid, "dataset_src": src, "t0": t0, "t1": t1, "role": role, "facts": f,
            "url": (f"https://example.invalid/webvid/{key}.mp4" if src == "webvid"
                    else f"https://www.youtube.com/watch?v={vid}"),
            "orig_caption": orig_caption(rng, f),
            "raw_caption": raw_caption(rng, scene, t0, t1),
            "refined_caption": refined,
            "prefix": chance(rng, 0.2),
            "rewritten_caption": rewritten_caption(rng, f),
            "total score": repr(round(score, 4)),
            "video_time": fmt_float(t1 - t0),
            "span": "" if src == "webvid" else fmt_span(t0, t1),
            "seed_rng": rng,
        }
        if hdvg:
            fps, d = scene["fps"], scene["duration_s"]
            os_ = on_grid(float(rng.uniform(0.0, t0)), fps) if t0 > 0 and chance(rng, 0.6) else 0.0
            to_end = chance(rng, 0.35)
            oe = t1 if to_end else on_grid(float(rng.uniform(t1, d)), fps)
            a = int(round((t0 - os_) * fps))
            b = -1 if to_end else int(round((t1 - os_) * fps))
            clip["orig_span"] = fmt_span(os_, oe)
            clip["scene_cut"] = f"[{a}, {b}]"
        return clip

    def _lvd_write(self, out: Path, rel: str, columns: list[str], clips: list[dict], targets: dict, tag: str) -> None:
        rng = sub_rng(self.seed, "lvd-defects", tag)
        raw_file = f"{REPO_PREFIX}/{rel}"
        n = len(clips)
        defect_of: dict[int, str] = {}
        sources: set[int] = set()
        for i, c in enumerate(clips):
            if c["role"] == "long":
                defect_of[i] = "long_clip"
            elif c["role"] == "still":
                defect_of[i] = "low_motion"

        def free(i, need_span=False, min_shapes=1, comma=False):
            c = clips[i]
            return (i not in defect_of and i not in sources and (not need_span or c["span"])
                    and len(c["facts"].shapes) >= min_shapes and (not comma or "," in c["refined_caption"]))

        def choose(k, need_span=False, lo=0, min_shapes=1, comma=False):
            cand = [i for i in range(lo, n) if free(i, need_span, min_shapes, comma)]
            picked = rng.choice(cand, size=k, replace=False)
            return sorted(int(p) for p in picked)

        # Order matters only for reproducibility.
        for defect in ("hallucinated_repeat", "too_long", "non_english", "too_short", "broken_span",
                       "inverted_span", "ragged_row", "bad_number"):
            k = targets.get(defect, 0)
            if not k:
                continue
            if defect in ("broken_span", "inverted_span"):
                idx = choose(k, need_span=True)
            elif defect == "too_long":
                idx = choose(k, min_shapes=2)
            elif defect == "ragged_row":
                idx = choose(k, comma=True)
            else:
                idx = choose(k)
            for i in idx:
                defect_of[i] = defect
        for defect in ("exact_duplicate", "near_duplicate"):
            k = targets.get(defect, 0)
            for i in choose(k, lo=n // 4):
                cand = [j for j in range(i) if j not in defect_of and j not in sources
                        and clips[j]["video_id"] != clips[i]["video_id"]]
                j = int(pick(rng, cand))
                sources.add(j)
                defect_of[i] = defect
                clips[i]["copy_from"] = j

        rows: list[list[str]] = []
        rows_by_index: dict[int, dict] = {}
        seen_refined: set[str] = set()
        lang_cycle = ["es", "fr", "de"]
        n_foreign = 0
        broken = ["['00:00:01.000'", "['00:00:xx', '00:00:05.000']", "['00:00:02.250', None]",
                  "['00:00:00.500' '00:00:04.000']", "['00:00:01.000', '00:00:03.000', '00:00:05.000']"]
        n_broken = 0
        n_ragged = 0
        for i, c in enumerate(clips):
            crng = c["seed_rng"]
            d = defect_of.get(i)
            refined = ("CAPTION: " if c["prefix"] else "") + c["refined_caption"]
            # Clean captions must be unique, or they would be accidental duplicates.
            tries = 0
            while d not in ("exact_duplicate", "near_duplicate", "hallucinated_repeat") and refined in seen_refined:
                tries += 1
                refined = refined_caption(sub_rng(self.seed, "recaption", c["key"], tries), c["facts"])
            span = c["span"]
            video_time = c["video_time"]
            if d == "hallucinated_repeat":
                refined = HALLUCINATION
            elif d == "exact_duplicate":
                refined = rows_by_index[c["copy_from"]]["refined_caption"]
            elif d == "near_duplicate":
                refined = near_duplicate(crng, rows_by_index[c["copy_from"]]["refined_caption"])
            elif d == "non_english":
                refined = foreign_caption(crng, c["facts"], lang_cycle[n_foreign % 3])
                n_foreign += 1
            elif d == "too_short":
                refined = too_short_caption(crng, c["facts"])
            elif d == "too_long":
                refined = too_long_caption(crng, c["facts"])
            elif d == "broken_span":
                span = broken[n_broken % len(broken)]
                n_broken += 1
            elif d == "inverted_span":
                span = fmt_span(c["t1"], c["t0"])
            elif d == "bad_number":
                video_time = "unknown"
            seen_refined.add(refined)
            if d not in ("hallucinated_repeat", "exact_duplicate", "near_duplicate", "non_english", "too_short",
                         "too_long", "ragged_row"):
                self.clean_words.append(words(refined.removeprefix("CAPTION: ")))
            values = {
                "key": c["key"], "video_id": c["video_id"], "url": c["url"], "dataset_src": c["dataset_src"],
                "orig_caption": c["orig_caption"], "raw_caption": c["raw_caption"], "refined_caption": refined,
                "rewritten_caption": c["rewritten_caption"], "total score": c["total score"],
                "video_time": video_time, "span": span,
                "orig_span": c.get("orig_span", ""), "scene_cut": c.get("scene_cut", ""),
            }
            rows_by_index[i] = values
            row = [values[col] for col in columns]
            if d == "ragged_row":
                if n_ragged == 0:
                    row = row[:-2]  # a record cut short
                else:
                    col = columns.index("refined_caption")
                    head, _, tail = row[col].partition(",")
                    row = row[:col] + [head, tail] + row[col + 1:]  # an unquoted comma: one field too many
                n_ragged += 1
            rows.append(row)
            if d is not None:
                self.defect("lvd2m", raw_file, i + 2, c["key"], d)
        write_csv(out / rel, columns, rows)
        self.record_counts[raw_file] = n
        counted = {}
        for i, d in defect_of.items():
            counted[d] = counted.get(d, 0) + 1
        for d, k in targets.items():
            assert counted.get(d, 0) == k, (rel, d, counted.get(d), k)

    def build_webvid(self, out: Path) -> None:
        """Clean WebVid clips of the whole video (no span column value, numeric ids as WebVid's)."""
        taken = set(self.scenes)
        ids = make_video_ids(sub_rng(self.seed, "webvid-ids"), N_WEBVID_VIDEOS, taken, alphabet="0123456789")
        clips = []
        for vid in ids:
            scene = self.add_scene(make_scene(sub_rng(self.seed, "scene", vid), vid, profile="lvd"), "lvd2m_webvid")
            crng = sub_rng(self.seed, "clip", vid)
            for m, window in enumerate(self._clip_windows(crng, scene, "webvid")):
                clips.append(self._lvd_clip(crng, scene, window, "webvid", False, f"{vid}.0_{m}"))
        self._lvd_write(out, "lvd2m/webvid_sample.csv", LVD_MAIN_COLUMNS, clips, {}, "webvid")

    # ---------------------------------------------------------------- YouDescribe
    def build_youdescribe(self, out: Path) -> None:
        rng = sub_rng(self.seed, "youdescribe-plan")
        for vid in self.yuwa_ids + self.api_only_ids:
            self.add_scene(make_scene(sub_rng(self.seed, "scene", vid), vid, profile="events"),
                           "youdescribe_csv" if vid in self.yuwa_ids else "youdescribe_api")
        both = [self.yuwa_ids[k] for k in sorted(int(x) for x in rng.choice(len(self.yuwa_ids), 2, replace=False))]
        for vid in both:
            self.used_in[vid].append("youdescribe_api")
        # statuses per video
        status = {}
        perm = [int(x) for x in rng.permutation(len(self.yuwa_ids))]
        for rank, k in enumerate(perm):
            vid = self.yuwa_ids[k]
            status[vid] = "" if rank < 12 else "unavailable" if rank < 20 else "available"
        for vid in both:  # the cross-format pair stays clean
            if status[vid] == "":
                swap = next(v for v in self.yuwa_ids if status[v] == "available" and v not in both)
                status[swap], status[vid] = "", "available"
        two_desc = [v for v in self.yuwa_ids if v not in both][:2]

        # descriptions
        base_ts = 1488000000  # 2017-02
        descriptions = []
        counter = int(rng.integers(0x100000, 0x800000))
        for k, vid in enumerate(self.yuwa_ids):
            for d_i in range(2 if vid in two_desc else 1):
                ts = base_ts + int(rng.integers(0, 5 * 365 * 86400))
                legacy = ts < base_ts + 200 * 86400 or (vid not in both and chance(rng, 0.1))
                descriptions.append(self._description(sub_rng(self.seed, "desc", vid, d_i), vid, ts, legacy,
                                                      status[vid], counter))
                counter += 40
        descriptions.sort(key=lambda d: d["id"])
        api_desc = {}
        for vid in self.api_only_ids:
            ts = base_ts + int(rng.integers(400 * 86400, 5 * 365 * 86400))
            api_desc[vid] = [self._description(sub_rng(self.seed, "desc", vid, 0), vid, ts, False, "available", counter)]
            counter += 40
        for d in descriptions:
            if d["video_id"] in both:
                api_desc.setdefault(d["video_id"], []).append(d)

        self._write_yuwa(out, descriptions, both, rng)
        self._write_api(out, api_desc, both)

    def _description(self, rng, vid: str, ts: int, legacy: bool, status: str, counter: int) -> dict:
        scene = self.scenes[vid]
        machine = int(rng.integers(0, 1 << 40))
        desc_id = object_id(ts, machine, counter)
        events = scene_events(scene)
        all_event_times = [e[0] for e in events]
        intro = chance(rng, 0.85) or len(events) == 1
        n_events = min(len(events), int(rng.integers(2, 5)) if intro else int(rng.integers(2, 6)))
        chosen = sorted(int(x) for x in rng.choice(len(events), n_events, replace=False))
        moments = [(float(rng.uniform(0.0, 0.4)), "intro", None)] if intro else []
        for k in chosen:
            t, kind, idx = events[k]
            moments.append((t + float(rng.uniform(0.15, 0.5)), kind, idx))
        style = "legacy" if legacy else pick(rng, ("float", "micro", "float"))
        lower = (not legacy) and chance(rng, 0.25)
        clips = []
        clip_ts = ts + int(rng.integers(60, 3000))
        legacy_name = clip_ts * 10000 + int(rng.integers(0, 10000))
        for m_i, (t, kind, idx) in enumerate(moments):
            if style == "legacy":
                start = round(t, 3)
            elif style == "micro":
                start = round(t, 6)
            else:
                start = t
            nxt = min([e for e in all_event_times if e > start] + [scene["duration_s"]])
            room = nxt - start - 0.05
            inline = room >= 1.6 and chance(rng, 0.5)
            if inline:
                dur = float(rng.uniform(1.5, min(3.5, room)))
            else:
                dur = float(rng.uniform(2.0, 5.5))
            if style == "legacy":
                dur = round(dur, 2)
                if inline and start + dur > nxt - 0.05:
                    dur = round(dur - 0.01, 2)
            elif style == "micro":
                dur = int(dur * 44100) / 44100
            else:
                dur = int(dur / 0.000256) * 0.000256 if chance(rng, 0.5) else int(dur * 44100) / 44100
            text = " " + moment_text(rng, scene, kind, idx, t)
            if lower:
                text = stt_lower(text)
            clip_ts += int(rng.integers(5, 90))
            clip_id = object_id(clip_ts, machine, counter + 1 + m_i)
            if legacy:
                file_path, file_name = "/legacy", f"{legacy_name + m_i * int(rng.integers(2000, 900000))}.wav"
            else:
                file_path, file_name = f"/current/{vid}", f"{vid}_{clip_id}.wav"
            clips.append({"id": clip_id, "start": start, "duration": dur, "inline": inline, "text": text,
                          "file_path": file_path, "file_name": file_name, "kind": kind, "shape": idx, "t": t,
                          "style": style})
        return {"id": desc_id, "video_id": vid, "status": status, "clips": clips, "legacy": legacy,
                "lower": lower, "ts": ts, "machine": machine}

    @staticmethod
    def _times(clip: dict) -> tuple[str, str, str]:
        start, dur = clip["start"], clip["duration"]
        s = repr(float(start))
        e = repr(float(start + dur)) if clip["inline"] else s
        return s, e, repr(float(dur))

    def _write_yuwa(self, out: Path, descriptions: list[dict], both: list[str], rng) -> None:
        rel = "youdescribe/yuwa_sample_world.csv"
        raw_file = f"{REPO_PREFIX}/{rel}"
        # Descriptions whose rows are not in start_time order (need >= 3 clips).
        eligible = [d for d in descriptions if len(d["clips"]) >= 3 and d["video_id"] not in both]
        unsorted = {eligible[int(k)]["id"] for k in rng.choice(len(eligible), 4, replace=False)}
        self.n_unsorted = len(unsorted)
        records = []  # (desc, clip, defects)
        for d in descriptions:
            order = list(range(len(d["clips"])))
            if d["id"] in unsorted:
                if chance(rng, 0.5):
                    order = order[1:] + order[:1]
                else:
                    order[-1], order[-2] = order[-2], order[-1]
            for k in order:
                records.append([d, d["clips"][k], []])
        # row-level defects on distinct rows outside the cross-format videos
        free = [i for i, (d, c, _) in enumerate(records) if d["video_id"] not in both]
        picks = [int(x) for x in rng.permutation(free)]
        plan = {}
        for name, k in (("non_english", 2), ("too_short", 2), ("ragged_row", 1), ("bad_playback_type", 1)):
            for _ in range(k):
                if name == "ragged_row":
                    # an unquoted comma in the transcript is what splits the record
                    i = next(j for j in picks if j not in plan and "," in records[j][1]["text"])
                else:
                    i = next(i for i in picks if i not in plan)
                plan[i] = name
        noise_cands = [i for i in picks if i not in plan]
        for i in noise_cands[:16]:
            plan.setdefault(i, "stt_noise")

        rows = []
        langs = ["es", "fr"]
        n_lang = 0
        for i, (d, c, _) in enumerate(records):
            crng = sub_rng(self.seed, "yuwa-row", c["id"])
            start, end, dur = self._times(c)
            ptype = "inline" if c["inline"] else "extended"
            text = c["text"]
            p = plan.get(i)
            scene = self.scenes[d["video_id"]]
            if p == "non_english":
                text = foreign_moment(scene, c["kind"], c["shape"], c["t"], langs[n_lang % 2])
                n_lang += 1
                c["text"] = text
            elif p == "too_short":
                text = self._too_short_moment(scene, c)
                c["text"] = text
            elif p == "stt_noise":
                text = add_stt_noise(crng, text)
                c["text"] = text
            elif p == "bad_playback_type":
                ptype = "sideways"
            row = [d["video_id"], d["id"], c["id"], d["status"], c["file_path"], c["file_name"], start, end, dur,
                   ptype, text]
            if p == "ragged_row":
                head, _, tail = text.partition(",")
                row = row[:-1] + [head, tail]
            rows.append(row)
            rr = i + 2
            if p is not None:
                self.defect("youdescribe", raw_file, rr, c["id"], p)
            if d["status"] == "":
                self.defect("youdescribe", raw_file, rr, c["id"], "blank_status")
            if d["id"] in unsorted:
                self.defect("youdescribe", raw_file, rr, c["id"], "unsorted_clips")
        write_csv(out / rel, YUWA_COLUMNS, rows)
        self.record_counts[raw_file] = len(rows)

    @staticmethod
    def _too_short_moment(scene: dict, c: dict) -> str:
        if c["kind"] == "sign":
            return " " + scene["sign"]["word"].capitalize() + " sign."
        s = scene["shapes"][c["shape"]] if c["shape"] is not None else scene["shapes"][0]
        colour = shape_colour_at(s, c["t"])
        return f" {colour.capitalize()} {s['kind']}."

    def _write_api(self, out: Path, api_desc: dict[str, list[dict]], both: list[str]) -> None:
        rng = sub_rng(self.seed, "api")
        vids = sorted(api_desc)
        empty_vid = next(v for v in vids if v not in both)
        for vid in vids:
            rel = f"youdescribe/api_v1/{vid}.json"
            raw_file = f"{REPO_PREFIX}/{rel}"
            scene = self.scenes[vid]
            descs = []
            clip_no = 0
            for d in api_desc[vid]:
                clips = []
                for c in sorted(d["clips"], key=lambda c: c["start"]):
                    clip_no += 1
                    start, dur = float(c["start"]), float(c["duration"])
                    end = start + dur if c["inline"] else start
                    sentence = c["text"].strip()
                    parts = [p if p.endswith(".") else p + "." for p in sentence.split(". ")] if ". " in sentence else [sentence]
                    transcript = []
                    t = 0.0
                    for p in parts:
                        share = dur * len(p) / max(1, sum(len(x) for x in parts))
                        transcript.append({"sentence": p, "start_time": round(t, 3), "end_time": round(t + share, 3)})
                        t += share
                    if vid == empty_vid and clip_no == 2:
                        transcript = []
                        self.defect("youdescribe", raw_file, clip_no, c["id"], "empty_transcript")
                    if vid in both:
                        self.defect("youdescribe", raw_file, clip_no, c["id"], "cross_format_duplicate")
                    clips.append({
                        "_id": c["id"], "playback_type": "inline" if c["inline"] else "extended",
                        "start_time": start, "end_time": end, "duration": dur,
                        "file_path": c["file_path"], "file_name": c["file_name"], "transcript": transcript,
                    })
                descs.append({"_id": d["id"], "audio_clips": clips})
            result = {
                "_id": object_id(int(api_desc[vid][0]["ts"]) - int(rng.integers(3600, 90 * 86400)),
                                 int(rng.integers(0, 1 << 40)), int(rng.integers(0, 1 << 24))),
                "youtube_id": vid,
                "title": video_title(scene),
                "duration": scene["duration_s"],
                "audio_descriptions": descs,
            }
            doc = {"type": "success", "code": 1000, "status": 200, "message": "Video found", "result": result}
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes((json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
            self.record_counts[raw_file] = clip_no

    # ---------------------------------------------------------------- WebVTT
    def build_webvtt(self, out: Path) -> None:
        for n, vid in enumerate(self.vtt_ids):
            rng = sub_rng(self.seed, "vtt", vid)
            scene = self.add_scene(make_scene(sub_rng(self.seed, "scene", vid), vid, profile="events"), "ad_webvtt")
            events = scene_events(scene)
            moments = [(float(rng.uniform(0.0, 0.3)), "intro", None)] + [(t + 0.05, k, i) for t, k, i in events]
            times = [m[0] for m in moments] + [scene["duration_s"]]
            lines = ["WEBVTT"]
            if n in (1, 3):
                lines += ["Kind: descriptions", "Language: en"]
            lines.append("")
            if n == 2:
                lines += ["NOTE Audio description track for a sample-world video.",
                          "Cue settings place the text; readers should ignore them.", ""]
            for k, (t, kind, idx) in enumerate(moments):
                end = min(times[k + 1] - 0.05, t + float(rng.uniform(1.5, 3.0)))
                text = moment_text(rng, scene, kind, idx, t)
                if n == 3 and k == 0 and ". " in text:
                    head, _, tail = text.partition(". ")
                    text = head + ".\n" + tail  # a cue spanning two lines
                elif n == 3 and k == 0:
                    text = text.replace(", ", ",\n", 1) if ", " in text else text
                if n == 4:
                    lines.append(str(k + 1))  # cue identifiers
                settings = " align:start line:85%" if n == 2 else ""
                if n == 5:
                    timing = f"{fmt_ts(t)[3:]} --> {fmt_ts(end)[3:]}"  # MM:SS.mmm short form (valid WebVTT)
                else:
                    timing = f"{fmt_ts(t)} --> {fmt_ts(end)}"
                lines += [timing + settings, text, ""]
            rel = f"ad_webvtt/{vid}_descriptions_en.vtt"
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(("\n".join(lines)).encode("utf-8"))
            self.record_counts[f"{REPO_PREFIX}/{rel}"] = len(moments)

    # ---------------------------------------------------------------- outputs
    def write_scenes(self, out: Path) -> None:
        lines = []
        for vid, scene in self.scenes.items():
            rec = dict(scene)
            rec["used_in"] = self.used_in[vid]
            rec["video_file"] = f"videos/{vid}.mp4"
            lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        (out / "scenes.jsonl").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))

    def write_defects(self, out: Path) -> None:
        rows = sorted(self.defects, key=lambda d: (d["source"], d["raw_file"], d["raw_row"], d["defect"]))
        write_csv(out / "defects.csv", ["source", "raw_file", "raw_row", "key", "defect"],
                  [[d["source"], d["raw_file"], str(d["raw_row"]), d["key"], d["defect"]] for d in rows])

    def defect_table(self) -> list[tuple[str, str, str, int, int]]:
        counts: dict[tuple[str, str, str], int] = {}
        for d in self.defects:
            raw_file = d["raw_file"]
            if "/api_v1/" in raw_file:
                raw_file = f"{REPO_PREFIX}/youdescribe/api_v1/*.json"
            k = (d["source"], raw_file, d["defect"])
            counts[k] = counts.get(k, 0) + 1
        api_total = sum(v for k, v in self.record_counts.items() if "/api_v1/" in k)
        out = []
        for (source, raw_file, defect), n in sorted(counts.items()):
            total = api_total if raw_file.endswith("*.json") else self.record_counts[raw_file]
            out.append((source, raw_file, defect, n, total))
        return out


def near_duplicate(rng, text: str) -> str:
    swaps = [("background", "backdrop"), ("moves", "travels"), ("simple", "basic"), ("clip", "video"),
             ("shapes", "figures"), ("appears", "shows up"), ("stays", "remains"), ("plain", "flat")]
    edited = text
    for a, b in [swaps[int(k)] for k in rng.permutation(len(swaps))]:
        if f" {a} " in edited:
            edited = edited.replace(f" {a} ", f" {b} ", 1)
            break
    # punctuation edit: one full stop becomes a semicolon, or a comma disappears
    if ", " in edited and chance(rng, 0.5):
        edited = edited.replace(", ", " ", 1)
    else:
        k = edited.find(". ")
        if k > 0:
            edited = edited[:k] + "; " + edited[k + 2].lower() + edited[k + 3:]
    if edited == text:
        edited = text.rstrip(".") + "!"
    return edited


def video_title(scene: dict) -> str:
    s = scene["shapes"][0]
    title = f"{s['colour'].capitalize()} {s['kind']} on {scene['background']}"
    if len(scene["shapes"]) > 1:
        title += f" with {NUMBER_WORDS[len(scene['shapes']) - 1]} more shape{'s' if len(scene['shapes']) > 2 else ''}"
    if scene["sign"] is not None:
        title += f" and a {scene['sign']['word']} sign"
    return title


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------


README_HEAD = """\
# The sample world

A small, fully synthetic and **deterministic** world for running the Visual Narrator pipeline
end to end on a laptop CPU. It is written by `make_sample_world.py` (this folder):

```
python data/sample/make_sample_world.py                   # everything, into data/sample/ (~15 s)
python data/sample/make_sample_world.py --no-video --out /tmp/world   # text files only (seconds)
```

Options: `--out DIR` (default `data/sample`), `--seed N` (default 0), `--no-video`. The same seed gives
byte-identical CSV/JSON/VTT/JSONL/Markdown files everywhere, and byte-identical videos with the same
PyAV/FFmpeg/x264/Pillow builds (see "Determinism"). `tests/test_sample_world.py` checks this.
Do not edit the generated files by hand: change the script and rerun it.

This README, `defects.csv` and `scenes.jsonl` are generated too; the defect table below is written
from the rows actually produced.

## What is in it

| path | what |
|---|---|
| `videos/<video_id>.mp4` | {n_videos} videos, 96x96, H.264 (libx264, yuv420p, crf 30, no B-frames), 8 or 10 fps, no audio; most are 3-10 s long, {n_long} are 22-45 s |
| `scenes.jsonl` | the scene spec of every video: the ground truth of its pixels (one JSON object per line) |
| `lvd2m/lvd2m_sample.csv` | LVD-2M release format, {n_main} clips (panda70m / internvid / webvid) |
| `lvd2m/hdvg_sample.csv` | LVD-2M HDVG file format (adds `orig_span`, `scene_cut`), {n_hdvg} clips |
| `lvd2m/webvid_sample.csv` | LVD-2M release format, {n_webvid} clean WebVid clips (whole videos): the bulk of the tiny narrator's training data |
| `youdescribe/yuwa_sample_world.csv` | YouDescribe YuWA CSV export, {n_yuwa} audio clips of {n_yuwa_desc} descriptions of {n_yuwa_videos} videos |
| `youdescribe/api_v1/<video_id>.json` | YouDescribe API v1 `GET /v1/videos/{{youtube_id}}` responses, {n_api} videos, {n_api_clips} audio clips |
| `ad_webvtt/<video_id>_descriptions_en.vtt` | WebVTT audio-description tracks (`kind="descriptions"`), {n_vtt} videos, {n_cues} cues |
| `image_descriptions/IIW-400_data.jsonl` | real ImageInWords IIW-400 descriptions, copied byte for byte (see its README; not generated) |
| `defects.csv` | ground truth: every raw record that carries a seeded defect (or a flagged property) |

Every video id referenced by any dump has a file in `videos/`. The LVD-2M, YuWA, API-only and
WebVTT videos are disjoint sets, except for the {n_both} videos deliberately present both in the YuWA
CSV and as API JSON (`cross_format_duplicate`).

## How the videos are made

Each video comes from a scene spec drawn with a seeded NumPy generator (`scenes.jsonl`):

- a plain background: {backgrounds};
- 1 to 3 shapes (circle, square, triangle; radius 8-13 px: small 8-9, medium-sized 10-11, large 12-13)
  in {colours}; each appears at `appear_s` (0 = from the first frame), moves along
  `path` (`linear` from/to between `appear_s` and the end of the video: left_to_right, right_to_left,
  up, down; `bounce`: up and down, `y = floor_y - height * |sin(pi * (t - appear_s) / period_s)|`;
  `still`), and may change colour once (`colour_change.at_s`, `colour_change.to`). Shapes never overlap
  each other or the sign and always stay inside the frame;
- in some videos a light sign (`sign.box`, RGB {sign_rgb}) with a dark word ({words}) drawn with Pillow's
  bundled font at 16 px; it is visible from `sign.appear_s`. When there is a sign, shapes keep out of
  its band (top or bottom 27 px).

All times are multiples of 1/fps, so frame `i` (time `i / fps`) shows a shape iff `i / fps >= appear_s`,
in its new colour iff `i / fps >= colour_change.at_s`. Positions are `shape_xy()` in the script, rounded
to whole pixels. Colours are converted to yuv420p with BT.601 limited-range coefficients (numpy), so a
decoder's default conversion gives the palette back within a few levels (chroma is subsampled 2x2, so
check the inside of a shape, not its edge).

## How the text is made

Every caption, transcript and cue is generated from the scene spec of its video over the exact time
window it describes: colours, shapes, counts, motion directions, appearance and colour-change times
(to the nearest second), and the sign's word. Clip windows are chosen so that no visible change
happens within 0.4 s of a window's ends (or of a `Caption x:` boundary), so every statement holds for
the whole window. Several templates per fact keep the wording varied. Apart from the seeded defects
below, every text is true of the pixels.

- `refined_caption`: a paragraph of {wmin}-{wmax} words, mean {wmean} (opening, one or two sentences per shape, the sign,
  a count sentence, then generic sentences true of every clip in this world: fixed camera, flat colours,
  no people, no sound); {n_prefix} clean rows begin with `CAPTION: `.
- `raw_caption`: LLaVA-style paragraph. Clips over 30 s hold parts `Caption 1: ... Caption 2: ...`
  separated by a space, part k describing `[span_start + 30(k-1), min(span_start + 30k, span_end))`.
- `rewritten_caption`: one short prompt-style sentence; `orig_caption`: short alt text.
- YouDescribe transcripts and WebVTT cues describe the state of the video at their start time, right
  after an event (a shape appears, changes colour, the sign appears) or the opening state. The
  transcript of an `inline` clip stays true until its `end_time` (no change happens in between).
- Non-English texts are faithful translations (Spanish, French, German), so they are defects only
  because of their language.

## Formats (what the ingest code must know)

**LVD-2M** (`lvd2m/*.csv`): UTF-8, comma-separated, `\\n` line endings, Python `csv` QUOTE_MINIMAL
(fields with a comma or quote are double-quoted); no field contains a line break, so CSV record number
== line number. Columns are in a shuffled order and must be read by name:

- `lvd2m_sample.csv`: `{main_cols}`
- `hdvg_sample.csv`: `{hdvg_cols}`
- `webvid_sample.csv`: the columns of `lvd2m_sample.csv`; numeric video ids, as WebVid's

`key` is `<video_id>.<n>_<m>` and unique across the files. `span` is `['HH:MM:SS.mmm', 'HH:MM:SS.mmm']`
(seconds into `videos/<video_id>.mp4`), empty for webvid rows, whose clip is the whole video file
(`url` is `https://example.invalid/webvid/<key>.mp4`; others are `https://www.youtube.com/watch?v=<video_id>`).
`video_time` = span length in seconds (float as text). `total score` is a float (20 + 1.2 x the summed
speed in px/s of the moving shapes + noise; still-only clips score 3-15). HDVG: `orig_span` is a bigger
window (same string form) containing the clip, and `scene_cut` is `[a, b]` in frames of the video's fps
counted from `orig_span` start, `b = -1` meaning "to the end of orig_span"; span = orig_start + a/fps ..
orig_start + b/fps.

**YuWA CSV** (`youdescribe/yuwa_sample_world.csv`): exactly the columns and order of the real
`premium_transcribed_audio_clips_english.csv`. Ids are 24-hex ObjectIds. `/legacy` clips have a numeric
`file_name`, 3-decimal `start_time` and 2-decimal `duration`; `/current/<video_id>` clips are named
`<video_id>_<audio_clips_id>.wav` and carry full-precision floats (e.g. `3.1579138321995464`). `extended`:
`end_time == start_time` (same text) and `duration` is the pause; `inline`: `end_time = start_time +
duration` (computed in floating point, e.g. `37.43899999999999` can occur) and never runs past the next
visible change or the end of the video. Times are seconds into the video. Most `transcript_sentence`
values start with a space and are punctuated; {n_lower} descriptions use the newer lower-case style
without the leading space or final full stop (as the real 2020 rows do). Rows are grouped by
description, descriptions in `audio_descriptions_id` order; within a description rows are in
`start_time` order except for the `unsorted_clips` descriptions. {n_two_desc} videos have two descriptions.

**API v1 JSON** (`youdescribe/api_v1/<video_id>.json`): `{{"type": "success", "code": 1000, "status": 200,
"message": ..., "result": {{"_id", "youtube_id", "title", "duration", "audio_descriptions": [{{"_id",
"audio_clips": [{{"_id", "playback_type", "start_time", "end_time", "duration", "file_path", "file_name",
"transcript": [{{"sentence", "start_time", "end_time"}}]}}]}}]}}}}`. All times are numbers. Clip
`start_time`/`end_time`/`duration` are seconds into the video (same rules as the CSV); `transcript[]`
times are seconds into the clip's audio (0 .. duration), and a clip's text is its sentences joined with
a space. Clips are in start_time order; `raw_row` = 1-based index of the clip in file order (across
descriptions). Indented with 2 spaces, UTF-8, trailing newline.

**WebVTT** (`ad_webvtt/<video_id>_descriptions_en.vtt`): video ids of these files contain no `_`, so the
id is the file name up to the first `_`. Variants: plain `WEBVTT` header; `Kind: descriptions` /
`Language: en` header lines; a `NOTE` block and cue settings (`align:start line:85%`); a cue whose text
spans two lines; numeric cue identifiers; `MM:SS.mmm` timestamps without hours (valid WebVTT). Cue
times are seconds into the video; cues do not overlap. webvtt-py 0.6 reads all of them.

**defects.csv**: `source, raw_file, raw_row, key, defect`, one line per (record, defect) - a record can
carry several (e.g. `blank_status` and `stt_noise`). `raw_file` is the path as `params.yaml` names it
(`data/sample/...`, whatever `--out` was). `raw_row`: CSV record number with the header as row 1 (first
data row = 2); API JSON: 1-based clip index in file order. `key`: LVD-2M `key`, YouDescribe
`audio_clips_id`. Sorted by source, raw_file, raw_row, defect.

## Seeded defects

Every seeded defect is on a row of its own in the LVD-2M files (one defect per record; `long_clip` and
`low_motion` rows carry no defect). Counts are exact; "records" is the number of data records of the
file (all API JSON files together for the API rows). Rows of kind **flag** are properties a test may
check, not defects: the pipeline must keep those records. `unsorted_clips` covers {n_unsorted}
descriptions.

| defect | source | file | rows | records | share | kind | expected | meaning |
|---|---|---|---|---|---|---|---|---|
"""

README_TAIL = """
Notes:

- `hallucinated_repeat`: the same paragraph (a cook in a kitchen) in both LVD-2M files; it must go,
  also from rows whose other captions are true. The maintainers' advice: deduplicate `refined_caption`.
- `exact_duplicate` / `near_duplicate`: the copy is listed, not its source row (an earlier, clean row
  of another video, which must be kept). A near duplicate differs from its source by one word swap
  and/or one punctuation edit.
- `ragged_row`: LVD-2M main file has one record cut short (2 fields missing) and one with an unquoted
  comma inside `refined_caption` (one field too many); the YuWA ragged row has an unquoted comma in
  `transcript_sentence`.
- `broken_span` values: `['00:00:01.000'`, `['00:00:xx', '00:00:05.000']`, `['00:00:02.250', None]`,
  `['00:00:00.500' '00:00:04.000']`, and a three-element list.
- `inverted_span`: the clip's true span with start and end swapped; `video_time` is still the positive
  length.
- `stt_noise` rows are true and mildly noisy (at most one filler per 8 words): keep them.
- `long_clip`: every LVD-2M clip of 20 s or more ({n_long_clips}, of which {n_over_30} are over 30 s and have
  `Caption x:` parts). All are clean and must be kept.

## Determinism

Text files depend only on the seed and this script (NumPy `SeedSequence`-derived generators per
purpose, Python `csv`/`json` writers). Videos: frames are rendered with Pillow and converted to
yuv420p in NumPy, then encoded by libx264 through PyAV with `threads=1`, `bframes=0` (x264's B-frame
analysis reads uninitialised memory, which made bytes depend on the heap's history), `flags=+bitexact`,
`fflags=+bitexact`, and no creation time. Two runs with the same seed give byte-identical `.mp4` files
with the same library builds.

## Licence

The generated files (everything here except `image_descriptions/`) are synthetic and released under
CC0 1.0 (`sample-world-cc0` in `params.yaml`). `image_descriptions/IIW-400_data.jsonl` is CC BY 4.0,
(c) Google, from google/imageinwords (see `image_descriptions/README.md`).
"""


def write_readme(world: World, out: Path) -> None:
    table = world.defect_table()
    lines = []
    for source, raw_file, defect, n, total in table:
        kind = "flag" if defect in NOT_DEFECTS else "defect"
        share = f"{100.0 * n / total:.1f}%"
        lines.append(f"| `{defect}` | {source} | `{raw_file}` | {n} | {total} | {share} | {kind} | "
                     f"{EXPECTED[defect]} | {DEFECT_MEANING[defect]} |")
    main_file = f"{REPO_PREFIX}/lvd2m/lvd2m_sample.csv"
    hdvg_file = f"{REPO_PREFIX}/lvd2m/hdvg_sample.csv"
    yuwa_file = f"{REPO_PREFIX}/youdescribe/yuwa_sample_world.csv"
    api_files = [k for k in world.record_counts if "/api_v1/" in k]
    vtt_files = [k for k in world.record_counts if k.endswith(".vtt")]
    long_clips = [d for d in world.defects if d["defect"] == "long_clip"]
    head = README_HEAD.format(
        n_videos=len(world.scenes),
        n_long=len(LONG_DURATIONS_MAIN) + len(LONG_DURATIONS_HDVG),
        n_main=world.record_counts[main_file], n_hdvg=world.record_counts[hdvg_file],
        n_webvid=world.record_counts[f"{REPO_PREFIX}/lvd2m/webvid_sample.csv"],
        n_yuwa=world.record_counts[yuwa_file], n_yuwa_desc=world.n_yuwa_desc, n_yuwa_videos=N_YUWA_VIDEOS,
        n_api=len(api_files), n_api_clips=sum(world.record_counts[k] for k in api_files),
        n_vtt=len(vtt_files), n_cues=sum(world.record_counts[k] for k in vtt_files), n_both=2,
        backgrounds=", ".join(f"{k} {v}" for k, v in BACKGROUNDS.items()),
        colours=", ".join(f"{k} {v}" for k, v in PALETTE.items()),
        sign_rgb=SIGN_BOARD_RGB, words=", ".join(SIGN_WORDS),
        n_prefix=world.n_prefix, main_cols=",".join(LVD_MAIN_COLUMNS), hdvg_cols=",".join(HDVG_COLUMNS),
        n_lower=world.n_lower, n_two_desc=2, n_unsorted=world.n_unsorted,
        wmin=min(world.clean_words), wmax=max(world.clean_words),
        wmean=round(sum(world.clean_words) / len(world.clean_words)),
    )
    tail = README_TAIL.format(n_long_clips=len(long_clips), n_over_30=world.n_over_30)
    (out / "README.md").write_bytes((head + "\n".join(lines) + "\n" + tail).encode("utf-8"))


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def build(out: Path, seed: int, videos: bool) -> World:
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("lvd2m", "youdescribe", "ad_webvtt"):
        shutil.rmtree(out / sub, ignore_errors=True)
    world = World(seed)
    world.build_lvd(out)
    world.build_youdescribe(out)
    world.build_webvtt(out)
    world.build_webvid(out)
    # a few numbers for the README
    world.n_prefix = _count_prefix(out)
    world.n_lower = _count_lower_desc(out)
    world.n_yuwa_desc = len({row[1] for row in _read_rows(out / "youdescribe/yuwa_sample_world.csv")})
    world.n_over_30 = _count_over_30(out)
    world.write_scenes(out)
    world.write_defects(out)
    write_readme(world, out)
    if videos:
        vdir = out / "videos"
        if vdir.exists():
            for stale in vdir.glob("*.mp4"):
                if stale.stem not in world.scenes:
                    stale.unlink()
        for k, (vid, scene) in enumerate(world.scenes.items()):
            encode_video(scene, vdir / f"{vid}.mp4")
            if (k + 1) % 50 == 0:
                print(f"  encoded {k + 1}/{len(world.scenes)} videos", file=sys.stderr)
    return world


def _read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[1:]


def _count_prefix(out: Path) -> int:
    n = 0
    for rel in ("lvd2m/lvd2m_sample.csv", "lvd2m/hdvg_sample.csv"):
        with (out / rel).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if (row.get("refined_caption") or "").startswith("CAPTION: "):
                    n += 1
    return n


def _count_lower_desc(out: Path) -> int:
    descs = set()
    for row in _read_rows(out / "youdescribe/yuwa_sample_world.csv"):
        if len(row) == 11 and row[10] and not row[10].startswith(" "):
            descs.add(row[1])
    return len(descs)


def _count_over_30(out: Path) -> int:
    n = 0
    for rel in ("lvd2m/lvd2m_sample.csv", "lvd2m/hdvg_sample.csv"):
        with (out / rel).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    if float(row["video_time"]) > 30:
                        n += 1
                except (TypeError, ValueError):
                    pass
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/sample", help="output folder (default data/sample)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-video", action="store_true", help="skip encoding the videos")
    args = parser.parse_args(argv)
    world = build(Path(args.out), args.seed, videos=not args.no_video)
    print(f"sample world written to {args.out}: {len(world.scenes)} scenes, {len(world.defects)} defect rows"
          + ("" if args.no_video else ", videos encoded"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
