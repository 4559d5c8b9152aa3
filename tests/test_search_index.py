"""The search index folds text as the browser's search does."""

from __future__ import annotations

import unicodedata

from generator.search import normalise


def folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def test_plain_ascii_takes_the_short_way_with_the_same_result() -> None:
    every_ascii = "".join(chr(n) for n in range(128))
    assert normalise(every_ascii) == folded(every_ascii) == every_ascii.lower()


def test_accents_and_wide_letters_are_folded() -> None:
    assert normalise("Café") == "cafe"
    assert normalise("ＣＡＦＥ") == "cafe"
    assert normalise("绿茶 Green") == "绿茶 green"
