"""Find characters that none of the book's fonts can draw, before Pango borrows the machine's."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from bookbuild.errors import Diagnostic, warning
from bookbuild.lint import chapter_text
from bookbuild.model import Book, SourceLocation


def font_coverage(fonts: Iterable[Path]) -> frozenset[int]:
    """Return every code point that at least one of the fonts maps to a glyph."""
    from fontTools.ttLib import TTFont  # fontTools comes with WeasyPrint

    covered: set[int] = set()
    for path in fonts:
        with TTFont(path, lazy=True) as font:
            covered |= set(font.getBestCmap() or {})
    return frozenset(covered)


def lint_coverage(book: Book, fonts: Mapping[str, Path]) -> list[Diagnostic]:
    """Warn once for each character of the book that no font of the book has."""
    covered = font_coverage(fonts.values())
    missing = sorted({c for c in _book_text(book) if _drawn(c) and ord(c) not in covered})
    return [
        warning(
            "BB903",
            f"character '{c}' (U+{ord(c):04X}, {unicodedata.name(c, 'unnamed')}) is "
            "in none of the book's fonts; the PDF would borrow one from this machine",
            _first_use(book, c),
        )
        for c in missing
    ]


def _book_text(book: Book) -> str:
    meta = book.meta
    parts = [meta.title, meta.subtitle or "", *meta.authors, meta.publisher or ""]
    parts += [c.title + " " + (c.summary or "") + " " + chapter_text(c) for c in book.chapters]
    parts += [f"{g.term} {g.description}" for g in book.glossary]
    parts += [e.title for c in book.chapters for e in c.events]
    return " ".join(parts)


def _drawn(char: str) -> bool:
    """Return whether a character needs a glyph (not a space, control or format character)."""
    return not char.isspace() and unicodedata.category(char)[0] not in "CZ"


def _first_use(book: Book, char: str) -> SourceLocation | None:
    """Return where the character first appears in a chapter's source, if it does."""
    for chapter in book.chapters:
        lines = chapter.source.read_text(encoding="utf-8-sig").splitlines()
        for number, line in enumerate(lines, start=1):
            if char in line:
                return SourceLocation(path=chapter.source, line=number, col=line.index(char) + 1)
    return None
