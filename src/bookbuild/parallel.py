"""Lay the book out in pieces, in worker processes, and stitch the pieces' PDFs (`--jobs N`).

The print HTML is a flat run of top-level children of <body>. It is cut, at children that
start a page, into F (the front matter before the first chapter), B1..Bk (runs of chapters
of about equal size, more runs than workers so each worker holds one small piece at a time)
and Z (the back matter). Each piece is laid out alone (piecelayout.py) by a worker forked
from this process, so it inherits the loaded book; the worker writes it as a complete tagged
PDF, returns the PDF with what the book needs from it (its anchors, pages, page starts, notes
moved, furniture) and exits.

The pieces are laid out in rounds. First every piece but the one holding the index, with the
pages of anchors in other pieces guessed (the front matter's length is known after it, and the
back matter may print no page number at all); then, knowing every piece's length, the index
and each piece whose printed page numbers (`target-counter`, the index's locators) would
change, with the real pages; a piece that printed the page of an anchor in a piece not laid
out yet waits for it. That repeats while a page changes, a bounded number of times, as
WeasyPrint's own loop does. Then the running heads and page numbers are made once for the
whole book (furniture.py) and everything is stitched into one PDF (stitch.py).

A theme whose pages depend on where they fall in the whole book (`@page :left`, `:right`,
`:blank`, `:nth(N)`; breaks to a left or right page), or on what only the whole book holds
(author counters, running elements, `target-text()`, an edge on the root or body), and a book
of fewer than two chapters, are laid out whole, as with --jobs 1.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bookbuild.assets import Asset, read_asset
from bookbuild.errors import BookbuildError, Diagnostic, OutputError
from bookbuild.index import INDEX_ID
from bookbuild.model import SourceLocation
from bookbuild.pagelist import PageStart

# Each worker gets this many pieces of the body on average (a chapter each, unless chapters
# are short): none holds a large one, the workers finish close together, and a note that
# must move costs the layout of its own chapter again, not of a long run of chapters.
PIECES_PER_JOB = 12
# Below this much print HTML (about 250 pages), a book is laid out whole unless --jobs says
# otherwise: each piece's own start (its styles, fonts and PDF) would cost more than the
# second core gives back (see automatic_jobs).
AUTOMATIC_MIN_BYTES = 1_000_000
# Rounds of layout before the page numbers are taken as they are (WeasyPrint stops at 8).
MAX_ROUNDS = 5
# A first guess at the length of a piece, from its HTML, for the first round's page numbers.
BYTES_PER_PAGE = 4000

# Theme features that tie a page to its place in the whole book, or to the whole book's
# content, so that a piece laid out alone would differ.
_SIDED_PAGE = re.compile(r"@page[^{]*:(left|right|blank|nth\((?![^)]*\bof\b)[^)]*\))", re.I)
_SIDED_BREAK = re.compile(r"break-(before|after)\s*:\s*(left|right|recto|verso)\b", re.I)
_COUNTERS = re.compile(r"counter-(reset|set|increment)\s*:", re.I)
_COUNTER_USE = re.compile(r"(?<![-\w])counters?\(\s*([-\w]+)", re.I)
_TARGET_COUNTER = re.compile(r"target-counters?\([^,()]*(?:\([^)]*\))?[^,()]*,\s*([-\w]+)", re.I)
_WHOLE_BOOK = re.compile(r"target-text\(|running\(|element\(", re.I)
_LINKED_CSS = re.compile(r"<link\b[^>]*\bhref=\"([^\"]+\.css)\"", re.I)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.I | re.S)


@dataclass(frozen=True, slots=True, kw_only=True)
class Child:
    """One top-level child of <body>: where its markup starts and ends in the print HTML."""

    start: int
    end: int
    chapter: bool
    ids: frozenset[str]
    shell: str  # the child's element with its attributes and no content, numbered


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """The print HTML cut at its top-level children."""

    prefix: str  # everything before the first child: the <head> and <body>
    suffix: str  # </body></html>
    children: tuple[Child, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Piece:
    """A run of top-level children, laid out as a document of its own."""

    name: str  # F, B1..Bk, Z
    first: int  # its children, by index
    last: int
    html: str
    ids: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class PieceResult:
    """What a worker returns for one piece."""

    data: bytes = b""
    anchors: frozenset[str] = frozenset()  # its own anchors
    page_map: dict[str, int] = field(default_factory=dict)  # anchor -> page in the piece
    pages: int = 0
    starts: tuple[PageStart, ...] = ()  # pages counted within the piece
    printed: dict[str, int] = field(default_factory=dict)  # anchor -> book page it printed
    moved: dict[str, str] = field(default_factory=dict)
    misplaced: dict[str, str] = field(default_factory=dict)
    layout_warnings: tuple[Diagnostic, ...] = ()
    write_warnings: tuple[Diagnostic, ...] = ()
    furniture: tuple[Any, ...] = ()
    errors: tuple[Diagnostic, ...] = ()  # the OutputError's diagnostics, re-raised here


def unsafe_theme(html: str, assets: Mapping[str, Asset]) -> str | None:
    """Return why this theme cannot be laid out in pieces, or None when it can."""
    css = "\n".join(_STYLE.findall(html))
    for name in _LINKED_CSS.findall(html.split("</head>", 1)[0]):
        if name in assets:
            css += "\n" + read_asset(assets[name]).decode("utf-8", "replace")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    if match := _SIDED_PAGE.search(css):
        return f"its @page rules select pages by side or number ({match.group(0)[-20:]})"
    body = html.split("</head>", 1)[-1]
    if match := _SIDED_BREAK.search(css) or _SIDED_BREAK.search(body):
        return f"it breaks to a left or right page ({match.group(0)})"
    if match := _COUNTERS.search(css):
        return f"it keeps counters of its own ({match.group(0)})"
    names = {m.lower() for m in _COUNTER_USE.findall(css)} - {"page", "pages"}
    names |= {m.lower() for m in _TARGET_COUNTER.findall(css)} - {"page"}
    if names:
        return f"it prints counters other than the page ({', '.join(sorted(names))})"
    if match := _WHOLE_BOOK.search(css):
        return f"it uses {match.group(0)}"
    if re.search(r"float\s*:\s*footnote", css) and not re.search(r"::footnote-call[^{]*\{", css):
        return "its footnote calls are WeasyPrint's own counter"
    return None


def split_print_html(html: str) -> Split | None:
    """Cut the print HTML at its top-level children; None if they cannot be found exactly.

    The pieces are cut from the HTML text itself, not re-serialized, so each piece's markup
    is the very markup the whole book's layout reads.
    """
    from lxml import etree
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(html)
    body = root.find("body")
    if body is None:
        return None
    line_starts = [0]
    for match in re.finditer("\n", html):
        line_starts.append(match.end())
    close = html.rfind("</body>")
    close = html.rfind("\n", 0, close) + 1
    found: list[tuple[int, bool, frozenset[str], str]] = []
    for element in body.iterchildren(etree.Element):
        line = element.sourceline
        if line is None or line > len(line_starts):
            return None
        start = line_starts[line - 1]
        text = html[start : start + 400].lstrip(" \t")
        if not text.startswith(f"<{element.tag}") or (found and start <= found[-1][0]):
            return None  # not alone at the start of its line: the cut would not be exact
        classes = (element.get("class") or "").split()
        shell = etree.Element(element.tag, attrib=dict(element.attrib))
        shell.set(_MARK, str(len(found)))
        found.append(
            (
                start,
                element.tag == "section" and "chapter" in classes,
                _ids(element),
                lxml_html.tostring(shell, encoding="unicode"),
            )
        )
    if not found or close <= found[-1][0]:
        return None
    ends = [entry[0] for entry in found[1:]] + [close]
    children = tuple(
        Child(start=start, end=end, chapter=chapter, ids=ids, shell=shell)
        for (start, chapter, ids, shell), end in zip(found, ends, strict=True)
    )
    return Split(prefix=html[: found[0][0]], suffix=html[close:], children=children)


def _ids(element: Any) -> frozenset[str]:
    """Return the anchors an element holds: WeasyPrint makes one of each id and <a name>."""
    names = set()
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        if ident := node.get("id"):
            names.add(ident)
        if node.tag == "a" and (name := node.get("name")):
            names.add(name)
    return frozenset(names)


def piece_html(html: str, split: Split, first: int, last: int) -> str:
    """Return the document of the top-level children first..last of the print HTML."""
    start, end = split.children[first].start, split.children[last].end
    return split.prefix + html[start:end] + split.suffix


def plan_pieces(split: Split, html: str, forced: Sequence[bool], count: int) -> list[Piece] | None:
    """Cut the book into F, B1..Bk (about `count` runs of chapters) and Z; None if it cannot be.

    A piece may only start at a child that starts a page in the whole book.
    """
    children = split.children
    chapters = [i for i, child in enumerate(children) if child.chapter]
    if len(chapters) < 2 or not all(forced[i] for i in chapters[:1]):
        return None
    first_body = chapters[0]
    back = next(
        (i for i in range(first_body, len(children)) if not children[i].chapter), len(children)
    )
    # The back matter starts at a page break: with the last chapters if it must.
    while back < len(children) and not forced[back]:
        back -= 1
    if back - first_body < 2:
        return None
    cuts = [i for i in range(first_body + 1, back) if forced[i]]
    sizes = [children[i].end - children[i].start for i in range(len(children))]
    runs = _runs(first_body, back, cuts, sizes, count)
    spans = [("F", 0, first_body - 1)] if first_body else []
    spans += [(f"B{n}", a, b) for n, (a, b) in enumerate(runs, start=1)]
    spans += [("Z", back, len(children) - 1)] if back < len(children) else []
    return [
        Piece(
            name=name,
            first=a,
            last=b,
            html=piece_html(html, split, a, b),
            ids=frozenset().union(*(children[i].ids for i in range(a, b + 1))),
        )
        for name, a, b in spans
    ]


def _runs(
    first: int, end: int, cuts: Sequence[int], sizes: Sequence[int], count: int
) -> list[tuple[int, int]]:
    """Return runs first..end-1 of about equal size, cut only at `cuts`."""
    total = sum(sizes[first:end])
    runs: list[tuple[int, int]] = []
    start, done = first, 0
    for cut in cuts:
        done = sum(sizes[first:cut])
        if done >= total * (len(runs) + 1) / count and len(runs) < count - 1:
            runs.append((start, cut - 1))
            start = cut
    runs.append((start, end - 1))
    return runs


def forced_breaks(
    split: Split, assets: Mapping[str, Asset], source: Path, variant: str, fontconf: Path
) -> list[bool] | None:
    """Return, for each top-level child, whether the theme starts a page before it; None
    when the theme gives the root or the body a top or bottom edge (see plain_edges).

    WeasyPrint computes the theme's styles on the same <head> with each child left empty:
    quick, and what the whole book's layout gives the children's own boxes.
    """
    from bookbuild import pdf, piecelayout

    stubs = "\n".join(child.shell for child in split.children)
    document, _ = pdf.layout_pdf(
        split.prefix + stubs + "\n" + split.suffix, assets, source, variant, None, fontconf
    )
    if not piecelayout.plain_edges(document):
        return None
    before = [False] * len(split.children)
    after = [False] * len(split.children)
    for page in document.pages:
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            mark = element.get(_MARK) if element is not None else None
            if mark is not None and "::" not in str(box.element_tag):
                before[int(mark)] |= box.style["break_before"] in _PAGE_BREAKS
                after[int(mark)] |= box.style["break_after"] in _PAGE_BREAKS
    return [before[0], *(b or a for b, a in zip(before[1:], after, strict=False))]


_MARK = "data-bb-piece"
_PAGE_BREAKS = ("page", "left", "right", "recto", "verso")


# ---------------------------------------------------------------------------------------------
# The workers. They are forked from the process that loaded the book and read it from here.


@dataclass(slots=True, kw_only=True)
class _Work:
    render: Callable[[frozenset[str]], str]
    split: Split
    pieces: list[Piece]
    assets: Mapping[str, Asset]
    source: Path
    variant: str
    epoch: int
    identifier: str
    places: Mapping[str, SourceLocation]
    fontconf: Path
    note_ids: frozenset[str]
    marks: frozenset[str]
    jobs: int


_WORK: _Work | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    index: int
    offset: int
    outside: dict[str, int]


def _lay_out(job: _Job) -> PieceResult:
    """Lay out one piece and write its PDF (in a worker)."""
    try:
        return _lay_out_piece(job)
    except BookbuildError as exc:
        # An exception's own pickling would lose the diagnostics: they travel as a result.
        return PieceResult(errors=tuple(exc.diagnostics))


def _lay_out_piece(job: _Job) -> PieceResult:
    from bookbuild import furniture, indexlayout, notelayout, pdf, piecelayout, tagging

    work = _WORK
    assert work is not None, "a piece is laid out only in a worker forked by lay_out_pieces"
    piece = work.pieces[job.index]

    def render(moved: frozenset[str]) -> str:
        if not moved:
            return piece.html
        # The notes moved are in this piece's chapters: the rest of the book is left out.
        html = work.render(moved)
        split = split_print_html(html)
        if split is None or len(split.children) != len(work.split.children):
            raise OutputError([])  # cannot happen: moving notes keeps the top-level children
        return piece_html(html, split, piece.first, piece.last)

    setup = piecelayout.PieceSetup(offset=job.offset, outside=job.outside)
    with (
        indexlayout.collapsing_index(job.outside, job.offset),
        piecelayout.piece_layout(setup) as seen,
        furniture.recording_furniture() as recorder,
    ):
        placed = notelayout.layout_placing_notes(
            render,
            lambda html: pdf.layout_pdf(
                html, work.assets, work.source, work.variant, work.places, work.fontconf
            ),
            work.note_ids,
            measure_key=lambda: pdf.layout_key(work.assets, work.variant),
        )
    document = placed.document
    own = piecelayout.real_anchors(document)
    page_map = pdf.page_map(document)
    pages = tuple(recorder.pages(document))
    printed = {
        name: job.outside[name] if name in job.outside else job.offset + page_map[name]
        for name in seen.names | (work.marks if INDEX_ID in piece.ids else frozenset())
        if name in job.outside or name in page_map
    }
    starts = tuple(pdf.page_starts(document))
    piecelayout.add_outside_anchors(document)
    buffer = io.BytesIO()
    with tagging.document_tags(document, work.variant):
        written = pdf.write_pdf(
            document,
            buffer,
            source=work.source,
            variant=work.variant,
            epoch=work.epoch,
            identifier=work.identifier,
            places=work.places,
        )
    return PieceResult(
        data=buffer.getvalue(),
        anchors=own,
        page_map=page_map,
        pages=len(document.pages),
        starts=starts,
        printed=printed,
        moved=dict(placed.moved),
        misplaced=dict(placed.misplaced),
        layout_warnings=tuple(placed.warnings),
        write_warnings=tuple(written),
        furniture=pages,
    )


# ---------------------------------------------------------------------------------------------
# The driver.


@dataclass(frozen=True, slots=True, kw_only=True)
class Laid:
    """The whole book, from its pieces."""

    data: bytes
    starts: tuple[PageStart, ...]
    pages: int
    anchors: dict[str, int]
    moved: dict[str, str]
    misplaced: dict[str, str]
    layout_warnings: tuple[Diagnostic, ...]
    write_warnings: tuple[Diagnostic, ...]
    rounds: int
    pieces: int


def lay_out_pieces(
    *,
    html: str,
    render: Callable[[frozenset[str]], str],
    assets: Mapping[str, Asset],
    source: Path,
    variant: str,
    epoch: int,
    identifier: str,
    places: Mapping[str, SourceLocation],
    fontconf: Path,
    note_ids: frozenset[str],
    marks: frozenset[str],
    jobs: int,
    progress: Callable[[str], None] = lambda step: None,
) -> Laid | None:
    """Lay the book out in pieces in `jobs` processes; None when it must be laid out whole."""
    if jobs < 2 or unsafe_theme(html, assets) is not None:
        return None
    split = split_print_html(html)
    if split is None:
        return None
    forced = forced_breaks(split, assets, source, variant, fontconf)
    if forced is None:
        return None
    pieces = plan_pieces(split, html, forced, jobs * PIECES_PER_JOB)
    if pieces is None:
        return None
    global _WORK
    _WORK = _Work(
        render=render,
        split=split,
        pieces=pieces,
        assets=assets,
        source=source,
        variant=variant,
        epoch=epoch,
        identifier=identifier,
        places=places,
        fontconf=fontconf,
        note_ids=note_ids,
        marks=marks,
        jobs=jobs,
    )
    work = _WORK
    try:
        results, rounds = _rounds(pieces, jobs, progress)
    finally:
        _WORK = None
    progress("stitching the pieces")
    return _assemble(work, results, rounds)


def _rounds(
    pieces: list[Piece], jobs: int, progress: Callable[[str], None]
) -> tuple[list[PieceResult], int]:
    """Lay the pieces out until every printed page number is right; return them in order."""
    results: dict[int, PieceResult] = {}
    guess = [max(1, len(p.html) // BYTES_PER_PAGE) for p in pieces]
    # The index prints a page for every passage: it waits for the body's real pages.
    todo = [i for i, p in enumerate(pieces) if INDEX_ID not in p.ids]
    done = 0
    while todo and done < MAX_ROUNDS:
        done += 1
        lengths = [results[i].pages if i in results else guess[i] for i in range(len(pieces))]
        offsets = _offsets(lengths)
        known = _book_anchors(pieces, results, offsets)
        names = ", ".join(pieces[i].name for i in sorted(todo))
        progress(f"laying out pieces {names} (of {len(pieces)}) in {jobs} processes")
        batch = [
            _Job(
                index=i,
                offset=offsets[i],
                outside={n: p for n, p in known.items() if n not in pieces[i].ids},
            )
            for i in sorted(todo, key=lambda i: -len(pieces[i].html))
        ]
        results |= _run(batch, jobs)
        todo = _stale(pieces, results)
    return [results[i] for i in range(len(pieces))], done


def _run(batch: Sequence[_Job], jobs: int) -> dict[int, PieceResult]:
    """Lay out each job's piece in a process of its own, `jobs` at a time.

    `batch` comes largest first. One worker at a time takes the largest piece left, the others
    the smallest: the largest pieces, which hold the most memory, never run side by side,
    and the last piece to start is a middling one, so the workers still finish together.
    Each worker is forked from this thread, which runs nothing else meanwhile: a fork from a
    pool's helper thread can copy a lock another thread holds (an import's, a log's), and the
    worker then waits on it forever. A fresh process per piece keeps memory flat.
    """
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    pending = list(batch)
    running: dict[Any, tuple[Any, _Job, bool]] = {}
    results: dict[int, PieceResult] = {}
    # What this process holds is left out of the workers' garbage collection: a collection
    # writes to every object it visits, and each page it writes to would be copied into the
    # worker that forked it, instead of shared.
    gc.collect()
    gc.freeze()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                large = not any(taken for _, _, taken in running.values())
                job = pending.pop(0 if large else -1)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(job, sender), daemon=True)
                process.start()
                sender.close()
                running[receiver] = (process, job, large)
            for ready in wait(list(running)):
                process, job, _ = running.pop(ready)
                connection: Any = ready
                try:
                    outcome: PieceResult | str = connection.recv()
                except EOFError:
                    outcome = f"the worker exited with code {process.exitcode}"
                connection.close()
                process.join()
                if isinstance(outcome, str):
                    raise RuntimeError(f"laying out piece {job.index + 1}: {outcome}")
                if outcome.errors:
                    raise OutputError(outcome.errors)
                results[job.index] = outcome
    finally:
        for process, _, _ in running.values():
            process.kill()
            process.join()
        gc.unfreeze()
    return results


def _worker(job: _Job, sender: Any) -> None:
    """Lay out one piece and send back its result, or what went wrong (in a worker)."""
    try:
        outcome: PieceResult | str = _lay_out(job)
    except Exception as exc:  # a bug: the parent reports it, as the command line does
        outcome = f"{type(exc).__name__}: {exc}"
    sender.send(outcome)
    sender.close()


def _offsets(lengths: Sequence[int]) -> list[int]:
    offsets, total = [], 0
    for length in lengths:
        offsets.append(total)
        total += length
    return offsets


def _book_anchors(
    pieces: Sequence[Piece], results: Mapping[int, PieceResult], offsets: Sequence[int]
) -> dict[str, int]:
    """Return the book page of every anchor: where it landed, or a guess for a piece not yet
    laid out (its first page)."""
    known: dict[str, int] = {}
    for i, piece in enumerate(pieces):
        if i in results:
            for name, page in results[i].page_map.items():
                known.setdefault(name, offsets[i] + page)
            for name in sorted(piece.ids - results[i].page_map.keys()):
                known.setdefault(name, offsets[i] + 1)
        else:
            for name in sorted(piece.ids):
                known.setdefault(name, offsets[i] + 1)
    return known


def _stale(pieces: Sequence[Piece], results: Mapping[int, PieceResult]) -> list[int]:
    """Return the pieces to lay out next: those not laid out yet, and those printing a page
    that is wrong now. A piece that printed the page of an anchor in a piece not laid out yet
    waits for it, unless nothing else is left to do."""
    lengths = [results[i].pages if i in results else 0 for i in range(len(pieces))]
    known = _book_anchors(pieces, results, _offsets(lengths))
    missing = [i for i in range(len(pieces)) if i not in results]
    wrong = [
        i
        for i in sorted(results)
        if any(known.get(name, page) != page for name, page in results[i].printed.items())
    ]
    unknown = frozenset().union(*(pieces[i].ids for i in missing))
    ready = [i for i in wrong if not unknown & results[i].printed.keys()]
    return missing + ready if missing else wrong


def _assemble(work: _Work, results: Sequence[PieceResult], rounds: int) -> Laid:
    """Stitch the pieces into the book, and merge what they report, in book order."""
    pieces = work.pieces
    offsets = _offsets([r.pages for r in results])
    book_anchors: dict[str, int] = {}
    for i, r in enumerate(results):
        for name, page in r.page_map.items():
            book_anchors.setdefault(name, offsets[i] + page)
    starts = tuple(
        replace(start, page=offsets[i] + start.page)
        for i, r in enumerate(results)
        for start in r.starts
    )
    moved: dict[str, str] = {}
    misplaced: dict[str, str] = {}
    for r in results:
        moved |= r.moved
        misplaced |= r.misplaced
    data = _stitch(work, results)
    return Laid(
        data=data,
        starts=starts,
        pages=sum(r.pages for r in results),
        anchors=book_anchors,
        moved=moved,
        misplaced=misplaced,
        layout_warnings=_unique(w for r in results for w in r.layout_warnings),
        write_warnings=_unique(w for r in results for w in r.write_warnings),
        rounds=rounds,
        pieces=len(pieces),
    )


def _stitch(work: _Work, results: Sequence[PieceResult]) -> bytes:
    """Return the book's PDF: the pieces' pages in order, with the furniture over them."""
    from bookbuild import furniture, stitch

    overlay = furniture.furniture_pdf(
        work.split.prefix,
        furniture.book_pages([r.furniture for r in results]),
        assets=work.assets,
        source=work.source,
        variant=work.variant,
        epoch=work.epoch,
        identifier=work.identifier,
        fontconf=work.fontconf,
        jobs=work.jobs,
    )
    pieces = [stitch.PiecePdf(data=r.data, anchors=r.anchors) for r in results]
    return stitch.stitch(pieces, overlay)


def _unique(found: Iterator[Diagnostic] | Any) -> tuple[Diagnostic, ...]:
    """Return each warning once: every piece reads the same theme, and says so once each."""
    return tuple(dict.fromkeys(found))


def default_jobs() -> int:
    """Return the number of cores: the workers `build` uses for a long book unless told."""
    return os.cpu_count() or 1


def automatic_jobs(html: str) -> int:
    """Return the workers `build` uses when --jobs is not given: the cores for a long book,
    one for a short one (below AUTOMATIC_MIN_BYTES of print HTML)."""
    return default_jobs() if len(html.encode()) >= AUTOMATIC_MIN_BYTES else 1
