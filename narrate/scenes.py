"""Split a video into scenes by frame differences (PyAV decode, no extra dependency).

A frame starts a new scene when its mean absolute difference from the previous frame, on a small
grey thumbnail (0-255 scale), exceeds `threshold`, and the current scene is at least `min_scene_s`
long. Scenes longer than `max_scene_s` are cut into equal parts, so each narration describes a
stretch short enough to be spoken in it. Timestamps are in the file's own time (seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

THUMBNAIL = (32, 32)  # grey thumbnail the differences are measured on: cheap, ignores compression noise


@dataclass(frozen=True)
class SceneOptions:
    threshold: float = 30.0  # mean absolute grey-level difference (0-255) that makes a cut
    min_scene_s: float = 1.0  # no cut before a scene is this long
    max_scene_s: float = 10.0  # longer scenes are split into equal parts no longer than this

    def __post_init__(self) -> None:
        if self.threshold <= 0 or self.min_scene_s < 0 or self.max_scene_s <= 0:
            raise ValueError(f"scene options {self}: threshold and max_scene_s must be > 0, min_scene_s >= 0")


def detect_scenes(path: str | Path, options: SceneOptions = SceneOptions()) -> tuple[list[tuple[float, float]], float]:
    """The scenes of a video as (start_s, end_s), in order, covering it; and its duration in seconds.

    Raises ValueError naming the file when it has no video stream or no decodable frame.
    """
    import av

    path = Path(path)
    try:
        container = av.open(str(path))
    except Exception as err:  # noqa: BLE001 - PyAV raises several kinds for unreadable input
        raise ValueError(f"{path}: not a readable video ({type(err).__name__}: {err})") from err
    with container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        cuts: list[float] = []
        previous: np.ndarray | None = None
        times: list[float] = []
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                t = float(frame.time)
                grey = np.asarray(frame.to_image().convert("L").resize(THUMBNAIL), dtype=np.float32)
                if previous is not None and np.abs(grey - previous).mean() > options.threshold \
                        and t - (cuts[-1] if cuts else times[0]) >= options.min_scene_s:
                    cuts.append(t)
                previous = grey
                times.append(t)
        except Exception as err:  # noqa: BLE001
            raise ValueError(f"{path}: decoding failed ({type(err).__name__}: {err})") from err
        if previous is None:
            raise ValueError(f"{path}: no decodable video frame")
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        last_frame_s = 1.0 / rate if rate > 0 else (times[-1] - times[-2] if len(times) > 1 else 0.0)
        end = times[-1] + last_frame_s  # the last frame lasts one frame
    bounds = [times[0], *cuts, end]
    scenes: list[tuple[float, float]] = []
    for a, b in zip(bounds, bounds[1:]):
        parts = max(1, math.ceil((b - a) / options.max_scene_s - 1e-9))
        step = (b - a) / parts
        scenes += [(a + k * step, a + (k + 1) * step) for k in range(parts)]
    return scenes, end
