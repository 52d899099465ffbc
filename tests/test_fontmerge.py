"""fontmerge: pieces laid out apart, concatenated, share one subset of each font.

The pieces are real: halves of a book's print HTML laid out by pdf.layout_pdf and written by
our tagger, as pipeline.build_pdf_bytes does; their pages are concatenated with pikepdf (the
stitcher's job, done minimally here) and merge_fonts is called on the result. Everything is
read back from the saved files: the fonts' dictionaries and programs (fontTools), the glyphs
each page's content streams draw, pdfplumber's text, page's PDF/UA-1 font rules.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import page
import pdfplumber
import pikepdf
import pypdfium2
import pytest
from fontTools import subset
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from lxml import html as lxml_html

from bookbuild import pdf, pipeline, tagging
from bookbuild.assets import fallback_font
from bookbuild.fontconf import write_fontconfig
from bookbuild.fontmerge import (
    _cid_map,
    _copy_cff,
    _Glyphs,
    _Program,
    _to_unicode,
    merge_fonts,
)
from bookbuild.fontset import find_fonts

DATA = Path(__file__).parent / "data"
# page's rules on fonts: embedding, glyph presence and widths, CMaps, ToUnicode, .notdef.
FONT_RULE = re.compile("FONT|CID|TRUETYPE|NOTDEF|CMAP|GLYPH")


# ---------------------------------------------------------------------------------------------
# Making pieces.


def print_html(book: Path, out: Path) -> Path:
    """Build the book's print HTML folder; return it."""
    pipeline.build(book, out, formats=("html",))
    return out / "html"


def split(html: str, count: int) -> list[str]:
    """Cut the body's top-level children into `count` consecutive runs, each with the <head>.

    A link to an anchor in another piece is pointed at the piece's first anchor: WeasyPrint
    refuses links to missing anchors (the jobs helper's piecelayout keeps them properly).
    """
    size = -(-len(lxml_html.document_fromstring(html).find("body")) // count)
    pieces = []
    for number in range(count):
        root = lxml_html.document_fromstring(html)
        body = root.find("body")
        for index, child in enumerate(list(body)):
            if not number * size <= index < (number + 1) * size:
                body.remove(child)
        ids = [e.get("id") for e in body.iter() if e.get("id")]
        for link in body.iter("a"):
            href = link.get("href") or ""
            if href.startswith("#") and href[1:] not in ids:
                link.set("href", f"#{ids[0]}")
        pieces.append(lxml_html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode"))
    return pieces


def lay_out(html: str, folder: Path, language: str) -> bytes:
    """Lay a piece out and write it through our tagger, as pipeline.build_pdf_bytes does."""
    page_file = next(folder.glob("*.html"))
    assets = {
        str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file() and p != page_file
    }
    fontconf = write_fontconfig(find_fonts(), language)
    document, _ = pdf.layout_pdf(html, assets, folder, "pdf/ua-1", None, fontconf)
    buffer = io.BytesIO()
    with tagging.document_tags(document, "pdf/ua-1"):
        pdf.write_pdf(document, buffer, source=folder, variant="pdf/ua-1", epoch=0, identifier="x")
    return buffer.getvalue()


def pieces_of(book: Path, out: Path, count: int, language: str) -> list[bytes]:
    folder = print_html(book, out)
    html = next(folder.glob("*.html")).read_text(encoding="utf-8")
    return [lay_out(piece, folder, language) for piece in split(html, count)]


def concatenate(pieces: list[bytes]) -> pikepdf.Pdf:
    """Return one PDF holding every piece's pages in order (no structure tree, no outline)."""
    whole = pikepdf.new()
    for data in pieces:
        whole.pages.extend(pikepdf.open(io.BytesIO(data)).pages)
    return whole


def save(document: pikepdf.Pdf, path: Path) -> Path:
    document.save(path, deterministic_id=True)
    return path


@dataclass
class Stitched:
    pieces: list[bytes]
    concatenated: Path
    merged: Path
    seconds: float


def stitched(pieces: list[bytes], folder: Path) -> Stitched:
    concatenated = save(concatenate(pieces), folder / "concatenated.pdf")
    whole = concatenate(pieces)
    started = time.perf_counter()
    merge_fonts(whole)
    seconds = time.perf_counter() - started
    return Stitched(pieces, concatenated, save(whole, folder / "merged.pdf"), seconds)


@pytest.fixture(scope="module")
def fixture_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book's print HTML folder."""
    return print_html(DATA / "fixture", tmp_path_factory.mktemp("fontmerge-html"))


@pytest.fixture(scope="module")
def fixture_book(fixture_html: Path, tmp_path_factory: pytest.TempPathFactory) -> Stitched:
    """The fixture book (serif, sans, mono; regular, semibold, bold, italic) in two halves."""
    out = tmp_path_factory.mktemp("fontmerge-fixture")
    html = next(fixture_html.glob("*.html")).read_text(encoding="utf-8")
    return stitched([lay_out(piece, fixture_html, "en") for piece in split(html, 2)], out)


@pytest.fixture(scope="module")
def briefing(tmp_path_factory: pytest.TempPathFactory) -> Stitched:
    """The briefing (manuscript/) in four pieces: bold and italic faces in every piece."""
    out = tmp_path_factory.mktemp("fontmerge-briefing")
    root = Path(__file__).parent.parent
    return stitched(pieces_of(root / "manuscript", out / "build", 4, "en"), out)


@pytest.fixture(scope="module")
def chinese_book(tmp_path_factory: pytest.TempPathFactory) -> Stitched:
    """The Chinese test book in two halves: Noto CJK is CFF (CIDFontType0, FontFile3)."""
    out = tmp_path_factory.mktemp("fontmerge-zh")
    return stitched(pieces_of(DATA / "fonts" / "zh", out / "build", 2, "zh-CN"), out)


# ---------------------------------------------------------------------------------------------
# Reading fonts and glyphs back.


def font_resources(document: pikepdf.Pdf) -> Iterator[tuple[int, str, pikepdf.Object]]:
    """Yield (page index, resource name, font) for every font of pages and their forms."""
    for number, pdf_page in enumerate(document.pages):
        stack = [pdf_page.obj.get("/Resources")]
        while stack:
            resources = stack.pop()
            if not isinstance(resources, pikepdf.Dictionary):
                continue
            for name, font in resources.get("/Font", {}).items():
                yield number, name, font
            for xobject in resources.get("/XObject", {}).values():
                stack.append(xobject.get("/Resources"))


@dataclass(frozen=True)
class Drawn:
    """What a page shows of one glyph: its text, width in /W, and its program's outline."""

    text: str | None
    width: float | None
    advance: float
    outline: tuple[Any, ...]


class Glyphs:
    """What each font of a PDF says of its glyphs, read once per font and glyph."""

    def __init__(self) -> None:
        self.programs: dict[tuple[int, int], Any] = {}
        self.maps: dict[tuple[int, int], tuple[dict[int, float], dict[int, str]]] = {}
        self.drawn: dict[tuple[tuple[int, int], int], Drawn] = {}

    def of(self, font: pikepdf.Object, gid: int) -> Drawn:
        key = (font.objgen, gid)
        if key not in self.drawn:
            self.drawn[key] = self._read(font, gid)
        return self.drawn[key]

    def _read(self, font: pikepdf.Object, gid: int) -> Drawn:
        descriptor = font.DescendantFonts[0].FontDescriptor
        stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        if stream.objgen not in self.programs:
            self.programs[stream.objgen] = TTFont(io.BytesIO(stream.read_bytes()))
        if font.objgen not in self.maps:
            self.maps[font.objgen] = (
                _w(font.DescendantFonts[0].get("/W", [])),
                _to_unicode(font.get("/ToUnicode")),
            )
        program = self.programs[stream.objgen]
        widths, text = self.maps[font.objgen]
        order = program.getGlyphOrder()
        outline: tuple[Any, ...] = ()
        advance = 0.0
        if gid < len(order):
            glyphs = program.getGlyphSet()
            pen = DecomposingRecordingPen(glyphs)  # components are compared by their outlines
            glyphs[order[gid]].draw(pen)
            outline = tuple(pen.value)
            # tagging's rule: /W is the embedded program's advance, in 1/1000 em.
            advance = glyphs[order[gid]].width * 1000 / program["head"].unitsPerEm
        return Drawn(text=text.get(gid), width=widths.get(gid), advance=advance, outline=outline)


def drawn_glyphs(document: pikepdf.Pdf) -> dict[tuple[int, str, int], Drawn]:
    """Return every glyph a content stream shows, by (page, BaseFont, glyph id)."""
    glyphs = Glyphs()
    found: dict[tuple[int, str, int], Drawn] = {}
    for number, pdf_page in enumerate(document.pages):
        for stream, resources in _content(pdf_page, pdf_page.obj.get("/Resources")):
            font = None
            for operands, operator in pikepdf.parse_content_stream(stream, "Tf Tj TJ"):
                op = str(operator)
                if op == "Tf":
                    font = resources.Font[operands[0]]
                elif font is not None:
                    strings = operands[0] if op == "TJ" else [operands[0]]
                    for value in strings:
                        if isinstance(value, pikepdf.String):
                            for code in _codes(bytes(value)):
                                drawn = glyphs.of(font, code)
                                found[(number, str(font.BaseFont), code)] = drawn
    return found


def _content(owner: Any, resources: Any) -> Iterator[tuple[Any, Any]]:
    yield owner, resources
    for xobject in (resources or {}).get("/XObject", {}).values():
        if xobject.get("/Subtype") == "/Form":
            yield from _content(xobject, xobject.get("/Resources", resources))


def _codes(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _w(array: Any) -> dict[int, float]:
    items, widths, index = list(array), {}, 0
    while index < len(items):
        if isinstance(items[index + 1], pikepdf.Array):
            for offset, width in enumerate(items[index + 1]):
                widths[int(items[index]) + offset] = float(width)
            index += 2
        else:
            for cid in range(int(items[index]), int(items[index + 1]) + 1):
                widths[cid] = float(items[index + 2])
            index += 3
    return widths


def font_failures(path: Path) -> list[str]:
    report = page.validate_pdf(path, profile="ua1")
    return [f"{f.rule_id}: {f.message}" for f in report.failures if FONT_RULE.search(f.rule_id)]


def shared_fonts(pieces: list[bytes]) -> set[str]:
    """Return the BaseFonts more than one piece uses."""
    seen: dict[str, int] = {}
    for data in pieces:
        names = {str(f.BaseFont) for _, _, f in font_resources(pikepdf.open(io.BytesIO(data)))}
        for name in names:
            seen[name] = seen.get(name, 0) + 1
    return {name for name, count in seen.items() if count > 1}


# ---------------------------------------------------------------------------------------------
# The tests, on both books.

BOOKS = ["fixture_book", "briefing", "chinese_book"]


@pytest.mark.parametrize("book", BOOKS)
def test_each_font_has_one_dictionary_and_one_program(book: str, request: Any) -> None:
    result: Stitched = request.getfixturevalue(book)
    dictionaries: dict[str, set[tuple[int, int]]] = {}
    programs: dict[str, set[tuple[int, int]]] = {}
    with pikepdf.open(result.merged) as merged:
        for _, _, font in font_resources(merged):
            name = str(font.BaseFont)
            dictionaries.setdefault(name, set()).add(font.objgen)
            descriptor = font.DescendantFonts[0].FontDescriptor
            stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            programs.setdefault(name, set()).add(stream.objgen)
    shared = shared_fonts(result.pieces)
    assert len(shared) >= 3, shared  # the merge had work to do
    assert set(dictionaries) >= shared
    assert {n: len(d) for n, d in dictionaries.items()} == dict.fromkeys(dictionaries, 1)
    assert {n: len(p) for n, p in programs.items()} == dict.fromkeys(programs, 1)


def test_bold_and_italic_faces_are_merged(briefing: Stitched) -> None:
    shared = shared_fonts(briefing.pieces)
    assert any(name.endswith("-Italic") for name in shared), shared
    assert any(name.endswith("-Bold") for name in shared), shared
    assert any(name.endswith("-Semi-Bold") for name in shared), shared


def test_cff_fonts_are_merged(chinese_book: Stitched) -> None:
    with pikepdf.open(chinese_book.merged) as merged:
        cff = {
            str(font.BaseFont)
            for _, _, font in font_resources(merged)
            if font.DescendantFonts[0].Subtype == "/CIDFontType0"
        }
    assert cff & shared_fonts(chinese_book.pieces), cff


@pytest.mark.parametrize("book", BOOKS)
def test_every_drawn_glyph_keeps_its_outline_width_and_text(book: str, request: Any) -> None:
    result: Stitched = request.getfixturevalue(book)
    with pikepdf.open(result.concatenated) as before, pikepdf.open(result.merged) as after:
        was, now = drawn_glyphs(before), drawn_glyphs(after)
    assert len(was) > 500
    assert set(now) == set(was)
    for key, glyph in now.items():
        old = was[key]
        assert glyph.outline == old.outline, key  # non-empty where the piece's glyph was
        assert glyph.width is not None and glyph.width == pytest.approx(glyph.advance), key
        assert glyph.width == pytest.approx(old.width), key
        assert glyph.text is not None, key
    assert sum(1 for g in now.values() if g.outline) > 0.9 * len(now)


@pytest.mark.parametrize("book", BOOKS)
def test_text_reads_the_same_and_the_file_is_smaller(book: str, request: Any) -> None:
    """Each character reads as before, but where pieces gave one glyph two texts.

    WeasyPrint maps a glyph to the text of its first use (a hyphen glyph reads U+2010 or U+002D);
    the merged font keeps the first piece's, as one layout of the whole book would.
    """
    result: Stitched = request.getfixturevalue(book)
    first = first_texts(result.pieces)
    before, after = page_chars(result.concatenated), page_chars(result.merged)
    assert [len(chars) for chars in after] == [len(chars) for chars in before]
    for was, now in zip(before, after, strict=True):
        for (font, old), (same_font, new) in zip(was, now, strict=True):
            assert font == same_font
            assert new == old or new in first.get((font, old), ()), (font, old, new)
    assert result.merged.stat().st_size < result.concatenated.stat().st_size


def page_chars(path: Path) -> list[list[tuple[str, str]]]:
    """Return each page's characters as pdfplumber reads them: (font name, text)."""
    with pdfplumber.open(path) as document:
        return [[(c["fontname"], c["text"]) for c in p.chars] for p in document.pages]


def first_texts(pieces: list[bytes]) -> dict[tuple[str, str], set[str]]:
    """Return, for a glyph's text in a later piece, the text an earlier piece gave that glyph."""
    firsts: dict[tuple[str, int], str] = {}
    replaced: dict[tuple[str, str], set[str]] = {}
    for data in pieces:
        seen = set()
        for _, _, font in font_resources(pikepdf.open(io.BytesIO(data))):
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            name = str(font.BaseFont)[1:]
            for gid, text in _to_unicode(font.get("/ToUnicode")).items():
                first = firsts.setdefault((name, gid), text)
                if first != text:
                    replaced.setdefault((name, text), set()).add(first)
    return replaced


@pytest.mark.parametrize("book", BOOKS)
def test_fonts_pass_pdf_ua_1(book: str, request: Any) -> None:
    result: Stitched = request.getfixturevalue(book)
    for data in result.pieces:
        assert not font_failures(
            save(pikepdf.open(io.BytesIO(data)), result.merged.with_name("p.pdf"))
        )
    assert font_failures(result.merged) == []


def test_output_is_deterministic(fixture_book: Stitched, tmp_path: Path) -> None:
    twice = []
    for name in ("one.pdf", "two.pdf"):
        whole = concatenate(fixture_book.pieces)
        merge_fonts(whole)
        twice.append(save(whole, tmp_path / name).read_bytes())
    assert twice[0] == twice[1]
    assert twice[0] == fixture_book.merged.read_bytes()


# ---------------------------------------------------------------------------------------------
# Glyphs no font has: WeasyPrint draws each as an id past the font's last glyph, numbered in
# the order the piece meets them, and maps it to .notdef with its own Encoding CMap.

# Egyptian hieroglyphs: none of the book's fonts draws them.
MISSING = "\U00013000", "\U00013001"


def missing_pieces(folder: Path, texts: list[str]) -> list[bytes]:
    """Lay out one short chapter per text with the fixture's theme."""
    html = next(folder.glob("*.html")).read_text(encoding="utf-8")
    head = html[: html.index("<body")]
    return [
        lay_out(
            f'{head}<body><section class="chapter" id="c"><p>{text}</p></section></body>',
            folder,
            "en",
        )
        for text in texts
    ]


def pdfium_texts(path: Path) -> list[str]:
    """Return each page's text as PDFium (Chrome's reader) reads it.

    pdfminer (under pdfplumber) and pypdf do not apply an embedded Encoding CMap, so they read
    WeasyPrint's missing-glyph fonts as garbage before any merge.
    """
    document = pypdfium2.PdfDocument(path)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def serif_fonts(document: pikepdf.Pdf) -> set[tuple[int, int]]:
    return {
        f.objgen for _, _, f in font_resources(document) if str(f.BaseFont).endswith("+BB-Serif")
    }


def test_pieces_missing_the_same_glyphs_share_one_font(fixture_html: Path, tmp_path: Path) -> None:
    texts = [f"Salt {MISSING[0]} roads", f"Winter {MISSING[0]} caravans", "Plain text only"]
    result = stitched(missing_pieces(fixture_html, texts), tmp_path)
    with pikepdf.open(result.merged) as merged:
        (font,) = (merged.get_object(o) for o in serif_fonts(merged))
        encoding = _cid_map(font.Encoding)
        text = _to_unicode(font.ToUnicode)
        drawn = {code for key, code in _drawn_codes(merged) if key == font.objgen}
    missing = {code for code, cid in encoding.items() if cid == 0 and code}
    assert [text[code] for code in missing] == [MISSING[0]]
    # Every glyph drawn, the third piece's too, maps to itself; only the missing one to .notdef.
    assert drawn <= set(encoding)
    assert all(encoding[code] == code for code in drawn - missing)
    after = pdfium_texts(result.merged)
    assert after == pdfium_texts(result.concatenated)
    assert all(any(text in page for page in after) for text in texts)


def test_pieces_missing_different_glyphs_keep_their_own_fonts(
    fixture_html: Path, tmp_path: Path
) -> None:
    texts = [f"Salt {MISSING[0]} roads", f"Winter {MISSING[1]} caravans"]
    result = stitched(missing_pieces(fixture_html, texts), tmp_path)
    with pikepdf.open(result.merged) as merged:
        assert len(serif_fonts(merged)) == 2  # one id, two characters: no one CMap serves both
    after = pdfium_texts(result.merged)
    assert all(any(text in page for page in after) for text in texts)
    assert after == pdfium_texts(result.concatenated)


def _drawn_codes(document: pikepdf.Pdf) -> Iterator[tuple[tuple[int, int], int]]:
    for pdf_page in document.pages:
        for stream, resources in _content(pdf_page, pdf_page.obj.get("/Resources")):
            font = None
            for operands, operator in pikepdf.parse_content_stream(stream, "Tf Tj TJ"):
                if str(operator) == "Tf":
                    font = resources.Font[operands[0]]
                    continue
                strings = operands[0] if str(operator) == "TJ" else [operands[0]]
                for value in strings:
                    if isinstance(value, pikepdf.String) and font is not None:
                        for code in _codes(bytes(value)):
                            yield font.objgen, code


# ---------------------------------------------------------------------------------------------
# Components HarfBuzz packed past a piece's last glyph.


def weasyprint_subset(path: Path, gids: set[int]) -> TTFont:
    """Subset as WeasyPrint 70 does, in two passes (fontTools here, HarfBuzz there).

    The first keeps glyph ids; the second keeps ids up to the last glyph drawn and packs the
    components of composite glyphs that lay past it right after it.
    """
    font = TTFont(path)
    first = subset.Subsetter(subset.Options(retain_gids=True, notdef_outline=True))
    first.populate(gids=gids)
    first.subset(font)
    second = subset.Subsetter(subset.Options(notdef_outline=True))
    second.populate(gids=range(max(gids) + 1))
    second.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return TTFont(io.BytesIO(buffer.getvalue()))


def outline(font: TTFont, gid: int) -> list[Any]:
    glyphs = font.getGlyphSet()
    pen = DecomposingRecordingPen(glyphs)
    glyphs[font.getGlyphOrder()[gid]].draw(pen)
    return list(pen.value)


def test_a_packed_component_is_not_taken_for_the_glyph_another_piece_draws_there() -> None:
    """Piece A draws a composite whose component HarfBuzz packed at id n+1; B draws glyph n+1."""
    path = fallback_font()
    whole = TTFont(path)
    order, glyf = whole.getGlyphOrder(), whole["glyf"]
    composite = next(
        gid
        for gid, name in enumerate(order[:-1])
        if glyf[name].isComposite()
        and all(whole.getGlyphID(c.glyphName) > gid + 1 for c in glyf[name].components)
        and glyf[order[gid + 1]].numberOfContours > 0
    )
    a = weasyprint_subset(path, {composite})
    b = weasyprint_subset(path, {composite + 1, composite + 2})
    assert len(a.getGlyphOrder()) > composite + 1  # the component was packed after it
    other = _Program(font=a, stream=None, gids={composite}, bound=composite + 1)  # type: ignore[arg-type]
    _Glyphs(b, other, {}).copy([composite])
    buffer = io.BytesIO()
    b.save(buffer)
    merged = TTFont(io.BytesIO(buffer.getvalue()))
    assert outline(merged, composite) == outline(whole, composite) != []
    assert outline(merged, composite + 1) == outline(whole, composite + 1) != []
    assert merged["hmtx"][merged.getGlyphOrder()[composite]] == whole["hmtx"][order[composite]]


def test_a_cff_glyph_brings_its_font_dict_when_the_base_lacks_it(chinese_book: Stitched) -> None:
    """A CID-keyed CFF glyph is drawn with its FDArray entry's private dict: copy it along."""
    with pikepdf.open(io.BytesIO(chinese_book.pieces[0])) as piece:
        font = next(
            f
            for _, _, f in font_resources(piece)
            if f.DescendantFonts[0].Subtype == "/CIDFontType0"
        )
        data = font.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()
        drawn = sorted(g for g in _to_unicode(font.ToUnicode) if g)
    other, base = TTFont(io.BytesIO(data)), TTFont(io.BytesIO(data))
    top = base["CFF "].cff.topDictIndex[0]
    gid = drawn[0]
    fd = top.FDSelect[gid]
    name = top.FDArray[fd].FontName
    top.FDArray[fd].FontName = "Renamed"  # the base has no font dict of that name now
    count = len(top.FDArray)
    _copy_cff(base, other, [gid])
    buffer = io.BytesIO()
    base.save(buffer)
    merged = TTFont(io.BytesIO(buffer.getvalue()))
    merged_top = merged["CFF "].cff.topDictIndex[0]
    assert merged_top.FDArray[merged_top.FDSelect[gid]].FontName == name
    assert len(merged_top.FDArray) == count + 1
    assert outline(merged, gid) == outline(other, gid) != []


# ---------------------------------------------------------------------------------------------
# Reading CMaps.


def test_to_unicode_reads_bfchar_and_both_bfrange_forms() -> None:
    document = pikepdf.new()
    cmap = (
        b"begincmap\n2 beginbfchar\n<0003> <0020>\n<0010> <00660069>\nendbfchar\n"
        b"2 beginbfrange\n<0020> <0022> <0041>\n<0030> <0031> [<00e9> <d83dde00>]\nendbfrange\n"
        b"endcmap"
    )
    stream = pikepdf.Stream(document, cmap)
    assert _to_unicode(stream) == {
        3: " ",
        16: "fi",
        32: "A",
        33: "B",
        34: "C",
        48: "é",
        49: "\U0001f600",
    }
