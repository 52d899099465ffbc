"""The furniture document gives every page the margin boxes a single layout gives it."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
import weasyprint
import weasyprint.layout
from lxml import html as lxml_html
from weasyprint.formatting_structure.boxes import MarginBox, TextBox

from bookbuild import furniture, pdf
from bookbuild.assets import Asset
from bookbuild.fontconf import write_fontconfig
from bookbuild.fontset import find_fonts
from bookbuild.furniture import PageFurniture
from bookbuild.pipeline import build
from tests.conftest import FIXTURE, MANUSCRIPT
from tests.pdftags import outloud_report

VARIANT = "pdf/ua-1"


def test_furniture_reads_weasyprint_70_internals() -> None:
    # furniture.py hooks WeasyPrint's layout_document, make_page and the page-type styles and
    # reads its layout context; a new WeasyPrint must be checked by hand before this moves.
    assert furniture.WEASYPRINT_VERSION == "70.0"
    assert weasyprint.__version__ == furniture.WEASYPRINT_VERSION


@dataclass(frozen=True)
class Book:
    """A print HTML, its assets, and its single layout with the furniture it recorded."""

    html: str
    assets: dict[str, Asset]
    root: Path
    fontconf: Path
    document: Any
    pages: list[PageFurniture]


def lay_out(html: str, assets: dict[str, Asset], root: Path, fontconf: Path) -> Book:
    """Lay the whole HTML out once, the normal way, recording its furniture."""
    with furniture.recording_furniture() as recorder:
        document, _ = pdf.layout_pdf(html, assets, root, VARIANT, fontconf=fontconf)
    return Book(
        html=html,
        assets=assets,
        root=root,
        fontconf=fontconf,
        document=document,
        pages=recorder.pages(document),
    )


def html_book(manuscript: Path, out: Path) -> Book:
    """Build the manuscript's print HTML (`--format html`) and lay it out."""
    build(manuscript, out, ("html",))
    folder = out / "html"
    (page,) = folder.glob("*.html")
    assets: dict[str, Asset] = {
        path.relative_to(folder).as_posix(): path
        for path in folder.rglob("*")
        if path.is_file() and path != page
    }
    return lay_out(page.read_text(encoding="utf-8"), assets, manuscript, fontconf())


def fontconf() -> Path:
    return write_fontconfig(find_fonts(), "en")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Book]:
    return {
        "fixture": html_book(FIXTURE, tmp_path_factory.mktemp("fixture-html")),
        "briefing": html_book(MANUSCRIPT, tmp_path_factory.mktemp("briefing-html")),
    }


def margin_texts(document: Any) -> list[list[tuple[str, str]]]:
    """Return, per page, each margin box's place and text, as WeasyPrint laid them out."""
    return [
        sorted(
            (box.at_keyword, "".join(getattr(b, "text", "") for b in box.descendants()))
            for box in page._page_box.children
            if isinstance(box, MarginBox)
        )
        for page in document.pages
    ]


def furniture_of(book: Book, pages: Sequence[PageFurniture] | None = None) -> Any:
    return furniture.laid_out_furniture(
        book.html,
        book.pages if pages is None else pages,
        assets=book.assets,
        source=book.root,
        variant=VARIANT,
        fontconf=book.fontconf,
    )


def furniture_bytes(book: Book, pages: Sequence[PageFurniture] | None = None) -> bytes:
    return furniture.furniture_pdf(
        book.html,
        book.pages if pages is None else pages,
        assets=book.assets,
        source=book.root,
        variant=VARIANT,
        epoch=0,
        identifier="furniture-test",
        fontconf=book.fontconf,
    )


@pytest.mark.parametrize("name", ["fixture", "briefing"])
def test_every_page_has_the_margin_boxes_of_the_single_layout(
    books: dict[str, Book], name: str
) -> None:
    book = books[name]
    single = margin_texts(book.document)
    made = margin_texts(furniture_of(book))
    assert len(made) == len(single) > 3
    for number, (want, got) in enumerate(zip(single, made, strict=True), start=1):
        assert got == want, f"page {number}"
    # The checks above are not vacuous: running heads and "Page N of M" are there, and the
    # title page (the book's first page) has none.
    total = len(single)
    assert single[0] == [] or all(text == "" for _, text in single[0])
    assert ("@bottom-center", f"Page {total} of {total}") in single[-1]
    heads = {text for page in single for place, text in page if place.startswith("@top")}
    assert len(heads - {""}) >= {"fixture": 1, "briefing": 4}[name]


@pytest.mark.parametrize("name", ["fixture", "briefing"])
def test_the_furniture_pdf_reads_as_the_margins_of_the_single_layout(
    books: dict[str, Book], name: str
) -> None:
    book = books[name]
    single = margin_texts(book.document)
    with pdfplumber.open(io.BytesIO(furniture_bytes(book))) as doc:
        assert len(doc.pages) == len(single)
        for number, (page, boxes) in enumerate(zip(doc.pages, single, strict=True), start=1):
            read = sorted(word["text"] for word in page.extract_words())
            assert read == sorted(w for _, text in boxes for w in text.split()), f"page {number}"
            laid = book.document.pages[number - 1]
            assert (float(page.width), float(page.height)) == pytest.approx(
                (laid.width * 0.75, laid.height * 0.75)
            )


def test_the_furniture_pdf_is_all_artifacts(books: dict[str, Book], tmp_path: Path) -> None:
    path = tmp_path / "furniture.pdf"
    path.write_bytes(furniture_bytes(books["briefing"]))
    with pikepdf.open(path) as doc:
        shown = [painted_outside_artifacts(page) for page in doc.pages]
        assert sum(count for count, _ in shown) > 0  # there is text, all of it in artifacts
        assert [outside for _, outside in shown] == [0] * len(doc.pages)
        assert not any(mcid_in(page) for page in doc.pages)
    result = outloud_report(path)
    assert [f for f in result["findings"] if "content" in f["rule"].lower()] == []
    assert result["counts"]["error"] == 0


TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}
PAINT_OPERATORS = {"f", "F", "f*", "S", "s", "B", "B*", "b", "b*", "Do", "sh"}


def painted_outside_artifacts(page: Any) -> tuple[int, int]:
    """Return how many text and paint operators the page has, and how many are outside an
    /Artifact marked-content sequence."""
    stack: list[str] = []
    total = outside = 0
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op in ("BDC", "BMC"):
            stack.append(str(operands[0]))
        elif op == "EMC":
            stack.pop()
        elif op in TEXT_OPERATORS | PAINT_OPERATORS:
            total += 1
            outside += "/Artifact" not in stack
    return total, outside


def mcid_in(page: Any) -> bool:
    return any(
        str(op) == "BDC" and isinstance(ops[1], pikepdf.Dictionary) and "/MCID" in ops[1]
        for ops, op in pikepdf.parse_content_stream(page)
    )


# ---------------------------------------------------------------------------------------------
# A theme written here: :left/:right margin boxes, a roman page counter, :blank pages made by
# `break-before: right`, a named page with its groups, string(x, start/first-except/last),
# a page background, a border, a bleed and crop marks.

THEME = """
@page { size: 110mm 90mm; margin: 14mm 12mm; bleed: 3mm; marks: crop cross;
  background: #fde; border: 1pt solid #c00;
  @bottom-center { content: counter(page, lower-roman) " / " counter(pages, lower-roman);
                   font: 7pt sans-serif; } }
@page :left { @top-left { content: "L " string(part) " - " string(sec, start);
                          font: 7pt sans-serif; } }
@page :right { @top-right { content: "R " string(sec, first-except) " | " string(sec, last);
                            font: 7pt sans-serif; } }
@page :blank { @top-left { content: "blank after " string(sec); font: 7pt sans-serif; }
               @top-right { content: none; } @bottom-center { content: "(blank)"; } }
@page :first { @bottom-center { content: none; } }
@page :nth(2) { @bottom-left { content: "second sheet"; font: 7pt sans-serif; } }
@page appendix { @top-center { content: "Appendix: " string(sec, first); font: 7pt sans-serif; } }
@page :nth(1 of appendix) { counter-reset: page 0;
                            @top-center { content: "Appendices begin"; font: 7pt sans-serif; } }
body { font: 9pt/1.3 serif; margin: 0; }
h1 { string-set: part content(); break-before: right; font-size: 12pt; }
h2 { string-set: sec content(); font-size: 10pt; margin: 0.5em 0; }
section.appendix { page: appendix; break-before: page; }
section.starts-page { break-before: page; }
"""


def theme_html(parts: Sequence[str], theme: str = THEME) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>T</title><style>{theme}</style></head>'
        f"<body>{''.join(parts)}</body></html>"
    )


def theme_parts() -> list[str]:
    """Return the body's top-level children: parts, a section starting a page, appendices."""
    words = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
    ]

    def paragraphs(seed: int, count: int) -> str:
        return "".join(
            f"<p>{' '.join(words[(seed + i + j) % len(words)] for j in range(40))}</p>"
            for i in range(count)
        )

    parts = []
    for n in range(1, 4):
        sections = "".join(
            f"<h2>Section {n}.{s}</h2>{paragraphs(n * s, 3 + s)}" for s in range(1, 4)
        )
        parts.append(f"<section><h1>Part {n}</h1>{sections}</section>")
    parts.append(f'<section class="starts-page"><h2>Starts a page</h2>{paragraphs(7, 4)}</section>')
    for n in range(1, 3):
        parts.append(f'<section class="appendix"><h2>Appendix {n}</h2>{paragraphs(n, 6)}</section>')
    return parts


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Book:
    root = tmp_path_factory.mktemp("themed")
    return lay_out(theme_html(theme_parts()), {}, root, fontconf())


def test_a_theme_with_left_right_blank_and_roman_pages(themed: Book) -> None:
    single = margin_texts(themed.document)
    assert margin_texts(furniture_of(themed)) == single
    # The theme's features are all exercised by this book.
    pages = themed.pages
    assert any(page.blank for page in pages) and {p.side for p in pages} == {"left", "right"}
    assert any(page.starting for page in pages)
    assert any(page.groups == (("appendix", 0),) for page in pages)
    texts = [text for page in single for _, text in page]
    assert "(blank)" in texts and "second sheet" in texts and "Appendices begin" in texts
    assert any(text.startswith("iv / ") for text in texts)


def test_the_theme_furniture_pdf_is_the_single_pdf_margins(themed: Book, tmp_path: Path) -> None:
    single = io.BytesIO()
    pdf.write_pdf(
        themed.document, single, source=themed.root, variant=VARIANT, epoch=0, identifier="t"
    )
    made = furniture_bytes(themed)
    with pdfplumber.open(single) as want, pdfplumber.open(io.BytesIO(made)) as got:
        assert len(got.pages) == len(want.pages) == len(themed.pages)
        for number, (a, b, laid) in enumerate(
            zip(want.pages, got.pages, themed.document.pages, strict=True), start=1
        ):
            assert b.bbox == a.bbox  # the same page size, bleed included
            assert sorted(margin_words(a, laid)) == sorted(w["text"] for w in b.extract_words())
            # Nothing but text: no background, border or crop marks (the pieces paint those).
            assert (b.rects, b.lines, b.curves) == ([], [], []), f"page {number}"
            assert a.rects or a.lines or a.curves
    with pikepdf.open(io.BytesIO(made)) as doc, pikepdf.open(single) as reference:
        for page, other in zip(doc.pages, reference.pages, strict=True):
            for box in ("/MediaBox", "/TrimBox", "/BleedBox"):
                assert list(map(float, page.obj[box])) == list(map(float, other.obj[box]))


def margin_words(page: Any, laid: Any) -> list[str]:
    """Return the words of a PDF page set by the laid-out page's margin boxes."""
    # WeasyPrint lays out in CSS pixels from the trim box's corner; pdfplumber measures in
    # points, x from the origin and y from the bleed box's top less the bleed (the box
    # starts at a negative y), so it reads y two bleeds low. The text's own boxes, not the
    # margin boxes: body text that overflows its page reaches into a margin box's area.
    low = float(page.height) - laid.height * 0.75
    areas = [
        (
            text.position_x,
            text.position_y,
            text.position_x + text.width,
            text.position_y + text.height,
        )
        for box in laid._page_box.children
        if isinstance(box, MarginBox)
        for text in box.descendants()
        if isinstance(text, TextBox)
    ]
    return [
        w["text"]
        for w in page.extract_words()
        if any(
            x0 <= (w["x0"] + w["x1"]) / 1.5 <= x1
            and y0 <= (w["top"] + w["bottom"] - 2 * low) / 1.5 <= y1
            for x0, y0, x1, y1 in areas
        )
    ]


# ---------------------------------------------------------------------------------------------
# Pieces: runs of the body's children laid out on their own, without margin boxes.


@contextmanager
def no_margin_boxes() -> Iterator[None]:
    """Lay out as a piece does: no margin boxes (the jobs helper hooks this for real)."""
    original = weasyprint.layout.make_margin_boxes
    weasyprint.layout.make_margin_boxes = lambda context, page, state: []
    try:
        yield
    finally:
        weasyprint.layout.make_margin_boxes = original


def piece_pages(html: str, assets: dict[str, Asset], root: Path) -> list[PageFurniture]:
    with no_margin_boxes(), furniture.recording_furniture() as recorder:
        document, _ = pdf.layout_pdf(html, assets, root, VARIANT, fontconf=fontconf())
    assert all(
        not isinstance(box, MarginBox) for page in document.pages for box in page._page_box.children
    )
    return recorder.pages(document)


def test_pieces_record_what_the_single_layout_records() -> None:
    # No `break-before: right` here: a piece cannot know that its first page is a left one
    # (nor add the blank page before it); the jobs helper places pieces for that.
    theme = THEME.replace("break-before: right", "break-before: page")
    parts = theme_parts()
    root = Path(".")
    single = lay_out(theme_html(parts, theme), {}, root, fontconf())
    cuts = [(0, 1), (1, 3), (3, 4), (4, 6)]
    pieces = [piece_pages(theme_html(parts[a:b], theme), {}, root) for a, b in cuts]
    # Each piece starts on a right page of its own; in the book some start on a left one.
    assert {piece[0].side for piece in pieces} == {"right"}
    combined = furniture.book_pages(pieces)
    assert combined == single.pages
    starts = [sum(map(len, pieces[:n])) for n in range(len(pieces))]
    assert "left" in {combined[n].side for n in starts}
    assert margin_texts(furniture_of(single, combined)) == margin_texts(single.document)


def test_briefing_pieces_record_what_the_single_layout_records(books: dict[str, Book]) -> None:
    book = books["briefing"]
    source = lxml_html.document_fromstring(book.html)
    body = source.find("body")
    children = [lxml_html.tostring(child, encoding="unicode") for child in body]
    head, _, _ = book.html.partition("<body>")
    kinds = [(child.get("class") or "").split()[:1] for child in body]
    first = kinds.index(["chapter"])
    end = next(n for n in range(first, len(kinds)) if kinds[n] != ["chapter"])
    middle = (first + end) // 2
    assert first < middle < end
    # Two pieces of chapters; links out of a piece have no target there (the jobs helper
    # seeds them), so WeasyPrint's errors about them are expected and not checked here.
    with no_margin_boxes(), furniture.recording_furniture() as recorder:
        made = [
            weasyprint.HTML(
                string=f"{head}<body>{''.join(children[a:b])}</body></html>",
                base_url=pdf.BASE_URL,
                url_fetcher=pdf.AssetFetcher(book.assets),
            ).render(pdf_variant=VARIANT, pdf_tags=True)
            for a, b in ((first, middle), (middle, end))
        ]
    pieces = [recorder.pages(document) for document in made]
    start = next(n for n, page in enumerate(book.pages) if page.name == "chapter")
    combined = furniture.book_pages([book.pages[:start], *pieces])
    assert combined == book.pages[: len(combined)]
    assert any(page.strings for piece in pieces for page in piece)


def test_a_2500_page_book_takes_seconds(themed: Book) -> None:
    pages = furniture.book_pages([themed.pages] * (2500 // len(themed.pages) + 1))[:2500]
    started = time.perf_counter()
    furniture.furniture_pdf(
        themed.html,
        pages,
        assets={},
        source=themed.root,
        variant=VARIANT,
        epoch=0,
        identifier="t",
        fontconf=themed.fontconf,
    )
    elapsed = time.perf_counter() - started
    print(f"furniture of 2500 pages: {elapsed:.1f} s, {elapsed / 2.5:.1f} ms a page")
    assert elapsed < 60
