"""Fit the EPUB's text to a phone: what print keeps whole may break on a narrow screen.

Print ties a month to its year and lets WeasyPrint hyphenate table cells. In a reading system
at large type, "28 February 1998 –" as one unbreakable run and unhyphenated cells make tables
wider than the screen, and few reading engines ship hyphenation dictionaries. So the EPUB lets
the year wrap, and puts soft hyphens into the long words of table cells, where columns are
narrowest. Day and month, "p. 12" and "c. 1950" stay tied.
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
from pathlib import Path
from typing import Any

from lxml import etree

from bookbuild import __version__
from bookbuild.cache import cached
from bookbuild.dates import MONTHS
from bookbuild.pagelist import VOID

XHTML = "http://www.w3.org/1999/xhtml"
SOFT_HYPHEN = "\u00ad"
_MONTH_YEAR = re.compile(("(" + "|".join(MONTHS) + ")\u00a0(?=[0-9])").encode())
# Words of six letters or more; shorter ones gain little from a break.
_LONG_WORD = re.compile(r"[^\W\d_]{6,}")


def fit_to_small_screens(xhtml: bytes, language: str) -> bytes:
    """Return a content document whose dates and table cells can wrap on a narrow screen."""
    return hyphenate_cells(loosen_ties(xhtml), language)


def loosen_ties(xhtml: bytes) -> bytes:
    """Let a year wrap away from its month, which print keeps together."""
    return _MONTH_YEAR.sub(rb"\1 ", xhtml)


def hyphenate_cells(xhtml: bytes, language: str) -> bytes:
    """Put soft hyphens into the long words of every table cell, in the book's language.

    Loading a hyphenation dictionary costs more than the rest of an EPUB build, so the result
    is cached by the page, the language, this code and pyphen's.
    """
    if b"<td" not in xhtml and b"<th" not in xhtml:
        return xhtml
    key = [
        __version__.encode(),
        Path(__file__).read_bytes(),
        _pyphen_code(),
        language.encode(),
        xhtml,
    ]
    return cached("hyphenated", key, lambda: _hyphenate_cells(xhtml, language))


def _pyphen_code() -> bytes:
    """Return pyphen's own source, which changes with its version, without importing it."""
    spec = importlib.util.find_spec("pyphen")
    return Path(spec.origin).read_bytes() if spec and spec.origin else b"no pyphen"


def _hyphenate_cells(xhtml: bytes, language: str) -> bytes:
    root = etree.fromstring(xhtml)
    cells = list(root.iter(f"{{{XHTML}}}td", f"{{{XHTML}}}th"))
    dictionary = _dictionary(language, _words(cells))
    if dictionary is None:
        return xhtml
    for cell in cells:
        for element in cell.iter(f"{{{XHTML}}}*"):
            element.text = _hyphenate(element.text, dictionary)
            if element is not cell:
                element.tail = _hyphenate(element.tail, dictionary)
    for element in root.iter(f"{{{XHTML}}}*"):
        # `<td/>` is fine XML, but a reader that parses XHTML as HTML opens a cell there.
        empty = element.text is None and len(element) == 0
        if empty and etree.QName(element).localname not in VOID:
            element.text = ""
    return bytes(
        etree.tostring(root, encoding="utf-8", xml_declaration=True, doctype="<!DOCTYPE html>")
    )


def _words(cells: list[Any]) -> frozenset[str]:
    """Return the words of the cells that may be hyphenated."""
    texts = (
        text
        for cell in cells
        for element in cell.iter(f"{{{XHTML}}}*")
        for text in (element.text, element.tail if element is not cell else None)
        if text
    )
    return frozenset(w for text in texts for w in _LONG_WORD.findall(text) if w not in MONTHS)


def _dictionary(language: str, words: frozenset[str]) -> Any:
    """Return a pyphen dictionary for a BCP 47 tag that hyphenates `words`, or None.

    Parsing a whole pattern file costs more than the rest of an EPUB build, and a page's cells
    hold a few hundred words: pyphen is given only the patterns that occur in one of them. A
    pattern applies to a word only where its letters occur in it, so each word's breaks are
    the ones the whole file gives.
    """
    import pyphen  # type: ignore[import-untyped]  # slow to import, and only needed on a miss

    found = pyphen.language_fallback(language.replace("-", "_"))
    if not found:
        return None
    patterns = _patterns_within(pyphen.LANGUAGES[found], words)
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "hyph_subset.dic"
        path.write_text("UTF-8\n" + "\n".join(patterns) + "\n", encoding="utf-8")
        try:
            # Three letters at least on each side of a break, so no line ends in "ag-".
            return pyphen.Pyphen(filename=path, left=3, right=3, cache=False)
        except ValueError:  # no pattern with a break occurs in these words
            return _NoBreaks()


_DIGITS = re.compile(r"\d")
_ASCII_DIGITS = str.maketrans("", "", "0123456789")


def _letters(pattern: str) -> str:
    """Return a pattern without its break values: the key pyphen files it under."""
    return pattern.translate(_ASCII_DIGITS) if pattern.isascii() else _DIGITS.sub("", pattern)


def _patterns_within(path: Path, words: frozenset[str]) -> list[str]:
    """Return the lines of a pattern file whose letters occur in one of the words.

    Lines pyphen reads specially (hex escapes, nonstandard breaks) are all kept.
    """
    with path.open("rb") as handle:
        encoding = handle.readline().decode().strip()
    encoding = "cp1251" if encoding.lower() == "microsoft-cp1251" else encoding
    # pyphen looks a word up in lower case, between dots that mark its ends.
    pointed = [f".{word.lower()}." for word in words]
    by_length: dict[int, set[str]] = {}

    def occurs(letters: str) -> bool:
        n = len(letters)
        if n not in by_length:
            by_length[n] = {w[i : i + n] for w in pointed for i in range(len(w) - n + 1)}
        return letters in by_length[n]

    lines = (line.strip() for line in path.read_text(encoding).split("\n")[1:])
    return [
        line for line in lines if line and ("^" in line or "/" in line or occurs(_letters(line)))
    ]


class _NoBreaks:
    """A dictionary for words in which no pattern allows a break."""

    def inserted(self, word: str, hyphen: str = "-") -> str:
        return word


def _hyphenate(text: str | None, dictionary: Any) -> str | None:
    if not text:
        return text
    return _LONG_WORD.sub(lambda m: _hyphenated(m.group(), dictionary), text)


def _hyphenated(word: str, dictionary: Any) -> str:
    # A month is part of a date, which should read whole: "Feb-ruary" helps no one.
    return word if word in MONTHS else str(dictionary.inserted(word, hyphen=SOFT_HYPHEN))
