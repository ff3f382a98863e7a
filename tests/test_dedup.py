"""Dedup rules: normalization, near-duplicate search, representatives, labelled-pair metrics."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from curation.dedup import (
    deduplicate,
    evaluate_threshold,
    greedy_representatives,
    near_duplicate_pairs,
    normalize_texts,
    pair_scores,
    precision_recall,
    read_labelled_pairs,
    threshold_curve,
)
from curation.io import InputFileError
from curation.schema import CLUSTER_SCHEMA, text_hash, text_hash_column

DIM = 16


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def planted(n: int, pairs: int, seed: int, dim: int = DIM) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """n random unit vectors; vector 2k+1 is a small perturbation of 2k for k < pairs."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim))
    for k in range(pairs):
        vectors[2 * k + 1] = vectors[2 * k] + 0.05 * rng.standard_normal(dim) * np.linalg.norm(vectors[2 * k]) / np.sqrt(dim)
    return unit(vectors), {(2 * k, 2 * k + 1) for k in range(pairs)}


def brute_force(vectors: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    sims = vectors.astype(np.float64) @ vectors.astype(np.float64).T
    i, j = np.nonzero(np.triu(sims >= threshold, k=1))
    return set(zip(i.tolist(), j.tolist()))


def test_normalization_ignores_case_punctuation_and_caption_prefix() -> None:
    texts = ["CAPTION: A red-and-blue ball.", "a red and blue ball", "A  red and blue ball!", "A red and green ball."]
    normalized = normalize_texts(texts).to_list()
    assert normalized[0] == normalized[1] == normalized[2] == "a red and blue ball"
    assert normalized[3] != normalized[0]


def test_exact_search_finds_the_same_pairs_as_brute_force() -> None:
    vectors, _ = planted(600, 40, seed=1)
    i, j, sims = near_duplicate_pairs(vectors, 0.9, block=128)
    assert set(zip(i.tolist(), j.tolist())) == brute_force(vectors, 0.9)
    assert (sims >= 0.9).all() and (i < j).all()
    assert np.all(np.diff(i * len(vectors) + j) > 0), "pairs come sorted, each once"


def test_ivf_search_finds_planted_pairs_and_only_true_ones() -> None:
    vectors, truth = planted(3000, 150, seed=2)
    i, j, sims = near_duplicate_pairs(vectors, 0.9, exact_max_n=0)  # force the IVF self-join
    found = set(zip(i.tolist(), j.tolist()))
    assert found <= brute_force(vectors, 0.9), "no pair below the threshold"
    assert len(found & truth) >= 0.97 * len(truth)
    again = near_duplicate_pairs(vectors, 0.9, exact_max_n=0)
    assert all(np.array_equal(a, b) for a, b in zip((i, j, sims), again)), "seeded: same pairs twice"


def test_greedy_representatives_do_not_chain() -> None:
    # A~B and B~C but not A~C: A is kept, B dropped against A, C kept (it is no duplicate of A).
    rank = np.array([0, 1, 2])
    rep, sim = greedy_representatives(rank, np.array([0, 1]), np.array([1, 2]), np.array([0.96, 0.97]))
    assert rep.tolist() == [0, 0, 2]
    assert sim.tolist() == [1.0, 0.96, 1.0]


def test_greedy_representative_is_the_most_similar_kept_neighbour() -> None:
    rank = np.array([0, 1, 2])  # 0 and 1 are kept (not neighbours); 2 neighbours both
    rep, sim = greedy_representatives(rank, np.array([0, 1]), np.array([2, 2]), np.array([0.95, 0.99]))
    assert rep.tolist() == [0, 1, 1] and sim[2] == 0.99


def fake_embeddings(vectors_by_text: dict[str, np.ndarray], hashes: list[str]) -> np.ndarray:
    by_hash = {text_hash(t): v for t, v in vectors_by_text.items()}
    return np.stack([by_hash[h] for h in hashes]).astype(np.float32)


def examples(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=["example_id", "source", "text", "quality"], orient="row")
    return frame.with_columns(text_hash_column(pl.col("text")))


def test_repeated_caption_is_one_cluster_kept_once_with_the_best_member() -> None:
    hallucinated = "The video shows a man talking in a room."
    rows = [(f"lvd2m:clip{k:02d}", "lvd2m", hallucinated, 0.5) for k in range(12)]
    rows[7] = ("lvd2m:clip07", "lvd2m", "CAPTION: the video shows a man talking in a room", 0.9)  # best, normalizes the same
    rows.append(("youdescribe:a", "youdescribe", "A red circle moves left.", 0.4))
    rows.append(("youdescribe:b", "youdescribe", "A blue square sinks.", 0.4))
    rng = np.random.default_rng(0)
    vectors = {t: unit(rng.standard_normal((1, DIM)))[0] for _, _, t, _ in rows}
    result = deduplicate(examples(rows), functools.partial(fake_embeddings, vectors), 0.95)
    clusters = pl.from_arrow(result.clusters)
    assert result.clusters.schema.equals(CLUSTER_SCHEMA)
    assert clusters.get_column("cluster_id").unique().to_list() == ["lvd2m:clip07"]
    assert clusters.height == 12 and set(clusters.get_column("match")) == {"exact"}
    assert clusters.filter(pl.col("is_representative")).get_column("example_id").to_list() == ["lvd2m:clip07"]
    assert result.survivors.to_list() == ["lvd2m:clip07", "youdescribe:a", "youdescribe:b"]
    assert result.counts == {
        "examples_in": 14, "kept": 3, "dropped_exact": 11, "dropped_near": 0, "clusters": 1, "largest_cluster": 12,
    }


def test_near_duplicates_are_dropped_with_their_similarity_and_ties_go_to_the_smallest_id() -> None:
    base = unit(np.eye(DIM)[:3] + 0.01)
    close = unit(base[0:1] + 0.02 * np.eye(DIM)[5])[0]  # cosine ~0.9998 with base[0]
    vectors = {"one": base[0], "one again": close, "two": base[1], "three": base[2]}
    rows = [("b", "lvd2m", "one", 0.7), ("a", "youdescribe", "one again", 0.7), ("c", "lvd2m", "two", 0.1),
            ("d", "lvd2m", "three", 0.2)]
    result = deduplicate(examples(rows), functools.partial(fake_embeddings, vectors), 0.95)
    clusters = pl.from_arrow(result.clusters)
    assert clusters.select("example_id", "representative_id", "is_representative", "match").rows() == [
        ("a", "a", True, "near"), ("b", "a", False, "near")
    ]  # equal quality: the smallest example_id is kept, across sources
    expected = float(np.dot(base[0].astype(np.float64), close.astype(np.float64)))
    assert clusters.filter(~pl.col("is_representative"))["similarity"][0] == pytest.approx(expected, abs=1e-6)
    assert result.counts["dropped_near"] == 1 and result.counts["kept"] == 3


def test_dedup_does_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(3)
    texts = [f"text {k}" for k in range(40)]
    vectors_list, _ = planted(40, 10, seed=3)
    vectors = dict(zip(texts, vectors_list))
    rows = [(f"id{k:02d}", "lvd2m", t, float(rng.integers(0, 3))) for k, t in enumerate(texts)]
    first = deduplicate(examples(rows), functools.partial(fake_embeddings, vectors), 0.9)
    shuffled = [rows[k] for k in rng.permutation(len(rows))]
    second = deduplicate(examples(shuffled), functools.partial(fake_embeddings, vectors), 0.9)
    assert first.clusters.equals(second.clusters) and first.survivors.equals(second.survivors)
    assert first.counts["dropped_near"] > 0


def test_labelled_pairs_metrics(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    pl.DataFrame({
        "text_a": ["x", "y", "z", "w"], "text_b": ["x2", "y2", "z2", "W!"], "is_duplicate": [1, 1, 0, 1],
        "origin": ["t"] * 4,
    }).write_csv(path)
    pairs = read_labelled_pairs(path)
    sims = {"x": [1.0, 0.0], "x2": [1.0, 0.0], "y": [1.0, 0.0], "y2": [0.0, 1.0], "z": [1.0, 0.0], "z2": [0.99, 0.141],
            "w": [0.0, 1.0], "W!": [1.0, 0.0]}
    vectors = {t: unit(np.array([v]))[0] for t, v in sims.items()}
    scored = pair_scores(pairs, functools.partial(fake_embeddings, vectors))
    at = evaluate_threshold(scored, 0.95)  # x: tp (cosine 1), y: fn, z: fp (0.99), w: tp (same normalized text)
    assert (at["tp"], at["fp"], at["fn"], at["tn"]) == (2, 1, 1, 0)
    assert at["precision"] == pytest.approx(2 / 3) and at["recall"] == pytest.approx(2 / 3)
    curve = threshold_curve(scored, [0.5, 0.995])
    assert curve.get_column("fp").to_list() == [1, 0]


def test_precision_recall_without_positives_is_undefined_not_zero() -> None:
    out = precision_recall(np.array([False, False]), np.array([False, False]))
    assert out["precision"] is None and out["recall"] is None and out["tn"] == 2


def test_bad_labelled_pairs_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    with pytest.raises(InputFileError, match="pairs.csv.*not found"):
        read_labelled_pairs(path)
    path.write_text("text_a,text_b,label\nx,y,1\n")
    with pytest.raises(InputFileError, match="missing column.*is_duplicate"):
        read_labelled_pairs(path)
    path.write_text("text_a,text_b,is_duplicate,origin\nx,y,maybe,t\n")
    with pytest.raises(InputFileError, match="0 or 1"):
        read_labelled_pairs(path)


def test_committed_labelled_pairs_are_regenerated_identically(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "pairs.csv"
    subprocess.run([sys.executable, "data/labels/make_dedup_pairs.py", "--out", str(out)], cwd=repo, check=True,
                   capture_output=True)
    assert out.read_bytes() == (repo / "data/labels/dedup_pairs.csv").read_bytes()
    pairs = read_labelled_pairs(out)
    assert pairs.filter(pl.col("origin").str.starts_with("hand:")).height >= 60
