"""Make a book's page furniture (running heads, page numbers) in one document of its own.

When the book is laid out in pieces, no piece knows the book's page numbers, its page count
or the strings (`string-set`) set before it, so pieces make no margin boxes. Each piece's
layout is recorded instead (`recording_furniture`): per page its page type (side, blank,
named page, page groups) and the string-set assignments made on it. The furniture document
(`furniture_pdf`) has the book's `<head>`, so the theme's @page rules, and one page per book
page: each page is given the recorded page type, whatever WeasyPrint would have chosen, and
replays that page's assignments, so `string()` and `counter(page)` resolve as in a single
layout. Its pages paint only their margin boxes, which our tagger paints as artifacts.

This module reads WeasyPrint's private layout: `weasyprint.document.layout_document` (to see
the layout context), the context's `string_set` and `page_maker` (page groups), the page
boxes' `page_type`, `style`, `children`, `background` and border widths; it replaces, while
the furniture is laid out, `weasyprint.layout.page.make_page` and
`set_page_type_computed_styles` (using `PageType`, `_standardize_page_based_counters`,
`build.update_counters`, `StyleFor._sheets` and `_page_type_match`) and
`weasyprint.layout.make_margin_boxes` and `layout_fixed_boxes`. tests/test_furniture.py
names the version it was written against and fails when that changes.
"""

from __future__ import annotations

import functools
import html as htmlescape
import io
import itertools
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bookbuild.assets import Asset

WEASYPRINT_VERSION = "70.0"
# The furniture document's own elements: names no theme styles, so its rules stay out.
PAGE_TAG = "bb-furniture-page"
SET_TAG = "bb-furniture-set"
HOLD_TAG = "bb-furniture-hold"


@dataclass(frozen=True, slots=True, kw_only=True)
class PageFurniture:
    """What one laid-out page needs from the furniture document."""

    side: str  # "left" or "right"
    blank: bool
    name: str  # the named page, "" for none
    groups: tuple[tuple[str, int], ...]  # (page group name, index of the page in it)
    strings: tuple[tuple[str, str], ...]  # (name, text) assigned on the page, in order by name
    starting: tuple[str, ...] = ()  # names set by the page's first box (for string(x, start))
    outer: tuple[str, ...] = ()  # its groups opened by <body>, which go on into the next piece


class Recorder:
    """The furniture of every page laid out within `recording_furniture()`."""

    def __init__(self) -> None:
        self._pages: weakref.WeakKeyDictionary[Any, PageFurniture] = weakref.WeakKeyDictionary()

    def pages(self, document: Any) -> list[PageFurniture]:
        """Return the furniture of the document's pages; raise KeyError if one went unseen."""
        return [self._pages[page._page_box] for page in document.pages]

    def _record(self, context: Any, page_boxes: Sequence[Any]) -> None:
        for number, page_box in enumerate(page_boxes, start=1):
            self._pages[page_box] = read_page(context, page_box, number)


def read_page(context: Any, page_box: Any, number: int) -> PageFurniture:
    """Return the furniture of page `number` (1-based) as the layout context holds it."""
    page_type = page_box.page_type
    strings = tuple(
        (name, text)
        for name, by_page in context.string_set.items()
        for text in by_page.get(number, ())
    )
    set_here = {name for name, _ in strings}
    return PageFurniture(
        side=page_type.side,
        blank=bool(page_type.blank),
        name=page_type.name or "",
        groups=tuple((str(name), int(index)) for name, index in page_type.groups),
        strings=strings,
        starting=tuple(name for name in _starting_names(page_box) if name in set_here),
        outer=_outer_groups(context, number),
    )


def _outer_groups(context: Any, number: int) -> tuple[str, ...]:
    """Return the names of page `number`'s groups that the <body> element opened.

    The page maker keeps, after each page, its groups as [name, index, where the group's
    element is]: the body's place is one step from the root ({0: None}).
    """
    groups = context.page_maker[number][3][3] if number < len(context.page_maker) else []
    return tuple(
        str(name)
        for name, _, where in groups
        if isinstance(where, dict) and len(where) == 1 and next(iter(where.values())) is None
    )


def _starting_names(page_box: Any) -> list[str]:
    """Return the names string-set on the page's chain of first boxes, as `string(x, start)`
    tests them (LayoutContext.get_string_or_element_for)."""
    names: list[str] = []
    box = page_box
    while box is not None:
        if box.style["string_set"] != "none":
            names += [name for name, _ in box.style["string_set"] if name not in names]
        children = getattr(box, "children", None)
        box = children[0] if children else None
    return names


@contextmanager
def recording_furniture() -> Iterator[Recorder]:
    """Within this block, record the furniture of every page WeasyPrint lays out."""
    import weasyprint.document as wdocument

    recorder = Recorder()
    original = wdocument.layout_document

    def layout_document(html: Any, root_box: Any, context: Any, *args: Any) -> Iterator[Any]:
        made = []
        for page_box in original(html, root_box, context, *args):
            made.append(page_box)
            yield page_box
        recorder._record(context, made)

    wdocument.layout_document = layout_document
    try:
        yield recorder
    finally:
        wdocument.layout_document = original


def book_pages(pieces: Sequence[Sequence[PageFurniture]]) -> list[PageFurniture]:
    """Return the pages of the book's pieces, recorded each on its own, in book order.

    A page's place in the list is its index in the book, so `:first` and `:nth()` follow;
    the sides alternate from the book's first page, as in one layout. A page group that
    <body> opens (`body { page: x }`) opens on the book's first page or never: the first
    piece's go on through the others, whose own (opened where a piece starts) go.
    """
    pages = list(pieces[0]) if pieces else []
    last = pages[-1] if pages else None
    outer = [(name, index) for name, index in last.groups if name in last.outer] if last else []
    for piece in pieces[1:]:
        for k, page in enumerate(piece):
            groups = tuple((name, index + 1 + k) for name, index in outer)
            own = tuple(group for group in page.groups if group[0] not in page.outer)
            names = tuple(name for name, _ in outer)
            pages.append(replace(page, groups=groups + own, outer=names))
        outer = [(name, index + len(piece)) for name, index in outer]
    return alternating(pages)


def furniture_html(html: str, pages: Sequence[PageFurniture]) -> str:
    """Return the furniture document: `html`'s root, head and body start, one element per page.

    Each page element replays its page's string-set assignments, the ones its first box made
    nested first (so `string(x, start)` sees them); a page with none starts with an empty
    element, so it sees none.
    """
    from lxml import html as lxml_html

    source = lxml_html.document_fromstring(html)
    head = source.find("head")
    body = source.find("body")
    names = sorted({name for page in pages for name, _ in page.strings})
    rules = [
        f"{PAGE_TAG}, {SET_TAG}, {HOLD_TAG} {{ display: block !important; margin: 0 !important;"
        " padding: 0 !important; border: none !important; height: 0 !important;"
        " float: none !important; position: static !important; }",
        f"{PAGE_TAG} {{ break-before: page !important; break-after: auto !important; }}",
        f"{PAGE_TAG}:first-child {{ break-before: auto !important; }}",
        # The furniture document's own content is not the book's: it sets only replayed
        # strings, and generates nothing that could take a page of its own.
        "html, body { string-set: none !important; }",
        "html::before, html::after, body::before, body::after { content: none !important; }",
        *(
            f'{SET_TAG}[data-name="{_css_string(name)}"] '
            f"{{ string-set: {_css_ident(name)} attr(data-text) !important; }}"
            for name in names
        ),
    ]
    parts = ["<!DOCTYPE html>", f"<html{_attributes(source)}>", "<head>"]
    if head is not None:
        parts += [lxml_html.tostring(child, encoding="unicode") for child in head]
    parts += [f"<style>{chr(10).join(rules)}</style>", "</head>"]
    parts.append(f"<body{_attributes(body) if body is not None else ''}>")
    parts += [_page_element(page) for page in pages]
    parts.append("</body></html>")
    return "\n".join(parts)


def _page_element(page: PageFurniture) -> str:
    """Return the element that replays one page's assignments."""
    firsts: dict[str, int] = {}
    for n, (name, _) in enumerate(page.strings):
        firsts.setdefault(name, n)
    nested = [firsts[name] for name in page.starting if name in firsts]
    chain = "".join(_set_open(*page.strings[n]) for n in nested) + f"</{SET_TAG}>" * len(nested)
    rest = "".join(
        _set_open(name, text) + f"</{SET_TAG}>"
        for n, (name, text) in enumerate(page.strings)
        if n not in nested
    )
    lead = chain or f"<{HOLD_TAG}></{HOLD_TAG}>"
    return f"<{PAGE_TAG}>{lead}{rest}</{PAGE_TAG}>"


def _set_open(name: str, text: str) -> str:
    return (
        f'<{SET_TAG} data-name="{htmlescape.escape(name)}" data-text="{htmlescape.escape(text)}">'
    )


def _attributes(element: Any) -> str:
    return "".join(f' {key}="{htmlescape.escape(value)}"' for key, value in element.attrib.items())


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")


def _css_ident(name: str) -> str:
    from tinycss2.serializer import serialize_identifier

    return str(serialize_identifier(name))


@contextmanager
def imposing_page_types(
    book: Sequence[PageFurniture], start: int = 0, stop: int | None = None
) -> Iterator[None]:
    """Within this block, the layout's pages have the page types of book[start:stop].

    With `start` > 0 the layout's first page stands for book[start - 1] (see `_chunk_pages`),
    and the page counters start from their values after the pages before it, so any run of
    the book can be laid out in a document of its own; `counter(pages)` is the book's count.

    A blank page type is laid out as any other here: its element holds its (empty) replay,
    so every page takes exactly one page element. Pages whose types match the same @page
    rules share their computed styles, as WeasyPrint shares those of like elements: each
    page type's styles are otherwise computed anew, in a loop over every style computed so
    far (quadratic in the number of pages). The document has no fixed boxes to repeat.
    """
    import weasyprint.layout as wlayout
    import weasyprint.layout.page as wpage
    from weasyprint.formatting_structure import build

    original_styles = wpage.set_page_type_computed_styles
    original_make = wpage.make_page
    original_fixed = wlayout.layout_fixed_boxes
    original_margins = wlayout.make_margin_boxes
    stop = len(book) if stop is None else stop
    base = start - 1 if start > 0 else 0
    types = [
        wpage.PageType(page.side, page.blank, page.name, index, page.groups)
        for index, page in enumerate(book[:stop])
    ]
    models: dict[tuple[bool, ...], list[tuple[Any, Any]]] = {}
    seen_html: list[Any] = []

    def imposed(page_type: Any) -> Any:
        index = base + page_type.index
        return types[index] if index < len(types) else page_type

    def computed_styles(real: Any, html: Any, style_for: Any) -> None:
        key = _matching_rules(style_for, real)
        computed = style_for.get_computed_styles()
        if (styles := models.get(key)) is None:
            original_styles(real, html, style_for)
            models[key] = [(k[1], v) for k, v in computed.items() if k[0] == real]
            return
        for pseudo_type, style in styles:
            computed[real, pseudo_type] = style

    def set_page_type_computed_styles(page_type: Any, html: Any, style_for: Any) -> None:
        seen_html[:] = [html]
        computed_styles(imposed(page_type), html, style_for)

    def make_page(
        context: Any, root_box: Any, page_type: Any, resume_at: Any, number: int, state: Any
    ) -> Any:
        if number == 1:
            # The counters as the pages before this run left them.
            for real in types[:base]:
                computed_styles(real, seen_html[0], context.style_for)
                style = context.style_for(real)
                wpage._standardize_page_based_counters(style, None)
                build.update_counters(state, style)
        real = imposed(page_type)
        made = original_make(context, root_box, _not_skipped()(*real), resume_at, number, state)
        made[0].page_type = real
        return made

    def make_margin_boxes(context: Any, page: Any, state: Any) -> Any:
        state[1]["pages"] = [len(book)]
        return original_margins(context, page, state)

    wpage.set_page_type_computed_styles = set_page_type_computed_styles
    wpage.make_page = make_page
    wlayout.layout_fixed_boxes = lambda context, pages, page: iter(())
    wlayout.make_margin_boxes = make_margin_boxes
    try:
        yield
    finally:
        wpage.set_page_type_computed_styles = original_styles
        wpage.make_page = original_make
        wlayout.layout_fixed_boxes = original_fixed
        wlayout.make_margin_boxes = original_margins


def _chunk_pages(book: Sequence[PageFurniture], start: int, stop: int) -> list[PageFurniture]:
    """Return the pages a furniture document for book[start:stop] replays.

    After the first run, a run starts with a stand-in for the page before it, which sets
    each string to the value the pages before left it at; that page is dropped once laid
    out, so the run's first page finds the strings it carries in, and its counters.
    """
    if start == 0:
        return list(book[:stop])
    carried: dict[str, str] = {}
    for page in book[:start]:
        carried.update(page.strings)
    before = replace(book[start - 1], strings=tuple(carried.items()), starting=())
    return [before, *book[start:stop]]


def _matching_rules(style_for: Any, page_type: Any) -> tuple[bool, ...]:
    """Return which of the document's @page selectors the page type matches."""
    return tuple(
        style_for._page_type_match(selector[2], page_type)
        for sheet, _, _ in style_for._sheets
        for _, selectors, _ in sheet.page_rules
        for selector in selectors
    )


@functools.cache
def _not_skipped() -> Any:
    """Return a PageType that equals (and hashes as) the recorded one, so it has its styles,
    but that WeasyPrint fills: make_page leaves a blank page's content for the next page."""
    from weasyprint.layout.page import PageType

    class NotSkipped(PageType):  # type: ignore[misc]
        __slots__ = ()

        @property
        def blank(self) -> bool:
            return False

    return NotSkipped


def strip_to_margin_boxes(document: Any) -> None:
    """Leave each page of the laid-out document painting only its margin boxes."""
    from weasyprint.formatting_structure.boxes import MarginBox

    for page in document.pages:
        page_box = page._page_box
        root, *rest = page_box.children
        bare = root.copy_with_children([])
        for box in (page_box, bare):
            box.background = None
            box.border_top_width = box.border_right_width = 0
            box.border_bottom_width = box.border_left_width = 0
        page_box.canvas_background = None
        page_box.children = (bare, *(box for box in rest if isinstance(box, MarginBox)))
        page.anchors, page.links, page.bookmarks = {}, [], []


# Runs shorter than this are laid out in the calling process: a worker's start costs more.
MIN_RUN = 250


def furniture_pdf(
    html_head: str,
    pages: Sequence[PageFurniture],
    *,
    assets: Mapping[str, Asset],
    source: Path,
    variant: str,
    epoch: int,
    identifier: str,
    fontconf: Path | None = None,
    jobs: int = 1,
) -> bytes:
    """Return the PDF of the book's page furniture: one page per entry of `pages`.

    `html_head` is the print HTML, or its beginning up to and including the `<body>` start
    tag: its root's attributes (lang, dir) and its head's theme make the margin boxes. The
    pages paint nothing else: no page background, border or marks (the pieces paint those);
    the page size, bleed included, is the theme's. With `jobs` > 1 a long book's furniture
    is laid out in runs of pages, each in a worker process, and the runs' PDFs joined.
    """
    book = alternating(pages)
    runs = _runs(len(book), jobs)
    args = (assets, source, variant, epoch, identifier, fontconf)
    if len(runs) == 1:
        return _run_pdf(html_head, book, 0, len(book), *args)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Forked, as the piece workers are: the book's fonts and theme are already loaded.
    with ProcessPoolExecutor(len(runs), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_run_pdf, html_head, book, a, b, *args) for a, b in runs]
        made = [future.result() for future in futures]
    return join_pdfs(made)


def alternating(pages: Sequence[PageFurniture]) -> list[PageFurniture]:
    """Return the pages with their sides alternating from the first, as in one layout."""
    if not pages:
        return []
    first_right = pages[0].side == "right"
    sides = ["right" if (n % 2 == 0) == first_right else "left" for n in range(len(pages))]
    return [
        page if page.side == side else replace(page, side=side)
        for page, side in zip(pages, sides, strict=True)
    ]


def _runs(count: int, jobs: int) -> list[tuple[int, int]]:
    """Return the runs of pages laid out each on its own: `jobs` runs of MIN_RUN or more."""
    parts = max(1, min(jobs, count // MIN_RUN))
    bounds = [count * n // parts for n in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def _run_pdf(
    html_head: str,
    book: Sequence[PageFurniture],
    start: int,
    stop: int,
    assets: Mapping[str, Asset],
    source: Path,
    variant: str,
    epoch: int,
    identifier: str,
    fontconf: Path | None,
) -> bytes:
    """Return the furniture PDF of book[start:stop]."""
    from bookbuild import pdf, tagging

    layout = laid_out_furniture(
        html_head,
        book,
        assets=assets,
        source=source,
        variant=variant,
        fontconf=fontconf,
        start=start,
        stop=stop,
    )
    buffer = io.BytesIO()
    with tagging.document_tags(layout, variant):
        pdf.write_pdf(
            layout, buffer, source=source, variant=variant, epoch=epoch, identifier=identifier
        )
    return buffer.getvalue()


def join_pdfs(parts: Sequence[bytes]) -> bytes:
    """Return one PDF of the parts' pages in order, with the first part's catalog and ID.

    The furniture's pages hold artifacts only, so the later parts' pages point at no
    structure: their /StructParents go.
    """
    import pikepdf

    with pikepdf.open(io.BytesIO(parts[0])) as joined:
        for data in parts[1:]:
            with pikepdf.open(io.BytesIO(data)) as part:
                for page in part.pages:
                    joined.pages.append(page)
                    if "/StructParents" in joined.pages[-1].obj:
                        del joined.pages[-1].obj["/StructParents"]
        buffer = io.BytesIO()
        joined.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def laid_out_furniture(
    html_head: str,
    pages: Sequence[PageFurniture],
    *,
    assets: Mapping[str, Asset],
    source: Path,
    variant: str,
    fontconf: Path | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Any:
    """Return the furniture document of pages[start:stop] laid out, its pages stripped to
    their margin boxes."""
    from bookbuild import pdf

    stop = len(pages) if stop is None else stop
    replayed = _chunk_pages(pages, start, stop)
    with imposing_page_types(pages, start, stop):
        document, _ = pdf.layout_pdf(
            furniture_html(html_head, replayed), assets, source, variant, fontconf=fontconf
        )
    if len(document.pages) != len(replayed):
        raise RuntimeError(
            f"the furniture document has {len(document.pages)} pages, not {len(replayed)}"
        )
    if start > 0:
        document.pages = document.pages[1:]  # the stand-in for the page before the run
    strip_to_margin_boxes(document)
    return document
