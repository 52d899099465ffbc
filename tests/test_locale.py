"""Generated text in the book's language: catalogs, plural forms, fallbacks, both outputs."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pypdf
import pytest
from lxml import etree

from bookbuild.assets import default_styles_dir
from bookbuild.cli import main
from bookbuild.errors import OutputError
from bookbuild.locale import load_messages
from bookbuild.render import running_foot_css
from tests.conftest import FIXTURE

LANGUAGES = ("en", "sq", "ru", "fr", "de", "ar", "zh")
XHTML = {"x": "http://www.w3.org/1999/xhtml"}
# The fixture's English chapters may say anything; these are bookbuild's own words.
ENGLISH = (
    "Contents", "Chronology", "Glossary", "Colophon", "Page 1 of", "At a glance",
    "Generated from", "Identifier", "Edition of", "Landmarks", "Title page", "dated events",
)  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_shipped_catalogs_are_complete(language: str) -> None:
    messages, found = load_messages(language, default_styles_dir())
    assert found == ()
    assert messages.language == language


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "глоссария нет"),
        (1, "глоссарий из 1 термина"),
        (2, "глоссарий из 2 терминов"),
        (5, "глоссарий из 5 терминов"),
        (21, "глоссарий из 21 термина"),
        (1000, "глоссарий из 1 000 терминов"),
    ],
)
def test_russian_counts_take_their_cldr_plural_form(n: int, words: str) -> None:
    messages, _ = load_messages("ru-RU", default_styles_dir())
    assert messages.count("glossary-of", n).replace("\xa0", " ") == words


def test_english_counts_have_a_singular_and_a_form_for_none() -> None:
    messages, _ = load_messages("en-GB", default_styles_dir())
    assert messages.count("glossary-of", 1) == "a glossary of 1 term"
    assert messages.count("glossary-of", 2) == "a glossary of 2 terms"
    assert messages.count("chronology-of", 0) == "no dated events"
    assert messages.count("glossary-of", 0) == "no glossary"


def test_arabic_has_dual_forms() -> None:
    messages, _ = load_messages("ar", default_styles_dir())
    assert messages.count("events", 2) == "حدثان مؤرخان"
    assert messages.count("events", 3) == "3 أحداث مؤرخة"
    assert messages.count("events", 11) == "11 حدثًا مؤرخًا"


def copy_theme(tmp_path: Path) -> Path:
    theme = tmp_path / "theme"
    shutil.copytree(default_styles_dir(), theme)
    return theme


def test_a_missing_translation_is_english_with_one_warning_per_string(tmp_path: Path) -> None:
    theme = copy_theme(tmp_path)
    catalog = theme / "locales" / "sq.yaml"
    lines = catalog.read_text().splitlines()
    kept = [line for line in lines if not line.startswith(("glossary:", "landmarks:"))]
    catalog.write_text("\n".join(kept) + "\n")
    messages, found = load_messages("sq-AL", theme)
    assert [d.code for d in found] == ["BB700", "BB700"]
    assert {d.message.split("'")[3] for d in found} == {"glossary", "landmarks"}
    assert messages.labels()["glossary"] == "Glossary"
    assert messages.labels()["contents"] == "Përmbajtja"


def test_missing_plural_forms_are_warned_about(tmp_path: Path) -> None:
    theme = copy_theme(tmp_path)
    catalog = theme / "locales" / "ru.yaml"
    text = catalog.read_text().replace("  few: глоссарий из {n} терминов\n", "")
    catalog.write_text(text)
    _, found = load_messages("ru", theme)
    assert len(found) == 1
    assert "'glossary-of'" in found[0].message and "few" in found[0].message


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("contents: [Përmbajtja]", "message 'contents' must be text"),
        ('edition: "Botimi i {day}."', "message 'edition' uses {day}; it may use {date}"),
        ("colophone: Kolofoni", "unknown message 'colophone'"),
        ("glossary-of: {lots: x, other: y}", "unknown plural forms ['lots']"),
        ("eras: {one: '{n} epokë'}", "message 'eras' needs an 'other' form"),
        ('cover-alt: "{title:>999999999}"', "'cover-alt' has a placeholder with a format"),
        ('cover-alt: "{title.__class__}"', "message 'cover-alt' uses {title.__class__}"),
        ('cover-alt: "{} {title}"', "'cover-alt' has a placeholder with a format or no name"),
    ],
)
def test_a_broken_catalog_is_an_error_at_its_line(tmp_path: Path, line: str, problem: str) -> None:
    theme = copy_theme(tmp_path)
    catalog = theme / "locales" / "sq.yaml"
    catalog.write_text(catalog.read_text() + line + "\n")
    with pytest.raises(OutputError) as failure:
        load_messages("sq", theme)
    [diagnostic] = failure.value.diagnostics
    assert diagnostic.code == "BB702"
    assert problem in diagnostic.message
    assert diagnostic.location is not None and diagnostic.location.line > 1


def test_a_theme_without_catalogs_uses_the_bundled_ones(tmp_path: Path) -> None:
    theme = copy_theme(tmp_path)
    shutil.rmtree(theme / "locales")
    messages, found = load_messages("de", theme)
    assert found == () and messages.labels()["contents"] == "Inhalt"


def test_running_foot_is_css_whatever_the_catalog_says(tmp_path: Path) -> None:
    theme = copy_theme(tmp_path)
    catalog = theme / "locales" / "de.yaml"
    hostile = "'S. \"{page}\" </style> {pages}'"
    text = catalog.read_text().replace('"Seite {page} von {pages}"', hostile)
    catalog.write_text(text)
    css = running_foot_css(load_messages("de", theme)[0])
    assert css == '"S. \\22 " counter(page) "\\22  \\3c \\2f style\\3e  " counter(pages)'


def build_in(language: str, tmp_path: Path) -> tuple[list[str], dict[str, etree._Element]]:
    """Build the fixture in another language; return PDF page texts and EPUB documents."""
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    meta = book / "book.yaml"
    meta.write_text(meta.read_text().replace("language: en", f"language: {language}"))
    err = io.StringIO()
    argv = ["build", str(book), "--out", str(tmp_path / "out")]
    code = main(argv, stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    assert "BB70" not in err.getvalue()
    [pdf] = (tmp_path / "out").glob("*.pdf")
    texts = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(pdf).pages]
    [epub] = (tmp_path / "out").glob("*.epub")
    with zipfile.ZipFile(epub) as archive:
        docs = {
            Path(n).name: etree.fromstring(archive.read(n))
            for n in archive.namelist()
            if n.endswith(".xhtml")
        }
    return texts, docs


@pytest.mark.parametrize(
    ("language", "edition"), [("sq-AL", "1 mars 2024"), ("ru", "1 марта 2024")]
)
def test_both_editions_label_the_book_in_its_language(
    language: str, edition: str, tmp_path: Path
) -> None:
    texts, docs = build_in(language, tmp_path)
    assert edition in texts[0]  # the book's date, on the title page
    assert edition in " ".join(docs["title.xhtml"].itertext())
    labels = load_messages(language, default_styles_dir())[0].labels()
    pdf = " ".join(texts).casefold()  # the theme sets some labels in capitals
    for key in ("contents", "chronology", "glossary", "colophon", "at-a-glance", "column-date"):
        assert labels[key].casefold() in pdf, key
    running_foot = labels["running-foot"].format(page=3, pages=len(texts))
    assert running_foot in texts[2]
    # Table cells carry soft hyphens in the EPUB; a reader shows none unless it breaks there.
    epub = " ".join(" ".join(d.itertext()) for d in docs.values()).replace("\u00ad", "")
    for key in ("contents", "landmarks", "title-page", "start-of-content", "column-event"):
        assert labels[key] in epub, key
    colophon = " ".join(" ".join(docs["colophon.xhtml"].itertext()).split())
    assert "2" in colophon and labels["colophon"] in colophon
    for english in ENGLISH:
        assert english.casefold() not in pdf and english not in epub, english
    cover = docs["cover.xhtml"].xpath("//x:img/@alt", namespaces=XHTML)[0]
    assert cover.startswith(labels["cover-alt"].split("{")[0])


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "\u201cso \u2018it\u2019 is\u201d"),
        ("de", "\u201eso \u201ait\u2018 is\u201c"),
        ("sq-AL", "\u201eso \u2018it\u2019 is\u201c"),
        ("ru", "\u00abso \u201eit\u201c is\u00bb"),
        ("fr", "\u00ab\u202fso \u201cit\u201d is\u202f\u00bb"),
        ("kl", "\u201cso \u2018it\u2019 is\u201d"),
    ],
)
def test_straight_quotes_curl_the_way_of_the_book_language(language: str, expected: str) -> None:
    from bookbuild.markup import create_parser

    assert create_parser(language).render("\"so 'it' is\"") == f"<p>{expected}</p>\n"


def test_a_german_book_prints_german_quotes(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    meta = book / "book.yaml"
    meta.write_text(meta.read_text().replace("language: en", "language: de"))
    chapter = sorted((book / "chapters").glob("*.md"))[-1]
    chapter.write_text(chapter.read_text() + '\nThey called it "the white road".\n')
    out = tmp_path / "out"
    assert main(["build", str(book), "--out", str(out), "--format", "epub"]) == 0
    [epub] = out.glob("*.epub")
    with zipfile.ZipFile(epub) as archive:
        text = " ".join(archive.read(n).decode() for n in archive.namelist() if n.endswith("xhtml"))
    assert "\u201ethe white road\u201c" in text
