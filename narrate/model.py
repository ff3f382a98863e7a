"""Open a narrator: the one loader every recipe, stage and tool uses, and its pixel budget.

`load_narrator`: `AutoProcessor` + `AutoModelForImageTextToText`, never `trust_remote_code`,
safetensors only, local files only (a folder, or a hub id already in the local HF cache). The tiny
model (train/tiny_model.py) and the 3B recipes take the same path.

Qwen2.5-VL processor: in transformers 5.x `Qwen2_5_VLProcessor` always carries a
`Qwen2VLVideoProcessor`, which exists only with torchvision. `load_narrator` re-raises the import
error of a machine without it as an ImportError naming the model and saying to install torchvision.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForImageTextToText, AutoProcessor, PreTrainedModel, ProcessorMixin


class NarratorNotAvailableError(FileNotFoundError):
    """The model folder does not exist, or the hub id is not in the local Hugging Face cache."""


# "name" or "owner/name" with the characters the hub allows; anything else is treated as a path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _not_available(path_or_hub_id: str, detail: str, *, is_folder: bool) -> NarratorNotAvailableError:
    fix = (
        "pass a folder that holds config.json, *.safetensors and the processor files"
        if is_folder
        else f"download it first (e.g. `hf download {path_or_hub_id}`) into the Hugging Face "
        "cache, or pass the path of a local folder with the model"
    )
    return NarratorNotAvailableError(
        f"Narrator model {path_or_hub_id!r} is not available locally ({detail}). Nothing is "
        f"downloaded at run time: {fix}."
    )


def load_narrator(
    path_or_hub_id: str, *, dtype: torch.dtype | str | None = None
) -> tuple[PreTrainedModel, ProcessorMixin]:
    """Load a narrator model and its processor from a local folder or a locally cached hub id.

    Always: `trust_remote_code=False` (a checkpoint cannot run its own Python), safetensors
    only (no pickle), `local_files_only=True` (no network; this project never downloads weights
    at run time). `dtype=None` keeps transformers' default; pass e.g. `torch.bfloat16` on GPU.

    Raises `NarratorNotAvailableError` (a FileNotFoundError) naming the argument when the folder
    is missing, the hub id is not cached, or there are no safetensors weights (a checkpoint with
    only pytorch_model.bin is refused rather than unpickled), and ImportError naming the model
    when its processor needs torchvision (Qwen2.5-VL, see module docstring).
    """
    source = str(path_or_hub_id)
    local = Path(source).expanduser()
    is_folder = local.is_dir()
    if is_folder:
        source = str(local)
    elif local.exists() or not _HUB_ID.match(source):  # a file, or clearly a path
        raise _not_available(source, "no such folder", is_folder=True)
    where = "in the folder" if is_folder else "in the local Hugging Face cache"

    common: dict[str, Any] = {
        "trust_remote_code": False,
        "local_files_only": True,
    }
    try:
        processor = AutoProcessor.from_pretrained(source, **common)
    except ImportError as err:
        if "torchvision" in str(err).lower():
            raise ImportError(
                f"The processor of {source!r} needs torchvision, which is not installed here "
                "(Qwen2.5-VL's video processor is torchvision-only in transformers 5.x). Install "
                "torchvision on the training machine, or use a model with a PIL processor."
            ) from err
        raise
    except OSError as err:  # transformers' "couldn't connect / not a local folder / no file"
        raise _not_available(source, f"no loadable processor {where}", is_folder=is_folder) from err

    model_kwargs: dict[str, Any] = dict(common, use_safetensors=True)
    if dtype is not None:
        model_kwargs["dtype"] = dtype
    try:
        model = AutoModelForImageTextToText.from_pretrained(source, **model_kwargs)
    except OSError as err:
        raise _not_available(source, f"no safetensors weights {where}", is_folder=is_folder) from err
    return model, processor


def apply_pixel_budget(processor: ProcessorMixin, max_pixels: int, frames_per_image: int = 1) -> None:
    """Make the processor resize every image to the recipe's pixel budget, or say why it cannot.

    An image is one frame, or a grid of `frames_per_image` frames (data.layout grid), whose budget
    is max_pixels per frame times the frames.

    Dynamic-resolution processors (Qwen2-VL / Qwen2.5-VL: `merge_size`, size `longest_edge` in
    pixels) take the budget as their maximum; fixed-size towers (SigLIP: size height x width)
    must already equal it, because the tower's input size is part of its weights.
    """
    image_processor = processor.image_processor
    size = image_processor.size
    per_frame, max_pixels = max_pixels, max_pixels * frames_per_image
    if hasattr(image_processor, "merge_size"):  # Qwen2-VL family: size in total pixels
        size["longest_edge"] = int(max_pixels)
        size["shortest_edge"] = min(int(size.get("shortest_edge") or max_pixels), int(max_pixels))
        return
    height, width = size.get("height"), size.get("width")
    if height is None or width is None:
        raise ValueError(f"{type(image_processor).__name__}: size {dict(size)} is neither fixed nor in pixels")
    if height * width != max_pixels:
        what = "frame" if frames_per_image == 1 else f"grid of {frames_per_image} frames"
        raise ValueError(
            f"the recipe's data.max_pixels is {per_frame}, but this processor resizes every {what} to "
            f"{width}x{height} = {width * height} pixels (the vision tower's input size): "
            f"set data.max_pixels: {width * height // frames_per_image} in the recipe"
        )
