"""Benchmark readers on small files in each official format, built around the two fixture photos."""

from __future__ import annotations

import base64
import csv
import json
import shutil
from pathlib import Path

import pytest

from eval.benchmarks import (
    MMBENCH_INSTRUCTION,
    ChoiceQuestion,
    circular_eval,
    coco_captions,
    extract_choice,
    mmbench_questions,
    textcaps_captions,
)
from narrate.frames import FramePolicy

FIXTURES = Path(__file__).parent / "fixtures"
REFS = json.loads((FIXTURES / "images/refs.json").read_text())
MMBENCH_COLUMNS = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category", "image"]


def photos(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("image1.jpg", "image2.jpg"):
        shutil.copy2(FIXTURES / "images" / name, folder / name)
    return folder


def write_coco(path: Path, images: list[dict]) -> Path:
    annotations = [{"id": n, "image_id": i, "caption": c} for n, (i, c) in
                   enumerate([(1, c) for c in REFS["image1"]] + [(2, c) for c in REFS["image2"]] + [(3, "a missing photo")])]
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return path


def test_coco_reader_gives_items_in_id_order_and_reports_missing_images(tmp_path: Path) -> None:
    root = photos(tmp_path / "images")
    ann = write_coco(tmp_path / "captions.json", [
        {"id": 2, "file_name": "image2.jpg", "domain": "out-domain"}, {"id": 1, "file_name": "image1.jpg", "domain": "in-domain"},
        {"id": 3, "file_name": "gone.jpg"}, {"id": 4, "file_name": "image1.jpg"},  # 4 has no caption
    ])
    loaded = coco_captions(ann, root, style="audio_description", policy=FramePolicy(max_pixels=4096))
    assert [item.key for item in loaded.items] == [1, 2]
    assert loaded.items[0].references == REFS["image1"] and loaded.items[1].meta["domain"] == "out-domain"
    frames = loaded.items[0].load_frames()
    assert len(frames) == 1 and frames[0].size[0] * frames[0].size[1] <= 4096  # the model's pixel budget
    assert any("1 of 3 images not found" in p and "gone.jpg" in p for p in loaded.problems)
    assert any("1 listed image(s) have no caption" in p for p in loaded.problems)


@pytest.mark.parametrize("name", ["../outside.jpg", "/etc/passwd"])
def test_image_names_cannot_leave_the_image_folder(tmp_path: Path, name: str) -> None:
    root = photos(tmp_path / "images")
    shutil.copy2(FIXTURES / "images/image1.jpg", tmp_path / "outside.jpg")
    ann = write_coco(tmp_path / "captions.json", [{"id": 1, "file_name": name}])
    with pytest.raises(ValueError, match="refused image name"):
        coco_captions(ann, root, style="audio_description", policy=FramePolicy(max_pixels=4096))


def test_textcaps_reader_groups_captions_per_image(tmp_path: Path) -> None:
    root = photos(tmp_path / "images" / "train")
    records = [{"image_id": key, "image_path": f"train/{key}.jpg", "caption_id": n, "caption_str": caption,
                "reference_strs": REFS[key], "set_name": "val"}
               for key in ("image1", "image2") for n, caption in enumerate(REFS[key])]
    path = tmp_path / "TextCaps_0.1_val.json"
    path.write_text(json.dumps({"dataset_type": "val", "dataset_name": "textcaps", "dataset_version": 0.1, "data": records}))
    loaded = textcaps_captions(path, root.parent, style="audio_description", policy=FramePolicy(max_pixels=4096))
    assert [item.key for item in loaded.items] == ["image1", "image2"] and not loaded.problems
    assert loaded.items[1].references == REFS["image2"] and loaded.items[1].meta["file_name"] == "train/image2.jpg"


def test_real_textcaps_file_reads_and_reports_its_absent_images(tmp_path: Path) -> None:
    loaded = textcaps_captions(FIXTURES / "textcaps/TextCaps_0.1_val_sample100.json", tmp_path,
                               style="audio_description", policy=FramePolicy(max_pixels=4096))
    assert loaded.items == [] and loaded.problems == [
        f"99 of 99 images not found under {tmp_path} (e.g. train/015efa517e260a6c.jpg): not evaluated"]  # sorted ids


def write_mmbench(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MMBENCH_COLUMNS, delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    return path


def mmbench_rows() -> list[dict]:
    image = base64.b64encode((FIXTURES / "images/image2.jpg").read_bytes()).decode()
    cat = base64.b64encode((FIXTURES / "images/image1.jpg").read_bytes()).decode()
    options = ["dog", "cat", "horse"]
    rows = []
    for k in range(3):  # question 0 and its two rotations; the rotations point at row 0's image
        rotated = options[k:] + options[:k]
        rows.append({"index": k * 1_000_000, "question": "What wears the headphones?", "hint": "nan",
                     "A": rotated[0], "B": rotated[1], "C": rotated[2], "D": "", "answer": "ABC"[rotated.index("dog")],
                     "category": "object_localization", "l2-category": "finegrained_perception",
                     "image": image if k == 0 else "0"})
    rows.append({"index": 1, "question": "How many cats?", "hint": "Count the animals.", "A": "one", "B": "two",
                 "C": "", "D": "", "answer": "B", "category": "counting", "l2-category": "coarse_perception", "image": cat})
    rows.append({"index": 2, "question": "Broken row", "hint": "", "A": "x", "B": "y", "C": "", "D": "", "answer": "B",
                 "category": "counting", "l2-category": "", "image": "99"})  # refers to no row
    return rows


def test_mmbench_tsv_resolves_image_references_and_rotations(tmp_path: Path) -> None:
    loaded = mmbench_questions(write_mmbench(tmp_path / "MMBench_DEV_EN.tsv", mmbench_rows()))
    assert [q.index for q in loaded.items] == [0, 1, 1_000_000, 2_000_000]
    assert len(loaded.problems) == 1 and "line 6 (index 2)" in loaded.problems[0] and "no image" in loaded.problems[0]
    first, rotation = loaded.items[0], loaded.items[2]
    assert rotation.image == first.image and rotation.group == 0 and rotation.options == {"A": "cat", "B": "horse", "C": "dog"}
    assert rotation.answer == "C" and first.hint == ""  # "nan" is pandas' empty cell
    prompt = loaded.items[1].prompt()
    assert prompt == "Count the animals.\nHow many cats?\nA. one\nB. two\n" + MMBENCH_INSTRUCTION
    assert loaded.items[1].load_frames(FramePolicy(max_pixels=4096))[0].mode == "RGB"


def test_mmbench_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("index\tquestion\n1\tq\n")
    with pytest.raises(ValueError, match="columns missing: A, B, answer, image"):
        mmbench_questions(path)


@pytest.mark.parametrize(("answer", "expected"), [
    ("B", "B"), ("(C)", "C"), ("B. two", "B"), ("The answer is D.", None),  # D is not an option here
    ("two", "B"), ("A", "A"), ("A dog lies on a carpet.", None), ("A or B", None), ("one or two", None), ("", None),
])
def test_answer_extraction_rules(answer: str, expected: str | None) -> None:
    assert extract_choice(answer, {"A": "one", "B": "two", "C": "three"}) == expected


def test_circular_eval_needs_every_rotation_right() -> None:
    def q(index: int, answer: str, category: str = "c") -> ChoiceQuestion:
        return ChoiceQuestion(index, "q", "", {"A": "x", "B": "y"}, answer, category, "", b"")

    questions = [q(0, "A"), q(1_000_000, "B"), q(1, "A", "d"), q(1_000_001, "B", "d")]
    summary, rows = circular_eval(questions, {0: "A", 1_000_000: "B", 1: "A", 1_000_001: "I cannot tell"})
    assert summary["questions"] == 2 and summary["circular_accuracy"] == 0.5  # question 1 fails its rotation
    assert summary["vanilla_accuracy"] == 1.0  # both right in their original order
    assert summary["unresolved"] == 1 and [r["extracted"] for r in rows] == ["A", "B", "A", None]
    assert summary["by_category"] == {"c": 1.0, "d": 0.0}
