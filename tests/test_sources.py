"""Sources of events and glossary entries, read back from both editions.

Each chronology row and each glossary entry must carry a citation that links to an entry of the
Bibliography: in the EPUB (lxml, following the href into bibliography.xhtml) and in the PDF
(the link annotations, followed to their named destinations with pypdf and pdfplumber). Context
events are labelled in both; `require-sources` makes a missing source an error at its line.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from lxml import etree

from bookbuild.attribution import parse_sources
from bookbuild.chronology import extract_chronology
from bookbuild.cli import main
from bookbuild.manuscript import load_manuscript
from bookbuild.model import Book
from bookbuild.pipeline import BuildResult, build
from tests.conftest import DATA, MANUSCRIPT, output
from tests.validators import run_ace, run_epubcheck

SOURCED = DATA / "sourced"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
BOOKS = {"briefing": MANUSCRIPT, "sourced": SOURCED}


@pytest.fixture(scope="module")
def builds(
    tmp_path_factory: pytest.TempPathFactory, briefing_build: BuildResult
) -> dict[str, BuildResult]:
    """The briefing's shared build, and the small sourced manuscript's (BibTeX, author-date)."""
    sourced = build(SOURCED, tmp_path_factory.mktemp("sourced"), ("pdf", "epub"))
    return {"briefing": briefing_build, "sourced": sourced}


def loaded(name: str) -> Book:
    return load_manuscript(BOOKS[name])[0]


def epub_docs(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as zf:
        return {
            Path(n).name: etree.fromstring(zf.read(n)) for n in zf.namelist() if n.endswith("html")
        }


def text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).replace("\u00ad", "").split())


def resolve(docs: dict[str, etree._Element], href: str) -> etree._Element:
    """Return the element an EPUB link points at, failing if there is none."""
    file, _, fragment = href.partition("#")
    (target,) = docs[file].xpath(f"//*[@id='{fragment}']")
    return target


def cited_keys(links: list[etree._Element]) -> list[str]:
    return [str(a.get("href")).split("#ref-")[1] for a in links]


def key_id(key: str) -> str:
    return key.lower()


# -- the EPUB ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOOKS)
def test_every_chronology_row_in_the_epub_links_its_sources_to_bibliography_entries(
    builds: dict[str, BuildResult], name: str
) -> None:
    docs = epub_docs(output(builds[name], ".epub"))
    rows = docs["chronology.xhtml"].xpath(
        "//x:table[contains(@class,'chronology-table')]//x:tbody/x:tr", namespaces=NS
    )
    events = extract_chronology(loaded(name))
    assert len(rows) == len(events) > 0
    for row, event in zip(rows, events, strict=True):
        links = row.xpath(
            ".//x:td[@class='chrono-source']/x:a[@role='doc-biblioref']", namespaces=NS
        )
        assert cited_keys(links) == [key_id(k) for k in event.sources], event.title
        for link in links:
            assert link.get(f"{{{NS['epub']}}}type") == "biblioref"
            entry = resolve(docs, str(link.get("href")))
            assert entry.get("class") == "csl-entry" and text(entry)
            assert entry.getparent().getparent().get("role") == "doc-bibliography"


@pytest.mark.parametrize("name", BOOKS)
def test_every_glossary_entry_in_the_epub_links_its_sources(
    builds: dict[str, BuildResult], name: str
) -> None:
    docs = epub_docs(output(builds[name], ".epub"))
    book = loaded(name)
    entries = {g.id: g for g in book.glossary}
    definitions = docs["glossary.xhtml"].xpath("//x:dd", namespaces=NS)
    assert len(definitions) == len(entries) > 0
    for dd in definitions:
        entry = entries[str(dd.get("data-b")).removesuffix(".description")]
        (line,) = dd.xpath("x:span[@class='gloss-source']", namespaces=NS)
        assert text(line).startswith("Source:")
        links = line.xpath("x:a[@role='doc-biblioref']", namespaces=NS)
        assert cited_keys(links) == [key_id(k) for k in entry.sources], entry.term
        for link in links:
            assert resolve(docs, str(link.get("href"))).get("class") == "csl-entry"


@pytest.mark.parametrize("name", BOOKS)
def test_context_events_are_labelled_and_explained_in_the_epub(
    builds: dict[str, BuildResult], name: str
) -> None:
    doc = epub_docs(output(builds[name], ".epub"))["chronology.xhtml"]
    rows = doc.xpath("//x:tbody/x:tr", namespaces=NS)
    events = extract_chronology(loaded(name))
    for row, event in zip(rows, events, strict=True):
        labels = row.xpath(".//x:span[@class='chrono-context']", namespaces=NS)
        assert (row.get("class") == "context") == event.context == bool(labels), event.title
        assert [text(label) for label in labels] in ([], ["Context"])
    legend = [text(p) for p in doc.xpath("//x:p[@class='chrono-legend']", namespaces=NS)]
    assert any("Context" in line for line in legend)
    assert any("Source column" in line for line in legend)


def test_a_book_without_sources_keeps_its_three_column_chronology(
    fixture_build: BuildResult,
) -> None:
    doc = epub_docs(output(fixture_build, ".epub"))["chronology.xhtml"]
    assert (
        doc.xpath("//x:td[@class='chrono-source']|//x:p[@class='chrono-legend']", namespaces=NS)
        == []
    )


def test_the_sourced_epub_passes_epubcheck_and_ace(
    builds: dict[str, BuildResult], tmp_path: Path
) -> None:
    epub = output(builds["sourced"], ".epub")
    code, report = run_epubcheck(epub)
    assert code == 0 and "0 fatals / 0 errors / 0 warnings / 0 infos" in report, report
    assert run_ace(epub, tmp_path / "ace")[1] == []


# -- the PDF -----------------------------------------------------------------------------------


def pdf_links(pdf_path: Path, first: str, until: str) -> list[tuple[int, float, float, str]]:
    """Return (page, top, left, destination) of every internal link on those pages, in order."""
    reader = pypdf.PdfReader(pdf_path)
    pages = {n: reader.get_destination_page_number(d) for n, d in reader.named_destinations.items()}
    found = []
    with pdfplumber.open(pdf_path) as pdf:
        for number in range(pages[first], pages[until]):
            for annot in pdf.pages[number].annots:
                name = annot["data"].get("Dest", b"").decode()
                if name and annot["x1"] > annot["x0"]:
                    found.append((number, annot["top"], annot["x0"], name))
    return sorted(found)


def bibliography_pages(pdf_path: Path) -> tuple[set[str], dict[str, int]]:
    reader = pypdf.PdfReader(pdf_path)
    pages = {n: reader.get_destination_page_number(d) for n, d in reader.named_destinations.items()}
    return {n for n in pages if n.startswith("ref-")}, pages


@pytest.mark.parametrize("name", BOOKS)
def test_every_chronology_row_in_the_pdf_links_its_sources_to_the_bibliography(
    builds: dict[str, BuildResult], name: str
) -> None:
    pdf = output(builds[name], ".pdf")
    entries, pages = bibliography_pages(pdf)
    after = "glossary" if loaded(name).glossary else "bibliography"
    links = pdf_links(pdf, "chronology", after)
    # Each row links its date, event and page to the event; a row's top is the top of those
    # links. A source link belongs to the row on its page whose top is the last one above it
    # (a smaller font may set the link a point higher than the row's first line).
    tops: dict[tuple[int, str], float] = {}
    for page, top, _, dest in links:
        if dest.startswith("ev-"):
            tops[(page, dest)] = min(top, tops.get((page, dest), top))
    rows: dict[str, list[str]] = {dest: [] for _, dest in tops}
    for page, top, _, dest in links:
        if dest.startswith("ref-"):
            above = [(t, ev) for (p, ev), t in tops.items() if p == page and t <= top + 3]
            row = rows[max(above)[1]]
            if dest not in row:  # a label broken over two lines is two annotations
                row.append(dest)
    events = extract_chronology(loaded(name))
    assert set(rows) == {e.id for e in events}
    for event in events:
        assert rows[event.id] == [f"ref-{key_id(k)}" for k in event.sources], event.title
    for dest in {d for ds in rows.values() for d in ds}:
        assert dest in entries and pages[dest] >= pages["bibliography"]


@pytest.mark.parametrize("name", BOOKS)
def test_every_glossary_entry_in_the_pdf_names_and_links_its_sources(
    builds: dict[str, BuildResult], name: str
) -> None:
    pdf = output(builds[name], ".pdf")
    book = loaded(name)
    entries, pages = bibliography_pages(pdf)
    after = min(
        (
            n
            for n in pages
            if pages[n] > pages["glossary"] and n in ("notes", "sources", "bibliography")
        ),
        key=pages.__getitem__,
    )
    linked = {
        dest for _, _, _, dest in pdf_links(pdf, "glossary", after) if dest.startswith("ref-")
    }
    assert linked == {f"ref-{key_id(k)}" for g in book.glossary for k in g.sources}
    assert linked <= entries
    reader = pypdf.PdfReader(pdf)
    glossary = " ".join(
        reader.pages[n].extract_text() for n in range(pages["glossary"], pages[after])
    )
    assert glossary.count("Source:") == len(book.glossary)


@pytest.mark.parametrize("name", BOOKS)
def test_context_events_are_labelled_and_italic_in_the_pdf(
    builds: dict[str, BuildResult], name: str
) -> None:
    pdf = output(builds[name], ".pdf")
    _, pages = bibliography_pages(pdf)
    after = "glossary" if loaded(name).glossary else "bibliography"
    with pdfplumber.open(pdf) as doc:
        chronology = doc.pages[pages["chronology"] : pages[after]]
        words = [
            {**w, "page": n}
            for n, p in enumerate(chronology)
            for w in p.extract_words(extra_attrs=["fontname"])
        ]
    labels = [w for w in words if w["text"] == "CONTEXT"]
    context = [e for e in extract_chronology(loaded(name)) if e.context]
    assert len(labels) == len(context) > 0
    for label in labels:
        # The title starts on the line under its label, in the same cell, set in italic.
        below = [
            w
            for w in words
            if w["page"] == label["page"]
            and abs(w["x0"] - label["x0"]) < 1
            and w["top"] > label["top"]
        ]
        title = min(below, key=lambda w: w["top"])
        assert title["fontname"].endswith("-Italic"), title
    page_text = " ".join(" ".join(w["text"] for w in words).split())
    assert "Entries marked “Context” are background" in page_text


# -- the check ---------------------------------------------------------------------------------


def test_parse_sources_reads_pandoc_keys_and_refuses_anything_else() -> None:
    assert parse_sources("@a") == ("a",)
    assert parse_sources("@a; @b2:c") == ("a", "b2:c")
    assert parse_sources(["a", "b"]) == ("a", "b")
    assert parse_sources("") is None
    assert parse_sources("@") is None
    assert parse_sources("Vickers, p. 12") is None


def test_the_briefing_asks_for_sources_and_a_missing_one_is_an_error_at_its_line(
    tmp_path: Path,
) -> None:
    copy = shutil.copytree(MANUSCRIPT, tmp_path / "manuscript")
    assert "require-sources: true" in (copy / "book.yaml").read_text()
    chapter = copy / "chapters" / "03-the-rift.md"
    lines = chapter.read_text().splitlines(keepends=True)
    (n,) = [i for i, line in enumerate(lines) if 'title="Khrushchev visits Albania"' in line]
    lines[n] = lines[n].replace(' source="@albania-russia"', "", 1)
    chapter.write_text("".join(lines))
    glossary = copy / "glossary.yaml"
    g_lines = glossary.read_text().splitlines(keepends=True)
    (m,) = [i for i, line in enumerate(g_lines) if line.startswith("- term: Pashaliman")]
    (s,) = [i for i in range(m, m + 6) if g_lines[i].startswith("  source:")]
    del g_lines[s]
    glossary.write_text("".join(g_lines))
    err = io.StringIO()
    code = main(["check", str(copy)], stdout=io.StringIO(), stderr=err)
    assert code == 1
    reported = err.getvalue().splitlines()
    assert [line.split(": error: ")[0] for line in reported] == [
        f"{chapter}:{n + 1}:{lines[n].index('[In May 1959') + 1}",
        f"{glossary}:{m + 1}:3",
    ]
    assert reported[0].endswith("[BB640]") and reported[1].endswith("[BB641]")


def test_markup_in_a_bibliography_reaches_the_epub_as_text(tmp_path: Path) -> None:
    """citeproc-py does not escape titles: a `<script>` or a bare `&` must stay text."""
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        "title: T\nlanguage: en\nidentifier: urn:uuid:12345678-1234-1234-1234-123456789abc\n"
        "bibliography: refs.json\ncitation-style: chicago-author-date\n"
    )
    title = "Tirana <script>alert(1)</script> & <i>Moscow"
    (root / "refs.json").write_text(
        '[{"id": "x", "type": "book", "title": "' + title.replace('"', '\\"') + '", '
        '"author": [{"family": "Bad & <b>Co"}], "issued": {"date-parts": [[2001]]}}]'
    )
    (root / "chapters" / "01-a.md").write_text(
        "---\ntitle: A\nera: 1959/1960\n---\n"
        '[Khrushchev came]{.event date="1959" source="@x"}, as @x [p. 2] says.\n'
    )
    result = build(root, tmp_path / "out", ("epub",))
    docs = epub_docs(output(result, ".epub"))  # every document parses: well-formed XHTML
    for doc in docs.values():
        assert doc.xpath("//x:script", namespaces=NS) == []
    entry = text(docs["bibliography.xhtml"].xpath("//x:li[@class='csl-entry']", namespaces=NS)[0])
    assert "<script>alert(1)</script> &" in entry
    source = docs["chronology.xhtml"].xpath("//x:td[@class='chrono-source']", namespaces=NS)[0]
    assert "<script>alert(1)</script>" in text(source)
