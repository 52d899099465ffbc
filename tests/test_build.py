"""End to end: build the fixture, then read the PDF and the EPUB back as a reader would."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pdfplumber
import pypdf
from lxml import etree

from bookbuild.chronology import extract_chronology
from bookbuild.manuscript import load_manuscript
from bookbuild.pipeline import BuildResult
from tests.conftest import FIXTURE, output

XHTML_NS = {"x": "http://www.w3.org/1999/xhtml"}


def page_texts(pdf_path: Path) -> list[str]:
    """Return each page's text with whitespace folded."""
    reader = pypdf.PdfReader(pdf_path)
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def chronology_links(pdf_path: Path) -> list[tuple[str, int, str]]:
    """Return (destination, destination page, printed text) for each chronology page link."""
    reader = pypdf.PdfReader(pdf_path)
    destinations = {
        name: reader.get_destination_page_number(d) + 1
        for name, d in reader.named_destinations.items()
    }
    chronology_page = destinations["chronology"]
    links: dict[str, tuple[float, tuple[str, int, str]]] = {}
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages[chronology_page - 1 :]:
            for annot in page.annots:
                name = annot["data"].get("Dest", b"").decode()
                if name.startswith("ev-") and annot["x1"] - annot["x0"] > 0:
                    box = (annot["x0"], annot["top"], annot["x1"], annot["bottom"])
                    text = page.crop(box).extract_text().strip()
                    # Each row links from its date, event and page cells: keep the page's link,
                    # the rightmost.
                    if name not in links or annot["x0"] > links[name][0]:
                        links[name] = (annot["x0"], (name, destinations[name], text))
    return [link for _, link in links.values()]


def test_build_writes_pdf_epub_and_html_without_warnings(fixture_build: BuildResult) -> None:
    names = sorted(p.relative_to(p.parents[0]).name for p in fixture_build.outputs)
    assert {"the-salt-roads.pdf", "the-salt-roads.epub", "the-salt-roads.html"} <= set(names)
    assert fixture_build.diagnostics == ()


def test_chronology_page_numbers_are_the_pages_where_passages_start(
    fixture_build: BuildResult,
) -> None:
    pdf_path = output(fixture_build, ".pdf")
    book, _ = load_manuscript(FIXTURE)
    events = {e.id: e for e in extract_chronology(book)}
    texts = page_texts(pdf_path)
    links = chronology_links(pdf_path)
    assert sorted(name for name, _, _ in links) == sorted(events)
    for name, dest_page, printed in links:
        assert printed == str(dest_page), name
        passage = " ".join(events[name].text.split()[:3])
        assert passage in texts[dest_page - 1], (name, dest_page)


def test_chronology_is_in_date_order_with_reader_dates(fixture_build: BuildResult) -> None:
    texts = page_texts(output(fixture_build, ".pdf"))
    chronology = next(t for t in texts if t.startswith("Chronology"))
    dates = [
        "c.\u00a01190",
        "1250s",
        "1356",
        "1367–1370",
        "May\u00a01370",
        "24\u00a0May\u00a01370",
        "1499?",
    ]
    positions = [chronology.replace("\u00a0", " ").find(d.replace("\u00a0", " ")) for d in dates]
    assert -1 not in positions, positions
    assert positions == sorted(positions)


def test_pdf_has_metadata_bookmarks_and_running_heads(fixture_build: BuildResult) -> None:
    reader = pypdf.PdfReader(output(fixture_build, ".pdf"))
    assert reader.metadata is not None
    assert reader.metadata.title == "The Salt Roads"
    assert reader.metadata.author == "Fixture Author"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert [o["/Title"] for o in reader.outline] == [
        "Introduction",
        "Early trade",
        "The league",
        "Chronology",
        "Glossary",
        "Sources",
        "Colophon",
        "Index",
    ]
    texts = page_texts(output(fixture_build, ".pdf"))
    assert "1100–1299 Early trade" in " ".join(texts)
    assert any(t.endswith(f"Page {n} of {len(texts)}") for n, t in enumerate(texts, 1) if n > 1)


def test_pdf_footnote_is_at_the_foot_of_the_page_of_its_call(fixture_build: BuildResult) -> None:
    texts = page_texts(output(fixture_build, ".pdf"))
    (page,) = [t for t in texts if "«соль».1" in t]
    assert "1. Salt was the main good." in page
    assert page.index("«соль».1") < page.index("1. Salt was the main good.")


def epub_documents(epub_path: Path) -> dict[str, etree._Element]:
    """Return every XHTML and NCX document of the EPUB, parsed, keyed by zip path."""
    with zipfile.ZipFile(epub_path) as zf:
        return {
            name: etree.fromstring(zf.read(name))
            for name in zf.namelist()
            if name.endswith((".xhtml", ".ncx"))
        }


def test_epub_internal_links_all_resolve(fixture_build: BuildResult) -> None:
    docs = epub_documents(output(fixture_build, ".epub"))
    ids = {name: set(doc.xpath("//@id")) for name, doc in docs.items()}
    checked = 0
    for name, doc in docs.items():
        for href in doc.xpath("//x:a/@href", namespaces=XHTML_NS) + doc.xpath("//@src"):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue
            target = (
                posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(parts.path)))
                if parts.path
                else name
            )
            assert target in ids or target.endswith((".css", ".svg", ".png", ".jpg")), (name, href)
            if parts.fragment:
                assert parts.fragment in ids[target], (name, href)
            checked += 1
    assert checked > 20


def test_epub_chronology_links_to_every_event(fixture_build: BuildResult) -> None:
    docs = epub_documents(output(fixture_build, ".epub"))
    chronology = docs["EPUB/chronology.xhtml"]
    hrefs = chronology.xpath("//x:table//x:a/@href", namespaces=XHTML_NS)
    book, _ = load_manuscript(FIXTURE)
    assert hrefs == [f"{e.chapter_id}.xhtml#{e.id}" for e in extract_chronology(book)]


def test_epub_has_one_file_per_chapter_nav_ncx_and_metadata(fixture_build: BuildResult) -> None:
    with zipfile.ZipFile(output(fixture_build, ".epub")) as zf:
        names = zf.namelist()
        assert names[0] == "mimetype" and zf.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        opf = etree.fromstring(zf.read("EPUB/content.opf"))
    for chapter in ("introduction", "early", "league", "sources", "chronology", "glossary", "nav"):
        assert f"EPUB/{chapter}.xhtml" in names
    assert "EPUB/toc.ncx" in names
    ns = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
    assert opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert opf.xpath("//dc:title/text()", namespaces=ns) == ["The Salt Roads"]
    assert opf.xpath("//dc:creator/text()", namespaces=ns) == ["Fixture Author"]
    assert opf.xpath("//opf:meta[@property='dcterms:modified']/text()", namespaces=ns) == [
        "2024-03-01T00:00:00Z"
    ]
