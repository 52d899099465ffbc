"""Print the index's page numbers in the same layout that finds them.

The index comes last, so nothing before it moves with its length. WeasyPrint paginates the
whole book once with a placeholder locator per indexed passage; then, reading where each
passage's anchor landed, this sets each entry's locators to its page runs ("12–14", each a
link to the first passage of the run), and has WeasyPrint lay out the index's pages again,
the pages before being reused as they are. "Page N of M" and the outline follow, since the
margin boxes are made after pagination.

This module reads WeasyPrint's private layout: `weasyprint.layout.make_all_pages`, the page
maker's remake state (`context.page_maker`) and the box tree (`children`, `element`,
`TextBox.copy_with_text`). tests/test_index.py names the version it was written against and
fails when that changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from weasyprint.formatting_structure.boxes import InlineBox, TextBox

from bookbuild.index import INDEX_ID, locator_runs

WEASYPRINT_VERSION = "70.0"
LOCATORS_CLASS = "ix-locs"


@dataclass(slots=True)
class _Locators:
    """One entry's locator list as first built: its links, by passage, and a separator."""

    box: Any
    links: list[tuple[str, Any, Any]]  # (passage id, link box, its text box)
    separator: Any
    labels: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _State:
    root: Any = None
    lists: list[_Locators] = field(default_factory=list)
    held: list[tuple[Any, list[Any]]] = field(default_factory=list)  # entries kept back


@contextmanager
def collapsing_index(outside: Mapping[str, int] | None = None, offset: int = 0) -> Iterator[None]:
    """Within this block, every WeasyPrint layout sets its index locators to real pages.

    For a piece of the book laid out alone (piecelayout.py), its pages come after `offset`
    book pages, and `outside` gives the book page of each passage in another piece.
    """
    import weasyprint.layout as layout

    original = layout.make_all_pages
    state = _State()

    def make_all_pages(context: Any, root_box: Any, html: Any, pages: Any) -> list[Any]:
        if state.root is not root_box:
            state.root, state.lists = root_box, _find_lists(root_box)
            # The first pagination only needs to find the pages of the passages: the entries
            # wait until then, so the index is laid out once, with its real locators.
            state.held = _hold_entries(root_box) if state.lists else []
        made = list(original(context, root_box, html, pages))
        if state.lists:
            for box, children in state.held:
                box.children = children
            _update(
                context, made, state.lists, force=bool(state.held), outside=outside, offset=offset
            )
            state.held = []
        return made

    layout.make_all_pages = make_all_pages
    try:
        yield
    finally:
        layout.make_all_pages = original


def _update(
    context: Any,
    made: list[Any],
    lists: list[_Locators],
    *,
    force: bool,
    outside: Mapping[str, int] | None = None,
    offset: int = 0,
) -> None:
    """Set the locators from where the anchors are; have the index's pages made again."""
    page_of: dict[str, int] = {}
    for number, entry in enumerate(context.page_maker[: len(made)], start=1):
        for anchor in entry[-1]["anchors"]:
            page_of.setdefault(anchor, number)
    # The locators print book pages; the remake below counts this layout's own pages.
    book_pages = {**(outside or {}), **{a: n + offset for a, n in page_of.items()}}
    changed = [_collapse(item, book_pages) for item in lists]
    first = page_of.get(INDEX_ID)
    if (force or any(changed)) and first is not None:
        # Every index page: one whose break point did not move would otherwise be kept.
        for entry in context.page_maker[first - 1 : len(made)]:
            entry[-1]["content_changed"] = True


def _collapse(item: _Locators, page_of: dict[str, int]) -> bool:
    """Set one entry's locators to its page runs; return whether they changed."""
    placed = sorted((page_of.get(mark, 0), n) for n, (mark, _, _) in enumerate(item.links))
    runs = locator_runs([page for page, _ in placed])
    labels = [(item.links[placed[n][1]][0], label) for n, label in runs]
    if labels == item.labels:
        return False
    item.labels = labels
    children: list[Any] = []
    by_mark = {mark: (link, text) for mark, link, text in item.links}
    for mark, label in labels:
        link, text = by_mark[mark]
        link.children = [text.copy_with_text(label)]
        name = link.element.get("data-label")
        if name:
            link.element.set("aria-label", f"{name} {label}")
        children += [item.separator.copy_with_text(item.separator.text), link]
    item.box.children = children
    return True


def _find_lists(root_box: Any) -> list[_Locators]:
    """Return the locator lists of the index section, if the document has one."""
    section = next((b for b in _top_sections(root_box) if _id(b) == INDEX_ID), None)
    return list(_lists(section)) if section is not None else []


def _hold_entries(root_box: Any) -> list[tuple[Any, list[Any]]]:
    """Empty the index's entry lists for now; return them with their entries."""
    section = next((b for b in _top_sections(root_box) if _id(b) == INDEX_ID), None)
    held = [
        (box, list(box.children))
        for box in getattr(section, "children", ())
        if "ix-entries" in _classes(box)
    ]
    for box, _ in held:
        box.children = []
    return held


def _top_sections(root_box: Any) -> Iterator[Any]:
    for body in getattr(root_box, "children", ()):
        yield from reversed(getattr(body, "children", ()))


def _lists(box: Any) -> Iterator[_Locators]:
    if isinstance(box, InlineBox) and LOCATORS_CLASS in _classes(box):
        links = [
            (href.removeprefix("#").rsplit("#", 1)[-1], child, child.children[0])
            for child in box.children
            if isinstance(child, InlineBox)
            and (href := child.element.get("href") or "")
            and child.children
            and isinstance(child.children[0], TextBox)
        ]
        separator = next((c for c in box.children if isinstance(c, TextBox)), None)
        if links and separator is not None:
            yield _Locators(box=box, links=links, separator=separator)
        return
    for child in getattr(box, "children", ()):
        yield from _lists(child)


def _id(box: Any) -> str | None:
    element = getattr(box, "element", None)
    return element.get("id") if element is not None else None


def _classes(box: Any) -> list[str]:
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []
