"""Benchmark readers: each official file format at a local path becomes a list of items to answer.

Caption benchmarks give `CaptionItem`s (frames to narrate + reference captions):
- the narrator's own held-out split: the frames stage's frames + the mix stage's test mixture;
- COCO-format captions files (`images` + `annotations`): COCO Karpathy test, NoCaps val
  (`nocaps_val_4500_captions.json`, whose images carry a `domain`), or any set in that format;
- TextCaps (`TextCaps_0.1_val.json`: `data[]` records with `image_id`, `image_path`,
  `caption_str`, `reference_strs`), images under the TextVQA image folder.
MMBench (the official TSV) gives `ChoiceQuestion`s, scored by `circular_eval`.

Image names come from annotation files: a name that resolves outside its image folder is
refused. An image listed but absent from the folder is not evaluated, and the loader says so
(`problems`): the report prints it, since the evaluated set then differs from the official one.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from PIL import Image

from narrate.conversation import decode_frames, load_examples, style_of
from narrate.frames import FramePolicy, Frames, Media, arrange, fit_pixels, inside, sample_frames

CIRCULAR_STRIDE = 1_000_000  # MMBench: rotation k of question i has index i + k * 1e6
CHOICE_LETTERS = "ABCDEFGHI"
# Characters VLMEvalKit's rule-based matcher (can_infer_option) turns into spaces before it looks for a letter.
ANSWER_PUNCTUATION = ".()[],:;!*#{}"
# LLaVA-1.5's MMBench prompt (model_vqa_mmbench.py, --single-pred-prompt).
MMBENCH_INSTRUCTION = "Answer with the option's letter from the given choices directly."


@dataclass(frozen=True)
class CaptionItem:
    key: str | int  # image id, or the mixture's example_id
    references: list[str]
    style: str  # narration style (train.dataset.PROMPTS) for this item
    load_frames: Callable[[], list[Image.Image]] = field(repr=False, compare=False)
    meta: dict = field(default_factory=dict, compare=False)  # e.g. NoCaps domain, file name


@dataclass
class Loaded:
    items: list
    problems: list[str] = field(default_factory=list)  # what was left out, and why (for the report)


def still_image(path: Path, policy: FramePolicy) -> Callable[[], list[Image.Image]]:
    """A loader for one image as a one-frame clip, read, scaled and laid out by the frames stage's own code."""

    def load() -> list[Image.Image]:
        frames = sample_frames(Media(path, 0.0, 0.0, "image"), policy)
        if not isinstance(frames, Frames):
            raise ValueError(f"benchmark image {frames.detail}: replace or remove the file")
        return frames.images

    return load


def image_under(root: Path, name: str) -> Path | None:
    """`root / name` if it exists and stays inside `root` (symlinks resolved); None if absent."""
    if not name or "\x00" in name or Path(name).is_absolute():
        raise ValueError(f"refused image name {name!r}: not a relative path")
    candidate = root / name
    if not candidate.exists():
        return None
    if not inside(root, candidate):
        raise ValueError(f"refused image name {name!r}: it resolves outside the image folder {root}")
    return candidate


def narrator_split(frames_file: str | Path, mixture_file: str | Path) -> Loaded:
    """The mix stage's held-out clips that have frames, with their narration as the one reference."""
    examples = load_examples(frames_file, mixture_file)
    items = [
        CaptionItem(key=row["example_id"], references=[row["text"]], style=style_of(row["source"]),
                    load_frames=lambda pngs=row["frames"]: decode_frames(pngs), meta={"source": row["source"]})
        for row in examples.sort("example_id").iter_rows(named=True)
    ]
    left_out = pl.read_parquet(mixture_file, columns=["example_id"]).height - len(items)
    problems = [f"{left_out} test example(s) have no frames (see data/frames/skipped.parquet)"] if left_out else []
    return Loaded(items, problems)


def coco_captions(annotations: str | Path, images: str | Path, *, style: str, policy: FramePolicy) -> Loaded:
    """A COCO-format captions file: every listed image that has captions, in image id order."""
    from eval.caption_metrics import load_coco_annotations

    references, records = load_coco_annotations(annotations)
    root = Path(images)
    items, missing, uncaptioned = [], [], 0
    for image_id in sorted(records):
        record = records[image_id]
        if image_id not in references:
            uncaptioned += 1
            continue
        name = record.get("file_name")
        if not isinstance(name, str):
            raise ValueError(f"{annotations}: image {image_id} has no string 'file_name'")
        path = image_under(root, name)
        if path is None:
            missing.append(name)
            continue
        meta = {"file_name": name} | ({"domain": record["domain"]} if "domain" in record else {})
        items.append(CaptionItem(image_id, references[image_id], style, still_image(path, policy), meta))
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(missing) + len(items)} images not found under {root} "
                        f"(e.g. {missing[0]}): not evaluated")
    if uncaptioned:
        problems.append(f"{uncaptioned} listed image(s) have no caption in {annotations}: not evaluated")
    return Loaded(items, problems)


def textcaps_captions(annotations: str | Path, images: str | Path, *, style: str, policy: FramePolicy) -> Loaded:
    """TextCaps (`TextCaps_0.1_val.json`): one item per image id, its captions as the references.

    The file holds one record per caption; every record of an image lists all of that image's
    captions in `reference_strs`, which are the references (as in the official evaluation).
    Images are looked for at `image_path` under `images` (the TextVQA folder, where the path
    starts with train/), then at `<image_id>.jpg` directly in it.
    """
    path = Path(annotations)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable TextCaps file ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path}: a TextCaps file is an object with a 'data' list")
    root = Path(images)
    by_image: dict[str, dict] = {}
    for n, record in enumerate(data["data"]):
        if not isinstance(record, dict) or not isinstance(record.get("image_id"), str):
            raise ValueError(f"{path}: data[{n}] needs a string 'image_id'")
        refs = record.get("reference_strs")
        if not (isinstance(refs, list) and refs and all(isinstance(r, str) for r in refs)):
            raise ValueError(f"{path}: data[{n}] (image {record['image_id']}) needs 'reference_strs', a list of strings")
        by_image.setdefault(record["image_id"], record)
    items, missing = [], []
    for image_id in sorted(by_image):
        record = by_image[image_id]
        names = [record["image_path"]] if isinstance(record.get("image_path"), str) else []
        names.append(f"{image_id}.jpg")
        found = next((p for p in (image_under(root, n) for n in names) if p is not None), None)
        if found is None:
            missing.append(names[0])
            continue
        items.append(CaptionItem(image_id, list(record["reference_strs"]), style, still_image(found, policy),
                                 {"file_name": str(found.relative_to(root))}))
    problems = [f"{len(missing)} of {len(by_image)} images not found under {root} (e.g. {missing[0]}): not evaluated"] \
        if missing else []
    return Loaded(items, problems)


# ---------------------------------------------------------------------------------------------
# MMBench
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceQuestion:
    index: int  # the TSV's index; index % CIRCULAR_STRIDE is the question, the rest its rotation
    question: str
    hint: str
    options: dict[str, str]  # letter -> option text, in order
    answer: str  # the right letter
    category: str
    l2_category: str
    image: bytes = field(repr=False)

    @property
    def group(self) -> int:
        return self.index % CIRCULAR_STRIDE

    def prompt(self) -> str:
        """LLaVA-1.5's MMBench prompt: hint, question, lettered options, the one-letter instruction."""
        lines = ([self.hint] if self.hint else []) + [self.question]
        lines += [f"{letter}. {text}" for letter, text in self.options.items()]
        return "\n".join(lines + [MMBENCH_INSTRUCTION])

    def load_frames(self, policy: FramePolicy) -> list[Image.Image]:
        with Image.open(io.BytesIO(self.image)) as image:
            return arrange(policy, [fit_pixels(image.convert("RGB"), policy.max_pixels)])


def _cell(value: str | None) -> str:
    # pandas (and the official readers) see empty cells as NaN; both mean "no value" here.
    return "" if value is None or value.strip().lower() == "nan" else value.strip()


def mmbench_questions(tsv: str | Path) -> Loaded:
    """The official MMBench TSV (dev: with answers). Rows that cannot be asked are left out with a reason.

    The `image` cell holds a base64 image, or (64 characters or fewer) the index of another row
    whose image it shares, as the official files do for a question's rotations.
    """
    path = Path(tsv)
    try:
        table = pl.read_csv(path, separator="\t", infer_schema=False, quote_char='"')
    except (OSError, pl.exceptions.PolarsError) as error:
        raise ValueError(f"{path}: not a readable MMBench TSV ({error})") from error
    required = {"index", "question", "A", "B", "answer", "image"}
    if not required <= set(table.columns):
        raise ValueError(f"{path}: MMBench TSV columns missing: {', '.join(sorted(required - set(table.columns)))} "
                         "(expected index, question, hint, A-D, answer, category, l2-category, image)")
    rows = table.to_dicts()
    images = {_cell(r["index"]): _cell(r["image"]) for r in rows}
    questions, problems = [], []
    for n, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{path} line {n} (index {row['index']})"
        try:
            index = int(float(_cell(row["index"])))
        except ValueError:
            problems.append(f"{where}: index is not a number: left out")
            continue
        image = images.get(_cell(row["index"]), "")
        if len(image) <= 64:  # a reference to the row holding the image
            image = images.get(image, "")
        try:
            image_bytes = base64.b64decode(image, validate=True) if len(image) > 64 else b""
        except (binascii.Error, ValueError):
            image_bytes = b""
        if not image_bytes:
            problems.append(f"{where}: no image (neither base64 nor the index of a row with one): left out")
            continue
        options = {letter: _cell(row.get(letter)) for letter in CHOICE_LETTERS if _cell(row.get(letter))}
        answer = _cell(row["answer"])
        if answer not in options:
            problems.append(f"{where}: answer {answer!r} is not one of the options {''.join(options)}: left out")
            continue
        questions.append(ChoiceQuestion(
            index=index, question=_cell(row["question"]), hint=_cell(row.get("hint")), options=options,
            answer=answer, category=_cell(row.get("category")), l2_category=_cell(row.get("l2-category")),
            image=image_bytes,
        ))
    questions.sort(key=lambda q: q.index)
    return Loaded(questions, problems)


def extract_choice(answer: str, options: dict[str, str]) -> str | None:
    """The option letter an answer picks, by VLMEvalKit's rules (no LLM judge); None when unresolved.

    1. Exactly one option letter stands alone among the words (after ANSWER_PUNCTUATION becomes
       spaces): that letter. "A" inside a longer answer (over 3 words) is read as the article
       and resolves nothing (VLMEvalKit's verbose-mode check).
    2. Otherwise, exactly one option's text appears in the answer (case-insensitive): that option.
    """
    text = answer
    for char in ANSWER_PUNCTUATION:
        text = text.replace(char, " ")
    words = text.split()
    letters = [letter for letter in options if letter in words]
    if len(letters) == 1 and not (letters[0] == "A" and len(words) > 3):
        return letters[0]
    lowered = answer.lower()
    matches = [letter for letter, option in options.items() if option.lower() in lowered]
    return matches[0] if len(matches) == 1 else None


def circular_eval(questions: list[ChoiceQuestion], answers: dict[int, str]) -> tuple[dict, list[dict]]:
    """MMBench CircularEval: a question counts only if every one of its rotations is answered right.

    `answers` maps TSV index -> the model's raw answer. Unresolved answers count as wrong and are
    counted. Returns the summary (accuracies in 0-1) and one record per row.
    """
    rows = []
    for q in questions:
        picked = extract_choice(answers[q.index], q.options)
        rows.append({"index": q.index, "group": q.group, "category": q.category, "l2_category": q.l2_category,
                     "answer": q.answer, "prediction": answers[q.index], "extracted": picked,
                     "correct": picked == q.answer})
    groups: dict[int, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    passed = {g: all(r["correct"] for r in members) for g, members in groups.items()}
    by_category: dict[str, list[bool]] = {}
    for g, members in groups.items():
        by_category.setdefault(members[0]["category"] or "(none)", []).append(passed[g])
    firsts = [r for r in rows if r["index"] < CIRCULAR_STRIDE]
    summary = {
        "circular_accuracy": sum(passed.values()) / len(passed) if passed else 0.0,
        # Each question asked once, in its original option order (rotation 0).
        "vanilla_accuracy": (sum(r["correct"] for r in firsts) / len(firsts)) if firsts else 0.0,
        "questions": len(groups),
        "rows": len(rows),
        "unresolved": sum(r["extracted"] is None for r in rows),
        "by_category": {c: sum(v) / len(v) for c, v in sorted(by_category.items())},
    }
    return summary, rows
