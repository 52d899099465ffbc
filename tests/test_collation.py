"""The glossary sorts the way the book's language looks words up."""

from __future__ import annotations

import pytest

from bookbuild.collation import collation_key


@pytest.mark.parametrize(
    ("language", "words"),
    [
        # Albanian: ç after c, dh after d, ë after e, sh after s, each a letter of its own.
        ("sq-AL", ["cjap", "çelës", "dora", "dhe", "elb", "ëndërr", "sanë", "Shqip", "zog"]),
        # German (DIN 5007-1): umlauts file with their vowels.
        ("de", ["Affe", "Ähre", "Ofen", "Öl", "über", "Ufer", "Zebra"]),
        # Russian: ё files with its base letter, not after я where its code point is.
        ("ru", ["арбуз", "еда", "ёлка", "ель", "Яблоко"]),
        ("fr", ["cote", "coté", "côte", "élan", "Elbe", "zèbre"]),
        ("es", ["Nadal", "nube", "ñandú", "oso"]),
        ("en", ["Alexandria", "al-Idrisi", "Degas", "de Gaulle", "Zeno"]),
    ],
)
def test_words_sort_in_the_order_of_the_language(language: str, words: list[str]) -> None:
    shuffled = sorted(words, key=str.casefold, reverse=True)
    assert sorted(shuffled, key=lambda word: collation_key(word, language)) == words
