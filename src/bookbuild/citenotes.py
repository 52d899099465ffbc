"""New footnotes added to a chapter's tokens, numbered with the author's in reading order."""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.token import Token

from bookbuild.markup import body_tokens


def add_notes(tokens: Sequence[Token], notes: Sequence[tuple[Token, list[Token]]]) -> list[Token]:
    """Return the tokens with a footnote for each (reference, inline content) pair.

    The references are already in the text; every note is then renumbered in the order a
    reader meets its first reference, as markdown-it numbers the author's own notes.
    """
    if not notes:
        return list(tokens)
    blocks = _note_blocks(tokens)
    fresh = max(blocks, default=-1) + 1
    for n, (ref, content) in enumerate(notes, start=fresh):
        ref.meta = {"id": n, "subId": 0, "label": f"cite-{n}"}
        blocks[n] = _note(n, content)
    order = _reading_order(tokens, blocks)
    return [*body_tokens(tokens), *_note_block(order, blocks)]


def _note_blocks(tokens: Sequence[Token]) -> dict[int, list[Token]]:
    blocks: dict[int, list[Token]] = {}
    current: list[Token] | None = None
    for token in tokens:
        if token.type == "footnote_open":
            current = blocks.setdefault(int(token.meta["id"]), [])
        if current is not None:
            current.append(token)
        if token.type == "footnote_close":
            current = None
    return blocks


def _note(n: int, content: list[Token]) -> list[Token]:
    inline = Token("inline", "", 0)
    inline.children = content
    anchor = Token("footnote_anchor", "", 0)
    anchor.meta = {"id": n, "subId": 0, "label": f"cite-{n}"}
    opened = Token("footnote_open", "", 1)
    opened.meta = {"id": n, "label": f"cite-{n}"}
    return [
        opened,
        Token("paragraph_open", "p", 1),
        inline,
        anchor,
        Token("paragraph_close", "p", -1),
        Token("footnote_close", "", -1),
    ]


def _refs(tokens: Sequence[Token]) -> list[Token]:
    return [
        c
        for t in tokens
        if t.type == "inline"
        for c in t.children or []
        if c.type == "footnote_ref"
    ]


def _reading_order(tokens: Sequence[Token], blocks: dict[int, list[Token]]) -> list[int]:
    """Renumber the notes 0, 1, ... as first referenced (a note's own references after it)."""
    order: list[int] = []

    def visit(refs: list[Token]) -> None:
        for ref in refs:
            old = int(ref.meta["id"])
            if old not in order and old in blocks:
                order.append(old)
                visit(_refs(blocks[old]))

    visit(_refs(body_tokens(tokens)))
    order += [n for n in blocks if n not in order]
    new = {old: n for n, old in enumerate(order)}
    for token in (*_refs(body_tokens(tokens)), *(t for b in blocks.values() for t in _all(b))):
        if (
            token.type in ("footnote_ref", "footnote_open", "footnote_anchor")
            and "id" in token.meta
        ):
            token.meta = {**token.meta, "id": new[int(token.meta["id"])]}
    return order


def _all(block: list[Token]) -> list[Token]:
    return [*block, *(c for t in block for c in t.children or [])]


def _note_block(order: list[int], blocks: dict[int, list[Token]]) -> list[Token]:
    return [
        Token("footnote_block_open", "", 1),
        *(t for old in order for t in blocks[old]),
        Token("footnote_block_close", "", -1),
    ]
