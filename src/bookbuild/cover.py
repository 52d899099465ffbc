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
    return cached("covers", key, lambda: build_cover(meta, font_files()))


def build_cover(meta: Metadata, fonts: Mapping[str, Path]) -> bytes:
    """Return the cover as JPEG bytes: title, subtitle, authors and publisher on a plain ground."""
    from PIL import Image, ImageDraw  # Pillow loads only when a cover is drawn

    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    y = 520
    title = _font(fonts["fonts/serif.ttf"], 150, weight=700)
    y = _draw_lines(draw, _wrap(draw, meta.title, title, width), title, y, INK, 1.12)
    draw.rectangle((MARGIN, y + 60, MARGIN + 260, y + 72), fill=MUTED)
    if meta.subtitle:
        subtitle = _font(fonts["fonts/serif-italic.ttf"], 72, weight=400)
        _draw_lines(
            draw, _wrap(draw, meta.subtitle, subtitle, width), subtitle, y + 150, MUTED, 1.3
        )
    footer = _font(fonts["fonts/sans.ttf"], 56, weight=600)
    credits = [", ".join(meta.authors), meta.publisher or ""]
    _draw_lines(draw, [line for line in credits if line], footer, SIZE[1] - 360, INK, 1.4)
    buffer = io.BytesIO()
    # JPEG: what every reader (Kindle included) takes for a cover, and ten times quicker to encode.
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _font(path: Path, size: int, *, weight: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    font = ImageFont.truetype(str(path), size)
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
    """Break text into lines no wider than `width`, greedily, at spaces."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
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
