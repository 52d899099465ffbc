"""Write the EPUB 3 with EbookLib, then make its zip reproducible."""

from __future__ import annotations

import datetime
import io
import mimetypes
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ebooklib import epub

from bookbuild.model import Metadata
from bookbuild.render import EpubPage

XHTML = "application/xhtml+xml"
ACCESSIBILITY = (
    ("schema:accessMode", "textual"),
    ("schema:accessModeSufficient", "textual"),
    ("schema:accessibilityFeature", "tableOfContents"),
    ("schema:accessibilityFeature", "readingOrder"),
    ("schema:accessibilityFeature", "structuralNavigation"),
    ("schema:accessibilityHazard", "none"),
    (
        "schema:accessibilitySummary",
        "Structured with headings, a table of contents and landmarks; "
        "footnotes are linked both ways; no hazards.",
    ),
)


def build_epub(
    meta: Metadata,
    pages: Sequence[EpubPage],
    nav: bytes,
    assets: Mapping[str, Path],
    modified: datetime.datetime,
) -> bytes:
    """Return the bytes of the EPUB for these content documents and assets."""
    book = epub.EpubBook()
    _set_metadata(book, meta)
    items = [_document(f"p{n}", page.file, page.xhtml) for n, page in enumerate(pages, start=1)]
    nav_item = _document("nav", "nav.xhtml", nav, properties=["nav"])
    for item in [*items, nav_item, *_asset_items(assets)]:
        book.add_item(item)
    book.add_item(epub.EpubNcx())
    book.toc = [
        epub.Link(page.file, page.title, f"toc-{n}")
        for n, page in enumerate(pages, start=1)
        if page.kind != "titlepage"
    ]
    book.spine = [items[0], nav_item, *items[1:]]
    buffer = io.BytesIO()
    options = {
        "raise_exceptions": True,
        "epub3_pages": False,
        "epub3_landmark": False,
        "epub2_guide": False,
        "mtime": modified,
    }
    epub.write_epub(buffer, book, options)
    return normalise_zip(buffer.getvalue(), meta.language, modified)


def _set_metadata(book: epub.EpubBook, meta: Metadata) -> None:
    book.set_identifier(meta.identifier)
    book.set_title(meta.title)
    book.set_language(meta.language)
    for n, author in enumerate(meta.authors, start=1):
        book.add_author(author, uid=f"author-{n}")
    optional = {
        "publisher": meta.publisher,
        "date": meta.date,
        "description": meta.description,
        "rights": meta.rights,
    }
    for name, value in optional.items():
        if value:
            book.add_metadata("DC", name, value)
    for prop, value in ACCESSIBILITY:
        book.add_metadata(None, "meta", value, {"property": prop})


def _document(
    uid: str, name: str, content: bytes, properties: list[str] | None = None
) -> epub.EpubItem:
    item = epub.EpubItem(uid=uid, file_name=name, media_type=XHTML, content=content)
    item.properties = properties or (["svg"] if b"<svg" in content else [])
    return item


def _asset_items(assets: Mapping[str, Path]) -> list[epub.EpubItem]:
    items = []
    for n, (name, path) in enumerate(sorted(assets.items()), start=1):
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        items.append(
            epub.EpubItem(
                uid=f"asset-{n}", file_name=name, media_type=media_type, content=path.read_bytes()
            )
        )
    return items


def normalise_zip(data: bytes, language: str, modified: datetime.datetime) -> bytes:
    """Rewrite EbookLib's zip with fixed timestamps and the package's xml:lang."""
    stamp = max(modified, datetime.datetime(1980, 1, 1, tzinfo=datetime.UTC)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith(".opf"):
                content = _add_package_lang(content, language)
            stored = info.filename == "mimetype"
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, content, compresslevel=None if stored else 9)
    return out.getvalue()


def _add_package_lang(opf: bytes, language: str) -> bytes:
    """Give <package> the xml:lang that EbookLib leaves out."""
    return re.sub(
        rb"<package\b(?![^>]*xml:lang)",
        b'<package xml:lang="' + language.encode() + b'"',
        opf,
        count=1,
    )
