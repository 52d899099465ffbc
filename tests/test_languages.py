"""Albanian and Russian books, written for the tests, read back in their own language."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pypdf
import pytest
from lxml import etree

from bookbuild.cli import main
from tests.validators import run_epubcheck

LOCALES = Path(__file__).parent / "data" / "locales"
X = "{http://www.w3.org/1999/xhtml}"
# language: (contents, running foot of page 2, chronology dates, glossary order, quoted phrase)
BOOKS = {
    "sq": (
        "Përmbajtja",
        "Faqja 2 nga",
        ["25 maj 1203", "rreth\u00a01230", "gusht 1324"],
        ["çarshi", "dyqan", "kripë guri"],
        "\u201erruga e bardhë\u201c",
    ),
    "ru": (
        "Содержание",
        "Страница 2 из",
        ["25 мая 1203", "ок.\u00a01230", "август 1324"],
        ["единорог", "ёмкость", "каменная соль"],
        "\u00abбелый путь\u00bb",  # noqa: RUF001
    ),
}


@pytest.fixture(scope="module", params=sorted(BOOKS))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    language = request.param
    out = tmp_path_factory.mktemp(language) / "dist"
    err = io.StringIO()
    argv = ["build", str(LOCALES / language), "--out", str(out)]
    assert main(argv, stdout=io.StringIO(), stderr=err) == 0, err.getvalue()
    assert err.getvalue() == ""
    return (
        language,
        next(out.glob("*.pdf")),
        next(out.glob("*.epub")),
    )


def test_the_epub_is_in_the_book_language(built: tuple) -> None:
    language, _, epub = built
    contents, _, dates, terms, quoted = BOOKS[language]
    with zipfile.ZipFile(epub) as archive:
        docs = {
            Path(n).name: etree.fromstring(archive.read(n))
            for n in archive.namelist()
            if n.endswith(".xhtml")
        }
    assert docs["nav.xhtml"].findtext(f".//{X}h1") == contents
    chrono = docs["chronology.xhtml"]
    assert [td.text for td in chrono.iter(f"{X}td") if td.get("class") == "chrono-date"] == dates
    glossary = [
        "".join(dt.itertext()).split(" ")[0] for dt in docs["glossary.xhtml"].iter(f"{X}dt")
    ]
    assert [" ".join(t.split()) for t in glossary] == [t.split(" ")[0] for t in terms]
    assert quoted in " ".join(" ".join(d.itertext()) for d in docs.values())
    assert all(d.get("dir") is None for d in docs.values())  # left to right: no dir at all


def test_the_pdf_is_in_the_book_language(built: tuple) -> None:
    language, pdf, _ = built
    contents, foot, dates, _, _ = BOOKS[language]
    texts = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(pdf).pages]
    assert contents.casefold() in texts[1].casefold()
    assert foot in texts[1]
    whole = " ".join(texts).replace("\u00a0", " ")
    assert all(d.replace("\u00a0", " ") in whole for d in dates)


def test_the_epub_passes_epubcheck(built: tuple) -> None:
    code, report = run_epubcheck(built[2])
    assert code == 0, report
