"""Pandoc's citation syntax read into its parts: prefix, key, locator, suffix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bookbuild.pandoc import CITE_KEY

# Pandoc's locator terms, as CSL names them.
LABELS = {
    "p": "page", "pp": "page", "page": "page", "pages": "page",
    "chap": "chapter", "ch": "chapter", "chapter": "chapter", "chapters": "chapter",
    "sec": "section", "section": "section", "§": "section", "§§": "section",
    "vol": "volume", "vols": "volume", "volume": "volume",
    "fig": "figure", "figs": "figure", "figure": "figure",
    "n": "note", "nn": "note", "note": "note", "notes": "note",
    "para": "paragraph", "paragraph": "paragraph",
    "l": "line", "ll": "line", "line": "line",
    "col": "column", "column": "column",
    "bk": "book", "book": "book", "no": "issue", "art": "article",
}  # fmt: skip
_KEY = re.compile(rf"(-?)@({CITE_KEY})")
_LOCATOR = re.compile(r"\s*([^\s\d,]+?)\.?\s+(?=[\dIVXLCivxlc])|\s*(?=\d)")
_VALUE = re.compile(r"[\w\u2013\u2014:-]+(?:\s*[,&]\s*[\d\u2013-]+)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cite:
    key: str
    prefix: str = ""
    locator: str = ""
    label: str = "page"
    suffix: str = ""
    suppress_author: bool = False


def parse_citation(text: str) -> tuple[Cite, ...]:
    """Return the cites of `[see @a, p. 33; @b]`, `[-@a]` or `@a`."""
    text = text.replace("\u00a0", " ")
    if not text.startswith("["):
        return (Cite(key=text[1:]),)
    return tuple(_cite(part) for part in text[1:-1].split(";") if _KEY.search(part))


def _cite(part: str) -> Cite:
    match = _KEY.search(part)
    assert match is not None
    prefix = part[: match.start()].strip()
    rest = part[match.end() :]
    locator, label, suffix = "", "page", rest.strip()
    if rest.lstrip().startswith(","):
        locator, label, suffix = split_locator(rest.lstrip()[1:])
    return Cite(
        key=match[2],
        prefix=prefix,
        locator=locator,
        label=label,
        suffix=suffix,
        suppress_author=match[1] == "-",
    )


def split_locator(text: str) -> tuple[str, str, str]:
    """Return the locator, its CSL label and the suffix of ` p. 33, my emphasis`."""
    match = _LOCATOR.match(text)
    term = (match[1] or "") if match else ""
    label = LABELS.get(term.lower().rstrip("."), "")
    if match is None or (term and not label):
        return "", "page", text.strip()
    value = _VALUE.match(text, match.end())
    if value is None:
        return "", "page", text.strip()
    return value[0].strip(), label or "page", text[value.end() :].strip().lstrip(",").strip()


def take_locator(text: str) -> tuple[tuple[str, str, str] | None, str]:
    """Split the ` [p. 33]` that follows `@key` off the text after it."""
    plain = text.replace("\u00a0", " ")
    match = re.match(r" \[([^\[\]]*)\]", plain)
    if match is None:
        return None, text
    locator, label, suffix = split_locator(match[1])
    if not locator:
        return ("", "page", match[1].strip()), text[match.end() :]
    return (locator, label, suffix), text[match.end() :]
