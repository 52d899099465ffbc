"""Figures, tables, cross-references and page references, read back from both editions.

The cited book's second chapter has figures, tables, `@fig-`/`@tbl-`/`@sec-` references and
page references; book.yaml asks for lists of figures and tables. Page numbers are checked
against where pdfplumber finds each target's text in the PDF, not against the layout's own
page map, and in the EPUB against the page-break markers that carry the PDF's pages.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree
from pypdf import PdfReader

from bookbuild.pipeline import BuildResult, build
from bookbuild.xref import is_xref_key
from tests.conftest import DATA, output
from tests.pdftags import outloud_report, page_report
from tests.validators import run_ace, run_epubcheck

CITED = DATA / "cited"
X = "{http://www.w3.org/1999/xhtml}"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
OPF = {"opf": "http://www.idpf.org/2007/opf"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# What each page reference's target starts with, as the PDF prints it.
TARGET_TEXT = {
    "fig-routes": "Figure 1: Routes between the three capitals",
    "tbl-delegations": "Table 2: Delegations between Tirana and Beijing",
    "split": "The Split",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(CITED, tmp_path_factory.mktemp("xref") / "dist", ("pdf", "epub"))


def plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u2010", "-").split())


@pytest.fixture(scope="module")
def pdf_pages(built: BuildResult) -> list[str]:
    with pdfplumber.open(output(built, ".pdf")) as pdf:
        return [plain(p.extract_text() or "") for p in pdf.pages]


def first_page_with(pages: list[str], text: str, skip: tuple[int, ...] = ()) -> int:
    """Return the 1-based page whose text holds `text`, outside the pages in `skip`."""
    found = [n for n, page in enumerate(pages, start=1) if text in page and n not in skip]
    assert found, text
    return found[0]


def pdf_links(path: Path) -> Iterator[tuple[int, str, str]]:
    """Yield each link annotation's page, its /Contents text and its named destination."""
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            for annot in page.obj.get("/Annots") or []:
                if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                    yield number, plain(str(annot.get("/Contents", ""))), str(annot["/Dest"])


def spine(epub: Path) -> list[tuple[str, etree._Element]]:
    """Return the EPUB's content documents in reading order."""
    with zipfile.ZipFile(epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:manifest/opf:item", OPF)}
        order = [r.get("idref") for r in opf.iterfind(".//opf:spine/opf:itemref", OPF)]
        return [(hrefs[i], etree.fromstring(z.read(f"EPUB/{hrefs[i]}"))) for i in order]


def epub_pages_by_id(documents: list[tuple[str, etree._Element]]) -> dict[str, int | None]:
    """Return the print page each id's first text falls on, by the EPUB's page-break markers."""
    pages: dict[str, int | None] = {}
    current: list[int | None] = [None]
    pending: list[str] = []

    def settle() -> None:
        for ident in pending:
            pages.setdefault(ident, current[0])
        pending.clear()

    def walk(element: etree._Element) -> None:
        if element.get(EPUB_TYPE) == "pagebreak":
            current[0] = int(element.get("aria-label"))
            return
        if element.get("id"):
            pending.append(element.get("id"))
        if (element.text or "").strip():
            settle()
        for child in element:
            walk(child)
            if (child.tail or "").strip():
                settle()

    for _, root in documents:
        walk(root)
    return pages


def text(element: etree._Element) -> str:
    return plain("".join(element.itertext()))


def test_xref_prefixes_are_quartos() -> None:
    assert is_xref_key("fig-map") and is_xref_key("tbl-loans") and is_xref_key("sec-rift")
    assert not is_xref_key("figes1999") and not is_xref_key("doe99")


def test_every_pdf_page_reference_is_the_page_its_target_starts_on(
    built: BuildResult, pdf_pages: list[str]
) -> None:
    refs = [
        (page, contents, dest)
        for page, contents, dest in pdf_links(output(built, ".pdf"))
        if re.search(r"p\. \d+\)?$", contents)
    ]
    assert {dest for _, _, dest in refs} == set(TARGET_TEXT)
    reader = PdfReader(output(built, ".pdf"))
    named = reader.named_destinations
    for _, contents, dest in refs:
        number = int(re.search(r"p\. (\d+)", contents)[1])  # type: ignore[index]
        assert first_page_with(pdf_pages, TARGET_TEXT[dest], skip=(2, 3, 4)) == number, contents
        # The link goes to that page too.
        assert reader.get_destination_page_number(named[dest]) + 1 == number
    # Each is a link with its words: the page alone, or the author's text and the page.
    assert sum(bool(re.fullmatch(r"p\. \d+", c)) for _, c, _ in refs) >= 2
    assert any(c.startswith("the second table (p. ") for _, c, _ in refs)


def test_every_epub_page_reference_is_the_pdf_page_and_links_to_the_passage(
    built: BuildResult, pdf_pages: list[str]
) -> None:
    documents = spine(output(built, ".epub"))
    by_id = epub_pages_by_id(documents)
    chapter = dict(documents)["evidence.xhtml"]
    refs = chapter.xpath("//x:a[contains(@class, 'page-ref')]", namespaces=NS)
    assert len(refs) == 3
    for ref in refs:
        target = ref.get("href").partition("#")[2]
        number = int(re.search(r"p\. (\d+)", text(ref))[1])  # type: ignore[index]
        assert by_id[target] == number
        assert first_page_with(pdf_pages, TARGET_TEXT[target], skip=(2, 3, 4)) == number
    assert [text(r) for r in refs][1].startswith("the second table (p. ")


def test_figure_and_table_numbers_are_in_document_order(
    built: BuildResult, pdf_pages: list[str]
) -> None:
    documents = spine(output(built, ".epub"))
    for kind, count in (("figure", 3), ("table", 2)):
        numbers = [
            text(n)
            for _, root in documents
            for n in root.iterfind(f".//{X}span[@class='{kind}-number']")
        ]
        assert numbers == [f"{kind.title()} {n}" for n in range(1, count + 1)]
        in_print = re.findall(rf"{kind.title()} (\d+): ", " ".join(pdf_pages))
        assert in_print == [str(n) for n in range(1, count + 1)]


def test_a_figure_is_a_figure_with_its_caption_and_alt_text(built: BuildResult) -> None:
    chapter = dict(spine(output(built, ".epub")))["evidence.xhtml"]
    figures = chapter.xpath("//x:figure", namespaces=NS)
    assert [f.get("id") for f in figures] == ["fig-routes", "fig-loans", "figure-3"]
    routes, loans, _ = figures
    # No title: the alt text is the caption, and fig-alt the image's alt text.
    assert text(routes.find(f"{X}figcaption")) == "Figure 1: Routes between the three capitals"
    assert routes.find(f".//{X}img").get("alt").startswith("A sketch map with Tirana")
    # A title is the caption; the alt text stays the image's.
    assert text(loans.find(f"{X}figcaption")) == "Figure 2: Loans by year, 1955 to 1961"
    assert loans.find(f".//{X}img").get("alt") == "Loans by year, as bars"
    assert not chapter.xpath("//x:p/x:img", namespaces=NS)


def test_cross_references_print_the_targets_number_and_link_to_it(built: BuildResult) -> None:
    documents = dict(spine(output(built, ".epub")))
    chapter = documents["evidence.xhtml"]
    links = {a.get("href"): text(a) for a in chapter.xpath("//x:a[@class='xref']", namespaces=NS)}
    assert links["#fig-routes"] == "Figure 1"
    assert links["#tbl-loans"] == "Table 1"
    assert links["#sec-sources"] == "Chapter 3, “Sources”"  # 02-evidence.md is the third chapter
    assert links["#fig-loans"] == "2"  # `[-@fig-loans]`: the number alone
    prose = text(chapter.xpath("//x:section", namespaces=NS)[0])
    assert "@" not in prose and "As 2 shows and see Table 1 confirms" in prose
    # Each target has the id the link names, with the number the link prints.
    caption = chapter.xpath("//*[@id='tbl-loans']//x:caption", namespaces=NS)[0]
    assert text(caption).startswith("Table 1: ")


def test_lists_of_figures_and_tables_give_the_pages_in_both_editions(
    built: BuildResult, pdf_pages: list[str]
) -> None:
    documents = dict(spine(output(built, ".epub")))
    for kind, label, page in (("figures", "Figure", 3), ("tables", "Table", 4)):
        entries = re.findall(rf"{label} (\d+) ([^.]+?)[ .]+ (\d+)", pdf_pages[page - 1])
        assert [n for n, _, _ in entries] == [str(n) for n in range(1, len(entries) + 1)]
        epub = documents[f"list-of-{kind}.xhtml"]
        items = epub.xpath("//x:section[@epub:type]//x:li", namespaces=NS)
        assert epub.xpath("//x:section/@epub:type", namespaces=NS) == [
            "lof" if kind == "figures" else "lot"
        ]
        assert len(items) == len(entries) >= 2
        for (number, _, listed), item in zip(entries, items, strict=True):
            caption = f"{label} {number}: "
            assert first_page_with(pdf_pages, caption, skip=(2, 3, 4)) == int(listed)
            assert text(item.find(f"{X}a[@class='list-page']")) == listed
            assert text(item.find(f"{X}a")).startswith(f"{label} {number} ")


def test_the_lists_are_in_the_contents_and_the_epub_navigation(built: BuildResult) -> None:
    with zipfile.ZipFile(output(built, ".epub")) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
    titles = [text(a) for a in nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li/x:a", namespaces=NS)]
    assert titles[:3] == ["List of Figures", "List of Tables", "The Split"]


def test_pdf_links_carry_their_text_and_validators_stay_clean(built: BuildResult) -> None:
    path = output(built, ".pdf")
    contents = [c for _, c, _ in pdf_links(path)]
    assert contents and all(contents)
    assert {"Figure 1", "Table 1", "Table 2", "Chapter 3, “Sources”"} <= set(contents)
    assert page_report(path, "ua1") == (True, [])
    result = outloud_report(path)
    assert [f for f in result["findings"] if f["severity"] != "info"] == []


def test_the_book_with_figures_passes_epubcheck_and_ace(built: BuildResult, tmp_path: Path) -> None:
    code, report = run_epubcheck(output(built, ".epub"))
    assert code == 0, report
    code, violations = run_ace(output(built, ".epub"), tmp_path / "ace")
    assert violations == []


def test_an_epub_without_a_print_layout_says_what_a_page_reference_points_at(
    tmp_path: Path,
) -> None:
    root = tmp_path / "m"
    shutil.copytree(CITED, root)
    epub = output(build(root, tmp_path / "dist", ("epub",)), ".epub")
    chapter = dict(spine(epub))["evidence.xhtml"]
    refs = [text(a) for a in chapter.xpath("//x:a[contains(@class, 'page-ref')]", namespaces=NS)]
    assert refs == ["Figure 1", "the second table", "Chapter 1"]


SMALL_BOOK = """---
title: Small
---
## Background {#sec-background}

By [1956 the quarrel was open]{.event date="1956" title="The quarrel opens" #ev-quarrel}.
What an empty link prints: [](#fig-a), [](#tbl-b), [](#ev-quarrel), [](#sec-background).[^n]

: A caption before its table {#tbl-b}

| a | b |
|---|---|
| 1 | 2 |

| no | caption |
|----|---------|
| 3  | 4       |

Text beside ![an inline image](images/map.svg) stays an image.

- ![an image in a tight list](images/map.svg)
- and text

See [see @fig-a; @tbl-b, its first row].

![A figure](images/map.svg){#fig-a}

[^n]: ![An image in a note](images/map.svg)
"""


def test_what_becomes_a_figure_and_what_an_empty_link_prints(tmp_path: Path) -> None:
    root = tmp_path / "m"
    (root / "chapters").mkdir(parents=True)
    (root / "images").mkdir()
    shutil.copy(CITED / "images" / "map.svg", root / "images")
    (root / "book.yaml").write_text(
        "title: Small\nlanguage: en\nidentifier: urn:uuid:1b7e2f1c-3d4a-4e5f-9a6b-7c8d9e0f1a2b\n"
    )
    (root / "chapters" / "01-small.md").write_text(SMALL_BOOK)
    second = "---\ntitle: Second\nid: sec-second\n---\nAfter @sec-second, [](#fig-a).\n"
    (root / "chapters" / "02-second.md").write_text(second)
    epub = output(build(root, tmp_path / "dist", ("epub",)), ".epub")
    documents = dict(spine(epub))
    chapter = documents["small.xhtml"]
    links = [text(a) for a in chapter.xpath("//x:p[1]/x:a[@href]", namespaces=NS)]
    assert links[:4] == ["Figure 1", "Table 1", "The quarrel opens", "Chapter 1, “Background”"]
    after = documents["sec-second.xhtml"].xpath("//x:p/x:a", namespaces=NS)
    assert [(text(a), a.get("href")) for a in after] == [
        ("Chapter 2", "#sec-second"),
        ("Figure 1", "small.xhtml#fig-a"),
    ]
    # Only the lone image outside the note is a figure; the uncaptioned table has no number.
    assert [f.get("id") for f in chapter.xpath("//x:figure", namespaces=NS)] == ["fig-a"]
    assert chapter.xpath("//x:p/x:img[@alt='an inline image']", namespaces=NS)
    assert chapter.xpath("//x:li/x:img[@alt='an image in a tight list']", namespaces=NS)
    several = chapter.xpath("//x:p[starts-with(., 'See ')]", namespaces=NS)[0]
    assert text(several) == "See see Figure 1; Table 1, its first row."
    assert [a.get("href") for a in several.iterfind(f"{X}a")] == ["#fig-a", "#tbl-b"]
    assert chapter.xpath("//x:aside//x:img[@alt='An image in a note']", namespaces=NS)
    captions = [text(c) for c in chapter.xpath("//x:caption", namespaces=NS)]
    assert captions == ["Table 1: A caption before its table"]


GERMAN = """---
title: Beweise
---
Die Karte ist @fig-karte, auf [](#fig-karte){.page-ref}; die Zahlen stehen in @tbl-zahlen.

![Eine Karte](images/map.svg){#fig-karte}

| Jahr | Kredite |
|------|--------:|
| 1955 | 45 |

Table: Kredite nach Jahr {#tbl-zahlen}
"""


@pytest.mark.parametrize(
    ("language", "figure", "caption", "table", "page", "title"),
    [
        (
            "de",
            "Abbildung 1",
            "Abbildung 1: Eine Karte",
            "Tabelle 1",
            "S. ",
            "Abbildungsverzeichnis",
        ),
        ("zh", "图1", "图1\uff1aEine Karte", "表1", "第", "插图目录"),
    ],
)
def test_the_words_are_the_books_language(
    tmp_path: Path, language: str, figure: str, caption: str, table: str, page: str, title: str
) -> None:
    root = tmp_path / "m"
    (root / "chapters").mkdir(parents=True)
    (root / "images").mkdir()
    shutil.copy(CITED / "images" / "map.svg", root / "images")
    (root / "book.yaml").write_text(
        f"title: Beweise\nlanguage: {language}\nlists: [figures]\n"
        "identifier: urn:uuid:2b7e2f1c-3d4a-4e5f-9a6b-7c8d9e0f1a2b\n"
    )
    (root / "chapters" / "01-beweise.md").write_text(GERMAN)
    result = build(root, tmp_path / "dist", ("pdf", "epub"))
    documents = dict(spine(output(result, ".epub")))
    chapter = documents["beweise.xhtml"]
    assert text(chapter.xpath("//x:figcaption", namespaces=NS)[0]) == caption
    links = [text(a) for a in chapter.xpath("//x:p/x:a", namespaces=NS)]
    assert links[0] == figure and links[2] == table
    assert links[1].startswith(page) and re.search(r"\d", links[1])
    assert text(documents["list-of-figures.xhtml"].xpath("//x:h1", namespaces=NS)[0]) == title
