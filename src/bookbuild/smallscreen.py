"""Fit the EPUB's text to a phone: what print keeps whole may break on a narrow screen.

Print ties a month to its year and lets WeasyPrint hyphenate table cells. In a reading system
at large type, "28 February 1998 –" as one unbreakable run and unhyphenated cells make tables
wider than the screen, and few reading engines ship hyphenation dictionaries. So the EPUB lets
the year wrap, and puts soft hyphens into the long words of table cells, where columns are
narrowest. Day and month, "p. 12" and "c. 1950" stay tied.
"""

from __future__ import annotations

import functools
import importlib.util
import re
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
    dictionary = _dictionary(language)
    if dictionary is None:
        return xhtml
    root = etree.fromstring(xhtml)
    cells = root.iter(f"{{{XHTML}}}td", f"{{{XHTML}}}th")
    for cell in list(cells):
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


@functools.cache
def _dictionary(language: str) -> Any:
    """Return the pyphen dictionary for a BCP 47 tag, or None when there is none."""
    import pyphen  # type: ignore[import-untyped]  # slow to import, and only needed on a miss

    found = pyphen.language_fallback(language.replace("-", "_"))
    # Three letters at least on each side of a break, so no line ends in "ag-".
    return pyphen.Pyphen(lang=found, left=3, right=3) if found else None


def _hyphenate(text: str | None, dictionary: Any) -> str | None:
    if not text:
        return text
    return _LONG_WORD.sub(lambda m: _hyphenated(m.group(), dictionary), text)


def _hyphenated(word: str, dictionary: Any) -> str:
    # A month is part of a date, which should read whole: "Feb-ruary" helps no one.
    return word if word in MONTHS else str(dictionary.inserted(word, hyphen=SOFT_HYPHEN))
