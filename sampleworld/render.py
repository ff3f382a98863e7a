"""Pixels of a scene spec: RGB frames, per-pixel label maps, and the H.264 encoding of a video.

`render_frames` and `label_map` share `draw_shapes`, so the labels a vision tower learns from
(train/tiny_tower.py) have the rendered frames' exact geometry. `encode_video` writes the .mp4
bit-exactly (see its comments): same library builds, same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

from pathlib import Path

import numpy as np

from sampleworld.scenes import H, PALETTE, W, shape_colour_at, shape_visible, shape_xy


def _sign_font(size: int = 16):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def render_frames(scene: dict, indices: Iterable[int] | None = None):
    """Yield RGB uint8 arrays (H, W, 3), one per frame: every frame, or the frames of `indices`
    in that order (a frame depends on its time only, so a few are as cheap as they look)."""
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
    for i in range(scene["n_frames"]) if indices is None else indices:
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
