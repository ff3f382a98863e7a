"""The step-one gradient check catches LoRA cut off by gradient checkpointing, and passes a healthy model."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from peft import LoraConfig, get_peft_model
from PIL import Image

from narrate.model import load_narrator
from train.gradient_flow import GradientFlowError, check_gradient_flow, tower_of
from train.tiny_model import build_tiny_llava

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    with (REPO / "data/sample/lvd2m/lvd2m_sample.csv").open(encoding="utf-8", newline="") as handle:
        texts = [row["refined_caption"] for row in csv.DictReader(handle)][:80]
    folder = tmp_path_factory.mktemp("tiny")
    build_tiny_llava(texts, folder)
    return folder, texts


def step_one(folder: Path, text: str, *, lora: bool, cut_off: bool, train_projector: bool = False,  # type: ignore[no-untyped-def]
             train_head: bool = False):
    model, processor = load_narrator(str(folder))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    if lora:
        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=r".*language_model.*\.(q_proj|v_proj)"))
    for name, parameter in model.named_parameters():
        if (train_projector and "multi_modal_projector" in name) or (train_head and "lm_head" in name):
            parameter.requires_grad_(True)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    if cut_off:  # what older transformers, or a custom loop, leaves you with
        model.disable_input_require_grads()
    model.train()
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Narrate the clip."}]},
        {"role": "assistant", "content": [{"type": "text", "text": text}]},
    ]
    batch = processor(images=[Image.new("RGB", (96, 96), "red")], text=processor.apply_chat_template(messages),
                      return_tensors="pt")
    model(**batch, labels=batch["input_ids"]).loss.backward()
    return model


def test_lora_cut_off_by_checkpointing_is_caught(tiny: tuple[Path, list[str]]) -> None:
    folder, texts = tiny
    # Nothing before the decoder trains, so no checkpointed block's input requires grad; the head
    # after the blocks does, so the loss still falls and the run looks healthy: the silent case.
    model = step_one(folder, texts[0], lora=True, cut_off=True, train_head=True)
    with pytest.raises(GradientFlowError, match=r"language: 8 of 9 trainable tensors got no gradient(.|\n)*enable_input_require_grads"):
        check_gradient_flow(model, ["language"])


def test_healthy_lora_passes_even_though_lora_a_starts_with_zero_gradient(tiny: tuple[Path, list[str]]) -> None:
    folder, texts = tiny
    model = step_one(folder, texts[0], lora=True, cut_off=False, train_projector=True)
    report = check_gradient_flow(model, ["projector", "language"])
    assert report["language"].with_gradient == report["language"].trainable == 8
    assert report["language"].nonzero == 4  # the B matrices; A's gradient is 0 while B is 0
    with pytest.raises(GradientFlowError, match="vision: marked trainable in the recipe but has no trainable parameters"):
        check_gradient_flow(model, ["vision"])


def test_towers_by_parameter_name() -> None:
    assert tower_of("base_model.model.model.vision_tower.encoder.layers.0.mlp.fc1.weight") == "vision"
    assert tower_of("model.multi_modal_projector.linear_1.weight") == "projector"
    assert tower_of("model.language_model.layers.1.self_attn.q_proj.lora_B.default.weight") == "language"
    assert tower_of("lm_head.weight") == "language"
    assert tower_of("model.visual.merger.mlp.0.weight") == "projector"  # Qwen2.5-VL
    assert tower_of("model.visual.blocks.0.attn.qkv.weight") == "vision"
