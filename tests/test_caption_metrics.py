"""Caption metrics equal the coco-caption reference (pycocoevalcap's COCOEvalCap) to full precision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.caption_metrics import (
    METRICS, PACKAGE_DIR, cider_d, load_coco_annotations, ptb_tokenize, score_captions, score_coco_files,
    spice_available,
)

FIXTURES = Path(__file__).parent / "fixtures"


def write_coco_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Annotations for three images (one never answered) and results for two, non-ASCII included."""
    refs = json.loads((FIXTURES / "images/refs.json").read_text())
    good = json.loads((FIXTURES / "images/good_captions.json").read_text())
    bad = json.loads((FIXTURES / "images/bad_captions.json").read_text())
    images = [{"id": 1, "file_name": "image1.jpg"}, {"id": 2, "file_name": "image2.jpg"}, {"id": 7, "file_name": "x.jpg"}]
    annotations = [{"id": n, "image_id": i, "caption": c}
                   for n, (i, c) in enumerate([(1, c) for c in refs["image1"]] + [(2, c) for c in refs["image2"]]
                                              + [(7, "A café sign, naïve “quotes” — and a dash.")])]
    ann, res = tmp_path / "annotations.json", tmp_path / "results.json"
    ann.write_text(json.dumps({"images": images, "annotations": annotations}), encoding="utf-8")
    res.write_text(json.dumps([{"image_id": 2, "caption": bad["image2"] + " Über-cute!"},
                               {"image_id": 1, "caption": good["image1"]}]), encoding="utf-8")
    return ann, res


def reference_scores(ann: Path, res: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """COCOEvalCap.evaluate() as the coco-caption demo runs it; SPICE (needs a download) stubbed out."""
    import pycocoevalcap.eval as coco_eval
    from pycocotools.coco import COCO

    class NoSpice:
        def compute_score(self, gts, res):  # type: ignore[no-untyped-def]
            return 0.0, [0.0] * len(gts)

        def method(self) -> str:
            return "SPICE"

    monkeypatch.setattr(coco_eval, "Spice", NoSpice)
    coco = COCO(str(ann))
    results = coco.loadRes(str(res))
    evaluation = coco_eval.COCOEvalCap(coco, results)
    evaluation.params["image_id"] = results.getImgIds()  # evaluate the images of the results file
    evaluation.evaluate()
    return evaluation.eval, evaluation.imgToEval


def test_scores_equal_the_reference_to_full_precision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ann, res = write_coco_pair(tmp_path)
    expected, expected_each = reference_scores(ann, res, monkeypatch)
    ours = score_coco_files(ann, res, spice="off")
    assert set(ours.corpus) == set(METRICS)
    for metric in METRICS:
        assert ours.corpus[metric] == expected[metric], metric
    assert set(ours.per_example) == {1, 2}  # image 7 has references but no result: not evaluated
    for image_id in (1, 2):
        for metric in METRICS:
            assert ours.per_example[image_id][metric] == expected_each[image_id][metric], (image_id, metric)
    assert ours.corpus["CIDEr"] > 0 and ours.corpus["Bleu_1"] > ours.corpus["Bleu_4"]


def test_tokenizer_matches_the_reference_tokenizer() -> None:
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    captions = {"a": ["Two cats -- sleeping, (together)!", "It's 5 p.m.; \"done\"."], "b": ["Naïve café\nover two lines"],
                "c": ["", "after an empty one"], "d": [""]}
    expected = PTBTokenizer().tokenize({k: [{"caption": c} for c in v] for k, v in captions.items()})
    assert ptb_tokenize(captions) == expected


def test_nothing_is_written_inside_site_packages(tmp_path: Path) -> None:
    before = sorted(p.relative_to(PACKAGE_DIR) for p in PACKAGE_DIR.rglob("*") if "__pycache__" not in p.parts)
    score_captions({"x": ["a cat on a mat"], "y": ["a dog"]}, {"x": "a cat", "y": "a dog runs"})
    after = sorted(p.relative_to(PACKAGE_DIR) for p in PACKAGE_DIR.rglob("*") if "__pycache__" not in p.parts)
    assert after == before


def test_spice_is_reported_unavailable_and_the_rest_still_runs() -> None:
    available, why = spice_available()
    scores = score_captions({1: ["a cat on a mat"]}, {1: "a cat on a mat"})
    assert set(METRICS) <= set(scores.corpus)
    if not available:  # offline, as on this machine: no CoreNLP jars
        assert "SPICE" not in scores.corpus and scores.unavailable["SPICE"] == why and "get_stanford_models" in why
    off = score_captions({1: ["a cat on a mat"]}, {1: "a cat on a mat"}, spice="off")
    assert "SPICE" not in off.corpus and "off" in off.unavailable["SPICE"]


def test_cider_d_alone_equals_the_full_run() -> None:
    refs = {"a": ["a red circle moves left", "a red ball rolls left"], "b": ["a blue square sits still"]}
    cands = {"a": "a red circle rolls left", "b": "a green square"}
    score, each = cider_d(refs, cands)
    full = score_captions(refs, cands, spice="off")
    assert score == full.corpus["CIDEr"] and each == {k: v["CIDEr"] for k, v in full.per_example.items()}


def test_results_for_unknown_images_name_the_files(tmp_path: Path) -> None:
    ann, res = write_coco_pair(tmp_path)
    res.write_text(json.dumps([{"image_id": 99, "caption": "a cat"}]))
    with pytest.raises(ValueError, match=r"results.json: 1 image id\(s\) are not in .*annotations.json"):
        score_coco_files(ann, res)
    res.write_text(json.dumps([{"image_id": 1, "caption": "a"}, {"image_id": 1, "caption": "b"}]))
    with pytest.raises(ValueError, match=r"results\[1\] repeats image_id 1"):
        score_coco_files(ann, res)
    ann.write_text(json.dumps({"images": [], "annotations": [{"image_id": 1}]}))
    with pytest.raises(ValueError, match=r"annotations\[0\] needs 'image_id' and a string 'caption'"):
        score_coco_files(ann, res)


def test_real_coco_file_loads() -> None:
    references, images = load_coco_annotations(FIXTURES / "coco/captions_val2014_sample100.json")
    assert len(images) == 100 and sum(len(v) for v in references.values()) == 100
    assert all(isinstance(c, str) and c for v in references.values() for c in v)
