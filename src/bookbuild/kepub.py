"""Turn the EPUB into a Kobo kepub: sentence spans and page wrappers, still a valid EPUB 3.

Kobo's reader keeps its place, bookmarks and highlights by `<span class="koboSpan"
id="kobo.P.S">`: P counts the blocks of a document and S the sentences within one. It
paginates through two wrapper divs around the body's content. Nothing else changes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from bookbuild.pagelist import VOID

XHTML = "http://www.w3.org/1999/xhtml"
OPF = "http://www.idpf.org/2007/opf"
INLINE = frozenset((
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q",
    "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var",
))  # fmt: skip
# Text that Kobo never places a reader in: graphics, formulas, scripts.
SKIPPED = frozenset({"svg", "math", "script", "style", "head"})
# A sentence ends at . ! ? or … (and any closing quote or bracket) before white space.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\u201d\u2019\"')\]]))(\s+)")
STYLE_HACKS = "div#book-inner { margin-top: 0; margin-bottom: 0; }"


@dataclass(slots=True)
class Counter:
    """The running kobo.P.S numbers of one document."""

    block: int = 0
    sentence: int = 0

    def next_block(self) -> None:
        self.block, self.sentence = self.block + 1, 0

    def next_id(self) -> str:
        self.sentence += 1
        return f"kobo.{self.block}.{self.sentence}"


def build_kepub(epub: bytes) -> bytes:
    """Return the kepub made from an EPUB's bytes: every content document but the nav marked."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(epub)) as source, zipfile.ZipFile(out, "w") as target:
        documents = _content_documents(source.read("EPUB/content.opf"))
        for info in source.infolist():
            content = source.read(info)
            if info.filename in documents:
                content = mark_document(content)
            level = None if info.compress_type == zipfile.ZIP_STORED else 9
            target.writestr(info, content, compresslevel=level)
    return out.getvalue()


def _content_documents(opf: bytes) -> set[str]:
    """Return the zip names of the XHTML documents, leaving out the navigation document."""
    root = etree.fromstring(opf)
    return {
        "EPUB/" + str(item.get("href"))
        for item in root.iter(f"{{{OPF}}}item")
        if item.get("media-type") == "application/xhtml+xml"
        and "nav" not in (item.get("properties") or "").split()
    }


def mark_document(xhtml: bytes) -> bytes:
    """Return one content document with koboSpans and Kobo's wrapper divs."""
    root = etree.fromstring(xhtml)
    body = root.find(f"{{{XHTML}}}body")
    if body is None:
        return xhtml
    _mark_block(body, Counter())
    _wrap_body(body)
    head = root.find(f"{{{XHTML}}}head")
    if head is not None:
        style = etree.SubElement(head, f"{{{XHTML}}}style", {"id": "kobostylehacks"})
        style.text = STYLE_HACKS
    for element in root.iter(f"{{{XHTML}}}*"):
        # `<span/>` is fine XML, but a reader that parses XHTML as HTML opens a span there.
        if element.text is None and len(element) == 0 and _name(element) not in VOID:
            element.text = ""
    return bytes(
        etree.tostring(root, encoding="utf-8", xml_declaration=True, doctype="<!DOCTYPE html>")
    )


def _name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _mark_block(block: etree._Element, counter: Counter) -> None:
    """Number a block that holds text, span its sentences and go on into the blocks inside."""
    if _has_own_text(block):
        counter.next_block()
    _mark_inline(block, counter)


def _mark_inline(element: etree._Element, counter: Counter) -> None:
    """Span the text of `element` and of its inline children; blocks inside start afresh."""
    children = list(element)
    if element.text and element.text.strip():
        lead, spans = _spans(element.text, counter)
        element.text = lead
        for n, span in enumerate(spans):
            element.insert(n, span)
    for child in children:
        name = _name(child)
        if name == "img":
            if counter.sentence or not counter.block:  # an image amid text is a block of its own
                counter.next_block()
            child = _wrap(child, counter.next_id())
        elif name in INLINE:
            _mark_inline(child, counter)
        elif name and name not in SKIPPED:
            _mark_block(child, counter)
        if child.tail and child.tail.strip():
            lead, spans = _spans(child.tail, counter)
            child.tail = lead
            for span in reversed(spans):
                child.addnext(span)


def _has_own_text(element: etree._Element) -> bool:
    """Return whether the element has text of its own or in its inline children."""
    if (element.text or "").strip():
        return True
    return any(
        (child.tail or "").strip() or (_name(child) in INLINE and _has_own_text(child))
        for child in element
    )


def _spans(text: str, counter: Counter) -> tuple[str, list[etree._Element]]:
    """Split text into sentences: the leading white space, and a span per sentence."""
    lead = text[: len(text) - len(text.lstrip())]
    spans = []
    for sentence, space in _sentences(text[len(lead) :]):
        span = etree.Element(f"{{{XHTML}}}span", {"class": "koboSpan", "id": counter.next_id()})
        span.text, span.tail = sentence, space
        spans.append(span)
    return lead, spans


def _sentences(text: str) -> Iterator[tuple[str, str]]:
    """Yield (sentence, the white space after it) for text that starts with a non-space."""
    parts = _SENTENCE_END.split(text)
    parts += [""] if len(parts) % 2 else []
    for sentence, space in zip(parts[::2], parts[1::2], strict=True):
        stripped = sentence.rstrip()
        if stripped:
            yield stripped, sentence[len(stripped) :] + space


def _wrap(element: etree._Element, span_id: str) -> etree._Element:
    """Put an element (an image) in a span of its own, which takes its tail; return the span."""
    span = etree.Element(f"{{{XHTML}}}span", {"class": "koboSpan", "id": span_id})
    span.tail, element.tail = element.tail, None
    element.addprevious(span)
    span.append(element)
    return span


def _wrap_body(body: etree._Element) -> None:
    """Move the body's content into div#book-columns > div#book-inner, as Kobo paginates it."""
    columns = etree.Element(f"{{{XHTML}}}div", {"id": "book-columns"})
    inner = etree.SubElement(columns, f"{{{XHTML}}}div", {"id": "book-inner"})
    inner.text, body.text = body.text, None
    for child in list(body):
        inner.append(child)
    body.append(columns)
