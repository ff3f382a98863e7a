"""Embed every distinct kept text, reusing the previous run's embeddings.

Reads params `embed` (encoder, batch_size) and data/interim/filter/kept.parquet (the `text`
column only); writes data/interim/embeddings/embeddings.parquet: one row per distinct text of
this run (text_hash, encoder_id, embedding: fixed-size list<float32>[dim], L2-normalized),
sorted by text_hash (curation/embeddings.py).

The output folder is declared `persist: true` in dvc.yaml: DVC leaves it in place before the
stage runs, so the stage reads it first and embeds only texts whose (text hash, encoder id) is
not there yet. It then writes exactly this run's texts, so the output is a function of the
inputs and params, however much was reused. How many texts were embedded and reused depends on
what ran before, so it is logged, not written to an output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # never download a model at run time
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import polars as pl  # noqa: E402

from curation.embeddings import EMBEDDINGS_FILE, embed_with_cache, load_encoder, read_embeddings, write_embeddings  # noqa: E402
from curation.io import load_params  # noqa: E402
from curation.schema import text_hash  # noqa: E402

KEPT = Path("data/interim/filter/kept.parquet")
OUT_DIR = Path("data/interim/embeddings")


def main() -> None:
    params = load_params()["embed"]
    encoder = load_encoder(str(params["encoder"]))
    texts = pl.read_parquet(KEPT, columns=["text"]).get_column("text").unique().sort()
    hashes = texts.map_elements(text_hash, return_dtype=pl.String)
    previous = read_embeddings(OUT_DIR / EMBEDDINGS_FILE)
    table, stats = embed_with_cache(
        texts.to_list(), hashes.to_list(), encoder, previous, int(params["batch_size"]), progress=True
    )
    write_embeddings(table, OUT_DIR / EMBEDDINGS_FILE)
    print(
        f"embed: {stats.texts} distinct texts with {encoder.encoder_id} (dim {encoder.dim}): "
        f"{stats.embedded} embedded, {stats.reused} reused from the previous output",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
