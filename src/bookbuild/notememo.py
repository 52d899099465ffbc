"""Lay each footnote out once per page while WeasyPrint measures the page's note area.

Each time a footnote call is set on a line, WeasyPrint 70 lays out the page's whole note area
again to learn its height (`LayoutContext._update_footnote_area`): with k notes on a page
that is k(k+1)/2 note layouts, and about half of a heavily annotated book's layout time.
Within `remembering_notes()`, a note laid out as a child of that measuring area is kept, for
the page, by everything its layout reads (its element and style, its position, the space
and margins it is given), and the next measure of the same page reuses a copy of it. The
result is the same layout: the area's height, and so every page break, comes from the same
arithmetic on the same boxes, and the area drawn on the page is laid out fresh as before.
Notes whose layout could touch the page's state (floats, positioned boxes, percentage
heights) are always laid out afresh. tests/test_notememo.py builds books both ways and
compares the PDFs byte for byte.

This module reads and patches WeasyPrint's private layout: `LayoutContext.
_update_footnote_area`, `layout.block.block_level_layout` (as `_in_flow_layout` calls it) and
`FootnoteAreaBox`. It refuses to run on a WeasyPrint other than the pinned one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PINNED_WEASYPRINT = "70.0"


class _PageNotes:
    """The notes laid out in one page's note area, by what their layout depends on."""

    def __init__(self, area: Any) -> None:
        self.area = area  # held, so that its id is not reused while the page is made
        self.kept: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.steady: dict[int, bool] = {}


@contextmanager
def remembering_notes() -> Iterator[None]:
    """Within this block, WeasyPrint measures each page's note area laying each note out once."""
    import weasyprint
    import weasyprint.layout as layout
    import weasyprint.layout.block as block
    from weasyprint.formatting_structure.boxes import BlockBox, FootnoteAreaBox

    if weasyprint.__version__ != PINNED_WEASYPRINT:
        raise RuntimeError(
            f"bookbuild.notememo was written for WeasyPrint {PINNED_WEASYPRINT}, "
            f"not {weasyprint.__version__}: check its hooks before moving the pin"
        )
    context_class = layout.LayoutContext
    update, lay_out = context_class._update_footnote_area, block.block_level_layout
    if getattr(lay_out, "_bookbuild", False):  # already within: nested layouts share it
        yield
        return

    def measuring(context: Any) -> Any:
        area = context.current_footnote_area
        notes = getattr(context, "_bookbuild_notes", None)
        if notes is None or notes.area is not area:
            notes = context._bookbuild_notes = _PageNotes(area)
        context._bookbuild_measuring = notes
        try:
            return update(context)
        finally:
            context._bookbuild_measuring = None

    def remembered(
        context: Any, box: Any, bottom_space: Any, skip_stack: Any, *args: Any, **kwargs: Any
    ) -> Any:
        notes = getattr(context, "_bookbuild_measuring", None)
        containing = args[0] if args else kwargs.get("containing_block")
        if (
            notes is None
            or skip_stack is not None
            or not isinstance(containing, FootnoteAreaBox)
            or not isinstance(box, BlockBox)
            or box.element is None
            or _line_styles(args, kwargs)
            or not _steady(notes, box)
        ):
            return lay_out(context, box, bottom_space, skip_stack, *args, **kwargs)
        key = _key(context, box, bottom_space, containing, args, kwargs)
        if (kept := notes.kept.get(key)) is not None:
            child, *rest = kept[2]
            return (child.deepcopy(), *_fresh(rest))
        before = _outside_lists(args, kwargs)
        result = lay_out(context, box, bottom_space, skip_stack, *args, **kwargs)
        # A note that placed absolute or fixed boxes changed the page: it is not kept.
        if result[0] is not None and _outside_lists(args, kwargs) == before:
            notes.kept[key] = (box.element, box.style, (result[0].deepcopy(), *_fresh(result[1:])))
        return result

    remembered._bookbuild = True  # type: ignore[attr-defined]
    context_class._update_footnote_area = measuring
    block.block_level_layout = remembered
    try:
        yield
    finally:
        context_class._update_footnote_area = update
        block.block_level_layout = lay_out


# block_level_layout(context, box, bottom_space, skip_stack, containing_block, page_is_empty,
# absolute_boxes, fixed_boxes, adjoining_margins, first_letter_style, first_line_style,
# discard, max_lines): the arguments after skip_stack, by name.
_NAMES = (
    "containing_block",
    "page_is_empty",
    "absolute_boxes",
    "fixed_boxes",
    "adjoining_margins",
    "first_letter_style",
    "first_line_style",
    "discard",
    "max_lines",
)
_DEFAULTS = {"page_is_empty": True, "discard": False}


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    given = dict(zip(_NAMES, args, strict=False)) | kwargs
    return {name: given.get(name, _DEFAULTS.get(name)) for name in _NAMES}


def _line_styles(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Say whether the note is given a ::first-letter or ::first-line style (never kept)."""
    given = _arguments(args, kwargs)
    return given["first_letter_style"] is not None or given["first_line_style"] is not None


def _outside_lists(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, int]:
    """Return how many absolute and fixed boxes the page has collected so far."""
    given = _arguments(args, kwargs)
    return len(given["absolute_boxes"] or ()), len(given["fixed_boxes"] or ())


def _key(
    context: Any,
    box: Any,
    bottom_space: Any,
    containing: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Any, ...]:
    given = _arguments(args, kwargs)
    return (
        id(box.element),
        id(box.style),
        box.element_tag,
        box.position_x,
        box.position_y,
        bottom_space,
        containing.width,
        containing.position_x,
        bool(given["page_is_empty"]),
        tuple(given["adjoining_margins"] or ()),
        bool(given["discard"]),
        given["max_lines"],
        context.forced_break,
        context.current_page,
        context.in_column,
        # The main flow's floats, which the note's lines would flow around.
        tuple(
            (shape.position_x, shape.position_y, shape.margin_width(), shape.margin_height())
            for shape in context.excluded_shapes
        ),
    )


def _fresh(values: Any) -> tuple[Any, ...]:
    """Return copies of the mutable parts of a layout's result (next_page, the margins)."""
    return tuple(
        dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v for v in values
    )


def _steady(notes: _PageNotes, box: Any) -> bool:
    """Say whether a note's layout reads nothing but the note: no floats, no positioned
    boxes, no heights in percent, no running elements."""
    known = notes.steady.get(id(box.element))
    if known is None:
        known = notes.steady[id(box.element)] = _plain(box.style, ("none", "footnote")) and all(
            _plain(part.style, ("none",)) for part in box.descendants() if part is not box
        )
    return known


def _plain(style: Any, floating: tuple[str, ...]) -> bool:
    # WeasyPrint sets a note in the note area as a block that no longer floats.
    if style["position"] != "static" or style["float"] not in floating:
        return False
    return all(
        getattr(style[name], "unit", None) != "%" for name in ("height", "min_height", "max_height")
    )
