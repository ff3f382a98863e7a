"""The deterministic "sample world" of Visual Narrator: synthetic videos and the raw dumps that describe them.

About 1,500 tiny synthetic videos (96x96 H.264) of coloured shapes and signs, plus raw dumps that
describe them in the exact formats of the real sources:

- LVD-2M release CSVs (``lvd2m/lvd2m_sample.csv``, ``lvd2m/hdvg_sample.csv``, ``lvd2m/webvid_sample.csv``);
- a YouDescribe YuWA CSV export (``youdescribe/yuwa_sample_world.csv``);
- YouDescribe API v1 responses (``youdescribe/api_v1/<video_id>.json``);
- WebVTT audio-description tracks (``ad_webvtt/<video_id>_descriptions_en.vtt``).

Every text is generated from the scene spec of its video (``scenes.jsonl``: the ground truth of the
pixels), so it is true of the pixels, except for the seeded defects, which are listed row by row in
``defects.csv`` and counted in ``README.md`` (both written by this package).

Modules, in dependency order:

- ``scenes``: world constants, seeded random helpers, scene specs and their physics;
- ``render``: frames, per-pixel label maps, H.264 encoding;
- ``facts``: what is true of a time window of a scene;
- ``captions``: the English caption grammar; ``foreign``: Spanish, French and German captions;
- ``formats``: on-disk forms of the dumps; ``defects``: the seeded-defect catalogue;
- ``dumps``: class ``World``, which writes every dump and records its defects;
- ``readme``: the sample's README.md from ``README.template.md``; ``cli``: ``python -m sampleworld``.

Usage (from the repository root)::

    python -m sampleworld                 # writes data/sample/
    python -m sampleworld --no-video --out /tmp/world

Same seed, same bytes: text files are byte-identical on every platform; video files are
byte-identical for the same PyAV/FFmpeg/x264/Pillow builds (single-threaded x264 without
B-frames, bitexact flags, no timestamps in the container).

Other code uses it as a library (``import sampleworld as world``): train/tiny_tower.py draws fresh
scenes with ``make_scene``, ``render_frames`` and ``label_map`` to pretrain the tiny narrator's tower.
"""

from sampleworld.captions import (
    llava_paragraph, moment_text, orig_caption, raw_caption, refined_caption, rewritten_caption,
)
from sampleworld.cli import build, main
from sampleworld.dumps import World
from sampleworld.facts import ShapeView, SignView, WindowFacts, window_facts, window_is_clear
from sampleworld.foreign import foreign_caption, foreign_moment
from sampleworld.formats import fmt_span, fmt_ts, parse_span
from sampleworld.render import encode_video, label_map, render_frames
from sampleworld.scenes import (
    BACKGROUNDS, FPS_CHOICES, MOTIONS, PALETTE, SHAPE_KINDS, SIGN_WORDS, H, W, chance, make_scene, pick,
    scene_events, shape_colour_at, shape_visible, shape_xy, speed_px_s, sub_rng,
)

__all__ = [
    # scenes
    "BACKGROUNDS", "FPS_CHOICES", "H", "MOTIONS", "PALETTE", "SHAPE_KINDS", "SIGN_WORDS", "W", "chance", "make_scene",
    "pick", "scene_events", "shape_colour_at", "shape_visible", "shape_xy", "speed_px_s", "sub_rng",
    # render
    "encode_video", "label_map", "render_frames",
    # facts and captions
    "ShapeView", "SignView", "WindowFacts", "window_facts", "window_is_clear", "llava_paragraph", "moment_text",
    "orig_caption", "raw_caption", "refined_caption", "rewritten_caption", "foreign_caption", "foreign_moment",
    # dumps
    "World", "fmt_span", "fmt_ts", "parse_span", "build", "main",
]
