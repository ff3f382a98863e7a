"""A tiny, randomly initialised LLaVA narrator, opened by the loader every recipe uses (narrate/model.py).

Why this exists: the real narrator is a ~3B vision-language model (Qwen2.5-VL class) fine-tuned
with TRL SFT + LoRA. Tests and CPU smoke runs cannot download or run that, so this module builds a
*real* `transformers.LlavaForConditionalGeneration` (SigLIP vision tower -> MLP projector -> Llama
decoder) of ~0.83M parameters, saves it like a hub checkpoint, and loads it back through exactly
the code path the 3B recipes use (`load_narrator`). Everything is local and deterministic: no
weights, tokenizers or processors are downloaded at run time.

Read top to bottom:

1. `train_tokenizer`: a byte-level BPE tokenizer trained on narration texts, with Llama-style
   special tokens (`<s>`, `</s>`, `<pad>`, `<unk>`), the LLaVA image token `<image>` and a chat
   template (`CHAT_TEMPLATE`) whose assistant turns sit inside `{% generation %}` markers, so TRL's
   `assistant_only_loss=True` can mask everything but the narration.
2. `build_tiny_llava`: config -> random init under a seed -> `LlavaProcessor` -> `save_pretrained`.
   Building twice with the same inputs gives byte-identical `model.safetensors`.
3. `tiny_qwen2_5_vl_config`: a tiny config of the flagship architecture, for a model-side check.

Image tokens (LLaVA): SigLIP has no CLS token, so the model uses
`vision_feature_select_strategy="full"` (keep every patch) and the processor uses
`num_additional_image_tokens=0`; one image of `image_size` then expands to
`(image_size // patch_size) ** 2` `<image>` tokens (16 for the defaults), which is what the
vision tower emits. The two sides must agree or the forward raises "Image features and image
tokens do not match".

Image processor backend: transformers 5.x names the torchvision backend `SiglipImageProcessor` and
the PIL one `SiglipImageProcessorPil`. We build with the PIL class, but `processor_config.json`
records the base name "SiglipImageProcessor", and `AutoProcessor` picks the backend at load time:
torchvision, which the locked environment has. The tiny recipe's images already have the tower's
size (one 128x128 grid), so no resize happens and the two backends prepare the same pixels
(to 6e-8: float rounding of the normalisation).

"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
)
from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

from train.tiny_tower import TOWER_REPORT, tiny_vision_config

# --------------------------------------------------------------------------------------------
# 1. Tokenizer
# --------------------------------------------------------------------------------------------

UNK, BOS, EOS, PAD, IMAGE = "<unk>", "<s>", "</s>", "<pad>", "<image>"
# Order fixes the ids: <unk>=0, <s>=1, </s>=2 as in Llama, then <pad>=3, <image>=4.
SPECIAL_TOKENS = [UNK, BOS, EOS, PAD, IMAGE]

# LLaVA-1.5-like turns ("USER: ... ASSISTANT: ..."). Content may be a plain string or a list of
# parts ({"type": "image"} / {"type": "text", "text": ...}), which is what TRL's
# `prepare_multimodal_messages` produces; each image part becomes one `<image>` placeholder that
# the processor later expands to the vision tower's token count. The assistant text *and its
# `</s>`* sit inside {% generation %} so assistant-only loss also teaches the model to stop.
# The template emits `<s>` itself; the tokenizer adds no special tokens (TRL tokenizes rendered
# chats with add_special_tokens=False, so BOS is never doubled).
CHAT_TEMPLATE = (
    "{%- macro render(content) -%}"
    "{%- if content is string -%}{{ content }}"
    "{%- else -%}{%- for part in content -%}"
    "{%- if part['type'] == 'image' -%}" + IMAGE + "{{ '\\n' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{%- endmacro -%}"
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{{ render(message['content']) }}{{ '\\n' }}"
    "{%- elif message['role'] == 'user' -%}USER: {{ render(message['content']) }}{{ '\\n' }}"
    "{%- elif message['role'] == 'assistant' -%}ASSISTANT:{{ '\\n' }}"
    "{% generation %}{{ render(message['content']) }}{{ eos_token }}{% endgeneration %}{{ '\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}ASSISTANT:{{ '\\n' }}{% endif -%}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2000) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts` and wrap it for transformers.

    Byte-level means every string round-trips (no `<unk>` in practice; it exists because
    Llama-style configs and some tools expect one). Deterministic: the BPE trainer breaks count
    ties by pair order, so the same texts give the same `tokenizer.json`. The vocabulary may come
    out smaller than `vocab_size` when the texts run out of pairs to merge; use `len(tokenizer)`.
    """
    tok = Tokenizer(models.BPE(unk_token=UNK))
    # add_prefix_space=False: "A red square" and "red square" tokenize the way they are written.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,  # a pair seen once is noise, not a subword
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes, so nothing is unk
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        # A named model-specific token: becomes `tokenizer.image_token` / `.image_token_id`,
        # which LlavaProcessor reads instead of guessing.
        extra_special_tokens={"image_token": IMAGE},
        chat_template=CHAT_TEMPLATE,
        model_max_length=1024,
        padding_side="right",
    )


# --------------------------------------------------------------------------------------------
# 2. Tiny LLaVA
# --------------------------------------------------------------------------------------------


def tiny_llava_options(recipe: Any) -> dict[str, int]:
    """`build_tiny_llava` keyword arguments for a recipe's architecture numbers (train/recipes/tiny.yaml)."""
    vision, language = recipe.architecture.vision, recipe.architecture.language
    if vision.image_size is None:  # (load_recipe already checks data.max_pixels = image_size^2)
        raise ValueError(f"{recipe.source}: architecture.vision.image_size must be set: the tiny tower has a fixed input size")
    return {"image_size": vision.image_size, "patch_size": vision.patch_size, "vision_hidden": vision.hidden_size,
            "vision_layers": vision.layers, "text_hidden": language.hidden_size, "text_layers": language.layers,
            "heads": language.attention_heads, "vocab_size": language.vocab_size,
            "mlp_ratio": language.intermediate_size // language.hidden_size,
            "max_positions": language.max_position_embeddings}


def build_tiny_llava(
    texts: Iterable[str],
    out_dir: str | Path,
    *,
    seed: int = 0,
    image_size: int = 64,
    patch_size: int = 16,
    vision_hidden: int = 64,
    vision_layers: int = 2,
    text_hidden: int = 128,
    text_layers: int = 2,
    heads: int = 4,
    vocab_size: int = 2000,
    mlp_ratio: int = 2,
    max_positions: int = 1024,
) -> Path:
    """Build, randomly initialise and save a tiny LLaVA narrator plus its processor in `out_dir`.

    Writes `config.json`, `generation_config.json`, `model.safetensors`, the tokenizer files and
    `processor_config.json`, i.e. a folder `load_narrator` (and `from_pretrained`) can open.
    Returns `out_dir` as a Path.
    """
    out = Path(out_dir)
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    image_tokens = (image_size // patch_size) ** 2

    vision_config = tiny_vision_config(image_size=image_size, patch_size=patch_size, vision_hidden=vision_hidden,
                                       vision_layers=vision_layers, heads=heads, mlp_ratio=mlp_ratio)
    text_config = LlamaConfig(
        vocab_size=len(tokenizer),  # the real vocabulary, which can be < vocab_size
        hidden_size=text_hidden,
        intermediate_size=text_hidden * mlp_ratio,
        num_hidden_layers=text_layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    config = LlavaConfig(
        vision_config=vision_config,
        text_config=text_config,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE),
        image_seq_length=image_tokens,
        vision_feature_select_strategy="full",  # SigLIP has no CLS token to drop
        vision_feature_layer=-1,  # use every vision layer (LLaVA-1.5 uses -2 of 24)
        projector_hidden_act="gelu",
    )

    # Random init is the only randomness; fork the RNG so callers' global state is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaForConditionalGeneration(config)
    model.eval()
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id

    # PIL backend on purpose: the default SiglipImageProcessor is the torchvision backend.
    image_processor = SiglipImageProcessorPil(size={"height": image_size, "width": image_size})
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="full",
        num_additional_image_tokens=0,
        chat_template=CHAT_TEMPLATE,
    )

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    return out


def count_parameters(model: torch.nn.Module) -> int:
    """Number of parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# 3. Flagship architecture, tiny
# --------------------------------------------------------------------------------------------


def tiny_qwen2_5_vl_config(vocab_size: int = 256) -> Qwen2_5_VLConfig:
    """A few-layer `Qwen2_5_VLConfig` (~0.3M parameters) for model-side checks on CPU.

    Same structure as Qwen2.5-VL-3B (windowed ViT with 2x2 patch merger, M-RoPE decoder), scaled
    down: patch 14, temporal patch 2, one full-attention vision block out of two. The special
    token ids are moved inside the small vocabulary. Image inputs are pre-patchified:
    `pixel_values` has shape (t*h*w, 3 * 2 * 14 * 14) for `image_grid_thw=[[t, h, w]]` (h, w even),
    and the text needs `t*h*w // 4` image tokens.
    """
    text_hidden, text_heads = 64, 4
    head_dim = text_hidden // text_heads
    return Qwen2_5_VLConfig(
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,  # 56 // 2 // 14 = 2 merged patches per window side
            "out_hidden_size": text_hidden,
            "fullatt_block_indexes": [1],
        },
        text_config={
            "vocab_size": vocab_size,
            "hidden_size": text_hidden,
            "intermediate_size": 2 * text_hidden,
            "num_hidden_layers": 2,
            "num_attention_heads": text_heads,
            "num_key_value_heads": 2,
            "max_position_embeddings": 512,
            # M-RoPE splits each head's rotary half (head_dim // 2) into time/height/width parts.
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 1_000_000.0,
                "mrope_section": [head_dim // 8, 3 * head_dim // 16, 3 * head_dim // 16],
            },
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 2,
        },
        vision_start_token_id=vocab_size - 4,
        vision_end_token_id=vocab_size - 3,
        image_token_id=vocab_size - 2,
        video_token_id=vocab_size - 1,
    )


def build_tiny_llava_with_tower(texts: list[str], out: Path, recipe: Any, tower_dir: Path) -> Any:
    """The tiny recipe's model in `out`: random projector and decoder (tokenizer trained on `texts`),
    the pretrained tower of `tower_dir` (train/tiny_tower.py) in place of the random one, saved with
    the tower's pretraining report. Returns the model. Written to `<out>.partial` first, then renamed."""
    import shutil

    from transformers import SiglipVisionModel

    from narrate.model import load_narrator

    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    build_tiny_llava(texts, partial, seed=0, **tiny_llava_options(recipe))
    model, _ = load_narrator(str(partial))
    tower = SiglipVisionModel.from_pretrained(tower_dir, local_files_only=True, use_safetensors=True)
    model.model.vision_tower.load_state_dict(tower.state_dict(), strict=True)  # a tower of another recipe fails here
    model.save_pretrained(partial, safe_serialization=True)
    shutil.copy2(tower_dir / TOWER_REPORT, partial / TOWER_REPORT)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return model
