"""Headings inside chapters: attributes, Pandoc's automatic ids, levels under the chapter title.

Also table captions, which like heading attributes are read from a block's text before the
inline parser sees it.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.common.utils import normalizeReference
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs

from bookbuild.model import RESERVED_IDS, Chapter, GlossaryEntry

_TRAILING_ATTRS = re.compile(r"[ \t]*(\{[^{}]*\})[ \t]*$")
_CAPTION = re.compile(r"^(?:Table:|:)[ \t]+(?=\S)")
AUTO_ID = "pandoc_id"
_REF = "bb-heading-ref-"


def use_sections(md: MarkdownIt) -> None:
    """Read `{#id .class}` after headings, table captions, and each heading's Pandoc id."""
    md.core.ruler.after("block", "heading_attrs", _heading_attrs)
    md.core.ruler.after("heading_attrs", "table_caption", _table_captions)
    md.core.ruler.after("table_caption", "header_references", _header_references)
    # Before typography: Pandoc's manual derives `dogs--in-my-house` from "Dogs?--in my house?".
    md.core.ruler.after("inline", "heading_ids", _heading_ids)


def _heading_attrs(state: StateCore) -> None:
    for token, inline in itertools.pairwise(state.tokens):
        if token.type != "heading_open" or inline.type != "inline":
            continue
        match = _TRAILING_ATTRS.search(inline.content)
        attrs = heading_attrs(match[1]) if match else None
        if match and attrs is not None:
            inline.content = inline.content[: match.start()]
            for name, value in attrs.items():
                token.attrSet(name, value)


def heading_attrs(text: str) -> dict[str, str] | None:
    """Return the attributes in `{...}`; Pandoc's `{-}` means `.unnumbered`."""
    text = re.sub(r"(?<=[{\s])-(?=[\s}])", ".unnumbered", text)
    try:
        return dict(parse_attrs(text)[1])
    except ParseError:
        return None


def _table_captions(state: StateCore) -> None:
    tokens, index = state.tokens, 0
    while index < len(tokens):
        if tokens[index].type == "table_open":
            close = next(i for i in range(index, len(tokens)) if tokens[i].type == "table_close")
            after, before, level = close + 1, index - 3, tokens[index].level
            if _row_caption(tokens, index, close):
                pass
            elif _is_caption(tokens, after, level):
                _move_caption(tokens, after, index)
            # A caption before a table is its own unless it follows another table.
            elif _is_caption(tokens, before, level) and not _follows_table(tokens, before):
                _move_caption(tokens, before, index)
        index += 1


def _row_caption(tokens: list[Token], table: int, close: int) -> bool:
    """Make a last row that reads `Table: …` with no other cell the table's caption.

    Pandoc ends a pipe table at a line without a pipe; markdown-it reads it as one more row.
    """
    row = max(i for i in range(table, close) if tokens[i].type == "tr_open")
    cells = [t for t in tokens[row:close] if t.type == "inline"]
    if len(cells) < 1 or not _CAPTION.match(cells[0].content):
        return False
    in_body = any(t.type == "tbody_open" for t in tokens[table:row])
    if any(c.content.strip() for c in cells[1:]) or not in_body:
        return False
    end = next(i for i in range(row, close) if tokens[i].type == "tr_close")
    opening = tokens[row]
    del tokens[row : end + 1]
    empty_body = tokens[row - 1].type == "tbody_open" and tokens[row].type == "tbody_close"
    if empty_body:
        del tokens[row - 1 : row + 1]
    cells[0].content = _CAPTION.sub("", cells[0].content, count=1)
    caption = Token("caption_open", "caption", 1, map=opening.map, block=True)
    tokens[table + 1 : table + 1] = [caption, cells[0], Token("caption_close", "caption", -1)]
    return True


def _follows_table(tokens: Sequence[Token], index: int) -> bool:
    return index > 0 and tokens[index - 1].type == "table_close"


def _is_caption(tokens: Sequence[Token], index: int, level: int) -> bool:
    return (
        index >= 0
        and index + 2 < len(tokens)
        and tokens[index].type == "paragraph_open"
        and tokens[index].level == level
        and _CAPTION.match(tokens[index + 1].content) is not None
    )


def _move_caption(tokens: list[Token], paragraph: int, table: int) -> None:
    """Make the paragraph at `paragraph` the caption of the table that opens at `table`."""
    opening, inline, _ = tokens[paragraph : paragraph + 3]
    inline.content = _CAPTION.sub("", inline.content, count=1)
    caption_open = Token("caption_open", "caption", 1, map=opening.map, block=True)
    caption = [caption_open, inline, Token("caption_close", "caption", -1, block=True)]
    del tokens[paragraph : paragraph + 3]
    at = table + 1 if paragraph > table else table - 2
    tokens[at:at] = caption


def _header_references(state: StateCore) -> None:
    """Let `[Heading text]` link to its heading, as Pandoc's implicit_header_references do."""
    references = state.env.setdefault("references", {})
    for n, (token, inline) in enumerate(itertools.pairwise(state.tokens)):
        if token.type == "heading_open" and inline.type == "inline":
            label = normalizeReference(inline.content)
            if label.strip() and label not in references:  # a definition takes precedence
                references[label] = {"href": f"#{_REF}{n}", "title": "", "map": token.map}
                token.meta[_REF] = f"{_REF}{n}"


def _heading_ids(state: StateCore) -> None:
    """Give each heading without an id the one Pandoc gives it in this file."""
    taken = {str(t.attrGet("id")) for t in _all_tokens(state.tokens) if t.attrGet("id")}
    ids: dict[str, str] = {}
    for token, inline in itertools.pairwise(state.tokens):
        if token.type != "heading_open":
            continue
        ident = str(token.attrGet("id") or "")
        if not ident:
            ident = _unique(pandoc_id(stringify(inline.children or [])), taken)
            taken.add(ident)
            token.meta[AUTO_ID] = ident
        if _REF in token.meta:
            ids[f"#{token.meta[_REF]}"] = f"#{ident}"
    for link in (t for t in _all_tokens(state.tokens) if t.type == "link_open"):
        if (href := str(link.attrGet("href") or "")) in ids:
            link.attrSet("href", ids[href])


def _all_tokens(tokens: Iterable[Token]) -> Iterable[Token]:
    for token in tokens:
        yield token
        yield from token.children or []


def stringify(children: Iterable[Token]) -> str:
    """Return the text of inline tokens as Pandoc's stringify does: notes left out."""
    parts = []
    for token in children:
        if token.type in ("text", "code_inline", "math_inline", "citation", "raw_tex"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(stringify(token.children or []))
    return "".join(parts)


def pandoc_id(text: str) -> str:
    """Return the identifier Pandoc derives from a heading's text (its auto_identifiers)."""
    kept = "".join(c for c in text.lower() if c.isspace() or c.isalnum() or c in "_-.")
    joined = "-".join(kept.split())
    start = next((i for i, c in enumerate(joined) if c.isalpha()), len(joined))
    return joined[start:] or "section"


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(1, len(taken) + 2) if f"{base}-{n}" not in taken)


# levels: the chapter title is level 1, the shallowest heading inside it level 2


def nest_headings(tokens: Sequence[Token]) -> None:
    """Shift a chapter's headings so its shallowest one is level 2, under the chapter title."""
    headings = [t for t in tokens if t.type in ("heading_open", "heading_close")]
    if not headings:
        return
    shift = 2 - min(int(t.tag[1]) for t in headings)
    for token in headings:
        token.tag = f"h{min(6, int(token.tag[1]) + shift)}"


# ids across the book


def assign_heading_ids(
    chapters: Sequence[Chapter], glossary: Sequence[GlossaryEntry]
) -> tuple[Chapter, ...]:
    """Give every heading without an id its Pandoc id, made unique across the book.

    Each chapter also keeps the id Pandoc would have given it in its own file, so that
    `#intro` or `02-rift.md#intro` finds that chapter's heading even when another chapter's
    "Intro" came first and took the plain id.
    """
    taken = set(RESERVED_IDS) | {g.id for g in glossary}
    for chapter in chapters:
        taken |= {chapter.id, *chapter.anchors, *(e.id for e in chapter.events)}
    return tuple(_assign(chapter, taken) for chapter in chapters)


def _assign(chapter: Chapter, taken: set[str]) -> Chapter:
    local: dict[str, str] = {}
    for token in (t for t in chapter.tokens if AUTO_ID in t.meta and not t.attrGet("id")):
        local_id = str(token.meta[AUTO_ID])  # unique in its file already
        book_id = local_id if local_id not in taken else _unique(local_id, taken)
        taken.add(book_id)
        token.attrSet("id", book_id)
        local[local_id] = book_id
    return dataclasses.replace(
        chapter,
        anchors=(*chapter.anchors, *local.values()),
        heading_ids=tuple(local.items()),
    )


# the contents: headings that open sections of a chapter


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    id: str
    title: str
    children: tuple[Section, ...] = ()


def chapter_sections(tokens: Sequence[Token]) -> tuple[Section, ...]:
    """Return the chapter's headings (not those in quotes or lists) as a tree, by level."""
    flat = [
        (int(t.tag[1]), str(t.attrGet("id") or ""), _title(inline))
        for t, inline in itertools.pairwise(tokens)
        if t.type == "heading_open" and t.level == 0 and t.attrGet("id")
    ]
    return _tree(flat)


def _title(inline: Token) -> str:
    return " ".join(stringify(inline.children or []).split())


def _tree(flat: Sequence[tuple[int, str, str]]) -> tuple[Section, ...]:
    sections: list[Section] = []
    index = 0
    while index < len(flat):
        level, ident, title = flat[index]
        end = next((i for i in range(index + 1, len(flat)) if flat[i][0] <= level), len(flat))
        sections.append(Section(id=ident, title=title, children=_tree(flat[index + 1 : end])))
        index = end
    return tuple(sections)
