"""Stitch the PDFs of a book's pieces into one book (PARALLEL.md, "Stitching").

Each piece is a complete tagged PDF written by `tagging.document_tags` + `pdf.write_pdf`: its
own pages, structure tree, outline and named destinations, plus fake destinations (on its last
page) for the anchors of other pieces it links to. The book keeps piece 0's catalog and /ID,
all pages in order, one structure tree, one outline, one name tree of the pieces' real
anchors, and the furniture document's pages (running heads, page numbers) painted over the
pages as Pagination artifacts.

Pages and structure trees are copied with QPDF's copy_foreign, which keeps one copy map per
foreign file: the pages are copied first, so the structure elements' /Pg, the OBJRs' /Obj and
the ParentTree's entries copied after them point at the stitched pages and annotations.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, NumberTree, OutlineItem, String

# How many entries one leaf of a number tree holds before it is split into kids.
TREE_LEAF = 256
FURNITURE_PREFIX = "BBFurniture"


@dataclass(frozen=True, slots=True, kw_only=True)
class PiecePdf:
    data: bytes  # a PDF written by pdf.write_pdf inside tagging.document_tags
    anchors: frozenset[str]  # the ids whose named destinations in `data` are real


@dataclass(frozen=True, slots=True)
class _Piece:
    pdf: pikepdf.Pdf
    anchors: frozenset[str]
    first: int  # index of the piece's first page in the book
    pages: dict[tuple[int, int], int]  # the piece's page objects → their index in the piece


def stitch(pieces: Sequence[PiecePdf], furniture: bytes | None) -> bytes:
    """Return one PDF holding the pieces' pages in order, with the furniture painted over them."""
    if not pieces:
        raise ValueError("stitch needs at least one piece")
    opened = _open(pieces)
    _refuse_forms(opened)
    book = opened[0].pdf
    outline = [item for piece in opened for item in _outline_of(piece)]
    dests = _real_destinations(opened)
    for piece in opened[1:]:
        for page in piece.pdf.pages:
            book.pages.append(page)
    _check_pages(book, sum(len(p.pages) for p in opened))
    _merge_structure(book, opened)
    _write_outline(book, outline)
    _check_links(book, dests)
    _write_destinations(book, dests)
    _merge_names(book, opened)
    if furniture is not None:
        overlay_furniture(book, pikepdf.open(io.BytesIO(furniture)))
    _merge_fonts(book)
    _compress_unambiguously(book)
    buffer = io.BytesIO()
    book.save(
        buffer,
        min_version=max((p.pdf.pdf_version for p in opened), key=_version),
        fix_metadata_version=False,
        # Every stream is compressed already (above); QPDF's own compression of a stream, or
        # of an object stream, could end in a carriage return.
        compress_streams=False,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        # /ID[0] stays piece 0's; /ID[1] is a hash of the content, not of the clock.
        deterministic_id=True,
    )
    return buffer.getvalue()


def _compress_unambiguously(book: pikepdf.Pdf) -> None:
    """Flate-compress every stream, and let none end in a carriage return (PDF/A-3 6.1.7.1).

    QPDF writes a line feed before `endstream`: after data ending in CR, the pair reads as a
    CRLF end of line, one byte short of /Length. A Flate stream ends in its data's Adler-32
    checksum, so no compression level helps: such a stream is also given in hex
    (ASCIIHexDecode, whose data ends in `>`). The XMP metadata stays uncompressed, as PDF/A
    wants it; its packet ends in `?>`.
    """
    for obj in book.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Type") == Name.Metadata:
            continue
        if "/Filter" not in obj:
            obj.write(zlib.compress(obj.read_bytes(), 6), filter=Name.FlateDecode)
        raw = obj.read_raw_bytes()
        if not raw.endswith(b"\r"):
            continue
        filters = obj.Filter if isinstance(obj.Filter, Array) else Array([obj.Filter])
        parms = obj.get("/DecodeParms")
        if parms is not None and not isinstance(parms, Array):
            parms = Array([parms])
        obj.write(
            raw.hex().encode() + b">",
            filter=Array([Name.ASCIIHexDecode, *filters]),
            decode_parms=None if parms is None else Array([None, *parms]),
        )


def _version(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _open(pieces: Sequence[PiecePdf]) -> list[_Piece]:
    opened = []
    first = 0
    for number, piece in enumerate(pieces):
        pdf = pikepdf.open(io.BytesIO(piece.data))
        if Name.StructTreeRoot not in pdf.Root:
            raise ValueError(f"piece {number} has no structure tree: it was not written tagged")
        pages = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
        opened.append(_Piece(pdf, piece.anchors, first, pages))
        first += len(pages)
    return opened


def _refuse_forms(pieces: Sequence[_Piece]) -> None:
    """Raise if a piece has form fields: AcroForms are not merged (bookbuild makes none)."""
    for number, piece in enumerate(pieces):
        form = piece.pdf.Root.get(Name.AcroForm)
        if isinstance(form, Dictionary) and len(form.get(Name.Fields, ())):
            raise ValueError(f"piece {number} has form fields, which stitch does not merge")


def _check_pages(book: pikepdf.Pdf, expected: int) -> None:
    """Raise unless the book has each piece's pages once: a page copied twice breaks /Pg."""
    seen = {page.obj.objgen for page in book.pages}
    if len(seen) != expected or len(book.pages) != expected:
        raise ValueError(f"stitched {len(book.pages)} pages ({len(seen)} distinct), not {expected}")


# ---------------------------------------------------------------------------------------------
# Destinations: explicit ones are (page in the book, rest of the array) until written.


@dataclass(frozen=True, slots=True)
class _Dest:
    page: int
    view: tuple[Any, ...]


def _read_dest(piece: _Piece, value: Any) -> Any:
    """Return an explicit destination as a _Dest, anything else (a name) as it is."""
    if isinstance(value, Dictionary) and Name.D in value:
        value = value.D
    if isinstance(value, Array) and len(value) and isinstance(value[0], Dictionary):
        index = piece.pages.get(value[0].objgen)
        if index is None:
            raise ValueError(f"a destination of the piece at page {piece.first + 1} has no page")
        return _Dest(piece.first + index, tuple(value[1:]))
    return value


def _write_dest(book: pikepdf.Pdf, dest: Any) -> Any:
    if isinstance(dest, _Dest):
        return Array([book.pages[dest.page].obj, *dest.view])
    return dest


def _real_destinations(pieces: Sequence[_Piece]) -> dict[str, _Dest]:
    """Return each piece's real named destinations; the first piece naming an id wins."""
    found: dict[str, _Dest] = {}
    for piece in pieces:
        for name, value in _named_destinations(piece.pdf):
            if name in piece.anchors and name not in found:
                dest = _read_dest(piece, value)
                if isinstance(dest, _Dest):
                    found[name] = dest
    return found


def _named_destinations(pdf: pikepdf.Pdf) -> Iterator[tuple[str, Any]]:
    names = pdf.Root.get(Name.Names)
    if isinstance(names, Dictionary) and Name.Dests in names:
        for key, value in NameTree(names.Dests).items():
            yield str(key), value
    old = pdf.Root.get(Name.Dests)  # PDF 1.1's dictionary of names
    if isinstance(old, Dictionary):
        for key in sorted(old.keys()):
            yield key[1:], old[key]


def _check_links(book: pikepdf.Pdf, dests: dict[str, _Dest]) -> None:
    """Raise if a link names a destination no piece holds: one layout would have refused it."""
    missing = set()
    for page in book.pages:
        for annotation in page.obj.get(Name.Annots, ()):
            target = annotation.get(Name.Dest)
            action = annotation.get(Name.A)
            if (
                target is None
                and isinstance(action, Dictionary)
                and action.get(Name.S) == Name.GoTo
            ):
                target = action.get(Name.D)
            if isinstance(target, String) and str(target) not in dests:
                missing.add(str(target))
    if missing:
        raise ValueError(f"links to ids no piece holds: {', '.join(sorted(missing))}")


def _write_destinations(book: pikepdf.Pdf, dests: dict[str, _Dest]) -> None:
    if Name.Dests in book.Root:
        del book.Root.Dests
    names = book.Root.get(Name.Names)
    if not isinstance(names, Dictionary):
        names = book.Root.Names = Dictionary()
    if not dests:
        if Name.Dests in names:
            del names.Dests
        return
    tree = NameTree.new(book)
    for name in sorted(dests, key=lambda n: n.encode("utf-8")):
        tree[name] = _write_dest(book, dests[name])
    names.Dests = tree.obj


def _merge_names(book: pikepdf.Pdf, pieces: Sequence[_Piece]) -> None:
    """Merge the pieces' other name trees (embedded files...): the first piece wins a name."""
    names = book.Root.Names
    for piece in pieces[1:]:
        theirs = piece.pdf.Root.get(Name.Names)
        if not isinstance(theirs, Dictionary):
            continue
        for key in sorted(theirs.keys()):
            if key == Name.Dests or not isinstance(theirs[key], Dictionary):
                continue
            if key not in names:
                names[key] = NameTree.new(book).obj
            tree = NameTree(names[key])
            for name, value in NameTree(theirs[key]).items():
                if name not in tree:
                    tree[name] = _copied(book, piece.pdf, value)


def _copied(book: pikepdf.Pdf, source: pikepdf.Pdf, value: Any) -> Any:
    """Return a foreign object as an object of the book (copy_foreign takes indirect ones)."""
    if not isinstance(value, Dictionary | Array | pikepdf.Stream):
        return value
    if not value.is_indirect:
        value = source.make_indirect(value)
    return book.copy_foreign(value)


# ---------------------------------------------------------------------------------------------
# The outline.


@dataclass(frozen=True, slots=True)
class _Entry:
    title: str
    dest: Any
    action: Any
    closed: bool
    color: Any
    flags: Any
    element: Any
    children: tuple[_Entry, ...]


def _outline_of(piece: _Piece) -> list[_Entry]:
    """Return the piece's outline, its destinations as pages of the book."""
    return [_entry(piece, item) for item in piece.pdf.open_outline(max_depth=64).root]


def _entry(piece: _Piece, item: OutlineItem) -> _Entry:
    action = item.action
    dest = _read_dest(piece, item.destination) if item.destination is not None else None
    if isinstance(action, Dictionary) and action.get(Name.S) == Name.GoTo and dest is None:
        dest, action = _read_dest(piece, action.D), None
    return _Entry(
        title=item.title,
        dest=dest,
        action=action,
        closed=item.is_closed,
        color=item.color,
        flags=item.flags,
        element=item.structure_element,
        children=tuple(_entry(piece, kid) for kid in item.children),
    )


def _write_outline(book: pikepdf.Pdf, entries: Sequence[_Entry]) -> None:
    def made(entry: _Entry) -> OutlineItem:
        action: Any = entry.action
        if isinstance(action, Dictionary) and _foreign(action, book):
            action = book.copy_foreign(_owner(action).make_indirect(action))
        element: Any = entry.element
        if element is not None and element.is_indirect and _foreign(element, book):
            element = book.copy_foreign(element)  # the element copied with its tree
        item = OutlineItem(
            entry.title,
            _write_dest(book, entry.dest),
            action=action if entry.dest is None else None,
            color=entry.color,
            flags=entry.flags,
            structure_element=element,
        )
        item.is_closed = entry.closed
        item.children = [made(kid) for kid in entry.children]
        return item

    items = [made(entry) for entry in entries]
    if Name.Outlines in book.Root:
        del book.Root.Outlines
    if items:
        with book.open_outline(max_depth=64) as outline:
            outline.root.extend(items)


def _foreign(obj: Any, book: pikepdf.Pdf) -> bool:
    return not obj.is_owned_by(book)


def _owner(obj: Any) -> pikepdf.Pdf:
    owner: pikepdf.Pdf = obj.owner
    return owner


# ---------------------------------------------------------------------------------------------
# The structure tree.


def _merge_structure(book: pikepdf.Pdf, pieces: Sequence[_Piece]) -> None:
    """Put every piece's top-level elements under piece 0's Document element, renumbered."""
    root: Any = book.Root.StructTreeRoot
    document = _document(root)
    entries = list(_number_tree(root.get(Name.ParentTree)))
    next_key = _next_key(root, entries)
    ids = dict(_name_tree(root.get(Name.IDTree)))
    kids = _kids(document)
    for number, piece in enumerate(pieces[1:], start=1):
        theirs: Any = book.copy_foreign(piece.pdf.Root.StructTreeRoot)
        their_document = _document(theirs)
        for kid in _kids(their_document):
            kids.append(_adopt(kid, document, their_document))
        their_entries = list(_number_tree(theirs.get(Name.ParentTree)))
        offset = next_key
        next_key += _next_key(theirs, their_entries)
        entries += [(key + offset, value) for key, value in their_entries]
        _renumber(book, piece, offset)
        _merge_ids(ids, dict(_name_tree(theirs.get(Name.IDTree))), their_document, number)
        for key in (Name.RoleMap, Name.ClassMap):
            _merge_map(root, theirs, key)
    document.K = kids
    root.K = Array([document])
    root.ParentTree = _write_number_tree(book, entries)
    root.ParentTreeNextKey = next_key
    if ids:
        tree = NameTree.new(book)
        for ident in sorted(ids, key=lambda n: n.encode("utf-8")):
            tree[ident] = ids[ident]
        root.IDTree = tree.obj
    elif Name.IDTree in root:
        del root.IDTree


def _document(root: Dictionary) -> Dictionary:
    k = root.get(Name.K)
    kids = list(k) if isinstance(k, Array) else [k]
    if len(kids) != 1 or not isinstance(kids[0], Dictionary):
        raise ValueError("a piece's structure tree has no single Document element")
    return kids[0]


def _kids(element: Dictionary) -> Array:
    k = element.get(Name.K)
    if k is None:
        return Array()
    return Array(list(k)) if isinstance(k, Array) else Array([k])


def _adopt(kid: Any, document: Dictionary, their_document: Dictionary) -> Any:
    """Return a top-level kid of a piece's Document, made a kid of the book's Document."""
    if isinstance(kid, int):  # a mark right in the Document, on the Document's page
        return Dictionary(Type=Name.MCR, Pg=their_document.Pg, MCID=kid)
    if isinstance(kid, Dictionary) and kid.get(Name.Type) not in (Name.MCR, Name.OBJR):
        kid.P = document
    return kid


def _next_key(root: Dictionary, entries: list[tuple[int, Any]]) -> int:
    given = root.get(Name.ParentTreeNextKey)
    largest = max((key for key, _ in entries), default=-1) + 1
    return max(int(given), largest) if given is not None else largest


def _renumber(book: pikepdf.Pdf, piece: _Piece, offset: int) -> None:
    """Add `offset` to the ParentTree keys of the piece's pages, annotations and XObjects."""
    seen: set[tuple[int, int]] = set()
    for index in range(len(piece.pages)):
        page = book.pages[piece.first + index].obj
        _shift(page, Name.StructParents, offset)
        for annotation in page.get(Name.Annots, ()):
            if annotation.objgen not in seen:
                seen.add(annotation.objgen)
                _shift(annotation, Name.StructParent, offset)
        _renumber_xobjects(page.get(Name.Resources), offset, seen)


def _renumber_xobjects(resources: Any, offset: int, seen: set[tuple[int, int]]) -> None:
    if not isinstance(resources, Dictionary):
        return
    xobjects = resources.get(Name.XObject)
    if not isinstance(xobjects, Dictionary):
        return
    for key in sorted(xobjects.keys()):
        xobject = xobjects[key]
        if not isinstance(xobject, pikepdf.Stream) or xobject.objgen in seen:
            continue
        seen.add(xobject.objgen)
        _shift(xobject, Name.StructParent, offset)
        _shift(xobject, Name.StructParents, offset)
        _renumber_xobjects(xobject.get(Name.Resources), offset, seen)


def _shift(obj: Any, key: Name, offset: int) -> None:
    if key in obj:
        obj[key] = int(obj[key]) + offset


def _merge_ids(
    ids: dict[str, Any], theirs: dict[str, Any], their_document: Dictionary, number: int
) -> None:
    """Add a piece's element IDs; one taken already gets a new name (numbered per piece)."""
    renamed: dict[str, str] = {}
    for ident, element in theirs.items():
        if ident in ids:
            new, n = f"{ident}-p{number}", 1
            while new in ids or new in theirs:
                new, n = f"{ident}-p{number}-{n}", n + 1
            renamed[ident] = new
            element.ID = String(new)
            ident = new
        ids[ident] = element
    # Only a TH's ID is referred to (by /Headers, PDF 32000-1 table 349), and from its table.
    tables = {}
    for old in renamed:
        if theirs[old].get(Name.S) == Name.TH:
            table = _table_of(theirs[old])
            tables[table.objgen] = table
    for table in tables.values():
        for element in _elements(table):
            _rename_headers(element, renamed)


def _table_of(element: Dictionary) -> Any:
    """Return the Table element holding a TH (or the topmost element, for a TH astray)."""
    current: Any = element
    while current.get(Name.S) != Name.Table and isinstance(current.get(Name.P), Dictionary):
        if current.P.get(Name.Type) == Name.StructTreeRoot:
            break
        current = current.P
    return current


def _elements(element: Dictionary) -> Iterator[Dictionary]:
    """Yield the element and every dictionary below it (elements, MCRs, OBJRs)."""
    stack = [element]
    while stack:
        current = stack.pop()
        yield current
        k = current.get(Name.K)
        if isinstance(k, Array):
            stack.extend(kid for kid in k if isinstance(kid, Dictionary))
        elif isinstance(k, Dictionary):
            stack.append(k)


def _rename_headers(element: Dictionary, renamed: dict[str, str]) -> None:
    """Point a cell's /Headers at its headers' new IDs."""
    attributes = element.get(Name.A)
    if attributes is None:
        return
    for owner in attributes if isinstance(attributes, Array) else [attributes]:
        if isinstance(owner, Dictionary) and Name.Headers in owner:
            owner.Headers = Array(String(renamed.get(str(h), str(h))) for h in owner.Headers)


def _merge_map(root: Dictionary, theirs: Dictionary, key: Name) -> None:
    """Merge a RoleMap or ClassMap: the first piece to define a name wins."""
    given = theirs.get(key)
    if not isinstance(given, Dictionary):
        return
    mine = root.get(key)
    if not isinstance(mine, Dictionary):
        root[key] = mine = Dictionary()
    for name in sorted(given.keys()):
        if name not in mine:
            mine[name] = given[name]


def _number_tree(tree: Any) -> Iterator[tuple[int, Any]]:
    if isinstance(tree, Dictionary):
        for key, value in NumberTree(tree).items():
            yield int(key), value


def _name_tree(tree: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(tree, Dictionary):
        for key, value in NameTree(tree).items():
            yield str(key), value


def _write_number_tree(book: pikepdf.Pdf, entries: list[tuple[int, Any]]) -> Any:
    """Return an indirect number tree of the entries: one leaf, or leaves of TREE_LEAF."""
    entries = sorted(entries, key=lambda entry: entry[0])

    def leaf(run: list[tuple[int, Any]], limits: bool) -> Dictionary:
        node = Dictionary(Nums=Array([x for key, value in run for x in (key, value)]))
        if limits:
            node.Limits = Array([run[0][0], run[-1][0]])
        return node

    if len(entries) <= TREE_LEAF:
        return book.make_indirect(leaf(entries, False))
    runs = [entries[i : i + TREE_LEAF] for i in range(0, len(entries), TREE_LEAF)]
    kids = Array([book.make_indirect(leaf(run, True)) for run in runs])
    return book.make_indirect(Dictionary(Kids=kids))


# ---------------------------------------------------------------------------------------------
# Page furniture.


def overlay_furniture(book: pikepdf.Pdf, furniture: pikepdf.Pdf) -> None:
    """Paint each furniture page over the book's page of the same number, as an artifact."""
    if len(furniture.pages) != len(book.pages):
        raise ValueError(
            f"the furniture has {len(furniture.pages)} pages, the book {len(book.pages)}"
        )
    for number, (page, source) in enumerate(zip(book.pages, furniture.pages, strict=True)):
        if _box(page.mediabox) != _box(source.mediabox):
            raise ValueError(f"furniture page {number + 1} is not the size of the book's page")
        if b"/MCID" in _content(source):
            raise ValueError(f"furniture page {number + 1} paints content, not only artifacts")
        form = furniture.make_indirect(source.as_form_xobject())
        name = page.add_resource(
            book.copy_foreign(form), Name.XObject, name=_free_name(page, number)
        )
        # The page's own content may leave its transformation in place: q ... Q isolates it.
        page.contents_add(book.make_stream(b"q\n"), prepend=True)
        page.contents_add(
            book.make_stream(
                b"Q\n/Artifact <</Type /Pagination>> BDC\nq\n"
                + bytes(name.unparse())
                + b" Do\nQ\nEMC\n"
            )
        )


def _content(page: pikepdf.Page) -> bytes:
    contents = page.obj.get(Name.Contents)
    streams = contents if isinstance(contents, Array) else [contents] if contents else []
    return b"\n".join(stream.read_bytes() for stream in streams)


def _free_name(page: pikepdf.Page, number: int) -> Name:
    """Return an XObject name the page's resources (often shared by its piece) don't use."""
    resources = page.obj.get(Name.Resources)
    xobjects = resources.get(Name.XObject) if isinstance(resources, Dictionary) else None
    taken = set(xobjects.keys()) if isinstance(xobjects, Dictionary) else set()
    name, n = f"/{FURNITURE_PREFIX}{number + 1}", 0
    while name in taken:
        n += 1
        name = f"/{FURNITURE_PREFIX}{number + 1}-{n}"
    return Name(name)


def _box(box: Any) -> tuple[float, ...]:
    return tuple(round(float(x), 3) for x in box)


def _merge_fonts(book: pikepdf.Pdf) -> None:
    """Merge the pieces' subsets of each font, once bookbuild.fontmerge exists."""
    if importlib.util.find_spec("bookbuild.fontmerge") is not None:
        importlib.import_module("bookbuild.fontmerge").merge_fonts(book)
