"""The PDF is one tagged document: independent validators pass, and the tree reads back whole."""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
import weasyprint
from fontTools.ttLib import TTFont
from lxml import html as lxml_html

from bookbuild import tagging
from bookbuild.pipeline import BuildResult, build
from tests.conftest import DATA, FIXTURE, MANUSCRIPT, output
from tests.pdftags import (
    Element,
    marked_properties,
    outloud_report,
    page_report,
    paint_order,
    read_tree,
)


def test_the_tagger_reads_weasyprint_70_internals() -> None:
    # tagging.py reads WeasyPrint's boxes, Stream._tags and module functions; a new WeasyPrint
    # must be checked against it by hand before this pin moves.
    assert tagging.PINNED_WEASYPRINT == "70.0"
    assert weasyprint.__version__ == tagging.PINNED_WEASYPRINT
    tagging.check_version()


# ---------------------------------------------------------------------------------------------
# Builds: both books in both variants, and a manuscript written here, not kept in the repo.


def write_unseen_manuscript(root: Path) -> Path:
    """Write a manuscript with long tables, many footnotes, nested lists, a figure and a long
    chronology, unlike the repository's books."""
    (root / "chapters").mkdir(parents=True)
    (root / "images").mkdir()
    shutil.copy(FIXTURE / "images" / "route.svg", root / "images" / "map.svg")
    (root / "book.yaml").write_text(
        "title: Rivers of the North\nlanguage: en\n"
        "identifier: urn:uuid:6a0f1d2e-3b4c-4d5e-8f60-718293a4b5c6\n"
        "authors: [Test Writer]\ndate: 2025-01-15\n"
    )
    towns = ("Ardel", "Brisk", "Corran", "Dunmere", "Elst", "Farrow", "Gelt", "Harl", "Ives")
    cargo = ("salt", "timber", "grain", "furs", "wax", "iron", "cloth", "wine", "fish")
    for number in range(3):
        # Each event in a sentence of its own; every third one carries a footnote.
        events = " ".join(
            f"In [{towns[i % 9]} the {cargo[(i + number) % 9]} fleet came]"
            f'{{.event date="{1500 + number * 40 + i}" title="{towns[i % 9]} fleet, '
            f'{cargo[(i + number) % 9]} {number}-{i}"}} back.'
            + (f"[^n{number}-{i}]" if i % 3 == 0 else "")
            for i in range(25)
        )
        notes = "\n".join(
            f"[^n{number}-{i}]: The {cargo[(i * 2 + number) % 9]} register of "
            f"{towns[(i + 4) % 9]} for this year is lost; {i + 3} later chronicles agree."
            for i in range(0, 25, 3)
        )
        quarters = ("north", "south", "east", "west", "old town")
        rows = "\n".join(
            f"| {towns[i % 9]} {quarters[i // 9]} | {100 + i * 7} "
            f"| {cargo[i % 9]} for the {quarters[(i + number) % 5]} |"
            for i in range(45)
        )
        text = f"""---
title: Part {number + 1} of the river story
era: {1500 + number * 40}/{1539 + number * 40}
summary: How the trade grew in stage {number + 1}.
---
{"The river carried salt, timber and grain to the coast every spring. " * 30}

1. First step of the route
   - a nested point about fords
   - another nested point about tolls
2. Second step, with a longer body that wraps over more than one line of the page width.

> A quotation from a traveller who saw the boats, set as a block quote.

| Town | Boats | Cargo |
|------|-------|-------|
{rows}

![A diagram of the river route with three towns](images/map.svg)

{events}

{notes}
"""
        (root / "chapters" / f"0{number}-stage{number + 1}.md").write_text(text)
    return root


SOURCED = DATA / "sourced"  # a chronology with a source column, context rows and a bibliography
VARIANTS = ("pdf/ua-1", "pdf/a-3a")
BOOKS = ("fixture", "briefing", "unseen", "sourced")


@pytest.fixture(scope="module")
def builds(
    tmp_path_factory: pytest.TempPathFactory, fixture_build: BuildResult
) -> dict[tuple[str, str], Path]:
    """Build each book's PDF in both variants (the fixture's PDF/UA-1 build is shared)."""
    unseen = write_unseen_manuscript(tmp_path_factory.mktemp("unseen") / "book")
    sources = {"fixture": FIXTURE, "briefing": MANUSCRIPT, "unseen": unseen, "sourced": SOURCED}
    pdfs = {("fixture", "pdf/ua-1"): output(fixture_build, ".pdf")}
    for book in BOOKS:
        for variant in VARIANTS:
            if (book, variant) in pdfs:
                continue
            out = tmp_path_factory.mktemp(f"{book}-{variant.replace('/', '-')}")
            result = build(sources[book], out, ("pdf", "html"), pdf_variant=variant)
            assert result.diagnostics == ()
            pdfs[(book, variant)] = output(result, ".pdf")
    return pdfs


# ---------------------------------------------------------------------------------------------
# Validators nobody here wrote.


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_page_says_pdf_ua_1_and_pdf_a_3a(
    builds: dict[tuple[str, str], Path], book: str, variant: str
) -> None:
    path = builds[(book, variant)]
    assert page_report(path, "ua1") == (True, [])
    if variant == "pdf/a-3a":
        assert page_report(path, "3a") == (True, [])


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_outloud_finds_no_error_and_no_warning(
    builds: dict[tuple[str, str], Path], book: str, variant: str
) -> None:
    result = outloud_report(builds[(book, variant)])
    findings = [(f["rule"], f["message"]) for f in result["findings"] if f["severity"] != "info"]
    assert findings == []
    assert result["counts"]["error"] == 0 and result["counts"]["warning"] == 0


# ---------------------------------------------------------------------------------------------
# The tree, read back.


def tree_of(path: Path) -> tuple[pikepdf.Pdf, Element]:
    pdf = pikepdf.open(path)
    return pdf, read_tree(pdf)


def html_of(path: Path) -> lxml_html.HtmlElement:
    (page,) = (path.parent / "html").glob("*.html")
    return lxml_html.parse(str(page)).getroot()


def roles(tree: Element) -> Counter[str]:
    return Counter(e.role for e in tree.walk())


@pytest.mark.parametrize("book", BOOKS)
def test_one_structure_element_per_html_element(
    builds: dict[tuple[str, str], Path], book: str
) -> None:
    path = builds[(book, "pdf/ua-1")]
    _, tree = tree_of(path)
    doc = html_of(path)
    count = roles(tree)

    def html(*tags: str) -> int:
        return sum(len(doc.findall(f".//{t}")) for t in tags)

    assert count["Sect"] == html("section", "nav", "aside") > 0
    assert count["P"] == html("p", "pre")
    assert count["H1"] == html("h1") and count["H2"] == html("h2") and count["H3"] == html("h3")
    assert count["Table"] == html("table")
    assert count["TR"] == html("tr")
    assert count["L"] == html("ul", "ol", "dl")
    assert count["LI"] == html("li", "dt")
    assert count["Note"] == len(doc.find_class("footnote")) > 0
    assert count["Reference"] == count["Note"]


def test_a_paragraph_broken_over_a_page_is_one_p(builds: dict[tuple[str, str], Path]) -> None:
    _, tree = tree_of(builds[("briefing", "pdf/ua-1")])
    spanning = [e for e in tree.walk() if e.role == "P" and len({p for p, _ in e.all_marks()}) > 1]
    assert spanning, "no paragraph crosses a page break"
    # Each of its parts is one element, its text continues on the next page.
    assert all(e.parent is not None and e.parent.role != "P" for e in spanning)


def test_the_chronology_is_one_table_with_one_row_per_event(
    builds: dict[tuple[str, str], Path],
) -> None:
    path = builds[("unseen", "pdf/ua-1")]
    _, tree = tree_of(path)
    doc = html_of(path)
    events = len(doc.find_class("chronology-table")[0].findall(".//tbody/tr"))
    tables = [e for e in tree.walk() if e.role == "Table"]
    chronology = [t for t in tables if sum(1 for e in t.walk() if e.role == "TR") == events + 1]
    assert len(chronology) == 1
    pages = {p for p, _ in chronology[0].all_marks()}
    assert len(pages) >= 2  # 75 events fill more than a page, and it stays one table


def test_each_footnote_is_a_note_with_id_and_label_after_its_reference(
    builds: dict[tuple[str, str], Path],
) -> None:
    path = builds[("unseen", "pdf/ua-1")]
    pdf, tree = tree_of(path)
    notes = [e for e in tree.walk() if e.role == "Note"]
    references = [e for e in tree.walk() if e.role == "Reference"]
    assert len(notes) == len(references) == 27
    ids = [str(n.obj.ID) for n in notes]
    assert len(set(ids)) == len(ids)
    id_tree = pdf.Root.StructTreeRoot.IDTree.Names
    named = {str(id_tree[i]) for i in range(0, len(id_tree), 2)}
    assert set(ids) <= named
    for note, reference in zip(notes, references, strict=True):
        assert note.kids[0].role == "Lbl"
        # Same page, after the reference: notes are read where they are printed.
        assert {p for p, _ in note.all_marks()} >= {p for p, _ in reference.all_marks()}


def test_lists_nest_inside_list_bodies(builds: dict[tuple[str, str], Path]) -> None:
    _, tree = tree_of(builds[("unseen", "pdf/ua-1")])
    lists = [e for e in tree.walk() if e.role == "L"]
    assert lists
    for lst in lists:
        assert lst.parent is not None and lst.parent.role != "L"
        assert all(k.role == "LI" for k in lst.kids)
        for item in lst.kids:
            assert [k.role for k in item.kids] in (["Lbl", "LBody"], ["LBody"], ["Lbl"])
    nested = [e for e in lists if e.parent is not None and e.parent.role == "LBody"]
    assert len(nested) == 3
    labels = [e for e in tree.walk() if e.role == "Lbl" and e.parent and e.parent.role == "LI"]
    assert "1." in {str(e.obj.get("/ActualText", "")) for e in labels}


@pytest.mark.parametrize("book", ["fixture", "sourced"])
def test_table_headers_have_scope_and_cells_name_them(
    builds: dict[tuple[str, str], Path], book: str
) -> None:
    _, tree = tree_of(builds[(book, "pdf/ua-1")])
    headers = [e for e in tree.walk() if e.role == "TH"]
    cells = [e for e in tree.walk() if e.role == "TD"]
    assert headers and cells
    ids = {str(h.obj.ID) for h in headers}
    assert all(h.obj.A.Scope == "/Column" for h in headers)
    for cell in cells:
        assert {str(i) for i in cell.obj.A.Headers} <= ids and len(cell.obj.A.Headers) == 1


@pytest.mark.parametrize("book", BOOKS)
def test_every_link_annotation_is_in_a_link_element(
    builds: dict[tuple[str, str], Path], book: str
) -> None:
    pdf, tree = tree_of(builds[(book, "pdf/ua-1")])
    in_links = {objr.Obj.objgen for e in tree.walk() if e.role == "Link" for objr in e.objrs}
    annotations = [a for p in pdf.pages for a in p.get("/Annots", [])]
    assert annotations
    for annotation in annotations:
        assert annotation.objgen in in_links
        assert int(annotation.F) & 4  # printed
        assert str(annotation.Contents).strip()
        width = abs(float(annotation.Rect[2]) - float(annotation.Rect[0]))
        height = abs(float(annotation.Rect[3]) - float(annotation.Rect[1]))
        assert width > 1 and height > 1


def test_chronology_rows_are_clickable_from_date_to_page(
    builds: dict[tuple[str, str], Path],
) -> None:
    path = builds[("fixture", "pdf/ua-1")]
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            links = [a for a in page.annots if a["data"].get("Dest", b"").startswith(b"ev-")]
            by_target: dict[bytes, list[dict[str, float]]] = {}
            for link in links:
                by_target.setdefault(link["data"]["Dest"], []).append(link)
            for row in by_target.values():
                left = min(a["x0"] for a in row)
                right = max(a["x1"] for a in row)
                assert right - left > 0.8 * (page.width - 46 * 72 / 25.4)


@pytest.mark.parametrize("book", BOOKS)
def test_running_heads_page_numbers_and_leaders_are_artifacts(
    builds: dict[tuple[str, str], Path], book: str
) -> None:
    path = builds[(book, "pdf/ua-1")]
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages[1:]:
            top = [c for c in page.chars if c["top"] < 20 * 72 / 25.4]
            bottom = [c for c in page.chars if c["bottom"] > page.height - 20 * 72 / 25.4]
            assert bottom, page.page_number
            assert all(c["tag"] == "Artifact" and c["mcid"] is None for c in top + bottom)
        contents = pdf.pages[1]
        dots = [c for c in contents.chars if c["text"] == "."]
        assert len(dots) > 50
        assert all(c["tag"] == "Artifact" for c in dots)
    kinds = Counter(
        str(props.get("/Type"))
        for _, tag, props in marked_properties(pikepdf.open(path))
        if tag == "Artifact" and props is not None
    )
    assert kinds["/Pagination"] > 0 and kinds["/Layout"] > 0


def test_layout_hyphens_read_as_the_word(builds: dict[tuple[str, str], Path]) -> None:
    path = builds[("briefing", "pdf/ua-1")]
    actual = [
        str(props.ActualText)
        for _, _, props in marked_properties(pikepdf.open(path))
        if props is not None and "/ActualText" in props and "/MCID" in props
    ]
    assert len(actual) > 10
    with pdfplumber.open(path) as pdf:
        lines = [line["text"] for p in pdf.pages for line in p.extract_text_lines()]
    # Each is a line that ends in a hyphen the layout added, given without it; the font maps
    # that glyph to U+002D, so a plain extraction shows "-".
    # The font draws hyphens as U+2010, while the ActualText keeps the manuscript's characters.
    # In a table, a cell's line shares its text line with the cells beside it, so the added
    # hyphen ends a word of the line, not necessarily the line.
    folded = [line.replace("\u2010", "-") for line in lines]
    for text in actual:
        assert not text.endswith(("-", "\u2010"))
        word = re.escape(text.split()[-1].replace("\u2010", "-") + "-")
        assert any(re.search(rf"{word}(?:\s|$)", line) for line in folded), text


@pytest.mark.parametrize("book", BOOKS)
def test_every_page_paints_in_reading_order(builds: dict[tuple[str, str], Path], book: str) -> None:
    pdf, tree = tree_of(builds[(book, "pdf/ua-1")])
    reading: dict[int, list[int]] = {}
    for page, mcid in tree.all_marks():
        reading.setdefault(page, []).append(mcid)
    for index in range(len(pdf.pages)):
        painted = paint_order(pdf, index)
        assert reading.get(index, []) == painted, index + 1
        assert sorted(painted) == list(range(len(painted)))


@pytest.mark.parametrize("book", BOOKS)
def test_glyph_widths_match_the_embedded_fonts(
    builds: dict[tuple[str, str], Path], book: str
) -> None:
    pdf = pikepdf.open(builds[(book, "pdf/ua-1")])
    fonts = {f.objgen: f for p in pdf.pages for f in p.Resources.Font.values()}
    checked = 0
    for font in fonts.values():
        descendant = font.DescendantFonts[0]
        program = TTFont(io.BytesIO(descendant.FontDescriptor.FontFile2.read_bytes()))
        scale = 1000 / program["head"].unitsPerEm
        order = program.getGlyphOrder()
        widths = list(descendant.W)
        for first, run in zip(widths[::2], widths[1::2], strict=True):
            for cid, width in enumerate(run, start=int(first)):
                embedded = program["hmtx"][order[cid]][0] * scale
                assert abs(float(width) - embedded) < 1, (str(font.BaseFont), cid)
                checked += 1
    assert checked > 100


def test_xmp_is_unfiltered_and_a_3a_also_claims_ua_1(builds: dict[tuple[str, str], Path]) -> None:
    for variant in VARIANTS:
        pdf = pikepdf.open(builds[("fixture", variant)])
        metadata = pdf.Root.Metadata
        assert "/Filter" not in metadata
        xmp = metadata.read_raw_bytes().decode()
        assert re.search(r'pdfuaid:part="1"|<pdfuaid:part>1<', xmp)
        if variant == "pdf/a-3a":
            assert "pdfaSchema:prefix>pdfuaid<" in xmp


GENERIC_HTML = """<!DOCTYPE html><html lang="en"><head><title>Generic</title><style>
@page { size: A6; @bottom-center { content: counter(page); } }
.fn { float: footnote; }
</style></head><body>
<main><article><h1>Title</h1>
<p>Text with <em>emphasis</em>, <code>code</code>, a <a href="#d">link</a> and a
note<span class="fn" id="fn-1">The note.</span>.</p>
<dl id="d"><dt>Term</dt><dd>First description.</dd><dd>Second description.</dd>
<dt>Other term</dt><dd>Its description.</dd></dl>
<blockquote><p>Quoted.</p></blockquote>
<pre><code>print("hello")</code></pre>
<figure><img alt="A square" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 width='20' height='20'%3E%3Crect width='20' height='20'/%3E%3C/svg%3E">
<figcaption>A caption.</figcaption></figure>
<img alt="" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 width='5' height='5'%3E%3C/svg%3E">
<table><caption>Cities</caption><thead><tr><th>City</th><th>People</th></tr></thead>
<tbody><tr><th scope="row">Lübeck</th><td>20,000</td></tr></tbody></table>
<aside><p>An aside.</p></aside><nav><ol><li><a href="#d">Terms</a></li></ol></nav>
</article></main></body></html>"""


def test_the_tagger_maps_html_elements_not_one_book() -> None:
    document = weasyprint.HTML(string=GENERIC_HTML).render(pdf_tags=True)
    buffer = io.BytesIO()
    with tagging.document_tags(document) as report:
        document.write_pdf(buffer, pdf_variant="pdf/ua-1", pdf_tags=True)
    assert report.orphans == 0
    assert report.artifacts["Pagination"] >= 1 and report.artifacts["Layout"] >= 1
    pdf = pikepdf.open(buffer)  # kept open while the tree's objects are read
    tree = read_tree(pdf)
    count = roles(tree)
    for role, n in {
        "Part": 1,
        "Art": 1,
        "H1": 1,
        "Code": 2,
        "Link": 2,
        "Note": 1,
        "Reference": 1,
        "BlockQuote": 1,
        "Figure": 1,
        "Caption": 2,
        "Table": 1,
        "TH": 3,
        "TD": 1,
        "Sect": 2,
    }.items():
        assert count[role] == n, role
    terms = [e for e in tree.walk() if e.role == "L" and e.kids[0].kids[0].role == "Lbl"]
    (definitions,) = [t for t in terms if len(t.kids) == 2]
    assert [[k.role for k in item.kids] for item in definitions.kids] == [
        ["Lbl", "LBody", "LBody"],
        ["Lbl", "LBody"],
    ]
    (row_header,) = [e for e in tree.walk() if e.role == "TH" and e.obj.A.Scope == "/Row"]
    (cell,) = [e for e in tree.walk() if e.role == "TD"]
    assert str(row_header.obj.ID) in {str(h) for h in cell.obj.A.Headers}
    assert len(cell.obj.A.Headers) == 2
    (figure,) = [e for e in tree.walk() if e.role == "Figure"]
    assert str(figure.obj.Alt) == "A square"
    (note,) = [e for e in tree.walk() if e.role == "Note"]
    assert str(note.obj.ID) == "fn-1"
