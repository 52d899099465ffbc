"""The files a build may read besides the manuscript text: theme, fonts and images."""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from bookbuild.model import Book, SourceLocation

# The theme's CSS names fonts by these files; the fonts themselves come from PyPI packages,
# never from whatever the machine has installed.
FONTS = {
    "fonts/serif.ttf": ("Source Serif 4", "normal"),
    "fonts/serif-italic.ttf": ("Source Serif 4", "italic"),
    "fonts/sans.ttf": ("Source Sans 3", "normal"),
    "fonts/sans-italic.ttf": ("Source Sans 3", "italic"),
    "fonts/mono.ttf": ("Source Code Pro", "normal"),
    "fonts/mono-italic.ttf": ("Source Code Pro", "italic"),
}
# The PyPI package that ships each font.
FONT_PACKAGES = {
    "fonts/serif.ttf": "fontpkg_source_serif_4",
    "fonts/serif-italic.ttf": "fontpkg_source_serif_4",
    "fonts/sans.ttf": "fontpkg_source_sans_3",
    "fonts/sans-italic.ttf": "fontpkg_source_sans_3",
    "fonts/mono.ttf": "fontpkg_source_code_pro",
    "fonts/mono-italic.ttf": "fontpkg_source_code_pro",
}
THEME_FILES = ("print.css", "epub.css")
# Theme files only the print edition uses: the mark on the continuation rows of wrapped code.
PRINT_FILES = ("code-wrap.svg",)
# Scripts our fonts lack (Georgian, Armenian, Greek, Hebrew...) fall back to this font, named in
# the theme, rather than to whatever Pango finds on the machine. Debian's fonts-dejavu-core.
FALLBACK_FONT = ("fonts/fallback.ttf", Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
# Where Fedora, Homebrew (cask font-dejavu) and other systems put the same file.
FALLBACK_FONT_PLACES = (
    FALLBACK_FONT[1],
    Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path.home() / "Library/Fonts/DejaVuSans.ttf",
    Path("/Library/Fonts/DejaVuSans.ttf"),
    Path("/opt/homebrew/share/fonts/DejaVuSans.ttf"),
)

# Every font the PDF may use: the theme's own and the named fallback.
FONT_NAMES = (*FONTS, FALLBACK_FONT[0])

# Theme folders extracted from a zipped install, removed when the process ends.
_EXTRACTED = contextlib.ExitStack()
atexit.register(_EXTRACTED.close)

# An asset is a file, or bytes the build generated (the timeline figure).
Asset = Path | bytes


def read_asset(asset: Asset) -> bytes:
    """Return an asset's bytes."""
    return asset if isinstance(asset, bytes) else asset.read_bytes()


def default_styles_dir() -> Path:
    """Return the theme folder that ships with bookbuild, as package data."""
    styles = importlib.resources.files("bookbuild") / "styles"
    if isinstance(styles, Path):
        return styles
    # A zipped install has no folder to hand Jinja and WeasyPrint: extract it once per process.
    return _EXTRACTED.enter_context(importlib.resources.as_file(styles))


def font_files() -> dict[str, Path]:
    """Return the font asset names mapped to the packaged font files."""
    import fontpkg  # imported here so that `bookbuild check` does not pay for it

    files = {
        name: Path(fontpkg.path(family, style=style)) for name, (family, style) in FONTS.items()
    }
    files[FALLBACK_FONT[0]] = fallback_font()
    return files


def fallback_font() -> Path:
    """Return the fallback font file: $BOOKBUILD_FALLBACK_FONT, else the first place it is."""
    if chosen := os.environ.get("BOOKBUILD_FALLBACK_FONT", "").strip():
        return Path(chosen)
    return next((path for path in FALLBACK_FONT_PLACES if path.is_file()), FALLBACK_FONT[1])


def image_names(book: Book) -> dict[str, str]:
    """Return each image's manuscript src mapped to its asset name in the outputs."""
    by_path = {file.path: file.name for file in book.image_files}
    return {
        image.src: by_path[image.path]
        for chapter in book.chapters
        for image in chapter.images
        if image.path in by_path
    }


def image_places(book: Book) -> dict[str, SourceLocation]:
    """Return each image's asset name mapped to where the manuscript first shows it."""
    return {file.name: file.location for file in book.image_files}


def collect_assets(book: Book, styles: Path, *, fonts: bool = True) -> Mapping[str, Asset]:
    """Return every asset name that the outputs may refer to, mapped to its file."""
    assets: dict[str, Asset] = {name: styles / name for name in THEME_FILES}
    if fonts:
        assets.update(font_files())
        assets.update({name: styles / name for name in PRINT_FILES if (styles / name).is_file()})
    # Images are the checked (and, for SVG, cleaned) bytes, never the files as they are now.
    assets.update({file.name: file.data for file in book.image_files})
    return MappingProxyType(assets)
