"""Training recipes: one YAML file per recipe in train/recipes/, loaded into a frozen `Recipe`.

A recipe says which model to fine-tune and how: dtype, which towers train (and how), LoRA
settings, frames and pixel budget per example, batch / learning rate / epochs, the memory budget,
and the architecture numbers that `train.memory.predict_peak_memory` needs (copied from the
model's published config.json, since nothing is downloaded here).

    recipe = load_recipe("tiny")                      # train/recipes/tiny.yaml
    recipe = load_recipe("path/to/my-recipe.yaml")    # any file

Every field is required unless the model gives it a default; unknown keys are refused (a typo
would otherwise be silently ignored). Types are checked by pydantic, cross-field rules by
`_check`; any problem raises `RecipeError` naming the file, the field and the fix. The YAML files
are the documentation of each knob (meaning and unit). The `data:` section is the recipe's
`FramePolicy` (narrate/frames.py).

Phases: a recipe either puts the per-phase keys (`vision`, `projector`, `language`, `epochs`,
`learning_rate`) in `train:` (one phase, named "sft"), or lists them per phase under `phases:`
(e.g. LLaVA: projector alignment, then LoRA). `Recipe.phases` is always a non-empty tuple.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from config.params import read_yaml_mapping, validation_message
from narrate.frames import FramePolicy

RECIPES_DIR = Path(__file__).parent / "recipes"

TowerMode = Literal["lora", "full", "frozen"]  # vision / language tower
ProjectorMode = Literal["full", "frozen"]
Dtype = Literal["float32", "bfloat16", "float16"]
Family = Literal["llava", "qwen2_5_vl"]
MlpKind = Literal["gated", "plain"]  # gated: SwiGLU (gate, up, down); plain: fc1 -> act -> fc2
AttnImplementation = Literal["sdpa", "eager", "flash_attention_2"]
MixedPrecision = Literal["bf16", "no"]

# Keys that belong to a phase: in `train:` for a one-phase recipe, else in each `phases:` item.
PHASE_KEYS = ("vision", "projector", "language", "epochs", "learning_rate")
# A language sequence must leave room for at least this many text tokens (prompt + narration).
MIN_TEXT_TOKENS = 128


class RecipeError(ValueError):
    """A recipe file is missing, unreadable or invalid; the message names file, field and fix."""


def _linear_shapes(hidden: int, heads: int, kv_heads: int, intermediate: int) -> dict[str, tuple[int, int]]:
    """(d_in, d_out) of every linear layer a LoRA target name can mean, in one transformer block.

    Names cover the towers used here: Llama / Qwen2 decoders (q,k,v,o,gate,up,down _proj), Phi-3
    (fused qkv_proj, gate_up_proj), SigLIP (q,k,v _proj, out_proj, fc1, fc2) and the Qwen2.5-VL
    vision blocks (fused qkv, proj, gate/up/down _proj).
    """
    head_dim = hidden // heads
    q, kv = heads * head_dim, kv_heads * head_dim
    return {
        "q_proj": (hidden, q),
        "k_proj": (hidden, kv),
        "v_proj": (hidden, kv),
        "o_proj": (q, hidden),
        "out_proj": (q, hidden),
        "proj": (q, hidden),
        "qkv": (hidden, q + 2 * kv),
        "qkv_proj": (hidden, q + 2 * kv),
        "gate_proj": (hidden, intermediate),
        "up_proj": (hidden, intermediate),
        "down_proj": (intermediate, hidden),
        "gate_up_proj": (hidden, 2 * intermediate),
        "fc1": (hidden, intermediate),
        "fc2": (intermediate, hidden),
    }


LINEAR_MODULE_NAMES = tuple(_linear_shapes(8, 2, 2, 8))


# --------------------------------------------------------------------------------------------
# The recipe's sections (field order = YAML order)
# --------------------------------------------------------------------------------------------


class Spec(BaseModel):
    """A recipe mapping: frozen, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(Spec):
    path: str  # local folder or hub id, opened by train.tiny_model.load_narrator
    family: Family
    dtype: Dtype
    vision_encoder: str | None = None  # LLaVA built from parts: vision tower hub id
    language_model: str | None = None  # LLaVA built from parts: language model hub id


class LanguageArch(Spec):
    layers: int
    hidden_size: int
    intermediate_size: int
    attention_heads: int
    kv_heads: int
    vocab_size: int
    max_position_embeddings: int
    mlp: MlpKind
    params: int  # decoder + embeddings + lm_head (tied weights once)

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        return _linear_shapes(self.hidden_size, self.attention_heads, self.kv_heads, self.intermediate_size)


class VisionArch(Spec):
    layers: int
    hidden_size: int
    intermediate_size: int
    attention_heads: int
    patch_size: int
    image_size: int | None  # fixed input size (SigLIP); None: dynamic resolution (Qwen2.5-VL)
    spatial_merge: int  # visual token = merge x merge patches (Qwen2.5-VL 2, LLaVA 1)
    mlp: MlpKind
    params: int  # vision tower without the projector

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        return _linear_shapes(self.hidden_size, self.attention_heads, self.attention_heads, self.intermediate_size)


class ProjectorArch(Spec):
    hidden_size: int  # width of the projector MLP's hidden layer
    params: int


class Architecture(Spec):
    source: str  # where the numbers come from
    language: LanguageArch
    vision: VisionArch
    projector: ProjectorArch

    @property
    def total_params(self) -> int:
        return self.language.params + self.vision.params + self.projector.params


class LoraSpec(Spec):
    r: int
    alpha: int
    dropout: float
    target_modules: tuple[str, ...]  # in the language model
    vision_target_modules: tuple[str, ...] = ()  # in the vision tower (phases with vision: lora)


class TrainSpec(Spec):
    per_device_batch_size: int
    gradient_accumulation_steps: int
    max_seq_length: int  # tokens, visual tokens included
    gradient_checkpointing: StrictBool  # a YAML true/false, not a string that reads like one
    mixed_precision: MixedPrecision  # bf16: autocast matmuls to bfloat16 (GPU, or a CPU with AVX-512 BF16 / AMX)
    attn_implementation: AttnImplementation
    lr_scheduler_type: str
    warmup_ratio: float
    weight_decay: float
    seed: int


class Phase(Spec):
    name: str
    vision: TowerMode
    projector: ProjectorMode
    language: TowerMode
    epochs: float
    learning_rate: float

    def modes(self) -> dict[str, str]:
        return {"vision": self.vision, "projector": self.projector, "language": self.language}


class MemorySpec(Spec):
    budget_gib: float  # the largest accelerator (or host, on CPU) memory this recipe may need
    overhead_gib: float  # CUDA context / allocator / framework constant


class Recipe(Spec):
    name: str
    description: str
    model: ModelSpec
    architecture: Architecture
    data: FramePolicy
    lora: LoraSpec
    train: TrainSpec
    phases: tuple[Phase, ...]
    memory: MemorySpec
    # The file it was loaded from: set by load_recipe (a `source` key in the file is refused).
    source: str = ""

    @property
    def patches_per_image(self) -> int:
        """Vision-tower tokens (patches) per image the tower sees, before any spatial merge."""
        v = self.architecture.vision
        side = v.image_size
        if side is not None:
            return (side // v.patch_size) ** 2
        return self.data.frames_per_image * self.data.max_pixels // (v.patch_size**2)

    @property
    def patches_per_frame(self) -> int:
        """Vision-tower tokens (patches) per frame, before any spatial merge (a grid cell's share)."""
        return self.patches_per_image // self.data.frames_per_image

    @property
    def visual_tokens_per_frame(self) -> int:
        """Language-model tokens per frame: pixel budget / (patch * merge)^2 (or the fixed grid)."""
        v = self.architecture.vision
        return self.patches_per_frame // (v.spatial_merge**2)

    @property
    def visual_tokens(self) -> int:
        """Visual tokens per example in the language sequence (images x tokens per image)."""
        return self.data.images_per_example * self.patches_per_image // (self.architecture.vision.spatial_merge**2)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def available_recipes() -> list[str]:
    """Names of the recipe files in train/recipes/."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def _resolve(name_or_path: str) -> Path:
    text = str(name_or_path)
    as_path = Path(text).expanduser()
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text or as_path.is_file():
        if not as_path.is_file():
            raise RecipeError(f"{as_path}: no such recipe file. Pass an existing .yaml file or a recipe name.")
        return as_path
    path = RECIPES_DIR / f"{text}.yaml"
    if not path.is_file():
        raise RecipeError(
            f"Unknown recipe {text!r}: no file {path}. Available recipes: "
            f"{', '.join(available_recipes())} (or pass the path of a recipe .yaml file)."
        )
    return path


def _check(recipe: Recipe, file: Path) -> None:
    """Cross-field checks that types alone cannot express."""

    def fail(field: str, problem: str, fix: str) -> None:
        raise RecipeError(f"{file}: field `{field}` {problem}. Fix: {fix}.")

    positive = {
        "architecture.language.layers": recipe.architecture.language.layers,
        "architecture.language.hidden_size": recipe.architecture.language.hidden_size,
        "architecture.language.intermediate_size": recipe.architecture.language.intermediate_size,
        "architecture.language.attention_heads": recipe.architecture.language.attention_heads,
        "architecture.language.kv_heads": recipe.architecture.language.kv_heads,
        "architecture.language.vocab_size": recipe.architecture.language.vocab_size,
        "architecture.language.params": recipe.architecture.language.params,
        "architecture.vision.layers": recipe.architecture.vision.layers,
        "architecture.vision.hidden_size": recipe.architecture.vision.hidden_size,
        "architecture.vision.intermediate_size": recipe.architecture.vision.intermediate_size,
        "architecture.vision.attention_heads": recipe.architecture.vision.attention_heads,
        "architecture.vision.patch_size": recipe.architecture.vision.patch_size,
        "architecture.vision.spatial_merge": recipe.architecture.vision.spatial_merge,
        "architecture.vision.params": recipe.architecture.vision.params,
        "architecture.projector.hidden_size": recipe.architecture.projector.hidden_size,
        "architecture.projector.params": recipe.architecture.projector.params,
        "data.frames": recipe.data.frames,
        "data.max_pixels": recipe.data.max_pixels,
        "data.max_frames": recipe.data.max_frames,
        "lora.r": recipe.lora.r,
        "lora.alpha": recipe.lora.alpha,
        "train.per_device_batch_size": recipe.train.per_device_batch_size,
        "train.gradient_accumulation_steps": recipe.train.gradient_accumulation_steps,
        "train.max_seq_length": recipe.train.max_seq_length,
        "memory.budget_gib": recipe.memory.budget_gib,
    }
    for name, value in positive.items():
        if value <= 0:
            fail(name, f"is {value}, must be > 0", "use a positive value")
    if recipe.data.fps is not None and recipe.data.fps <= 0:
        fail("data.fps", f"is {recipe.data.fps}", "use frames per second > 0, or null for data.frames per example")
    if recipe.memory.overhead_gib < 0:
        fail("memory.overhead_gib", "is negative", "use 0 or more GiB")
    if not 0.0 <= recipe.lora.dropout < 1.0:
        fail("lora.dropout", f"is {recipe.lora.dropout}", "use a probability in [0, 1)")

    lang, vis = recipe.architecture.language, recipe.architecture.vision
    if lang.hidden_size % lang.attention_heads or lang.attention_heads % lang.kv_heads:
        fail(
            "architecture.language.attention_heads",
            f"({lang.attention_heads}) does not divide hidden_size {lang.hidden_size} or is not a "
            f"multiple of kv_heads {lang.kv_heads}",
            "copy hidden_size, num_attention_heads and num_key_value_heads from the model's config.json",
        )
    if vis.hidden_size % vis.attention_heads:
        fail("architecture.vision.attention_heads", "does not divide vision hidden_size", "copy it from config.json")
    if vis.image_size is not None:
        # (image_size need not be a multiple of patch_size: SigLIP-384 / 14 gives 27 patches a side)
        cells = recipe.data.frames_per_image
        if recipe.data.max_pixels * cells != vis.image_size**2:
            what = "every frame" if cells == 1 else f"every grid of {cells} frames"
            fail(
                "data.max_pixels",
                f"is {recipe.data.max_pixels}, but this vision tower resizes {what} to "
                f"{vis.image_size}x{vis.image_size}",
                f"set data.max_pixels: {vis.image_size**2 // cells}" + ("" if cells == 1 else
                " (pixels per frame), or architecture.vision.image_size to the grid's side"),
            )
    else:
        unit = (vis.patch_size * vis.spatial_merge) ** 2
        if recipe.data.max_pixels < unit:
            fail("data.max_pixels", f"is below one visual token ({unit} pixels)", f"use at least {unit}")

    need = recipe.visual_tokens + MIN_TEXT_TOKENS
    if recipe.train.max_seq_length < need:
        fail(
            "train.max_seq_length",
            f"is {recipe.train.max_seq_length}, but {recipe.data.most_frames} frames take "
            f"{recipe.visual_tokens} visual tokens and the text needs at least {MIN_TEXT_TOKENS}",
            f"raise it to at least {need}, or lower data.frames / data.max_pixels",
        )
    if recipe.train.max_seq_length > lang.max_position_embeddings:
        fail(
            "train.max_seq_length",
            f"is {recipe.train.max_seq_length}, past the language model's "
            f"max_position_embeddings {lang.max_position_embeddings}",
            "lower train.max_seq_length (and data.frames / data.max_pixels with it)",
        )

    for name, modules, tower in (
        ("lora.target_modules", recipe.lora.target_modules, "language"),
        ("lora.vision_target_modules", recipe.lora.vision_target_modules, "vision"),
    ):
        for module in modules:
            if module not in LINEAR_MODULE_NAMES:
                fail(name, f"names {module!r}, an unknown linear layer", f"use names from {', '.join(LINEAR_MODULE_NAMES)}")
        if any(getattr(p, tower) == "lora" for p in recipe.phases) and not modules:
            fail(name, f"is empty but a phase has {tower}: lora", f"list the {tower} tower's linear layers to adapt")

    seen: set[str] = set()
    for i, phase in enumerate(recipe.phases):
        where = f"phases[{i}]" if len(recipe.phases) > 1 or phase.name != "sft" else "train"
        if phase.name in seen:
            fail(f"{where}.name", f"repeats phase name {phase.name!r}", "give every phase its own name")
        seen.add(phase.name)
        if phase.vision == "frozen" and phase.projector == "frozen" and phase.language == "frozen":
            fail(f"{where}.language", "is frozen like every other tower: the phase trains nothing", "train at least one tower")
        if phase.epochs <= 0:
            fail(f"{where}.epochs", f"is {phase.epochs}", "use a positive number of epochs")
        if not 0 < phase.learning_rate < 1:
            fail(f"{where}.learning_rate", f"is {phase.learning_rate}", "use a learning rate in (0, 1), e.g. 1e-4")


def load_recipe(name_or_path: str) -> Recipe:
    """Load and validate a recipe by name (train/recipes/<name>.yaml) or by file path.

    Raises RecipeError naming the file, the field and the fix; an unknown name lists the
    available recipes.
    """
    file = _resolve(name_or_path)
    raw = dict(read_yaml_mapping(file, RecipeError))
    if "source" in raw:
        raise RecipeError(f"{file}: unknown field `source` (it is set to the file's path when loaded). Fix: remove it.")
    if "phases" in raw and (not isinstance(raw["phases"], list) or not raw["phases"]):
        raise RecipeError(f"{file}: field `phases` must be a non-empty list of phases. Fix: list at least one phase.")
    train = raw.get("train")
    if isinstance(train, dict):
        train = dict(train)
        in_train = {k: train.pop(k) for k in PHASE_KEYS if k in train}
        if "phases" in raw:
            if in_train:
                key = next(iter(in_train))
                raise RecipeError(
                    f"{file}: field `train.{key}` is set, but this recipe has a `phases` list. "
                    f"Fix: move `{key}` into each item of `phases`."
                )
        else:
            missing = [k for k in PHASE_KEYS if k not in in_train]
            if missing:
                raise RecipeError(
                    f"{file}: missing field `train.{missing[0]}`. Add it to `train:` (or use a `phases:` list)."
                )
            try:  # validated here so that errors name `train.<key>`, where the key is written
                raw["phases"] = [Phase.model_validate({"name": "sft", **in_train})]
            except ValidationError as err:
                raise RecipeError(validation_message(file, err, prefix="train.")) from None
        raw["train"] = train
    try:
        recipe = Recipe.model_validate({**raw, "source": str(file)})
    except ValidationError as err:
        raise RecipeError(validation_message(file, err)) from None
    if file.parent.resolve() == RECIPES_DIR.resolve() and recipe.name != file.stem:
        raise RecipeError(f"{file}: field `name` is {recipe.name!r}. Fix: set `name: {file.stem}` (the file name).")
    _check(recipe, file)
    return recipe
