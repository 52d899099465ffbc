"""Carry the PDF's page numbers into the EPUB: a pagebreak marker where each PDF page starts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from lxml import etree

from bookbuild.markup import BLOCK_ATTR
from bookbuild.render import EpubPage

XHTML = "http://www.w3.org/1999/xhtml"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
# Characters that layout adds or removes (line-break hyphens, soft hyphens) do not count.
IGNORED = re.compile(r"[\s\u00ad\u2010]")


@dataclass(frozen=True, slots=True, kw_only=True)
class PageStart:
    """The first text of a PDF page: the block it is in and how many characters precede it."""

    page: int
    block: str
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PageTarget:
    page: int
    file: str
    id: str


def count_chars(text: str) -> int:
    """Return how many characters of text count towards a position."""
    return len(IGNORED.sub("", text))


def insert_page_breaks(
    pages: Sequence[EpubPage], starts: Sequence[PageStart]
) -> tuple[tuple[EpubPage, ...], tuple[PageTarget, ...]]:
    """Return the pages with pagebreak markers inserted, and where each marker is."""
    by_block: dict[str, list[PageStart]] = {}
    for start in starts:
        by_block.setdefault(start.block, []).append(start)
    marked, targets = [], []
    for page in pages:
        xhtml, found = _mark_page(page.xhtml, by_block)
        marked.append(replace(page, xhtml=xhtml))
        targets += [PageTarget(page=n, file=page.file, id=f"page-{n}") for n in found]
    return tuple(marked), tuple(sorted(targets, key=lambda t: t.page))


def _mark_page(xhtml: bytes, by_block: dict[str, list[PageStart]]) -> tuple[bytes, list[int]]:
    if BLOCK_ATTR.encode() not in xhtml:
        return xhtml, []
    root = etree.fromstring(xhtml)
    found = []
    for element in root.iter(f"{{{XHTML}}}*"):
        # The block id stays in the EPUB: `build --verify` traces a finding back through it.
        block = element.attrib.get(BLOCK_ATTR)
        for start in by_block.get(block or "", []):
            _insert_marker(element, start)
            found.append(start.page)
    for element in root.iter(f"{{{XHTML}}}*"):
        # `<span/>` is fine XML, but a reader that parses XHTML as HTML opens a span there.
        if (
            element.text is None
            and len(element) == 0
            and etree.QName(element).localname not in VOID
        ):
            element.text = ""
    return etree.tostring(
        root, encoding="utf-8", xml_declaration=True, doctype="<!DOCTYPE html>"
    ), found


def _insert_marker(element: etree._Element, start: PageStart) -> None:
    """Insert the marker before the first whole word from `start.offset` counted characters on."""
    marker = etree.Element(
        f"{{{XHTML}}}span",
        {
            EPUB_TYPE: "pagebreak",
            "role": "doc-pagebreak",
            "id": f"page-{start.page}",
            "aria-label": str(start.page),
        },
    )
    for node, is_tail, index in _text_positions(element, start.offset):
        _split_text(node, is_tail, index, marker)
        return
    element.append(marker)


def _text_positions(
    element: etree._Element, offset: int
) -> Iterator[tuple[etree._Element, bool, int]]:
    """Yield the first text position that starts a word at or after `offset` counted characters."""
    seen, previous = 0, " "
    for node, is_tail, text in _text_nodes(element):
        for index, char in enumerate(text):
            if seen >= offset and not IGNORED.match(char) and IGNORED.match(previous):
                yield node, is_tail, index
                return
            seen += 0 if IGNORED.match(char) else 1
            previous = char


def _text_nodes(element: etree._Element) -> Iterator[tuple[etree._Element, bool, str]]:
    """Yield (node, is_tail, text) for the text in reading order, leaving out note references."""
    if element.text:
        yield element, False, element.text
    for child in element:
        if "noteref" not in (child.get("class") or ""):
            yield from _text_nodes(child)
        if child.tail:
            yield child, True, child.tail


def _split_text(node: etree._Element, is_tail: bool, index: int, marker: etree._Element) -> None:
    """Put the marker at `index` in the node's text (or tail)."""
    if is_tail:
        text = node.tail or ""
        node.tail = text[:index]
        marker.tail = text[index:]
        node.addnext(marker)
    else:
        text = node.text or ""
        node.text = text[:index]
        marker.tail = text[index:]
        node.insert(0, marker)
