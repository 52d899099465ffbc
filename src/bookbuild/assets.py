"""The files a build may read besides the manuscript text: theme, fonts and images."""

from __future__ import annotations

import re
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

# Every font the PDF may use: the theme's own and the named fallback.
FONT_NAMES = (*FONTS, FALLBACK_FONT[0])

# An asset is a file, or bytes the build generated (the timeline figure).
Asset = Path | bytes


def read_asset(asset: Asset) -> bytes:
    """Return an asset's bytes."""
    return asset if isinstance(asset, bytes) else asset.read_bytes()


def default_styles_dir() -> Path:
    """Return the theme folder that ships with bookbuild."""
    return Path(__file__).resolve().parents[2] / "styles"


def font_files() -> dict[str, Path]:
    """Return the font asset names mapped to the packaged font files."""
    import fontpkg  # imported here so that `bookbuild check` does not pay for it

    files = {
        name: Path(fontpkg.path(family, style=style)) for name, (family, style) in FONTS.items()
    }
    files[FALLBACK_FONT[0]] = FALLBACK_FONT[1]
    return files


def image_names(book: Book) -> dict[str, str]:
    """Return each image's manuscript src mapped to its asset name in the outputs."""
    names: dict[str, str] = {}
    for image in (i for c in book.chapters for i in c.images):
        if image.src not in names:
            relative = image.path.relative_to(book.root.resolve()).as_posix()
            # Readers and EPUBCheck choke on brackets and spaces in file names.
            names[image.src] = "images/" + re.sub(r"[^A-Za-z0-9._/-]+", "-", relative)
    return names


def image_places(book: Book) -> dict[str, SourceLocation]:
    """Return each image's asset name mapped to where the manuscript first shows it."""
    names = image_names(book)
    places: dict[str, SourceLocation] = {}
    for image in (i for c in book.chapters for i in c.images):
        places.setdefault(names[image.src], image.location)
    return places


def collect_assets(book: Book, styles: Path, *, fonts: bool = True) -> Mapping[str, Asset]:
    """Return every asset name that the outputs may refer to, mapped to its file."""
    assets: dict[str, Asset] = {name: styles / name for name in THEME_FILES}
    if fonts:
        assets.update(font_files())
        assets.update({name: styles / name for name in PRINT_FILES if (styles / name).is_file()})
    images = {i.src: i.path for c in book.chapters for i in c.images}
    assets.update({name: images[src] for src, name in image_names(book).items()})
    return MappingProxyType(assets)
