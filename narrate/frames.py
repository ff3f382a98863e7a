"""Find each mixture example's media under a media root and sample its frames with PyAV.

Where media is looked for (first hit wins), for an example with `clip_key` K and `video_id` V:

1. `<root>/<K>.<ext>`, then `<root>/<source>/<K>.<ext>`: a pre-cut clip, as the LVD-2M
   downloader saves clips (named by clip key); the window is then relative to the clip:
   [0, clip_end_s - clip_start_s];
2. `<root>/<V>.<ext>`, then `<root>/<source>/<V>.<ext>`: the whole source video (the sample
   world, yt-dlp `%(id)s.%(ext)s`); the window is [clip_start_s, clip_end_s] of it;
for ext in VIDEO_EXTENSIONS (IMAGE_EXTENSIONS for image examples, which give one frame).

Media names come from dumps, which are untrusted: a key or id that is not a plain file name
(a separator, "..", a leading dot, a NUL) is refused, and every candidate is resolved and
checked to lie inside the root (symlinks included) before it is opened.

Frame policy (`FramePolicy`): one per recipe (its `data:` section), the only place frame count and
pixel budget are set. `frames` frames at the centres of equal slices of the window, or `fps`
frames per second of window (capped at `max_frames`); each frame is the decoded frame
nearest to its target time; frames are scaled down (never up) to at most `max_pixels` pixels,
aspect kept. Layout: `sequence` gives the model one image per frame (what the 3B recipes use);
`grid` tiles the frames, in time order, row by row, into one image (IG-VLM, Kim et al. 2024, "An
Image Grid Can Be Worth a Video"), so a tower that looks at one image at a time sees every frame
at once and can compare them (the tiny recipe: its tower is pretrained on such grids to see motion).
A still image fills every cell. The frames stage writes the policy next to its frames
(`write_policy_file`), the train stage reads it there and writes it into the saved processor
config (`write_frame_policy`); eval and narration read it back (`read_frame_policy`), so a trained
narrator always sees frames the way it was trained. An example whose media is missing, unreadable, unsafe or too
short for its window gets a skip reason instead of frames, never a crash.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

# Skip reasons, as written to data/frames/skipped.parquet and counted in the metrics.
MISSING = "missing_media"
UNSAFE = "unsafe_media_path"
CORRUPT = "corrupt_media"
TOO_SHORT = "too_short"
SKIP_REASONS = {
    MISSING: "no file for the example's clip key or video id under the media root",
    UNSAFE: "the clip key or video id from the dump is not a plain file name (would leave the media root)",
    CORRUPT: "the file does not open or decode as video / image",
    TOO_SHORT: "the window is shorter than frames.min_window_s, or lies outside the decoded video",
}


def grid_shape(cells: int) -> tuple[int, int]:
    """(columns, rows) of the most nearly square grid with at least `cells` cells: 4 -> 2x2, 6 -> 3x2."""
    columns = math.ceil(math.sqrt(cells))
    return columns, math.ceil(cells / columns)


def frame_in_cell(cell: int, frames: int, cells: int) -> int:
    """Which of `frames` frames grid cell `cell` shows: k * frames // cells, so fewer frames than
    cells repeat (a still image fills every cell) and cells past `cells` show the last frame."""
    return min(cell * frames // cells, frames - 1)


def tile_frames(images: list[Image.Image], cells: int) -> Image.Image:
    """The frames in one image, row by row in time order (cell k shows `frame_in_cell`).
    Cells are the first frame's size."""
    columns, rows = grid_shape(cells)
    width, height = images[0].size
    grid = Image.new("RGB", (columns * width, rows * height))
    for k in range(columns * rows):
        frame = images[frame_in_cell(k, len(images), cells)]
        if frame.size != (width, height):
            frame = frame.resize((width, height), Image.Resampling.BICUBIC)
        grid.paste(frame, ((k % columns) * width, (k // columns) * height))
    return grid


class FramePolicy(BaseModel):
    """How many frames an example gets, their pixel budget and layout: a recipe's `data:` section.

    The one frame policy of a run: the frames stage samples with the recipe's and writes it to its
    output folder (policy.json, read by training); training writes it into the saved processor
    config; eval and narration read it back from there.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    frames: Annotated[int, Field(ge=1)] = 4  # frames per example (when fps is null), at the centres of equal slices
    max_pixels: Annotated[int, Field(ge=64)] = 64 * 64  # pixel budget per frame (width x height); downscale only
    fps: Annotated[float, Field(gt=0)] | None = None  # or frames per second of window, capped at max_frames
    max_frames: Annotated[int, Field(ge=1)] = 16  # cap on frames per example under fps (the memory planner assumes it)
    layout: Literal["sequence", "grid"] = "sequence"  # one image per frame, or all frames tiled in one image

    @property
    def most_frames(self) -> int:
        """The most frames one example can have: what memory, sequence length and a grid must hold."""
        return self.frames if self.fps is None else self.max_frames

    @property
    def images_per_example(self) -> int:
        """Images the vision tower gets per example: one grid, or one per frame."""
        return 1 if self.layout == "grid" else self.most_frames

    @property
    def frames_per_image(self) -> int:
        """Frames the vision tower sees in one image: all of them in a grid."""
        if self.layout == "grid":
            columns, rows = grid_shape(self.most_frames)
            return columns * rows
        return 1

    def frame_count(self, window_s: float) -> int:
        if self.fps is None:
            return self.frames
        return max(1, min(self.max_frames, math.ceil(window_s * self.fps)))

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


POLICY_FILE = "policy.json"  # in the frames stage's output folder


def write_policy_file(folder: str | Path, policy: FramePolicy) -> None:
    """The policy the frames in `folder` were sampled with (the frames stage)."""
    path = Path(folder) / POLICY_FILE
    path.write_text(json.dumps(policy.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_policy_file(folder: str | Path) -> FramePolicy:
    """The policy the frames in `folder` were sampled with; what training must train with."""
    path = Path(folder) / POLICY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no frame policy; run `dvc repro frames` (the frames stage writes it)")
    return FramePolicy.model_validate_json(path.read_text(encoding="utf-8"))


# The key under which the policy is stored in a saved model's processor_config.json.
# transformers ignores unknown keys there when loading and drops them when saving, so only
# write_frame_policy puts it there (after every save_pretrained of a trained narrator).
POLICY_KEY = "visual_narrator_frame_policy"
PROCESSOR_CONFIG = "processor_config.json"


def write_frame_policy(model_dir: str | Path, policy: FramePolicy) -> None:
    """Add the frame policy to `model_dir`/processor_config.json (written by save_pretrained)."""
    path = Path(model_dir) / PROCESSOR_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no processor config; save the processor before its frame policy")
    config = json.loads(path.read_text(encoding="utf-8"))
    config[POLICY_KEY] = policy.to_dict()
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_frame_policy(model_dir: str | Path) -> FramePolicy:
    """The frame policy a narrator was trained with, from its processor_config.json."""
    path = Path(model_dir) / PROCESSOR_CONFIG
    config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if POLICY_KEY not in config:
        raise KeyError(
            f"{path}: no {POLICY_KEY!r}: this model was not saved by the train stage, so its frame "
            "policy is unknown; pass one explicitly or re-export the model with the train stage"
        )
    return FramePolicy.model_validate(config[POLICY_KEY])


@dataclass(frozen=True)
class Media:
    path: Path
    start_s: float  # window in the file's own time
    end_s: float
    kind: str  # "video" or "image"


@dataclass(frozen=True)
class Skip:
    reason: str
    detail: str


@dataclass(frozen=True)
class Frames:
    images: list[Image.Image]  # as the model gets them (policy.layout): one per frame, or one grid
    times_s: list[float]  # in the file's own time (0 for images)
    path: Path


def is_plain_name(name: str | None) -> bool:
    """True for a name usable as one path component: no separators, no '..', no leading dot, no NUL."""
    if not name or len(name) > 255:
        return False
    return not ("/" in name or "\\" in name or "\x00" in name or name.startswith(".") or name in ("..", "."))


def inside(root: Path, candidate: Path) -> bool:
    """Whether candidate, symlinks resolved, lies inside root."""
    try:
        candidate.resolve(strict=True).relative_to(root.resolve(strict=True))
    except (OSError, ValueError):
        return False
    return True


def locate_media(
    root: Path,
    *,
    source: str,
    media_kind: str,
    video_id: str | None,
    clip_key: str | None,
    clip_start_s: float | None,
    clip_end_s: float | None,
) -> Media | Skip:
    """The media file and window for one example (module docstring), or why there is none."""
    names = [(clip_key, True), (video_id, False)]
    given = [n for n, _ in names if n]
    if not given:
        return Skip(MISSING, "the example has neither clip_key nor video_id")
    unsafe = [n for n in given if not is_plain_name(n)]
    if unsafe:
        return Skip(UNSAFE, f"refused media name {unsafe[0]!r}")
    extensions = IMAGE_EXTENSIONS if media_kind == "image" else VIDEO_EXTENSIONS
    folders = [root, root / source] if is_plain_name(source) else [root]
    start = clip_start_s or 0.0
    end = clip_end_s if clip_end_s is not None else start
    for name, is_clip in names:
        if not name:
            continue
        for folder in folders:
            for ext in extensions:
                candidate = folder / f"{name}{ext}"
                if not candidate.exists():
                    continue
                if not inside(root, candidate):
                    return Skip(UNSAFE, f"{candidate} resolves outside the media root {root}")
                if media_kind == "image":
                    return Media(candidate, 0.0, 0.0, "image")
                if is_clip:  # a pre-cut clip: the window starts at its beginning
                    return Media(candidate, 0.0, max(0.0, end - start), "video")
                return Media(candidate, start, end, "video")
    return Skip(MISSING, f"none of {', '.join(given)} with {'/'.join(extensions)} under {root}")


def fit_pixels(image: Image.Image, max_pixels: int) -> Image.Image:
    """Scale down (never up) so width x height <= max_pixels, aspect ratio kept."""
    width, height = image.size
    if width * height <= max_pixels:
        return image
    scale = math.sqrt(max_pixels / (width * height))
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    while size[0] * size[1] > max_pixels:  # int rounding can leave it a few pixels over
        size = (max(1, size[0] - 1), size[1])
    return image.resize(size, Image.Resampling.BICUBIC)


def target_times(start_s: float, end_s: float, count: int) -> list[float]:
    """Centres of `count` equal slices of [start_s, end_s]."""
    step = (end_s - start_s) / count
    return [start_s + (k + 0.5) * step for k in range(count)]


def sample_frames(media: Media, policy: FramePolicy, min_window_s: float = 0.0) -> Frames | Skip:
    """Decode the frames the policy asks for from the media's window (skipped when shorter than `min_window_s`)."""
    import av

    if media.kind == "image":
        try:
            with Image.open(media.path) as image:
                image.load()
                rgb = image.convert("RGB")
        except Exception as err:  # noqa: BLE001 - PIL raises many kinds for a broken file
            return Skip(CORRUPT, f"{media.path}: {type(err).__name__}: {err}")
        return Frames(arrange(policy, [fit_pixels(rgb, policy.max_pixels)]), [0.0], media.path)

    window = media.end_s - media.start_s
    if window < min_window_s:
        return Skip(TOO_SHORT, f"window {window:.3f} s < frames.min_window_s {min_window_s} s")
    targets = target_times(media.start_s, media.end_s, policy.frame_count(window))
    chosen: list[tuple[float, Image.Image]] = []
    try:
        with av.open(str(media.path)) as container:
            if not container.streams.video:
                return Skip(CORRUPT, f"{media.path}: no video stream")
            stream = container.streams.video[0]
            if media.start_s > 0 and stream.time_base:
                container.seek(int(media.start_s / stream.time_base), stream=stream, backward=True)
            previous: tuple[float, av.VideoFrame] | None = None
            k = 0
            for frame in container.decode(stream):
                if frame.pts is None or frame.time is None:
                    continue
                current = (float(frame.time), frame)
                # Every target at or before this frame takes the nearer of the previous and this one.
                while k < len(targets) and current[0] >= targets[k]:
                    best = current
                    if previous is not None and targets[k] - previous[0] <= current[0] - targets[k]:
                        best = previous
                    chosen.append((best[0], best[1].to_image()))
                    k += 1
                if k == len(targets):
                    break
                previous = current
            # Targets past the last decoded frame: take the last frame if it is inside the window.
            while k < len(targets) and previous is not None and previous[0] >= media.start_s:
                chosen.append((previous[0], previous[1].to_image()))
                k += 1
    except (av.error.FFmpegError, OSError, ValueError) as err:
        return Skip(CORRUPT, f"{media.path}: {type(err).__name__}: {err}")
    if len(chosen) < len(targets) or not chosen or chosen[0][0] > media.end_s:
        return Skip(
            TOO_SHORT,
            f"{media.path}: decoded {len(chosen)} of {len(targets)} frames in [{media.start_s:.3f}, {media.end_s:.3f}] s",
        )
    return Frames(
        arrange(policy, [fit_pixels(image.convert("RGB"), policy.max_pixels) for _, image in chosen]),
        [round(t, 6) for t, _ in chosen],
        media.path,
    )


def arrange(policy: FramePolicy, images: list[Image.Image]) -> list[Image.Image]:
    """The images the model gets for these frames under the policy's layout."""
    if policy.layout == "grid":
        return [tile_frames(images, policy.most_frames)]
    return images


def png_bytes(image: Image.Image) -> bytes:
    """Lossless, deterministic encoding (no timestamps or text chunks)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
