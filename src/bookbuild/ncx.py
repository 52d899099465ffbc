"""Complete EbookLib's NCX for EPUB 2 readers: the print page list, its depth and play order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

NCX = "http://www.daisy.org/z3986/2005/ncx/"
XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
OPF = "http://www.idpf.org/2007/opf"


@dataclass(frozen=True, slots=True, kw_only=True)
class NavPage:
    label: str
    href: str


def read_page_list(nav: bytes) -> tuple[str, tuple[NavPage, ...]]:
    """Return the heading and the entries of the nav document's page list."""
    root = etree.fromstring(nav)
    lists = root.xpath("//x:nav[@epub:type='page-list']", namespaces={"x": XHTML, "epub": OPS})
    if not lists:
        return "", ()
    heading = "".join(lists[0].xpath("string(x:h2)", namespaces={"x": XHTML})).strip()
    entries = tuple(
        NavPage(label=" ".join("".join(a.itertext()).split()), href=a.get("href", ""))
        for a in lists[0].iterfind(f".//{{{XHTML}}}a")
    )
    return heading, entries


def read_spine(opf: bytes) -> tuple[str, ...]:
    """Return the hrefs of the package's spine, in reading order."""
    root = etree.fromstring(opf)
    hrefs = {item.get("id"): item.get("href") for item in root.iter(f"{{{OPF}}}item")}
    return tuple(hrefs[ref.get("idref")] for ref in root.iter(f"{{{OPF}}}itemref"))


def complete_ncx(ncx: bytes, nav: bytes, spine: Sequence[str]) -> bytes:
    """Return the NCX with the nav's page list, the right depth, page counts and play order."""
    root = etree.fromstring(ncx, etree.XMLParser(remove_blank_text=True))
    heading, pages = read_page_list(nav)
    nav_map = root.find(f"{{{NCX}}}navMap")
    if pages and nav_map is not None:
        nav_map.addnext(_page_list(heading, pages))
    values = [int(p.label) for p in pages if p.label.isdigit()]
    _set_meta(root, "dtb:depth", str(_depth(nav_map)))
    # Z39.86: the number of "normal" page targets, and the largest value among them.
    _set_meta(root, "dtb:totalPageCount", str(len(values)))
    _set_meta(root, "dtb:maxPageNumber", str(max(values, default=0)))
    _number_play_order(root, spine)
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True))


def _page_list(heading: str, pages: Sequence[NavPage]) -> etree._Element:
    # EPUBCheck's NCX schema requires a class here, though the DTD leaves it optional.
    page_list = etree.Element(f"{{{NCX}}}pageList", {"id": "page-list", "class": "pagelist"})
    if heading:
        _label(page_list, heading)
    for n, page in enumerate(pages, start=1):
        # A number is a "normal" page; anything else (a roman numeral, a plate) is "special".
        attrs = {"id": f"page-target-{n}", "type": "normal" if page.label.isdigit() else "special"}
        if page.label.isdigit():
            attrs["value"] = page.label
        target = etree.SubElement(page_list, f"{{{NCX}}}pageTarget", attrs)
        _label(target, page.label)
        etree.SubElement(target, f"{{{NCX}}}content", {"src": page.href})
    return page_list


def _label(parent: etree._Element, text: str) -> None:
    label = etree.SubElement(parent, f"{{{NCX}}}navLabel")
    etree.SubElement(label, f"{{{NCX}}}text").text = text


def _depth(element: etree._Element | None) -> int:
    """Return how deeply navPoints nest under `element`."""
    if element is None:
        return 0
    points = element.findall(f"{{{NCX}}}navPoint")
    return max((1 + _depth(point) for point in points), default=0)


def _set_meta(root: etree._Element, name: str, content: str) -> None:
    head = root.find(f"{{{NCX}}}head")
    assert head is not None  # EbookLib always writes a head
    meta = head.find(f"{{{NCX}}}meta[@name='{name}']")
    if meta is None:
        meta = etree.SubElement(head, f"{{{NCX}}}meta", {"name": name})
    meta.set("content", content)


def _number_play_order(root: etree._Element, spine: Sequence[str]) -> None:
    """Give every navPoint and pageTarget its place in reading order; one target, one number.

    A page target's place in its file is its page number, since the markers are inserted in
    page order; a navPoint without a fragment points at the top of its file.
    """
    places = {name: n for n, name in enumerate(spine)}
    points = [
        *root.iter(f"{{{NCX}}}navPoint"),
        *root.iter(f"{{{NCX}}}pageTarget"),
    ]
    keys = {}
    for point in points:
        content = point.find(f"{{{NCX}}}content")
        src = content.get("src", "") if content is not None else ""
        file, _, fragment = src.partition("#")
        value = point.get("value")
        within = int(value) if fragment and value else -1
        keys[point] = (places.get(file, len(places)), within, src)
    order = {key: n for n, key in enumerate(sorted(set(keys.values())), start=1)}
    for point, key in keys.items():
        point.set("playOrder", str(order[key]))
