"""Keep each embedded font program that WeasyPrint subsets and instantiates, by its inputs.

Writing a PDF, WeasyPrint 70 subsets every font to the glyphs the book draws and turns each
variable font into a static one at the weight and size used (`Font.clean`: HarfBuzz, then
fontTools' instancer, a tenth of a second or more per font and size). A rebuild, or another
piece of the same book, asks for the same program again. Within `caching_font_programs()`,
the program is kept in the cache under everything `clean` reads (the font file's bytes and
face index, the glyph ids and whether some are missing, hinting, the variations, weight, size
and style, SOURCE_DATE_EPOCH, which fontTools stamps into the program, and the versions of
WeasyPrint, HarfBuzz and fontTools), so a hit gives the bytes `clean` would make. A `clean`
that logs a warning is not kept, so the warning is never lost.

This module patches WeasyPrint's private `weasyprint.pdf.fonts.Font.clean` and refuses to run
on a WeasyPrint other than the pinned one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bookbuild.cache import entry_path, store

PINNED_WEASYPRINT = "70.0"
_KIND = "font-programs"


@contextmanager
def caching_font_programs() -> Iterator[None]:
    """Within this block, a font program made before is read from the cache, not made again."""
    import fontTools
    import weasyprint
    import weasyprint.pdf.fonts as fonts
    from weasyprint.text.ffi import harfbuzz

    from bookbuild.pdf import watch_weasyprint  # pdf.py imports this module

    if weasyprint.__version__ != PINNED_WEASYPRINT:
        raise RuntimeError(
            f"bookbuild.fontcache was written for WeasyPrint {PINNED_WEASYPRINT}, "
            f"not {weasyprint.__version__}: check its hook before moving the pin"
        )
    clean = fonts.Font.clean
    if getattr(clean, "_bookbuild", False):
        yield
        return
    versions = f"{weasyprint.__version__} {fontTools.version} {_harfbuzz_version(harfbuzz)}"

    def cached_clean(font: Any, to_unicode: Any, hinting: Any) -> None:
        if "SOURCE_DATE_EPOCH" not in os.environ:  # fontTools would stamp the time of day
            clean(font, to_unicode, hinting)
            return
        key = _key(versions, font, to_unicode, hinting)
        if _read(font, key):
            return
        with watch_weasyprint() as logged:
            clean(font, to_unicode, hinting)
        if not logged.records:
            _store(font, key)

    cached_clean._bookbuild = True  # type: ignore[attr-defined]
    fonts.Font.clean = cached_clean
    try:
        yield
    finally:
        fonts.Font.clean = clean


def _harfbuzz_version(harfbuzz: Any) -> str:
    """Return the version of the HarfBuzz WeasyPrint loaded, asked as its bindings allow."""
    found = [0, 0, 0]
    for part in range(3):
        low, high = 0, 1 << 12  # each part is searched for the largest value it reaches
        while low < high:
            middle = (low + high + 1) // 2
            if harfbuzz.hb_version_atleast(*found[:part], middle, *[0] * (2 - part)):
                low = middle
            else:
                high = middle - 1
        found[part] = low
    return ".".join(map(str, found))


def _key(versions: str, font: Any, to_unicode: Any, hinting: Any) -> list[bytes]:
    inputs = {
        "index": font.index,
        "glyphs": sorted(to_unicode),
        "hinting": bool(hinting),
        "missing": bool(font.missing),
        "variations": sorted(font.variations.items()),
        "weight": font.weight,
        "size": font.font_size,
        "style": font.style,
    }
    return [
        versions.encode(),
        # fontTools writes it into the program's head table as the time it was made.
        os.environ.get("SOURCE_DATE_EPOCH", "").encode(),
        hashlib.sha256(font.file_content).digest(),
        json.dumps(inputs, default=str).encode(),
    ]


def _read(font: Any, key: list[bytes]) -> bool:
    """Give the font its kept program and variations; say whether one was kept."""
    try:
        data = entry_path(_KIND, key).read_bytes()
    except OSError:
        return False
    head, _, program = data.partition(b"\n")
    try:
        kept = json.loads(head)
        variations, digest = kept["variations"], kept["sha256"]
    except (ValueError, KeyError, TypeError):
        return False  # a damaged entry is made again
    if hashlib.sha256(program).hexdigest() != digest:
        return False
    font.variations.clear()
    font.variations.update(variations)
    font.file_content = program
    return True


def _store(font: Any, key: list[bytes]) -> None:
    """Keep the font's program, with its variations and its digest."""
    head = {"variations": font.variations, "sha256": hashlib.sha256(font.file_content).hexdigest()}
    store(_KIND, key, json.dumps(head).encode() + b"\n" + font.file_content)
