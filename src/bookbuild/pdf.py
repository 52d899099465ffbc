"""Lay the print HTML out with WeasyPrint once, then write the PDF and read the page map."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, BinaryIO

import weasyprint
from weasyprint.formatting_structure.boxes import TextBox
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from bookbuild import __version__
from bookbuild.assets import Asset, read_asset
from bookbuild.errors import Diagnostic, OutputError, error, warning
from bookbuild.fontcache import caching_font_programs
from bookbuild.fontconf import private_fontconfig
from bookbuild.markup import BLOCK_ATTR
from bookbuild.model import SourceLocation
from bookbuild.notememo import remembering_notes
from bookbuild.pagelist import PageStart, count_chars
from bookbuild.svgclean import embedded_image

# Relative URLs in the HTML resolve against this base; only names in the asset map exist there.
BASE_URL = "https://assets.bookbuild.invalid/"
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3a")


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serve the build's own assets and refuse every other URL, so nothing is fetched."""

    def __init__(self, assets: Mapping[str, Asset]) -> None:
        super().__init__(fail_on_errors=True)
        self.assets = assets

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if (image := embedded_image(url)) is not None:
            # A cleaned SVG may embed a raster image as a data: URL; its bytes are in the URL.
            return URLFetcherResponse(url, image[1], {"Content-Type": image[0]})
        name = url.removeprefix(BASE_URL) if url.startswith(BASE_URL) else None
        if name is None or name not in self.assets:
            raise FatalURLFetchingError(f"refused to fetch '{url}': not a file of this book")
        path = self.assets[name]
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, read_asset(path), {"Content-Type": mime})


class LogWatch(logging.Handler):
    """Collect WeasyPrint's warnings and errors, which it logs instead of raising."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def diagnostics(
        self, source: Path, places: Mapping[str, SourceLocation] | None = None
    ) -> list[Diagnostic]:
        """Return the records as diagnostics, at the manuscript line of the file they name."""
        found = []
        for record in self.records:
            message = record.getMessage()
            where = next((at for name, at in (places or {}).items() if name in message), None)
            report = error if record.levelno >= logging.ERROR else warning
            found.append(
                report(
                    "BB901", f"WeasyPrint: {message}", where or SourceLocation(path=source, line=0)
                )
            )
        return found


@contextmanager
def watch_weasyprint() -> Iterator[LogWatch]:
    """Capture WeasyPrint's log for the duration of a layout."""
    handler = LogWatch()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def variant_options(variant: str) -> dict[str, str]:
    """Return the WeasyPrint options a PDF variant needs besides its name."""
    # PDF/X requires an output intent, which WeasyPrint writes only for an embedded profile:
    # the sRGB profile it ships, since our colours are sRGB (no CMYK profile is ours to ship).
    return {"output_intent": "srgb"} if variant.startswith("pdf/x") else {}


# PDF/A forbids image interpolation (ISO 19005-2 6.2.8.3), which WeasyPrint asks for unless
# image-rendering says otherwise; raster images would fail the archive edition without this.
PDFA_CSS = "* { image-rendering: crisp-edges !important; }"


def variant_stylesheets(variant: str) -> list[Any]:
    """Return the stylesheets a PDF variant adds to the theme."""
    return [weasyprint.CSS(string=PDFA_CSS)] if variant.startswith("pdf/a") else []


def layout_pdf(
    html: str,
    assets: Mapping[str, Asset],
    source: Path,
    variant: str = "pdf/ua-1",
    places: Mapping[str, SourceLocation] | None = None,
    fontconf: Path | None = None,
) -> tuple[Any, list[Diagnostic]]:
    """Return the laid-out document and WeasyPrint's warnings; raise OutputError on an error.

    With `fontconf`, Pango sees only the fonts that configuration lists (see fontconf.py).
    """
    fonts = private_fontconfig(fontconf) if fontconf else nullcontext()
    with watch_weasyprint() as log, fonts, remembering_notes():
        try:
            document = weasyprint.HTML(
                string=html, base_url=BASE_URL, url_fetcher=AssetFetcher(assets)
            ).render(
                pdf_variant=variant,
                pdf_tags=True,
                stylesheets=variant_stylesheets(variant),
                **variant_options(variant),
            )
        except FatalURLFetchingError as exc:
            raise OutputError(
                [error("BB902", str(exc.args[0]), SourceLocation(path=source, line=0))]
            ) from None
    found = log.diagnostics(source, places)
    _raise_on_errors(found)
    return document, found


def layout_key(assets: Mapping[str, Asset], variant: str) -> list[bytes]:
    """Return what a layout depends on besides its HTML: versions, the variant, the assets."""
    versions = f"{__version__} {weasyprint.__version__} {pango_version()} {variant}"
    key = [versions.encode()]
    for name in sorted(assets):
        key += [name.encode(), hashlib.sha256(read_asset(assets[name])).digest()]
    return key


def pango_version() -> int:
    """Return the version of the Pango library that lays the text out."""
    from weasyprint.text.ffi import pango

    return int(pango.pango_version())


def write_pdf(
    document: Any,
    target: Path | BinaryIO,
    *,
    source: Path,
    variant: str,
    epoch: int,
    identifier: str,
    places: Mapping[str, SourceLocation] | None = None,
) -> list[Diagnostic]:
    """Write the laid-out document as a PDF; return WeasyPrint's warnings."""
    with watch_weasyprint() as log, _source_date_epoch(epoch), caching_font_programs():
        document.write_pdf(
            target,
            pdf_variant=variant,
            pdf_tags=True,
            pdf_identifier=identifier.encode(),
            **variant_options(variant),
        )
    found = log.diagnostics(source, places)
    _raise_on_errors(found)
    return found


def page_map(document: Any) -> dict[str, int]:
    """Return the 1-based page on which each id starts."""
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


def page_starts(document: Any) -> list[PageStart]:
    """Return, for each page, the numbered block its first main-flow text is in, and where."""
    seen: dict[str, int] = {}
    starts = []
    for number, page in enumerate(document.pages, start=1):
        first = None
        for block, text in _flow_text(page._page_box.children[0], None):
            if first is None:
                first = PageStart(page=number, block=block, offset=seen.get(block, 0))
            seen[block] = seen.get(block, 0) + count_chars(text)
        if first is not None:
            starts.append(first)
    return starts


def _flow_text(box: Any, block: str | None) -> Iterator[tuple[str, str]]:
    """Yield (block, text) for the text boxes of the main flow, in order.

    Generated content (markers, counters, leaders), floated footnotes and note calls have no
    counterpart in the EPUB's counted text, so they are left out.
    """
    element = getattr(box, "element", None)
    if "::" in str(getattr(box, "element_tag", "")) or box.is_footnote():
        return
    classes = (element.get("class") or "").split() if element is not None else []
    if {"footnote", "noteref", "noteref-sep", "endnotes"} & set(classes):
        return
    if element is not None and element.get(BLOCK_ATTR) is not None:
        block = element.get(BLOCK_ATTR)
    if isinstance(box, TextBox):
        if block is not None:
            yield block, box.text
        return
    for child in getattr(box, "children", ()):
        yield from _flow_text(child, block)


def _raise_on_errors(found: list[Diagnostic]) -> None:
    if any(d.severity.value == "error" for d in found):
        raise OutputError(found)


@contextmanager
def _source_date_epoch(epoch: int) -> Iterator[None]:
    """Pin SOURCE_DATE_EPOCH while fontTools instantiates variable fonts (it stamps their time)."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
