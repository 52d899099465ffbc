"""Numbered figures and tables, and cross-references to them and to any other id.

A stage between loading and citations. It gives every figure and captioned table an id (the
author's, or one made up), turns `@fig-map`, `@tbl-loans` and `@sec-rift` from citations into
cross-references (Quarto's rule: a key with one of these prefixes is never a citation key), and
refuses a cross-reference to an id the book does not have (BB505). `extract_references` then
numbers what the reader sees, in reading order, for the renderer and the lists of figures and
tables.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from markdown_it.token import Token

from bookbuild.citeparse import Cite, parse_citation
from bookbuild.errors import Collector, Diagnostic
from bookbuild.markup import body_tokens, plain_text
from bookbuild.model import RESERVED_IDS, Book, Chapter, SourceLocation
from bookbuild.sections import stringify
from bookbuild.sources import read_source
from bookbuild.yamlsrc import key_nodes, parse_yaml

# Citation keys with these prefixes are cross-references, as in Quarto.
PREFIXES = ("fig-", "tbl-", "sec-")
LISTS = ("figures", "tables")
XREF = "xref"
Kind = Literal["figure", "table", "chapter", "section", "event", "glossary", "span"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Something a reference can point at, with the number or title a reader knows it by."""

    id: str
    kind: Kind
    title: str
    chapter: str  # the id of the chapter that holds it
    number: int | None = None  # a figure's or table's number, or a body chapter's
    chapter_number: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class References:
    targets: Mapping[str, Target]
    figures: tuple[Target, ...]
    tables: tuple[Target, ...]


def is_xref_key(key: str) -> bool:
    """Return whether a `@key` is a cross-reference rather than a citation."""
    return key.lower().startswith(PREFIXES)


def apply_references(book: Book) -> tuple[Book, tuple[Diagnostic, ...]]:
    """Return the book with ids on its figures and tables, cross-references read and checked."""
    found = Collector()
    lists = read_lists(book, found)
    chapters = assign_block_ids(book)
    book = dataclasses.replace(
        book, chapters=chapters, meta=dataclasses.replace(book.meta, lists=lists)
    )
    known = set(extract_references(book).targets)
    for chapter in book.chapters:
        for token, where in _xref_tokens(chapter):
            for key in token.meta["ids"]:
                if not is_xref_key(key):
                    found.error("BB505", _mixed(key), where)
                elif key not in known:
                    found.error("BB505", _unresolved(key), where)
    return book, tuple(found)


def _unresolved(key: str) -> str:
    return (
        f"cross-reference '@{key}' names no id of this book: no figure, table, chapter or "
        f"heading has {{#{key}}} (keys starting fig-, tbl- or sec- are never citations)"
    )


def _mixed(key: str) -> str:
    return (
        f"'@{key}' is cited in the brackets of a cross-reference; "
        "give citations and cross-references brackets of their own"
    )


def read_lists(book: Book, found: Collector) -> tuple[str, ...]:
    """Return the lists book.yaml's `lists:` asks for, in its order."""
    path = book.root / "book.yaml"
    doc = parse_yaml(read_source(path, book.root).text, path)
    if not isinstance(doc.data, dict) or doc.data.get("lists") is None:
        return ()
    value = doc.data["lists"]
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(v in LISTS for v in value):
        where = doc.locate(key_nodes(doc.node)["lists"])
        found.error("BB105", "lists must be a list of: figures, tables", where)
        return ()
    return tuple(dict.fromkeys(value))


def _xref_tokens(chapter: Chapter) -> Iterator[tuple[Token, SourceLocation]]:
    """Turn the chapter's cross-reference citations into xref tokens; yield each with its place."""
    for inline in (t for t in chapter.tokens if t.type == "inline"):
        for child in inline.children or []:
            if (child.type == "citation" and _as_xref(child)) or child.type == XREF:
                yield child, child.meta.get("where") or chapter.location


def _as_xref(token: Token) -> bool:
    """Make a citation of cross-reference keys an xref token; return whether it was one."""
    cites = parse_citation(token.content)
    if not cites or not any(is_xref_key(c.key) for c in cites):
        return False
    token.type = XREF
    token.meta["ids"] = [c.key for c in cites]
    token.meta["parts"] = [_part(c) for c in cites]
    return True


def _part(cite: Cite) -> tuple[str, str, bool]:
    """Return the text before and after one reference, and whether only its number is wanted."""
    after = ", ".join(p for p in (cite.locator, cite.suffix) if p)
    return cite.prefix, after, cite.suppress_author


# ids


def assign_block_ids(book: Book) -> tuple[Chapter, ...]:
    """Give each figure and captioned table without an id one of its own, unique in the book."""
    taken = set(RESERVED_IDS) | {g.id for g in book.glossary}
    for chapter in book.chapters:
        taken |= {chapter.id, *chapter.anchors, *(e.id for e in chapter.events)}
    counts = {"figure": 0, "table": 0}
    chapters = []
    for chapter in book.chapters:
        made = []
        for token, kind in _numbered_blocks(chapter.tokens):
            counts[kind] += 1
            if not token.attrGet("id"):
                ident = _unique(f"{kind}-{counts[kind]}", taken)
                taken.add(ident)
                token.attrSet("id", ident)
                made.append(ident)
        chapters.append(dataclasses.replace(chapter, anchors=(*chapter.anchors, *made)))
    return tuple(chapters)


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in itertools.count(2) if f"{base}-{n}" not in taken)


def _numbered_blocks(tokens: Sequence[Token]) -> Iterator[tuple[Token, Literal["figure", "table"]]]:
    """Yield the figures and the tables with a caption, in reading order (notes left out)."""
    body = body_tokens(tokens)
    for n, token in enumerate(body):
        if token.type == "figure_open":
            yield token, "figure"
        elif token.type == "table_open" and _captioned(body, n):
            yield token, "table"


def _captioned(body: Sequence[Token], n: int) -> bool:
    return n + 1 < len(body) and body[n + 1].type == "caption_open"


# numbers


def extract_references(book: Book) -> References:
    """Return every id a reference may name, numbered and titled as the reader sees it."""
    targets: dict[str, Target] = {e.id: _glossary(e.id, e.term) for e in book.glossary}
    figures: list[Target] = []
    tables: list[Target] = []
    numbers = {c.id: n for n, c in enumerate(book.body, start=1)} if _numbered(book) else {}
    for chapter in book.chapters:
        number = numbers.get(chapter.id)
        targets[chapter.id] = Target(
            id=chapter.id, kind="chapter", title=chapter.title, chapter=chapter.id, number=number
        )
        for target in _chapter_targets(chapter, number, len(figures), len(tables)):
            targets.setdefault(target.id, target)
            {"figure": figures, "table": tables}.get(target.kind, []).append(target)
        for event in chapter.events:
            targets.setdefault(event.id, _in(chapter, number, event.id, "event", event.title))
    return References(targets=targets, figures=tuple(figures), tables=tuple(tables))


def _numbered(book: Book) -> bool:
    """Return whether chapters are numbered: only a book's body chapters are, as its parts."""
    return bool(book.body)


def _glossary(ident: str, term: str) -> Target:
    return Target(id=ident, kind="glossary", title=term, chapter="glossary")


def _in(chapter: Chapter, number: int | None, ident: str, kind: Kind, title: str) -> Target:
    return Target(id=ident, kind=kind, title=title, chapter=chapter.id, chapter_number=number)


def _chapter_targets(
    chapter: Chapter, number: int | None, figures: int, tables: int
) -> Iterator[Target]:
    body = body_tokens(chapter.tokens)
    for n, token in enumerate(body):
        ident = str(token.attrGet("id") or "")
        if not ident:
            continue
        if token.type == "figure_open":
            figures += 1
            title = _caption(body, n, "figcaption_open")
            yield dataclasses.replace(_in(chapter, number, ident, "figure", title), number=figures)
        elif token.type == "table_open" and _captioned(body, n):
            tables += 1
            title = _caption(body, n, "caption_open")
            yield dataclasses.replace(_in(chapter, number, ident, "table", title), number=tables)
        elif token.type == "heading_open":
            title = " ".join(stringify(body[n + 1].children or []).split())
            yield _in(chapter, number, ident, "section", title)
    for inline in (t for t in body if t.type == "inline"):
        yield from _spans(chapter, number, inline.children or [])


def _caption(body: Sequence[Token], start: int, opening: str) -> str:
    """Return the plain text of the caption of the block that opens at `start`."""
    at = next(i for i in range(start, len(body)) if body[i].type == opening)
    return " ".join(plain_text(body[at + 1].children or []).split())


def _spans(chapter: Chapter, number: int | None, children: Sequence[Token]) -> Iterator[Target]:
    for n, child in enumerate(children):
        ident = str(child.attrGet("id") or "")
        if ident and child.type == "span_open" and "event" not in str(child.attrGet("class")):
            end = next((i for i in range(n, len(children)) if children[i].type == "span_close"), n)
            title = " ".join(plain_text(children[n + 1 : end]).split())
            yield _in(chapter, number, ident, "span", title)
