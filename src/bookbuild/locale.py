"""The text bookbuild writes itself, in the book's language: labels, counts and sentences.

Each theme holds one YAML catalog per language in `locales/` (en.yaml, sq.yaml, ...). A catalog
is plain YAML rather than gettext because it lives with the templates, needs no compile step,
and names plural forms by their CLDR categories (`one`, `few`, `many`, ...), which Babel
chooses for a count, plus `none` for 0, which gettext has no form for. English is complete;
any string another catalog lacks is the English one, with a warning. Diagnostics stay English.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import babel
import babel.numbers
from markupsafe import Markup, escape

from bookbuild.assets import default_styles_dir
from bookbuild.errors import Diagnostic, ManuscriptError, OutputError, error, warning
from bookbuild.model import SourceLocation
from bookbuild.yamlsrc import YamlDoc, key_nodes, parse_yaml

CATEGORIES = ("none", "zero", "one", "two", "few", "many", "other")
Entry = str | Mapping[str, str]


# CLDR's quotation marks (outer open, outer close, inner open, inner close): Babel keeps
# CLDR's `delimiters` out of its data, so the languages with catalogs and their neighbours
# are listed here. French spaces its guillemets with a narrow no-break space.
QUOTES: Final = {
    "en": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "zh": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "de": ("\u201e", "\u201c", "\u201a", "\u2018"),
    "sq": ("\u201e", "\u201c", "\u2018", "\u2019"),
    "cs": ("\u201e", "\u201c", "\u201a", "\u2018"),
    "pl": ("\u201e", "\u201d", "\u00ab", "\u00bb"),
    "ru": ("\u00ab", "\u00bb", "\u201e", "\u201c"),
    "uk": ("\u00ab", "\u00bb", "\u201e", "\u201c"),
    "fr": ("\u00ab\u202f", "\u202f\u00bb", "\u201c", "\u201d"),
    "es": ("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "it": ("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "ar": ("\u201d", "\u201c", "\u2019", "\u2018"),
    "fa": ("\u00ab", "\u00bb", "\u2039", "\u203a"),
    "he": ("\u201d", "\u201d", "\u2019", "\u2019"),
    "ja": ("\u300c", "\u300d", "\u300e", "\u300f"),
}


def quotes_for(language: str) -> tuple[str, str, str, str]:
    """Return the quotation marks of a BCP 47 language (English ones for an unlisted one)."""
    return QUOTES.get(language.split("-")[0].lower(), QUOTES["en"])


def text_direction(language: str) -> str:
    """Return 'rtl' for a language written right to left (CLDR's character order), else 'ltr'."""
    order = _locale(language).character_order
    return "rtl" if order == "right-to-left" else "ltr"


@dataclass(frozen=True, slots=True, kw_only=True)
class Messages:
    """The generated text of one book: its catalog over the English one."""

    language: str
    entries: Mapping[str, Entry]
    locale: babel.Locale

    def text(self, key: str, **values: object) -> Markup:
        """Return a string of the catalog with its placeholders filled (and escaped)."""
        entry = self.entries[key]
        assert isinstance(entry, str), key
        return escape(entry).format(**values)

    def count(self, key: str, n: int, **values: object) -> Markup:
        """Return the plural form of `key` for `n`, with `{n}` written the language's way."""
        entry = self.entries[key]
        assert not isinstance(entry, str), key
        form = entry.get("none") if n == 0 else None
        form = form or entry.get(self.locale.plural_form(n)) or entry["other"]
        number = babel.numbers.format_decimal(n, locale=self.locale)
        return escape(form).format(n=number, **values)

    def plain(self, key: str, **values: object) -> str:
        """Return a string of the catalog with its placeholders filled, unescaped (not markup)."""
        return self.plain_template(key).format(**values)

    def plain_template(self, key: str) -> str:
        """Return a string of the catalog with its placeholders unfilled."""
        entry = self.entries[key]
        assert isinstance(entry, str), key
        return entry

    def labels(self) -> dict[str, str]:
        """Return every single string of the catalog by key, for the templates."""
        return {key: entry for key, entry in self.entries.items() if isinstance(entry, str)}


def english_messages() -> Messages:
    """Return the bundled English messages."""
    return load_messages("en", default_styles_dir())[0]


def load_messages(
    language: str, styles: Path, where: SourceLocation | None = None
) -> tuple[Messages, tuple[Diagnostic, ...]]:
    """Return the book's messages, and a warning for each string that falls back to English.

    `where` is the book's language setting, which a missing catalog is reported at.
    """
    # A theme written before catalogs existed speaks through the bundled ones.
    folder = styles / "locales"
    folder = folder if (folder / "en.yaml").is_file() else default_styles_dir() / "locales"
    english = _entries(_read(folder / "en.yaml"), None)
    path = catalog_path(language, folder)
    if path is None:
        return _without_catalog(language, english, where)
    doc = _read(path)
    entries = _entries(doc, english)
    found = tuple(_missing(doc, entries, english, path.stem))
    merged = {key: _merge(entries.get(key), entry) for key, entry in english.items()}
    return Messages(language=path.stem, entries=merged, locale=_locale(language)), found


def _without_catalog(
    language: str, english: Mapping[str, Entry], where: SourceLocation | None
) -> tuple[Messages, tuple[Diagnostic, ...]]:
    """Return English text for a language the theme has no catalog for, warning per string.

    The dates still follow the language: CLDR has its months and orders even where the theme
    has no words, so an Italian book reads '25 maggio 1959' among English labels.
    """
    primary = language.split("-")[0].lower()
    if primary in ("en", "und", "zxx", "mul"):
        return Messages(language="en", entries=english, locale=_locale(language)), ()
    cldr = _locale(language)
    messages = Messages(
        language=primary if cldr.language == primary else "en", entries=english, locale=cldr
    )
    looked = " or ".join(_candidates(language))
    found = tuple(
        warning(
            "BB701",
            f"the theme has no message catalog for language '{language}' (no {looked}); "
            f"'{key}' is in English",
            where,
        )
        for key in english
        if key not in _CLDR_KEYS
    )
    return messages, found


# Strings that only choose a CLDR pattern ("" is the language's own): no English to warn of.
_CLDR_KEYS = frozenset({"day-pattern", "month-pattern"})


def catalog_path(language: str, folder: Path) -> Path | None:
    """Return the catalog for a BCP 47 tag: the whole tag, then shorter ones ('sq-AL', 'sq')."""
    return next((p for c in _candidates(language) if (p := folder / c).is_file()), None)


def _candidates(language: str) -> list[str]:
    parts = language.lower().split("-")
    return [f"{'-'.join(parts[:n])}.yaml" for n in range(len(parts), 0, -1)]


def _locale(language: str) -> babel.Locale:
    """Return Babel's locale for a tag, else for its language, else English."""
    for tag in (language, language.split("-")[0]):
        try:
            return babel.Locale.parse(tag, sep="-")
        except (ValueError, babel.UnknownLocaleError):
            continue
    return babel.Locale("en")


def _read(path: Path) -> YamlDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        where = SourceLocation(path=path, line=0)
        raise OutputError(
            [error("BB702", f"cannot read the message catalog: {exc}", where)]
        ) from None
    try:
        return parse_yaml(text, path)
    except ManuscriptError as exc:
        raise OutputError(
            [
                Diagnostic(
                    code="BB702", severity=d.severity, message=d.message, location=d.location
                )
                for d in exc.diagnostics
            ]
        ) from None


def _entries(doc: YamlDoc, english: Mapping[str, Entry] | None) -> dict[str, Entry]:
    """Return the catalog's entries; raise OutputError for one that cannot be used."""
    if not isinstance(doc.data, dict):
        raise OutputError(
            [error("BB702", "a message catalog is a mapping of keys to text", doc.locate(doc.node))]
        )
    nodes = key_nodes(doc.node)
    problems = [
        error("BB702", problem, doc.locate(nodes.get(str(key))))
        for key, value in doc.data.items()
        if (problem := _problem(str(key), value, english))
    ]
    if problems:
        raise OutputError(problems)
    return {
        str(k): v if isinstance(v, str) else {str(c): f for c, f in v.items()}
        for k, v in doc.data.items()
    }


def _problem(key: str, value: object, english: Mapping[str, Entry] | None) -> str | None:
    """Say what is wrong with one entry, or return None."""
    if english is not None and key not in english:
        return f"unknown message '{key}' (the keys are those of en.yaml)"
    plural = english is not None and not isinstance(english[key], str)
    if isinstance(value, str) and not plural:
        return _placeholder_problem(key, [value], english)
    if not isinstance(value, dict) or (english is not None and not plural):
        kind = "plural forms (a mapping of CLDR categories to text)" if plural else "text"
        return f"message '{key}' must be {kind}"
    if bad := [str(c) for c in value if c not in CATEGORIES]:
        return f"message '{key}' has unknown plural forms {bad}; use {', '.join(CATEGORIES)}"
    if not all(isinstance(f, str) for f in value.values()):
        return f"every plural form of '{key}' must be text"
    if "other" not in value:
        return f"message '{key}' needs an 'other' form"
    return _placeholder_problem(key, list(value.values()), english)


def _placeholder_problem(
    key: str, forms: list[str], english: Mapping[str, Entry] | None
) -> str | None:
    try:
        fields = [f for form in forms for f in string.Formatter().parse(form) if f[1] is not None]
    except ValueError as exc:
        return f"message '{key}' has a broken placeholder: {exc}"
    # A bare name only: '{n:>999999999}' or '{n!r}' would let a theme run str.format's machinery.
    if bad := [name for _, name, spec, conversion in fields if spec or conversion or not name]:
        return f"message '{key}' has a placeholder with a format or no name: {bad}"
    used = {name for _, name, _, _ in fields if name}
    if english is None:
        return None
    known = _placeholders(english[key]) | ({"n"} if not isinstance(english[key], str) else set())
    if unknown := sorted(used - known):
        return f"message '{key}' uses {', '.join('{' + u + '}' for u in unknown)}; it may use " + (
            ", ".join("{" + k + "}" for k in sorted(known)) or "no placeholders"
        )
    return None


def _placeholders(entry: Entry) -> set[str]:
    forms = [entry] if isinstance(entry, str) else list(entry.values())
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def _missing(
    doc: YamlDoc, entries: Mapping[str, Entry], english: Mapping[str, Entry], language: str
) -> list[Diagnostic]:
    """Warn once for each string (or plural form) the catalog lacks."""
    where = SourceLocation(path=doc.path, line=0)
    plural_rule = _locale(language).plural_form
    found = []
    for key, entry in english.items():
        mine = entries.get(key)
        if mine is None:
            message = f"no '{language}' translation of '{key}'; the English text is used"
            found += [] if key in _CLDR_KEYS else [warning("BB700", message, where)]
        elif not isinstance(mine, str) and not isinstance(entry, str):
            needed = set(plural_rule.rules) | {"other"}
            if lacking := sorted(needed - set(mine)):
                message = (
                    f"'{key}' in '{language}' lacks the plural forms {', '.join(lacking)}; "
                    "its 'other' form is used for them"
                )
                found.append(warning("BB700", message, where))
    return found


def _merge(mine: Entry | None, english: Entry) -> Entry:
    """Return the translation, else the English text."""
    # Plural forms are never mixed: English 'none' in a Russian count would be English text.
    return english if mine is None else mine
