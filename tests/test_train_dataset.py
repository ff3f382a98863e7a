"""Training examples: frames and narration in TRL's format, blind control, length limit without truncation."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from narrate.conversation import PROMPTS, STYLE_OF_SOURCE, conversation, load_examples, style_of
from narrate.model import load_narrator
from train.dataset import split_by_length, to_dataset, token_length
from train.tiny_model import build_tiny_llava

from .train_fixtures import make_training_inputs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with (REPO / "data/sample/lvd2m/lvd2m_sample.csv").open(encoding="utf-8", newline="") as handle:
        texts = [row["refined_caption"] for row in csv.DictReader(handle)][:80]
    folder = tmp_path_factory.mktemp("tiny")
    build_tiny_llava(texts, folder)
    return load_narrator(str(folder))[1]


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("inputs")
    make_training_inputs(folder, count=8)
    return load_examples(folder / "data/frames/train.parquet", folder / "data/mixtures/train.parquet")


def test_conversation_puts_one_image_slot_per_frame_before_the_prompt() -> None:
    messages = conversation(3, "A red circle moves left.")
    assert [part["type"] for part in messages[0]["content"]] == ["image", "image", "image", "text"]
    assert messages[0]["content"][-1]["text"] == PROMPTS["dense"]
    assert messages[1] == {"role": "assistant", "content": [{"type": "text", "text": "A red circle moves left."}]}
    assert len(conversation(2)) == 1  # generation: the user turn only


def test_each_source_trains_with_the_prompt_of_its_style(examples) -> None:  # type: ignore[no-untyped-def]
    from curation.schema import SOURCES

    assert set(STYLE_OF_SOURCE) == set(SOURCES)  # every source has a style
    assert len(set(PROMPTS.values())) == len(PROMPTS)  # styles are told apart by their prompt
    mixed = examples.head(2).with_columns(source=pl.Series(["lvd2m", "youdescribe"]))
    prompts = [row["messages"][0]["content"][-1]["text"] for row in to_dataset(mixed)]
    assert prompts == [PROMPTS["dense"], PROMPTS["audio_description"]]
    assert conversation(1, style="audio_description")[0]["content"][-1]["text"] == PROMPTS[style_of("ad_webvtt")]
    with pytest.raises(ValueError, match="STYLE_OF_SOURCE"):
        style_of("tiktok")
    with pytest.raises(ValueError, match="use one of"):
        conversation(1, style="poem")


def test_dataset_rows_follow_the_curriculum_and_blind_frames_are_black(examples) -> None:  # type: ignore[no-untyped-def]
    seeing = to_dataset(examples.head(4))
    blind = to_dataset(examples.head(4), blind=True)
    assert seeing["example_id"] == examples.head(4)["example_id"].to_list()
    assert examples["curriculum_position"].is_sorted()
    first, dark = seeing[0]["images"][0], blind[0]["images"][0]
    assert first.size == dark.size and first.getextrema() != ((0, 0), (0, 0), (0, 0))
    assert dark.getextrema() == ((0, 0), (0, 0), (0, 0))
    assert seeing[0]["messages"] == blind[0]["messages"]


def test_over_length_examples_are_left_out_and_counted_never_truncated(examples, processor) -> None:  # type: ignore[no-untyped-def]
    dataset = to_dataset(examples.head(6))
    lengths = [token_length(processor, row["images"], row["messages"]) for row in dataset]
    frames = len(dataset[0]["images"])
    assert min(lengths) > 16 * frames  # every frame expands into 16 visual tokens
    limit = sorted(lengths)[2]
    kept, over = split_by_length(dataset, processor, limit)
    assert len(kept) + len(over) == len(dataset)
    assert sorted(o["tokens"] for o in over) == sorted(n for n in lengths if n > limit)
    assert all(token_length(processor, row["images"], row["messages"]) <= limit for row in kept)
