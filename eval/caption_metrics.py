"""Caption metrics exactly as the COCO caption evaluation (coco-caption / pycocoevalcap) computes them.

BLEU-1..4, METEOR, ROUGE-L and CIDEr-D come from pycocoevalcap's own scorer classes, fed the
output of the same Stanford PTB tokenizer jar with the same punctuation removal, on the same
evaluated image set as the reference (`cocoEval.params['image_id'] = cocoRes.getImgIds()`: the
images of the results file). So an annotations file plus a results file gives the reference's
numbers to full precision (tests/test_caption_metrics.py compares against `COCOEvalCap.evaluate`).

What differs from calling `COCOEvalCap.evaluate()`, and why:
- SPICE is optional. `evaluate()` builds SPICE first, whose constructor downloads Stanford
  CoreNLP: offline, the whole evaluation fails. Here SPICE runs only when its jars are present
  (`spice_available`), and is otherwise reported as unavailable while every other metric runs.
- Nothing is written inside site-packages (read-only on many installs): the PTB tokenizer reads
  its input from stdin instead of a temporary file next to the jar, and SPICE, when it runs,
  keeps its temporary files in a temporary folder and its parse cache in the user cache folder.
- Both sides (references and candidates) are tokenized in one JVM start instead of two.
- Per-example scores are returned keyed by example, with SPICE aligned by id (the reference zips
  SPICE's sorted-id scores with the unsorted ids).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pycocoevalcap
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer import ptbtokenizer

PACKAGE_DIR = Path(pycocoevalcap.__path__[0])
PTB_JAR = PACKAGE_DIR / "tokenizer" / ptbtokenizer.STANFORD_CORENLP_3_4_1_JAR
SPICE_DIR = PACKAGE_DIR / "spice"
SPICE_JAR = SPICE_DIR / "spice-1.0.jar"
# What pycocoevalcap's get_stanford_models() would download into spice/lib on first use.
SPICE_CORENLP_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")
SPICE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "visual_narrator" / "spice"

METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")  # COCOEvalCap's names
SPICE = "SPICE"

Key = Hashable


@dataclass
class CaptionScores:
    """Corpus scores by metric name, per-example scores by key then metric, and metrics not run."""

    corpus: dict[str, float]
    per_example: dict[Key, dict[str, float]]
    unavailable: dict[str, str] = field(default_factory=dict)  # metric -> why it did not run


def ptb_tokenize(captions: Mapping[Key, Sequence[str]]) -> dict[Key, list[str]]:
    """pycocoevalcap's PTBTokenizer.tokenize, reading stdin instead of a file inside site-packages.

    Same jar, same flags (-preserveLines -lowerCase), same punctuation removal, same
    newline-to-space replacement. Carriage returns are also replaced by spaces: the jar splits
    lines on them too, which in the reference shifts every later caption onto the wrong image.
    """
    keys = [key for key, texts in captions.items() for _ in texts]
    lines = [text.replace("\n", " ").replace("\r", " ") for texts in captions.values() for text in texts]
    if not lines:
        return {}
    result = subprocess.run(
        ["java", "-cp", str(PTB_JAR), "edu.stanford.nlp.process.PTBTokenizer", "-preserveLines", "-lowerCase"],
        input="\n".join(lines).encode(), capture_output=True, check=False,  # the bytes the reference writes to its file
    )
    if result.returncode != 0:
        raise RuntimeError(f"the PTB tokenizer (java, {PTB_JAR}) failed: {result.stderr.decode(errors='replace')[-500:]}")
    tokenized: dict[Key, list[str]] = {key: [] for key in captions}
    for key, line in zip(keys, result.stdout.decode().split("\n")):
        tokenized[key].append(" ".join(w for w in line.rstrip().split(" ") if w not in ptbtokenizer.PUNCTUATIONS))
    return tokenized


def spice_available() -> tuple[bool, str]:
    """Whether SPICE can run offline, and if not, why (the message names what to install)."""
    missing = [name for name in SPICE_CORENLP_JARS if not (SPICE_DIR / "lib" / name).exists()]
    if not SPICE_JAR.exists():
        return False, "pycocoevalcap/spice/spice-1.0.jar is missing (reinstall pycocoevalcap)"
    if missing:
        return False, (f"Stanford CoreNLP jars missing from pycocoevalcap/spice/lib ({', '.join(missing)}): "
                       "run pycocoevalcap.spice.get_stanford_models.get_stanford_models() once with network access")
    return True, ""


def spice_scores(references: Mapping[Key, list[str]], candidates: Mapping[Key, list[str]]) -> tuple[float, dict[Key, float]]:
    """SPICE F-scores as pycocoevalcap's Spice computes them, with temporary files outside site-packages."""
    import numpy as np

    ids = sorted(references, key=str)
    data = [{"image_id": i if isinstance(i, int | str) else str(i), "test": candidates[i][0], "refs": references[i]}
            for i in ids]
    SPICE_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="spice-") as work:
        in_file, out_file = Path(work) / "input.json", Path(work) / "output.json"
        in_file.write_text(json.dumps(data, indent=2))
        subprocess.run(["java", "-jar", "-Xmx8G", str(SPICE_JAR), str(in_file), "-cache", str(SPICE_CACHE),
                        "-out", str(out_file), "-subset", "-silent"], cwd=SPICE_DIR, check=True)
        results = json.loads(out_file.read_text())

    def f_score(value) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            return float("nan")

    by_id = {item["image_id"]: f_score(item["scores"]["All"]["f"]) for item in results}
    per_example = {i: by_id[d["image_id"]] for i, d in zip(ids, data)}
    return float(np.mean([by_id[d["image_id"]] for d in data])), per_example


def score_captions(
    references: Mapping[Key, Sequence[str]], candidates: Mapping[Key, str], *, spice: str = "auto"
) -> CaptionScores:
    """Score one candidate per key against its references, on the candidates' keys.

    `spice`: "auto" runs SPICE when its jars are present and reports it unavailable otherwise;
    "off" never runs it. Keys of `candidates` missing from `references` are an error (as in
    COCO's loadRes); references without a candidate are not evaluated (the reference's subset).
    """
    if spice not in ("auto", "off"):
        raise ValueError(f"spice={spice!r}: use 'auto' or 'off'")
    if not candidates:
        raise ValueError("no candidates to score")
    unknown = [k for k in candidates if k not in references]
    if unknown:
        raise ValueError(f"{len(unknown)} candidate(s) have no references, e.g. {unknown[:3]}: "
                         "the results do not belong to this annotation set")
    empty = [k for k in candidates if not references[k]]
    if empty:
        raise ValueError(f"{len(empty)} example(s) have no reference caption, e.g. {empty[:3]}")

    keys = list(candidates)
    gts, res = _tokenize_pairs(references, candidates, keys)

    corpus: dict[str, float] = {}
    per_example: dict[Key, dict[str, float]] = {k: {} for k in keys}

    def record(name: str, score: float, scores: Sequence[float]) -> None:
        corpus[name] = float(score)
        for k, s in zip(gts.keys(), scores):  # every scorer iterates gts.keys()
            per_example[k][name] = float(s)

    bleu, bleu_each = Bleu(4).compute_score(gts, res, verbose=0)
    for n in range(4):
        record(f"Bleu_{n + 1}", bleu[n], bleu_each[n])
    meteor = Meteor()
    try:
        record("METEOR", *meteor.compute_score(gts, res))
    finally:
        _stop_meteor(meteor)
    record("ROUGE_L", *Rouge().compute_score(gts, res))
    record("CIDEr", *Cider().compute_score(gts, res))

    unavailable: dict[str, str] = {}
    if spice == "off":
        unavailable[SPICE] = "turned off (spice: off)"
    else:
        ok, why = spice_available()
        if ok:
            score, each = spice_scores(gts, res)
            corpus[SPICE] = score
            for k, s in each.items():
                per_example[k][SPICE] = s
        else:
            unavailable[SPICE] = why
    return CaptionScores(corpus=corpus, per_example=per_example, unavailable=unavailable)


def cider_d(references: Mapping[Key, Sequence[str]], candidates: Mapping[Key, str]) -> tuple[float, dict[Key, float]]:
    """Corpus CIDEr-D and per-example scores alone (no METEOR JVM), tokenized as score_captions does."""
    gts, res = _tokenize_pairs(references, candidates, sorted(candidates, key=str))
    score, each = Cider().compute_score(gts, res)
    return float(score), {k: float(s) for k, s in zip(gts, each)}


def _tokenize_pairs(references: Mapping[Key, Sequence[str]], candidates: Mapping[Key, str],
                    keys: Sequence[Key]) -> tuple[dict[Key, list[str]], dict[Key, list[str]]]:
    """References and candidates of `keys`, PTB-tokenized in one JVM start, as the scorers take them."""
    tokenized = ptb_tokenize({**{("ref", k): list(references[k]) for k in keys},
                              **{("cand", k): [candidates[k]] for k in keys}})
    return {k: tokenized[("ref", k)] for k in keys}, {k: tokenized[("cand", k)] for k in keys}


def _stop_meteor(meteor: Meteor) -> None:
    # pycocoevalcap 1.2 stops METEOR's JVM only in __del__; stop it now so none outlive a run, and
    # free the lock compute_score leaves held when it raises (or __del__ would wait on it forever).
    meteor.meteor_p.kill()
    meteor.meteor_p.wait()
    if meteor.lock.locked():
        meteor.lock.release()


def load_coco_annotations(path: str | Path) -> tuple[dict[int, list[str]], dict[int, dict]]:
    """A COCO-format captions file: references by image id, and the image records by id.

    Annotations that point at an image missing from `images` are kept as references (COCO
    indexes annotations by image_id whether or not the image is listed).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable COCO captions file ({error})") from error
    if not isinstance(data, dict) or "annotations" not in data:
        raise ValueError(f"{path}: a COCO captions file is an object with 'images' and 'annotations'")
    references: dict[int, list[str]] = {}
    for n, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict) or "image_id" not in ann or not isinstance(ann.get("caption"), str):
            raise ValueError(f"{path}: annotations[{n}] needs 'image_id' and a string 'caption'")
        references.setdefault(ann["image_id"], []).append(ann["caption"])
    images = {img["id"]: img for img in data.get("images", []) if isinstance(img, dict) and "id" in img}
    return references, images


def load_coco_results(path: str | Path) -> dict[int, str]:
    """A COCO-format results file: a list of {"image_id", "caption"}; one caption per image."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable COCO results file ({error})") from error
    if not isinstance(rows, list):
        raise ValueError(f"{path}: a COCO results file is a list of {{'image_id', 'caption'}} objects")
    results: dict[int, str] = {}
    for n, row in enumerate(rows):
        if not isinstance(row, dict) or "image_id" not in row or not isinstance(row.get("caption"), str):
            raise ValueError(f"{path}: results[{n}] needs 'image_id' and a string 'caption'")
        if row["image_id"] in results:
            raise ValueError(f"{path}: results[{n}] repeats image_id {row['image_id']}: one caption per image")
        results[row["image_id"]] = row["caption"]
    return results


def score_coco_files(annotations: str | Path, results: str | Path, *, spice: str = "auto") -> CaptionScores:
    """The coco-caption evaluation of a results file against an annotations file."""
    references, _ = load_coco_annotations(annotations)
    candidates = load_coco_results(results)
    missing = [i for i in candidates if i not in references]
    if missing:
        raise ValueError(f"{results}: {len(missing)} image id(s) are not in {annotations}, e.g. {missing[:3]}")
    return score_captions(references, candidates, spice=spice)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="COCO caption metrics of a results file (as coco-caption).")
    parser.add_argument("annotations", help="COCO-format captions file (images + annotations)")
    parser.add_argument("results", help="COCO-format results file: [{'image_id': ..., 'caption': ...}]")
    parser.add_argument("--spice", choices=("auto", "off"), default="auto")
    args = parser.parse_args()
    scores = score_coco_files(args.annotations, args.results, spice=args.spice)
    for name, value in scores.corpus.items():
        print(f"{name}: {value:.3f}")
    for name, why in scores.unavailable.items():
        print(f"{name}: unavailable ({why})")


if __name__ == "__main__":
    main()
