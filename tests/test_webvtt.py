"""WebVTT description tracks -> windowed narration examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curation.bookkeeping import IngestResult
from curation.io import InputFileError
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA, raw_hash
from curation.webvtt import TrackExamples, read_cues, track_examples, video_id_from_path
from curation.windows import WindowPolicy

FIXTURES = Path(__file__).parent / "fixtures" / "ad_webvtt"
WINDOW = {
    "policy": "merged",
    "pad_before_s": 0.5,
    "pad_after_s": 0.5,
    "min_window_s": 2.0,
    "max_window_s": 20.0,
    "merge_gap_s": 2.0,
}
MERGED = WindowPolicy.from_params(WINDOW)
PER_CLIP = WindowPolicy.from_params({**WINDOW, "policy": "per_clip"})
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


def add(result: IngestResult, track: TrackExamples) -> None:
    result.add_file(
        track.raw_file,
        raw_records=track.raw_records,
        records_used=track.records_used,
        examples=track.examples,
        quarantined=track.quarantined,
    )


def write_vtt(tmp_path: Path, body: str, name: str = "vid00042_descriptions_en.vtt") -> Path:
    path = tmp_path / name
    path.write_text("WEBVTT\n\n" + body, encoding="utf-8")
    return path


def test_all_real_tracks_ingest_and_reconcile() -> None:
    paths = sorted(FIXTURES.glob("*.vtt"))
    assert [p.name for p in paths] == sorted(CUES_PER_FILE)
    result = IngestResult()
    for path in paths:
        track = track_examples(path, MERGED, LICENSE)
        assert (track.raw_records, track.quarantined) == (CUES_PER_FILE[path.name], [])
        add(result, track)
    metrics = result.metrics()
    assert metrics["total"]["raw_records"] == metrics["total"]["records_used"] == sum(CUES_PER_FILE.values())
    assert result.examples_table().schema == EXAMPLE_SCHEMA
    assert result.quarantine_table().schema == QUARANTINE_SCHEMA


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
    track = track_examples(path, MERGED, LICENSE)
    first = track.examples[0]
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
    assert [e["raw_row"] for e in track.examples] == [1, 3, 4, 6, 11]
    assert [e["example_id"].rsplit(":", 1)[1] for e in track.examples] == ["0", "1", "2", "3", "4"]


def test_per_clip_policy_gives_one_example_per_cue() -> None:
    track = track_examples(FIXTURES / "k_descriptions_en.vtt", PER_CLIP, LICENSE)
    assert [e["raw_row"] for e in track.examples] == list(range(1, 17))
    # 1 s cue widened to the 2 s minimum around its centre.
    assert (track.examples[10]["clip_start_s"], track.examples[10]["clip_end_s"]) == pytest.approx((42.5005, 44.5005))


def test_video_id_is_the_file_name_up_to_the_first_underscore() -> None:
    assert video_id_from_path("data/x/vid00042_descriptions_en.vtt") == "vid00042"
    assert video_id_from_path("trailer.vtt") == "trailer"


def test_empty_cue_is_quarantined(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:01.000 --> 00:00:02.000\nA dog runs.\n\n00:00:03.000 --> 00:00:04.000\n<v Bob> \n\n")
    track = track_examples(path, MERGED, LICENSE)
    assert [(q["raw_row"], q["reason"]) for q in track.quarantined] == [(2, "missing_field")]
    assert track.quarantined[0]["raw_record"] == "00:00:03.000 --> 00:00:04.000\n<v Bob> "
    assert track.raw_records == track.records_used + len(track.quarantined) == 2


def test_cue_ending_before_it_starts_is_kept_for_the_filter(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:05.000 --> 00:00:04.000\nA door closes.\n")
    [example] = track_examples(path, MERGED, LICENSE).examples
    assert [(s["start_s"], s["end_s"]) for s in example["segments"]] == [(5.0, 4.0)]


def test_cues_out_of_order_are_sorted_by_start(tmp_path: Path) -> None:
    path = write_vtt(tmp_path, "00:00:09.000 --> 00:00:10.000\nLater.\n\n00:00:01.000 --> 00:00:02.000\nEarlier.\n")
    examples = track_examples(path, PER_CLIP, LICENSE).examples
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


def test_stage_writes_examples_quarantine_and_metrics(tmp_path: Path) -> None:
    params = {"ingest": {"ad_webvtt": {"dir": str(FIXTURES), "pattern": "*.vtt", "license": LICENSE, "window": WINDOW}}}
    (tmp_path / "params.yaml").write_text(json.dumps(params), encoding="utf-8")  # JSON is YAML
    stage = Path(__file__).parents[1] / "stages" / "ingest_ad_webvtt.py"
    subprocess.run([sys.executable, str(stage)], cwd=tmp_path, check=True, capture_output=True)

    examples = pq.read_table(tmp_path / "data/interim/ingest/ad_webvtt/examples.parquet")
    assert examples.schema == EXAMPLE_SCHEMA
    ids = examples.column("example_id").to_pylist()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert pq.read_table(tmp_path / "data/interim/ingest/ad_webvtt/quarantine.parquet").num_rows == 0
    metrics = json.loads((tmp_path / "data/interim/ingest/ad_webvtt/counts.json").read_text())
    assert len(metrics["files"]) == 7
    assert metrics["total"]["raw_records"] == metrics["total"]["records_used"] == 75
    assert metrics["total"]["examples"] == examples.num_rows
