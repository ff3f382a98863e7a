"""Predict a recipe's peak training memory before training, and refuse recipes over budget.

    plan = predict_peak_memory(load_recipe("qwen2.5-vl-3b-lora"))
    print(plan)                                  # component table
    check_budget(plan, recipe.memory.budget_gib)  # raises MemoryBudgetError when over

    python -m train.memory qwen2.5-vl-3b-lora    # the same, from the shell

An analytic estimate, per device, for one training phase (the default is the phase with the
largest total). Notation: b batch, s language sequence length, h hidden size, h_kv = kv_heads *
head_dim, I intermediate size, a attention heads, L layers, V vocabulary, p bytes per activation
element (2 for bf16/fp16, 4 for fp32), N parameter counts. Components, in bytes:

weights          N_total * bytes(dtype)  (every tower, trainable or not; bf16/fp16 2, fp32 4)
lora_weights     N_lora * 4              (PEFT keeps adapters in fp32: autocast_adapter_dtype)
lora_grads       N_lora * 4
lora_optimizer   N_lora * 8              (AdamW exp_avg + exp_avg_sq in fp32; the fp32 adapter
                                         is its own master copy)
full_grads       N_full * bytes(dtype)   (towers trained in full: gradients in the weight dtype)
full_optimizer   N_full * (8 + 4)        (two fp32 moments + fp32 master copy; 8 when the
                                         weights are already fp32)
language_activations
    Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models",
    eq. 1: 34*s*b*h + 5*a*s^2*b bytes per layer at 16 bit, MHA + 4h GeLU MLP + dropout),
    re-derived for today's decoders (RMSNorm, grouped-query attention, gated MLP, no dropout).
    Elements kept per token and layer:
        2h (the two norm inputs) + h (q/k/v input) + h + 2*h_kv (q, k, v) + h (o_proj input)
        + h (MLP input) + 4I (gated: gate, act(gate), up, product) or 2I (plain: fc1, act)
      = 6h + 2h_kv + 4I (gated)      [Korthikanti's case, h_kv = h, I = 4h, plain: 16h elements
                                      = 32h bytes at 16 bit: their 34h less the dropout masks]
    times p, plus the attention scores: eager attention keeps the softmax output, 5*a*s/2*p
    bytes per token (Korthikanti's term); sdpa / flash-attention keep only the log-sum-exp,
    4*a bytes per token. LoRA adds per adapted linear and token 4*d_in (PEFT casts the input to
    the fp32 adapter dtype and dropout keeps its output) + d_in (bool dropout mask, when
    dropout > 0) + 4*r (lora_A output). The final norm adds 2h*p per token.
    Without gradient checkpointing: L full layers are kept. With it (one checkpoint per layer,
    as transformers does): L layer inputs (h*p per token) + one layer's activations, recomputed
    during its backward.
    Kept whenever the phase trains anything (gradients flow through the language model back to
    the projector even when the language model itself is frozen).
vision_activations
    Patches: images * patches_per_image * b (an image is a frame, or a grid of all frames under
    data.layout grid), patches_per_image = image_size^2 / patch^2 for a
    fixed-resolution tower, else max_pixels / patch^2; visual tokens in the language sequence =
    patches / merge^2 (Qwen2.5-VL: one per 28x28 pixels). Per vision layer as above (kv_heads =
    heads; eager scores per frame of P patches). A trainable tower (lora/full) keeps all its
    layers (or inputs + one layer with checkpointing); a frozen one runs without autograd
    records, so only one layer's working set is alive at a time. The projector keeps its input,
    hidden pre/post activation (in*merge^2 + 2*hidden elements per visual token) when it or the
    tower trains.
logits           b*s*V*(p + 4): the model's 16-bit logits, which the trainer keeps, plus the fp32
                 log-softmax cross-entropy saves (b*s*V*8 for fp32 models)
logits_grad      b*s*V*4: the fp32 gradient of the logits
overhead         memory.overhead_gib: CUDA context, cuBLAS workspace, allocator fragmentation
                 (or, on CPU, the Python/torch runtime)

It is an estimate (no allocator timeline, transient backward buffers folded into the
overhead); compare with torch.cuda.max_memory_allocated on a real step when one is available.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import ClassVar

from train.recipes import MIN_TEXT_TOKENS, Phase, Recipe, load_recipe

GiB = 1024**3
BYTES_PER_PARAM = {"float32": 4, "bfloat16": 2, "float16": 2}
ADAM_MOMENT_BYTES = 8  # exp_avg + exp_avg_sq, fp32
MASTER_BYTES = 4  # fp32 master copy of a 16-bit trainable weight


class MemoryBudgetError(RuntimeError):
    """A recipe's predicted peak memory is over its budget; the message says what to turn."""


@dataclass(frozen=True)
class MemoryPlan:
    """Predicted peak memory of one training phase, each component in bytes."""

    recipe: str
    phase: str
    dtype: str
    batch_size: int
    seq_len: int
    visual_tokens: int  # per example, in the language sequence
    gradient_checkpointing: bool
    frames: int
    max_pixels: int
    lora_r: int
    towers: tuple[tuple[str, str], ...]  # (tower, mode) for vision, projector, language
    total_params: int
    lora_params: int
    full_params: int
    # components (bytes)
    weights: int
    lora_weights: int
    lora_grads: int
    lora_optimizer: int
    full_grads: int
    full_optimizer: int
    language_activations: int
    vision_activations: int
    logits: int
    logits_grad: int
    overhead: int
    notes: tuple[str, ...] = ()

    COMPONENTS: ClassVar[tuple[str, ...]] = (
        "weights",
        "lora_weights",
        "lora_grads",
        "lora_optimizer",
        "full_grads",
        "full_optimizer",
        "language_activations",
        "vision_activations",
        "logits",
        "logits_grad",
        "overhead",
    )

    def components(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COMPONENTS}

    @property
    def total(self) -> int:
        return sum(self.components().values())

    @property
    def total_gib(self) -> float:
        return self.total / GiB

    @property
    def trainable_params(self) -> int:
        return self.lora_params + self.full_params

    def table(self) -> str:
        ckpt = "on" if self.gradient_checkpointing else "off"
        towers = ", ".join(f"{t} {m}" for t, m in self.towers)
        lines = [
            f"{self.recipe} / phase {self.phase}: {self.dtype}, batch {self.batch_size}, seq {self.seq_len} "
            f"({self.visual_tokens} visual = {self.frames} frames x {self.visual_tokens // max(self.frames, 1)}), "
            f"gradient checkpointing {ckpt}",
            f"towers: {towers}; params {self.total_params:,} (trainable {self.trainable_params:,}: "
            f"LoRA {self.lora_params:,}, full {self.full_params:,})",
            f"{'component':<22}{'GiB':>10}{'bytes':>18}",
        ]
        for name, value in self.components().items():
            lines.append(f"{name:<22}{value / GiB:>10.3f}{value:>18,}")
        lines.append(f"{'total':<22}{self.total_gib:>10.3f}{self.total:>18,}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


# --------------------------------------------------------------------------------------------
# Pieces
# --------------------------------------------------------------------------------------------


def lora_param_count(shapes: dict[str, tuple[int, int]], targets: tuple[str, ...], r: int, layers: int) -> int:
    """LoRA parameters: r * (d_in + d_out) per adapted linear, per layer."""
    return layers * sum(r * (shapes[t][0] + shapes[t][1]) for t in targets)


def _layer_bytes_per_token(
    hidden: int, kv_hidden: int, intermediate: int, heads: int, gated: bool, p: int, attn: str, attn_len: int
) -> float:
    """Activation bytes one transformer layer keeps per token (see module docstring)."""
    elements = 6 * hidden + 2 * kv_hidden + (4 if gated else 2) * intermediate
    scores = 5 * heads * attn_len / 2 * p if attn == "eager" else 4 * heads
    return elements * p + scores


def _lora_bytes_per_token(shapes: dict[str, tuple[int, int]], targets: tuple[str, ...], r: int, dropout: float) -> int:
    per = 0
    for t in targets:
        d_in = shapes[t][0]
        per += 4 * d_in + (d_in if dropout > 0 else 0) + 4 * r
    return per


def _stack(layers: int, per_layer: float, layer_input: float, checkpointing: bool) -> int:
    """Activations of a layer stack: all layers, or (checkpointing) inputs + one layer."""
    if checkpointing:
        return int(layers * layer_input + per_layer)
    return int(layers * per_layer)


def _plan_phase(recipe: Recipe, phase: Phase, batch: int, seq_req: int, ckpt: bool) -> MemoryPlan:
    arch, lang, vis = recipe.architecture, recipe.architecture.language, recipe.architecture.vision
    dtype = recipe.model.dtype
    p = BYTES_PER_PARAM[dtype]
    attn = recipe.train.attn_implementation
    lora = recipe.lora
    notes: list[str] = []

    visual = recipe.visual_tokens
    seq = seq_req
    if seq < visual + MIN_TEXT_TOKENS:
        seq = visual + MIN_TEXT_TOKENS
        notes.append(
            f"sequence raised from {seq_req} to {seq}: {visual} visual tokens + {MIN_TEXT_TOKENS} text "
            "tokens (train.max_seq_length is too small for these frames)"
        )

    # Parameters
    lang_shapes, vis_shapes = lang.linear_shapes(), vis.linear_shapes()
    lora_params = 0
    if phase.language == "lora":
        lora_params += lora_param_count(lang_shapes, lora.target_modules, lora.r, lang.layers)
    if phase.vision == "lora":
        lora_params += lora_param_count(vis_shapes, lora.vision_target_modules, lora.r, vis.layers)
    full_params = (
        (lang.params if phase.language == "full" else 0)
        + (vis.params if phase.vision == "full" else 0)
        + (arch.projector.params if phase.projector == "full" else 0)
    )
    weights = arch.total_params * p
    master = MASTER_BYTES if p != 4 else 0

    # Language model activations (always kept: a phase trains something upstream or inside it)
    tokens = batch * seq
    per_layer = _layer_bytes_per_token(
        lang.hidden_size,
        lang.kv_heads * (lang.hidden_size // lang.attention_heads),
        lang.intermediate_size,
        lang.attention_heads,
        lang.mlp == "gated",
        p,
        attn,
        seq,
    )
    if phase.language == "lora":
        per_layer += _lora_bytes_per_token(lang_shapes, lora.target_modules, lora.r, lora.dropout)
    language_activations = tokens * 2 * lang.hidden_size * p + _stack(
        lang.layers, tokens * per_layer, tokens * lang.hidden_size * p, ckpt
    )

    # Vision tower + projector activations
    # Attention spans one image the tower sees: a frame, or a grid of frames (data.layout).
    patches_per_image = recipe.patches_per_image
    patches = batch * recipe.data.images_per_example * patches_per_image
    v_per_layer = _layer_bytes_per_token(
        vis.hidden_size, vis.hidden_size, vis.intermediate_size, vis.attention_heads, vis.mlp == "gated", p, attn, patches_per_image
    )
    if phase.vision == "lora":
        v_per_layer += _lora_bytes_per_token(vis_shapes, lora.vision_target_modules, lora.r, lora.dropout)
    if phase.vision == "frozen":
        vision_activations = int(patches * v_per_layer)  # one layer's working set, nothing kept
    else:
        vision_activations = _stack(vis.layers, patches * v_per_layer, patches * vis.hidden_size * p, ckpt)
    if phase.projector == "full" or phase.vision != "frozen":
        proj_in = vis.hidden_size * vis.spatial_merge**2
        vision_activations += batch * visual * (proj_in + 2 * arch.projector.hidden_size) * p

    logit_elements = tokens * lang.vocab_size
    return MemoryPlan(
        recipe=recipe.name,
        phase=phase.name,
        dtype=dtype,
        batch_size=batch,
        seq_len=seq,
        visual_tokens=visual,
        gradient_checkpointing=ckpt,
        frames=recipe.data.most_frames,
        max_pixels=recipe.data.max_pixels,
        lora_r=lora.r,
        towers=tuple(phase.modes().items()),
        total_params=arch.total_params,
        lora_params=lora_params,
        full_params=full_params,
        weights=weights,
        lora_weights=lora_params * 4,
        lora_grads=lora_params * 4,
        lora_optimizer=lora_params * ADAM_MOMENT_BYTES,
        full_grads=full_params * p,
        full_optimizer=full_params * (ADAM_MOMENT_BYTES + master),
        language_activations=int(language_activations),
        vision_activations=int(vision_activations),
        logits=logit_elements * (p + 4),
        logits_grad=logit_elements * 4,
        overhead=int(recipe.memory.overhead_gib * GiB),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def predict_peak_memory(
    recipe: Recipe,
    *,
    batch_size: int | None = None,
    seq_len: int | None = None,
    gradient_checkpointing: bool | None = None,
    phase: str | None = None,
) -> MemoryPlan:
    """Predicted peak memory of training `recipe`, for one phase (default: the largest).

    `batch_size`, `seq_len` and `gradient_checkpointing` override the recipe's
    train.per_device_batch_size, train.max_seq_length and train.gradient_checkpointing. The
    sequence is never taken shorter than the visual tokens + MIN_TEXT_TOKENS (a note says so).
    """
    batch = recipe.train.per_device_batch_size if batch_size is None else batch_size
    seq = recipe.train.max_seq_length if seq_len is None else seq_len
    ckpt = recipe.train.gradient_checkpointing if gradient_checkpointing is None else gradient_checkpointing
    if batch <= 0 or seq <= 0:
        raise ValueError(f"batch_size and seq_len must be positive, got {batch} and {seq}")
    phases = recipe.phases
    if phase is not None:
        phases = tuple(ph for ph in recipe.phases if ph.name == phase)
        if not phases:
            raise ValueError(
                f"recipe {recipe.name!r} has no phase {phase!r}; phases: {', '.join(p.name for p in recipe.phases)}"
            )
    plans = [_plan_phase(recipe, ph, batch, seq, ckpt) for ph in phases]
    return max(plans, key=lambda plan: plan.total)


def check_budget(plan: MemoryPlan, budget_gib: float) -> None:
    """Raise MemoryBudgetError when `plan.total` is over `budget_gib`, naming what to turn."""
    budget = budget_gib * GiB
    if plan.total <= budget:
        return
    biggest = sorted(plan.components().items(), key=lambda kv: kv[1], reverse=True)[:4]
    top = ", ".join(f"{name} {value / GiB:.2f} GiB" for name, value in biggest)
    trained = [f"{t} ({m})" for t, m in plan.towers if m != "frozen"]
    ckpt = "currently off" if not plan.gradient_checkpointing else "already on"
    knobs = [
        f"enable gradient checkpointing (train.gradient_checkpointing: true; {ckpt})",
        f"lower frames (data.frames: {plan.frames}) or the pixel budget (data.max_pixels: {plan.max_pixels}); "
        f"{plan.visual_tokens} visual tokens per example now",
        f"lower the batch size and raise gradient accumulation (train.per_device_batch_size: {plan.batch_size}, "
        "train.gradient_accumulation_steps)",
        f"lower the LoRA rank (lora.r: {plan.lora_r})",
        f"freeze a tower (trained now: {', '.join(trained)})",
        f"lower max_seq_length (train.max_seq_length; sequence {plan.seq_len} tokens now)",
    ]
    raise MemoryBudgetError(
        f"Recipe {plan.recipe!r} (phase {plan.phase}) is predicted to need {plan.total_gib:.2f} GiB, over its "
        f"budget of {budget_gib:g} GiB (memory.budget_gib). Biggest components: {top}. Knobs to turn:\n"
        + "\n".join(f"  - {k}" for k in knobs)
    )


def main(argv: list[str]) -> int:
    """`python -m train.memory [RECIPE ...]`: print each plan and whether it fits its budget."""
    status = 0
    for name in argv or ["tiny"]:
        recipe = load_recipe(name)
        plan = predict_peak_memory(recipe)
        print(plan)
        try:
            check_budget(plan, recipe.memory.budget_gib)
            print(f"fits the budget of {recipe.memory.budget_gib:g} GiB\n")
        except MemoryBudgetError as err:
            print(f"{err}\n")
            status = 1
    return status


__all__ = [
    "BYTES_PER_PARAM",
    "GiB",
    "MemoryBudgetError",
    "MemoryPlan",
    "check_budget",
    "lora_param_count",
    "predict_peak_memory",
]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
