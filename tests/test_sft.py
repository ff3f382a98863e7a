"""Tower modes decide exactly which weights train."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from narrate.model import load_narrator
from train.recipes import load_recipe
from train.sft import configure_towers
from train.tiny_model import build_tiny_llava

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with (REPO / "data/sample/lvd2m/lvd2m_sample.csv").open(encoding="utf-8", newline="") as handle:
        texts = [row["refined_caption"] for row in csv.DictReader(handle)][:60]
    out = tmp_path_factory.mktemp("tiny")
    build_tiny_llava(texts, out)
    return out


def trainable(model) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for name, p in model.named_parameters() if p.requires_grad}


def test_full_towers_train_everything_the_forward_uses_head_included(folder: Path) -> None:
    recipe = load_recipe("tiny")
    model, _ = load_narrator(str(folder))
    every_tower = recipe.phases[0].model_copy(update=dict(vision="full", projector="full", language="full"))
    model, towers = configure_towers(model, recipe, every_tower)
    names = trainable(model)
    frozen = {name for name, _ in model.named_parameters()} - names
    assert towers == ["vision", "projector", "language"]
    assert "lm_head.weight" in names  # outside `language_model`: once missed, logits stayed random
    assert frozen == {"model.vision_tower.post_layernorm.weight", "model.vision_tower.post_layernorm.bias"}


def test_lora_language_trains_adapters_only_there(folder: Path) -> None:
    recipe = load_recipe("tiny")
    phase = recipe.phases[0].model_copy(update=dict(language="lora", vision="frozen", projector="full"))
    model, _ = load_narrator(str(folder))
    model, towers = configure_towers(model, recipe, phase)
    names = trainable(model)
    assert towers == ["projector", "language"]
    assert all("lora_" in n or "multi_modal_projector" in n for n in names)
    assert any("language_model" in n and "lora_A" in n for n in names)
    assert not any("vision_tower" in n for n in names) and not any("lm_head" in n for n in names)
