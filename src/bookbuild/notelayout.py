"""Read back where WeasyPrint set each footnote, and name the notes it set badly.

This is the one module that reads WeasyPrint's laid-out boxes for notes (private attributes:
`Page._page_box`, the page's children, `FootnoteAreaBox`, the `::footnote-call` boxes).
tests/test_notes.py names the WeasyPrint version it was written against and fails when that
changes, so the reading is checked again before the pin moves.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from weasyprint.formatting_structure.boxes import FootnoteAreaBox, LineBox

from bookbuild.cache import cached
from bookbuild.errors import Diagnostic

WEASYPRINT_VERSION = "70.0"
# How close to the foot of the body text a call must be for its note to start on the next page.
LAST_LINES = 4
_EPSILON = 0.5
# The share of a page's text area that notes may take: print.css caps @footnote at this
# `max-height`, and a note taller than that is set at its chapter's end.
NOTE_AREA_SHARE = 0.8


@dataclass(frozen=True, slots=True, kw_only=True)
class PageNotes:
    """One page as laid out: its body's extent, its calls and its notes, top to bottom."""

    number: int
    content_top: float
    content_bottom: float
    body_bottom: float
    line_height: float
    calls: tuple[tuple[str, float], ...]
    notes: tuple[tuple[str, float, float], ...]
    area_top: float | None


def read_pages(document: Any) -> list[PageNotes]:
    """Return the calls and notes of every page of a laid-out document."""
    return [_read_page(number, page) for number, page in enumerate(document.pages, start=1)]


def _read_page(number: int, page: Any) -> PageNotes:
    page_box = page._page_box
    # WeasyPrint keeps the note area among a page's children only when it holds notes.
    root, *rest = page_box.children
    area = next((box for box in rest if isinstance(box, FootnoteAreaBox)), None)
    top = page_box.content_box_y()
    lines = list(_lines(root))
    bottom = max((line.position_y + line.height for line in lines), default=top)
    heights = sorted(line.height for line in lines)
    notes = tuple(
        (str(box.element.get("id")), box.position_y, box.position_y + box.margin_height())
        for box in (area.children if area is not None else ())
        if getattr(box, "element", None) is not None and box.element.get("id")
    )
    return PageNotes(
        number=number,
        content_top=top,
        content_bottom=top + page_box.height,
        body_bottom=bottom,
        line_height=heights[len(heights) // 2] if heights else 12.0,
        calls=tuple(_calls(root)),
        notes=notes,
        area_top=area.position_y if area is not None and area.children else None,
    )


def _lines(box: Any) -> Iterator[Any]:
    """Yield the line boxes of the main flow."""
    if isinstance(box, LineBox):
        yield box
        return
    for child in getattr(box, "children", ()):
        yield from _lines(child)


def _calls(box: Any) -> Iterator[tuple[str, float]]:
    """Yield (note id, top) for each footnote call, in order."""
    if str(getattr(box, "element_tag", "")).endswith("::footnote-call"):
        yield str(box.element.get("id")), box.position_y
        return
    for child in getattr(box, "children", ()):
        yield from _calls(child)


def misplaced_notes(pages: list[PageNotes]) -> dict[str, str]:
    """Return the notes set badly, each with why: missing, too far, out of order, overlapping."""
    called = {note: (page, y) for page in pages for note, y in page.calls}
    order = {note: n for n, note in enumerate(n for page in pages for n, _ in page.calls)}
    placed = {note: page for page in pages for note, _, _ in page.notes}
    found = {note: "it was left out of the page" for note in called if note not in placed}
    for page in pages:
        found |= _too_far(page, called, placed)
        found |= _overlapping(page, called)
    last = -1
    for note in (n for page in pages for n, _, _ in page.notes):
        if order.get(note, last) < last:
            found.setdefault(note, "it came out of order")
        last = max(last, order.get(note, last))
    return found


def _too_far(
    page: PageNotes, called: dict[str, tuple[PageNotes, float]], placed: dict[str, PageNotes]
) -> dict[str, str]:
    found = {}
    for note, _, _ in page.notes:
        call_page, y = called.get(note, (page, 0.0))
        distance = page.number - call_page.number
        near_foot = y >= call_page.body_bottom - LAST_LINES * call_page.line_height
        if distance < 0 or distance > 1 or (distance == 1 and not near_foot):
            found[note] = (
                "it would start on the page after its call, which is not in that page's last lines"
                if distance == 1
                else f"it would be set {distance} pages from its call"
            )
    return found


def _overlapping(page: PageNotes, called: dict[str, tuple[PageNotes, float]]) -> dict[str, str]:
    """Blame the notes of a page whose note area runs into the text or off the page."""
    if page.area_top is None:
        return {}
    bottom = max(b for _, _, b in page.notes)
    clash = page.area_top < page.body_bottom - _EPSILON or page.area_top < page.content_top
    if not clash and bottom <= page.content_bottom + _EPSILON:
        return {}
    carried = [n for n, _, _ in page.notes if called.get(n, (page, 0))[0] is not page]
    tallest = max(page.notes, key=lambda note: note[2] - note[1])[0]
    return dict.fromkeys(carried or [tallest], "it did not fit under the text of its page")


# Measuring notes on their own, before the book is laid out.

_MEASURE_CSS = (
    ".footnote { float: none !important; display: block; margin: 0; }"
    " body > div { margin: 0; padding: 0; }"
)


def measure_document(print_html: str) -> str:
    """Return an HTML document holding only the book's footnotes, one block each, to measure."""
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(print_html)
    head = lxml_html.tostring(root.find("head"), encoding="unicode")
    notes = root.xpath("//span[contains(concat(' ', @class, ' '), ' footnote ')]")
    body = "".join(f'<div id="m-{note.get("id")}">{_markup(note)}</div>' for note in notes)
    head = head.replace("</head>", f"<style>{_MEASURE_CSS}</style></head>")
    return f"<!DOCTYPE html><html>{head}<body>{body}</body></html>"


def _markup(element: Any) -> str:
    from lxml import html as lxml_html

    return str(lxml_html.tostring(element, encoding="unicode", with_tail=False))


def note_heights(document: Any) -> dict[str, float]:
    """Return the height of each measured note, adding up its pieces across pages."""
    heights: dict[str, float] = {}
    for page in document.pages:
        for box in page._page_box.children[0].descendants():
            element = getattr(box, "element", None)
            ident = element.get("id") if element is not None else None
            if ident and ident.startswith("m-") and box.element_tag == "div":
                key = ident.removeprefix("m-")
                heights[key] = heights.get(key, 0.0) + box.margin_height()
    return heights


def note_area_limit(document: Any) -> float:
    """Return the tallest the note area may grow on a page of the measured document."""
    return NOTE_AREA_SHARE * float(document.pages[0]._page_box.height)


# The loop: lay out, read back, move the notes set badly to the end of their chapter, again.

MAX_PASSES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteLayout:
    """The final layout, and the notes moved out of the foot of the page, with why."""

    html: str
    document: Any
    warnings: tuple[Diagnostic, ...]
    moved: dict[str, str]
    misplaced: dict[str, str]


def layout_placing_notes(
    render: Callable[[frozenset[str]], str],
    layout: Callable[[str], tuple[Any, list[Diagnostic]]],
    note_ids: Collection[str],
    measure_key: Callable[[], Sequence[bytes]] | None = None,
) -> NoteLayout:
    """Lay the book out, moving each note WeasyPrint cannot set well to its chapter's end.

    Notes taller than the note area may grow are moved before the first pass; after each pass,
    the notes that came out missing, far from their call, out of order or over the text are
    moved too, up to MAX_PASSES layouts. What is still wrong after that is returned as
    `misplaced`, so it can be reported. With `measure_key` (giving everything besides the
    notes' HTML that their layout depends on), the notes' measured heights are cached.
    """
    html = render(frozenset())
    moved = _too_tall(html, layout, measure_key) if 'class="footnote' in html else {}
    if moved:
        html = render(frozenset(moved))
    for done in range(1, MAX_PASSES + 1):
        document, warnings = layout(html)
        bad = {_base(i, note_ids): why for i, why in misplaced_notes(read_pages(document)).items()}
        fresh = {i: why for i, why in bad.items() if i not in moved}
        if not fresh or done == MAX_PASSES:
            break
        # The next layout must not hold this one's boxes too: that would double the peak.
        document = None
        gc.collect()
        moved |= fresh
        html = render(frozenset(moved))
    return NoteLayout(
        html=html, document=document, warnings=tuple(warnings), moved=moved, misplaced=fresh
    )


def _too_tall(
    html: str,
    layout: Callable[[str], tuple[Any, list[Diagnostic]]],
    key: Callable[[], Sequence[bytes]] | None,
) -> dict[str, str]:
    document = measure_document(html)

    def measure() -> bytes:
        # JSON writes each float in its shortest exact form: a hit gives what a layout would.
        return json.dumps(_measure(document, layout)).encode()

    data = (
        measure() if key is None else cached("note-heights", [*key(), document.encode()], measure)
    )
    heights, limit = json.loads(data)
    why = f"it is taller than the {NOTE_AREA_SHARE:.0%} of a page that notes may take"
    return {note: why for note, height in heights.items() if height > limit}


def _measure(
    document: str, layout: Callable[[str], tuple[Any, list[Diagnostic]]]
) -> tuple[dict[str, float], float]:
    """Lay the notes out on their own; return each one's height, and the note area's limit."""
    measured, _ = layout(document)
    return note_heights(measured), note_area_limit(measured)


def _base(ident: str, note_ids: Collection[str]) -> str:
    """Return the note an id belongs to: a note called twice is set twice, as `<id>-2`."""
    base = ident.rsplit("-", 1)[0]
    return base if ident not in note_ids and base in note_ids else ident
