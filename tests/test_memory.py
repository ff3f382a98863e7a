"""The analytic peak-memory planner: components, knobs, budgets."""

from __future__ import annotations

import pytest

from train.memory import GiB, MemoryBudgetError, MemoryPlan, check_budget, predict_peak_memory
from train.recipes import Recipe, available_recipes, load_recipe

FLAGSHIP = "qwen2.5-vl-3b-lora"
KNOBS = (
    "gradient checkpointing",
    "data.frames",
    "data.max_pixels",
    "train.per_device_batch_size",
    "gradient_accumulation",
    "lora.r",
    "freeze a tower",
    "train.max_seq_length",
)


def _with(recipe: Recipe, section: str, **changes: object) -> Recipe:
    return recipe.model_copy(update={section: getattr(recipe, section).model_copy(update=changes)})


@pytest.mark.parametrize("name", available_recipes())
def test_components_add_up(name: str) -> None:
    plan = predict_peak_memory(load_recipe(name))
    parts = plan.components()
    assert set(parts) == set(MemoryPlan.COMPONENTS)
    assert all(v >= 0 for v in parts.values())
    assert plan.total == sum(parts.values())
    table = plan.table()
    for component in parts:
        assert component in table
    assert "total" in table and str(plan) == table


def test_weights_and_optimizer_bytes() -> None:
    recipe = load_recipe(FLAGSHIP)
    plan = predict_peak_memory(recipe)
    assert plan.weights == recipe.architecture.total_params * 2  # bf16
    assert plan.lora_weights == plan.lora_grads == plan.lora_params * 4
    assert plan.lora_optimizer == plan.lora_params * 8
    assert plan.full_params == 0 and plan.full_grads == plan.full_optimizer == 0
    # training the merger in full: bf16 grads + fp32 master + two fp32 moments
    merger = predict_peak_memory(
        recipe.model_copy(update=dict(phases=(recipe.phases[0].model_copy(update=dict(projector="full")),)))
    )
    n = recipe.architecture.projector.params
    assert merger.full_params == n
    assert (merger.full_grads, merger.full_optimizer) == (n * 2, n * 12)


def test_logits_scale_with_batch_seq_vocab() -> None:
    recipe = load_recipe(FLAGSHIP)
    plan = predict_peak_memory(recipe)
    elements = plan.batch_size * plan.seq_len * recipe.architecture.language.vocab_size
    assert plan.logits == elements * (2 + 4)
    assert plan.logits_grad == elements * 4
    double = predict_peak_memory(recipe, batch_size=2)
    assert double.logits == 2 * plan.logits


def test_checkpointing_lowers_activations() -> None:
    for name in available_recipes():
        recipe = load_recipe(name)
        on = predict_peak_memory(recipe, gradient_checkpointing=True)
        off = predict_peak_memory(recipe, gradient_checkpointing=False)
        assert on.language_activations < off.language_activations
        assert on.total < off.total
        assert on.weights == off.weights and on.logits == off.logits


def test_fewer_frames_and_smaller_pixel_budget_lower_tokens_and_memory() -> None:
    recipe = load_recipe(FLAGSHIP)
    base = predict_peak_memory(recipe)
    fewer = predict_peak_memory(_with(recipe, "data", frames=4), seq_len=2048)
    smaller = predict_peak_memory(_with(recipe, "data", max_pixels=224 * 224), seq_len=2048)
    assert base.visual_tokens == 8 * 256
    assert fewer.visual_tokens == 4 * 256
    assert smaller.visual_tokens == 8 * 64  # 224*224 / 28^2
    for plan in (fewer, smaller):
        assert plan.vision_activations < base.vision_activations
        assert plan.total < base.total


def test_flagship_fits_with_checkpointing_and_not_without() -> None:
    recipe = load_recipe(FLAGSHIP)
    plan = predict_peak_memory(recipe)
    assert plan.gradient_checkpointing
    assert plan.total < 24 * GiB
    check_budget(plan, recipe.memory.budget_gib)  # no error

    off = predict_peak_memory(recipe, gradient_checkpointing=False)
    with pytest.raises(MemoryBudgetError) as err:
        check_budget(off, recipe.memory.budget_gib)
    message = str(err.value)
    assert FLAGSHIP in message and "24 GiB" in message
    assert "language_activations" in message  # the biggest component is named
    for knob in KNOBS:
        assert knob in message, knob
    assert "currently off" in message


def test_flagship_with_32_frames_is_refused() -> None:
    recipe = _with(load_recipe(FLAGSHIP), "data", frames=32)
    plan = predict_peak_memory(recipe)
    assert plan.visual_tokens == 32 * 256
    assert plan.seq_len >= plan.visual_tokens  # the sequence must hold every visual token
    assert plan.notes  # ... and the plan says it had to grow past train.max_seq_length
    with pytest.raises(MemoryBudgetError) as err:
        check_budget(plan, recipe.memory.budget_gib)
    for knob in KNOBS:
        assert knob in str(err.value), knob


def test_tiny_fits_4_gib() -> None:
    recipe = load_recipe("tiny")
    plan = predict_peak_memory(recipe)
    assert recipe.memory.budget_gib == 4
    assert plan.total < 4 * GiB
    check_budget(plan, recipe.memory.budget_gib)


@pytest.mark.parametrize("name", ["llava-llama3.2-3b", "llava-qwen2.5-3b", "llava-phi3-mini"])
def test_llava_recipes_fit_and_report_their_largest_phase(name: str) -> None:
    recipe = load_recipe(name)
    plan = predict_peak_memory(recipe)
    phases = {p.name: predict_peak_memory(recipe, phase=p.name) for p in recipe.phases}
    assert plan.total == max(p.total for p in phases.values())
    assert phases["align"].lora_params == 0
    assert phases["align"].full_params == recipe.architecture.projector.params
    check_budget(plan, recipe.memory.budget_gib)
    with pytest.raises(ValueError, match="align"):
        predict_peak_memory(recipe, phase="nope")


def _lora_expected(recipe: Recipe, r: int) -> int:
    lang = recipe.architecture.language
    shapes = lang.linear_shapes()
    return lang.layers * sum(r * (shapes[m][0] + shapes[m][1]) for m in recipe.lora.target_modules)


def test_lora_rank_sets_trainable_params() -> None:
    recipe = load_recipe(FLAGSHIP)
    h, kv, inter = 2048, 2 * 128, 11008
    per_layer_dims = (h + h) + 2 * (h + kv) + (h + h) + 2 * (h + inter) + (inter + h)  # q, k+v, o, gate+up, down
    for r in (4, 8, 16, 64):
        plan = predict_peak_memory(_with(recipe, "lora", r=r))
        assert plan.lora_params == 36 * r * per_layer_dims == _lora_expected(recipe, r)
        assert plan.trainable_params == plan.lora_params
    assert predict_peak_memory(recipe).lora_params == 29_933_568
    small = predict_peak_memory(_with(recipe, "lora", r=8))
    assert small.total < predict_peak_memory(recipe).total


def test_lora_on_phi3_fused_projections() -> None:
    recipe = load_recipe("llava-phi3-mini")
    plan = predict_peak_memory(recipe, phase="lora")
    h, inter = 3072, 8192
    per_layer = (h + 3 * h) + (h + h) + (h + 2 * inter) + (inter + h)  # qkv_proj, o_proj, gate_up_proj, down_proj
    assert plan.lora_params == 32 * 16 * per_layer


def test_tiny_full_towers_count_as_full_params() -> None:
    recipe = load_recipe("tiny")
    arch = recipe.architecture
    every_tower = recipe.phases[0].model_copy(update=dict(vision="full", projector="full", language="full"))
    recipe = recipe.model_copy(update=dict(phases=(every_tower,)))
    everything = predict_peak_memory(recipe)
    assert everything.lora_params == 0
    assert everything.full_params == arch.vision.params + arch.projector.params + arch.language.params
    recipe = recipe.model_copy(update=dict(phases=(recipe.phases[0].model_copy(update=dict(language="lora")),)))
    plan = predict_peak_memory(recipe)
    assert plan.full_params == arch.vision.params + arch.projector.params
    assert plan.lora_params == _lora_expected(recipe, 16)
    assert plan.full_optimizer == plan.full_params * 8  # fp32 weights are their own master copy


def test_freezing_and_batch_lower_memory() -> None:
    recipe = load_recipe("tiny")
    recipe = recipe.model_copy(update=dict(phases=(recipe.phases[0].model_copy(update=dict(vision="full")),)))
    base = predict_peak_memory(recipe)
    frozen = recipe.model_copy(update=dict(phases=(recipe.phases[0].model_copy(update=dict(vision="frozen")),)))
    assert predict_peak_memory(frozen).total < base.total
    assert predict_peak_memory(recipe, batch_size=1).total < base.total
    assert predict_peak_memory(recipe, seq_len=128).total < base.total


def test_check_budget_passes_under_budget() -> None:
    plan = predict_peak_memory(load_recipe("tiny"))
    check_budget(plan, plan.total / GiB + 0.01)
    with pytest.raises(MemoryBudgetError):
        check_budget(plan, plan.total / GiB - 0.01)
