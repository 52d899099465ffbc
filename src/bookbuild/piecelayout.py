"""Lay out one piece of the book as if the pages before and after it were there.

A piece is the print HTML's <head> with a run of its top-level children (parallel.py). Laid
out on its own, WeasyPrint would number its pages from 1, match its first page with
`@page :first`, drop the page numbers it prints for anchors in other pieces and the links to
them, and make running heads that only the whole book can know. Within `piece_layout()`:

- no margin boxes are made (the furniture document makes them, furniture.py);
- the page counter starts at the piece's offset, and the page's index (what `:first` and
  `:nth()` match) and side follow it;
- a piece that is not the book's start begins as after a forced page break, as it does in
  the whole book (a top margin is kept, a page group starts);
- every anchor outside the piece is known to WeasyPrint's TargetCollector, already laid
  out, on the page it gives: `target-counter(attr(href), page)` prints that page when the
  boxes are built, with no repagination;
- the index (indexlayout.py) sets its locators from the outside pages too.
`add_outside_anchors` then gives the document's last page a named destination for every
outside anchor the piece links to, so WeasyPrint keeps those links (it drops a link to a
missing anchor). Those destinations are fake; `real_anchors` lists the piece's own.

This module reads and patches WeasyPrint's private layout: `weasyprint.layout`'s
`initialize_page_maker` and `make_margin_boxes`, `weasyprint.layout.page.PageType`,
`weasyprint.document.TargetCollector` and `css.targets.TargetLookupItem`, the page maker's
state tuple and `Page.anchors` / `Page.links`. tests/test_parallel.py names the version it
was written against and fails when that changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

PINNED_WEASYPRINT = "70.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class PieceSetup:
    """Where a piece sits in the book: the pages before it, and the pages of what is not in it."""

    offset: int = 0  # the number of book pages before the piece's first page
    outside: Mapping[str, int] = field(default_factory=dict)  # anchor -> its book page


class SeenTargets:
    """The anchors the piece printed a page number for: the outside ones, and its own."""

    def __init__(self) -> None:
        self.names: set[str] = set()


def check_version() -> None:
    """Refuse to patch a WeasyPrint this module was not written against."""
    import weasyprint

    if weasyprint.__version__ != PINNED_WEASYPRINT:
        raise RuntimeError(
            f"bookbuild.piecelayout was written for WeasyPrint {PINNED_WEASYPRINT}, "
            f"not {weasyprint.__version__}: check its hooks before moving the pin"
        )


@contextmanager
def piece_layout(setup: PieceSetup) -> Iterator[SeenTargets]:
    """Within this block, every WeasyPrint layout is a piece placed as `setup` says."""
    check_version()
    import weasyprint.document as document_module
    import weasyprint.layout as layout
    import weasyprint.layout.page as page_module
    from weasyprint.css.targets import TargetCollector, TargetLookupItem, anchor_name_from_token
    from weasyprint.urls import get_url_tuple

    seen = SeenTargets()
    originals = (
        layout.initialize_page_maker,
        layout.make_margin_boxes,
        page_module.PageType,
        document_module.TargetCollector,
    )
    real_page_type = page_module.PageType
    offset = setup.offset

    def initialize_page_maker(context: Any, root_box: Any) -> None:
        originals[0](context, root_box)
        resume_at, next_page, right_page, page_state, remake_state = context.page_maker[0]
        _quote_depth, counter_values, counter_scopes, _groups = page_state
        # The page counter goes on from the pages before; each page adds one as usual.
        counter_values["page"] = [offset]
        counter_scopes[0].add("page")
        if offset:
            # The book's page offset+1 comes after a forced break, on the side it falls on.
            next_page = {**next_page, "break": "page"}
            right_page = right_page ^ bool(offset % 2)
        context.page_maker[0] = (resume_at, next_page, right_page, page_state, remake_state)

    def page_type(side: str, blank: bool, name: str, index: int, groups: Any) -> Any:
        return real_page_type(side, blank, name, index + offset, groups)

    class SeededCollector(TargetCollector):  # type: ignore[misc]
        """A TargetCollector that knows where the anchors outside the piece are."""

        def __init__(self) -> None:
            super().__init__()
            for name, page in setup.outside.items():
                item = TargetLookupItem("up-to-date")
                # compute_content_list reads a target's counters from its box: this one is
                # on `page`, which target-counter prints as the boxes are built.
                item.target_box = SimpleNamespace(cached_counter_values={"page": [page]})
                self.target_lookup_items[name] = item

        def lookup_target(
            self, anchor_token: Any, source_box: Any, css_token: Any, parse_again: Any
        ) -> Any:
            token = anchor_token
            if token[0] == "attr()":
                attr_name, type_, fallback = token[1]
                value = source_box.element.get(attr_name, fallback)
                token = (
                    ("string", value)
                    if type_ == "string"
                    else ("url", get_url_tuple(value, source_box.style.base_url))
                )
            if name := anchor_name_from_token(token):
                seen.names.add(name)
            return super().lookup_target(anchor_token, source_box, css_token, parse_again)

    layout.initialize_page_maker = initialize_page_maker
    layout.make_margin_boxes = lambda context, page, state: ()
    page_module.PageType = page_type
    document_module.TargetCollector = SeededCollector
    try:
        yield seen
    finally:
        (
            layout.initialize_page_maker,
            layout.make_margin_boxes,
            page_module.PageType,
            document_module.TargetCollector,
        ) = originals


def real_anchors(document: Any) -> frozenset[str]:
    """Return the ids whose anchors are in the laid-out piece itself."""
    return frozenset(name for page in document.pages for name in page.anchors)


def add_outside_anchors(document: Any) -> frozenset[str]:
    """Give the last page an anchor for every link target outside the piece; return them.

    WeasyPrint writes a link only to an anchor of the same document; the stitcher points
    each one at the real page, and drops these destinations.
    """
    own = real_anchors(document)
    linked = {
        target
        for page in document.pages
        for kind, target, _, _ in page.links
        if kind == "internal" and target not in own
    }
    if document.pages:
        for name in sorted(linked):
            document.pages[-1].anchors[name] = (0.0, 0.0, 0.0, 0.0)
    return frozenset(linked)


def plain_edges(document: Any) -> bool:
    """Return whether the root and body boxes have no vertical margin, border or padding.

    Laid out alone, a piece would get the body's top edge on its first page and its bottom
    edge on its last; in the whole book they are at the book's start and end only.
    """
    if not document.pages:
        return True
    html = document.pages[0]._page_box.children[0]
    boxes = [html, *[c for c in getattr(html, "children", ())[:1]]]
    sides = ("margin_top", "margin_bottom", "padding_top", "padding_bottom")
    borders = ("border_top_width", "border_bottom_width")
    for box in boxes:
        style = box.style
        if any(getattr(style[name], "value", style[name]) not in (0, "auto") for name in sides):
            return False
        if any(style[name] for name in borders):
            return False
    return True
