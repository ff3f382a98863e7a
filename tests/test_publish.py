"""Export for the Hub: the dry-run folder loads back and narrates as before; lineage and the git commit;
LoRA merge; no token."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from narrate.publish import data_lineage, export, git_state, push
from narrate.frames import fit_pixels, read_frame_policy, write_frame_policy
from narrate.generation import narrate
from narrate.model import load_narrator
from train.recipes import load_recipe
from train.tiny_model import build_tiny_llava

REPO = Path(__file__).resolve().parents[1]
PHOTO = Path(__file__).parent / "fixtures/images/image2.jpg"
POLICY = load_recipe("tiny").data


def photo() -> list[Image.Image]:
    return [fit_pixels(Image.open(PHOTO).convert("RGB"), POLICY.max_pixels)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run") / "final"
    build_tiny_llava(["a dog wearing headphones on a carpet", "two cats sleep on a blanket"] * 20, folder, seed=3)
    write_frame_policy(folder, POLICY)
    (folder / "training_args.bin").write_bytes(b"pickled Trainer state")  # what trainer.save_model leaves
    return folder


def test_dry_run_round_trips_and_narrates_as_before(trained: Path, tmp_path: Path) -> None:
    model, processor = load_narrator(str(trained))
    before = narrate(model, processor, photo(), max_new_tokens=20)
    out = export(trained, tmp_path / "hub", project=tmp_path)
    names = sorted(p.name for p in out.iterdir())
    assert "model.safetensors" in names and "README.md" in names and "training_args.bin" not in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pkl"))]
    reloaded, reprocessor = load_narrator(str(out))  # from_pretrained, local files, safetensors only
    assert narrate(reloaded, reprocessor, photo(), max_new_tokens=20) == before
    assert read_frame_policy(out) == POLICY  # eval and narration read it from the export too
    card = (out / "README.md").read_text()
    for section in ("## Base model and recipe", "## Training settings", "## Data version", "## Evaluation", "## Limits"):
        assert section in card
    assert "non-commercial" in card.lower() and "CC BY-NC-ND 4.0" in card
    assert "no dvc.lock next to the export" in card  # this temporary project has none
    assert "- code: not recorded: the project folder is not a git checkout" in card
    assert "base_model:" not in card and "trained from a local model, `models/tiny-llava`" in card
    assert "LoRA" not in card  # the tiny recipe trains no LoRA


def test_export_refuses_a_folder_that_is_not_empty(trained: Path, tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "old.txt").write_text("x")
    with pytest.raises(FileExistsError, match="is not empty"):
        export(trained, tmp_path / "hub", project=tmp_path)


def test_lineage_comes_from_dvc_lock() -> None:
    lineage = data_lineage(REPO)
    assert lineage["mixtures"]["path"] == "data/mixtures" and lineage["mixtures"]["md5"].endswith(".dir")
    assert {"data/sample/lvd2m", "data/sample/youdescribe"} <= set(lineage["raw_dumps"])


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_card_names_the_projects_real_commit(trained: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").write_text("train:\n  recipe: tiny\n")
    git(project, "init", "-q")
    git(project, "add", "params.yaml")
    git(project, "commit", "-q", "-m", "x")
    head = git(project, "rev-parse", "HEAD")
    assert git_state(project) == {"commit": head, "dirty": False}
    (project / "sub").mkdir()
    assert git_state(project / "sub") is None  # inside a checkout, not the top of one
    card = (export(trained, tmp_path / "hub", project=project) / "README.md").read_text()
    assert f"- code: commit `{head}` of the project\n" in card and "<commit>" not in card
    (project / "params.yaml").write_text("train:\n  recipe: tiny\n  runs: [curriculum]\n")
    assert git_state(project) == {"commit": head, "dirty": True}
    assert git_state(tmp_path) is None


def test_lora_adapter_is_merged_into_its_base(tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    base = build_tiny_llava(["a red circle", "a blue square"] * 20, tmp_path / "base", seed=5)
    write_frame_policy(base, POLICY)
    model, processor = load_narrator(str(base))
    adapted = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    adapted.save_pretrained(adapter)
    processor.save_pretrained(adapter)
    write_frame_policy(adapter, POLICY)
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base)
    expected = narrate(adapted, processor, photo(), max_new_tokens=20)
    assert expected != narrate(load_narrator(str(base))[0], processor, photo(), max_new_tokens=20)  # the adapter matters
    out = export(adapter, tmp_path / "merged", project=tmp_path)
    assert not (out / "adapter_config.json").exists()
    merged, merged_processor = load_narrator(str(out))
    assert narrate(merged, merged_processor, photo(), max_new_tokens=20) == expected
    card = (out / "README.md").read_text()
    assert f"trained from a local model, `{base}`" in card and "base_model:" not in card  # a path, not a hub id
    kept = export(adapter, tmp_path / "adapter-export", project=tmp_path, merge=False)  # --adapter
    assert (kept / "adapter_model.safetensors").exists() and not (kept / "model.safetensors").exists()
    assert read_frame_policy(kept) == POLICY


def test_push_without_a_token_says_what_to_do(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    shutil.copytree(trained, tmp_path / "folder")
    with pytest.raises(SystemExit, match="no Hugging Face token.*--dry-run"):
        push(tmp_path / "folder", "someone/visual-narrator")
