"""The EPUB carries the PDF's page numbers: each marker sits where that PDF page starts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pypdf
from lxml import etree

from bookbuild.pipeline import BuildResult, build
from tests.conftest import MANUSCRIPT, output

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
TITLE_END = "\ue000"  # a private-use character, in no text


def words_after_markers(epub: Path) -> dict[int, str]:
    """Return, for each page-list entry, the first 16 characters of text after its marker.

    White space and case are dropped: the EPUB's markup and the PDF's text extraction space
    table cells and inline elements differently, and the theme may set text in capitals. A
    chapter title ends the run: the PDF sets the era line above the title and the EPUB after it.
    """
    with zipfile.ZipFile(epub) as zf:
        nav = etree.fromstring(zf.read("EPUB/nav.xhtml"))
        hrefs = nav.xpath("//x:nav[@epub:type='page-list']//x:a/@href", namespaces=NS)
        after = {}
        for href in hrefs:
            file, fragment = href.split("#")
            doc = etree.fromstring(zf.read(f"EPUB/{file}"))
            (marker,) = doc.xpath(f"//*[@id='{fragment}']", namespaces=NS)
            assert marker.get("{http://www.idpf.org/2007/ops}type") == "pagebreak"
            for title in doc.iterfind(".//x:header/x:h1", NS):
                title.append(etree.Element(f"{{{NS['x']}}}span"))
                title[-1].tail = TITLE_END
            text = "".join(marker.xpath("following::text()")).split(TITLE_END)[0]
            words = "".join(text.replace("\u00ad", "").split())  # soft hyphens are not text
            after[int(marker.get("aria-label"))] = words[:16].casefold()
    return after


def pdf_pages(pdf: Path) -> list[str]:
    return ["".join(p.extract_text().split()).casefold() for p in pypdf.PdfReader(pdf).pages]


def check_page_list(result: BuildResult) -> int:
    """Assert that the words after each marker are on that page of the PDF; return the count."""
    pages = pdf_pages(output(result, ".pdf"))
    after = words_after_markers(output(result, ".epub"))
    assert list(after) == sorted(after)
    for number, words in after.items():
        assert words in pages[number - 1], (number, words)
    return len(after)


def test_fixture_page_list_matches_the_pdf(fixture_build: BuildResult) -> None:
    assert check_page_list(fixture_build) >= 6


def test_briefing_page_list_matches_the_pdf_including_mid_paragraph_breaks(
    briefing_build: BuildResult,
) -> None:
    pages = len(pdf_pages(output(briefing_build, ".pdf")))
    # Every page but the contents pages, which have no counterpart in the EPUB's text.
    assert check_page_list(briefing_build) >= pages - 2
    # How many pages break inside a paragraph depends on the text; the briefing has at least one.
    assert mid_paragraph_markers(output(briefing_build, ".epub")) >= 1
    with zipfile.ZipFile(output(briefing_build, ".epub")) as zf:
        opf = zf.read("EPUB/content.opf").decode()
    assert (
        'id="pdf-source">' in opf
        and 'property="source-of">pagination' in opf
        and "printPageNumbers" in opf
        and "pageNavigation" in opf
    )


def mid_paragraph_markers(epub: Path) -> int:
    """Return how many markers sit inside a paragraph, after some of its text."""
    count = 0
    with zipfile.ZipFile(epub) as zf:
        for name in (n for n in zf.namelist() if n.endswith(".xhtml")):
            doc = etree.fromstring(zf.read(name))
            for marker in doc.xpath("//x:p//*[@epub:type='pagebreak']", namespaces=NS):
                paragraph = marker.xpath("ancestor::x:p[1]", namespaces=NS)[0]
                marker.text = "\U0010fffd"  # markers are empty: this only finds where it stands
                before = "".join(paragraph.itertext()).split("\U0010fffd")[0]
                count += bool(before.strip())
    return count


def test_epub_only_build_has_no_page_list(tmp_path: Path) -> None:
    (epub,) = build(MANUSCRIPT, tmp_path, ("epub",)).outputs
    with zipfile.ZipFile(epub) as zf:
        assert b"page-list" not in zf.read("EPUB/nav.xhtml")
        assert b"printPageNumbers" not in zf.read("EPUB/content.opf")
