"""The committed sample world (data/sample/) is what its generator writes, and it is honest.

- regenerating the text files (``--no-video``) gives byte-identical files;
- ``defects.csv`` agrees with the README's defect table and points at the rows it names;
- every video referenced by a dump exists;
- decoded pixels match the scene spec the texts are written from.
"""

from __future__ import annotations

import collections
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sampleworld as world

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
GENERATED_DIRS = ("lvd2m", "youdescribe", "ad_webvtt")
GENERATED_FILES = ("scenes.jsonl", "defects.csv", "README.md")
API_GLOB = "data/sample/youdescribe/api_v1/*.json"


@pytest.fixture(scope="module")
def scenes() -> dict[str, dict]:
    with (SAMPLE / "scenes.jsonl").open(encoding="utf-8") as handle:
        return {rec["video_id"]: rec for rec in map(json.loads, handle)}


@pytest.fixture(scope="module")
def defects() -> list[dict[str, str]]:
    with (SAMPLE / "defects.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _generated_files(root: Path) -> list[str]:
    files = [name for name in GENERATED_FILES if (root / name).is_file()]
    for sub in GENERATED_DIRS:
        files += [p.relative_to(root).as_posix() for p in sorted((root / sub).rglob("*")) if p.is_file()]
    return sorted(files)


def _records(rel: str) -> list[list[str]]:
    with (ROOT / rel).open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_regenerated_text_files_are_byte_identical(tmp_path):
    out = tmp_path / "world"
    subprocess.run([sys.executable, "-m", "sampleworld", "--no-video", "--out", str(out)], check=True, cwd=ROOT,
                   capture_output=True, timeout=120)
    committed = _generated_files(SAMPLE)
    regenerated = _generated_files(out)
    assert regenerated == committed
    assert not (out / "videos").exists()
    different = [rel for rel in committed if (out / rel).read_bytes() != (SAMPLE / rel).read_bytes()]
    assert different == [], f"regenerate with `python -m sampleworld`: {different}"


def test_the_package_exports_what_its_callers_use():
    """train/tiny_tower.py, the tests and the experiments use the generator as `import sampleworld as world`."""
    names = ("make_scene", "render_frames", "label_map", "shape_xy", "shape_colour_at", "shape_visible",
             "window_facts", "refined_caption", "llava_paragraph", "rewritten_caption", "raw_caption", "parse_span",
             "PALETTE", "BACKGROUNDS", "MOTIONS", "SHAPE_KINDS", "SIGN_WORDS", "W", "H")
    assert [name for name in names if not hasattr(world, name)] == []
    assert set(world.__all__) <= set(dir(world))


def _readme_table() -> list[dict[str, str]]:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    section = text.split("## Seeded defects", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        rows.append(dict(zip(header, cells)))
    return rows


def test_defect_counts_match_readme_table(defects):
    table = _readme_table()
    assert table, "README.md has no defect table"
    documented = {(r["defect"], r["source"], r["file"]): int(r["rows"]) for r in table}
    counted = collections.Counter(
        (d["defect"], d["source"], API_GLOB if "/api_v1/" in d["raw_file"] else d["raw_file"]) for d in defects
    )
    assert dict(counted) == documented
    # "records" is the number of data records of each file
    for r in table:
        if r["file"] == API_GLOB:
            total = sum(
                sum(len(desc["audio_clips"]) for desc in json.loads(p.read_text(encoding="utf-8"))["result"]["audio_descriptions"])
                for p in ROOT.glob(API_GLOB)
            )
        else:
            total = len(_records(r["file"])) - 1
        assert int(r["records"]) == total, r


def test_seeded_defect_targets(defects):
    counted = collections.Counter((d["raw_file"].rsplit("/", 1)[-1], d["defect"]) for d in defects)
    main, hdvg = "lvd2m_sample.csv", "hdvg_sample.csv"
    assert counted[(main, "hallucinated_repeat")] == 20 and counted[(hdvg, "hallucinated_repeat")] == 5
    assert counted[(main, "ragged_row")] == 2 and counted[(main, "bad_number")] == 1
    yuwa = "yuwa_sample_world.csv"
    for defect, n in (("non_english", 2), ("too_short", 2), ("ragged_row", 1), ("bad_playback_type", 1)):
        assert counted[(yuwa, defect)] == n, defect
    n_yuwa = len(_records("data/sample/youdescribe/yuwa_sample_world.csv")) - 1
    assert 0.25 <= counted[(yuwa, "blank_status")] / n_yuwa <= 0.35
    assert sum(1 for d in defects if d["defect"] == "empty_transcript") == 1
    long_clips = [d for d in defects if d["defect"] == "long_clip"]
    assert len(long_clips) >= 6


def test_defects_point_at_the_rows_they_name(defects):
    csv_files: dict[str, list[list[str]]] = {}
    for d in defects:
        rel, row, key = d["raw_file"], int(d["raw_row"]), d["key"]
        assert rel.startswith("data/sample/") and (ROOT / rel).is_file(), rel
        if rel.endswith(".csv"):
            records = csv_files.setdefault(rel, _records(rel))
            record = records[row - 1]  # raw_row counts the header as row 1
            assert key in record or any(key in field for field in record), (rel, row, key)
            if d["defect"] == "ragged_row":
                assert len(record) != len(records[0]), d
        else:
            doc = json.loads((ROOT / rel).read_text(encoding="utf-8"))
            clips = [c for desc in doc["result"]["audio_descriptions"] for c in desc["audio_clips"]]
            assert clips[row - 1]["_id"] == key, (rel, row, key)
            if d["defect"] == "empty_transcript":
                assert clips[row - 1]["transcript"] == []
    # the LVD-2M rows carry one defect each
    lvd = collections.Counter((d["raw_file"], d["raw_row"]) for d in defects if d["source"] == "lvd2m")
    assert max(lvd.values()) == 1


def _lvd_rows(rel: str) -> list[dict[str, str]]:
    records = _records(rel)
    header = records[0]
    return [dict(zip(header, r)) for r in records[1:] if len(r) == len(header)]


def test_every_referenced_video_exists(scenes):
    referenced: set[str] = set()
    for rel in ("data/sample/lvd2m/lvd2m_sample.csv", "data/sample/lvd2m/hdvg_sample.csv"):
        for record in _records(rel)[1:]:
            key = next(f for f in record if re.fullmatch(r"[A-Za-z0-9_-]{11}\.\d+_\d+", f))
            referenced.add(key.split(".", 1)[0])
        for row in _lvd_rows(rel):
            referenced.add(row["video_id"])
            assert row["key"].startswith(row["video_id"] + ".")
    for record in _records("data/sample/youdescribe/yuwa_sample_world.csv")[1:]:
        referenced.add(record[0])
    for path in ROOT.glob(API_GLOB):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["result"]["youtube_id"] == path.stem
        referenced.add(path.stem)
    for path in (SAMPLE / "ad_webvtt").glob("*.vtt"):
        referenced.add(path.name.split("_", 1)[0])
    assert len(referenced) >= 250
    assert referenced <= set(scenes)
    videos = {p.stem for p in (SAMPLE / "videos").glob("*.mp4")}
    missing = sorted(referenced - videos)
    assert missing == [], f"{len(missing)} videos missing, e.g. {missing[:5]}"
    assert videos == set(scenes)


def test_clean_captions_name_what_is_on_screen(scenes, defects):
    """Every clean refined caption names the shapes and the sign word visible in its clip window."""
    flagged = {(d["raw_file"], int(d["raw_row"])) for d in defects if d["defect"] not in ("long_clip", "low_motion")}
    checked = 0
    for rel in ("data/sample/lvd2m/lvd2m_sample.csv", "data/sample/lvd2m/hdvg_sample.csv"):
        records = _records(rel)
        header = records[0]
        for number, record in enumerate(records[1:], start=2):
            if (rel, number) in flagged:
                continue
            row = dict(zip(header, record))
            scene = scenes[row["video_id"]]
            if row["span"]:
                start, end = world.parse_span(row["span"])
            else:
                start, end = 0.0, scene["duration_s"]
            assert abs(float(row["video_time"]) - (end - start)) < 1e-6
            facts = world.window_facts(scene, start, end)
            text = row["refined_caption"]
            for view in facts.shapes:
                assert view.kind in text and view.colour0 in text, (rel, number, view)
            if facts.sign is not None:
                assert facts.sign.word in text, (rel, number)
            assert "kitchen" not in text
            checked += 1
    assert checked >= 150


def _decode(path: Path) -> tuple[list[np.ndarray], float]:
    av = pytest.importorskip("av")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        rate = float(stream.average_rate)
    return frames, rate


def test_pixels_match_the_scene_spec(scenes):
    """A shape that changes colour is that colour, where the spec says, before and after the change."""
    scene = next(
        s for s in scenes.values()
        if any(sh["colour_change"] and sh["appear_s"] == 0 and sh["motion"] != "still" for sh in s["shapes"])
    )
    shape = next(sh for sh in scene["shapes"] if sh["colour_change"] and sh["appear_s"] == 0 and sh["motion"] != "still")
    frames, rate = _decode(SAMPLE / "videos" / f"{scene['video_id']}.mp4")
    assert len(frames) == scene["n_frames"] and rate == scene["fps"]
    assert frames[0].shape == (96, 96, 3)
    change = round(shape["colour_change"]["at_s"] * scene["fps"])
    for index, colour in ((max(0, change - 3), shape["colour"]), (min(len(frames) - 1, change + 3), shape["colour_change"]["to"])):
        t = index / scene["fps"]
        x, y = world.shape_xy(shape, t, scene["duration_s"])
        x, y = int(round(float(x))), int(round(float(y)))
        patch = frames[index][y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).astype(float).mean(axis=0)
        expected = np.array(world.PALETTE[colour], dtype=float)
        assert np.abs(patch - expected).max() < 40, (scene["video_id"], index, colour, patch)
        # and the colour is the nearest palette colour, not merely close
        names = list(world.PALETTE)
        nearest = names[int(np.argmin([((patch - np.array(world.PALETTE[n])) ** 2).sum() for n in names]))]
        assert nearest == colour
    # a corner far from every shape shows the background
    background = np.array(scene["background_rgb"], dtype=float)
    corners = [frames[0][1:4, 1:4], frames[0][1:4, -4:-1], frames[0][-4:-1, 1:4], frames[0][-4:-1, -4:-1]]
    assert any(np.abs(c.reshape(-1, 3).mean(axis=0) - background).max() < 20 for c in corners)


def test_sign_word_is_drawn_on_the_sign(scenes):
    """The sign's board is where the spec says, from the time it appears."""
    scene = next(s for s in scenes.values() if s["sign"] and s["sign"]["appear_s"] > 0)
    frames, _ = _decode(SAMPLE / "videos" / f"{scene['video_id']}.mp4")
    x0, y0, x1, y1 = scene["sign"]["box"]
    first = round(scene["sign"]["appear_s"] * scene["fps"])
    board = np.array(scene["sign"]["board_rgb"], dtype=float)
    before = frames[first - 1][y0 + 2, x0 + 2].astype(float)
    after = frames[first][y0 + 2, x0 + 2].astype(float)
    assert np.abs(after - board).max() < 30
    assert np.abs(before - board).max() > 60
    # dark text pixels inside the board
    inside = frames[first][y0 + 3:y1 - 3, x0 + 3:x1 - 3].astype(float).mean(axis=2)
    assert (inside < 100).sum() >= 20


def test_rendering_chosen_frames_gives_those_frames_of_the_whole_video():
    rng = np.random.default_rng(1)
    for k in range(20):
        scene = world.make_scene(rng, f"t{k}", profile="lvd")
        every = list(world.render_frames(scene))
        chosen = [scene["n_frames"] - 1, 0, min(3, scene["n_frames"] - 1)]
        for index, frame in zip(chosen, world.render_frames(scene, chosen), strict=True):
            assert np.array_equal(frame, every[index])
