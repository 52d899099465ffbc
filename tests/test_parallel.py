"""`--jobs N` lays the book out in pieces, in N processes, and gives the book --jobs 1 gives."""

from __future__ import annotations

import io
import re
import shutil
import time
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
import weasyprint
from lxml import etree

from bookbuild import parallel, piecelayout
from bookbuild.assets import default_styles_dir
from bookbuild.cli import main
from bookbuild.pipeline import BuildResult, build
from tests.conftest import FIXTURE, GIBBON, output
from tests.pdftags import outloud_report, page_report

MM = 72 / 25.4


def test_piecelayout_reads_the_weasyprint_it_was_written_for() -> None:
    # piecelayout.py patches WeasyPrint 70's private layout (the page maker, PageType, the
    # TargetCollector, margin boxes); a new WeasyPrint must be checked against it first.
    assert piecelayout.PINNED_WEASYPRINT == "70.0"
    assert weasyprint.__version__ == piecelayout.PINNED_WEASYPRINT
    piecelayout.check_version()


# ---------------------------------------------------------------------------------------------
# The hooks, on a small document laid out as a piece.

_PIECE = """<!DOCTYPE html><html><head><style>
@page { size: A6; margin: 10mm; @top-center { content: "HEAD " counter(page); } }
@page :first { margin-top: 40mm; }
section { break-before: page; }
a::after { content: " p. " target-counter(attr(href), page); }
</style></head><body>
<section id="own"><p>Here: <a href="#elsewhere">elsewhere</a>,
<a href="#later">later</a>.</p></section>
<section id="later"><p>Later.</p></section>
</body></html>"""


def _lay_out(
    setup: piecelayout.PieceSetup, html: str = _PIECE
) -> tuple[object, piecelayout.SeenTargets, int]:
    import weasyprint.layout as layout

    calls = []
    original = layout.make_all_pages

    def counting(*args: object) -> object:
        calls.append(1)
        return original(*args)

    layout.make_all_pages = counting
    try:
        with piecelayout.piece_layout(setup) as seen:
            document = weasyprint.HTML(string=html).render()
    finally:
        layout.make_all_pages = original
    return document, seen, len(calls)


def _page_text(document: object, number: int) -> str:
    data = document.copy([document.pages[number]]).write_pdf()  # type: ignore[attr-defined]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return pdf.pages[0].extract_text() or ""


def test_a_seeded_outside_anchor_prints_its_page_without_repagination() -> None:
    document, seen, passes = _lay_out(piecelayout.PieceSetup(offset=40, outside={"elsewhere": 123}))
    text = _page_text(document, 0)
    # The outside anchor's page comes from the seed; the piece's own from the offset.
    assert "elsewhere p. 123" in text and "later p. 42" in text
    assert {"elsewhere", "later"} <= seen.names
    # Alone, the seeded anchor needs one pagination: its page is known as the boxes are built.
    only_outside = _PIECE.replace('<a href="#later">later</a>', "")
    document, _, passes = _lay_out(
        piecelayout.PieceSetup(offset=40, outside={"elsewhere": 123}), only_outside
    )
    assert "elsewhere p. 123" in _page_text(document, 0) and passes == 1


def test_a_piece_has_no_margin_boxes_and_is_not_the_first_page() -> None:
    document, _, _ = _lay_out(piecelayout.PieceSetup(offset=40, outside={"elsewhere": 1}))
    first = document.pages[0]._page_box  # type: ignore[attr-defined]
    assert "HEAD" not in _page_text(document, 0)
    # `@page :first` (a 40 mm top margin) is the book's first page only.
    assert first.margin_top == pytest.approx(10 * 96 / 25.4)
    whole, _, _ = _lay_out(piecelayout.PieceSetup(offset=0, outside={"elsewhere": 1}))
    assert whole.pages[0]._page_box.margin_top == pytest.approx(40 * 96 / 25.4)  # type: ignore[attr-defined]


def test_links_to_outside_anchors_are_kept_and_reported_apart() -> None:
    document, _, _ = _lay_out(piecelayout.PieceSetup(offset=3, outside={"elsewhere": 9}))
    own = piecelayout.real_anchors(document)
    added = piecelayout.add_outside_anchors(document)
    assert added == {"elsewhere"} and {"own", "later"} <= own and "elsewhere" not in own
    data = document.write_pdf()  # type: ignore[attr-defined]
    pdf = pikepdf.open(io.BytesIO(data))
    dests = [
        str(annot.Dest)
        for page in pdf.pages
        for annot in page.obj.get("/Annots", [])
        if "/Dest" in annot
    ]
    assert "elsewhere" in dests  # WeasyPrint would have dropped it with an error


# ---------------------------------------------------------------------------------------------
# The split.


@pytest.fixture(scope="module")
def fixture_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the fixture's print HTML, as the pieces are cut from it."""
    captured: dict[str, str] = {}

    def spy(**kwargs: object) -> None:
        captured["html"] = str(kwargs["html"])
        return None

    original = parallel.lay_out_pieces
    parallel.lay_out_pieces = spy  # type: ignore[assignment]
    try:
        build(FIXTURE, tmp_path_factory.mktemp("split"), ("pdf",), jobs=2)
    finally:
        parallel.lay_out_pieces = original
    return captured["html"]


def test_the_split_cuts_the_print_html_exactly_at_its_top_level_children(
    fixture_html: str,
) -> None:
    html = fixture_html
    split = parallel.split_print_html(html)
    assert split is not None
    # Put back together, the pieces are the HTML itself.
    rebuilt = split.prefix + "".join(html[c.start : c.end] for c in split.children) + split.suffix
    assert rebuilt == html
    assert [c.chapter for c in split.children].count(True) == 4


@pytest.mark.parametrize(
    ("css", "why"),
    [
        ("@page :left { margin-left: 30mm; }", "side"),
        ("@page :nth(3) { margin-top: 0; }", "number"),
        ("section.chapter { break-before: right; }", "left or right"),
        ("h1 { counter-increment: chap; }", "counters of its own"),
        ("h1::before { content: target-text(attr(href)); }", "target-text"),
    ],
)
def test_a_theme_tied_to_the_whole_book_is_laid_out_whole(css: str, why: str) -> None:
    html = f"<html><head><style>{css}</style></head><body></body></html>"
    reason = parallel.unsafe_theme(html, {})
    assert reason is not None and why in reason
    assert (
        parallel.unsafe_theme("<html><head><style>@page :nth(1 of chapter) {}</style>", {}) is None
    )


def test_the_bundled_theme_can_be_laid_out_in_pieces(fixture_html: str) -> None:
    html = fixture_html
    styles = default_styles_dir()
    assert parallel.unsafe_theme(html, {"print.css": styles / "print.css"}) is None


# ---------------------------------------------------------------------------------------------
# The fixture, built whole and in pieces.


def _progress_build(
    tmp: Path, jobs: int, source: Path = FIXTURE, **options: object
) -> tuple[BuildResult, list[str]]:
    steps: list[str] = []
    result = build(
        source, tmp, ("pdf", "epub", "html"), jobs=jobs, progress=steps.append, **options
    )  # type: ignore[arg-type]
    return result, steps


@pytest.fixture(scope="module")
def pieces(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[BuildResult, list[str]]]:
    """The fixture built in 2 processes, and in 3 (one chapter a piece)."""
    return {jobs: _progress_build(tmp_path_factory.mktemp(f"jobs-{jobs}"), jobs) for jobs in (2, 3)}


def test_the_fixture_is_laid_out_in_pieces(
    pieces: dict[int, tuple[BuildResult, list[str]]],
) -> None:
    for jobs, (_, steps) in pieces.items():
        laid = [s for s in steps if s.startswith("laying out pieces")]
        assert laid, steps
        assert f"in {jobs} processes" in laid[0]
    # With 3 processes, the body's 3 chapters are a piece each.
    first_round = next(s for s in pieces[3][1] if s.startswith("laying out pieces"))
    assert "B3" in first_round


def _texts(pdf: Path, *, furniture: bool) -> list[str]:
    with pdfplumber.open(pdf) as doc:
        pages = []
        for page in doc.pages:
            if not furniture:  # the text area only: the print theme's margins are 24/26 mm
                page = page.crop((0, 20 * MM, page.width, page.height - 22 * MM))
            # A hyphen glyph maps back to U+2010 or to "-" as a font subset first met it: each
            # piece has its own subsets (until fontmerge.py unites them), the same glyphs.
            pages.append((page.extract_text() or "").replace("\u2010", "-"))
        return pages


def _links(pdf_path: Path) -> list[tuple[int, int, str]]:
    """Return (page, destination page, text under the link) for every link, in order.

    A note's call and its number at the chapter's end link to each other and print the
    note's number, not a page: their text is left empty.
    """
    pdf = pikepdf.open(pdf_path)
    names = pikepdf.NameTree(pdf.Root.Names.Dests)
    where = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}
    found = []
    with pdfplumber.open(pdf_path) as doc:
        for n, page in enumerate(pdf.pages):
            height = float(page.mediabox[3])
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Link" or "/Dest" not in annot:
                    continue
                dest, note = annot.Dest, False
                if isinstance(dest, pikepdf.String):
                    note = str(dest).startswith(("fn-", "fnref-"))
                    dest = names[str(dest)]
                x0, y0, x1, y1 = (float(v) for v in annot.Rect)
                box = (min(x0, x1), height - max(y0, y1), max(x0, x1), height - min(y0, y1))
                box = (box[0], box[1], max(box[2], box[0] + 0.5), max(box[3], box[1] + 0.5))
                text = "" if note else doc.pages[n].crop(box).extract_text() or ""
                found.append((n + 1, where[dest[0].objgen] + 1, text))
    return found


# A page number: alone (the chronology's column, the index), after a leader or "p. ".
PAGE_NUMBER = re.compile(r"^(?:.*\.\s)?(\d+)(?:[–-]\d+)?[;,.)]*$")


def _page_references(links: list[tuple[int, int, str]], pages: int) -> list[tuple[int, int]]:
    """Return (printed page, destination page) for each link that prints a page number."""
    refs = []
    for _, dest, text in links:
        match = PAGE_NUMBER.search(" ".join(text.split()))
        if match and 1 <= int(match.group(1)) <= pages:
            refs.append((int(match.group(1)), dest))
    return refs


def _page_list(epub: Path) -> list[tuple[str, str]]:
    ns = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    with zipfile.ZipFile(epub) as zf:
        nav = etree.fromstring(zf.read("EPUB/nav.xhtml"))
    entries = nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=ns)
    return [(a.get("href"), "".join(a.itertext())) for a in entries]


def _same_book(whole: BuildResult, cut: BuildResult) -> None:
    """Assert that a book laid out in pieces is the book laid out whole."""
    assert cut.pages == whole.pages
    a, b = output(whole, ".pdf"), output(cut, ".pdf")
    assert _texts(b, furniture=False) == _texts(a, furniture=False)
    links_a, links_b = _links(a), _links(b)
    assert [(p, d) for p, d, _ in links_b] == [(p, d) for p, d, _ in links_a]
    refs = _page_references(links_b, cut.pages or 0)
    assert refs and all(printed == dest for printed, dest in refs), refs
    assert _page_list(output(cut, ".epub")) == _page_list(output(whole, ".epub"))
    assert sorted(d.format() for d in cut.diagnostics) == sorted(
        d.format() for d in whole.diagnostics
    )


@pytest.mark.parametrize("jobs", [2, 3])
def test_pieces_give_the_book_laid_out_whole(
    fixture_build: BuildResult, pieces: dict[int, tuple[BuildResult, list[str]]], jobs: int
) -> None:
    _same_book(fixture_build, pieces[jobs][0])


@pytest.mark.slow
def test_gibbon_in_pieces_is_the_book_laid_out_whole(
    gibbon_build: tuple[BuildResult, float], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The full scale: 297,000 words, 1,888 notes, laid out in pieces in 2 processes."""
    whole, whole_seconds = gibbon_build
    started = time.monotonic()
    cut = build(GIBBON, tmp_path_factory.mktemp("gibbon-jobs-2"), ("pdf", "epub"), jobs=2)
    seconds = time.monotonic() - started
    print(f"\nGibbon vol. 1: --jobs 1 {whole_seconds:.0f} s, --jobs 2 {seconds:.0f} s")
    _same_book(whole, cut)


def test_every_printed_page_reference_is_its_targets_page(
    pieces: dict[int, tuple[BuildResult, list[str]]],
) -> None:
    result = pieces[3][0]
    refs = _page_references(_links(output(result, ".pdf")), result.pages or 0)
    # Contents (4 chapters, 2 lists, appendices, colophon, index), lists, chronology, the
    # index's locators and the in-text `.page-ref`s.
    assert len(refs) >= 25
    assert all(printed == dest for printed, dest in refs), refs


def test_running_heads_and_page_numbers_match(
    fixture_build: BuildResult, pieces: dict[int, tuple[BuildResult, list[str]]]
) -> None:
    whole = _texts(output(fixture_build, ".pdf"), furniture=True)
    assert _texts(output(pieces[2][0], ".pdf"), furniture=True) == whole


def test_the_validators_accept_the_stitched_book(
    fixture_build: BuildResult, pieces: dict[int, tuple[BuildResult, list[str]]], tmp_path: Path
) -> None:
    # The verdicts --jobs 1 gets (tests/test_tagging.py): conforming, no finding.
    assert page_report(output(fixture_build, ".pdf"), "ua1") == (True, [])
    for jobs in (2, 3):
        path = output(pieces[jobs][0], ".pdf")
        assert page_report(path, "ua1") == (True, [])
        result = outloud_report(path)
        findings = [f["rule"] for f in result["findings"] if f["severity"] != "info"]
        assert findings == [] and result["counts"]["error"] == 0


def test_the_archive_edition_in_pieces_passes_pdf_a_3a(tmp_path: Path) -> None:
    archive, _ = _progress_build(tmp_path / "3a", 2, pdf_variant="pdf/a-3a")
    assert page_report(output(archive, ".pdf"), "3a") == (True, [])


# ---------------------------------------------------------------------------------------------
# When the book is laid out whole.


@pytest.mark.parametrize(
    "rule",
    [
        "@page :left { margin-left: 30mm; }",
        # A piece laid out alone would start and end with the body's padding.
        "body { padding-top: 5mm; }",
    ],
)
def test_a_theme_tied_to_the_whole_book_falls_back_with_no_error(tmp_path: Path, rule: str) -> None:
    styles = tmp_path / "styles"
    shutil.copytree(default_styles_dir(), styles)
    with (styles / "print.css").open("a", encoding="utf-8") as css:
        css.write(f"\n{rule}\n")
    result, steps = _progress_build(tmp_path / "out", 2, styles=styles)
    assert not [s for s in steps if s.startswith("laying out pieces")]
    assert result.pages and not [d for d in result.diagnostics if d.severity.value == "error"]


def test_a_book_of_one_chapter_is_laid_out_whole(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "book.yaml").write_text(
        "title: One\nlanguage: en\nidentifier: urn:uuid:5c1b0a7e-2d3f-4e5a-8b6c-7d8e9f0a1b2c\n"
        "authors: [A]\n",
        encoding="utf-8",
    )
    (book / "chapters" / "01-one.md").write_text(
        "---\ntitle: One\nera: 1300/1400\n---\nText.\n", encoding="utf-8"
    )
    result, steps = _progress_build(tmp_path / "out", 2, source=book)
    assert not [s for s in steps if s.startswith("laying out pieces")] and result.pages


def test_the_command_line_takes_jobs(tmp_path: Path) -> None:
    assert main(["build", str(FIXTURE), "--out", str(tmp_path), "--jobs", "0"]) == 2
    out = io.StringIO()
    code = main(
        ["build", str(FIXTURE), "--out", str(tmp_path), "--jobs", "2", "--format", "pdf", "-v"],
        stdout=out,
        stderr=(err := io.StringIO()),
    )
    assert code == 0, err.getvalue()
    assert "laying out pieces" in err.getvalue()
