"""Exact and near-duplicate clusters over example texts, one representative kept per cluster.

Two texts are duplicates when
- **exact**: their normalized texts are equal (`normalize_texts`: Unicode NFKC, lower case, a
  leading "CAPTION:" dropped, apostrophes dropped, other punctuation turned into spaces,
  whitespace collapsed), across all sources; or
- **near**: the cosine of their sentence embeddings is >= params `dedup.threshold`, across all
  sources (embeddings are L2-normalized, so cosine = inner product).

Exact duplicates collapse first (one node per normalized text, its best member at its head).
Nodes are then visited best first (highest `quality`, ties to the smallest example_id): a node
with a near-duplicate edge to an already kept node is dropped and recorded against the kept
node it is most similar to; otherwise it is kept. A cluster is a kept node's example (the
representative) with its exact copies and the nodes dropped against it, so a caption repeated
25 times (LVD-2M's hallucinated caption) is one cluster, and every dropped member's similarity
to its representative is >= the threshold ("exact": same normalized text, similarity 1.0;
"near": cosine to the representative). Connected components were rejected because
near-duplicate edges chain between different clips (`greedy_representatives`).

Near-duplicate search never builds an n x n matrix (2M texts: 4e12 similarities, 16 TB of
float32). The search runs once per exact group (one vector per distinct normalized text):
- n <= EXACT_SEARCH_MAX_N: exact search, faiss IndexFlatIP.range_search in blocks of
  QUERY_BLOCK queries (memory: the index plus the matches of one block). Exhaustive search
  costs O(n^2 d): ~3 s for 20k texts and ~70 s for 100k on 2 cores (IVF: ~8 s at 100k), and
  it would take ~7 hours at 2M; so exact only for the sample and small dumps.
- above: an inverted-file (IVF) self-join. A spherical k-means (faiss.Kmeans, seeded, trained on
  a seeded sample) puts nlist = IVF_LISTS_PER_SQRT_N * sqrt(n) centroids; every vector goes to
  the list of its nearest centroid and probes its IVF_NPROBE nearest lists; each list is then
  compared with the vectors that probe it, one BLAS matrix product per list (blocked). A pair is
  found when either vector probes the other's list, as faiss IndexIVFFlat.range_search with
  nprobe = IVF_NPROBE would find it, but list by list instead of query by query: faiss's
  per-query scans re-read every probed list from memory for each query (memory-bound; measured
  ~30 s for 200k vectors at nprobe 16, and 3.2x more per query at 2M), while the list-major
  product reads each list once per block and runs at BLAS speed (~4 s for the same 200k).
  Recall: 99.85% of planted pairs (cosine 0.93-0.99) among 2M random unit vectors, the worst
  case since random vectors have no cluster structure (benchmarks/bench_dedup.py).
Either way, every candidate pair's cosine is recomputed in float64 from the stored float32
vectors and compared with the threshold, and the pair list is sorted: results do not depend
on faiss's or BLAS's threading or blocking.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from curation.schema import CLUSTER_SCHEMA, conform, text_hash

EXACT_SEARCH_MAX_N = 20_000  # up to this many vectors: exact (exhaustive) search
QUERY_BLOCK = 4096  # queries per exact range search
IVF_LISTS_PER_SQRT_N = 4.0  # nlist = 4 * sqrt(n) (5,657 lists at 2M, ~354 vectors a list)
IVF_NPROBE = 16  # lists probed per vector; 8 gives 98.3% recall on random vectors and 0.6x the time
IVF_TRAIN_POINTS_PER_LIST = 16  # k-means training sample: 16 x nlist vectors (90k at 2M)
IVF_TRAIN_ITERATIONS = 8
IVF_SEED = 0
IVF_BLOCK_ELEMENTS = 1 << 24  # similarities per matrix product block (64 MiB of float32)
CANDIDATE_MARGIN = 1e-4  # faiss / BLAS float32 similarities are filtered at threshold - margin, then recomputed
CURVE_THRESHOLDS = tuple(round(0.80 + 0.01 * k, 2) for k in range(20))  # 0.80 .. 0.99

MATCH_EXACT = "exact"
MATCH_NEAR = "near"


# -- exact duplicates ---------------------------------------------------------------------------


def normalize_expr(text: pl.Expr) -> pl.Expr:
    """The normalized text two exact duplicates share (see the module docstring)."""
    return (
        text.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace(r"^\s*caption\s*:", "")
        .str.replace_all(r"['\u2019\u02bc]", "")  # it's == its, don't == dont
        .str.replace_all(r"\p{P}+", " ")  # red-and-blue == red and blue
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def normalize_texts(texts: pl.Series | Sequence[str]) -> pl.Series:
    series = texts if isinstance(texts, pl.Series) else pl.Series("text", list(texts), dtype=pl.String)
    return pl.select(normalize_expr(pl.lit(series))).to_series().alias("normalized")


# -- near duplicates ----------------------------------------------------------------------------


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be an n x d matrix, got shape {vectors.shape}")
    return vectors


def _exact_cosine(vectors: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine (inner product of unit vectors) of the given pairs, in float64: independent of BLAS blocking."""
    out = np.empty(len(i), dtype=np.float64)
    step = 1 << 16
    for s in range(0, len(i), step):
        a = vectors[i[s : s + step]].astype(np.float64)
        b = vectors[j[s : s + step]].astype(np.float64)
        out[s : s + step] = np.einsum("ij,ij->i", a, b)
    return out


def _verified(vectors: np.ndarray, i: np.ndarray, j: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    keep = i != j
    lo, hi = np.minimum(i[keep], j[keep]).astype(np.int64), np.maximum(i[keep], j[keep]).astype(np.int64)
    sims = _exact_cosine(vectors, lo, hi)
    ok = sims >= threshold
    return lo[ok], hi[ok], sims[ok]


def _exact_blocks(vectors: np.ndarray, threshold: float, block: int) -> Iterator[tuple[np.ndarray, ...]]:
    import faiss

    n, d = vectors.shape
    index = faiss.IndexFlatIP(d)
    index.add(vectors)
    radius = threshold - CANDIDATE_MARGIN
    for start in range(0, n, block):
        stop = min(start + block, n)
        lims, _, found = index.range_search(vectors[start:stop], radius)
        queries = np.repeat(np.arange(start, stop, dtype=np.int64), np.diff(lims.astype(np.int64)))
        later = found > queries  # each pair once, no self pairs
        yield _verified(vectors, queries[later], found[later].astype(np.int64), threshold)


def ivf_lists(n: int) -> int:
    return max(1, min(n, int(round(IVF_LISTS_PER_SQRT_N * math.sqrt(n)))))


def _ivf_blocks(
    vectors: np.ndarray, threshold: float, nprobe: int, seed: int
) -> Iterator[tuple[np.ndarray, ...]]:
    import faiss

    n, d = vectors.shape
    nlist = ivf_lists(n)
    nprobe = max(1, min(nprobe, nlist))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, IVF_TRAIN_POINTS_PER_LIST * nlist), replace=False))
    kmeans = faiss.Kmeans(
        d, nlist, niter=IVF_TRAIN_ITERATIONS, seed=seed, spherical=True, verbose=False,
        max_points_per_centroid=1 << 30, min_points_per_centroid=1,
    )
    kmeans.train(vectors[sample])
    quantizer = faiss.IndexFlatIP(d)
    quantizer.add(kmeans.centroids)
    probes = np.empty((n, nprobe), dtype=np.int32)
    for start in range(0, n, 1 << 16):
        _, nearest = quantizer.search(vectors[start : start + (1 << 16)], nprobe)
        probes[start : start + len(nearest)] = nearest
    primary = probes[:, 0].copy()
    members = np.argsort(primary, kind="stable")
    member_starts = np.searchsorted(primary[members], np.arange(nlist + 1))
    flat = probes.reshape(-1)
    by_list = np.argsort(flat, kind="stable")
    query_starts = np.searchsorted(flat[by_list], np.arange(nlist + 1))
    query_rows = (by_list // nprobe).astype(np.int64)
    del probes, flat, by_list
    radius = np.float32(threshold - CANDIDATE_MARGIN)
    for lst in range(nlist):
        m = members[member_starts[lst] : member_starts[lst + 1]]
        if len(m) == 0:
            continue
        q = query_rows[query_starts[lst] : query_starts[lst + 1]]
        base = vectors[m].T
        step = max(1, IVF_BLOCK_ELEMENTS // len(m))
        for s in range(0, len(q), step):
            qs = q[s : s + step]
            qi, mi = np.nonzero(vectors[qs] @ base >= radius)
            if len(qi):
                yield _verified(vectors, qs[qi], m[mi], threshold)


def iter_near_pairs(
    vectors: np.ndarray,
    threshold: float,
    *,
    exact_max_n: int = EXACT_SEARCH_MAX_N,
    nprobe: int = IVF_NPROBE,
    seed: int = IVF_SEED,
    block: int = QUERY_BLOCK,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Blocks (i, j, cosine) of pairs with i < j and cosine >= threshold, never an n x n matrix.

    Exact search up to `exact_max_n` vectors, the IVF self-join above (module docstring). In IVF
    mode a pair can come in two blocks; `near_duplicate_pairs` returns each pair once.
    """
    vectors = _as_matrix(vectors)
    if vectors.shape[0] < 2:
        return
    if vectors.shape[0] <= exact_max_n:
        yield from _exact_blocks(vectors, threshold, block)
    else:
        yield from _ivf_blocks(vectors, threshold, nprobe, seed)


def near_duplicate_pairs(vectors: np.ndarray, threshold: float, **search: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i < j) with cosine >= threshold, once, sorted by (i, j); cosines in float64."""
    parts = list(iter_near_pairs(vectors, threshold, **search))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    i, j, sims = (np.concatenate(p) for p in zip(*parts))
    order = np.lexsort((j, i))
    i, j, sims = i[order], j[order], sims[order]
    first = np.ones(len(i), dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    return i[first], j[first], sims[first]


def greedy_representatives(
    rank: np.ndarray, i: np.ndarray, j: np.ndarray, sims: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keep or drop each node, best rank first; a node is dropped when a kept node is its near duplicate.

    `rank[v]` orders the nodes (0 = best); (i, j, sims) are the near-duplicate edges. Returns
    `representative` (for a dropped node: the kept neighbour it is most similar to, ties to the
    better rank; for a kept node: itself) and `similarity` (to that representative; 1.0 when kept).

    Why not connected components: near-duplicate edges chain (A~B, B~C, yet A and C describe
    different clips: templated captions differing in one colour score 0.88-0.93 with MiniLM), and a
    component's representative would then drop C at a similarity below the threshold. Here every
    dropped node is within the threshold of the kept node it is recorded against.
    """
    n = len(rank)
    representative = np.arange(n, dtype=np.int64)
    similarity = np.ones(n, dtype=np.float64)
    if len(i) == 0:
        return representative, similarity
    # Orient every edge from the better-ranked node (u) to the worse one (v), then group by v.
    u = np.where(rank[i] < rank[j], i, j)
    v = np.where(rank[i] < rank[j], j, i)
    order = np.lexsort((rank[u], -sims, rank[v]))  # by v's rank, then most similar, then u's rank
    u, v, sims = u[order], v[order], sims[order]
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    ends = np.r_[starts[1:], len(v)]
    kept = np.ones(n, dtype=bool)
    # Sequential by construction (a node's fate depends on better-ranked fates), but only nodes
    # with a better-ranked neighbour are visited: ~0.5 us each.
    for start, end in zip(starts.tolist(), ends.tolist()):
        candidates = u[start:end]
        alive = np.flatnonzero(kept[candidates])
        if len(alive):
            node = int(v[start])
            kept[node] = False
            representative[node] = candidates[alive[0]]
            similarity[node] = sims[start + alive[0]]
    return representative, similarity


# -- clusters and representatives ---------------------------------------------------------------


@dataclass
class DedupResult:
    survivors: pl.Series  # example_id of every kept example (singletons + representatives), sorted
    clusters: pa.Table  # CLUSTER_SCHEMA: every member of every cluster of size >= 2
    counts: dict[str, int]  # examples_in, kept, dropped_exact, dropped_near, clusters, largest_cluster


def deduplicate(
    examples: pl.DataFrame,
    embeddings: Any,
    threshold: float,
    **search: Any,
) -> DedupResult:
    """Cluster `examples` (example_id, source, text, text_hash, quality) by exact and near-duplicate text.

    `embeddings(hashes) -> matrix` gives the embedding of each text hash (an n x dim float32
    matrix of L2-normalized rows), e.g. `functools.partial(curation.embeddings.lookup, table)`.
    """
    frame = examples.select("example_id", "source", "text", "text_hash", pl.col("quality").cast(pl.Float64)).sort("example_id")
    if frame.get_column("example_id").is_duplicated().any():
        raise ValueError("internal error: example_id is not unique in the dedup input")
    frame = frame.with_columns(
        normalize_expr(pl.col("text")).alias("normalized"),
        pl.col("quality").fill_nan(float("-inf")).fill_null(float("-inf")).alias("_rank_quality"),
    ).with_columns((pl.col("normalized").rank("dense") - 1).cast(pl.Int64).alias("group"))
    # Best first: highest quality, then smallest example_id. A group's head is its best member.
    frame = frame.sort(["_rank_quality", "example_id"], descending=[True, False])
    heads = frame.group_by("group", maintain_order=True).agg(
        pl.col("example_id").first().alias("head_id"), pl.col("text_hash").first().alias("head_hash")
    )  # in the order of each group's best member: row k is the group ranked k
    n_groups = heads.height
    group_ids = heads.get_column("group").to_numpy()
    rank = np.empty(n_groups, dtype=np.int64)
    rank[group_ids] = np.arange(n_groups)
    heads = heads.sort("group")
    vectors = embeddings(heads.get_column("head_hash").to_list()) if n_groups else np.empty((0, 1), np.float32)
    i, j, sims = near_duplicate_pairs(vectors, threshold, **search)
    group_rep, group_sim = greedy_representatives(rank, i, j, sims)
    head_ids = heads.get_column("head_id")
    frame = frame.with_columns(
        head_ids.gather(pl.Series(group_rep).gather(frame.get_column("group"))).alias("representative_id"),
        pl.Series(group_sim).gather(frame.get_column("group")).alias("_group_similarity"),
        (pl.Series(group_rep) != pl.Series(np.arange(n_groups))).gather(frame.get_column("group")).alias("_near"),
    )
    frame = frame.with_columns(pl.len().over("representative_id").alias("size"))
    members = frame.filter(pl.col("size") >= 2).with_columns(
        (pl.col("example_id") == pl.col("representative_id")).alias("is_representative"),
    )
    # The representative is an "exact" member when another member shares its normalized text.
    members = members.with_columns(
        pl.when(pl.col("is_representative"))
        .then(
            pl.when((~pl.col("_near")).sum().over("representative_id") > 1)
            .then(pl.lit(MATCH_EXACT))
            .otherwise(pl.lit(MATCH_NEAR))
        )
        .when(pl.col("_near"))
        .then(pl.lit(MATCH_NEAR))
        .otherwise(pl.lit(MATCH_EXACT))
        .alias("match"),
        pl.when(pl.col("_near")).then(pl.col("_group_similarity")).otherwise(1.0).round(6).alias("similarity"),
    )
    clusters = members.select(
        pl.col("representative_id").alias("cluster_id"),
        "example_id",
        "representative_id",
        "is_representative",
        "match",
        "similarity",
        "source",
        "text",
        "quality",
    ).sort(["cluster_id", "is_representative", "example_id"], descending=[False, True, False])
    dropped = clusters.filter(~pl.col("is_representative"))
    dropped_ids = dropped.get_column("example_id")
    survivors = frame.get_column("example_id").filter(~frame.get_column("example_id").is_in(dropped_ids.implode()))
    sizes = clusters.group_by("cluster_id").len()
    counts = {
        "examples_in": frame.height,
        "kept": survivors.len(),
        "dropped_exact": int((dropped.get_column("match") == MATCH_EXACT).sum()),
        "dropped_near": int((dropped.get_column("match") == MATCH_NEAR).sum()),
        "clusters": sizes.height,
        "largest_cluster": int(sizes.get_column("len").max() or 0) if sizes.height else 0,
    }
    if counts["examples_in"] != counts["kept"] + counts["dropped_exact"] + counts["dropped_near"]:
        raise AssertionError(f"internal error: dedup counts do not reconcile: {counts}")
    return DedupResult(survivors=survivors.sort(), clusters=conform(clusters, CLUSTER_SCHEMA), counts=counts)


# -- precision and recall on labelled pairs -------------------------------------------------------

PAIR_COLUMNS = ("text_a", "text_b", "is_duplicate", "origin")


def read_labelled_pairs(path: str | Path) -> pl.DataFrame:
    """The labelled pairs CSV (text_a, text_b, is_duplicate 0/1, origin), or InputFileError."""
    from curation.io import InputFileError

    path = Path(path)
    fix = "see data/labels/README.md (regenerate with `python data/labels/make_dedup_pairs.py`)"
    if not path.is_file():
        raise InputFileError(path, "labelled pairs file not found", f"check dedup.labelled_pairs in params.yaml; {fix}")
    try:
        pairs = pl.read_csv(path, schema_overrides={"text_a": pl.String, "text_b": pl.String, "origin": pl.String})
    except Exception as err:  # noqa: BLE001 - polars raises several kinds for a broken CSV
        raise InputFileError(path, f"not a readable CSV ({err})", fix) from None
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise InputFileError(path, f"missing column(s) {missing}; the header has {pairs.columns}", fix)
    labels = pairs.get_column("is_duplicate").cast(pl.String).str.to_lowercase()
    if not labels.is_in(["0", "1", "true", "false"]).all():
        raise InputFileError(path, "is_duplicate must be 0 or 1 on every row", fix)
    if pairs.select(pl.col("text_a").is_null() | pl.col("text_b").is_null()).to_series().any():
        raise InputFileError(path, "a pair has an empty text", fix)
    return pairs.with_columns(labels.is_in(["1", "true"]).alias("is_duplicate")).select(PAIR_COLUMNS)


def pair_scores(pairs: pl.DataFrame, embeddings: Any) -> pl.DataFrame:
    """The pairs with `exact` (same normalized text) and `cosine` (float64) columns."""
    hashes_a = pairs.get_column("text_a").map_elements(text_hash, return_dtype=pl.String).to_list()
    hashes_b = pairs.get_column("text_b").map_elements(text_hash, return_dtype=pl.String).to_list()
    distinct = sorted(set(hashes_a) | set(hashes_b))
    matrix = np.ascontiguousarray(embeddings(distinct), dtype=np.float32)
    row = {h: k for k, h in enumerate(distinct)}
    a = np.fromiter((row[h] for h in hashes_a), np.int64, len(hashes_a))
    b = np.fromiter((row[h] for h in hashes_b), np.int64, len(hashes_b))
    return pairs.with_columns(
        (normalize_expr(pl.col("text_a")) == normalize_expr(pl.col("text_b"))).alias("exact"),
        pl.Series("cosine", _exact_cosine(matrix, a, b)),
    )


def precision_recall(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float | int | None]:
    tp = int(np.sum(predicted & actual))
    fp = int(np.sum(predicted & ~actual))
    fn = int(np.sum(~predicted & actual))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    rounded = {k: (None if v is None else round(v, 6)) for k, v in (("precision", precision), ("recall", recall), ("f1", f1))}
    return {**rounded, "tp": tp, "fp": fp, "fn": fn, "tn": int(np.sum(~predicted & ~actual))}


def evaluate_threshold(scored_pairs: pl.DataFrame, threshold: float) -> dict[str, float | int | None]:
    """Precision / recall of the pair decision dedup makes: same normalized text, or cosine >= threshold."""
    predicted = (scored_pairs.get_column("exact") | (scored_pairs.get_column("cosine") >= threshold)).to_numpy()
    return precision_recall(predicted, scored_pairs.get_column("is_duplicate").to_numpy())


def threshold_curve(scored_pairs: pl.DataFrame, thresholds: Sequence[float] = CURVE_THRESHOLDS) -> pl.DataFrame:
    rows = [{"threshold": t, **evaluate_threshold(scored_pairs, t)} for t in thresholds]
    return pl.DataFrame(
        rows,
        schema={"threshold": pl.Float64, "precision": pl.Float64, "recall": pl.Float64, "f1": pl.Float64,
                "tp": pl.Int64, "fp": pl.Int64, "fn": pl.Int64, "tn": pl.Int64},
    )
