"""Make piece PDFs of a book the way PARALLEL.md's workers will, for testing the stitcher.

A stand-in for the worker side (helper "jobs"): the print HTML is cut at top-level `<body>`
children, each piece is laid out and written with the real layout and tagger, and every id a
piece links to but does not hold gets a fake anchor on its last page so WeasyPrint keeps the
link. Margin boxes are switched off in the pieces: a furniture document paints them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import html as lxml_html

from bookbuild import pdf, tagging
from bookbuild.assets import Asset
from bookbuild.fontconf import write_fontconfig
from bookbuild.fontset import find_fonts
from bookbuild.pipeline import build
from bookbuild.stitch import PiecePdf

EPOCH = 946684800
IDENTIFIER = "urn:uuid:00000000-0000-4000-8000-000000000001"
# The pieces paint no running heads or page numbers: the furniture document does.
MARGIN_BOXES = (
    "top-left-corner top-left top-center top-right top-right-corner "
    "bottom-left-corner bottom-left bottom-center bottom-right bottom-right-corner "
    "left-top left-middle left-bottom right-top right-middle right-bottom"
)
NO_MARGIN_BOXES = (
    "@page { "
    + " ".join(f"@{where} {{ content: none !important; }}" for where in MARGIN_BOXES.split())
    + " }"
)


@dataclass(frozen=True, slots=True)
class PrintBook:
    html: str
    assets: Mapping[str, Asset]
    source: Path
    fontconf: Path


def print_book(book_dir: Path, out: Path) -> PrintBook:
    """Render a manuscript's print HTML (no layout) and return it with its assets."""
    result = build(book_dir, out, ("html",))
    (page,) = [p for p in result.outputs if p.suffix == ".html"]
    folder = page.parent
    assets: dict[str, Asset] = {
        p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file() and p != page
    }
    lang = lxml_html.fromstring(page.read_bytes()).get("lang") or "en"
    fontconf = write_fontconfig(find_fonts(), lang)
    return PrintBook(page.read_text(encoding="utf-8"), assets, book_dir, fontconf)


def split_html(html: str, before: Collection[str] | None = None) -> list[str]:
    """Cut the HTML before the top-level body children with these ids (default: chapters)."""
    root = lxml_html.fromstring(html)
    body = root.find("body")
    children = list(body)
    if before is None:
        before = [c.get("id") for c in children if "chapter" in (c.get("class") or "").split()]
    runs: list[list[Any]] = [[]]
    for child in children:
        if child.get("id") in before and runs[-1]:
            runs.append([])
        runs[-1].append(child)
    pieces = []
    for run in runs:
        for child in list(body):
            body.remove(child)
        body.extend(run)
        pieces.append(lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"))
    return pieces


def without_margin_boxes(html: str) -> str:
    return html.replace("</head>", f"<style>{NO_MARGIN_BOXES}</style></head>", 1)


def layout(book: PrintBook, html: str, variant: str) -> Any:
    document, _ = pdf.layout_pdf(html, book.assets, book.source, variant, None, book.fontconf)
    return document


def write(book: PrintBook, document: Any, variant: str) -> bytes:
    buffer = io.BytesIO()
    with tagging.document_tags(document, variant):
        pdf.write_pdf(
            document,
            buffer,
            source=book.source,
            variant=variant,
            epoch=EPOCH,
            identifier=IDENTIFIER,
        )
    return buffer.getvalue()


def with_ghosts(html: str) -> tuple[str, set[str]]:
    """Give every id the piece refers to but lacks an empty anchor at its end.

    The worker side pre-seeds WeasyPrint's target collector instead; without either, a
    `target-counter()` to another piece is an error.
    """
    root = lxml_html.fromstring(html)
    have = {e.get("id") for e in root.iter() if e.get("id")}
    wanted = {e.get("href")[1:] for e in root.iter("a") if (e.get("href") or "").startswith("#")}
    ghosts = sorted(wanted - have - {""})
    if not ghosts:
        return html, set()
    holder = lxml_html.fromstring('<div style="height: 0; overflow: hidden"></div>')
    for ident in ghosts:
        holder.append(lxml_html.fromstring(f'<span id="{ident}"></span>'))
    root.find("body")[-1].append(holder)  # inside: a new body child may start a page
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"), set(ghosts)


def make_piece(book: PrintBook, html: str, variant: str) -> tuple[PiecePdf, Any]:
    """Lay one piece out and write it; return it and its laid-out document."""
    html, ghosts = with_ghosts(without_margin_boxes(html))
    document = layout(book, html, variant)
    real = frozenset(a for page in document.pages for a in page.anchors) - ghosts
    linked = {
        target for page in document.pages for kind, target, *_ in page.links if kind == "internal"
    }
    for missing in sorted(linked - real):
        document.pages[-1].anchors[missing] = (0, 0, 0, 0)
    return PiecePdf(data=write(book, document, variant), anchors=real), document


def make_pieces(
    book: PrintBook, variant: str, before: Collection[str] | None = None
) -> tuple[list[PiecePdf], list[Any]]:
    made = [make_piece(book, html, variant) for html in split_html(book.html, before)]
    return [p for p, _ in made], [d for _, d in made]


def furniture_html(book: PrintBook, pages: int, sizes: Sequence[str] = ()) -> str:
    """Return a document of `pages` empty pages whose margin boxes print a running head."""
    head = re.search(r"<head.*?</head>", book.html, re.S)
    assert head is not None
    style = (
        "<style>@page { @top-center { content: 'Furniture head ' counter(page); }"
        " background: none; } html, body { background: none; }"
        " .furniture-page { break-before: page; }</style>"
    )
    lang = lxml_html.fromstring(book.html).get("lang") or "en"
    body = "".join('<div class="furniture-page"></div>' for _ in range(pages))
    return (
        f'<!DOCTYPE html><html lang="{lang}">{head.group(0).replace("</head>", style + "</head>")}'
        f"<body>{body}</body></html>"
    )


def make_furniture(book: PrintBook, pages: int, variant: str) -> bytes:
    document = layout(book, furniture_html(book, pages), variant)
    assert len(document.pages) == pages
    return write(book, document, variant)
