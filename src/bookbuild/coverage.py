"""Find characters that none of the book's fonts can draw, before Pango borrows the machine's."""

from __future__ import annotations

import array
import hashlib
import html.entities
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from bookbuild.cache import cached
from bookbuild.errors import Diagnostic, ManuscriptError, warning
from bookbuild.lint import chapter_text
from bookbuild.model import Book, SourceLocation
from bookbuild.sources import read_source


def font_coverage(fonts: Iterable[Path]) -> frozenset[int]:
    """Return every code point that at least one of the fonts maps to a glyph."""
    covered: set[int] = set()
    for path in fonts:
        covered |= _cmap(path)
    return frozenset(covered)


def _cmap(path: Path) -> set[int]:
    """Return the code points a font maps, cached by the font's bytes and fontTools' version."""
    import fontTools  # fontTools comes with WeasyPrint

    def read() -> bytes:
        from fontTools.ttLib import TTFont

        with TTFont(path, lazy=True) as font:
            return array.array("I", sorted(font.getBestCmap() or {})).tobytes()

    key = [b"cmap", fontTools.version.encode(), hashlib.sha256(path.read_bytes()).digest()]
    return set(array.array("I", cached("font-coverage", key, read)))


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
    """Return where the character first appears in the sources, written as itself or escaped."""
    pattern = _written_forms(char)
    sources = [c.source for c in book.chapters] + [
        book.root / "glossary.yaml",
        book.root / "book.yaml",
    ]
    for path in sources:
        try:
            lines = read_source(path).lines
        except ManuscriptError:  # no glossary, say: the character is then in another file
            continue
        for number, line in enumerate(lines, start=1):
            if match := pattern.search(line):
                return SourceLocation(path=path, line=number, col=match.start() + 1)
    return None


def _written_forms(char: str) -> re.Pattern[str]:
    """Return a pattern for the ways a source may write char: itself, or an HTML or YAML escape."""
    point = ord(char)
    forms = [re.escape(char), f"&#[xX]0*{_hex(point, 1)};", f"&#0*{point};"]
    forms += [re.escape(f"&{name}") for name, value in html.entities.html5.items() if value == char]
    # YAML's double-quoted escapes: \x for 8 bits, \u for 16, \U for any code point.
    forms += [rf"\\x{_hex(point, 2)}"] if point <= 0xFF else []
    forms += [rf"\\u{_hex(point, 4)}"] if point <= 0xFFFF else []
    forms += [rf"\\U{_hex(point, 8)}"]
    return re.compile("|".join(forms))


def _hex(point: int, digits: int) -> str:
    """Return a pattern for a code point in hex, in either case, zero-padded to `digits`."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{point:0{digits}x}")
