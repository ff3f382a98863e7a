"""Quality and difficulty scores: documented formulas, every component kept as a column.

Components (per example):
- `word_count`            whitespace-separated words (from the filter stage)
- `sentence_count`        runs of . ! ? that end a sentence (at least 1)
- `event_count`           timed segments (YouDescribe clips, cues, caption parts); at least 1
- `clip_s`                clip_end_s - clip_start_s; null for images
- `descriptions_per_min`  event_count / clip minutes; null for images
- `idf_mean`              mean inverse document frequency of the text's distinct words,
                          idf(w) = ln((1 + N) / (1 + df(w))) + 1 over the N scored texts:
                          high when the text uses words few other texts use (lexical rarity)
- `type_token_ratio`      distinct / total words over the first 100 words
- `stt_artefact_ratio`    speech-to-text fillers ([inaudible], um, uh...) per word
- `motion_score`          LVD-2M's mean optical flow (from ingest)

quality    = 0.4 * length_fit + 0.3 * diversity + 0.3 * cleanliness, in [0, 1]
  length_fit  = exp(-|ln(word_count / target_words[source])|)   (1 at the target, 0.5 at 2x or 1/2)
  diversity   = min(1, type_token_ratio / 0.5)
  cleanliness = 1 - min(1, 5 * stt_artefact_ratio)
difficulty = mean of the percentile ranks (0..1, ties averaged) of word_count, idf_mean,
             event_count, motion_score, clip_s and descriptions_per_min, ranked among
             examples of the same media kind (videos against videos, images against images:
             an image has no clip to compare); a missing component counts as 0.5.
difficulty_bucket = equal-count buckets of difficulty within each media kind
             (params score.difficulty_buckets), so every kind has easy and hard examples.

Every statistic is a function of the *set* of examples (document frequencies, ranks), so the
scores do not depend on row order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from curation.filters import STT_FILLER_PATTERN

QUALITY_WEIGHTS = {"length_fit": 0.4, "diversity": 0.3, "cleanliness": 0.3}
DIFFICULTY_COMPONENTS = ("word_count", "idf_mean", "event_count", "motion_score", "clip_s", "descriptions_per_min")
_WORD = r"[\p{L}\p{N}']+"


def score_examples(
    frame: pl.DataFrame, target_words: Mapping[str, float], buckets: Sequence[str]
) -> pl.DataFrame:
    """Add the components, `quality`, `difficulty` and `difficulty_bucket` to filtered examples.

    `frame` needs the columns score_components reads; full filtered rows work too.
    """
    missing = sorted(set(frame.get_column("source").unique()) - set(target_words))
    if missing:
        raise ValueError(f"params score.target_words has no entry for source(s) {missing}")
    if not buckets:
        raise ValueError("params score.difficulty_buckets is empty: name at least one bucket")
    if "event_count" not in frame.columns:
        frame = frame.with_columns(pl.col("segments").list.len().alias("event_count"))
    scored = score_components(frame)
    scored = scored.with_columns(_quality(target_words).alias("quality"))
    scored = scored.with_columns(_difficulty().alias("difficulty"))
    return scored.with_columns(_bucket(pl.col("difficulty"), buckets).alias("difficulty_bucket"))


def idf_means(texts: pl.Series) -> pl.Series:
    """Mean IDF of each text's distinct lower-cased words (see the module docstring)."""
    hashed = pl.DataFrame({"text": texts}).select(_hashed_vocabulary(pl.col("text"))).to_series()
    return _idf_means(hashed)


def _hashed_vocabulary(text: pl.Expr) -> pl.Expr:
    return _vocabulary(text.str.to_lowercase().str.extract_all(_WORD))


def _vocabulary(words: pl.Expr) -> pl.Expr:
    # Each text's distinct words as 64-bit hashes: at 2M texts (~120M distinct word-in-text
    # pairs) integer lists take a fraction of the memory and time of strings. Collisions
    # (~n^2 / 2^64) are negligible, and the hashes never leave this module.
    return words.list.eval(pl.element().hash(0)).list.unique()


def _idf_means(hashed: pl.Series) -> pl.Series:
    counts = hashed.explode().drop_nulls().value_counts(name="df")
    n_docs = hashed.len()
    idf = ((1.0 + n_docs) / (1.0 + counts.get_column("df").cast(pl.Float64))).log() + 1.0
    keys = counts.get_column(hashed.name)
    means = hashed.list.eval(pl.element().replace_strict(keys, idf, return_dtype=pl.Float64)).list.mean()
    return means.fill_null(0.0).rename("idf_mean")


def score_components(frame: pl.DataFrame, chunk_rows: int = 250_000) -> pl.DataFrame:
    """The component columns, from example_id, source, media_kind, text, word_count, clip times,
    motion_score and `event_count` (number of timed segments): a narrow frame is enough.

    Texts are tokenized a chunk at a time so only one chunk's word lists exist at once.
    """
    text = pl.col("text")
    words = pl.col("_words")
    first_100 = words.list.head(100)
    clip_s = pl.when(pl.col("media_kind") == "video").then(pl.col("clip_end_s") - pl.col("clip_start_s"))
    event_count = pl.max_horizontal(pl.col("event_count"), pl.lit(1)).cast(pl.Int64)
    per_text = [
        pl.max_horizontal(text.str.count_matches(r"[.!?]+(?:\s|$)"), pl.lit(1)).cast(pl.Int64).alias("sentence_count"),
        event_count.alias("event_count"),
        clip_s.alias("clip_s"),
        pl.when(clip_s > 0).then(event_count / (clip_s / 60.0)).alias("descriptions_per_min"),
        pl.when(first_100.list.len() > 0)
        .then(first_100.list.n_unique() / first_100.list.len())
        .otherwise(0.0)
        .alias("type_token_ratio"),
        pl.when(pl.col("word_count") > 0)
        .then(text.str.count_matches(STT_FILLER_PATTERN) / pl.col("word_count"))
        .otherwise(0.0)
        .alias("stt_artefact_ratio"),
        _vocabulary(words).alias("_vocabulary"),
    ]
    # Word lists are the bulk of the memory: tokenize one chunk at a time, keep only hashes.
    # collect_all runs the chunks in parallel, one per core.
    chunks = pl.collect_all(
        [
            frame.slice(start, chunk_rows)
            .lazy()
            .with_columns(text.str.to_lowercase().str.extract_all(_WORD).alias("_words"))
            .with_columns(per_text)
            .drop("_words")
            for start in range(0, max(frame.height, 1), chunk_rows)
        ]
    )
    scored = pl.concat(chunks)
    return scored.with_columns(_idf_means(scored.get_column("_vocabulary"))).drop("_vocabulary")


def _quality(target_words: Mapping[str, float]) -> pl.Expr:
    target = pl.col("source").replace_strict({k: float(v) for k, v in target_words.items()}, return_dtype=pl.Float64)
    ratio = pl.max_horizontal(pl.col("word_count"), pl.lit(1)) / target
    length_fit = (-(ratio.log().abs())).exp()
    diversity = pl.min_horizontal(pl.col("type_token_ratio") / 0.5, pl.lit(1.0))
    cleanliness = 1.0 - pl.min_horizontal(5.0 * pl.col("stt_artefact_ratio"), pl.lit(1.0))
    return (
        QUALITY_WEIGHTS["length_fit"] * length_fit
        + QUALITY_WEIGHTS["diversity"] * diversity
        + QUALITY_WEIGHTS["cleanliness"] * cleanliness
    )


def _percentile_rank(column: str) -> pl.Expr:
    # Ties share their average rank, so equal values get equal scores whatever the row order.
    value = pl.col(column)
    rank = value.rank(method="average").over("media_kind")
    n = value.count().over("media_kind")
    return pl.when(value.is_null()).then(0.5).when(n <= 1).then(0.5).otherwise((rank - 1) / (n - 1))


def _difficulty() -> pl.Expr:
    ranks = [_percentile_rank(c) for c in DIFFICULTY_COMPONENTS]
    return pl.sum_horizontal(ranks) / len(ranks)


def _bucket(difficulty: pl.Expr, buckets: Sequence[str]) -> pl.Expr:
    """Equal-count buckets by rank within each media kind; ties land in the same bucket."""
    k = len(buckets)
    rank = difficulty.rank(method="min").over("media_kind") - 1  # 0-based, ties share the lowest rank
    n = pl.len().over("media_kind")
    index = (rank * k / n).floor().cast(pl.Int64).clip(0, k - 1)
    return index.replace_strict(dict(enumerate(buckets)), return_dtype=pl.String)


def bucket_order(buckets: Sequence[str]) -> dict[str, int]:
    """Position of each bucket name, easiest first (for sorting by curriculum)."""
    return {name: i for i, name in enumerate(buckets)}

