"""The index: passages marked `{.index}` and every use of a glossary term, filed by heading.

A stage between citations and rendering. It gives each indexed passage an id (`ix-N`, or the
author's own), so a locator can link to the exact place, and returns the entries sorted the way
the book's language sorts. Page numbers come later, from the PDF's layout; `locator_runs`
turns them into the printed locators, collapsing consecutive pages ("12–14").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from markdown_it.token import Token

from bookbuild.collation import collation_key
from bookbuild.errors import Collector, Diagnostic, ManuscriptError
from bookbuild.model import Book, Chapter
from bookbuild.sources import read_source
from bookbuild.yamlsrc import key_nodes, parse_yaml

INDEX_ID = "index"
MARK_PREFIX = "ix-"
ENTRY_PREFIX = "ixe-"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark:
    """One indexed passage: the id of its anchor and the chapter that holds it."""

    id: str
    chapter_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexEntry:
    id: str
    term: str
    marks: tuple[Mark, ...] = ()
    subentries: tuple[IndexEntry, ...] = ()
    see: str = ""  # the heading a "see" entry sends the reader to
    see_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BookIndex:
    entries: tuple[IndexEntry, ...]

    def __bool__(self) -> bool:
        return bool(self.entries)


@dataclass(frozen=True, slots=True, kw_only=True)
class Locator:
    """A printed locator: where it links, its text, and how a screen reader names it."""

    mark: str
    file: str
    label: str


EMPTY = BookIndex(entries=())


def read_index_setting(root: Path, found: Collector) -> bool:
    """Return book.yaml's `index:` (whether glossary terms are indexed), true by default."""
    path = root / "book.yaml"
    doc = parse_yaml(read_source(path, root).text, path)
    if not isinstance(doc.data, dict) or "index" not in doc.data:
        return True
    value = doc.data["index"]
    if not isinstance(value, bool):
        where = doc.locate(key_nodes(doc.node).get("index"))
        found.error("BB105", "index must be true or false", where)
        return True
    return value


def validate_index(book: Book) -> tuple[Diagnostic, ...]:
    """Return the problems with book.yaml's `index:` setting."""
    found = Collector()
    try:
        read_index_setting(book.root, found)
    except ManuscriptError:
        return ()  # book.yaml's own problems are reported where it is loaded
    return tuple(found)


def extract_index(book: Book) -> tuple[Book, BookIndex]:
    """Return the book with an anchor on every indexed passage, and its index, sorted."""
    # Aliases file an author's span under their term even when the glossary is not indexed.
    files = _Filing(_glossary_forms(book), book, auto=read_index_setting(book.root, Collector()))
    chapters = tuple(_index_chapter(chapter, files) for chapter in book.chapters)
    if not files.marks:
        return book, EMPTY
    return replace(book, chapters=chapters), files.sorted_index(book.meta.language)


def _glossary_forms(book: Book) -> dict[str, str]:
    """Return each glossary term and alias with the term it is filed under."""
    forms = {alias: e.term for e in book.glossary for alias in e.aliases if alias.strip()}
    return forms | {e.term: e.term for e in book.glossary if e.term.strip()}


@dataclass(slots=True)
class _Filing:
    """The marks found so far, by heading and subheading, and the next anchor number."""

    forms: dict[str, str]
    book: Book
    auto: bool = True  # whether the text's glossary terms are filed too
    marks: dict[tuple[str, str], list[Mark]] = field(default_factory=dict)
    count: int = 0
    pattern: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        if self.forms and self.auto:
            # Longest first, so "Soviet Union" wins over "Union"; spaces match no-break ones.
            alternatives = sorted(self.forms, key=len, reverse=True)
            body = "|".join(re.escape(f).replace(r"\ ", "[ \u00a0]") for f in alternatives)
            self.pattern = re.compile(rf"(?<!\w)({body})(?!\w)")

    def file(self, term: str, sub: str, chapter_id: str, given: str | None) -> str:
        """Record a mark under `term` (and `sub`); return its anchor id."""
        self.count += 1
        ident = given or f"{MARK_PREFIX}{self.count}"
        heading = self.forms.get(term, term)
        self.marks.setdefault((heading, sub), []).append(Mark(id=ident, chapter_id=chapter_id))
        return ident

    def sorted_index(self, language: str) -> BookIndex:
        """Return the entries, subentries under theirs and "see" entries for aliases, sorted."""
        headings = sorted({h for h, _ in self.marks}, key=lambda t: sort_key(t, language))
        ids = {h: f"{ENTRY_PREFIX}{n}" for n, h in enumerate(headings, start=1)}
        entries = [self._entry(h, ids[h], language) for h in headings]
        for alias, term in self.forms.items():
            if alias != term and term in ids and alias not in ids:
                entries.append(
                    IndexEntry(
                        id=f"{ids[term]}-{len(entries)}", term=alias, see=term, see_id=ids[term]
                    )
                )
        entries.sort(key=lambda e: sort_key(e.term, language))
        return BookIndex(entries=tuple(entries))

    def _entry(self, heading: str, ident: str, language: str) -> IndexEntry:
        subs = sorted(
            (s for h, s in self.marks if h == heading and s), key=lambda s: sort_key(s, language)
        )
        return IndexEntry(
            id=ident,
            term=heading,
            marks=tuple(self.marks.get((heading, ""), ())),
            subentries=tuple(
                IndexEntry(id=f"{ident}-{n}", term=s, marks=tuple(self.marks[(heading, s)]))
                for n, s in enumerate(subs, start=1)
            ),
        )


def sort_key(term: str, language: str) -> tuple[tuple[int, ...], str, str]:
    """Return a key that files `term` the way readers of `language` look it up."""
    return collation_key(term, language)


def _index_chapter(chapter: Chapter, files: _Filing) -> Chapter:
    tokens, changed, notes = list(chapter.tokens), False, 0
    for n, token in enumerate(tokens):
        notes += {"footnote_block_open": 1, "footnote_block_close": -1}.get(token.type, 0)
        if token.type != "inline" or not token.children:
            continue
        heading = n > 0 and tokens[n - 1].type == "heading_open"
        # Glossary terms are not indexed in headings (their section is indexed) nor in notes,
        # which print may set twice (a note called twice), where an anchor must stay unique.
        auto = files.pattern is not None and not heading and notes == 0
        children = list(_index_children(token.children, files, chapter.id, auto))
        if children != token.children:
            tokens[n] = token.copy(children=children)
            changed = True
    return replace(chapter, tokens=tuple(tokens)) if changed else chapter


def _index_children(
    children: Sequence[Token], files: _Filing, chapter_id: str, auto: bool
) -> Iterator[Token]:
    """Yield the inline tokens with index spans given ids and glossary terms wrapped in one."""
    inside = 0  # depth inside an author's index span, where glossary terms are not filed again
    for n, token in enumerate(children):
        if token.type == "span_open" and is_index_span(token):
            yield _marked_span(token, _span_text(children, n), files, chapter_id)
            inside += 1
            continue
        if token.type == "span_open" and inside:
            inside += 1
        if token.type == "span_close" and inside:
            inside -= 1
        if token.type == "text" and auto and not inside and files.pattern is not None:
            yield from _wrap_terms(token, files, chapter_id)
            continue
        yield token


def is_index_span(token: Token) -> bool:
    """Return whether a span token is marked `.index`."""
    return "index" in str(token.attrGet("class") or "").split()


def _marked_span(token: Token, text: str, files: _Filing, chapter_id: str) -> Token:
    term = " ".join(str(token.attrGet("term") or text).split())
    sub = " ".join(str(token.attrGet("sub") or "").split())
    given = token.attrGet("id")
    ident = files.file(term, sub, chapter_id, str(given) if given else None)
    classes = [c for c in str(token.attrGet("class")).split() if c != "index"]
    attrs: dict[str, str | int | float] = {"id": ident, "class": " ".join(["ix", *classes])}
    if (lang := token.attrGet("lang")) is not None:
        attrs["lang"] = lang
    return token.copy(attrs=attrs)


def _span_text(children: Sequence[Token], index: int) -> str:
    depth, parts = 0, []
    for token in children[index:]:
        depth += {"span_open": 1, "span_close": -1}.get(token.type, 0)
        if depth == 0:
            break
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _wrap_terms(token: Token, files: _Filing, chapter_id: str) -> Iterator[Token]:
    assert files.pattern is not None
    text, start = token.content, 0
    for match in files.pattern.finditer(text):
        form = match[1].replace("\u00a0", " ")
        ident = files.file(form, "", chapter_id, None)
        if match.start() > start:
            yield _text(text[start : match.start()])
        yield Token("span_open", "span", 1, attrs={"id": ident, "class": "ix"})
        yield _text(match[1])
        yield Token("span_close", "span", -1)
        start = match.end()
    if start == 0:
        yield token
    elif start < len(text):
        yield _text(text[start:])


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def locator_runs(pages: Sequence[int]) -> list[tuple[int, str]]:
    """Return, for pages in order, where each run of consecutive pages starts and its label."""
    runs: list[list[int]] = []
    for n, page in enumerate(pages):
        if runs and page <= runs[-1][2] + 1:
            runs[-1][2] = max(runs[-1][2], page)
        else:
            runs.append([n, page, page])
    return [(n, f"{a}" if a == b else f"{a}\u2013{b}") for n, a, b in runs]


def locators(
    marks: Sequence[Mark],
    pages: Mapping[str, int] | None,
    files: Mapping[str, str],
    titles: Mapping[str, str],
) -> list[Locator]:
    """Return an entry's locators: page runs when the pages are known, else its chapters."""
    if pages is None:
        first: dict[str, Mark] = {}
        for mark in marks:
            first.setdefault(mark.chapter_id, mark)
        return [
            Locator(mark=m.id, file=files[m.chapter_id], label=titles[m.chapter_id])
            for m in first.values()
        ]
    placed = sorted((pages.get(m.id, 0), n, m) for n, m in enumerate(marks))
    runs = locator_runs([page for page, _, _ in placed])
    return [
        Locator(mark=placed[n][2].id, file=files[placed[n][2].chapter_id], label=label)
        for n, label in runs
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexRow:
    """An entry as the templates print it."""

    id: str
    term: str
    locators: tuple[Locator, ...] = ()
    subentries: tuple[IndexRow, ...] = ()
    see: str = ""
    see_id: str = ""


PLACEHOLDER = "0"


def index_rows(
    index: BookIndex,
    pages: Mapping[str, int] | None,
    files: Mapping[str, str],
    titles: Mapping[str, str],
    *,
    every: bool = False,
) -> list[IndexRow]:
    """Return the entries with their locators; `every` gives one placeholder per passage."""

    def row(entry: IndexEntry) -> IndexRow:
        if every:
            found = [
                Locator(mark=m.id, file=files[m.chapter_id], label=PLACEHOLDER) for m in entry.marks
            ]
        else:
            found = locators(entry.marks, pages, files, titles)
        return IndexRow(
            id=entry.id,
            term=entry.term,
            locators=tuple(found),
            subentries=tuple(row(s) for s in entry.subentries),
            see=entry.see,
            see_id=entry.see_id,
        )

    return [row(entry) for entry in index.entries]


def mark_ids(index: BookIndex) -> frozenset[str]:
    """Return the anchor of every indexed passage."""
    return frozenset(m.id for e in index.entries for x in (e, *e.subentries) for m in x.marks)
