"""The fonts a book may be set in: the theme's, the script fallbacks, and CJK, all named here."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from bookbuild.assets import fallback_font

# PyPI packages (fontpkg-*, OFL) whose every font file is one of the book's fonts: the theme's
# three families and the scripts they lack that PyPI packages: Arabic (Persian, Urdu...),
# Devanagari and Thai.
FONT_PACKAGES = (
    "fontpkg_source_serif_4",
    "fontpkg_source_sans_3",
    "fontpkg_source_code_pro",
    "fontpkg_noto_sans_arabic",
    "fontpkg_noto_sans_devanagari",
    "fontpkg_noto_sans_thai",
)
# Chinese, Japanese and Korean: no PyPI package has Noto CJK, so it comes from the system
# (Debian's fonts-noto-cjk, Fedora's google-noto-*-cjk-fonts), at a fixed place, or from the
# folder $BOOKBUILD_CJK_FONTS names. Each collection holds the JP, KR, SC, TC and HK faces.
CJK_FILES = (
    "NotoSerifCJK-Regular.ttc",
    "NotoSerifCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Bold.ttc",
)
CJK_PLACES = (
    Path("/usr/share/fonts/opentype/noto"),  # Debian, Ubuntu: fonts-noto-cjk
    Path("/usr/share/fonts/google-noto-serif-cjk-fonts"),  # Fedora
    Path("/usr/share/fonts/google-noto-sans-cjk-fonts"),
    Path("/usr/share/fonts/noto-cjk"),  # Arch: noto-fonts-cjk
)
CJK_PACKAGE = "fonts-noto-cjk"


@dataclass(frozen=True, slots=True, kw_only=True)
class FontSet:
    """Every font file the PDF may use, and the CJK files that are missing on this machine."""

    files: tuple[Path, ...]
    cjk: tuple[Path, ...]
    cjk_missing: tuple[str, ...]

    @property
    def all_files(self) -> tuple[Path, ...]:
        return self.files + self.cjk


def find_fonts() -> FontSet:
    """Return the book's fonts as found on this machine, without importing the font packages."""
    files = [path for package in FONT_PACKAGES for path in package_fonts(package)]
    files.append(fallback_font())
    cjk = {name: found for name in CJK_FILES if (found := cjk_font(name))}
    return FontSet(
        files=tuple(path for path in files if path.is_file()),
        cjk=tuple(cjk.values()),
        cjk_missing=tuple(name for name in CJK_FILES if name not in cjk),
    )


def package_fonts(package: str) -> list[Path]:
    """Return the font files a fontpkg package ships, in name order; none if not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "files"
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in (".ttf", ".otf"))


def cjk_font(name: str) -> Path | None:
    """Return where the named CJK collection is: in $BOOKBUILD_CJK_FONTS, else a fixed place."""
    return next((folder / name for folder in cjk_places() if (folder / name).is_file()), None)


def cjk_places() -> tuple[Path, ...]:
    """Return the folders searched for the CJK fonts: $BOOKBUILD_CJK_FONTS, else the fixed ones."""
    if chosen := os.environ.get("BOOKBUILD_CJK_FONTS", "").strip():
        return (Path(chosen),)
    return CJK_PLACES
