"""Books in Albanian, Russian, Arabic and Chinese: no English in what bookbuild writes itself.

Each manuscript in tests/data/locales was written for the tests in its language. Both editions
are read back the way a reader's software reads them, and every word bookbuild could have
written in English (the words of en.yaml, English months and seasons) is looked for.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from lxml import etree

from bookbuild.cli import main
from bookbuild.dates import MONTHS
from tests.localebooks import (
    LOCALES,
    X,
    build_locale_book,
    catalog_words,
    epub_documents,
    epub_text,
    manuscript_words,
    pdf_texts,
    words,
)
from tests.pdftags import outloud_report, page_report
from tests.validators import run_ace, run_epubcheck

# Book (folder), and its catalog.
BOOKS = {"sq": "sq", "ru": "ru", "ar": "ar", "zh": "zh"}
ENGLISH = (
    catalog_words("en")
    | words(" ".join(MONTHS))
    | {"spring", "summer", "autumn", "winter", "bce", "ce", "bc", "ad", "onwards", "present"}
)


def pdf_reader_text(pdf: Path) -> str:
    """Return the PDF's page text, its bookmarks and its document information."""
    reader = pypdf.PdfReader(pdf)
    outline = []
    stack = list(reader.outline)
    while stack:
        item = stack.pop()
        stack += item if isinstance(item, list) else []
        outline += [] if isinstance(item, list) else [str(item.title)]
    info = [str(v) for v in (reader.metadata or {}).values()]
    return " ".join([*pdf_texts(pdf), *outline, *info])


@pytest.mark.parametrize("name", ["sq", "ru", "ar"])
def test_no_english_in_either_edition(name: str) -> None:
    built = build_locale_book(name)
    native = catalog_words(BOOKS[name]) | manuscript_words(name)
    suspects = ENGLISH - native
    assert "contents" in suspects and "page" in suspects and "of" in suspects
    assert words(epub_text(built.epub)) & suspects == set()
    assert words(pdf_reader_text(built.pdf)) & suspects == set()
    assert built.stderr == ""


def test_no_english_in_the_chinese_epub() -> None:
    built = build_locale_book("zh")
    suspects = ENGLISH - catalog_words("zh") - manuscript_words("zh")
    assert words(epub_text(built.epub)) & suspects == set()
    # Until the book's own CJK font lands, the PDF's only complaint is the missing glyphs.
    assert set(re.findall(r"\[(BB\d+)\]", built.stderr)) <= {"BB903"}


def test_the_chinese_book_speaks_chinese() -> None:
    docs = epub_documents(build_locale_book("zh").epub)
    assert docs["nav.xhtml"].findtext(f".//{X}h1") == "目录"
    chronology = docs["chronology.xhtml"]
    heads = ["".join(th.itertext()).replace("\u00ad", "") for th in chronology.iter(f"{X}th")]
    assert heads == ["日期", "事件"]
    dates = [td.text for td in chronology.iter(f"{X}td") if td.get("class") == "chrono-date"]
    assert dates == ["1203年5月25日", "约1230年", "1324年秋季"]
    # Pinyin order, CLDR's for Chinese: dian, ma, zhuan (code points would put 砖 before 马).
    terms = ["".join(dt.itertext()).split()[0] for dt in docs["glossary.xhtml"].iter(f"{X}dt")]
    assert terms == ["店铺", "马帮", "砖茶"]
    colophon = " ".join(docs["colophon.xhtml"].itertext())
    assert "收录 3 个纪年事件的年表" in colophon
    assert docs["title.xhtml"].xpath("string(//x:p[@class='book-date'])", namespaces={"x": X[1:-1]})
    assert "2024年3月1日" in " ".join(docs["title.xhtml"].itertext())


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_epubcheck_and_ace_pass(name: str, tmp_path: Path) -> None:
    epub = build_locale_book(name).epub
    code, report = run_epubcheck(epub)
    assert code == 0, report
    code, violations = run_ace(epub, tmp_path)
    assert violations == [] and code == 0


@pytest.mark.parametrize("name", ["sq", "ru", "ar"])
def test_page_and_outloud_pass(name: str) -> None:
    pdf = build_locale_book(name).pdf
    assert page_report(pdf, "ua1") == (True, [])
    result = outloud_report(pdf)
    findings = [(f["rule"], f["message"]) for f in result["findings"] if f["severity"] != "info"]
    assert findings == []


# ---------------------------------------------------------------------------------------------
# Right to left, with left-to-right phrases inside.


def test_a_latin_value_in_arabic_text_is_isolated_in_both_editions() -> None:
    built = build_locale_book("ar")
    docs = epub_documents(built.epub)
    colophon = docs["colophon.xhtml"]
    isolated = ["".join(b.itertext()) for b in colophon.iter(f"{X}bdi")]
    assert "urn:uuid:5d0c2f6e-7a41-4e2b-9c3d-8f1a2b3c4d5e" in isolated
    with pdfplumber.open(built.pdf) as pdf:
        # The colophon's page: the index, when the book has one, comes after it.
        words_of = [p.extract_words() for p in pdf.pages]
        page_words = next(ws for ws in words_of if any("urn:uuid" in w["text"] for w in ws))
        found = [w for w in page_words if "urn:uuid" in w["text"]]
        label = [w for w in page_words if "فرّ" in w["text"] or "عملا" in w["text"]]
    [identifier] = found
    # The sentence's full stop sits at the identifier's left, where an Arabic sentence ends;
    # without isolation the identifier takes it to its right, inside the Latin run.
    assert identifier["text"].startswith(".") and not identifier["text"].endswith(".")
    assert label and min(w["x0"] for w in label) > identifier["x1"]  # the label reads first


def test_code_and_marked_phrases_stay_left_to_right_in_arabic() -> None:
    docs = epub_documents(build_locale_book("ar").epub)
    market = next(d for name, d in docs.items() if name.startswith("market"))
    [code] = market.iter(f"{X}code")
    assert code.get("dir") == "ltr" and code.text == "caravan-1324"
    spans = [s for s in market.iter(f"{X}span") if s.get("lang") == "en"]
    assert [(s.text, s.get("dir")) for s in spans] == [("Ibn Battuta", "ltr")]


def test_the_arabic_timeline_runs_right_to_left() -> None:
    svg = epub_documents(build_locale_book("ar").epub)["timeline.svg"]
    labels = [
        (float(t.get("x")), t.text)
        for t in svg.iter("{http://www.w3.org/2000/svg}text")
        if t.text and t.text.isdigit() and len(t.text) == 4
    ]
    by_year = sorted(labels, key=lambda label: int(label[1]))
    assert len(by_year) >= 2
    assert [x for x, _ in by_year] == sorted((x for x, _ in by_year), reverse=True)


def test_arabic_headings_and_notes_set_from_the_right() -> None:
    with pdfplumber.open(build_locale_book("ar").pdf) as pdf:
        page = next(p for p in pdf.pages if "قيرطلا" in (p.extract_text() or ""))
        title = [w for w in page.extract_words() if w["top"] < page.height / 3]
    assert title and max(w["x1"] for w in title) > page.width * 0.8


# ---------------------------------------------------------------------------------------------
# A language with no catalog.


@pytest.mark.parametrize(
    ("language", "day", "month"),
    [("it", "25 maggio 1203", "agosto 1324"), ("pt-BR", "25 de maio de 1203", "agosto de 1324")],
)
def test_a_language_without_a_catalog_builds_in_english_with_its_own_dates(
    language: str, day: str, month: str, tmp_path: Path
) -> None:
    book = tmp_path / "book"
    shutil.copytree(LOCALES / "sq", book)
    meta = book / "book.yaml"
    meta.write_text(meta.read_text().replace("language: sq-AL", f"language: {language}"))
    err = io.StringIO()
    argv = ["build", str(book), "--out", str(tmp_path / "out"), "--format", "epub"]
    assert main(argv, stdout=io.StringIO(), stderr=err) == 0
    warnings = err.getvalue().splitlines()
    strings = [re.search(r"; '([\w-]+)' is in English \[BB701\]$", w) for w in warnings]
    assert all(strings) and len(warnings) > 20
    named = [m[1] for m in strings if m]
    assert len(named) == len(set(named)) and {"contents", "running-foot"} <= set(named)
    assert all(w.startswith(f"{meta}:3:") for w in warnings)  # at the language line
    [epub] = (tmp_path / "out").glob("*.epub")
    docs = epub_documents(epub)
    assert docs["nav.xhtml"].findtext(f".//{X}h1") == "Contents"
    chronology = docs["chronology.xhtml"]
    dates = [
        "".join(td.itertext()).replace("\u00ad", "")  # the EPUB's table cells hyphenate softly
        for td in chronology.iter(f"{X}td")
        if td.get("class") == "chrono-date"
    ]
    assert dates[0] == day and dates[-1] == month


# ---------------------------------------------------------------------------------------------
# The parts of the book that main added since: notes and a bibliography.


def test_notes_and_bibliography_headings_follow_the_language(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(LOCALES / "ru", book)
    (book / "refs.json").write_text(
        '[{"id": "ivanov", "type": "book", "title": "Соляные пути",'
        ' "author": [{"family": "Иванов", "given": "Иван"}, {"family": "Петров", "given": "Пётр"}],'
        ' "issued": {"date-parts": [[1990]]}}]'
    )
    meta = book / "book.yaml"
    meta.write_text(meta.read_text() + "bibliography: refs.json\nnotes: book-end\n")
    chapter = next((book / "chapters").glob("02-*.md"))
    more = "\nТак пишет [@ivanov, 12], и @ivanov согласны.\n"  # noqa: RUF001
    chapter.write_text(chapter.read_text() + more)
    err = io.StringIO()
    argv = ["build", str(book), "--out", str(tmp_path / "out")]
    assert main(argv, stdout=io.StringIO(), stderr=err) == 0, err.getvalue()
    [epub] = (tmp_path / "out").glob("*.epub")
    docs = epub_documents(epub)
    heads = {
        name: " ".join("".join(h1.itertext()).split()).replace("\u00ad", "")
        for name, d in docs.items()
        if name.endswith(".xhtml")
        for h1 in d.iter(f"{X}h1")
    }
    assert heads["notes.xhtml"] == "Примечания"
    assert "Библиография" in heads.values()
    nav = " ".join(docs["nav.xhtml"].itertext())
    assert "Библиография" in nav and "Bibliography" not in nav
    references = docs["bibliography.xhtml"].find(f".//{X}section[@role='doc-bibliography']")
    assert references is not None and references.get("aria-label") == "Библиография"
    market = " ".join(" ".join(docs["rynok.xhtml"].itertext()).split())
    assert "Иванов и Петров" in market  # the CSL locale's "and"
    [pdf] = (tmp_path / "out").glob("*.pdf")
    text = " ".join(pdf_texts(pdf))
    assert "Примечания" in text and "Библиография" in text and "Notes" not in text


def test_the_print_html_of_the_chinese_book_is_labelled_in_chinese(tmp_path: Path) -> None:
    argv = ["build", str(LOCALES / "zh"), "--out", str(tmp_path), "--format", "html"]
    assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    [page] = (tmp_path / "html").glob("*.html")
    root = etree.parse(str(page), etree.HTMLParser()).getroot()
    assert root.xpath("string(//h2[@class='toc-title'])") == "目录"
    style = " ".join(root.xpath("//style/text()"))
    assert '"第 " counter(page)' in style  # the running foot, 第 3 页 of the catalog
    dates = root.xpath("//td[@class='chrono-date']//text()")
    assert "1203年5月25日" in dates
