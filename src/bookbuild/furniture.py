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
the layout context), `LayoutContext.string_set`, `PageBox.page_type`,
`weasyprint.layout.page.PageType`, `make_page` and `set_page_type_computed_styles`, and the
page boxes' `children`, `background` and border widths. tests/test_furniture.py names the
version it was written against and fails when that changes.
"""

from __future__ import annotations

import html as htmlescape
import io
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
    the sides alternate from the book's first page, as in one layout.
    """
    pages = [page for piece in pieces for page in piece]
    if not pages:
        return []
    first_right = pages[0].side == "right"
    sides = ["right" if (n % 2 == 0) == first_right else "left" for n in range(len(pages))]
    return [
        page if page.side == side else replace(page, side=side)
        for page, side in zip(pages, sides, strict=True)
    ]


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
        # The furniture document's own content is not the book's: it sets only replayed strings.
        "html, body { string-set: none !important; }",
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
def imposing_page_types(pages: Sequence[PageFurniture]) -> Iterator[None]:
    """Within this block, the layout's page i has the page type recorded for pages[i].

    A blank page type is laid out as any other here: its element holds its (empty) replay,
    so every page takes exactly one page element.
    """
    import weasyprint.layout.page as wpage

    original_styles = wpage.set_page_type_computed_styles
    original_make = wpage.make_page
    types = [
        wpage.PageType(page.side, page.blank, page.name, index, page.groups)
        for index, page in enumerate(pages)
    ]

    def imposed(page_type: Any) -> Any:
        return types[page_type.index] if page_type.index < len(types) else page_type

    def set_page_type_computed_styles(page_type: Any, html: Any, style_for: Any) -> None:
        original_styles(imposed(page_type), html, style_for)

    def make_page(
        context: Any, root_box: Any, page_type: Any, resume_at: Any, number: int, state: Any
    ) -> Any:
        real = imposed(page_type)
        made = original_make(context, root_box, _NotSkipped(*real), resume_at, number, state)
        made[0].page_type = real
        return made

    wpage.set_page_type_computed_styles = set_page_type_computed_styles
    wpage.make_page = make_page
    try:
        yield
    finally:
        wpage.set_page_type_computed_styles = original_styles
        wpage.make_page = original_make


def _page_type_class() -> Any:
    from weasyprint.layout.page import PageType

    class NotSkipped(PageType):  # type: ignore[misc]
        """A page type that equals (and hashes as) the recorded one, but whose page WeasyPrint
        fills: make_page leaves a blank page's content for the next page."""

        __slots__ = ()

        @property
        def blank(self) -> bool:
            return False

    return NotSkipped


class _Lazy:
    """Build the PageType subclass when first used, so importing this module is cheap."""

    cls: Any = None

    def __call__(self, *fields: Any) -> Any:
        if _Lazy.cls is None:
            _Lazy.cls = _page_type_class()
        return _Lazy.cls(*fields)


_NotSkipped = _Lazy()


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
) -> bytes:
    """Return the PDF of the book's page furniture: one page per entry of `pages`.

    `html_head` is the print HTML (or any part of it holding its root, head and body start
    tags): its theme's @page rules make the margin boxes. The pages paint nothing else: no
    page background, border or marks (the pieces paint those); the page size, bleed
    included, is the theme's.
    """
    from bookbuild import pdf, tagging

    layout = laid_out_furniture(
        html_head, pages, assets=assets, source=source, variant=variant, fontconf=fontconf
    )
    buffer = io.BytesIO()
    with tagging.document_tags(layout, variant):
        pdf.write_pdf(
            layout, buffer, source=source, variant=variant, epoch=epoch, identifier=identifier
        )
    return buffer.getvalue()


def laid_out_furniture(
    html_head: str,
    pages: Sequence[PageFurniture],
    *,
    assets: Mapping[str, Asset],
    source: Path,
    variant: str,
    fontconf: Path | None = None,
) -> Any:
    """Return the furniture document laid out, its pages stripped to their margin boxes."""
    from bookbuild import pdf

    document_html = furniture_html(html_head, pages)
    with imposing_page_types(pages):
        document, _ = pdf.layout_pdf(document_html, assets, source, variant, fontconf=fontconf)
    if len(document.pages) != len(pages):
        raise AssertionError(
            f"the furniture document has {len(document.pages)} pages, not {len(pages)}"
        )
    strip_to_margin_boxes(document)
    return document
