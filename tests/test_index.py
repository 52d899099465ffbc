"""The index, read back from both editions: locators are the pages where their passages are."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pypdf
import pytest
import weasyprint
from lxml import etree

from bookbuild import indexlayout
from bookbuild.index import locator_runs
from bookbuild.pipeline import BuildResult, build
from bookbuild.scaffold import create_manuscript
from tests.conftest import DATA, output
from tests.pdftags import outloud_report, page_report, read_tree
from tests.validators import run_ace, run_epubcheck

XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
FILLER = (
    "The delegation stayed in the capital for the length of the talks, and the minutes they "
    "kept record each session in turn: who spoke, what was offered, what was refused, and "
    "which of the questions put by the other side were left for a later meeting. "
)
MARKS = range(3, 31)  # paragraphs with a `Marker` passage, over several consecutive pages


def write_manuscript(root: Path, *, language: str = "en", extra: str = "") -> Path:
    """Write a manuscript whose index spans pages: one `Marker` passage a paragraph."""
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        f"title: Index test\nlanguage: {language}\n"
        "identifier: urn:uuid:2b8c6f10-4d3e-4a7b-9c5d-1e2f3a4b5c6d\nslug: index-test\n" + extra
    )
    (root / "glossary.yaml").write_text(
        "- term: Soviet Union\n  kind: state\n  description: The state.\n  aliases: [USSR]\n"
        "- term: Tirana\n  kind: city\n  description: The capital.\n  aliases: []\n"
    )
    paragraphs = []
    for n in range(1, 41):
        mark = f' It was [mark{n:02d}]{{.index term="Marker"}} that day.' if n in MARKS else ""
        place = " They met in Tirana." if n in (1, 40) else ""
        paragraphs.append(f"Paragraph {n}.{mark}{place} " + FILLER * 3)
    paragraphs.insert(
        1,
        'The USSR sent [the First Secretary]{.index term="Khrushchev, Nikita"}, who was '
        '[received in Moscow]{.index term="Khrushchev, Nikita" sub="visit to Moscow"} '
        "later; the Soviet Union paid.",
    )
    body = "\n\n".join(paragraphs)
    (root / "chapters" / "01-talks.md").write_text(f"---\ntitle: The talks\n---\n\n{body}\n")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    root = write_manuscript(tmp_path_factory.mktemp("index") / "book")
    result = build(root, tmp_path_factory.mktemp("index-out"), ("pdf", "epub"))
    assert result.diagnostics == ()
    return result


def epub_documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as z:
        return {
            name.removeprefix("EPUB/"): etree.fromstring(z.read(name))
            for name in z.namelist()
            if name.endswith(".xhtml")
        }


def epub_entries(docs: dict[str, etree._Element]) -> dict[str, etree._Element]:
    """Return the index's top-level entries by term."""
    entries = docs["index.xhtml"].xpath(
        "//x:ul[@epub:type='index-entry-list']/x:li[@epub:type='index-entry'][not(ancestor::x:li)]",
        namespaces=XHTML,
    )
    return {
        e.xpath("string(x:span[@epub:type='index-term'])", namespaces=XHTML): e for e in entries
    }


def locators_of(entry: etree._Element) -> list[tuple[str, str]]:
    """Return (label, href) for an entry's own locators, not its subentries'."""
    links = entry.xpath("x:span/x:a[@epub:type='index-locator']", namespaces=XHTML)
    return [(a.text, a.get("href")) for a in links]


def target(docs: dict[str, etree._Element], href: str) -> etree._Element:
    file, _, fragment = href.partition("#")
    (found,) = docs[file].xpath(f"//*[@id='{fragment}']")
    return found


def pdf_pages(pdf: Path) -> list[str]:
    with pdfplumber.open(pdf) as document:
        return [page.extract_text() or "" for page in document.pages]


def index_text(pages: list[str]) -> str:
    start = next(n for n, text in enumerate(pages) if re.search(r"^Index$", text, re.M))
    return "\n".join(pages[start:])


def bare(text: str) -> str:
    """Return text without spaces and hyphens, so a word hyphenated at a line end still reads."""
    return re.sub(r"[\s\-\u2010\u00ad]", "", text)


def first_page(label: str) -> int:
    return int(label.split("\u2013")[0])


# ---------------------------------------------------------------------------------------------


def test_runs_collapse_consecutive_and_repeated_pages() -> None:
    assert locator_runs([3, 3, 4, 5, 9, 11, 12]) == [(0, "3\u20135"), (4, "9"), (5, "11\u201312")]
    assert locator_runs([]) == []


def test_the_index_hook_reads_weasyprint_70_internals() -> None:
    # indexlayout.py reads WeasyPrint's private layout; check it again before the pin moves.
    assert weasyprint.__version__ == indexlayout.WEASYPRINT_VERSION


def assert_locators_resolve(result: BuildResult) -> int:
    """Check every locator of both editions; return how many there are."""
    pages = pdf_pages(output(result, ".pdf"))
    docs = epub_documents(output(result, ".epub"))
    printed = " ".join(index_text(pages).split())
    checked = 0
    for entry in docs["index.xhtml"].xpath("//x:li[@epub:type='index-entry']", namespaces=XHTML):
        term = entry.xpath("string(x:span[@epub:type='index-term'])", namespaces=XHTML)
        for label, href in locators_of(entry):
            passage = target(docs, href)
            assert passage.get("class") == "ix"  # the exact passage, not its paragraph
            words = bare("".join(passage.itertext()))
            assert words in bare(pages[first_page(label) - 1]), (term, label)
            checked += 1
        labels = ", ".join(label for label, _ in locators_of(entry))
        if labels:
            # The same numbers in the PDF's index, after the same heading.
            assert f"{term}, {labels}" in printed
    return checked


def test_every_pdf_locator_is_the_page_of_its_passage_and_the_epub_links_to_it(
    built: BuildResult,
) -> None:
    assert assert_locators_resolve(built) >= 5


def test_the_cited_book_and_the_fixture_index_their_terms(
    tmp_path: Path, fixture_build: BuildResult
) -> None:
    cited = build(DATA / "cited", tmp_path / "cited", ("pdf", "epub"))
    assert assert_locators_resolve(cited) >= 4
    entries = epub_entries(epub_documents(output(cited, ".epub")))
    assert {"Hoxha, Enver", "Khrushchev", "Khrushchev, Nikita"} <= set(entries)
    subs = entries["Khrushchev, Nikita"].xpath(
        "x:ul/x:li/x:span[@epub:type='index-term']/text()", namespaces=XHTML
    )
    assert subs == ["visit to Tirana"]
    assert assert_locators_resolve(fixture_build) >= 3
    fixture = epub_entries(epub_documents(output(fixture_build, ".epub")))
    assert {"Hanseatic League", "Lübeck", "Novgorod", "the Hansa"} <= set(fixture)


def test_a_new_book_shows_the_index(tmp_path: Path) -> None:
    create_manuscript(tmp_path / "book")
    result = build(tmp_path / "book", tmp_path / "out", ("epub",))
    entries = epub_entries(epub_documents(output(result, ".epub")))
    assert "Lübeck" in entries and "the Hansa" in entries
    assert len(locators_of(entries["Lübeck"])) == 1  # both passages are in one chapter
    assert entries["Lübeck"].xpath("x:ul/x:li", namespaces=XHTML)


def test_glossary_terms_are_not_indexed_in_headings_or_notes(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "book")
    chapter = root / "chapters" / "02-more.md"
    chapter.write_text(
        "---\ntitle: More\n---\n\n## Tirana again\n\nA note.[^n]\n\n[^n]: In Tirana.\n"
    )
    result = build(root, tmp_path / "out", ("epub",))
    docs = epub_documents(output(result, ".epub"))
    assert not docs["more.xhtml"].xpath("//*[@class='ix']")
    assert "More" not in [label for label, _ in locators_of(epub_entries(docs)["Tirana"])]


def test_consecutive_pages_collapse_into_one_range(built: BuildResult) -> None:
    pages = pdf_pages(output(built, ".pdf"))
    # Where each `Marker` passage is, read from the PDF's own text.
    where = sorted(
        next(n for n, text in enumerate(pages, start=1) if f"mark{m:02d}" in text) for m in MARKS
    )
    assert where[-1] - where[0] >= 2, "the manuscript should spread the marks over 3+ pages"
    expected = [label for _, label in locator_runs(where)]
    docs = epub_documents(output(built, ".epub"))
    assert [label for label, _ in locators_of(epub_entries(docs)["Marker"])] == expected
    assert expected == [f"{where[0]}\u2013{where[-1]}"]
    assert f"Marker, {expected[0]}" in index_text(pages)


def test_pdf_locators_are_links_to_their_pages(built: BuildResult) -> None:
    reader = pypdf.PdfReader(output(built, ".pdf"))
    named = {
        name: reader.get_destination_page_number(d) + 1
        for name, d in reader.named_destinations.items()
    }
    docs = epub_documents(output(built, ".epub"))
    wanted = {
        href.partition("#")[2]: first_page(label)
        for entry in epub_entries(docs).values()
        for label, href in locators_of(entry)
    }
    found = {}
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            link = annotation.get_object()
            action = link.get("/A") or {}
            dest = link.get("/Dest") or action.get("/D")
            if isinstance(dest, str) and dest in wanted:
                found[dest] = named[dest]
    assert found == wanted


def test_aliases_are_see_entries_and_subentries_sit_under_their_heading(built: BuildResult) -> None:
    docs = epub_documents(output(built, ".epub"))
    entries = epub_entries(docs)
    (xref,) = entries["USSR"].xpath(".//x:a[@epub:type='index-xref-preferred']", namespaces=XHTML)
    assert target(docs, "index.xhtml" + xref.get("href")) is entries["Soviet Union"]
    assert locators_of(entries["USSR"]) == []
    assert len(locators_of(entries["Soviet Union"])) == 1  # "USSR" and "Soviet Union" on one page
    (sub,) = entries["Khrushchev, Nikita"].xpath(
        "x:ul/x:li[@epub:type='index-entry']", namespaces=XHTML
    )
    assert sub.xpath("string(x:span[@epub:type='index-term'])", namespaces=XHTML) == (
        "visit to Moscow"
    )
    printed = index_text(pdf_pages(output(built, ".pdf")))
    assert re.search(r"USSR, see\s*Soviet Union", printed)
    assert "visit to Moscow, " in printed


def test_glossary_terms_index_themselves_apart_in_far_chapters_places(built: BuildResult) -> None:
    docs = epub_documents(output(built, ".epub"))
    tirana = locators_of(epub_entries(docs)["Tirana"])
    assert len(tirana) == 2  # paragraphs 1 and 40, pages apart
    assert first_page(tirana[0][0]) < first_page(tirana[1][0])


def test_the_index_is_a_list_of_linked_entries_in_the_pdf_tags(built: BuildResult) -> None:
    pdf = pikepdf.open(output(built, ".pdf"))
    tree = read_tree(pdf)
    index = [e for e in tree.kids if e.role == "Sect"][-1]  # the index comes last
    assert [e.role for e in index.kids][:2] == ["H1", "L"]
    items = [e for e in index.walk() if e.role == "LI"]
    assert len(items) >= 5
    links = [e for e in index.walk() if e.role == "Link"]
    assert links
    contents = [
        str(a.get("/Contents"))
        for page in pdf.pages
        for a in page.get("/Annots", [])
        if "page" in str(a.get("/Contents", ""))
    ]
    assert any(re.fullmatch(r"Marker, page \d+\u2013\d+", c) for c in contents)


@pytest.mark.parametrize("profile", ["ua1"])
def test_page_and_outloud_accept_the_index(built: BuildResult, profile: str) -> None:
    path = output(built, ".pdf")
    assert page_report(path, profile) == (True, [])
    result = outloud_report(path)
    assert result["counts"]["error"] == 0 and result["counts"]["warning"] == 0


def test_epubcheck_and_ace_accept_the_index(built: BuildResult, tmp_path: Path) -> None:
    epub = output(built, ".epub")
    code, report = run_epubcheck(epub)
    assert code == 0, report
    assert "0 errors / 0 warnings" in report
    code, violations = run_ace(epub, tmp_path / "ace")
    assert violations == []


def test_the_entries_follow_the_epub_indexes_content_model(
    built: BuildResult, tmp_path: Path
) -> None:
    # EPUBCheck checks an index against the EPUB Indexes schema only in a document the package
    # marks `index`, whose body must then be the index: a copy is marked so, to be checked.
    marked = tmp_path / "marked.epub"
    with zipfile.ZipFile(output(built, ".epub")) as source, zipfile.ZipFile(marked, "w") as z:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "EPUB/content.opf":
                data = re.sub(
                    rb'(href="index.xhtml"[^>]*?)(/?>)', rb'\1 properties="index"\2', data
                )
                assert b'properties="index"' in data
            elif info.filename == "EPUB/index.xhtml":
                data = data.replace(b'<body epub:type="backmatter">', b'<body epub:type="index">')
                data = data.replace(b' epub:type="index" role="doc-index"', b"")
            z.writestr(info, data)
    code, report = run_epubcheck(marked)
    assert code == 0, report


def test_index_false_leaves_the_glossary_out(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "book", extra="index: false\n")
    result = build(root, tmp_path / "out", ("epub",))
    entries = epub_entries(epub_documents(output(result, ".epub")))
    assert "Marker" in entries and "Khrushchev, Nikita" in entries
    assert not {"Tirana", "Soviet Union", "USSR"} & set(entries)


def test_an_epub_only_build_locates_by_chapter(tmp_path: Path) -> None:
    result = build(write_manuscript(tmp_path / "book"), tmp_path / "out", ("epub",))
    entries = epub_entries(epub_documents(output(result, ".epub")))
    assert locators_of(entries["Marker"])[0][0] == "The talks"


def test_entries_sort_the_way_the_language_does(tmp_path: Path) -> None:
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        "title: Sortierung\nlanguage: de\n"
        "identifier: urn:uuid:0c9d8e7f-1a2b-4c3d-8e5f-6a7b8c9d0e1f\n"
    )
    words = ["Zebra", "Äther", "apfel", "Ähre", "Öl", "Ofen", "Ärger"]
    spans = " ".join(f"[{w}]{{.index}}" for w in words)
    (root / "chapters" / "01-a.md").write_text(f"---\ntitle: A\n---\n\n{spans}\n")
    result = build(root, tmp_path / "out", ("epub",))
    entries = list(epub_entries(epub_documents(output(result, ".epub"))))
    # As a German dictionary files them: umlauts among their base letters, case aside.
    assert entries == ["Ähre", "apfel", "Ärger", "Äther", "Ofen", "Öl", "Zebra"]
