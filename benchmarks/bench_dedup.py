"""Dedup at LVD-2M scale: near-duplicate search, the whole dedup function, embedding throughput.

    python -m benchmarks.bench_dedup                 # all three parts, ~10 min on 2 cores
    python -m benchmarks.bench_dedup --part near     # one part

Run from the repository root (it reuses benchmarks.bench_ingest_filter's caption grammar).

Each part runs in its own process so its peak RSS is its own:

- near: `near_duplicate_pairs` on 2,000,000 random unit vectors of dimension 384 (float32,
  2.9 GiB) with 20,000 planted near-duplicate pairs (cosine 0.955 to 0.995), at the default
  threshold (params dedup.threshold). Random vectors are the worst case for the IVF search (no
  cluster structure). Reports wall time, peak RSS and the share of planted pairs found.
- dedup: `deduplicate` on 2,000,000 synthetic LVD-2M-style captions, 5% of them exact copies
  of another row up to case and punctuation, with random unit vectors as embeddings (embedding
  itself is timed in the third part): text hashing, normalization, exact groups, near search,
  representatives and the clusters table: everything the dedup stage computes.
- embed: the embed stage's `embed_texts` against sentence-transformers' own `encode` (same
  model, batch size 64, normalized, CPU) on the same 3,000 captions (2,000 LVD-2M-style
  paragraphs, 1,000 YouDescribe-style sentences). Best of two alternating runs each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml

REPO = Path(__file__).resolve().parents[1]

DIM = 384


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def default_threshold() -> float:
    return float(yaml.safe_load((REPO / "params.yaml").read_text())["dedup"]["threshold"])


def random_unit_vectors(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    """n x dim float32 unit rows, generated in chunks so float64 never holds the whole matrix."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 1 << 18):
        block = rng.standard_normal((min(1 << 18, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out


def plant_pairs(vectors: np.ndarray, pairs: int, seed: int) -> np.ndarray:
    """Overwrite the last `pairs` rows with perturbed copies of the first ones; returns (pairs x 2) indices."""
    rng = np.random.default_rng(seed + 1)
    n, dim = vectors.shape
    sources = np.arange(pairs)
    targets = np.arange(n - pairs, n)
    scale = rng.uniform(0.10, 0.30, size=(pairs, 1)).astype(np.float32)  # cosine ~ 1/sqrt(1 + scale^2)
    noisy = vectors[sources] + scale * rng.standard_normal((pairs, dim), dtype=np.float32) / np.sqrt(dim)
    vectors[targets] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return np.stack([sources, targets], axis=1)


def part_near(rows: int, threshold: float) -> dict[str, object]:
    from curation.dedup import IVF_NPROBE, ivf_lists, near_duplicate_pairs

    vectors = random_unit_vectors(rows, seed=0)
    planted = plant_pairs(vectors, min(20_000, rows // 4), seed=0)  # 20,000 at the default 2M rows
    cosines = np.einsum("ij,ij->i", vectors[planted[:, 0]].astype(np.float64), vectors[planted[:, 1]].astype(np.float64))
    expected = planted[cosines >= threshold]
    started = time.perf_counter()
    i, j, _ = near_duplicate_pairs(vectors, threshold)
    wall = time.perf_counter() - started
    found = set(zip(i.tolist(), j.tolist()))
    hits = sum((int(a), int(b)) in found for a, b in expected)
    return {
        "vectors": rows, "dim": DIM, "threshold": threshold, "ivf_lists": ivf_lists(rows), "nprobe": IVF_NPROBE,
        "planted_pairs_above_threshold": len(expected), "recall_of_planted": round(hits / max(1, len(expected)), 4),
        "pairs_found": len(found), "wall_s": round(wall, 1), "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def synthetic_captions(rows: int, seed: int) -> pl.Series:
    """LVD-2M-style paragraphs (bench_ingest_filter's grammar), built column-wise so 2M take seconds."""
    from benchmarks.bench_ingest_filter import MODIFIERS, OBJECTS, OPENINGS, SUBJECTS, VERBS

    rng = np.random.default_rng(seed)
    pool_size = 200_000
    parts = [rng.choice(OPENINGS, pool_size), rng.choice(SUBJECTS, pool_size), rng.choice(VERBS, pool_size),
             rng.choice(OBJECTS, pool_size)]
    modifier = np.where(rng.random(pool_size) < 0.7, rng.choice(MODIFIERS, pool_size), "")
    sentences = pl.Series([" ".join(filter(None, (*p, m))) + "." for *p, m in zip(*parts, modifier)])
    counts = rng.integers(3, 9, size=rows)
    picks = pl.Series(rng.integers(0, pool_size, size=int(counts.sum())))
    frame = pl.DataFrame({"row": np.repeat(np.arange(rows), counts), "sentence": sentences.gather(picks)})
    texts = frame.group_by("row", maintain_order=True).agg(pl.col("sentence").str.join(" ")).get_column("sentence")
    # 5% exact copies of an earlier row, with case and punctuation changed.
    copies = np.sort(rng.choice(np.arange(1, rows), size=rows // 20, replace=False))
    originals = (rng.random(len(copies)) * copies).astype(np.int64)
    varied = texts.gather(originals).str.to_uppercase().str.replace_all(r"\.", " !")
    return texts.scatter(copies, varied)


def part_dedup(rows: int, threshold: float) -> dict[str, object]:
    from curation.dedup import deduplicate

    started = time.perf_counter()
    texts = synthetic_captions(rows, seed=0)
    examples = pl.DataFrame({
        "example_id": [f"lvd2m:{k:08d}" for k in range(rows)],
        "source": "lvd2m",
        "text": texts,
        "quality": np.random.default_rng(1).random(rows),
    })
    synth_s = time.perf_counter() - started

    def embeddings(hashes: list[str]) -> np.ndarray:  # random unit vectors with planted near pairs
        vectors = random_unit_vectors(len(hashes), seed=2)
        plant_pairs(vectors, min(20_000, len(hashes) // 4), seed=2)
        return vectors

    started = time.perf_counter()
    result = deduplicate(examples, embeddings, threshold)
    wall = time.perf_counter() - started
    return {"rows": rows, "threshold": threshold, "synthesis_s": round(synth_s, 1), **result.counts,
            "wall_s": round(wall, 1), "peak_rss_gib": round(peak_rss_gib(), 2)}


def part_embed(texts_n: int) -> dict[str, object]:
    from benchmarks.bench_ingest_filter import _paragraph
    from curation.embeddings import BUNDLED_ENCODER, embed_texts, load_encoder

    rng = np.random.default_rng(0)
    long_n = texts_n * 2 // 3
    texts = [_paragraph(rng) for _ in range(long_n)]
    texts += [" ".join(_paragraph(rng).split(". ")[0].split()[:14]) + "." for _ in range(texts_n - long_n)]
    encoder = load_encoder(BUNDLED_ENCODER)
    timings: dict[str, list[float]] = {"stage_embed_texts": [], "bare_encode": []}
    for _ in range(2):
        started = time.perf_counter()
        ours = embed_texts(encoder, texts, 64, progress=False)
        timings["stage_embed_texts"].append(time.perf_counter() - started)
        started = time.perf_counter()
        bare = encoder.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        timings["bare_encode"].append(time.perf_counter() - started)
    best = {name: min(values) for name, values in timings.items()}
    return {
        "texts": len(texts), "mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
        "stage_texts_per_s": round(len(texts) / best["stage_embed_texts"], 1),
        "bare_encode_texts_per_s": round(len(texts) / best["bare_encode"], 1),
        "stage_over_bare": round(best["bare_encode"] / best["stage_embed_texts"], 3),
        "max_abs_difference": float(np.abs(ours - bare).max()),
        "runs_s": {k: [round(v, 1) for v in vs] for k, vs in timings.items()},
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["near", "dedup", "embed", "all"], default="all")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--texts", type=int, default=3_000, help="texts for the embedding throughput part")
    parser.add_argument("--threshold", type=float, default=None, help="default: params.yaml dedup.threshold")
    args = parser.parse_args()
    threshold = default_threshold() if args.threshold is None else args.threshold
    os.environ.setdefault("TQDM_DISABLE", "1")
    if args.part == "all":
        results: dict[str, object] = {}
        for part in ("near", "dedup", "embed"):
            out = subprocess.run(
                [sys.executable, "-m", __spec__.name, "--part", part, "--rows", str(args.rows),
                 "--texts", str(args.texts), "--threshold", str(threshold)],
                capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                raise SystemExit(f"part {part} failed:\n{out.stderr[-4000:]}")
            results[part] = json.loads(out.stdout)
            print(f"{part}: {json.dumps(results[part])}", file=sys.stderr)
        results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        print(json.dumps(results, indent=2))
        return
    if args.part == "near":
        print(json.dumps(part_near(args.rows, threshold)))
    elif args.part == "dedup":
        print(json.dumps(part_dedup(args.rows, threshold)))
    else:
        print(json.dumps(part_embed(args.texts)))


if __name__ == "__main__":
    main()
