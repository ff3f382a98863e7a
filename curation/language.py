"""Language identification with langdetect, cached by text hash.

langdetect costs ~3 ms a text whatever its length (7 random trials over its n-grams), so
2 million captions would take ~50 minutes on two cores. Two things keep the filter
stage inside its budget without changing what langdetect decides:

1. A cache keyed by text hash: a rerun on unchanged text identifies nothing again.
2. A high-precision English screen: a text of at least `min_words` ASCII words of which
   at least 30% are English function words ("the", "of", "with", ...) is labelled "en"
   without running langdetect. Captions in other languages almost never pass it (Spanish
   "de la" or French "le" are not in the list), and every text that does not pass goes
   to langdetect. benchmarks/bench_ingest_filter.py measures its agreement with
   langdetect on texts both label.

langdetect is seeded (DetectorFactory.seed), and each text is detected with a freshly
seeded generator, so a text's label never depends on the order of the run or the cache.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import polars as pl

UNKNOWN = "unknown"

# English function words: frequent in any English sentence, rare as words of other languages.
ENGLISH_FUNCTION_WORDS = (
    "the a an and of to in on at with is are was were be been it its this that these those "
    "there their they he she his her him them we you your as by for from into onto over under "
    "while which who whom what when where has have had not but or so then than also"
).split()
_ENGLISH_WORD_PATTERN = r"(?i)\b(?:" + "|".join(ENGLISH_FUNCTION_WORDS) + r")\b"
ENGLISH_SCREEN_MIN_SHARE = 0.30


def english_screen(texts: pl.Series, min_words: int) -> pl.Series:
    """True where a text is confidently English by its share of English function words."""
    frame = pl.DataFrame({"text": texts})
    words = pl.col("text").str.count_matches(r"\S+")
    function_words = pl.col("text").str.count_matches(_ENGLISH_WORD_PATTERN)
    ascii_only = ~pl.col("text").str.contains(r"[^\x00-\x7F]")
    return frame.select(
        (ascii_only & (words >= min_words) & (function_words >= ENGLISH_SCREEN_MIN_SHARE * words)).alias("en")
    ).to_series()


def detect_language(text: str) -> str:
    """langdetect's top label for one text, or "unknown" when it finds no features.

    The factory must be seeded first (see `_init_worker`).
    """
    from langdetect import detector_factory
    from langdetect.lang_detect_exception import LangDetectException

    try:
        detector = detector_factory._factory.create()  # type: ignore[union-attr]
        detector.append(text)
        return detector.detect()
    except LangDetectException:
        return UNKNOWN


def _init_worker(seed: int) -> None:
    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = seed
    detector_factory.init_factory()


def detect_languages_with_langdetect(texts: Sequence[str], seed: int, workers: int) -> list[str]:
    """Run langdetect over texts, in `workers` processes when there are enough to pay for them."""
    if not texts:
        return []
    if workers <= 1 or len(texts) < 2000:
        _init_worker(seed)
        return [detect_language(t) for t in texts]
    # fork: workers inherit the loaded profiles (~50 MB) instead of each loading them again.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(seed,)) as pool:
        return pool.map(detect_language, texts, chunksize=512)


class LanguageCache:
    """text hash -> language label, persisted as Parquet between runs.

    Only entries of the current detector (langdetect's version and seed) are used, so changing
    the seed re-identifies rather than reusing labels made under another one. `save` keeps
    exactly the texts of this run: the file is then a function of the inputs and params alone,
    and two clean runs give the same DVC hash, whatever ran before.
    """

    def __init__(self, path: str | Path | None, detector_id: str):
        self.path = Path(path) if path else None
        self.detector_id = detector_id
        self.table = pl.DataFrame(schema={"text_hash": pl.String, "language": pl.String})
        if self.path and self.path.is_file():
            stored = pl.read_parquet(self.path)
            self.table = stored.filter(pl.col("detector") == detector_id).drop("detector")
        self.used: list[pl.Series] = []

    def lookup(self, hashes: pl.Series) -> pl.Series:
        self.used.append(hashes)
        frame = pl.DataFrame({"text_hash": hashes})
        return frame.join(self.table, on="text_hash", how="left", maintain_order="left").get_column("language")

    def add(self, hashes: Sequence[str], languages: Sequence[str]) -> None:
        if not hashes:
            return
        new = pl.DataFrame({"text_hash": list(hashes), "language": list(languages)})
        known = self.table.get_column("text_hash").implode()
        new = new.unique("text_hash", keep="first", maintain_order=True).filter(~pl.col("text_hash").is_in(known))
        self.table = pl.concat([self.table, new])

    def save(self) -> None:
        """Write the labels of this run's texts, sorted (identical whatever order texts came in)."""
        if not self.path:
            return
        used = pl.concat(self.used).unique() if self.used else pl.Series("text_hash", [], pl.String)
        mine = self.table.filter(pl.col("text_hash").is_in(used.implode()))
        stored = mine.select(pl.lit(self.detector_id).alias("detector"), pl.all()).sort("text_hash")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stored.write_parquet(self.path, compression="zstd")


def langdetect_id(seed: int) -> str:
    from importlib.metadata import version

    return f"langdetect-{version('langdetect')}/seed={seed}"


def identify_languages(
    texts: pl.Series,
    hashes: pl.Series,
    *,
    seed: int,
    min_words: int,
    short_text_language: str,
    cache: LanguageCache,
    workers: int = 2,
) -> tuple[pl.Series, dict[str, int]]:
    """Label every text; returns the labels and how each was obtained (for the metrics)."""
    frame = pl.DataFrame({"text": texts, "text_hash": hashes}).with_columns(
        cache.lookup(hashes).alias("language"),
        (pl.col("text").str.count_matches(r"\S+") < min_words).alias("short"),
    )
    cached = frame.get_column("language").is_not_null().sum()
    short = (frame.get_column("language").is_null() & frame.get_column("short")).sum()
    # Too short to identify reliably: labelled with the configured language, not guessed.
    frame = frame.with_columns(
        pl.when(pl.col("language").is_null() & pl.col("short"))
        .then(pl.lit(short_text_language))
        .otherwise(pl.col("language"))
        .alias("language")
    )
    # Screen only what is still unlabelled: on a warm rerun that is nothing.
    unlabelled = frame.get_column("language").is_null()
    screened = pl.Series("screened", [False] * frame.height, dtype=pl.Boolean)
    if unlabelled.any():
        screened = english_screen(frame.get_column("text"), min_words) & unlabelled
    frame = frame.with_columns(
        pl.when(screened).then(pl.lit("en")).otherwise(pl.col("language")).alias("language")
    )
    todo = frame.filter(pl.col("language").is_null()).unique("text_hash", keep="first", maintain_order=True)
    labels = detect_languages_with_langdetect(todo.get_column("text").to_list(), seed, workers) if todo.height else []
    cache.add(todo.get_column("text_hash").to_list(), labels)
    screened_rows = frame.filter(screened & ~pl.col("short"))
    cache.add(screened_rows.get_column("text_hash").to_list(), ["en"] * screened_rows.height)
    if labels:
        found = pl.DataFrame({"text_hash": todo.get_column("text_hash"), "_detected": labels})
        frame = frame.join(found, on="text_hash", how="left", maintain_order="left").with_columns(
            pl.coalesce("language", "_detected").alias("language")
        )
    how = {
        "cached": int(cached),
        "short_text": int(short),
        "english_screen": int(screened_rows.height),
        "langdetect": len(labels),
    }
    return frame.get_column("language"), how
