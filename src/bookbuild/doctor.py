"""`bookbuild doctor`: say which system libraries and tools are missing, and how to get them."""

from __future__ import annotations

import ctypes.util
import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bookbuild.assets import fallback_font

# How each platform's package manager names what a build needs.
INSTALL = {
    "pango": {
        "debian": "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0",
        "fedora": "sudo dnf install pango",
        "macos": "brew install pango",
    },
    "harfbuzz-subset": {
        "debian": "sudo apt-get install libharfbuzz-subset0",
        "fedora": "sudo dnf install harfbuzz",
        "macos": "brew install harfbuzz",
    },
    "fallback-font": {
        "debian": "sudo apt-get install fonts-dejavu-core",
        "fedora": "sudo dnf install dejavu-sans-fonts",
        "macos": "brew install --cask font-dejavu",
    },
    "cjk-fonts": {
        "debian": "sudo apt-get install fonts-noto-cjk",
        "fedora": "sudo dnf install google-noto-serif-cjk-fonts google-noto-sans-cjk-fonts",
        "macos": "download Noto Serif CJK and Noto Sans CJK (the .ttc collections) and set "
        "BOOKBUILD_CJK_FONTS to their folder",
    },
    "java": {
        "debian": "sudo apt-get install openjdk-17-jre-headless",
        "fedora": "sudo dnf install java-21-openjdk-headless",
        "macos": "brew install openjdk",
    },
    "ace": {
        "debian": "sudo apt-get install npm chromium && sudo npm install -g @daisy/ace",
        "fedora": "sudo dnf install nodejs-npm chromium && sudo npm install -g @daisy/ace",
        "macos": "brew install node && npm install -g @daisy/ace",
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    key: str
    what: str
    required: bool
    found: Callable[[], str | None]  # where it was found, or None


def current_platform() -> str:
    """Return debian, fedora or macos: whose install commands to show."""
    if platform.system() == "Darwin":
        return "macos"
    try:
        release = Path("/etc/os-release").read_text().lower()
    except OSError:
        release = ""
    return "fedora" if any(n in release for n in ("fedora", "rhel", "centos")) else "debian"


def _library(*names: str) -> Callable[[], str | None]:
    return lambda: next((found for n in names if (found := ctypes.util.find_library(n))), None)


def _pango() -> str | None:
    try:
        import weasyprint  # loading it loads Pango, or fails saying which library is missing
    except OSError:
        return None
    return f"WeasyPrint {weasyprint.__version__} loaded Pango"


def _font() -> str | None:
    path = fallback_font()
    return str(path) if path.is_file() else None


def _cjk_fonts() -> str | None:
    from bookbuild.fontset import find_fonts

    fonts = find_fonts()
    return None if fonts.cjk_missing else str(fonts.cjk[0].parent)


def _java() -> str | None:
    return shutil.which("java")


def ace_command() -> list[str] | None:
    """Return the command that runs DAISY Ace: $BOOKBUILD_ACE, else `ace` on PATH."""
    if chosen := os.environ.get("BOOKBUILD_ACE", "").strip():
        return [chosen] if Path(chosen).is_file() else None
    found = shutil.which("ace")
    return [found] if found else None


def chromium() -> str | None:
    """Return the Chromium that Ace should drive, if there is one."""
    if chosen := os.environ.get("PUPPETEER_EXECUTABLE_PATH"):
        return chosen
    return next(
        (
            found
            for n in ("chromium", "chromium-browser", "google-chrome")
            if (found := shutil.which(n))
        ),
        None,
    )


CHECKS = (
    Check(key="pango", what="Pango (WeasyPrint's text layout)", required=True, found=_pango),
    Check(
        key="harfbuzz-subset",
        what="HarfBuzz subsetting (fast font embedding; without it fonts embed slowly)",
        required=False,
        found=_library("harfbuzz-subset"),
    ),
    Check(
        key="fallback-font",
        what="DejaVu Sans, the fallback font for scripts the theme's fonts lack",
        required=True,
        found=_font,
    ),
    Check(
        key="cjk-fonts",
        what="Noto CJK, the fonts for Chinese, Japanese and Korean text (else BB711)",
        required=False,
        found=_cjk_fonts,
    ),
    Check(key="java", what="Java, for EPUBCheck in `build --verify`", required=True, found=_java),
    Check(
        key="ace",
        what="DAISY Ace and Chromium, for the EPUB accessibility check in `build --verify`",
        required=False,
        found=lambda: cmd[0] if (cmd := ace_command()) and chromium() else None,
    ),
)


def doctor(stream: TextIO, system: str | None = None) -> int:
    """Report each requirement; return 1 if a required one is missing."""
    system = system or current_platform()
    missing_required = False
    for check in CHECKS:
        where = check.found()
        if where:
            stream.write(f"ok       {check.what}: {where}\n")
            continue
        missing_required = missing_required or check.required
        label = "MISSING " if check.required else "optional"
        stream.write(f"{label} {check.what}\n         install: {INSTALL[check.key][system]}\n")
    for module, extra in (("page", "page-validation"), ("outloud", "outloud")):
        try:
            __import__(module)
            stream.write(f"ok       {extra}, a PDF validator for `build --verify`\n")
        except ImportError:
            stream.write(
                f"optional {extra}, a PDF validator for `build --verify`\n"
                "         install: pip install 'bookbuild[verify]'\n"
            )
    return 1 if missing_required else 0
