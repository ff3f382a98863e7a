"""Recipe files load into typed, validated `Recipe`s; broken files name file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from train.recipes import (
    RECIPES_DIR,
    Recipe,
    RecipeError,
    available_recipes,
    load_recipe,
)

EXPECTED = {"tiny", "qwen2.5-vl-3b-lora", "llava-llama3.2-3b", "llava-qwen2.5-3b", "llava-phi3-mini"}


def test_every_recipe_loads() -> None:
    assert EXPECTED <= set(available_recipes())
    for name in available_recipes():
        recipe = load_recipe(name)
        assert isinstance(recipe, Recipe)
        assert recipe.name == name
        assert recipe.phases
        assert recipe.train.max_seq_length >= recipe.visual_tokens


def test_recipe_is_frozen() -> None:
    recipe = load_recipe("tiny")
    with pytest.raises(ValidationError, match="frozen"):
        recipe.name = "other"  # type: ignore[misc]


def test_tiny_matches_the_tiny_model_defaults() -> None:
    recipe = load_recipe("tiny")
    lang, vis = recipe.architecture.language, recipe.architecture.vision
    assert recipe.model.path == "models/tiny-llava"
    assert recipe.model.dtype == "float32"
    assert (lang.hidden_size, lang.layers, lang.attention_heads, lang.vocab_size) == (256, 4, 4, 2000)
    assert (vis.hidden_size, vis.layers, vis.image_size, vis.patch_size) == (96, 3, 128, 16)
    # One 2x2 grid of 64x64 frames per example: 64 visual tokens, 16 per frame, what build_tiny_llava's processor expands to.
    assert recipe.data.layout == "grid" and recipe.data.frames_per_image == 4 and recipe.data.max_pixels == 64 * 64
    assert recipe.visual_tokens == 64 and recipe.visual_tokens_per_frame == 16
    assert recipe.lora.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    assert (recipe.lora.r, recipe.lora.alpha, recipe.lora.dropout) == (16, 32, 0.05)
    (phase,) = recipe.phases
    # Random init: projector and decoder learn; the random tower stays frozen (the recipe says why).
    assert phase.modes() == {"vision": "frozen", "projector": "full", "language": "full"}
    assert recipe.train.gradient_checkpointing is False
    assert recipe.memory.budget_gib == 4


def test_flagship_recipe() -> None:
    recipe = load_recipe("qwen2.5-vl-3b-lora")
    lang, vis = recipe.architecture.language, recipe.architecture.vision
    assert recipe.model.path == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert recipe.model.dtype == "bfloat16"
    assert (lang.layers, lang.hidden_size, lang.intermediate_size) == (36, 2048, 11008)
    assert (lang.attention_heads, lang.kv_heads, lang.vocab_size) == (16, 2, 151936)
    assert (vis.layers, vis.hidden_size, vis.patch_size, vis.spatial_merge) == (32, 1280, 14, 2)
    assert recipe.visual_tokens_per_frame == 448 * 448 // 28**2 == 256
    assert recipe.data.frames == 8
    assert set(recipe.lora.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    (phase,) = recipe.phases
    assert (phase.vision, phase.language) == ("frozen", "lora")
    assert phase.learning_rate == pytest.approx(1e-4) and phase.epochs == 2
    assert recipe.train.gradient_checkpointing
    assert (recipe.train.per_device_batch_size, recipe.train.gradient_accumulation_steps) == (1, 16)
    assert recipe.memory.budget_gib == 24
    assert recipe.architecture.total_params == 3_754_622_976  # the published 3.75B


@pytest.mark.parametrize("name", ["llava-llama3.2-3b", "llava-qwen2.5-3b", "llava-phi3-mini"])
def test_llava_recipes_align_then_lora(name: str) -> None:
    recipe = load_recipe(name)
    assert recipe.model.vision_encoder == "google/siglip-so400m-patch14-384"
    align, lora = recipe.phases
    assert align.modes() == {"vision": "frozen", "projector": "full", "language": "frozen"}
    assert align.epochs == 1 and align.learning_rate > lora.learning_rate
    assert lora.modes() == {"vision": "frozen", "projector": "full", "language": "lora"}
    assert recipe.visual_tokens_per_frame == 729
    assert recipe.train.max_seq_length <= recipe.architecture.language.max_position_embeddings


def test_unknown_name_lists_available() -> None:
    with pytest.raises(RecipeError) as err:
        load_recipe("no-such-recipe")
    for name in EXPECTED:
        assert name in str(err.value)


def _write(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((RECIPES_DIR / "tiny.yaml").read_text())
    mutate(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_copy_loads_from_a_path(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda raw: None)
    assert load_recipe(str(path)).source == str(path)


@pytest.mark.parametrize(
    ("mutate", "field", "hint"),
    [
        (lambda r: r["train"].pop("max_seq_length"), "train.max_seq_length", "missing"),
        (lambda r: r["lora"].pop("r"), "lora.r", "missing"),
        (lambda r: r["train"].update(per_device_batch_size="four"), "train.per_device_batch_size", "integer"),
        (lambda r: r["train"].update(gradient_checkpointing="yes"), "train.gradient_checkpointing", "valid boolean"),
        (lambda r: r["lora"].update(target_modules="q_proj"), "lora.target_modules", "list"),
        (lambda r: r["train"].update(vision="partial"), "train.vision", "'lora', 'full' or 'frozen'"),
        (lambda r: r["train"].update(projector="lora"), "train.projector", "'full' or 'frozen'"),
        (lambda r: r["model"].update(dtype="fp8"), "model.dtype", "float32"),
        (lambda r: r["train"].update(learnin_rate=1e-3), "train.learnin_rate", "unknown"),
        (lambda r: r["train"].pop("language"), "train.language", "missing"),
        (lambda r: r["data"].update(max_pixels=96 * 96), "data.max_pixels", "128x128"),
        (lambda r: r["data"].update(layout="sequence"), "data.max_pixels", "every frame to 128x128"),
        (lambda r: r["data"].update(layout="film"), "data.layout", "'sequence' or 'grid'"),
        (lambda r: r["train"].update(max_seq_length=60), "train.max_seq_length", "data.frames"),
        (lambda r: r["lora"].update(target_modules=["q_projj"]), "lora.target_modules", "q_proj"),
        (lambda r: r["lora"].update(dropout=1.5), "lora.dropout", "[0, 1)"),
        (lambda r: r["train"].update(language="frozen", vision="frozen", projector="frozen"), "train.language", "trains nothing"),
        (lambda r: [r["train"].pop(k) for k in ("vision", "projector", "language", "epochs", "learning_rate")] and r.update(phases=[]), "phases", "non-empty"),
    ],
)
def test_broken_recipe_names_file_and_field(tmp_path: Path, mutate, field: str, hint: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, mutate)
    with pytest.raises(RecipeError) as err:
        load_recipe(str(path))
    message = str(err.value)
    assert str(path) in message
    assert f"`{field}`" in message
    assert hint in message


def test_phase_keys_in_train_conflict_with_phases_list(tmp_path: Path) -> None:
    raw = yaml.safe_load((RECIPES_DIR / "llava-qwen2.5-3b.yaml").read_text())
    raw["train"]["vision"] = "frozen"
    path = tmp_path / "conflict.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(RecipeError, match=r"`train\.vision`.*phases"):
        load_recipe(str(path))


def test_bundled_recipe_name_must_match_file() -> None:
    # a bundled recipe's name is its file stem (what load_recipe(name) finds)
    for name in available_recipes():
        raw = yaml.safe_load((RECIPES_DIR / f"{name}.yaml").read_text())
        assert raw["name"] == name
