"""Find characters that none of the book's fonts can draw: the PDF has no other font to take.

The PDF is set only in bookbuild's fonts (see fontconf.py), so a character none of them has
would print as an empty box. `check` and `build` report it at the first place the manuscript
writes it. The fonts' coverage is read from their cmaps once and cached by file.
"""

from __future__ import annotations

import bisect
import html.entities
import json
import re
import struct
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from bookbuild.cache import cached
from bookbuild.errors import Diagnostic, ManuscriptError, error
from bookbuild.fontset import CJK_PACKAGE, FontSet, cjk_places, find_fonts
from bookbuild.model import Book, SourceLocation
from bookbuild.sources import read_source

# Text no font draws: spaces, controls, format characters (ZWJ, bidi marks) and the
# variation selectors, which only choose among a character's forms.
_INVISIBLE = re.compile(r"[\s\u180b-\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Code points the CJK fonts are for: the Han, kana, Hangul, bopomofo and CJK punctuation blocks.
_CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x2FF0, 0x303F), (0x3040, 0x31FF), (0x3200, 0x9FFF),
    (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)  # fmt: skip


class Coverage:
    """The code points a set of fonts maps to glyphs, as sorted, disjoint ranges."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self.starts = [start for start, _ in ranges]
        self.ends = [end for _, end in ranges]

    def __contains__(self, point: int) -> bool:
        at = bisect.bisect_right(self.starts, point) - 1
        return at >= 0 and point <= self.ends[at]


def font_coverage(fonts: Iterable[Path]) -> Coverage:
    """Return the code points at least one of the fonts has, cached by the files' identity."""
    files = sorted(set(fonts))
    key = [b"coverage-1"] + [
        f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
        for path in files
        if (stat := path.stat())
    ]
    data = cached("coverage", key, lambda: json.dumps(_read_ranges(files)).encode())
    return Coverage([(start, end) for start, end in json.loads(data)])


def _read_ranges(files: Iterable[Path]) -> list[tuple[int, int]]:
    """Return the union of the fonts' cmaps (every face of a collection) as ranges."""
    from fontTools.ttLib import TTCollection, TTFont  # fontTools comes with WeasyPrint

    ranges: list[tuple[int, int]] = []
    for path in files:
        if path.suffix.lower() in (".ttc", ".otc"):
            with TTCollection(path, lazy=True) as collection:
                for face in collection.fonts:
                    ranges += _cmap_ranges(face)
        else:
            with TTFont(path, lazy=True) as font:
                ranges += _cmap_ranges(font)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _cmap_ranges(font: Any) -> list[tuple[int, int]]:
    """Return the code points a font maps, as ranges.

    A format 12 subtable (the CJK fonts') already is ranges of code points, each mapped to
    consecutive glyphs: read from its bytes, a collection's ten faces take a fraction of a
    second instead of fontTools' several seconds. Other fonts go through fontTools.
    """
    data = font.reader["cmap"]
    count = struct.unpack_from(">H", data, 2)[0]
    for index in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, 4 + 8 * index)
        wide = (platform, encoding) in ((3, 10), (0, 4), (0, 6))
        if wide and struct.unpack_from(">H", data, offset)[0] == 12:
            groups = struct.unpack_from(">I", data, offset + 12)[0]
            found = struct.unpack_from(f">{3 * groups}I", data, offset + 16)
            return [(found[i], found[i + 1]) for i in range(0, len(found), 3) if found[i + 2]]
    return [(point, point) for point in font.getBestCmap() or {}]


def lint_coverage(book: Book, fonts: FontSet | None = None) -> list[Diagnostic]:
    """Return an error for each character of the book that none of its fonts has."""
    fonts = fonts or find_fonts()
    covered = font_coverage(fonts.files)
    used = _used_characters(book)
    missing = sorted(c for c in used if ord(c) not in covered and _drawn(c))
    if fonts.cjk and missing:
        # The CJK collections have the largest cmaps by far: read them only for a book that has
        # characters the other fonts lack (Han, kana, Hangul, or any other they happen to have).
        in_cjk = font_coverage(fonts.cjk)
        missing = [c for c in missing if ord(c) not in in_cjk]
    found = []
    cjk = [c for c in missing if is_cjk(c)] if fonts.cjk_missing else []
    if cjk:
        found.append(_cjk_fonts_missing(cjk, fonts, used[cjk[0]] or _first_use(book, cjk[0])))
    images = {file.location: _relative(file.path, book.root) for file in book.image_files}
    for char in missing:
        if char not in cjk:
            where = used[char]
            message = _no_font(char, images.get(where) if where else None)
            found.append(error("BB710", message, where or _first_use(book, char)))
    return found


def _relative(path: Path, root: Path) -> str:
    path, root = path.resolve(), root.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _no_font(char: str, image: str | None) -> str:
    message = (
        f"character '{char}' (U+{ord(char):04X}, {unicodedata.name(char, 'unnamed')}) "
        + (f"in the text of the SVG image '{image}' " if image else "")
        + "is in none of bookbuild's fonts, so the PDF cannot show it"
    )
    if _is_emoji(char):
        message += " (bookbuild has no emoji font: use words, or an image with alt text)"
    return message


def _cjk_fonts_missing(
    chars: list[str], fonts: FontSet, where: SourceLocation | None
) -> Diagnostic:
    char = chars[0]
    others = f" and {len(chars) - 1} other CJK characters" if len(chars) > 1 else ""
    return error(
        "BB711",
        f"character '{char}' (U+{ord(char):04X}){others} need the Noto CJK fonts, which are "
        f"not installed (no {fonts.cjk_missing[0]} in {cjk_places()[0]}): install "
        f"Debian's {CJK_PACKAGE}, or set BOOKBUILD_CJK_FONTS to the folder that has them",
        where,
    )


def _drawn(char: str) -> bool:
    """Return whether a character needs a glyph (not a space, control or format character)."""
    return not _INVISIBLE.match(char) and unicodedata.category(char)[0] not in "CZ"


def is_cjk(char: str) -> bool:
    """Return whether a character is one the CJK fonts are for."""
    point = ord(char)
    return any(start <= point <= end for start, end in _CJK_RANGES)


def _is_emoji(char: str) -> bool:
    point = ord(char)
    return 0x1F000 <= point <= 0x1FAFF or 0x2600 <= point <= 0x27BF


def _used_characters(book: Book) -> dict[str, SourceLocation | None]:
    """Return every character the PDF will show, each with a place when its source is known.

    Text written in the manuscript files is found there later by _first_use; text in an
    SVG image is placed at the image.
    """
    used: dict[str, SourceLocation | None] = dict.fromkeys(set("".join(_book_texts(book))))
    for file in book.image_files:
        if file.media_type == "image/svg+xml":
            for char in _svg_text(file.data):
                used.setdefault(char, file.location)
    return used


def _book_texts(book: Book) -> Iterator[str]:
    """Yield the printed text of the book: metadata, chapters (code and alt text too), glossary."""
    meta = book.meta
    yield from (meta.title, meta.subtitle or "", *meta.authors, meta.publisher or "")
    yield meta.rights or ""
    for chapter in book.chapters:
        yield from (chapter.title, chapter.summary or "", *chapter.authors)
        yield from (event.title for event in chapter.events)
        yield from _token_text(chapter.tokens)
    for entry in book.glossary:
        yield from (entry.term, entry.kind, entry.description)


def _token_text(tokens: Iterable[Token]) -> Iterator[str]:
    """Yield the text of the tokens' leaves: prose, code, math and images' alt text."""
    for token in tokens:
        if token.children:
            yield from _token_text(token.children)
        elif token.type not in ("html_block", "html_inline"):  # raw HTML is refused elsewhere
            yield token.content


def _svg_text(data: bytes) -> str:
    """Return the text an SVG draws: what its text elements hold, not titles or descriptions."""
    from lxml import etree  # lxml loads only for books with SVG images

    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    return "".join(
        "".join(element.itertext()) for element in root.iter("{http://www.w3.org/2000/svg}text")
    )


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
