"""The sample's README.md: README.template.md (the prose) filled with the counts of what was generated.

The template is a `str.format` template (literal braces doubled); the counts and the defect table
are computed from the built `World` and from the files it wrote, never typed in.
"""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

from sampleworld.defects import DEFECT_MEANING, EXPECTED, NOT_DEFECTS
from sampleworld.dumps import LONG_DURATIONS_HDVG, LONG_DURATIONS_MAIN, N_YUWA_VIDEOS, REPO_PREFIX, World
from sampleworld.formats import HDVG_COLUMNS, LVD_MAIN_COLUMNS
from sampleworld.scenes import BACKGROUNDS, PALETTE, SIGN_BOARD_RGB, SIGN_WORDS

TEMPLATE = "README.template.md"


def readme_template() -> str:
    """The README's prose, shipped inside the package (pyproject.toml package-data)."""
    return files("sampleworld").joinpath(TEMPLATE).read_text(encoding="utf-8")


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
    text = readme_template().format(
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
        defect_rows="\n".join(lines), n_long_clips=len(long_clips), n_over_30=world.n_over_30,
    )
    (out / "README.md").write_bytes(text.encode("utf-8"))


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[1:]


def count_prefix(out: Path) -> int:
    n = 0
    for rel in ("lvd2m/lvd2m_sample.csv", "lvd2m/hdvg_sample.csv"):
        with (out / rel).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if (row.get("refined_caption") or "").startswith("CAPTION: "):
                    n += 1
    return n


def count_lower_desc(out: Path) -> int:
    descs = set()
    for row in read_rows(out / "youdescribe/yuwa_sample_world.csv"):
        if len(row) == 11 and row[10] and not row[10].startswith(" "):
            descs.add(row[1])
    return len(descs)


def count_over_30(out: Path) -> int:
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
