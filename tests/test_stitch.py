"""The stitcher: piece PDFs of the fixture, laid out apart, read back as one tagged book."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest

from bookbuild import pdf as bbpdf
from bookbuild.stitch import PiecePdf, stitch
from tests.conftest import FIXTURE, MANUSCRIPT
from tests.pdftags import Element, outloud_report, page_report, read_tree
from tests.stitchpieces import (
    furniture_html,
    layout,
    make_furniture,
    make_pieces,
    print_book,
    without_margin_boxes,
    write,
)

VARIANTS = ("pdf/ua-1", "pdf/a-3a")
CAPTIONS = "figcaption, caption { bookmark-level: 2; bookmark-label: content(text); }"


@dataclass(frozen=True)
class Stitched:
    pieces: list[PiecePdf]
    page_map: dict[str, int]  # where each id starts in one layout of the whole book
    bookmarks: list[Any]  # the whole book's outline, as WeasyPrint made it
    furniture: bytes
    plain: Path  # stitched without furniture
    dressed: Path  # stitched with furniture


@pytest.fixture(scope="module")
def stitched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stitched]:
    out = tmp_path_factory.mktemp("stitch")
    book = print_book(FIXTURE, out / "html")
    # Captions in the outline, below their chapter: an outline of two levels to keep.
    book = replace(book, html=book.html.replace("</head>", f"<style>{CAPTIONS}</style></head>", 1))
    made = {}
    for variant in VARIANTS:
        pieces, documents = make_pieces(book, variant)
        whole = layout(book, without_margin_boxes(book.html), variant)
        furniture = make_furniture(book, sum(len(d.pages) for d in documents), variant)
        name = variant.replace("/", "-")
        plain, dressed = out / f"{name}-plain.pdf", out / f"{name}-dressed.pdf"
        plain.write_bytes(stitch(pieces, None))
        dressed.write_bytes(stitch(pieces, furniture))
        made[variant] = Stitched(
            pieces, bbpdf.page_map(whole), whole.make_bookmark_tree(), furniture, plain, dressed
        )
    return made


def opened(data: bytes | Path) -> pikepdf.Pdf:
    return pikepdf.open(data if isinstance(data, Path) else io.BytesIO(data))


def texts(data: bytes | Path) -> list[str]:
    with pdfplumber.open(data if isinstance(data, Path) else io.BytesIO(data)) as document:
        return [page.extract_text() or "" for page in document.pages]


def name_tree(pdf: pikepdf.Pdf) -> dict[str, int]:
    """Return the page index each named destination leads to."""
    pages = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    return {
        str(name): pages[value[0].objgen]
        for name, value in pikepdf.NameTree(pdf.Root.Names.Dests).items()
    }


def links(pdf: pikepdf.Pdf) -> Iterator[tuple[int, pikepdf.Dictionary]]:
    for index, page in enumerate(pdf.pages):
        for annotation in page.obj.get("/Annots", ()):
            if annotation.Subtype == "/Link":
                yield index, annotation


def test_pages_are_the_pieces_pages_in_order(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/ua-1"]
    assert len(made.pieces) >= 3
    expected = [text for piece in made.pieces for text in texts(piece.data)]
    assert texts(made.plain) == expected
    assert len(expected) == max(made.page_map.values())  # one layout of the whole has as many


def test_links_lead_where_the_whole_books_links_lead(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/ua-1"]
    pdf = opened(made.plain)
    names = name_tree(pdf)
    # Only the pieces' real anchors are named; the fake ones kept links alive in their piece.
    assert set(names) == set().union(*(p.anchors for p in made.pieces))
    assert all(names[name] + 1 == made.page_map[name] for name in names)
    firsts = [0]
    for piece in made.pieces:
        firsts.append(firsts[-1] + len(opened(piece.data).pages))
    crossing = 0
    for index, annotation in links(pdf):
        if "/Dest" not in annotation:
            assert annotation.A.S == "/URI"
            continue
        target = str(annotation.Dest)
        assert names[target] + 1 == made.page_map[target], target
        piece_of = [i for i in range(len(made.pieces)) if firsts[i] <= index < firsts[i + 1]]
        crossing += target not in made.pieces[piece_of[0]].anchors
    assert crossing >= 5  # the contents, lists and chronology link into other pieces


def count_elements(pdf: pikepdf.Pdf) -> int:
    return sum(1 for _ in read_tree(pdf).walk())


def painted_marks(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    found = set()
    for index, page in enumerate(pdf.pages):
        for operands, operator in pikepdf.parse_content_stream(page):
            properties = operands[1] if str(operator) == "BDC" else None
            if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                found.add((index, int(operands[1].MCID)))
    return found


def number_tree(tree: Any) -> dict[int, Any]:
    return {int(k): v for k, v in pikepdf.NumberTree(tree).items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_structure_tree_holds_every_piece(stitched: dict[str, Stitched], variant: str) -> None:
    made = stitched[variant]
    pdf = opened(made.dressed)
    document = read_tree(pdf)  # one StructTreeRoot kid: one Document
    pieces = [count_elements(opened(p.data)) for p in made.pieces]
    assert sum(1 for _ in document.walk()) == sum(pieces) - len(pieces) + 1
    assert all(kid.obj.P.objgen == document.obj.objgen for kid in document.kids)
    assert all(kid.obj.P.objgen == e.obj.objgen for e in document.walk() for kid in e.kids)
    owner = {mark: e for e in document.walk() for mark in e.marks}
    painted = painted_marks(pdf)
    assert painted == set(owner)  # every mark painted is in the tree, and no other
    parents = number_tree(pdf.Root.StructTreeRoot.ParentTree)
    for index, page in enumerate(pdf.pages):
        row = parents[int(page.obj.StructParents)]
        for page_index, mcid in painted:
            if page_index == index:
                assert row[mcid].objgen == owner[(index, mcid)].obj.objgen
    keys = set(parents)
    assert len(keys) == len(pdf.pages) + sum(1 for _ in links(pdf))
    assert int(pdf.Root.StructTreeRoot.ParentTreeNextKey) == max(keys) + 1


def test_every_link_annotation_belongs_to_its_link_element(stitched: dict[str, Stitched]) -> None:
    pdf = opened(stitched["pdf/ua-1"].dressed)
    parents = number_tree(pdf.Root.StructTreeRoot.ParentTree)
    pages = {page.obj.objgen for page in pdf.pages}
    seen = 0
    for index, annotation in links(pdf):
        link = parents[int(annotation.StructParent)]
        assert link.S == "/Link"
        (objr,) = [
            k
            for k in link.K
            if isinstance(k, pikepdf.Dictionary)
            and k.get("/Type") == "/OBJR"
            and k.Obj.objgen == annotation.objgen
        ]
        assert objr.Pg.objgen == pdf.pages[index].obj.objgen
        seen += 1
    assert seen > 20
    # No element of any piece points at a page the book does not have.
    for element in raw_elements(pdf.Root.StructTreeRoot):
        if "/Pg" in element:
            assert element.Pg.objgen in pages
        for kid in kids_of(element):
            if isinstance(kid, pikepdf.Dictionary) and "/Pg" in kid:
                assert kid.Pg.objgen in pages


def kids_of(element: Any) -> list[Any]:
    k = element.get("/K")
    return list(k) if isinstance(k, pikepdf.Array) else ([] if k is None else [k])


def raw_elements(root: Any) -> Iterator[Any]:
    stack = kids_of(root)
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            yield element
            stack.extend(kids_of(element))


def test_element_ids_stay_unique_and_cells_keep_their_headers(
    stitched: dict[str, Stitched],
) -> None:
    made = stitched["pdf/ua-1"]
    piece_ids = [ids_of(opened(p.data)) for p in made.pieces]
    assert len(set.union(*piece_ids)) < sum(len(ids) for ids in piece_ids)  # they do clash
    pdf = opened(made.plain)
    ids = dict(pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree).items())
    assert len(ids) == sum(len(i) for i in piece_ids)
    tree = read_tree(pdf)
    by_id = {str(e.obj.ID): e for e in tree.walk() if "/ID" in e.obj}
    assert set(by_id) == set(ids)
    assert all(ids[i].objgen == by_id[i].obj.objgen for i in ids)
    cells = 0
    for element in tree.walk():
        if element.role == "TD" and "/Headers" in element.obj.A:
            table = table_of(element)
            for header in element.obj.A.Headers:
                th = by_id[str(header)]
                assert th.role == "TH" and table_of(th) is table
            cells += 1
    assert cells > 5


def ids_of(pdf: pikepdf.Pdf) -> set[str]:
    root = pdf.Root.StructTreeRoot
    return set(dict(pikepdf.NameTree(root.IDTree).items())) if "/IDTree" in root else set()


def table_of(element: Element) -> Element:
    current: Element | None = element
    while current is not None and current.role != "Table":
        current = current.parent
    assert current is not None
    return current


def outline(pdf: pikepdf.Pdf) -> list[tuple[int, str, int]]:
    """Return (level, title, page index) of each outline item, in order."""
    pages = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    found: list[tuple[int, str, int]] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            found.append((level, item.title, pages[item.destination[0].objgen]))
            walk(item.children, level + 1)

    walk(pdf.open_outline().root, 1)
    return found


def weasyprint_outline(bookmarks: Any, level: int = 1) -> list[tuple[int, str, int]]:
    found = []
    for label, (page, *_), children, _state in bookmarks:
        found.append((level, label, page))
        found += weasyprint_outline(children, level + 1)
    return found


def test_one_outline_as_the_whole_books(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/ua-1"]
    pdf = opened(made.dressed)
    items = outline(pdf)
    assert items == weasyprint_outline(made.bookmarks)
    assert {level for level, _, _ in items} == {1, 2}  # levels kept
    pieces = [outline(opened(p.data)) for p in made.pieces]
    assert [title for _, title, _ in items] == [t for piece in pieces for _, t, _ in piece]


@pytest.mark.parametrize("variant", VARIANTS)
def test_page_and_outloud_accept_the_stitched_book(
    stitched: dict[str, Stitched], variant: str
) -> None:
    made = stitched[variant]
    for path in (made.plain, made.dressed):
        assert page_report(path, "ua1") == (True, [])
        if variant == "pdf/a-3a":
            assert page_report(path, "3a") == (True, [])
        result = outloud_report(path)
        findings = [
            (f["rule"], f["message"]) for f in result["findings"] if f["severity"] != "info"
        ]
        assert findings == []
        assert result["counts"]["error"] == 0 and result["counts"]["warning"] == 0


def test_furniture_is_painted_on_every_page_as_pagination(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/ua-1"]
    plain, dressed = texts(made.plain), texts(made.dressed)
    with pdfplumber.open(made.dressed) as document:
        for number, page in enumerate(document.pages, start=1):
            (line,) = [
                line
                for line in page.extract_text_lines(return_chars=True)
                if line["text"].startswith("Furniture head")
            ]
            assert line["text"] == f"Furniture head {number}" and line["top"] < 60
            head = line["chars"]
            assert {c.get("tag") for c in head} == {"Artifact"}
            assert all(c.get("mcid") is None for c in head)
            assert f"Furniture head {number}" in dressed[number - 1]
            assert f"Furniture head {number}" not in plain[number - 1]
    pdf = opened(made.dressed)
    for page in pdf.pages:
        ops = [(list(o), str(op)) for o, op in pikepdf.parse_content_stream(page)]
        do = next(
            i
            for i, (o, op) in enumerate(ops)
            if op == "Do" and str(o[0]).startswith("/BBFurniture")
        )
        bdc = max(i for i, (o, op) in enumerate(ops[:do]) if op in ("BDC", "EMC"))
        assert ops[bdc][1] == "BDC" and ops[bdc][0][0] == "/Artifact"
        assert ops[bdc][0][1].Type == "/Pagination"
    # The tree reads the same without the furniture as with it: no furniture text in it.
    assert count_elements(pdf) == count_elements(opened(made.plain))


def test_catalog_and_identifier_are_piece_zeros(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/a-3a"]
    first, pdf = opened(made.pieces[0].data), opened(made.dressed)
    assert pdf.pdf_version == first.pdf_version
    assert bytes(pdf.trailer.ID[0]) == bytes(first.trailer.ID[0])
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
        assert pdf.Root[key] == first.Root[key]
    assert "/Filter" not in pdf.Root.Metadata
    assert pdf.Root.Metadata.read_raw_bytes() == first.Root.Metadata.read_raw_bytes()
    profile = pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes()
    assert profile == first.Root.OutputIntents[0].DestOutputProfile.read_bytes()
    # The same pieces stitch to the same bytes.
    assert stitch(made.pieces, made.furniture) == made.dressed.read_bytes()


def test_furniture_of_another_length_is_refused(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/ua-1"]
    furniture = opened(made.furniture)
    del furniture.pages[-1]
    buffer = io.BytesIO()
    furniture.save(buffer)
    with pytest.raises(ValueError, match="furniture has 10 pages, the book 11"):
        stitch(made.pieces, buffer.getvalue())


def test_a_piece_set_many_times_the_fixture_stitches(stitched: dict[str, Stitched]) -> None:
    made = stitched["pdf/ua-1"]
    pieces = made.pieces * 8
    pdf = opened(stitch(pieces, None))
    per_copy = len(opened(made.plain).pages)
    assert len(pdf.pages) == 8 * per_copy
    # A duplicate anchor leads to the first piece that names it.
    assert name_tree(pdf) == {
        name: page - 1
        for name, page in made.page_map.items()
        if name in name_tree(opened(made.plain))
    }
    assert count_elements(pdf) == 8 * (count_elements(opened(made.plain)) - 1) + 1
    assert len(outline(pdf)) == 8 * len(outline(opened(made.plain)))


def with_attachment(piece: PiecePdf, name: str, data: bytes) -> PiecePdf:
    pdf = opened(piece.data)
    pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, mime_type="text/plain")
    buffer = io.BytesIO()
    pdf.save(buffer)
    return PiecePdf(data=buffer.getvalue(), anchors=piece.anchors)


def test_files_embedded_in_any_piece_are_kept_once(stitched: dict[str, Stitched]) -> None:
    pieces = list(stitched["pdf/ua-1"].pieces)
    pieces[1] = with_attachment(pieces[1], "errata.txt", b"first")
    pieces[2] = with_attachment(pieces[2], "errata.txt", b"second")
    pieces[2] = with_attachment(pieces[2], "sources.txt", b"list")
    pdf = opened(stitch(pieces, None))
    files = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
    assert files == {"errata.txt": b"first", "sources.txt": b"list"}


def test_a_link_to_an_id_no_piece_holds_is_refused(stitched: dict[str, Stitched]) -> None:
    pieces = list(stitched["pdf/ua-1"].pieces)
    pdf = opened(pieces[0].data)
    (_, annotation), *_ = [(i, a) for i, a in links(pdf) if "/Dest" in a]
    annotation.Dest = pikepdf.String("nowhere")
    buffer = io.BytesIO()
    pdf.save(buffer)
    pieces[0] = PiecePdf(data=buffer.getvalue(), anchors=pieces[0].anchors)
    with pytest.raises(ValueError, match="links to ids no piece holds: nowhere"):
        stitch(pieces, None)


def test_furniture_that_paints_content_is_refused(
    stitched: dict[str, Stitched], tmp_path: Path
) -> None:
    made = stitched["pdf/ua-1"]
    book = print_book(FIXTURE, tmp_path / "html")
    html = furniture_html(book, len(opened(made.plain).pages))
    html = html.replace('<div class="furniture-page"></div>', "<p>Body text</p>", 1)
    document = layout(book, html, "pdf/ua-1")
    with pytest.raises(ValueError, match="furniture page 1 paints content"):
        stitch(made.pieces, write(book, document, "pdf/ua-1"))


@pytest.mark.slow
def test_the_briefing_stitched_from_its_chapters(tmp_path: Path) -> None:
    """A longer book with notes, an index and images, cut before each of its chapters."""
    book = print_book(MANUSCRIPT, tmp_path / "html")
    pieces, _ = make_pieces(book, "pdf/ua-1")
    assert len(pieces) >= 5
    whole = layout(book, without_margin_boxes(book.html), "pdf/ua-1")
    path = tmp_path / "briefing.pdf"
    path.write_bytes(stitch(pieces, make_furniture(book, len(whole.pages), "pdf/ua-1")))
    pdf = opened(path)
    page_map = bbpdf.page_map(whole)
    names = name_tree(pdf)
    assert set(names) == set().union(*(p.anchors for p in pieces))
    assert {name: page + 1 for name, page in names.items()} == {
        name: page for name, page in page_map.items() if name in names
    }
    assert all(str(a.Dest) in names for _, a in links(pdf) if "/Dest" in a)
    counts = [count_elements(opened(p.data)) for p in pieces]
    assert count_elements(pdf) == sum(counts) - len(counts) + 1
    assert page_report(path, "ua1") == (True, [])
    result = outloud_report(path)
    assert result["counts"]["error"] == 0 and result["counts"]["warning"] == 0


def test_no_stream_of_the_stitched_book_ends_in_a_carriage_return() -> None:
    """QPDF writes LF before `endstream`: data ending in CR would read as CRLF (PDF/A-3)."""
    import zlib

    from bookbuild.stitch import _compress_unambiguously

    # Data whose Flate form, at the usual level, ends in CR: found by trying.
    plain = next(
        data
        for n in range(100_000)
        if zlib.compress(data := f"q {n} 0 0 1 cm Q\n".encode() * 3, 6).endswith(b"\r")
    )
    book = pikepdf.new()
    unfiltered = pikepdf.Stream(book, plain)
    flate = pikepdf.Stream(book, zlib.compress(plain, 6))
    flate.Filter = pikepdf.Name.FlateDecode
    xmp = pikepdf.Stream(book, b"<?xpacket end='w'?>\r")
    xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    book.Root.Streams = pikepdf.Array([book.make_indirect(s) for s in (unfiltered, flate, xmp)])
    assert flate.read_raw_bytes().endswith(b"\r")
    _compress_unambiguously(book)
    unfiltered, flate, xmp = book.Root.Streams
    for stream in (unfiltered, flate):
        assert stream.read_raw_bytes().endswith(b">")  # in hex: Flate's checksum ends in CR
        assert stream.Filter == pikepdf.Array(
            [pikepdf.Name.ASCIIHexDecode, pikepdf.Name.FlateDecode]
        )
        assert stream.read_bytes() == plain
    assert "/Filter" not in xmp  # the metadata stays as PDF/A wants it
