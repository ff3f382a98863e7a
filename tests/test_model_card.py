"""The model card (narrate/publish.py: model_card) on hand-made inputs: YAML front matter that
survives hostile values and names a base model only by its Hub id, LoRA settings only for a recipe
that trains with LoRA, the commit, rounded figures and settings as tables, Markdown escaping,
determinism."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from narrate.publish import CARD_TAGS, hub_id, model_card
from tests.test_report import markdown_tables

REPO = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def phase(name: str, *, vision: str = "frozen", language: str = "full") -> SimpleNamespace:
    return SimpleNamespace(name=name, vision=vision, projector="full", language=language, epochs=10.0,
                           learning_rate=1e-3)


LORA = SimpleNamespace(r=8, alpha=16, dropout=0.05, target_modules=("q_proj", "v_proj"), vision_target_modules=("qkv",))
RECIPE = SimpleNamespace(  # the tiny recipe: one phase, no LoRA
    name="tiny",
    description="Tiny LLaVA (tower + projector + decoder)\nfor tests.",
    model=SimpleNamespace(path="models/tiny-llava", vision_encoder=None, language_model=None),
    lora=LORA,
    phases=(phase("sft"),),
    train=SimpleNamespace(per_device_batch_size=2, gradient_accumulation_steps=4, max_seq_length=512,
                          gradient_checkpointing=False, seed=0),
)
LORA_RECIPE = SimpleNamespace(**{**vars(RECIPE), "name": "qwen", "phases": (phase("lora", language="lora"),),
                                 "model": SimpleNamespace(path="Qwen/Qwen2.5-VL-3B-Instruct", vision_encoder=None,
                                                          language_model=None)})
SETTINGS = {"prompt": "a | b", "max_new_tokens": 40, "decoding": "greedy do_sample=False, num_beams=1",
            "frames": "1 (a still image)", "max_pixels": 4096, "layout": "grid"}
TRAINING = {"params": {"recipe": "tiny", "competence": {"initial": 0.1, "full_at": 0.5}, "runs": ["curriculum", "blind"]},
            "metrics": {"steps": 759, "trained_examples": 607, "first_loss": 6.297332000732422,
                        "final_loss": 0.1592478036880493}}
LINEAGE = {
    "git": {"commit": COMMIT, "dirty": False},
    "dvc_lock": "dvc.lock",
    "mixtures": {"path": "data/mixtures", "md5": "abc.dir", "files": 4},
    "raw_dumps": {"data/sample/lvd2m": "111.dir", "data/sample/youdescribe": "222.dir"},
    "licences": ["sample-world-cc0", "youdescribe-cc-by-nc-nd-4.0"],
    "manifest": {"size_asked": 10, "size_obtained": 9, "seed": 0, "curriculum": {"policy": "bucketed"},
                 "sources": {"lvd2m": {"asked": 4, "obtained": 4, "shortfall": 0},
                             "youdescribe": {"asked": 6, "obtained": 5, "shortfall": 1}}},
    "funnel": {"sources": {"lvd2m": {"raw_records": 12, "quarantined": 2, "rejected": 3, "kept": 7}}},
}
EVAL_METRICS = {"narrator_test": {"examples": 86, "CIDEr": 2.105384, "Bleu_4": 0.48012, "METEOR": 0.3149, "ROUGE_L": 0.5781},
                "mmbench_dev": {"questions": 2, "circular_accuracy": 0.5}}
EVAL_SUMMARY = {"benchmarks": {
    "narrator_test": {"status": "evaluated", "format": "narrator", "settings": SETTINGS},
    "mmbench_dev": {"status": "evaluated", "format": "mmbench", "settings": {**SETTINGS, "prompt": "Answer."}},
    "coco_karpathy_test": {"status": "skipped", "format": "coco"},
}}
POLICY = {"frames": 4, "max_pixels": 4096, "fps": None, "max_frames": 16, "layout": "grid"}


def card(**changes: Any) -> str:
    arguments: dict[str, Any] = dict(
        base_model="models/tiny-llava", base_hub_id=None, recipe=RECIPE, run="curriculum", frame_policy=POLICY,
        merged=False, lineage=LINEAGE, training=TRAINING, eval_metrics=EVAL_METRICS, eval_summary=EVAL_SUMMARY,
    )
    return model_card(**{**arguments, **changes})


def front_matter(text: str) -> dict[str, Any]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, text[:200]
    return yaml.safe_load(match.group(1))


def test_front_matter_names_the_base_model_only_by_its_hub_id() -> None:
    hub = "Qwen/Qwen2.5-VL-3B-Instruct"
    assert front_matter(card(base_model=hub, base_hub_id=hub)) == {
        "base_model": hub, "library_name": "transformers", "license": "other",
        "license_name": "non-commercial (see Limits)", "pipeline_tag": "image-text-to-text", "tags": CARD_TAGS,
    }
    assert "- base model: `Qwen/Qwen2.5-VL-3B-Instruct` on the Hugging Face Hub" in card(base_model=hub, base_hub_id=hub)
    local = card()
    assert "base_model" not in front_matter(local)
    assert "- base model: trained from a local model, `models/tiny-llava`; it is not a Hugging Face Hub id" in local
    parts = SimpleNamespace(**{**vars(RECIPE), "model": SimpleNamespace(
        path="models/llava-llama3.2-3b", vision_encoder="google/siglip-so400m-patch14-384",
        language_model="meta-llama/Llama-3.2-3B-Instruct")})
    assert ("built from `google/siglip-so400m-patch14-384` (vision) and `meta-llama/Llama-3.2-3B-Instruct` (language)"
            in card(recipe=parts, base_model="models/llava-llama3.2-3b"))


def cached(cache: Path, repo_id: str) -> None:
    """`repo_id` as huggingface_hub caches a download of it."""
    folder = cache / f"models--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs/main").write_text("abc")
    (folder / "snapshots/abc").mkdir(parents=True)
    (folder / "snapshots/abc/config.json").write_text("{}")


def test_hub_ids_are_cached_owner_slash_name_and_not_a_local_folder(tmp_path: Path) -> None:
    cache = tmp_path / "hf"
    for name in ("Qwen/Qwen2.5-VL-3B-Instruct", "owner/model", "models/tiny-llava"):
        cached(cache, name)
    assert hub_id("Qwen/Qwen2.5-VL-3B-Instruct", tmp_path, cache_dir=cache) == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert hub_id("Qwen/Qwen2-VL-2B-Instruct", tmp_path, cache_dir=cache) is None  # not where training found it
    assert hub_id("models/tiny-llava", REPO, cache_dir=cache) is None  # a pipeline output (dvc.lock), even unbuilt
    (tmp_path / "owner/model").mkdir(parents=True)
    assert hub_id("owner/model", tmp_path, cache_dir=cache) is None  # a folder of the project
    for local in (str(tmp_path / "owner/model"), "./models/x", "../x", "model", "~/x"):
        assert hub_id(local, tmp_path, cache_dir=cache) is None, local


def test_hostile_values_stay_inside_their_yaml_value() -> None:
    hostile = "evil: 1\n---\nlicense: mit # <script>"
    text = card(base_model=hostile, base_hub_id=hostile)
    metadata = front_matter(text)
    assert metadata["base_model"] == hostile and metadata["license"] == "other"
    assert text.count("\n---\n") == 1  # the front matter closes once, where it should


def test_lora_settings_only_for_a_recipe_that_trains_with_lora() -> None:
    assert "LoRA" not in card()  # the tiny recipe trains the language model in full
    lora = card(recipe=LORA_RECIPE, merged=True)
    assert "weights: LoRA merged into the base" in lora
    assert "| LoRA | value |\n|---|---|\n| r | 8 |\n| alpha | 16 |\n| dropout | 0.05 |\n" in lora
    assert "| language target modules | q_proj, v_proj |" in lora and "vision target modules" not in lora
    vision = SimpleNamespace(**{**vars(LORA_RECIPE), "phases": (phase("v", vision="lora"),)})
    text = card(recipe=vision)
    assert "| vision target modules | qkv |" in text and "language target modules" not in text


def test_the_commit_is_the_projects_or_says_there_is_none() -> None:
    text = card()
    assert f"- code: commit `{COMMIT}` of the project\n" in text
    assert f"`git checkout {COMMIT} && dvc pull` restores exactly this code and these files." in text
    assert "<commit>" not in text
    dirty = card(lineage={**LINEAGE, "git": {"commit": COMMIT, "dirty": True}})
    assert "uncommitted changes" in dirty and "restores the committed code and these files" in dirty
    unknown = card(lineage={**LINEAGE, "git": None})
    assert "- code: not recorded: the project folder is not a git checkout" in unknown and "`git checkout" not in unknown


def test_figures_are_rounded_and_settings_are_tables() -> None:
    text = card()
    assert "Result: 759 optimizer steps on 607 examples; loss 6.297 at the first logged step, 0.1592 at the end." in text
    rounded = card(training={**TRAINING, "metrics": {**TRAINING["metrics"], "first_loss": 6.32996, "final_loss": 0.12}})
    assert "loss 6.330 at the first logged step, 0.1200 at the end." in rounded  # 4 significant digits, zeros kept
    tables = {table[0]: table for table in markdown_tables(text)}
    assert tables["| frame policy | value |"][2:] == [
        "| frames | 4 |", "| max_pixels | 4,096 |", "| fps | none |", "| max_frames | 16 |", "| layout | grid |"]
    assert tables["| phase | vision | projector | language | epochs | learning rate |"][2] == \
        "| sft | frozen | full | full | 10 | 0.001 |"
    assert tables["| params.yaml train | value |"][2:] == [
        "| recipe | tiny |", "| competence.initial | 0.1 |", "| competence.full_at | 0.5 |", "| runs | curriculum, blind |"]
    scores = tables["| benchmark | examples | CIDEr | BLEU-4 | METEOR | ROUGE-L | CircularEval (%) |"]
    assert scores[2:] == ["| narrator_test | 86 | 210.5 | 48.0 | 31.5 | 57.8 | |",
                          "| mmbench_dev | 2 questions | | | | | 50.0 |"]
    generation = tables["| benchmark | prompt | max new tokens | decoding | frames | max pixels |"]
    assert generation[2] == ("| narrator_test | a \\| b | 40 | greedy do_sample=False, num_beams=1 | "
                             "1 (a still image) | 4,096 |")
    assert "{" not in text.split("---\n", 2)[2]  # no raw JSON anywhere in the card
    assert "`narrator_test` is this project's own held-out split" in text and "no published counterpart" in text


def test_sections_and_tables() -> None:
    text = card()
    for section in ("# Visual Narrator", "## Base model and recipe", "### Frame policy", "## Training settings",
                    "## Data version", "## Mixture composition", "## Curation funnel", "## Evaluation", "## Limits"):
        assert f"\n{section}\n" in text
    assert "- recipe: `tiny`: Tiny LLaVA (tower + projector + decoder) for tests." in text
    assert "weights: as trained" in text
    assert "- raw dump `data/sample/youdescribe`: md5 `222.dir`" in text
    assert "\n9 examples of 10 asked, seed 0, curriculum: policy bucketed.\n" in text
    tables = markdown_tables(text)
    mixture = next(t for t in tables if t[0] == "| source | asked | obtained | shortfall |")
    assert mixture[2:] == ["| lvd2m | 4 | 4 | 0 |", "| youdescribe | 6 | 5 | 1 |"]
    assert ["| source | raw records | quarantined | rejected | kept |", "|---|---:|---:|---:|---:|",
            "| lvd2m | 12 | 2 | 3 | 7 |"] in tables
    for table in tables:
        assert len({len(re.split(r"(?<!\\)\|", line)) for line in table}) == 1, table
    assert "Not evaluated (files absent when the eval ran): coco_karpathy_test." in text
    assert "CC BY-NC-ND 4.0" in text and "sample world (synthetic, generated by this project): CC0" in text
    assert "\n\n\n" not in text


def test_without_lineage_or_eval() -> None:
    empty = {"git": None, "dvc_lock": None, "mixtures": None, "raw_dumps": {}, "licences": [], "manifest": None,
             "funnel": None}
    text = card(lineage=empty, eval_metrics=None, eval_summary=None, training={"params": {}, "metrics": None})
    assert "no dvc.lock next to the export" in text and "## Mixture composition" not in text
    assert "Not evaluated: no reports/eval/metrics.json" in text and "Result:" not in text
    assert "params.yaml train" not in text
    assert "LVD-2M: research use only" in text  # without recorded licences, every licence note
    assert "\n\n\n" not in text


def test_same_inputs_give_identical_text() -> None:
    assert card() == card() and card().endswith("reviewing them.\n")
