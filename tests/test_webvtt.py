"""WebVTT description tracks -> windowed narration examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.params import AdWebvttParams, WindowParams
from curation.bookkeeping import FileResult, IngestCounts
from curation.io import InputFileError
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA, raw_hash
from curation.webvtt import read, read_cues, read_track, video_id_from_path

FIXTURES = Path(__file__).parent / "fixtures" / "ad_webvtt"
WINDOW = {
    "policy": "merged",
    "pad_before_s": 0.5,
    "pad_after_s": 0.5,
    "min_window_s": 2.0,
    "max_window_s": 20.0,
    "merge_gap_s": 2.0,
}
MERGED = WindowParams.model_validate(WINDOW)
PER_CLIP = WindowParams.model_validate({**WINDOW, "policy": "per_clip"})
LICENSE = "sample-world-cc0"
CUES_PER_FILE = {
    "blocks4all_descriptions_en.vtt": 7,
    "deadline_captions_en.vtt": 15,
    "deadline_descriptions_en.vtt": 12,
    "itaccess_description_en.vtt": 7,
    "k_descriptions_en.vtt": 16,
    "wwa_captions_en.vtt": 15,
    "wwa_description_en.vtt": 3,
}


def examples_of(path: Path, window: WindowParams = MERGED) -> list[dict[str, Any]]:
    return read_track(path, window, LICENSE).examples.to_pylist()


def write_vtt(tmp_path: Path, body: str, name: str = "vid00042_descriptions_en.vtt") -> Path:
    path = tmp_path / name
    path.write_text("WEBVTT\n\n" + body, encoding="utf-8")
    return path


def test_all_real_tracks_ingest_and_reconcile() -> None:
    params = AdWebvttParams(dir=str(FIXTURES), pattern="*.vtt", license=LICENSE, window=MERGED)
    tracks: list[FileResult] = list(read(params))
    assert [Path(t.raw_file).name for t in tracks] == sorted(CUES_PER_FILE)
    counts = IngestCounts()
    for track in tracks:
        assert (track.raw_records, track.quarantined.num_rows) == (CUES_PER_FILE[Path(track.raw_file).name], 0)
        assert track.examples.schema == EXAMPLE_SCHEMA and track.quarantined.schema == QUARANTINE_SCHEMA
        counts.add(track)
    total = counts.as_dict()["total"]
    assert total["raw_records"] == total["records_used"] == sum(CUES_PER_FILE.values())


def test_cue_tags_are_stripped_and_lines_joined() -> None:
    deadline = read_cues(FIXTURES / "deadline_captions_en.vtt")
    assert deadline[0].text == "Wanna finish me?"  # was `<v Project> Wanna finish me?`
    assert deadline[10].text == "Why are you so cruel to me? I hate you!"  # two lines, one voice span
    wwa = read_cues(FIXTURES / "wwa_captions_en.vtt")
    assert wwa[1].text == "You want these people."  # `<v Narrator> You <i>want</i> these people.`
    assert wwa[7].text == "Your website's visitors aren't a faceless mass of identical mouse-clickers"  # <c.quotable>
    for path in FIXTURES.glob("*.vtt"):
        for cue in read_cues(path):
            assert "<" not in cue.text and "\n" not in cue.text and cue.text == cue.text.strip()


def test_cue_times_keep_milliseconds() -> None:
    cues = read_cues(FIXTURES / "blocks4all_descriptions_en.vtt")
    assert (cues[1].start_s, cues[1].end_s) == (13.761, 13.762)
    assert (cues[6].start_s, cues[6].end_s) == (161.042, 162.541)


def test_examples_of_a_description_track() -> None:
    path = FIXTURES / "deadline_descriptions_en.vtt"
    examples = examples_of(path)
    first = examples[0]
    assert first["example_id"] == "ad_webvtt:deadline_descriptions_en:0"
    assert (first["video_id"], first["url"], first["text_field"]) == ("deadline", None, "cue")
    assert first["media_kind"] == "video"
    assert (first["raw_file"], first["raw_row"], first["license"]) == (str(path), 1, LICENSE)
    # Cues 1 (0.07-3.0) and 2 (4.2-8.1) are 1.2 s apart: one window, padded by 0.5 s and clamped at 0.
    assert first["text"] == (
        'Words appear: Morevna School. Animation workshops of "Adamant" Art School. Based on a true story.'
    )
    assert (first["clip_start_s"], first["clip_end_s"]) == (0.0, 8.6)
    assert [(s["start_s"], s["end_s"], s["kind"], s["pause_s"]) for s in first["segments"]] == [
        (0.07, 3.0, "cue", None),
        (4.2, 8.1, "cue", None),
    ]
    assert first["raw_row_hash"] == raw_hash(
        ["00:00:00.070", "00:00:03.000", 'Words appear: Morevna School.\nAnimation workshops of "Adamant" Art School.',
         "00:00:04.200", "00:00:08.100", "Based on a true story."]
    )
    # Each window's raw_row is the number of its first cue, and windows follow the cues.
    assert [e["raw_row"] for e in examples] == [1, 3, 4, 6, 11]
    assert [e["example_id"].rsplit(":", 1)[1] for e in examples] == ["0", "1", "2", "3", "4"]


def test_per_clip_policy_gives_one_example_per_cue() -> None:
    examples = examples_of(FIXTURES / "k_descriptions_en.vtt", PER_CLIP)
    assert [e["raw_row"] for e in examples] == list(range(1, 17))
    # 1 s cue widened to the 2 s minimum around its centre.
    assert (examples[10]["clip_start_s"], examples[10]["clip_end_s"]) == pytest.approx((42.5005, 44.5005))


def test_video_id_is_the_file_name_up_to_the_first_underscore() -> None:
    assert video_id_from_path("data/x/vid00042_descriptions_en.vtt") == "vid00042"
    assert video_id_from_path("trailer.vtt") == "trailer"


def test_empty_cue_is_quarantined(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:01.000 --> 00:00:02.000\nA dog runs.\n\n00:00:03.000 --> 00:00:04.000\n<v Bob> \n\n")
    track = read_track(path, MERGED, LICENSE)
    quarantined = track.quarantined.to_pylist()
    assert [(q["raw_row"], q["reason"]) for q in quarantined] == [(2, "missing_field")]
    assert quarantined[0]["raw_record"] == "00:00:03.000 --> 00:00:04.000\n<v Bob> "
    assert track.raw_records == track.records_used + len(quarantined) == 2


def test_cue_ending_before_it_starts_is_kept_for_the_filter(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:05.000 --> 00:00:04.000\nA door closes.\n")
    [example] = examples_of(path)
    assert [(s["start_s"], s["end_s"]) for s in example["segments"]] == [(5.0, 4.0)]


def test_cues_out_of_order_are_sorted_by_start(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:09.000 --> 00:00:10.000\nLater.\n\n00:00:01.000 --> 00:00:02.000\nEarlier.\n")
    examples = examples_of(path, PER_CLIP)
    assert [(e["example_id"], e["raw_row"], e["text"]) for e in examples] == [
        ("ad_webvtt:vid00042_descriptions_en:0", 2, "Earlier."),
        ("ad_webvtt:vid00042_descriptions_en:1", 1, "Later."),
    ]


def test_entities_are_decoded(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:01.000 --> 00:00:02.000\nSalt &amp; pepper &lt;3\n")
    assert read_cues(path)[0].text == "Salt & pepper <3"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a vtt file\n", "not a valid WebVTT file"),
        (b"", "not a valid WebVTT file"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\ncaf\xe9\n", "not UTF-8"),
    ],
)
def test_unparseable_track_is_an_input_file_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad_descriptions_en.vtt"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=problem) as err:
        read_cues(path)
    assert str(path) in str(err.value) and "fix:" in str(err.value)
