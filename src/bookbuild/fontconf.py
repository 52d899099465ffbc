"""A private fontconfig configuration that knows only the book's fonts, for WeasyPrint's Pango.

WeasyPrint loads fontconfig's configuration (FcInitLoadConfigAndFonts) each time it starts a
layout, and fontconfig reads $FONTCONFIG_FILE then. Set for that moment to a file that lists
only bookbuild's fonts and maps every generic family to them, nothing the machine has can
reach the PDF: not for SVG text, not for code, not for a character the named fonts lack.
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bookbuild.cache import cache_dir
from bookbuild.fontset import FontSet

SERIF, SANS, MONO = "Source Serif 4", "Source Sans 3", "Source Code Pro"
# The theme's @font-face names, and the generic family each one stands for.
THEME_FAMILIES = {"BB Serif": "serif", "BB Sans": "sans-serif", "BB Mono": "monospace"}
# CSS generic and system names, mapped to the generic family fontconfig resolves them to.
GENERIC = {
    "serif": SERIF,
    "sans-serif": SANS,
    "monospace": MONO,
}
ALIASES = {
    "system-ui": "sans-serif",
    "ui-sans-serif": "sans-serif",
    "ui-serif": "serif",
    "ui-monospace": "monospace",
    "ui-rounded": "sans-serif",
    "cursive": "serif",
    "fantasy": "serif",
    "math": "serif",
    "emoji": "sans-serif",
    "fangsong": "serif",
    "sans": "sans-serif",
    "mono": "monospace",
}
# After the theme's fonts, DejaVu Sans (Arabic, Hebrew, Georgian, Armenian, symbols): as the
# theme's "BB Fallback" where the theme declares it, so the PDF names it as the theme does,
# else as itself. Then the scripts DejaVu lacks. DejaVu comes before Noto Sans Arabic because
# Noto builds its letters from shared dotless skeletons and dots: WeasyPrint 70 gives a glyph
# one Unicode mapping, so a skeleton shared by several letters extracts as the wrong letter
# (MAPPING-001 in page-validation). Noto Sans Arabic is left for what DejaVu lacks.
FIRST_FALLBACKS = ("BB Fallback", "DejaVu Sans")
SCRIPT_FALLBACKS = ("Noto Sans Arabic", "Noto Sans Devanagari", "Noto Sans Thai")
# The CJK face for each language tag Pango may give (lower case), by the CJK collection's
# suffix. Han characters differ in form between them, so the text's language chooses.
CJK_BY_LANG = {
    "ja": "JP", "ja-jp": "JP",
    "ko": "KR", "ko-kr": "KR",
    "zh-cn": "SC", "zh-sg": "SC", "zh-hans": "SC", "zh-hans-cn": "SC",
    "zh-tw": "TC", "zh-hant": "TC", "zh-hant-tw": "TC", "zh-mo": "TC",
    "zh-hk": "HK", "zh-hant-hk": "HK",
}  # fmt: skip
CJK_FAMILY = {
    "serif": "Noto Serif CJK",
    "sans-serif": "Noto Sans CJK",
    "monospace": "Noto Sans Mono CJK",
}


def cjk_variant(language: str) -> str:
    """Return the CJK face (SC, TC, HK, JP, KR) for text in a language that names none."""
    tag = language.lower()
    parts = tag.split("-")
    if tag in CJK_BY_LANG:
        return CJK_BY_LANG[tag]
    if parts[0] == "zh" and ("hant" in parts or {"tw", "mo"} & set(parts)):
        return "HK" if "hk" in parts else "TC"
    if parts[0] == "zh" and "hk" in parts:
        return "HK"
    return CJK_BY_LANG.get(parts[0], "SC")


def escape(text: str) -> str:
    """Return text with &, < and > escaped, as xml.sax.saxutils would (it imports urllib)."""
    return html.escape(text, quote=False)


def render_fonts_conf(fonts_dir: Path, cache: Path, language: str) -> str:
    """Return the fonts.conf text: one folder of fonts, a private cache, and the families."""
    rules = [
        f"<dir>{escape(str(fonts_dir))}</dir>",
        f"<cachedir>{escape(str(cache))}</cachedir>",
        "<config><rescan><int>0</int></rescan></config>",
    ]
    # The theme's families, then any family that is not one of ours, lead to a generic family.
    for theme, generic in THEME_FAMILIES.items():
        rules.append(_after(theme, (generic,)))
    rules.append(
        '<match target="pattern"><edit name="family" mode="append_last">'
        "<string>serif</string></edit></match>"
    )
    for name, generic in ALIASES.items():
        rules.append(_after(name, (generic,)))
    default = cjk_variant(language)
    # A CJK book tries its CJK face first (for the symbols and punctuation it shares with the
    # other fonts); any other book last, so an arrow never brings a CJK font into its PDF.
    cjk_first = language.lower().split("-")[0] in ("zh", "ja", "ko")
    for generic, first in GENERIC.items():
        rules.append(_before(generic, (first,)))
        cjk = (f"{CJK_FAMILY[generic]} {default}",)
        others = (*FIRST_FALLBACKS, *SCRIPT_FALLBACKS)
        rules.append(_after(generic, cjk + others if cjk_first else others + cjk))
    # A text's own language picks its CJK face, ahead of the book's language's (each rule
    # inserts just after the generic name, so ahead of what the rules above put there).
    for tag, variant in CJK_BY_LANG.items():
        for generic, family in CJK_FAMILY.items():
            rules.append(_after(generic, (f"{family} {variant}",), lang=tag))
    body = "\n  ".join(rules)
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<!-- Written by bookbuild: only the book's own fonts. -->\n<fontconfig>\n  {body}\n"
        "</fontconfig>\n"
    )


def _after(family: str, add: tuple[str, ...], *, lang: str | None = None) -> str:
    """Return a rule that puts `add` just after `family` in a pattern that asks for it."""
    return _edit(family, add, "append", lang)


def _before(family: str, add: tuple[str, ...]) -> str:
    """Return a rule that puts `add` just before `family` in a pattern that asks for it."""
    return _edit(family, add, "prepend", None)


def _edit(family: str, add: tuple[str, ...], mode: str, lang: str | None) -> str:
    test = f'<test name="lang" compare="eq"><string>{lang}</string></test>' if lang else ""
    values = "".join(f"<string>{escape(name)}</string>" for name in add)
    return (
        f'<match target="pattern">{test}<test name="family"><string>{escape(family)}</string>'
        f'</test><edit name="family" mode="{mode}" binding="strong">{values}</edit></match>'
    )


def write_fontconfig(fonts: FontSet, language: str) -> Path:
    """Write the folder of the book's fonts and its fonts.conf; return the fonts.conf."""
    files = sorted(set(fonts.all_files))
    key = hashlib.sha256("\0".join(map(str, [language, *files])).encode()).hexdigest()[:24]
    try:
        return _write_into(cache_dir() / "fontconfig" / key, files, language)
    except OSError:  # a cache that cannot be written: a private temporary folder instead
        return _write_into(Path(tempfile.mkdtemp(prefix="bookbuild-fonts-")), files, language)


def _write_into(folder: Path, files: list[Path], language: str) -> Path:
    fonts_dir = folder / "fonts"
    fonts_dir.mkdir(parents=True, exist_ok=True)
    # Links named by position keep fontconfig's scan order (it sorts by name) the same
    # on every machine, whatever the files' own folders are called.
    wanted = {f"{n:02d}-{path.name}": path for n, path in enumerate(files)}
    for stale in set(os.listdir(fonts_dir)) - set(wanted):
        (fonts_dir / stale).unlink()
    for name, path in wanted.items():
        link = fonts_dir / name
        if not link.is_symlink() or Path(os.readlink(link)) != path:
            link.unlink(missing_ok=True)
            link.symlink_to(path)
    conf = folder / "fonts.conf"
    text = render_fonts_conf(fonts_dir, folder / "cache", language)
    if not conf.is_file() or conf.read_text(encoding="utf-8") != text:
        temp = folder / f".fonts.conf.{os.getpid()}"
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, conf)
    return conf


# fontconfig reads these when it loads a configuration; each would let the machine back in.
_MACHINE_VARIABLES = ("FONTCONFIG_PATH", "FONTCONFIG_SYSROOT", "FC_LANG")


@contextmanager
def private_fontconfig(conf: Path) -> Iterator[None]:
    """Make fontconfig load `conf`, and nothing of the machine's, while the block runs."""
    saved = {name: os.environ.get(name) for name in ("FONTCONFIG_FILE", *_MACHINE_VARIABLES)}
    os.environ["FONTCONFIG_FILE"] = str(conf)
    for name in _MACHINE_VARIABLES:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
