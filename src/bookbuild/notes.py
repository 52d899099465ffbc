"""Footnotes: their numbers, where each edition sets them, and their print markup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from bookbuild.model import Numbering, Placement

# Block tags that may stand inside a footnote. In print a note is set where it is called, inside
# a paragraph, where HTML allows no block element: they become spans displayed as blocks.
_BLOCK_TAGS = frozenset(
    {"p", "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "div", "figure", "figcaption"}
)


_OWN_RULES = frozenset({"table_open", "table_close", "th_open", "th_close"})


@dataclass(frozen=True, slots=True, kw_only=True)
class NotePlan:
    """Where the notes of a book go and how they are numbered, in both editions."""

    placement: Placement = "page"
    numbering: Numbering = "chapter"
    # Notes that print cannot set at the foot of a page, set at the end of their chapter instead.
    print_fallback: frozenset[str] = frozenset()


def note_id(chapter_id: str, index: int) -> str:
    """Return the id of a chapter's note, by the parser's 0-based index."""
    return f"fn-{chapter_id}-{index + 1}"


def ref_id(chapter_id: str, index: int, again: int = 0) -> str:
    """Return the id of a note's call; `again` counts the calls after the first."""
    return f"fnref-{chapter_id}-{index + 1}" + (f"-{again + 1}" if again else "")


def note_numbers(
    chapters: Iterable[tuple[str, Sequence[int]]], numbering: Numbering
) -> dict[str, dict[int, int]]:
    """Return each note's number, by chapter id and index, restarting per chapter or not."""
    numbers: dict[str, dict[int, int]] = {}
    offset = 0
    for chapter_id, indices in chapters:
        start = offset if numbering == "book" else 0
        numbers[chapter_id] = {i: start + n for n, i in enumerate(sorted(indices), start=1)}
        offset += len(indices)
    return numbers


def print_spans(tokens: Sequence[Token]) -> list[Token]:
    """Return a note's tokens with block elements turned into spans that print may nest.

    A first paragraph stays inline, so the note's number runs into its first line.
    """
    out: list[Token] = []
    inline_first = bool(tokens) and tokens[0].type == "paragraph_open"
    for n, token in enumerate(tokens):
        if token.type in ("fence", "code_block"):
            out.append(_code_span(token))
        elif token.type == "hr":
            out.append(_html('<span class="note-hr"></span>'))
        elif token.type in _OWN_RULES:
            # The renderer's own rules for these write <table> and <td>, whatever the tag says.
            opening = f'<span class="note-{token.tag}">'
            out.append(_html(opening if token.nesting > 0 else "</span>"))
        elif inline_first and token.type in ("paragraph_open", "paragraph_close"):
            out.append(token.copy(hidden=True))
            inline_first = n == 0
        elif token.tag in _BLOCK_TAGS:
            out.append(_spanned(token))
        elif token.type == "inline":
            out.append(token.copy(children=[_soft_space(c) for c in token.children or []]))
        else:
            out.append(token)
    return out


def _soft_space(token: Token) -> Token:
    """Write a soft line break as the space it means: WeasyPrint 70 breaks a footnote's line at
    the newline markdown-it leaves there."""
    return Token("text", "", 0, content=" ") if token.type == "softbreak" else token


def _spanned(token: Token) -> Token:
    classes = " ".join(filter(None, [f"note-{token.tag}", str(token.attrGet("class") or "")]))
    attrs = {k: v for k, v in token.attrs.items() if k not in ("class", "style")}
    return token.copy(tag="span", attrs={**attrs, "class": classes})


def _code_span(token: Token) -> Token:
    code = _escape(token.content.rstrip("\n"))
    return _html(f'<span class="note-pre"><code>{code}</code></span>')


def _html(content: str) -> Token:
    return Token("html_block", "", 0, content=content)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chapter_fallback(plan: NotePlan, chapter_id: str, indices: Iterable[int]) -> frozenset[int]:
    """Return the notes of a chapter that print sets at the end of the chapter."""
    if plan.placement == "chapter-end":
        return frozenset(indices)
    return frozenset(i for i in indices if note_id(chapter_id, i) in plan.print_fallback)


def separated(numbers: Mapping[int, int], previous: Token | None) -> bool:
    """Tell whether a call directly follows another call, and so needs a separator."""
    return previous is not None and previous.type == "footnote_ref" and bool(numbers)
