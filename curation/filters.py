"""Filter rules: which examples would teach the narrator the wrong thing, and why.

Every rule is a column expression over a Polars frame of normalized examples, so the
same code runs on the 1,000-row sample and on a 2-million-row release. An example is
kept only when no rule fires; a rejected example keeps *all* its reason codes.
"""

from __future__ import annotations

import polars as pl

from config.params import FilterParams
from curation.schema import SEGMENT_CUE

REJECT_REASONS = {
    "too_few_words": "fewer words than filter.words.<source>.min",
    "too_many_words": "more words than filter.words.<source>.max",
    "language_not_kept": "langdetect's label is not in filter.language.keep",
    "symbol_ratio": "too many characters that are not letters, digits, spaces or punctuation",
    "repetition": "too many repeated word trigrams (generation loops, copy-paste)",
    "boilerplate": "matches a boilerplate pattern (filter.quality.boilerplate_patterns)",
    "stt_artefacts": "too many speech-to-text fillers, tags or stutters",
    "time_inverted": "the clip's end is not after its start",
    "time_too_short": "the clip is shorter than filter.time.min_clip_s",
    "time_outside_video": "the clip starts before 0 or ends after the video's stated duration",
    "time_mismatch": "the clip's span disagrees with its stated length (LVD-2M video_time)",
    "segment_time_inverted": "a timed segment ends before it starts (a cue: not after it)",
}

# Characters that count as ordinary text; anything else counts toward symbol_ratio.
_NOT_ORDINARY = r"[^\p{L}\p{M}\p{N}\s.,;:!?'\"’‘“”()\[\]\-–—/&%$#@+*=°]"
STT_FILLER_PATTERN = (
    r"(?i)\b(?:u+m+|u+h+|e+r+m+|h+m+|mm+|uh-huh|mm-hmm)\b"
    r"|\[(?:inaudible|music|applause|laughter|unintelligible|crosstalk|noise|silence)\]"
    r"|\((?:inaudible|unintelligible)\)"
)


def text_measures(text: pl.Expr) -> dict[str, pl.Expr]:
    """The per-text quantities the rules threshold.

    Written as whole-column string operations: per-word list evaluation is ~10x slower in
    Polars, which matters at 2 million rows (benchmarks/bench_ingest_filter.py).
    """
    lowered = text.str.to_lowercase()
    # Non-overlapping word trigrams: a loop of any period repeats them too, at a third of the cost.
    trigrams = lowered.str.extract_all(r"\S+\s+\S+\s+\S+")
    n_trigrams = trigrams.list.len()
    word_count = text.str.count_matches(r"\S+")
    n_chars = text.str.len_chars()
    return {
        "word_count": word_count,
        "symbol_ratio": pl.when(n_chars > 0).then(text.str.count_matches(_NOT_ORDINARY) / n_chars).otherwise(0.0),
        "repeated_trigram_ratio": pl.when(n_trigrams > 0)
        .then(1.0 - trigrams.list.n_unique() / n_trigrams)
        .otherwise(0.0),
        "stt_filler_count": text.str.count_matches(STT_FILLER_PATTERN),
    }


def stutter_count(text: pl.Expr) -> pl.Expr:
    """Words that repeat the word before them ("the the"): a speech-to-text artefact."""
    words = text.str.to_lowercase().str.extract_all(r"[\p{L}\p{N}']+")
    return words.list.eval((pl.element() == pl.element().shift(1)).cast(pl.Int64).sum()).list.first().fill_null(0)


def reject_reasons(frame: pl.DataFrame, config: FilterParams) -> pl.DataFrame:
    """Add `word_count` and `reject_reasons` (list of codes, empty when kept).

    `frame` holds normalized examples plus a `language` column.
    """
    # The streaming engine spreads the string work over all cores (~1.7x faster on two).
    measured = (
        frame.lazy()
        .with_columns(**{f"_{k}": v for k, v in text_measures(pl.col("text")).items()})
        .collect(engine="streaming")
    )
    # Stutters only exist in transcribed speech; counting them needs per-word work, so only there.
    stt_rows = measured.with_row_index("_row").filter(pl.col("source").is_in(list(config.quality.stt_sources)))
    stutters = stt_rows.select("_row", stutter_count(pl.col("text")).alias("_stutters"))
    measured = measured.with_row_index("_row").join(stutters, on="_row", how="left", maintain_order="left")
    measured = measured.with_columns(
        pl.when(pl.col("_word_count") > 0)
        .then((pl.col("_stt_filler_count") + pl.col("_stutters").fill_null(0)) / pl.col("_word_count"))
        .otherwise(0.0)
        .alias("_stt_artefact_ratio")
    )
    low = pl.col("source").replace_strict({s: b.min for s, b in config.words.items()}, return_dtype=pl.Int64)
    high = pl.col("source").replace_strict({s: b.max for s, b in config.words.items()}, return_dtype=pl.Int64)
    start, end = pl.col("clip_start_s"), pl.col("clip_end_s")
    tolerance = config.time.duration_tolerance_s
    patterns = config.quality.boilerplate_patterns
    boilerplate = (
        pl.col("text").str.contains("(?i)" + "|".join(f"(?:{p})" for p in patterns))
        if patterns
        else pl.lit(False)
    )
    segment_inverted = pl.col("segments").list.eval(
        (pl.element().struct.field("end_s") < pl.element().struct.field("start_s"))
        | (
            (pl.element().struct.field("kind") == SEGMENT_CUE)
            & (pl.element().struct.field("end_s") <= pl.element().struct.field("start_s"))
        )
    ).list.any()
    rules: dict[str, pl.Expr] = {
        "too_few_words": pl.col("_word_count") < low,
        "too_many_words": pl.col("_word_count") > high,
        "language_not_kept": ~pl.col("language").is_in(list(config.language.keep)),
        "symbol_ratio": pl.col("_symbol_ratio") > config.quality.max_symbol_ratio,
        "repetition": pl.col("_repeated_trigram_ratio") > config.quality.max_repeated_trigram_ratio,
        "boilerplate": boilerplate,
        "stt_artefacts": pl.col("_stt_artefact_ratio") > config.quality.max_stt_artefact_ratio,
        "time_inverted": end <= start,
        "time_too_short": (end > start) & (end - start < config.time.min_clip_s),
        "time_outside_video": (start < 0) | (end > pl.col("duration_s") + tolerance),
        "time_mismatch": (end > start) & ((end - start) - pl.col("clip_duration_s")).abs().gt(tolerance),
        "segment_time_inverted": segment_inverted,
    }
    reasons = pl.concat_list(
        [pl.when(rule.fill_null(False)).then(pl.lit(code)).otherwise(pl.lit(None, pl.String)) for code, rule in rules.items()]
    ).list.drop_nulls()
    return (
        measured.lazy()
        .with_columns(pl.col("_word_count").cast(pl.Int64).alias("word_count"), reasons.alias("reject_reasons"))
        .drop([c for c in measured.columns if c.startswith("_")])
        .collect(engine="streaming")
    )
