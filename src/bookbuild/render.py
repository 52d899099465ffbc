"""Render the book to HTML with Jinja: one document for print, one page per file for the EPUB."""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from bookbuild import __version__
from bookbuild.assets import image_names
from bookbuild.cache import cache_dir
from bookbuild.collation import collation_key
from bookbuild.dates import iso_range, parse_date
from bookbuild.index import EMPTY, BookIndex, index_rows
from bookbuild.links import link_targets
from bookbuild.localdates import format_local_date, format_local_era
from bookbuild.locale import Messages, load_messages
from bookbuild.markup import HtmlRenderer, Target, body_tokens, footnote_slices
from bookbuild.model import Book, Chapter, Event
from bookbuild.notes import NotePlan, chapter_fallback, note_numbers
from bookbuild.printsetup import PrintSetup
from bookbuild.sections import Section, chapter_sections
from bookbuild.timeline import layout_timeline
from bookbuild.xref import References, extract_references
from bookbuild.xrefhtml import reference_text


@dataclass(frozen=True, slots=True, kw_only=True)
class ChapterView:
    id: str
    title: str
    era: str | None
    summary: str | None
    html: str
    file: str
    part: str
    authors: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    notes_html: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    """A work as an entry cites it: its short label (HTML) and the link to its entry."""

    label: Markup
    href: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChronologyRow:
    id: str
    date: str
    iso_start: str | None
    title: str
    target: str
    chapter: str
    sources: tuple[SourceRef, ...] = ()
    context: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ListEntry:
    label: str  # "Figure 3"
    title: str
    href: str
    page: int | None  # the PDF's page, in the EPUB when the PDF was laid out


@dataclass(frozen=True, slots=True, kw_only=True)
class ListView:
    """A list of figures or of tables, set after the contents."""

    id: str
    title: str
    entries: tuple[ListEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EpubPage:
    file: str
    title: str
    kind: str
    xhtml: bytes
    authors: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()


def create_environment(styles: Path, messages: Messages | None = None) -> jinja2.Environment:
    """Return the Jinja environment for the theme in `styles`, speaking `messages` (or English)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(styles / "templates"),
        # Compiled templates are kept between builds; Jinja checks them against the sources.
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(_template_cache())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    messages = messages or load_messages("en", styles)[0]
    env.globals.update(messages=messages, t=messages.text, tn=messages.count)
    env.globals.update(labels=messages.labels(), running_foot=running_foot_css(messages))
    env.globals["rtl"] = rtl = messages.locale.character_order == "right-to-left"
    env.filters["isolate"] = isolate if rtl else escape
    return env


def isolate(value: object) -> Markup:
    """Return `value` in <bdi>: a name, number or date keeps its own direction in the sentence.

    A Latin identifier or a version at the end of an Arabic sentence would otherwise take the
    sentence's full stop to its far side.
    """
    return Markup("<bdi>%s</bdi>") % (value,)


def messages_of(env: jinja2.Environment) -> Messages:
    """Return the messages an environment speaks."""
    messages = env.globals["messages"]
    assert isinstance(messages, Messages)
    return messages


def running_foot_css(messages: Messages) -> str:
    """Return the CSS `content` of the running foot, e.g. "Page " counter(page) " of " ..."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(messages.plain_template("running-foot")):
        if literal:
            parts.append(_css_string(literal))
        if name:
            parts.append(f"counter({name})")
    return " ".join(parts) or "none"


def _css_string(text: str) -> str:
    # Hex escapes keep quotes, backslashes and `</style` out of the inline style sheet.
    safe = "".join(c if c.isalnum() or c in " .,:;-" else f"\\{ord(c):x} " for c in text)
    return f'"{safe}"'


def _template_cache() -> Path:
    folder = cache_dir() / "templates"
    with contextlib.suppress(OSError):  # Jinja skips a cache folder it cannot write
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def render_print(
    book: Book,
    chronology: tuple[Event, ...],
    env: jinja2.Environment,
    paper: str = "A4",
    fallback: frozenset[str] = frozenset(),
    *,
    setup: PrintSetup | None = None,
    index: BookIndex = EMPTY,
    index_pages: Mapping[str, int] | None = None,
    index_layout: bool = False,
) -> str:
    """Return the single HTML document that WeasyPrint lays out.

    The notes in `fallback` (by id) are set at the end of their chapter rather than the page.
    With `index_layout`, the index has a placeholder locator for every indexed passage, which
    the layout sets to its page (indexlayout.py); else its locators are the `index_pages`
    (or, without them, the chapters).
    """
    chapters = _chapter_views(book, "print", messages_of(env), fallback)
    context = _context(book, chronology, chapters, env, link=lambda view: f"#{view.id}")
    context["index"] = _index_rows(
        book, index, index_pages, {c.id: "" for c in book.chapters}, every=index_layout
    )
    context["paper"] = setup.size if setup else paper
    context["epub_types"] = False
    context["bleed"], context["marks"] = (setup.bleed, setup.marks) if setup else (None, None)
    return env.get_template("print.html").render(context)


def render_epub_pages(
    book: Book,
    chronology: tuple[Event, ...],
    env: jinja2.Environment,
    page_numbers: Mapping[str, int] | None = None,
    *,
    index: BookIndex = EMPTY,
    index_pages: Mapping[str, int] | None = None,
) -> tuple[EpubPage, ...]:
    """Return the EPUB's content documents, in reading order.

    `page_numbers` gives the PDF page of each id, for page references and the lists' pages.
    The index's locators are the PDF's pages when `index_pages` has them, else chapter titles.
    """
    numbers = page_numbers or {}
    chapters = _chapter_views(book, "epub", messages_of(env), page_numbers=numbers)
    context = _context(book, chronology, chapters, env, link=lambda view: view.file, pages=numbers)
    context["epub_types"] = True
    files = {c.id: f"{c.id}.xhtml" for c in book.chapters}
    context["index"] = _index_rows(book, index, index_pages, files)
    template = env.get_template("epub_page.xhtml")
    labels = messages_of(env).labels()
    documents: list[tuple[str, str, str, ChapterView | None]] = [
        ("cover.xhtml", labels["cover"], "cover", None),
        ("title.xhtml", book.meta.title, "titlepage", None),
        *((f"{v.id}.xhtml", v.title, v.id, None) for v in context["lists"]),
        *((c.file, c.title, c.part, c) for c in context["front"] + context["body"]),
        *((f"{kind}.xhtml", labels[kind], kind, None) for kind in _appendices(book, chronology)),
        *((c.file, c.title, c.part, c) for c in context["back"]),
        ("colophon.xhtml", labels["colophon"], "colophon", None),
        *((("index.xhtml", labels["index"], "index", None),) if index else ()),
    ]
    pages = [
        EpubPage(
            file=file,
            title=title,
            kind=kind,
            xhtml=_xhtml(template, context, kind=kind, chapter=chapter),
            authors=chapter.authors if chapter else (),
            sections=chapter.sections if chapter else (),
        )
        for file, title, kind, chapter in documents
    ]
    return tuple(pages)


def render_epub_nav(
    book: Book, pages: Sequence[EpubPage], page_list: Sequence[Any], env: jinja2.Environment
) -> bytes:
    """Return the EPUB navigation document: contents, landmarks and the print page list."""
    template = env.get_template("epub_nav.xhtml")
    # Reading starts at the first chapter the author wrote, an overview included.
    first_chapter = next((p for p in pages if p.kind in ("front", "chapter")), None)
    context = {
        "meta": book.meta,
        "pages": pages,
        "first_chapter": first_chapter,
        "page_list": page_list,
    }
    return template.render(context).encode("utf-8")


def _index_rows(
    book: Book,
    index: BookIndex,
    pages: Mapping[str, int] | None,
    files: Mapping[str, str],
    *,
    every: bool = False,
) -> list[Any]:
    titles = {c.id: c.title for c in book.chapters}
    return index_rows(index, pages, files, titles, every=every)


def render_timeline_svg(
    book: Book, chronology: tuple[Event, ...], env: jinja2.Environment
) -> bytes | None:
    """Return the "at a glance" timeline as SVG, or None when the book has no eras."""
    timeline = layout_timeline(book, chronology, messages_of(env))
    if timeline is None:
        return None
    return env.get_template("timeline.svg").render(timeline=timeline).encode("utf-8")


def _xhtml(template: jinja2.Template, context: dict[str, Any], **extra: Any) -> bytes:
    return template.render(context, **extra).encode("utf-8")


def _appendices(book: Book, chronology: tuple[Event, ...]) -> list[str]:
    notes = book.meta.notes == "book-end" and any(footnote_slices(c.tokens) for c in book.chapters)
    return [
        kind
        for kind, present in (
            ("chronology", chronology),
            ("glossary", book.glossary),
            ("notes", notes),
        )
        if present
    ]


def _context(
    book: Book,
    chronology: tuple[Event, ...],
    chapters: list[ChapterView],
    env: jinja2.Environment,
    link: Any,
    pages: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    by_id = {view.id: view for view in chapters}
    notation = book.meta.era_notation
    messages = messages_of(env)
    cite = _source_refs(book, by_id, link)
    rows = [
        replace(
            _row(event, by_id[event.chapter_id], link, messages, notation),
            sources=cite(event.sources),
            context=event.context,
        )
        for event in chronology
    ]
    return {
        "meta": book.meta,
        "front": [v for v in chapters if v.part == "front"],
        "body": [v for v in chapters if v.part == "chapter"],
        "back": [v for v in chapters if v.part == "back"],
        "chronology": rows,
        "glossary": sorted(
            book.glossary, key=lambda entry: collation_key(entry.term, book.meta.language)
        ),
        "glossary_sources": {entry.id: cite(entry.sources) for entry in book.glossary},
        "has_sources": any(row.sources for row in rows),
        "has_context": any(row.context for row in rows),
        "appendices": _appendices(book, chronology),
        "note_groups": [v for v in chapters if v.notes_html],
        "version": __version__,
        "timeline": layout_timeline(book, chronology, messages_of(env)),
        "edition": _edition(book, messages),
        "lists": _lists(book, extract_references(book), by_id, link, messages, pages or {}),
    }


def _lists(
    book: Book,
    references: References,
    views: Mapping[str, ChapterView],
    link: Any,
    messages: Messages,
    pages: Mapping[str, int],
) -> list[ListView]:
    """Return the lists of figures and of tables that book.yaml asks for, with entries."""
    labels = messages.labels()
    lists = []
    for kind in book.meta.lists:
        targets = references.figures if kind == "figures" else references.tables
        if not targets:
            continue
        entries = tuple(
            ListEntry(
                label=reference_text(t, labels),
                title=t.title,
                href=_target_href(link(views[t.chapter]), t.id),
                page=pages.get(t.id),
            )
            for t in targets
        )
        ident = f"list-of-{kind}"
        lists.append(ListView(id=ident, title=labels[ident], entries=entries))
    return lists


def _target_href(base: str, ident: str) -> str:
    return f"#{ident}" if base.startswith("#") else f"{base}#{ident}"


def _edition(book: Book, messages: Messages) -> str | None:
    date = book.meta.date
    return format_local_date(parse_date(date), "BCE", messages) if date else None


def _source_refs(
    book: Book, by_id: dict[str, ChapterView], link: Any
) -> Callable[[Sequence[str]], tuple[SourceRef, ...]]:
    """Return a function giving the works named by keys, linked into the bibliography."""
    works = {work.key: work for work in book.works}
    holders = {anchor: c.id for c in book.chapters for anchor in c.anchors}

    def href(entry_id: str | None) -> str | None:
        if entry_id is None or entry_id not in holders:
            return None
        base = link(by_id[holders[entry_id]])
        return f"#{entry_id}" if base.startswith("#") else f"{base}#{entry_id}"

    def refs(keys: Sequence[str]) -> tuple[SourceRef, ...]:
        found = [works.get(key.lower()) for key in keys]
        return tuple(
            SourceRef(label=Markup(w.label), href=href(w.entry_id))
            if w
            else SourceRef(label=Markup.escape(key), href=None)
            for key, w in zip(keys, found, strict=True)
        )

    return refs


def _row(
    event: Event, chapter: ChapterView, link: Any, messages: Messages, notation: str
) -> ChronologyRow:
    base = link(chapter)
    target = f"#{event.id}" if base.startswith("#") else f"{base}#{event.id}"
    return ChronologyRow(
        id=event.id,
        date=format_local_date(event.date, notation, messages),
        iso_start=iso_range(event.date)[0],
        title=event.title,
        target=target,
        chapter=chapter.title,
    )


def _chapter_views(
    book: Book,
    target: Target,
    messages: Messages,
    fallback: frozenset[str] = frozenset(),
    page_numbers: Mapping[str, int] | None = None,
) -> list[ChapterView]:
    renderer = HtmlRenderer(target)
    ids = id_files(book)
    shared = {
        "image_srcs": image_names(book),
        "id_files": ids,
        "link_targets": link_targets(book, ids),
        "labels": messages.labels(),
        "references": extract_references(book),
        "page_numbers": page_numbers or {},
    }
    parts = [("front", book.front_matter), ("chapter", book.body), ("back", book.back_matter)]
    ordered = [(part, chapter) for part, chapters in parts for chapter in chapters]
    plan = NotePlan(
        placement=book.meta.notes, numbering=book.meta.note_numbering, print_fallback=fallback
    )
    numbers = note_numbers(
        ((c.id, list(footnote_slices(c.tokens))) for _, c in ordered), plan.numbering
    )
    return [
        _chapter_view(
            chapter,
            part,
            renderer,
            shared | _note_env(plan, chapter, numbers, target),
            book.meta.era_notation,
            messages,
        )
        for part, chapter in ordered
    ]


def _note_env(
    plan: NotePlan, chapter: Chapter, numbers: dict[str, dict[int, int]], target: Target
) -> dict[str, Any]:
    """Return what the renderer needs to number and place a chapter's notes."""
    indices = list(footnote_slices(chapter.tokens))
    elsewhere = plan.placement == "book-end"
    return {
        "note_numbers": numbers[chapter.id],
        "notes_elsewhere": elsewhere,
        "notes_file": "notes.xhtml" if elsewhere and target == "epub" else "",
        "chapter_file": f"{chapter.id}.xhtml" if elsewhere and target == "epub" else "",
        "endnotes": frozenset(indices)
        if elsewhere
        else chapter_fallback(plan, chapter.id, indices),
    }


def id_files(book: Book) -> dict[str, str]:
    """Return every id a link may point at, with the EPUB file that holds it.

    Only ids that both outputs have: the print edition's contents or title page, say, have no
    counterpart in the EPUB, so a link to them would break there.
    """
    has_events = any(c.events for c in book.chapters)
    files = {"colophon": "colophon.xhtml"}
    files |= {"chronology": "chronology.xhtml"} if has_events else {}
    files |= {"glossary": "glossary.xhtml"} if book.glossary else {}
    files |= {entry.id: "glossary.xhtml" for entry in book.glossary}
    files |= {"notes": "notes.xhtml"} if "notes" in _appendices(book, ()) else {}
    for chapter in book.chapters:
        files |= dict.fromkeys((chapter.id, *chapter.anchors), f"{chapter.id}.xhtml")
    return files


def _chapter_view(
    chapter: Chapter,
    part: str,
    renderer: HtmlRenderer,
    shared: dict[str, Any],
    notation: str,
    messages: Messages,
) -> ChapterView:
    env = {
        **shared,
        "chapter_id": chapter.id,
        "file": f"{chapter.id}.xhtml",
        "footnotes_tokens": footnote_slices(chapter.tokens),
    }
    return ChapterView(
        id=chapter.id,
        title=chapter.title,
        era=format_local_era(chapter.era, notation, messages) if chapter.era else None,
        summary=chapter.summary,
        html=renderer.render(chapter.tokens, env),
        file=f"{chapter.id}.xhtml",
        part=part,
        authors=chapter.authors,
        sections=chapter_sections(body_tokens(chapter.tokens)),
        notes_html=renderer.render_appendix_notes(chapter.tokens, env)
        if env["notes_elsewhere"]
        else "",
    )
