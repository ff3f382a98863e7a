"""The tiny LLaVA narrator: tokenizer, build, the shared loader, and the tiny Qwen2.5-VL check."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from narrate.model import NarratorNotAvailableError, apply_pixel_budget, load_narrator
from train.tiny_model import (
    BOS,
    EOS,
    IMAGE,
    PAD,
    build_tiny_llava,
    count_parameters,
    tiny_qwen2_5_vl_config,
    train_tokenizer,
)

Loaded = tuple[Any, Any]  # (model, processor) from load_narrator
SAMPLE_CSV = Path(__file__).resolve().parents[1] / "data" / "sample" / "lvd2m" / "lvd2m_sample.csv"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    with SAMPLE_CSV.open(newline="", encoding="utf-8") as f:
        rows = [row["refined_caption"] for row, _ in zip(csv.DictReader(f), range(100))]
    assert len(rows) == 100
    return rows


@pytest.fixture(scope="module")
def tiny_dir(texts: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llava(texts, tmp_path_factory.mktemp("tiny") / "narrator")


@pytest.fixture(scope="module")
def loaded(tiny_dir: Path) -> Loaded:
    return load_narrator(str(tiny_dir))


def _messages(image: Image.Image, narration: str) -> list[dict]:  # type: ignore[type-arg]
    return [
        {
            "role": "user",
            "content": [{"type": "image", "image": image}, {"type": "text", "text": "Narrate the clip."}],
        },
        {"role": "assistant", "content": [{"type": "text", "text": narration}]},
    ]


# --- tokenizer ------------------------------------------------------------------------------


def test_tokenizer_round_trips_and_knows_special_tokens(texts: list[str]) -> None:
    tok = train_tokenizer(texts)
    # Byte-level: a training sentence and text never seen (accents, dashes, symbols) round-trip.
    for text in (texts[3], "Café scène — 3 shapes ✓ at 12.5 s"):
        ids = tok(text)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == text
    # BPE was trained on these narrations: a frequent word is a single token, not bytes.
    assert len(tok(" background")["input_ids"]) == 1
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == (BOS, EOS, PAD)
    special_ids = {tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id, tok.image_token_id}
    assert len(special_ids) == 5
    # <image> is one special token, also inside running text, and never split by BPE.
    assert tok.image_token == IMAGE
    ids = tok(f"USER: {IMAGE}\nWhat happens?", add_special_tokens=False)["input_ids"]
    assert ids.count(tok.image_token_id) == 1
    assert tok.decode(ids, skip_special_tokens=True) == "USER: \nWhat happens?"
    # The chat template emits <s>; the tokenizer must not add a second one.
    assert tok("A red square.")["input_ids"][0] != tok.bos_token_id


def test_tokenizer_is_deterministic_and_depends_on_texts(texts: list[str]) -> None:
    a = train_tokenizer(texts, vocab_size=600).backend_tokenizer.to_str()
    b = train_tokenizer(list(texts), vocab_size=600).backend_tokenizer.to_str()
    c = train_tokenizer(texts[:10], vocab_size=600).backend_tokenizer.to_str()
    assert a == b
    assert a != c


def test_chat_template_marks_image_and_assistant_turn(texts: list[str]) -> None:
    tok = train_tokenizer(texts[:20], vocab_size=500)
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Narrate."}]},
        {"role": "assistant", "content": "A red square glides right."},
    ]
    rendered = tok.apply_chat_template(messages, tokenize=False)
    assert rendered == f"{BOS}USER: {IMAGE}\nNarrate.\nASSISTANT:\nA red square glides right.{EOS}\n"
    prompt = tok.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == f"{BOS}USER: {IMAGE}\nNarrate.\nASSISTANT:\n"
    # Plain-string user content works too (text-only datasets).
    text_only = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)
    assert text_only == f"{BOS}USER: Hi\n"


# --- build + load ---------------------------------------------------------------------------


def test_build_writes_a_small_safetensors_llava(tiny_dir: Path) -> None:
    names = {p.name for p in tiny_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "processor_config.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".py")) for n in names)
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["model_type"] == "llava"
    assert config["vision_config"]["model_type"] == "siglip_vision_model"
    assert config["text_config"]["model_type"] == "llama"
    assert "auto_map" not in config
    assert config["image_seq_length"] == (64 // 16) ** 2


def test_load_narrator_from_folder(loaded: Loaded, tiny_dir: Path) -> None:
    model, processor = loaded
    # transformers' own classes: nothing was imported from the checkpoint folder.
    assert type(model).__name__ == "LlavaForConditionalGeneration"
    assert type(model).__module__.startswith("transformers.models.llava.")
    assert type(processor).__name__ == "LlavaProcessor"
    # Saved as the base name; with torchvision installed AutoProcessor picks its backend.
    assert type(processor.image_processor).__name__ == "SiglipImageProcessor"
    assert 0 < count_parameters(model) < 2_000_000
    assert model.config.text_config.vocab_size == len(processor.tokenizer)
    assert model.config.image_token_id == processor.tokenizer.image_token_id == processor.image_token_id
    # The weights are exactly the saved ones (no silent re-init of missing keys). transformers 5
    # saves LLaVA in the hub's legacy key layout and renames on load, so compare by content.
    from safetensors.torch import load_file

    def fingerprint(tensors) -> list[tuple[tuple[int, ...], float]]:  # type: ignore[no-untyped-def]
        return sorted((tuple(t.shape), round(t.double().sum().item(), 6)) for t in tensors)

    saved = load_file(tiny_dir / "model.safetensors")
    assert fingerprint(saved.values()) == fingerprint(model.state_dict().values())

    half, _ = load_narrator(str(tiny_dir), dtype=torch.bfloat16)
    assert next(half.parameters()).dtype == torch.bfloat16


def test_processor_expands_image_and_forward_gives_finite_loss(loaded: Loaded, texts: list[str]) -> None:
    model, processor = loaded
    image = Image.new("RGB", (96, 96), (200, 30, 30))
    narration = texts[0][:120]
    prompt = processor.apply_chat_template(_messages(image, narration), tokenize=False)
    assert prompt.count(IMAGE) == 1
    batch = processor(images=[image], text=[prompt], return_tensors="pt", add_special_tokens=False)
    n_image = int((batch["input_ids"] == model.config.image_token_id).sum())
    assert n_image == model.config.image_seq_length == 16  # (64 // 16) ** 2, SigLIP has no CLS
    assert tuple(batch["pixel_values"].shape) == (1, 3, 64, 64)  # resized from 96x96
    assert int((batch["input_ids"] == processor.tokenizer.bos_token_id).sum()) == 1

    labels = batch["input_ids"].clone()
    labels[labels == model.config.image_token_id] = -100
    model.train()
    out = model(**batch, labels=labels)
    model.eval()
    assert torch.isfinite(out.loss)
    # Random init over ~1.4k tokens: loss near ln(vocab), i.e. the labels were really used.
    assert abs(out.loss.item() - torch.log(torch.tensor(float(len(processor.tokenizer)))).item()) < 1.5
    out.loss.backward()
    grads = model.model.vision_tower.embeddings.patch_embedding.weight.grad
    assert grads is not None and grads.abs().sum() > 0  # the image reached the loss
    model.zero_grad(set_to_none=True)

    # Too few image tokens for the image must fail loudly, not train on misaligned features.
    bad = processor.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with pytest.raises(ValueError, match="(?i)image"):
        model(input_ids=bad["input_ids"], pixel_values=batch["pixel_values"])


def test_assistant_mask_covers_exactly_the_narration(loaded: Loaded, texts: list[str]) -> None:
    # What TRL's SFTTrainer(assistant_only_loss=True) uses for vision datasets.
    _, processor = loaded
    image = Image.new("RGB", (96, 96), (0, 90, 200))
    narration = texts[1][:80]
    out = processor.apply_chat_template(
        [_messages(image, narration)],
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        return_assistant_tokens_mask=True,
        processor_kwargs={"add_special_tokens": False},
    )
    ids, mask = out["input_ids"][0], out["assistant_masks"][0].bool()
    assert processor.tokenizer.decode(ids[mask]) == narration + EOS
    assert not mask[ids == processor.image_token_id].any()


def test_generation_prompt_tokens_are_a_prefix_of_the_training_tokens(loaded: Loaded, texts: list[str]) -> None:
    # Greedy narration continues the generation prompt's tokens; training saw the whole turn.
    # If the prompt ended in a token that training never has at that place (the old template's
    # trailing "ASSISTANT: " became a lone space token, while training tokenized " The" as one
    # token), every narration would start off-distribution: the first word, which names the
    # background, was then wrong for black and brown clips whatever the training.
    _, processor = loaded
    image = Image.new("RGB", (96, 96), (0, 90, 200))
    for narration in (texts[0], texts[1], "A red square glides right."):
        messages = _messages(image, narration)
        prompt = processor.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
        full = processor.apply_chat_template(messages, tokenize=False)
        prompt_ids = processor(images=[image], text=prompt, return_tensors="pt")["input_ids"][0].tolist()
        full_ids = processor(images=[image], text=full, return_tensors="pt")["input_ids"][0].tolist()
        assert full_ids[: len(prompt_ids)] == prompt_ids


def test_build_is_deterministic(texts: list[str], tiny_dir: Path, tmp_path: Path) -> None:
    again = build_tiny_llava(texts, tmp_path / "again")
    for path in sorted(tiny_dir.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name
    other_seed = build_tiny_llava(texts, tmp_path / "seed1", seed=1)
    weights = (tiny_dir / "model.safetensors").read_bytes()
    assert (other_seed / "model.safetensors").read_bytes() != weights
    assert (other_seed / "tokenizer.json").read_bytes() == (tiny_dir / "tokenizer.json").read_bytes()


# --- loader safety and errors ---------------------------------------------------------------


def test_load_narrator_never_runs_checkpoint_code(tiny_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "remote_code"
    shutil.copytree(tiny_dir, folder)
    sentinel = tmp_path / "code_ran"
    (folder / "narrator_code.py").write_text(
        f"open({str(sentinel)!r}, 'w').write('ran')\n"
        "from transformers import PretrainedConfig\n"
        "class NarratorConfig(PretrainedConfig):\n    model_type = 'evil_narrator'\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "evil_narrator"
    config["auto_map"] = {
        "AutoConfig": "narrator_code.NarratorConfig",
        "AutoModelForImageTextToText": "narrator_code.NarratorModel",
    }
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="trust_remote_code"):
        load_narrator(str(folder))
    assert not sentinel.exists()


def test_load_narrator_refuses_pickle_weights(tiny_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_dir, folder)
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(NarratorNotAvailableError, match="safetensors"):
        load_narrator(str(folder))


def test_missing_hub_id_or_folder_gives_clear_error(tmp_path: Path) -> None:
    hub_id = "visual-narrator-tests/no-such-model-xyz"
    with pytest.raises(NarratorNotAvailableError) as err:
        load_narrator(hub_id)
    message = str(err.value)
    assert hub_id in message and "download it first" in message and "local folder" in message
    assert isinstance(err.value, FileNotFoundError)

    missing = tmp_path / "not" / "here"
    with pytest.raises(NarratorNotAvailableError, match="no such folder") as err:
        load_narrator(str(missing))
    assert str(missing) in str(err.value)


def test_qwen2_5_vl_folder_loads_offline_with_its_real_processor(texts: list[str], tmp_path: Path) -> None:
    # A Qwen2.5-VL folder as save_pretrained writes it: the real processor classes (the video one
    # needs torchvision), random tiny weights, loaded back from local files only.
    from transformers import (
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    torch.manual_seed(0)
    Qwen2_5_VLForConditionalGeneration(tiny_qwen2_5_vl_config()).save_pretrained(tmp_path)
    Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(), video_processor=Qwen2VLVideoProcessor(),
                        tokenizer=train_tokenizer(texts[:10], vocab_size=400)).save_pretrained(tmp_path)
    model, processor = load_narrator(str(tmp_path))
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(processor).__name__ == "Qwen2_5_VLProcessor"
    assert type(processor.video_processor).__name__ == "Qwen2VLVideoProcessor"
    # A 448x448 photo is 32x32 patches of 14 px: 1,024 patches, 256 visual tokens after the 2x2 merge.
    grid = processor.image_processor(images=[Image.new("RGB", (448, 448))], return_tensors="pt")["image_grid_thw"]
    assert grid.tolist() == [[1, 32, 32]]


# --- flagship architecture, model side ------------------------------------------------------


def test_tiny_qwen2_5_vl_forward() -> None:
    from transformers import Qwen2_5_VLForConditionalGeneration

    config = tiny_qwen2_5_vl_config()
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    assert count_parameters(model) < 1_000_000

    grid = torch.tensor([[1, 4, 4]])  # one frame, 4x4 patches of 14 px -> 2x2 merged = 4 tokens
    n_patches = int(grid.prod())
    patch_dim = 3 * config.vision_config.temporal_patch_size * config.vision_config.patch_size**2
    image_tokens = [config.image_token_id] * (n_patches // config.vision_config.spatial_merge_size**2)
    input_ids = torch.tensor(
        [[0, 5, 6, config.vision_start_token_id, *image_tokens, config.vision_end_token_id, 7, 8, 9]]
    )
    pixel_values = torch.randn(n_patches, patch_dim, generator=torch.Generator().manual_seed(0))

    def forward(pixels: torch.Tensor):  # type: ignore[no-untyped-def]
        with torch.no_grad():
            return model(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                pixel_values=pixels,
                image_grid_thw=grid,
                labels=input_ids,
            )

    out = forward(pixel_values)
    assert out.logits.shape == (1, input_ids.shape[1], config.text_config.vocab_size)
    assert torch.isfinite(out.loss)
    # The image is wired in: other pixels change the text logits after the image.
    other = forward(pixel_values + 1.0)
    assert not torch.allclose(out.logits[0, -3:], other.logits[0, -3:])


def test_pixel_budget_sets_dynamic_processors_and_checks_fixed_ones(loaded: Loaded) -> None:
    from types import SimpleNamespace

    from transformers import Qwen2VLImageProcessorPil

    # Qwen2-VL family (Qwen2.5-VL uses this image processor): the budget becomes its max pixels.
    qwen = SimpleNamespace(image_processor=Qwen2VLImageProcessorPil())
    apply_pixel_budget(qwen, 448 * 448)
    grid = qwen.image_processor(images=[Image.new("RGB", (1280, 720))], return_tensors="pt")["image_grid_thw"][0]
    assert int(grid[1] * grid[2]) * 14 * 14 <= 448 * 448  # patches x patch area within the budget
    # Fixed-size tower (SigLIP): the budget must be its input size, or the error says what to set.
    _, processor = loaded
    apply_pixel_budget(processor, 64 * 64)
    with pytest.raises(ValueError, match="set data.max_pixels: 4096"):
        apply_pixel_budget(processor, 96 * 96)


def test_tiny_recipe_param_counts_are_those_of_the_model_it_builds(tmp_path: Path) -> None:
    """train/recipes/tiny.yaml is what the tiny_model stage builds from; its parameter counts (which the
    memory planner reads) must be that model's, or the copy has gone stale."""
    from train.recipes import load_recipe
    from train.tiny_model import tiny_llava_options

    recipe = load_recipe("tiny")
    texts = ["a red circle moves to the left on a black background", "a blue square turns green"] * 20
    model, _ = load_narrator(str(build_tiny_llava(texts, tmp_path / "tiny", **tiny_llava_options(recipe))))
    arch = recipe.architecture
    vision = count_parameters(model.model.vision_tower)
    projector = count_parameters(model.model.multi_modal_projector)
    language = count_parameters(model) - vision - projector
    # The trained vocabulary is smaller than the recipe's upper bound: add the rows it lacks in the
    # input embeddings and the untied lm_head.
    missing_rows = arch.language.vocab_size - model.config.text_config.vocab_size
    assert vision == arch.vision.params
    assert projector == arch.projector.params
    assert language + 2 * missing_rows * arch.language.hidden_size == arch.language.params
