"""Score every kept example: quality, difficulty and its curriculum bucket.

Reads params `score` and data/interim/filter/kept.parquet; writes
data/interim/score/scored.parquet (SCORED_SCHEMA, in the filter's row order).
Scores are computed on the few columns they need, then appended to the full rows block by
block, so a 2M-row mixture never holds its raw captions in memory twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from config.params import load_params
from curation.schema import SCORE_FIELDS, SCORED_SCHEMA
from curation.scoring import score_examples

SCORING_COLUMNS = ["example_id", "source", "media_kind", "text", "word_count", "clip_start_s", "clip_end_s", "motion_score"]
BATCH_ROWS = 200_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kept", type=Path, required=True, help="the filter stage's kept.parquet")
    parser.add_argument("--out", type=Path, required=True, help="scored.parquet to write")
    args = parser.parse_args()
    params = load_params().score
    kept = pq.ParquetFile(args.kept)
    narrow = pl.from_arrow(kept.read(columns=SCORING_COLUMNS))
    # Only the number of segments matters here: read one numeric leaf, not their texts.
    segments = kept.read(columns=["segments.list.element.start_s"]).column("segments")
    narrow = narrow.with_columns(pl.Series("event_count", pc.list_value_length(segments)))
    scores = score_examples(narrow, params.target_words, params.difficulty_buckets)
    score_names = [f.name for f in SCORE_FIELDS]
    scores = scores.select(score_names).to_arrow()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    offset = 0
    with pq.ParquetWriter(args.out, SCORED_SCHEMA, compression="zstd") as writer:
        for batch in tqdm(kept.iter_batches(batch_size=BATCH_ROWS), desc="score", unit=" batch"):
            block = pa.Table.from_batches([batch])
            for name in score_names:
                block = block.append_column(name, scores.column(name).slice(offset, block.num_rows))
            writer.write_table(block.cast(SCORED_SCHEMA))
            offset += block.num_rows
    print(f"scored {offset} examples", flush=True)


if __name__ == "__main__":
    main()
