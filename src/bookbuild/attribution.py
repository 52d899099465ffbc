"""Sources of events and glossary entries: the `source` they name, and the book's demand for one.

An event names the works it comes from in its `source` attribute and a glossary entry in its
`source:` key, as citation keys: `@key`, or several, `@a; @b`. cite.py resolves the keys
against the bibliography; this module only reads them and checks that each entry has one when
book.yaml sets `require-sources: true`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bookbuild.errors import Diagnostic, error
from bookbuild.model import Book
from bookbuild.pandoc import CITE_KEY

_KEY = re.compile(rf"@?({CITE_KEY})")
_SEPARATORS = re.compile(r"[;,\s]+")


def parse_sources(values: str | Sequence[str]) -> tuple[str, ...] | None:
    """Return the citation keys of `@a; @b` (or a list of them), or None if one is not a key."""
    texts = [values] if isinstance(values, str) else list(values)
    keys: list[str] = []
    for part in (p for text in texts for p in _SEPARATORS.split(text.strip()) if p):
        match = _KEY.fullmatch(part)
        if match is None:
            return None
        keys.append(match[1])
    return tuple(keys) or None


def lint_sources(book: Book) -> Iterator[Diagnostic]:
    """Report each event and glossary entry without a source, if the book asks for them."""
    if not book.meta.require_sources:
        return
    for event in (e for c in book.chapters for e in c.events if not e.sources):
        yield error(
            "BB640",
            f"event '{event.title}' names no source: add source=\"@key\" "
            "(book.yaml sets require-sources)",
            event.location,
        )
    for entry in (g for g in book.glossary if not g.sources):
        yield error(
            "BB641",
            f"glossary entry '{entry.term}' names no source: add `source: key` "
            "(book.yaml sets require-sources)",
            entry.location,
        )
