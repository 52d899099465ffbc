"""Write the EPUB 3 with EbookLib, then make its zip reproducible."""

from __future__ import annotations

import datetime
import io
import mimetypes
import re
import zipfile
from collections.abc import Mapping, Sequence

from ebooklib import epub
from lxml import etree

from bookbuild.assets import Asset, read_asset
from bookbuild.locale import Messages, english_messages, text_direction
from bookbuild.model import Metadata
from bookbuild.ncx import complete_ncx, read_spine
from bookbuild.render import EpubPage
from bookbuild.smallscreen import fit_to_small_screens

XHTML = "application/xhtml+xml"
NS = {"x": "http://www.w3.org/1999/xhtml"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"
# Words that name a body rather than a person: such an author is filed as written.
_BODIES = frozenset((
    "agency", "association", "board", "committee", "company", "council", "department",
    "editorial", "foundation", "group", "inc.", "institute", "ltd", "ministry", "office", "press",
    "publishing", "service", "society", "staff", "team", "university",
))  # fmt: skip
_SUFFIXES = frozenset(("jr", "jr.", "sr", "sr.", "ii", "iii", "iv"))
_PARTICLES = frozenset((
    "al", "bin", "da", "de", "del", "della", "den", "der", "di", "du", "ibn", "la", "le", "ten",
    "ter", "van", "von",
))  # fmt: skip


def accessibility_metadata(
    *, images: bool, page_list: bool, messages: Messages | None = None
) -> list[tuple[str, str]]:
    """Return the EPUB Accessibility 1.1 properties that hold for this book."""
    messages = messages or english_messages()
    features = ["tableOfContents", "readingOrder", "structuralNavigation"]
    features += ["alternativeText"] if images else []
    features += ["pageNavigation", "printPageNumbers"] if page_list else []
    # The summary is for people (reading systems show it), so it is in the book's language.
    summary = messages.plain(
        "a11y-summary",
        images=messages.plain("a11y-images") if images else "",
        pages=messages.plain("a11y-pages") if page_list else "",
    )
    modes = [("schema:accessMode", "textual")]
    modes += [("schema:accessMode", "visual")] if images else []
    return [
        ("dcterms:conformsTo", CONFORMS_TO),
        *modes,
        ("schema:accessModeSufficient", "textual"),
        *(("schema:accessibilityFeature", f) for f in features),
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary", summary),
    ]


def build_epub(
    meta: Metadata,
    pages: Sequence[EpubPage],
    nav: bytes,
    assets: Mapping[str, Asset],
    cover: bytes,
    modified: datetime.datetime,
    *,
    pdf_source: str | None = None,
    messages: Messages | None = None,
) -> bytes:
    """Return the bytes of the EPUB; `pages` start with the cover and the title page."""
    messages = messages or english_messages()
    book = epub.EpubBook()
    _set_metadata(book, meta)
    if text_direction(meta.language) == "rtl":
        book.set_direction("rtl")  # the spine's page-progression-direction and the package's dir
    images = any(name.startswith("images/") for name in assets)
    page_list = pdf_source is not None
    if pdf_source:
        # The page list follows this edition, so readers can cite the same page numbers.
        book.add_metadata(
            "DC",
            "source",
            messages.plain("pdf-edition", title=meta.title, file=pdf_source),
            {"id": "pdf-source"},
        )
        book.add_metadata(
            None, "meta", "pagination", {"refines": "#pdf-source", "property": "source-of"}
        )
    for prop, value in accessibility_metadata(
        images=images, page_list=page_list, messages=messages
    ):
        book.add_metadata(None, "meta", value, {"property": prop})
    # EPUB 2 readers, Kindle among them, find the cover through this.
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
    items = [
        _document(f"p{n}", page.file, _prepare(page.xhtml, meta.language))
        for n, page in enumerate(pages, start=1)
    ]
    nav_item = _document("nav", "nav.xhtml", nav, properties=["nav"])
    cover_item = epub.EpubItem(
        uid="cover-image", file_name="cover.jpg", media_type="image/jpeg", content=cover
    )
    cover_item.properties = ["cover-image"]
    for item in [*items, nav_item, cover_item, *_asset_items(assets)]:
        book.add_item(item)
    book.add_item(epub.EpubNcx())
    book.toc = [
        epub.Link(page.file, page.title, f"toc-{n}")
        for n, page in enumerate(pages, start=1)
        if page.kind not in ("cover", "titlepage")
    ]
    book.spine = [items[0], items[1], nav_item, *items[2:]]
    book.guide = _guide(pages, messages.labels())
    buffer = io.BytesIO()
    options = {
        "raise_exceptions": True,
        "epub3_pages": False,
        "epub3_landmark": False,
        "epub2_guide": True,
        "mtime": modified,
    }
    epub.write_epub(buffer, book, options)
    return normalise_zip(buffer.getvalue(), meta.language, modified)


def _set_metadata(book: epub.EpubBook, meta: Metadata) -> None:
    book.set_identifier(meta.identifier)
    book.set_title(meta.title)
    book.set_language(meta.language)
    for n, author in enumerate(meta.authors, start=1):
        book.add_metadata("DC", "creator", author, {"id": f"author-{n}"})
        # Calibre and Apple sort by file-as; without it Calibre files the book under "Unknown".
        refines = {"refines": f"#author-{n}"}
        book.add_metadata(None, "meta", file_as(author), {**refines, "property": "file-as"})
        book.add_metadata(
            None, "meta", "aut", {**refines, "property": "role", "scheme": "marc:relators"}
        )
    optional = {
        "publisher": meta.publisher,
        "date": meta.date,
        "description": meta.description,
        "rights": meta.rights,
    }
    for name, value in optional.items():
        if value:
            book.add_metadata("DC", name, value)


def file_as(name: str) -> str:
    """Return the sort form of an author's name: "Vickers, Miranda"; a body's name is unchanged."""
    words = name.split()
    if "," in name or len(words) < 2 or any(w.casefold() in _BODIES for w in words):
        return name
    suffix = words.pop() if words[-1].casefold() in _SUFFIXES and len(words) > 2 else None
    start = len(words) - 1
    while start > 1 and words[start - 1].casefold() in _PARTICLES:
        start -= 1  # "Ludwig van Beethoven" is filed under "van Beethoven"
    sort = f"{' '.join(words[start:])}, {' '.join(words[:start])}"
    return f"{sort}, {suffix}" if suffix else sort


def _prepare(xhtml: bytes, language: str) -> bytes:
    if text_direction(language) == "rtl":
        xhtml = keep_code_left_to_right(xhtml)
    return fit_to_small_screens(open_pages_at_titles(xhtml), language)


def keep_code_left_to_right(xhtml: bytes) -> bytes:
    """Mark code `dir="ltr"` in a right-to-left document, as EPUB's CSS may not set direction."""
    if b"<code" not in xhtml and b"<pre" not in xhtml:
        return xhtml
    root = etree.fromstring(xhtml)
    for element in [*root.iterfind(".//x:pre", NS), *root.iterfind(".//x:code", NS)]:
        element.set("dir", element.get("dir", "ltr"))
    return bytes(
        etree.tostring(root, encoding="utf-8", xml_declaration=True, doctype="<!DOCTYPE html>")
    )


def open_pages_at_titles(xhtml: bytes) -> bytes:
    """Move a page marker that starts a chapter's era line to the start of its title.

    The PDF sets the era above the title, so a chapter's page starts in the era line; the EPUB
    puts the era after the title, and its page should still start with the heading group.
    """
    if b"chapter-era" not in xhtml or b"pagebreak" not in xhtml:
        return xhtml
    root = etree.fromstring(xhtml)
    moved = False
    for era in root.iterfind(".//x:header/x:p[@class='chapter-era']", NS):
        title, marker = era.getprevious(), era[0] if len(era) else None
        if marker is None or marker.get(EPUB_TYPE) != "pagebreak" or (era.text or "").strip():
            continue
        if title is None or etree.QName(title).localname != "h1":
            continue
        era.text = (era.text or "") + (marker.tail or "")
        marker.tail, title.text = title.text, None
        title.insert(0, marker)
        moved = True
    if not moved:
        return xhtml
    return bytes(
        etree.tostring(root, encoding="utf-8", xml_declaration=True, doctype="<!DOCTYPE html>")
    )


def _guide(pages: Sequence[EpubPage], labels: Mapping[str, str]) -> list[dict[str, str]]:
    """Return the EPUB 2 guide: Calibre's Kindle conversion opens the book at its "text"."""
    start = next((p for p in pages if p.kind in ("front", "chapter")), None)
    guide = [
        {"type": "cover", "title": labels["cover"], "href": "cover.xhtml"},
        {"type": "toc", "title": labels["contents"], "href": "nav.xhtml"},
    ]
    return guide + ([{"type": "text", "title": start.title, "href": start.file}] if start else [])


def _document(
    uid: str, name: str, content: bytes, properties: list[str] | None = None
) -> epub.EpubItem:
    item = epub.EpubItem(uid=uid, file_name=name, media_type=XHTML, content=content)
    item.properties = properties or (["svg"] if b"<svg" in content else [])
    return item


def _asset_items(assets: Mapping[str, Asset]) -> list[epub.EpubItem]:
    items = []
    for n, (name, path) in enumerate(sorted(assets.items()), start=1):
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        items.append(
            epub.EpubItem(
                uid=f"asset-{n}", file_name=name, media_type=media_type, content=read_asset(path)
            )
        )
    return items


def normalise_zip(data: bytes, language: str, modified: datetime.datetime) -> bytes:
    """Rewrite EbookLib's zip with fixed timestamps, the package's xml:lang and a full NCX."""
    stamp = max(modified, datetime.datetime(1980, 1, 1, tzinfo=datetime.UTC)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        spine = read_spine(source.read("EPUB/content.opf"))
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith(".opf"):
                content = _add_package_lang(content, language)
            elif info.filename.endswith(".ncx"):
                content = complete_ncx(content, source.read("EPUB/nav.xhtml"), spine)
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
