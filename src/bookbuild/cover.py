"""Draw the EPUB cover from the book's title, in the book's own fonts."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bookbuild import __version__
from bookbuild.cache import cached
from bookbuild.model import Metadata

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

SIZE = (1600, 2400)
MARGIN = 150
BACKGROUND = (122, 31, 43)
INK = (250, 246, 238)
MUTED = (229, 205, 196)


def cached_cover(meta: Metadata) -> bytes:
    """Return the cover, drawn once per title, fonts and bookbuild version, then cached."""
    from bookbuild.assets import FONT_PACKAGES, font_files

    fields = [meta.title, meta.subtitle, list(meta.authors), meta.publisher]
    key = [__version__.encode(), Path(__file__).read_bytes(), json.dumps(fields).encode()]
    for package in sorted(set(FONT_PACKAGES.values())):
        spec = importlib.util.find_spec(package)  # finds the font package without importing it
        origin = Path(spec.origin if spec and spec.origin else package)
        key.append((origin.parent / "metadata.json").read_bytes() if spec else package.encode())
    key.append(str(cjk_cover_fonts(meta.language)).encode())

    def draw() -> bytes:
        # The font files are found only on a miss: fontpkg's registry costs a hit its time.
        return build_cover(meta, font_files() | cjk_cover_fonts(meta.language))

    return cached("covers", key, draw)


# The face of each CJK collection for a language (the collections' order: JP, KR, SC, TC, HK).
CJK_FACE_INDEX = {"JP": 0, "KR": 1, "SC": 2, "TC": 3, "HK": 4}
CJK_COVER_FILES = {
    "cjk/serif-bold": "NotoSerifCJK-Bold.ttc",
    "cjk/serif": "NotoSerifCJK-Regular.ttc",
    "cjk/sans-bold": "NotoSansCJK-Bold.ttc",
}


def cjk_cover_fonts(language: str) -> dict[str, Path]:
    """Return the CJK collections the cover may draw with, as found; the face index in `#n`."""
    from bookbuild.fontconf import cjk_variant
    from bookbuild.fontset import cjk_font

    index = CJK_FACE_INDEX[cjk_variant(language)]
    found = {name: cjk_font(file) for name, file in CJK_COVER_FILES.items()}
    return {name: Path(f"{path}#{index}") for name, path in found.items() if path}


def build_cover(meta: Metadata, fonts: Mapping[str, Path]) -> bytes:
    """Return the cover as JPEG bytes: title, subtitle, authors and publisher on a plain ground."""
    from PIL import Image, ImageDraw  # Pillow loads only when a cover is drawn

    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    y = 520
    title = _font(_pick(fonts, meta.title, "fonts/serif.ttf", "cjk/serif-bold"), 150, weight=700)
    y = _draw_lines(draw, _wrap(draw, meta.title, title, width), title, y, INK, 1.12)
    draw.rectangle((MARGIN, y + 60, MARGIN + 260, y + 72), fill=MUTED)
    if meta.subtitle:
        path = _pick(fonts, meta.subtitle, "fonts/serif-italic.ttf", "cjk/serif")
        subtitle = _font(path, 72, weight=400)
        _draw_lines(
            draw, _wrap(draw, meta.subtitle, subtitle, width), subtitle, y + 150, MUTED, 1.3
        )
    credits = [", ".join(meta.authors), meta.publisher or ""]
    path = _pick(fonts, " ".join(credits), "fonts/sans.ttf", "cjk/sans-bold")
    footer = _font(path, 56, weight=600)
    _draw_lines(draw, [line for line in credits if line], footer, SIZE[1] - 360, INK, 1.4)
    buffer = io.BytesIO()
    # JPEG: what every reader (Kindle included) takes for a cover, and ten times quicker to encode.
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _pick(fonts: Mapping[str, Path], text: str, theme: str, cjk: str) -> Path:
    """Return the theme's font for the text, or the CJK one when the text is CJK and it is here."""
    from bookbuild.coverage import is_cjk

    return fonts[cjk] if cjk in fonts and any(map(is_cjk, text)) else fonts[theme]


def _font(path: Path, size: int, *, weight: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    file, _, index = str(path).partition("#")
    font = ImageFont.truetype(file, size, index=int(index or 0))
    if index:  # a CJK collection: static faces, no axes
        return font
    axes = font.get_variation_axes()
    # Set the weight, and the optical size to the point size where the font has that axis.
    values = [
        float(weight) if a["name"] == b"Weight" else _clamp(size / 4, a["minimum"], a["maximum"])
        for a in axes
    ]
    font.set_variation_by_axes(values)
    return font


def _clamp(value: float, low: float | None, high: float | None) -> float:
    return min(max(value, low if low is not None else value), high if high is not None else value)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """Break text into lines no wider than `width`, greedily, at spaces (CJK: anywhere)."""
    from bookbuild.coverage import is_cjk

    lines: list[str] = []
    # Chinese and Japanese break between any two characters: each is a word, spaces kept.
    cjk = any(map(is_cjk, text))
    words, space = (list(text.strip()), "") if cjk else (text.split(), " ")
    for word in words:
        candidate = f"{lines[-1]}{space}{word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        elif not word.isspace():
            lines.append(word)
    return lines


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    y: int,
    fill: tuple[int, int, int],
    leading: float,
) -> int:
    """Draw lines from `y` down and return the y below the last one."""
    step = int(font.size * leading)
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=fill)
        y += step
    return y
