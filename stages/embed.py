"""Embed every distinct kept text and every labelled pair's text, reusing the previous run's embeddings.

Reads params `embed` (encoder, batch_size), the filter stage's kept examples (`text`,
`text_hash`) and the labelled dedup pairs; writes embeddings.parquet: one row per distinct text
of this run (text_hash, encoder_id, embedding: fixed-size list<float32>[dim], L2-normalized),
sorted by text_hash (curation/embeddings.py). The dedup stage only reads them: the encoder is
loaded here alone. Paths are the arguments dvc.yaml gives.

The output folder is declared `persist: true` in dvc.yaml: DVC leaves it in place before the
stage runs, so the stage reads it first and embeds only texts whose (text hash, encoder id) is
not there yet. It then writes exactly this run's texts, so the output is a function of the
inputs and params, however much was reused. How many texts were embedded and reused depends on
what ran before, so it is logged, not written to an output.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # never download a model at run time
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import polars as pl  # noqa: E402

from config.params import load_params  # noqa: E402
from curation.dedup import read_labelled_pairs  # noqa: E402
from curation.embeddings import (  # noqa: E402
    EMBEDDINGS_FILE,
    embed_with_cache,
    load_encoder,
    read_embeddings,
    write_embeddings,
)
from curation.schema import text_hash  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kept", type=Path, required=True, help="the filter stage's kept.parquet")
    parser.add_argument("--pairs", type=Path, required=True, help="labelled pairs CSV: their texts are embedded too, for dedup")
    parser.add_argument("--out", type=Path, required=True, help="embeddings folder (read back: a cache by text hash)")
    args = parser.parse_args()
    params = load_params().embed
    encoder = load_encoder(params.encoder)
    kept = pl.read_parquet(args.kept, columns=["text", "text_hash"])
    pairs = read_labelled_pairs(args.pairs)
    pair_texts = pl.concat([pairs.get_column("text_a"), pairs.get_column("text_b")]).unique()
    pair_texts = pl.DataFrame({"text": pair_texts, "text_hash": pair_texts.map_elements(text_hash, return_dtype=pl.String)})
    distinct = pl.concat([kept, pair_texts]).unique("text_hash").sort("text_hash")
    texts, hashes = distinct.get_column("text"), distinct.get_column("text_hash")
    previous = read_embeddings(args.out / EMBEDDINGS_FILE)
    table, stats = embed_with_cache(
        texts.to_list(), hashes.to_list(), encoder, previous, params.batch_size, progress=True
    )
    write_embeddings(table, args.out / EMBEDDINGS_FILE)
    print(
        f"embed: {stats.texts} distinct texts with {encoder.encoder_id} (dim {encoder.dim}): "
        f"{stats.embedded} embedded, {stats.reused} reused from the previous output",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
