"""Language identification: langdetect labels, the English screen, and the text-hash cache."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import curation.language as language
from curation.language import LanguageCache, english_screen, identify_languages, langdetect_id
from curation.schema import text_hash

TEXTS = {
    "en": "A red circle slowly moves from the left side of the frame to the right side.",
    "es": "Un círculo rojo se mueve lentamente del lado izquierdo del cuadro al lado derecho.",
    "fr": "Un cercle rouge se déplace lentement du côté gauche de l'image vers le côté droit.",
    "de": "Ein roter Kreis bewegt sich langsam von der linken Seite des Bildes zur rechten Seite.",
}


def run(texts: list[str], cache: LanguageCache, min_words: int = 4) -> tuple[list[str], dict[str, int]]:
    hashes = pl.Series([text_hash(t) for t in texts])
    labels, how = identify_languages(
        pl.Series(texts), hashes, seed=0, min_words=min_words, short_text_language="en", cache=cache, workers=1
    )
    return labels.to_list(), how


def test_languages_are_identified() -> None:
    labels, _ = run(list(TEXTS.values()), LanguageCache(None, "t"))
    assert labels == list(TEXTS)


def test_english_screen_passes_english_prose_only() -> None:
    screened = english_screen(pl.Series(list(TEXTS.values()) + ["the the"]), min_words=4).to_list()
    assert screened == [True, False, False, False, False]


def test_short_texts_are_not_guessed() -> None:
    labels, how = run(["Hola amigo.", "Red."], LanguageCache(None, "t"))
    assert labels == ["en", "en"] and how["short_text"] == 2


def test_cache_makes_a_rerun_skip_langdetect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "language.parquet"
    texts = [TEXTS["es"], TEXTS["fr"], TEXTS["en"], TEXTS["es"]]
    cold = LanguageCache(path, langdetect_id(0))
    first, how = run(texts, cold)
    assert how["langdetect"] == 2  # es (once, though it appears twice) and fr; en is screened
    cold.save()
    cache = LanguageCache(path, langdetect_id(0))
    cache_file = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> list[str]:
        raise AssertionError("langdetect ran on cached text")

    monkeypatch.setattr(language, "detect_languages_with_langdetect", fail)
    second, how = run(texts, cache)
    assert second == first == ["es", "fr", "en", "es"]
    assert how["cached"] == 4
    cache.save()
    assert path.read_bytes() == cache_file


def test_saved_cache_holds_exactly_this_runs_texts(tmp_path: Path) -> None:
    path = tmp_path / "language.parquet"
    first = LanguageCache(path, langdetect_id(0))
    run([TEXTS["es"], TEXTS["fr"]], first)
    first.save()
    second = LanguageCache(path, langdetect_id(0))
    run([TEXTS["fr"], TEXTS["de"]], second)
    second.save()
    fresh = LanguageCache(tmp_path / "fresh.parquet", langdetect_id(0))
    run([TEXTS["de"], TEXTS["fr"]], fresh)
    fresh.save()
    assert path.read_bytes() == (tmp_path / "fresh.parquet").read_bytes()


def test_cache_entries_of_another_seed_are_not_used(tmp_path: Path) -> None:
    path = tmp_path / "language.parquet"
    cache = LanguageCache(path, langdetect_id(0))
    run([TEXTS["de"]], cache)
    cache.save()
    _, how = run([TEXTS["de"]], LanguageCache(path, langdetect_id(1)))
    assert how["cached"] == 0 and how["langdetect"] == 1


def test_labels_do_not_depend_on_order_or_batching() -> None:
    texts = list(TEXTS.values()) * 3
    forward, _ = run(texts, LanguageCache(None, "t"))
    backward, _ = run(texts[::-1], LanguageCache(None, "t"))
    assert forward == backward[::-1]
