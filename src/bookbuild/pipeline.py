"""The build, stage by stage: load, extract, render, lay out, write."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bookbuild.assets import (
    PRINT_FILES,
    Asset,
    collect_assets,
    default_styles_dir,
    image_places,
    read_asset,
)
from bookbuild.buildconfig import apply_note_settings, read_build_config
from bookbuild.chaptermemo import ChapterMemo
from bookbuild.chronology import extract_chronology
from bookbuild.cite import apply_citations
from bookbuild.coverage import lint_coverage
from bookbuild.errors import (
    Diagnostic,
    ManuscriptError,
    OutputError,
    error,
    has_errors,
    warning,
)
from bookbuild.fontconf import write_fontconfig
from bookbuild.fontset import find_fonts
from bookbuild.images import load_images
from bookbuild.index import EMPTY, BookIndex, extract_index, mark_ids, validate_index
from bookbuild.lint import lint_book
from bookbuild.locale import load_messages
from bookbuild.manuscript import draft_manuscript
from bookbuild.model import Book, Event, Numbering, Placement, SourceLocation
from bookbuild.notes import note_id, note_numbers
from bookbuild.outputs import commit_outputs
from bookbuild.pagelist import PageStart, insert_page_breaks
from bookbuild.printsetup import PrintSetup
from bookbuild.render import (
    create_environment,
    messages_of,
    render_epub_nav,
    render_epub_pages,
    render_print,
    render_timeline_svg,
)
from bookbuild.xref import apply_references
from bookbuild.yamlsrc import key_nodes, parse_yaml

DEFAULT_EPOCH = 946684800  # 2000-01-01T00:00:00Z, for a book that gives no date


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    outputs: tuple[Path, ...]
    diagnostics: tuple[Diagnostic, ...]
    pages: int | None


def check(book_dir: Path) -> tuple[Diagnostic, ...]:
    """Load and validate the manuscript without building; raise ManuscriptError on errors."""
    book, found = load_book(book_dir)
    return found + load_messages(book.meta.language, default_styles_dir(), _book_yaml(book))[1]


def load_book(
    book_dir: Path, styles: Path | None = None, *, memo: ChapterMemo | None = None
) -> tuple[Book, tuple[Diagnostic, ...]]:
    """Load the manuscript and run the book-wide checks; raise ManuscriptError on any error.

    The theme in `styles` (else the bundled one) names the generated bibliography. A `memo`
    keeps the parsed chapters for the next call (see draft_manuscript).
    """
    # The book-wide checks run on whatever loaded, so one run reports every independent problem.
    draft = draft_manuscript(book_dir, memo)
    found = draft.diagnostics + lint_book(draft.book, complete=draft.complete)
    book, image_problems = load_images(draft.book)
    found += image_problems
    config, config_problems = read_build_config(book_dir)
    found += config_problems
    found += tuple(lint_coverage(book))
    found += validate_index(book)
    # `build: {notes: ...}` is the book's own setting, over the top-level `notes:` key.
    book = apply_note_settings(book, config.notes, config.note_numbering)
    if not has_errors(found):
        book, referred = apply_references(book)
        found += referred
    if not has_errors(found):
        book, cited = apply_citations(book, _bibliography_title(book, styles))
        found += cited
    if has_errors(found):
        raise ManuscriptError(found)
    return book, found


def _bibliography_title(book: Book, styles: Path | None) -> str:
    # The catalog's warnings are reported once, by the caller that renders the book.
    messages = load_messages(book.meta.language, styles or default_styles_dir())[0]
    return messages.plain_template("bibliography")


def build(
    book_dir: Path,
    out: Path,
    formats: Collection[str] = ("pdf", "epub"),
    *,
    styles: Path | None = None,
    pdf_variant: str = "pdf/ua-1",
    paper: str = "A4",
    progress: Callable[[str], None] = lambda step: None,
    setup: PrintSetup | None = None,
    notes: Placement | None = None,
    note_numbering: Numbering | None = None,
    jobs: int | None = 1,
) -> BuildResult:
    """Build the requested formats into `out`; nothing in `out` changes unless all succeed.

    With `jobs` above 1, the PDF is laid out in pieces in that many processes (parallel.py);
    with None, in as many as the machine has cores if the book is long, else whole.
    """
    started = time.time()
    styles = styles or default_styles_dir()
    if not (styles / "templates" / "print.html").is_file():
        where = SourceLocation(path=styles, line=0)
        raise OutputError(
            [error("BB905", "not a bookbuild theme (no templates/print.html)", where)]
        )
    progress("loading the manuscript")
    book, found = load_book(book_dir, styles)
    book = apply_note_settings(book, notes, note_numbering)  # the command line's, over book.yaml
    progress("rendering the book")
    chronology = extract_chronology(book)
    book, index = extract_index(book)
    messages, catalog_notes = load_messages(book.meta.language, styles, _book_yaml(book))
    env = create_environment(styles, messages)
    # Fonts are for the PDF (and the HTML that reproduces it); an EPUB build skips finding them.
    assets = dict(collect_assets(book, styles, fonts=bool({"pdf", "html"} & set(formats))))
    if timeline := render_timeline_svg(book, chronology, env):
        assets["timeline.svg"] = timeline
    epoch = build_epoch(book)
    slug = book.meta.slug
    staged: dict[str, bytes] = {}
    diagnostics = [*found, *catalog_notes]
    starts: tuple[PageStart, ...] = ()
    anchors: Mapping[str, int] = {}
    pages = None

    index_pages: dict[str, int] | None = None

    def render(fallback: frozenset[str] = frozenset(), *, layout: bool = False) -> str:
        return render_print(
            book,
            chronology,
            env,
            paper,
            fallback,
            setup=setup,
            index=index,
            index_pages=index_pages,
            index_layout=layout,
        )

    if {"pdf", "html"} & set(formats):
        html = render()
    if "pdf" in formats:
        progress("laying out and writing the PDF")
        if jobs is None:
            from bookbuild.parallel import automatic_jobs

            jobs = automatic_jobs(html)
        pdf = build_pdf_bytes(
            book,
            lambda moved: render(moved, layout=True),
            assets,
            pdf_variant,
            epoch,
            index,
            jobs=jobs,
            progress=progress,
        )
        staged[f"{slug}.pdf"], starts, pages = pdf.data, pdf.starts, pdf.pages
        anchors = pdf.anchors
        diagnostics += pdf.warnings
        index_pages = pdf.index_pages
        # With the notes the layout moved and the index's pages, so the HTML reproduces the PDF.
        html = render(pdf.moved) if index else pdf.html
    if "html" in formats:
        staged.update(build_html_folder(slug, html, assets))
    if {"epub", "kepub"} & set(formats):
        progress("writing the EPUB")
        epub = build_epub_bytes(
            book,
            chronology,
            env,
            assets,
            epoch,
            starts,
            anchors,
            index=index,
            index_pages=index_pages,
        )
        staged |= {f"{slug}.epub": epub} if "epub" in formats else {}
    if "kepub" in formats:
        from bookbuild.kepub import build_kepub

        staged[f"{slug}.kepub.epub"] = build_kepub(epub)
    progress("moving the outputs into place")
    written = commit_outputs(out, staged, started=started)
    return BuildResult(outputs=written, diagnostics=tuple(diagnostics), pages=pages)


def _book_yaml(book: Book) -> SourceLocation:
    """Return where book.yaml sets the language, which the catalog's warnings point at."""
    path = book.root / "book.yaml"
    with contextlib.suppress(OSError, UnicodeDecodeError, ManuscriptError):
        doc = parse_yaml(path.read_text(encoding="utf-8"), path)
        return doc.locate(key_nodes(doc.node).get("language"))
    return SourceLocation(path=path, line=0)


def build_epoch(book: Book) -> int:
    """Return the build time: SOURCE_DATE_EPOCH, else the book's date, else a fixed date."""
    if env := os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        if not env.isdigit():
            message = f"SOURCE_DATE_EPOCH is '{env}', not a whole number of seconds"
            raise OutputError([error("BB112", message)])
        return int(env)
    if book.meta.date:
        day = datetime.date.fromisoformat(book.meta.date)
        return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp())
    return DEFAULT_EPOCH


def build_html_folder(slug: str, html: str, assets: Mapping[str, Asset]) -> dict[str, bytes]:
    """Return the print HTML and the assets it refers to, as files of `html/`."""
    files = {f"html/{slug}.html": html.encode("utf-8")}
    files.update({f"html/{name}": read_asset(path) for name, path in assets.items()})
    return files


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfOutput:
    data: bytes
    starts: tuple[PageStart, ...]
    pages: int
    warnings: tuple[Diagnostic, ...]
    html: str
    anchors: Mapping[str, int]  # the page on which each id starts
    moved: frozenset[str] = frozenset()
    index_pages: dict[str, int] | None = None


def build_pdf_bytes(
    book: Book,
    render: Callable[[frozenset[str]], str],
    assets: Mapping[str, Asset],
    variant: str,
    epoch: int,
    index: BookIndex = EMPTY,
    *,
    jobs: int = 1,
    progress: Callable[[str], None] = lambda step: None,
) -> PdfOutput:
    """Lay the print HTML out; return the PDF, where each page starts, and warnings.

    `render` gives the print HTML with the named notes moved to their chapter's end; the
    layout is redone (a bounded number of times) while WeasyPrint sets some notes badly.
    With `jobs` above 1, pieces of the book are laid out in that many processes, unless the
    theme or the book cannot be cut (parallel.py); the result is the same.
    """
    # WeasyPrint is slow to import; `check` and EPUB builds skip it.
    from bookbuild import indexlayout, notelayout, pdf, tagging

    places = image_places(book)
    fontconf = write_fontconfig(find_fonts(), book.meta.language)
    if jobs > 1 and (
        pieces := _pdf_in_pieces(
            book, render, assets, variant, epoch, index, places, fontconf, jobs, progress
        )
    ):
        return pieces
    with indexlayout.collapsing_index():
        placed = notelayout.layout_placing_notes(
            render,
            lambda html: pdf.layout_pdf(html, assets, book.root, variant, places, fontconf),
            set(note_places(book)),
            measure_key=lambda: pdf.layout_key(assets, variant),
        )
    document, warnings = placed.document, list(placed.warnings)
    warnings += note_warnings(book, placed.moved, placed.misplaced)
    buffer = io.BytesIO()
    with tagging.document_tags(document, variant):
        warnings += pdf.write_pdf(
            document,
            buffer,
            source=book.root,
            variant=variant,
            epoch=epoch,
            identifier=book.meta.identifier,
            places=places,
        )
    return PdfOutput(
        data=buffer.getvalue(),
        starts=tuple(pdf.page_starts(document)),
        pages=len(document.pages),
        warnings=tuple(warnings),
        html=placed.html,
        anchors=pdf.page_map(document),
        moved=frozenset(placed.moved),
        index_pages=_index_pages(document, index),
    )


def _pdf_in_pieces(
    book: Book,
    render: Callable[[frozenset[str]], str],
    assets: Mapping[str, Asset],
    variant: str,
    epoch: int,
    index: BookIndex,
    places: Mapping[str, SourceLocation],
    fontconf: Path,
    jobs: int,
    progress: Callable[[str], None],
) -> PdfOutput | None:
    """Lay the book out in pieces in `jobs` processes; None when it must be laid out whole."""
    from bookbuild import parallel

    laid = parallel.lay_out_pieces(
        html=render(frozenset()),
        render=render,
        assets=assets,
        source=book.root,
        variant=variant,
        epoch=epoch,
        identifier=book.meta.identifier,
        places=places,
        fontconf=fontconf,
        note_ids=frozenset(note_places(book)),
        marks=mark_ids(index) if index else frozenset(),
        jobs=jobs,
        progress=progress,
    )
    if laid is None:
        return None
    warnings = [*laid.layout_warnings, *note_warnings(book, laid.moved, laid.misplaced)]
    marks = mark_ids(index) if index else frozenset()
    return PdfOutput(
        data=laid.data,
        starts=laid.starts,
        pages=laid.pages,
        warnings=(*warnings, *laid.write_warnings),
        html=render(frozenset(laid.moved)),
        anchors=laid.anchors,
        moved=frozenset(laid.moved),
        index_pages={i: p for i, p in laid.anchors.items() if i in marks} if index else None,
    )


def _index_pages(document: Any, index: BookIndex) -> dict[str, int] | None:
    """Return the page of every indexed passage, or None for a book with no index."""
    if not index:
        return None
    from bookbuild import pdf

    marks = mark_ids(index)
    return {ident: page for ident, page in pdf.page_map(document).items() if ident in marks}


def note_places(book: Book) -> dict[str, tuple[SourceLocation, int]]:
    """Return each note's definition and printed number, by its id."""
    chapters = [*book.front_matter, *book.body, *book.back_matter]
    numbers = note_numbers(
        ((c.id, range(len(c.note_locations))) for c in chapters), book.meta.note_numbering
    )
    return {
        note_id(c.id, i): (where, numbers[c.id][i])
        for c in chapters
        for i, where in enumerate(c.note_locations)
    }


def _note_place(
    book: Book, places: Mapping[str, tuple[SourceLocation, int]], ident: str
) -> tuple[SourceLocation, int]:
    """Return where a note is defined and its number; a note a citation made has no line of
    its own among the parser's notes, so its chapter stands for it."""
    if ident in places:
        return places[ident]
    for chapter in book.chapters:
        prefix = f"fn-{chapter.id}-"
        if ident.startswith(prefix) and ident[len(prefix) :].isdigit():
            return chapter.location, int(ident[len(prefix) :])
    return SourceLocation(path=book.root / "book.yaml", line=0), 0


def note_warnings(
    book: Book, moved: Mapping[str, str], misplaced: Mapping[str, str]
) -> list[Diagnostic]:
    """Return a warning for each note print could not set at the foot of its page."""
    places = note_places(book)
    found = []
    for ident, why in moved.items():
        where, number = _note_place(book, places, ident)
        found.append(
            warning(
                "BB504",
                f"footnote {number} cannot be set at the foot of its page ({why}); "
                "it is printed at the end of its chapter instead",
                where,
            )
        )
    for ident, why in misplaced.items():
        where, number = _note_place(book, places, ident)
        found.append(warning("BB504", f"footnote {number} is set badly in print: {why}", where))
    return found


def build_epub_bytes(
    book: Book,
    chronology: tuple[Event, ...],
    env: jinja2.Environment,
    assets: Mapping[str, Asset],
    epoch: int,
    starts: Sequence[PageStart] = (),
    anchors: Mapping[str, int] | None = None,
    *,
    index: BookIndex = EMPTY,
    index_pages: Mapping[str, int] | None = None,
) -> bytes:
    """Return the EPUB's bytes, with the PDF's page breaks and page numbers when laid out."""
    from bookbuild import epub  # EbookLib only loads for EPUB builds
    from bookbuild.cover import cached_cover

    documents = render_epub_pages(
        book, chronology, env, anchors, index=index, index_pages=index_pages
    )
    pages, targets = insert_page_breaks(documents, starts)
    nav = render_epub_nav(book, pages, targets, env)
    epub_assets = {
        name: asset
        for name, asset in assets.items()
        if (name.startswith("images/") or name.endswith(".svg")) and name not in PRINT_FILES
    }
    epub_assets["epub.css"] = assets["epub.css"]
    cover = cached_cover(book.meta)
    modified = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    source = f"{book.meta.slug}.pdf" if targets else None
    return epub.build_epub(
        book.meta,
        pages,
        nav,
        epub_assets,
        cover,
        modified,
        pdf_source=source,
        messages=messages_of(env),
    )
