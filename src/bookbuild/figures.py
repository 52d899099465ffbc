"""Figures and table captions, as Pandoc reads them: parser rules only.

An image alone in its paragraph becomes a figure (Pandoc's implicit_figures), captioned by the
image's title or else its alt text; `fig-alt="…"` gives the image other alt text. A table
caption's trailing `{#tbl-loans}` gives the table its id. Numbers come later, book-wide, in
xref.py, because a chapter cannot know how many figures came before it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from bookbuild.sections import heading_attrs

_TRAILING_ATTRS = re.compile(r"[ \t]*(\{[^{}]*\})[ \t]*$")
FIGURE_ALT = "fig-alt"
ATTRS_MAP = "attrs_map"


def use_figures(md: MarkdownIt) -> None:
    """Read table captions' attributes and make lone images figures."""
    md.core.ruler.after("table_caption", "caption_attrs", _caption_attrs)
    md.core.ruler.after("footnote_tail", "figures", _figures)


def _caption_attrs(state: StateCore) -> None:
    """Move `{#id .class}` at the end of a table's caption onto the table."""
    tokens = state.tokens
    for n, token in enumerate(tokens):
        if token.type != "caption_open" or n + 1 >= len(tokens):
            continue
        table = next(
            (tokens[i] for i in range(n - 1, -1, -1) if tokens[i].type == "table_open"), None
        )
        inline = tokens[n + 1]
        match = _TRAILING_ATTRS.search(inline.content)
        attrs = heading_attrs(match[1]) if match else None
        if table is None or match is None or attrs is None:
            continue
        inline.content = inline.content[: match.start()]
        for name, value in attrs.items():
            table.attrSet(name, value)
        table.meta[ATTRS_MAP] = token.map  # where they were written, for diagnostics


def _figures(state: StateCore) -> None:
    """Turn each paragraph that holds one image and nothing else into a figure."""
    tokens, depth, n = state.tokens, 0, 0
    while n + 2 < len(tokens):
        depth += {"footnote_block_open": 1, "footnote_block_close": -1}.get(tokens[n].type, 0)
        opening, inline, closing = tokens[n : n + 3]
        image = _lone_image(inline.children or []) if inline.type == "inline" else None
        # A {.full-bleed} image is a plate, a page of its own (print.css), not a numbered figure.
        plate = image is not None and "full-bleed" in str(image.attrGet("class") or "").split()
        if depth or opening.type != "paragraph_open" or opening.hidden or image is None or plate:
            n += 1
            continue
        tokens[n : n + 3] = _figure(opening, inline, image, closing)
        n += 6


def _lone_image(children: Sequence[Token]) -> Token | None:
    kept = [c for c in children if not (c.type == "text" and not c.content.strip())]
    kept = [c for c in kept if c.type not in ("softbreak", "hardbreak")]
    return kept[0] if len(kept) == 1 and kept[0].type == "image" else None


def _figure(opening: Token, inline: Token, image: Token, closing: Token) -> list[Token]:
    """Return the tokens of a figure: the image, then its caption."""
    figure_open = Token("figure_open", "figure", 1, map=opening.map, block=True)
    figure_open.level = opening.level
    if (ident := image.attrs.pop("id", None)) is not None:
        figure_open.attrSet("id", ident)  # Pandoc gives a figure's id to the figure
    if (alt := image.attrs.pop(FIGURE_ALT, None)) is not None:
        image.meta[FIGURE_ALT] = str(alt)
    inline.children = [image]
    title = str(image.attrGet("title") or "")
    caption = Token("inline", "", 0, map=opening.map, content=title or _source_alt(image))
    caption.children = [Token("text", "", 0, content=title)] if title else image.children
    caption.level = opening.level + 1
    caption_open = Token("figcaption_open", "figcaption", 1, map=opening.map, block=True)
    caption_open.level = opening.level + 1
    caption_close = Token("figcaption_close", "figcaption", -1, block=True)
    figure_close = Token("figure_close", "figure", -1, block=True)
    figure_close.level = closing.level
    return [figure_open, inline, caption_open, caption, caption_close, figure_close]


def _source_alt(image: Token) -> str:
    return image.content
