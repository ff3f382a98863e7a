"""params.yaml is read once, typed: a wrong value stops with the file, the key path, what was
expected and the fix, in one line; the repository's own params.yaml is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.params import Params, ParamsError, load_params

REPO = Path(__file__).resolve().parents[1]


def with_change(tmp_path: Path, path: str, value: object) -> Path:
    """A copy of the repository's params.yaml with `path` (dotted) set to `value` (None: deleted)."""
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    *parents, last = path.split(".")
    node = params
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    out = tmp_path / "params.yaml"
    out.write_text(yaml.safe_dump(params), encoding="utf-8")
    return out


def test_repository_params_are_valid_and_typed() -> None:
    params = load_params(REPO / "params.yaml")
    assert isinstance(params, Params)
    assert isinstance(params.filter.quality.max_symbol_ratio, float)
    assert params.data.mix.weights() == pytest.approx({"lvd2m": 0.8, "youdescribe": 0.15, "ad_webvtt": 0.05,
                                                       "image_descriptions": 0.0})
    assert sum(params.data.mix.weights().values()) == pytest.approx(1.0)
    assert {spec.format for spec in params.eval.benchmarks.values()} == {"narrator", "coco", "textcaps", "mmbench"}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("filter.words.lvd2m.min", 300, r"key `filter\.words\.lvd2m`: Value error, min \(300\) is larger than max \(250\)"),
        ("filter.words.lvd2m.max", "many", r"key `filter\.words\.lvd2m\.max`: Input should be a valid integer.*got 'many'"),
        ("data.mix.youdescrbe", 0.4, r"unknown key `data\.mix\.youdescrbe`\. Fix: remove it or correct its spelling"),
        ("data.curriculum.policy", "hardest_first", r"key `data\.curriculum\.policy`: Input should be 'easy_to_hard', 'bucketed' or 'shuffle'"),
        ("data.splits.test", 0.95, r"key `data\.splits`: Value error, val \(0\.1\) \+ test \(0\.95\)|key `data\.splits\.test`"),
        ("train.save_steps", 0, r"key `train\.save_steps`: Input should be greater than 0, got 0"),
        ("tiny_model.tower_pretraining.steps", 2, r"key `tiny_model\.tower_pretraining\.steps`: Input should be greater than or equal to 3"),
        ("eval.benchmarks.coco_karpathy_test.format", "cocoa", r"key `eval\.benchmarks\.coco_karpathy_test`: Input tag 'cocoa'"),
        ("embed.encoder", None, r"missing key `embed\.encoder`\. Fix: add it"),
        ("ingest.youdescribe.window.policy", "sliding", r"key `ingest\.youdescribe\.window\.policy`: Input should be 'per_clip' or 'merged'"),
    ],
)
def test_a_wrong_value_names_file_key_expectation_and_fix(tmp_path: Path, path: str, value: object, expected: str) -> None:
    file = with_change(tmp_path, path, value)
    with pytest.raises(ParamsError, match=expected) as caught:
        load_params(file)
    message = str(caught.value)
    assert message.startswith(f"{file}: ") and "Fix" in message and "\n" not in message


def test_every_source_needs_word_bounds(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match=r"key `filter`: Value error, words has no bounds for \['ad_webvtt'\]"):
        load_params(with_change(tmp_path, "filter.words.ad_webvtt", None))


def test_a_missing_or_broken_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match=r"params\.yaml: file not found"):
        load_params(tmp_path / "params.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("filter: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"broken\.yaml: not valid YAML"):
        load_params(broken)


def test_yaml_scientific_notation_without_a_dot_is_a_number(tmp_path: Path) -> None:
    # PyYAML reads 3e-3 (no dot) as a string; the typed model still takes it as a float.
    text = (REPO / "params.yaml").read_text(encoding="utf-8").replace("learning_rate: 3.0e-3", "learning_rate: 3e-3")
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    assert load_params(tmp_path / "params.yaml").tiny_model.tower_pretraining.learning_rate == pytest.approx(3e-3)
