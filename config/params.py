"""params.yaml as one typed object: `Params`, section by section, the names of the file.

    params = load_params()                  # params.yaml in the working directory
    params.filter.quality.max_symbol_ratio  # a float, checked when the file was read

Every stage reads its section from here and passes typed sections to the library; nothing
downstream casts or checks a value again. Unknown keys are refused (a typo would otherwise be
ignored silently), and a wrong value stops with one line naming the file, the key path, what
was expected and the fix (`ParamsError`). What each knob means is documented in params.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curation.schema import SOURCES

PARAMS_FILE = Path("params.yaml")

Share = Annotated[float, Field(ge=0.0, lt=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[int, Field(gt=0)]


class ParamsError(ValueError):
    """params.yaml is missing, unreadable or has a wrong value; the message says where and how to fix it."""


class Section(BaseModel):
    """A params.yaml mapping: frozen, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# ingest
# ---------------------------------------------------------------------------------------------


class WindowParams(Section):
    """How described moments become narration windows (curation/windows.py)."""

    policy: Literal["per_clip", "merged"]
    pad_before_s: NonNegative
    pad_after_s: NonNegative
    min_window_s: NonNegative
    max_window_s: NonNegative
    merge_gap_s: NonNegative

    @model_validator(mode="after")
    def _min_below_max(self) -> WindowParams:
        if self.min_window_s > self.max_window_s:
            raise ValueError(f"min_window_s ({self.min_window_s}) is larger than max_window_s ({self.max_window_s})")
        return self


class Lvd2mParams(Section):
    dir: str
    pattern: str
    caption_field: Literal["refined_caption", "raw_caption", "rewritten_caption", "orig_caption"]
    raw_caption_window_s: Annotated[float, Field(gt=0.0)]
    license: str


class YouDescribeParams(Section):
    dir: str
    csv_pattern: str  # "" for none
    api_json_pattern: str  # "" for none
    license: str
    window: WindowParams

    @model_validator(mode="after")
    def _some_input(self) -> YouDescribeParams:
        if not self.csv_pattern and not self.api_json_pattern:
            raise ValueError("csv_pattern and api_json_pattern are both empty: set at least one")
        return self


class AdWebvttParams(Section):
    dir: str
    pattern: str
    license: str
    window: WindowParams


class ImageDescriptionsParams(Section):
    dir: str
    pattern: str
    text_field: str
    key_field: str
    license: str


class IngestParams(Section):
    lvd2m: Lvd2mParams
    youdescribe: YouDescribeParams
    ad_webvtt: AdWebvttParams
    image_descriptions: ImageDescriptionsParams


# ---------------------------------------------------------------------------------------------
# filter, score, embed, dedup
# ---------------------------------------------------------------------------------------------


class WordBounds(Section):
    min: Annotated[int, Field(ge=0)]
    max: Positive

    @model_validator(mode="after")
    def _ordered(self) -> WordBounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class LanguageParams(Section):
    keep: Annotated[tuple[str, ...], Field(min_length=1)]
    seed: int
    min_words: Annotated[int, Field(ge=1)]
    cache: str


class QualityParams(Section):
    max_symbol_ratio: NonNegative
    max_repeated_trigram_ratio: NonNegative
    max_stt_artefact_ratio: NonNegative
    stt_sources: tuple[str, ...]
    boilerplate_patterns: tuple[str, ...]


class TimeParams(Section):
    min_clip_s: NonNegative
    duration_tolerance_s: NonNegative


class FilterParams(Section):
    words: dict[str, WordBounds]
    language: LanguageParams
    quality: QualityParams
    time: TimeParams

    @model_validator(mode="after")
    def _every_source(self) -> FilterParams:
        missing = [s for s in SOURCES if s not in self.words]
        if missing:
            raise ValueError(f"words has no bounds for {missing}: add e.g. `{missing[0]}: {{min: 3, max: 200}}`")
        return self


class ScoreParams(Section):
    target_words: dict[str, Positive]
    difficulty_buckets: Annotated[tuple[str, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _every_source(self) -> ScoreParams:
        missing = [s for s in SOURCES if s not in self.target_words]
        if missing:
            raise ValueError(f"target_words has no entry for {missing}")
        if len(set(self.difficulty_buckets)) != len(self.difficulty_buckets):
            raise ValueError(f"difficulty_buckets repeats a name: {list(self.difficulty_buckets)}")
        return self


class EmbedParams(Section):
    encoder: str
    batch_size: Positive


class DedupParams(Section):
    threshold: Annotated[float, Field(gt=-1.0, le=1.0)]
    labelled_pairs: str


# ---------------------------------------------------------------------------------------------
# data (mixtures), frames, tiny_model
# ---------------------------------------------------------------------------------------------


class MixParams(Section):
    lvd2m: NonNegative = 0.0
    youdescribe: NonNegative = 0.0
    ad_webvtt: NonNegative = 0.0
    image_descriptions: NonNegative = 0.0
    size: Positive
    seed: int

    @model_validator(mode="after")
    def _some_weight(self) -> MixParams:
        if sum(self.raw_weights().values()) <= 0:
            raise ValueError("every source weight is 0: give at least one source a weight")
        return self

    def raw_weights(self) -> dict[str, float]:
        return {source: getattr(self, source) for source in SOURCES}

    def weights(self) -> dict[str, float]:
        """Per-source weights normalized to sum to 1, in SOURCES order."""
        raw = self.raw_weights()
        total = sum(raw.values())
        return {source: weight / total for source, weight in raw.items()}


class SplitParams(Section):
    val: Share
    test: Share

    @model_validator(mode="after")
    def _room_for_train(self) -> SplitParams:
        if self.val + self.test >= 1.0:
            raise ValueError(f"val ({self.val}) + test ({self.test}) must leave a train split (sum < 1)")
        return self


class CurriculumParams(Section):
    policy: Literal["easy_to_hard", "bucketed", "shuffle"]


class DataParams(Section):
    mix: MixParams
    splits: SplitParams
    curriculum: CurriculumParams


class FramesParams(Section):
    media_root: str
    min_window_s: NonNegative


class TowerPretrainingParams(Section):
    scenes: Positive
    eval_scenes: Positive
    steps: Annotated[int, Field(ge=3)]  # the one-cycle schedule needs a warmup, a peak and a decay step
    batch_size: Positive
    learning_rate: Annotated[float, Field(gt=0.0)]
    seed: int


class TinyModelParams(Section):
    tower_pretraining: TowerPretrainingParams


# ---------------------------------------------------------------------------------------------
# train, eval
# ---------------------------------------------------------------------------------------------


class CompetenceParams(Section):
    initial: Annotated[float, Field(gt=0.0, le=1.0)]
    full_at: Annotated[float, Field(gt=0.0, le=1.0)]


Run = Literal["curriculum", "shuffle", "blind"]
BLIND_RUN: Run = "blind"  # the control trained on black frames: the runs' scores are compared with its


class TrainParams(Section):
    recipe: str
    runs: Annotated[tuple[Run, ...], Field(min_length=1)]  # the train runs a repro trains and evaluates
    pacing: Literal["follow", "baby_steps", "competence", "shuffle"]
    competence: CompetenceParams
    max_steps: int  # -1: the recipe's epochs
    save_steps: Positive
    logging_steps: Positive

    @model_validator(mode="after")
    def _steps(self) -> TrainParams:
        if len(set(self.runs)) != len(self.runs):
            raise ValueError(f"runs repeats a run: {list(self.runs)}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(f"max_steps is {self.max_steps}: use a positive number of steps, or -1 for the recipe's epochs")
        return self


class NarratorBenchmark(Section):
    """The mix stage's held-out clips with their sampled frames."""

    format: Literal["narrator"]
    frames: str
    mixture: str
    max_new_tokens: Positive


class CocoBenchmark(Section):
    """COCO-format captions (COCO Karpathy test, NoCaps) or TextCaps."""

    format: Literal["coco", "textcaps"]
    annotations: str
    images: str
    style: str
    max_new_tokens: Positive


class MmbenchBenchmark(Section):
    format: Literal["mmbench"]
    tsv: str
    max_new_tokens: Positive


Benchmark = Annotated[Union[NarratorBenchmark, CocoBenchmark, MmbenchBenchmark], Field(discriminator="format")]


class EvalParams(Section):
    run: str
    spice: Literal["auto", "off"]
    batch_size: Positive
    limit: Positive | None
    benchmarks: dict[str, Benchmark]


class Params(Section):
    ingest: IngestParams
    filter: FilterParams
    score: ScoreParams
    embed: EmbedParams
    dedup: DedupParams
    data: DataParams
    frames: FramesParams
    tiny_model: TinyModelParams
    train: TrainParams
    eval: EvalParams


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def validation_message(file: Path | str, err: ValidationError, prefix: str = "") -> str:
    """One line for the first problem of a pydantic error: file, key path (under `prefix`), what was
    expected, fix."""
    first = err.errors(include_url=False)[0]
    key = prefix + ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
    more = err.error_count() - 1
    tail = f" ({more} more problem{'s' if more > 1 else ''} after this one)" if more else ""
    if first["type"] == "extra_forbidden":
        return f"{file}: unknown key `{key}`. Fix: remove it or correct its spelling{tail}."
    if first["type"] == "missing":
        return f"{file}: missing key `{key}`. Fix: add it (the repository's copy of the file documents every key){tail}."
    given = first.get("input")
    got = "" if isinstance(given, dict) else f", got {given!r}"
    where = f"key `{key}`" if key else "the top level"
    expected = first["msg"].replace("a valid tuple", "a list")  # YAML has lists; the model keeps them as tuples
    return f"{file}: {where}: {expected}{got}. Fix: correct `{key or 'the file'}`{tail}."


def read_yaml_mapping(file: Path | str, error: type[ValueError]) -> dict:
    path = Path(file)
    if not path.is_file():
        raise error(f"{path}: file not found. Fix: run from the repository root, or pass the file's path.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML ({' '.join(str(err).split())}). Fix the syntax.") from err
    if not isinstance(raw, dict):
        raise error(f"{path}: must be a YAML mapping of sections, got {type(raw).__name__}.")
    return raw


def load_params(file: Path | str = PARAMS_FILE) -> Params:
    """params.yaml, validated; raises ParamsError naming the file, the key and the fix."""
    raw = read_yaml_mapping(file, ParamsError)
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(validation_message(file, err)) from None
