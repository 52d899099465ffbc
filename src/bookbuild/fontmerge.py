"""Subset each font once in a PDF stitched from pieces that WeasyPrint laid out apart.

WeasyPrint 70 names a font `/ABCDEF+Family` from a hash of its Pango description, the same in
every process, and subsets it keeping the ids of the glyphs it draws (HarfBuzz RETAIN_GIDS):
two pieces hold two subsets of one font whose glyph ids agree (see _Program for the ids that
do not). Merging them into one font dictionary needs no content stream rewritten: the merged
program is the subset that reaches furthest, with the other pieces' glyphs (and their
metrics) copied in at their own ids, and /W, ToUnicode, the "missing glyph" Encoding CMap and
CIDSet are the unions of the pieces'. Where pieces read one glyph as two texts, the first
piece's wins, as WeasyPrint's first use of a glyph does in one layout.

/W stays equal to the program's advances (PDF/UA-1, PDF/A: see tagging.ProgramWidths) because
every piece's /W was written from its own program's hmtx, and each glyph's hmtx entry is
copied with the glyph.
"""

from __future__ import annotations

import copy
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont

# Resource kinds whose streams carry their own /Resources, where fonts may be named.
_NESTED = ("/XObject", "/Pattern")
# bfchar / bfrange / cidchar sections of a CMap, and the hex strings and arrays in them.
_SECTION = re.compile(rb"begin(bfchar|bfrange|cidchar)(.*?)end\1", re.S)
_TOKEN = re.compile(rb"<([0-9a-fA-F]*)>|\[|\]|(\d+)")


@dataclass(frozen=True, slots=True)
class _Piece:
    """One font dictionary of a group, read: the glyphs it draws and what it says of them."""

    font: pikepdf.Dictionary
    widths: dict[int, float]
    text: dict[int, str]
    encoding: dict[int, int] | None  # the WP-Encod CMap's code → CID, if not Identity-H

    @property
    def gids(self) -> set[int]:
        return set(self.widths) | set(self.text)


def merge_fonts(pdf: pikepdf.Pdf) -> None:
    """Give each BaseFont one font dictionary and program, and point every page's fonts at it."""
    groups: dict[str, list[Any]] = {}
    seen: set[tuple[int, int]] = set()
    for resources in _font_resources(pdf):
        for key in sorted(resources.keys()):
            font = resources[key]
            if not _mergeable(font) or font.objgen in seen:
                continue
            seen.add(font.objgen)
            groups.setdefault(str(font.BaseFont), []).append(font)
    merged: dict[tuple[int, int], pikepdf.Object] = {}
    for fonts in groups.values():
        if len(fonts) < 2:
            continue
        pieces = [_read(font) for font in fonts]
        kept = _compatible(pieces)
        if len(kept) < 2:
            continue
        target = _merge_group(pdf, kept)
        for piece in kept:
            merged[piece.font.objgen] = target
    if not merged:
        return
    for resources in _font_resources(pdf):
        for key in sorted(resources.keys()):
            replacement = merged.get(resources[key].objgen)
            if replacement is not None:
                resources[key] = replacement


# ---------------------------------------------------------------------------------------------
# Finding the fonts.


def _font_resources(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Yield every /Font resource dictionary of pages, annotations' appearances, forms, patterns."""
    done: set[tuple[int, int]] = set()
    for page in pdf.pages:
        yield from _walk(page.obj.get("/Resources"), done)
        for annotation in page.obj.get("/Annots", pikepdf.Array()):
            appearances = annotation.get("/AP")
            if isinstance(appearances, pikepdf.Dictionary):
                for state in appearances.values():
                    yield from _walk_stream(state, done)


def _walk(resources: Any, done: set[tuple[int, int]]) -> Iterator[pikepdf.Dictionary]:
    if not isinstance(resources, pikepdf.Dictionary):
        return
    if resources.is_indirect:
        if resources.objgen in done:
            return
        done.add(resources.objgen)
    fonts = resources.get("/Font")
    if isinstance(fonts, pikepdf.Dictionary):
        yield fonts
    for kind in _NESTED:
        named = resources.get(kind)
        if isinstance(named, pikepdf.Dictionary):
            for key in sorted(named.keys()):
                yield from _walk_stream(named[key], done)


def _walk_stream(stream: Any, done: set[tuple[int, int]]) -> Iterator[pikepdf.Dictionary]:
    if isinstance(stream, pikepdf.Dictionary) and not isinstance(stream, pikepdf.Stream):
        for value in stream.values():  # an appearance state dictionary: /On, /Off...
            yield from _walk_stream(value, done)
        return
    if not isinstance(stream, pikepdf.Stream):
        return
    if stream.is_indirect:
        if stream.objgen in done:
            return
        done.add(stream.objgen)
    yield from _walk(stream.get("/Resources"), done)


def _mergeable(font: Any) -> bool:
    """Whether a font is WeasyPrint's Type0 over one embedded CID font with Identity gids."""
    if not isinstance(font, pikepdf.Dictionary) or not font.is_indirect:
        return False
    if font.get("/Subtype") != "/Type0" or "/BaseFont" not in font:
        return False
    descendants = font.get("/DescendantFonts")
    if not isinstance(descendants, pikepdf.Array) or len(descendants) != 1:
        return False
    cid = descendants[0]
    if cid.get("/CIDToGIDMap", pikepdf.Name.Identity) != "/Identity":
        return False
    descriptor = cid.get("/FontDescriptor")
    return isinstance(descriptor, pikepdf.Dictionary) and _program(font) is not None


def _cid_font(font: Any) -> Any:
    return font.DescendantFonts[0]


def _program(font: pikepdf.Dictionary) -> pikepdf.Stream | None:
    descriptor = _cid_font(font).FontDescriptor
    for key in ("/FontFile2", "/FontFile3"):
        stream = descriptor.get(key)
        if isinstance(stream, pikepdf.Stream):
            return stream
    return None


# ---------------------------------------------------------------------------------------------
# Reading a font dictionary.


def _read(font: pikepdf.Dictionary) -> _Piece:
    encoding = font.get("/Encoding")
    return _Piece(
        font=font,
        widths=_widths(_cid_font(font).get("/W", pikepdf.Array())),
        text=_to_unicode(font.get("/ToUnicode")),
        encoding=_cid_map(encoding) if isinstance(encoding, pikepdf.Stream) else None,
    )


def _widths(array: Any) -> dict[int, float]:
    """Return the widths a /W array gives: `c [w1 w2 ...]` and `c_first c_last w` runs."""
    items = list(array)
    widths: dict[int, float] = {}
    index = 0
    while index < len(items):
        first = int(items[index])
        following = items[index + 1]
        if isinstance(following, pikepdf.Array):
            for offset, width in enumerate(following):
                widths.setdefault(first + offset, float(width))
            index += 2
        else:
            for cid in range(first, int(following) + 1):
                widths.setdefault(cid, float(items[index + 2]))
            index += 3
    return widths


def _to_unicode(stream: Any) -> dict[int, str]:
    """Return a ToUnicode CMap's glyph → text map, from its bfchar and bfrange sections."""
    if not isinstance(stream, pikepdf.Stream):
        return {}
    text: dict[int, str] = {}
    for kind, body in _SECTION.findall(stream.read_bytes()):
        tokens = _tokens(body)
        if kind == b"bfchar":
            for code, value in zip(tokens[::2], tokens[1::2], strict=False):
                text.setdefault(int(code, 16), _utf16(value))
            continue
        index = 0
        while index + 2 < len(tokens):
            low, high, target = (
                int(tokens[index], 16),
                int(tokens[index + 1], 16),
                tokens[index + 2],
            )
            if isinstance(target, list):
                for offset, value in enumerate(target[: high - low + 1]):
                    text.setdefault(low + offset, _utf16(value))
            else:
                start = bytes.fromhex(target.decode())
                for offset in range(high - low + 1):
                    last = (int.from_bytes(start[-1:] or b"\0", "big") + offset) % 256
                    text.setdefault(
                        low + offset, (start[:-1] + bytes([last])).decode("utf-16-be", "replace")
                    )
            index += 3
    return text


def _cid_map(stream: pikepdf.Stream) -> dict[int, int]:
    """Return a CMap's code → CID map, from its cidchar sections."""
    mapping: dict[int, int] = {}
    for kind, body in _SECTION.findall(stream.read_bytes()):
        if kind == b"cidchar":
            tokens = _tokens(body)
            for code, cid in zip(tokens[::2], tokens[1::2], strict=False):
                mapping.setdefault(int(code, 16), int(cid))
    return mapping


def _tokens(body: bytes) -> list[Any]:
    """Split a CMap section into hex strings (bytes of hex digits), decimals and arrays."""
    tokens: list[Any] = []
    stack: list[list[Any]] = [tokens]
    for match in _TOKEN.finditer(body):
        hexa, number = match.groups()
        token = match.group(0)
        if token == b"[":
            stack.append([])
        elif token == b"]" and len(stack) > 1:
            array = stack.pop()
            stack[-1].append(array)
        else:
            stack[-1].append(hexa if hexa is not None else number)
    return tokens


def _utf16(value: Any) -> str:
    return bytes.fromhex(value.decode()).decode("utf-16-be", "replace") if value else ""


# ---------------------------------------------------------------------------------------------
# Merging a group.


def _compatible(pieces: list[_Piece]) -> list[_Piece]:
    """Return the pieces one dictionary can serve, in order; leave out conflicting ones.

    A glyph WeasyPrint found in no font is drawn as an id past the program's last glyph,
    numbered in the order the piece met them: two pieces may give one such id to two
    characters. A piece whose missing-glyph ids clash with those kept already stays apart.
    """
    first = pieces[0]
    subtype = _cid_font(first.font).Subtype
    kept: list[_Piece] = []
    missing: dict[int, str] = {}
    for piece in pieces:
        if _cid_font(piece.font).Subtype != subtype:
            continue
        own = _missing(piece)
        if any(missing.get(gid, text) != text for gid, text in own.items()):
            continue
        missing.update(own)
        kept.append(piece)
    return kept


def _missing(piece: _Piece) -> dict[int, str]:
    """Return the ids of glyphs the piece's font lacked (its Encoding maps them to 0)."""
    if piece.encoding is None:
        return {}
    return {
        code: piece.text.get(code, "")
        for code, cid in piece.encoding.items()
        if cid == 0 and code != 0
    }


def _merge_group(pdf: pikepdf.Pdf, pieces: list[_Piece]) -> pikepdf.Object:
    """Build one font dictionary (and program) for pieces of one BaseFont; return it."""
    first = pieces[0].font
    widths: dict[int, float] = {}
    text: dict[int, str] = {}
    for piece in pieces:  # the first piece wins, as WeasyPrint's first use of a glyph does
        for gid, width in piece.widths.items():
            widths.setdefault(gid, width)
        for gid, value in piece.text.items():
            text.setdefault(gid, value)
    missing: set[int] = set()
    for piece in pieces:
        missing.update(_missing(piece))
    program, ff_key = _merge_programs(pdf, pieces)

    old_cid = _cid_font(first)
    old_descriptor = old_cid.FontDescriptor
    descriptor = pikepdf.Dictionary(
        {
            k: v
            for k, v in old_descriptor.items()
            if k not in ("/FontFile2", "/FontFile3", "/CIDSet")
        }
    )
    descriptor[ff_key] = program
    descriptor.FontBBox = _bbox(pieces, widths)
    if any("/CIDSet" in _cid_font(p.font).FontDescriptor for p in pieces):
        descriptor.CIDSet = _stream(pdf, _cid_set(widths))
    cid = pikepdf.Dictionary(
        {k: v for k, v in old_cid.items() if k not in ("/W", "/FontDescriptor")}
    )
    cid.FontDescriptor = pdf.make_indirect(descriptor)
    cid.W = _w_array(widths)
    font = pikepdf.Dictionary(
        {k: v for k, v in first.items() if k not in ("/DescendantFonts", "/ToUnicode", "/Encoding")}
    )
    font.DescendantFonts = pikepdf.Array([pdf.make_indirect(cid)])
    font.ToUnicode = _stream(pdf, _to_unicode_cmap(text))
    encodings = [
        p.font.Encoding for p in pieces if isinstance(p.font.get("/Encoding"), pikepdf.Stream)
    ]
    if encodings:
        cmap = _stream(pdf, _encoding_cmap(set(widths) | set(text), missing))
        for entry in map(str, encodings[0]):
            if entry not in ("/Length", "/Filter", "/DecodeParms"):
                cmap[entry] = encodings[0][entry]
        font.Encoding = cmap
    else:
        font.Encoding = first.Encoding
    return pdf.make_indirect(font)


def _bbox(pieces: list[_Piece], widths: dict[int, float]) -> pikepdf.Array:
    """Return WeasyPrint's FontBBox for the union: [0 descent widest ascent], the widest of all."""
    boxes = [
        [float(v) for v in _cid_font(p.font).FontDescriptor.get("/FontBBox", [0, 0, 0, 0])]
        for p in pieces
    ]
    widest = max([*widths.values(), *(b[2] for b in boxes)], default=0)
    return pikepdf.Array(
        [
            _number(min(b[0] for b in boxes)),
            _number(min(b[1] for b in boxes)),
            _number(widest),
            _number(max(b[3] for b in boxes)),
        ]
    )


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _w_array(widths: dict[int, float]) -> pikepdf.Array:
    """Write /W as WeasyPrint does: one `c [w ...]` run per stretch of consecutive ids."""
    array: list[Any] = []
    run: list[Any] = []
    previous = None
    for gid in sorted(widths):
        if previous is None or gid != previous + 1:
            run = []
            array += [gid, run]
        run.append(_number(widths[gid]))
        previous = gid
    return pikepdf.Array([pikepdf.Array(v) if isinstance(v, list) else v for v in array])


def _to_unicode_cmap(text: dict[int, str]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin",
        b"12 dict begin",
        b"begincmap",
        b"/CIDSystemInfo",
        b"<< /Registry (Adobe)",
        b"/Ordering (UCS)",
        b"/Supplement 0",
        b">> def",
        b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    for batch in _batches(sorted(text)):
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{gid:04x}> <{text[gid].encode('utf-16-be').hex()}>".encode() for gid in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _encoding_cmap(gids: set[int], missing: set[int]) -> bytes:
    """Write WeasyPrint's WP-Encod CMap: every glyph drawn to itself, missing ones to .notdef."""
    lines = [
        b"/CIDInit /ProcSet findresource begin",
        b"12 dict begin",
        b"begincmap",
        b"/CIDSystemInfo",
        b"3 dict dup begin",
        b"/Registry (Adobe) def",
        b"/Ordering (Identity) def",
        b"/Supplement 0 def",
        b"end def",
        b"/CMapName /WP-Encod-0 def",
        b"/CMapType 1 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    for batch in _batches(sorted(gids)):
        lines.append(f"{len(batch)} begincidchar".encode())
        lines += [f"<{gid:04x}> {0 if gid in missing else gid}".encode() for gid in batch]
        lines.append(b"endcidchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _batches(items: list[int]) -> Iterator[list[int]]:
    # A CMap section holds at most 100 entries (Adobe technical note 5099).
    for start in range(0, len(items), 100):
        yield items[start : start + 100]


def _cid_set(widths: dict[int, float]) -> bytes:
    """Return a CIDSet: one bit per CID, set for every CID the font draws."""
    size = (max(widths, default=0) + 8) // 8
    bits = bytearray(size)
    for gid in widths:
        bits[gid // 8] |= 0x80 >> (gid % 8)
    return bytes(bits)


def _stream(pdf: pikepdf.Pdf, data: bytes, **extra: Any) -> pikepdf.Stream:
    """Return a new Flate-compressed stream (level 9: the same bytes from the same input)."""
    stream = pikepdf.Stream(pdf, zlib.compress(data, 9))
    stream.Filter = pikepdf.Name.FlateDecode
    for key, value in extra.items():
        stream[f"/{key}"] = value
    return stream


# ---------------------------------------------------------------------------------------------
# Merging font programs with fontTools.


@dataclass(slots=True)
class _Program:
    """One embedded program and what its pieces draw with it.

    WeasyPrint subsets in two HarfBuzz passes: the first keeps glyph ids (the glyphs drawn and
    the components of composite ones, each at its own id); the second keeps ids 0 to the last
    glyph drawn, `bound - 1`, and packs the components that lay past it after them, at ids of
    its own. Below `bound` an id means the same glyph in every piece; from `bound` on it does
    not, and no content stream names it.
    """

    font: Any
    stream: pikepdf.Stream
    gids: set[int]
    bound: int


def _merge_programs(pdf: pikepdf.Pdf, pieces: list[_Piece]) -> tuple[pikepdf.Stream, str]:
    """Return the merged program's stream and its FontDescriptor key."""
    found: dict[tuple[int, int], tuple[pikepdf.Stream, set[int], set[int]]] = {}
    for piece in pieces:
        stream = _program(piece.font)
        assert stream is not None  # _mergeable checked it
        entry = found.setdefault(stream.objgen, (stream, set(), set()))
        entry[1].update(piece.gids)
        entry[2].update(piece.text)
    programs = []
    for stream, gids, text in found.values():
        data = stream.read_bytes()
        # Font-wide bounds are the union of the pieces' (_union_bounds): fontTools would
        # recompute them from every glyph, many times slower.
        font = TTFont(io.BytesIO(data), recalcTimestamp=False, recalcBBoxes=False)
        count = len(font.getGlyphOrder())
        programs.append(_Program(font, stream, gids, min(max(text, default=count) + 1, count)))
    # The base reaches furthest: every id another piece draws is below its bound.
    base_index = max(
        range(len(programs)),
        key=lambda i: (programs[i].bound, len(programs[i].font.getGlyphOrder()), -i),
    )
    base = programs[base_index]
    cff = "CFF " in base.font
    key = "/FontFile3" if cff else "/FontFile2"
    if len(programs) == 1:
        return base.stream, key
    have = set(base.gids)
    packed: dict[bytes, int] = {}
    for index, other in enumerate(programs):
        if index == base_index:
            continue
        wanted = sorted(g for g in other.gids - have if g < other.bound)
        if cff:
            _copy_cff(base.font, other.font, wanted)
        else:
            _Glyphs(base.font, other, packed).copy(wanted)
        _copy_tables(base.font, other.font, wanted)
        have.update(wanted)
    _union_bounds(base.font, [p.font for p in programs])
    out = io.BytesIO()
    base.font.save(out, reorderTables=True)
    data = out.getvalue()
    if cff:
        stream = _stream(pdf, data, Subtype=pikepdf.Name.OpenType)
    else:
        stream = _stream(pdf, data, Length1=len(data))
    return pdf.make_indirect(stream), key


class _Glyphs:
    """Copy TrueType glyphs from another piece's program into the base, components too.

    A glyph below the other program's bound goes to its own id; a packed component (at or past
    the bound) is appended after the base's glyphs, once however many pieces bring it
    (`packed`: its compiled bytes and metrics → its id in the base).
    """

    def __init__(self, base: Any, other: _Program, packed: dict[bytes, int]) -> None:
        self.base, self.other, self.packed = base, other, packed
        self.order = base.getGlyphOrder()
        self.other_order = other.font.getGlyphOrder()
        self.glyf = base["glyf"]
        # The metrics tables are read before any glyph is appended to the glyph order.
        self.metrics = [t for t in ("hmtx", "vmtx") if t in base and t in other.font]
        for tag in self.metrics:
            base[tag].metrics  # noqa: B018
        self.placed: dict[int, int] = {}

    def copy(self, gids: Iterable[int]) -> None:
        for gid in gids:
            self.place(gid)

    def place(self, gid: int) -> int:
        """Copy the other program's glyph `gid` unless the base has it; return its base id."""
        if gid in self.placed:
            return self.placed[gid]
        name = self.other_order[gid]
        if gid < self.other.bound and self.glyf[self.order[gid]].numberOfContours != 0:
            self.placed[gid] = gid  # the same glyph, drawn by the base already
            return gid
        glyph = copy.deepcopy(self.other.font["glyf"][name])
        if glyph.isComposite():
            for component in glyph.components:
                part = self.other.font.getGlyphID(component.glyphName)
                component.glyphName = self.order[self.place(part)]
        metrics = [self.other.font[tag][name] for tag in self.metrics]
        if gid < self.other.bound:
            target = gid
        else:
            key = repr(metrics).encode() + glyph.compile(self.glyf, recalcBBoxes=False)
            if key in self.packed:
                self.placed[gid] = self.packed[key]
                return self.packed[key]
            target = self.packed[key] = len(self.order)
            self.order.append(_new_name(self.base, target))
            if "hdmx" in self.base:  # device widths per glyph: optional, and now short of one
                del self.base["hdmx"]
        self._set(target, glyph, metrics)
        self.placed[gid] = target
        return target

    def _set(self, target: int, glyph: Any, metrics: list[Any]) -> None:
        name = self.order[target]
        self.glyf.glyphs[name] = glyph
        for tag, value in zip(self.metrics, metrics, strict=True):
            self.base[tag][name] = value


def _new_name(font: Any, gid: int) -> str:
    """Return a glyph name no glyph of the font has, for a glyph added at id `gid`."""
    taken = set(font.getGlyphOrder())
    name = f"glyph{gid:05d}"
    while name in taken:
        name += "_"
    return name


def _copy_cff(base: Any, other: Any, gids: Iterable[int]) -> None:
    """Copy CFF charstrings at their ids, with the font dict (FDSelect) each one uses."""
    base_order, other_order = base.getGlyphOrder(), other.getGlyphOrder()
    base_top = base["CFF "].cff.topDictIndex[0]
    other_top = other["CFF "].cff.topDictIndex[0]
    base_strings, other_strings = base_top.CharStrings, other_top.CharStrings
    cid_keyed = hasattr(base_top, "FDArray") and hasattr(other_top, "FDArray")
    for gid in gids:
        if gid >= len(base_order):
            continue
        charstring = copy.copy(other_strings[other_order[gid]])
        if cid_keyed:
            fd = _font_dict(base_top, other_top, other_top.FDSelect[gid])
            base_top.FDSelect[gid] = fd
            charstring.private = base_top.FDArray[fd].Private
        else:
            charstring.private = base_top.Private
        charstring.globalSubrs = base_top.GlobalSubrs
        base_strings[base_order[gid]] = charstring
        base["hmtx"][base_order[gid]] = other["hmtx"][other_order[gid]]
        if "vmtx" in base and "vmtx" in other:
            base["vmtx"][base_order[gid]] = other["vmtx"][other_order[gid]]


def _font_dict(base_top: Any, other_top: Any, index: int) -> int:
    """Return the index in the base's FDArray of the other font's font dict `index`, adding it."""
    wanted = other_top.FDArray[index]
    name = getattr(wanted, "FontName", None)
    for position, candidate in enumerate(base_top.FDArray):
        if name is not None and getattr(candidate, "FontName", None) == name:
            return position
    base_top.FDArray.append(copy.deepcopy(wanted))
    return len(base_top.FDArray) - 1


def _copy_tables(base: Any, other: Any, gids: list[int]) -> None:
    """Carry the glyphs' character map entries and vertical origins over too."""
    if not gids:
        return
    base_order, other_order = base.getGlyphOrder(), other.getGlyphOrder()
    names = {other_order[g]: base_order[g] for g in gids if g < len(base_order)}
    if "cmap" in base and "cmap" in other:
        for table in other["cmap"].tables:
            target = base["cmap"].getcmap(table.platformID, table.platEncID)
            if target is None or not hasattr(table, "cmap") or not hasattr(target, "cmap"):
                continue
            for code, name in sorted(table.cmap.items()):
                if name in names and code not in target.cmap:
                    target.cmap[code] = names[name]
    if "VORG" in base and "VORG" in other:
        records = other["VORG"].VOriginRecords
        for name, base_name in names.items():
            if name in records:
                base["VORG"][base_name] = records[name]


def _union_bounds(base: Any, fonts: list[Any]) -> None:
    """Set the base's font-wide bounds to hold every font's: the merged glyphs are theirs."""
    for tag, low, high in (
        ("head", ("xMin", "yMin"), ("xMax", "yMax")),
        ("hhea", ("minLeftSideBearing", "minRightSideBearing"), ("advanceWidthMax", "xMaxExtent")),
        ("vhea", ("minTopSideBearing", "minBottomSideBearing"), ("advanceHeightMax", "yMaxExtent")),
        ("maxp", (), _MAXP),
    ):
        tables = [font[tag] for font in fonts if tag in font]
        if tag not in base or not tables:
            continue
        for name in low:
            setattr(base[tag], name, min(getattr(t, name) for t in tables))
        for name in high:
            if all(hasattr(t, name) for t in tables):
                setattr(base[tag], name, max(getattr(t, name) for t in tables))
    if "CFF " in base:
        boxes = [font["CFF "].cff.topDictIndex[0].FontBBox for font in fonts]
        top = base["CFF "].cff.topDictIndex[0]
        top.FontBBox = [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ]


# maxp's limits for TrueType outlines (version 1.0); each merged glyph is within its piece's.
_MAXP = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxZones",
    "maxTwilightPoints",
    "maxStorage",
    "maxFunctionDefs",
    "maxInstructionDefs",
    "maxStackElements",
    "maxSizeOfInstructions",
    "maxComponentElements",
    "maxComponentDepth",
)
