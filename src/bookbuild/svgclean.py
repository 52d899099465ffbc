"""Clean an author's SVG for every output: nothing that runs, loads or expands without bound.

The SVG is parsed without entities, network or huge-tree mode; a DOCTYPE with declarations is
refused, a bare one dropped. Only SVG drawing elements are kept. Scripts, event handlers,
`foreignObject`, animation, processing instructions and every reference that is not a
same-document `#fragment` (or, on an image, a `data:` PNG, JPEG, GIF or WebP) are removed with a
warning. Editor bookkeeping (Inkscape, Sodipodi, Illustrator, Sketch, RDF metadata) is removed
without one, since no reader shows it. Finally the drawing's size once every `<use>` is expanded
is counted, without expanding it, and refused past BOOKBUILD_MAX_SVG_ELEMENTS.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

import tinycss2
from lxml import etree

from bookbuild.errors import Collector
from bookbuild.model import SourceLocation

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
USE = f"{{{SVG}}}use"
# Elements that only draw or describe the drawing (SVG 1.1 and 2).
KEPT_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "desc", "title", "metadata", "symbol", "use", "switch", "view",
        "a", "image", "style", "path", "rect", "circle", "ellipse", "line", "polyline",
        "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop",
        "pattern", "clipPath", "mask", "marker", "filter", "feBlend", "feColorMatrix",
        "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
        "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB",
        "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge", "feMergeNode",
        "feMorphology", "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight",
        "feTile", "feTurbulence",
    }
)  # fmt: skip
ANIMATION = frozenset({"animate", "animateMotion", "animateTransform", "set", "discard", "mpath"})
EDITOR_NAMESPACES = frozenset(
    {
        "http://www.inkscape.org/namespaces/inkscape",
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://purl.org/dc/elements/1.1/",
        "http://creativecommons.org/ns#",
        "http://web.resource.org/cc/",
        "http://ns.adobe.com/AdobeIllustrator/10.0/",
        "http://ns.adobe.com/AdobeSVGViewerExtensions/3.0/",
        "http://ns.adobe.com/Extensibility/1.0/",
        "http://ns.adobe.com/Graphs/1.0/",
        "http://ns.adobe.com/SaveForWeb/1.0/",
        "http://ns.adobe.com/Variables/1.0/",
        "http://ns.adobe.com/ImageReplacement/1.0/",
        "http://ns.adobe.com/Flows/1.0/",
        "http://ns.adobe.com/GenericCustomNamespace/1.0/",
        "http://ns.adobe.com/XPath/1.0/",
        "http://www.bohemiancoding.com/sketch/ns",
    }
)
KEPT_XLINK = frozenset({"title", "type", "role", "arcrole", "show", "actuate"})
DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=\s]*)\Z")
# CSS functions whose arguments are files to load.
CSS_LOADERS = frozenset({"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade"})


def clean_svg(data: bytes, shown: Path, found: Collector, max_elements: int) -> bytes | None:
    """Return the SVG with everything unsafe removed, or None after reporting why it is refused."""
    root = parse_svg(data, shown, found)
    if root is None:
        return None
    cleaner = Cleaner(shown)
    cleaner.clean(root)
    found.extend(sorted(cleaner.found, key=lambda d: d.location.line if d.location else 0))
    etree.cleanup_namespaces(root)
    size = expanded_size(root, max_elements)
    where = SourceLocation(path=shown, line=root.sourceline or 1)
    if size is None:
        found.error("BB312", "the SVG has a <use> that refers to itself or its ancestors", where)
        return None
    if size > max_elements:
        found.error(
            "BB312",
            f"the SVG has more than {max_elements:,} elements once every <use> is expanded "
            "(BOOKBUILD_MAX_SVG_ELEMENTS raises the limit)",
            where,
        )
        return None
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def parse_svg(data: bytes, shown: Path, found: Collector) -> Any:
    """Return the SVG's root element, parsed without entities or network, or None."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, col = exc.position
        where = SourceLocation(path=shown, line=max(line, 1), col=max(col, 1))
        found.error("BB310", f"the SVG is not well-formed XML: {exc.msg}", where)
        return None
    where = SourceLocation(path=shown, line=root.sourceline or 1)
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and (list(dtd.iterelements()) or list(dtd.iterentities())):
        line = data[: max(data.find(b"<!DOCTYPE"), 0)].count(b"\n") + 1
        found.error(
            "BB310",
            "the SVG's DOCTYPE declares entities or elements; bookbuild never expands them: "
            "save the SVG without a DOCTYPE",
            SourceLocation(path=shown, line=line),
        )
        return None
    if next(root.iter(etree.Entity), None) is not None:
        found.error("BB310", "the SVG uses entity references; bookbuild never expands them", where)
        return None
    if root.tag != f"{{{SVG}}}svg":
        found.error("BB310", f"not an SVG document: its root element is <{_name(root)}>", where)
        return None
    return root


class Cleaner:
    """Remove what could run, load or hide content from an SVG tree, warning once per kind."""

    def __init__(self, shown: Path) -> None:
        self.shown = shown
        self.found = Collector()
        self.seen: set[str] = set()

    def clean(self, root: Any) -> None:
        """Clean the tree in place."""
        for sibling in root.itersiblings(preceding=True):
            if isinstance(sibling, etree._ProcessingInstruction):
                self._warn(f"removed the processing instruction <?{sibling.target}?>", sibling)
        self._clean_attributes(root)
        stack = [root]
        while stack:
            element = stack.pop()
            for child in list(element):
                if self._unwanted(child):
                    _remove(child)
                elif isinstance(child.tag, str):
                    self._clean_attributes(child)
                    if _is_dangling(child):
                        _remove(child)  # its reference was removed (and warned of) above
                    else:
                        stack.append(child)

    def _unwanted(self, node: Any) -> bool:
        if isinstance(node, etree._Comment):
            return False
        if isinstance(node, etree._ProcessingInstruction):
            self._warn(f"removed the processing instruction <?{node.target}?>", node)
            return True
        namespace, local = _split(node.tag)
        if namespace == SVG and local in KEPT_ELEMENTS:
            if local == "style" and not css_is_safe(node.text or ""):
                self._warn("removed a <style> that loads files from outside the SVG", node)
                return True
            return False
        if namespace not in EDITOR_NAMESPACES:
            self._warn(_element_reason(namespace, local, _name(node)), node)
        return True

    def _clean_attributes(self, element: Any) -> None:
        for key, value in list(element.attrib.items()):
            reason = self._attribute_problem(element, key, value)
            if reason is not None:
                del element.attrib[key]
                if reason:
                    self._warn(reason, element)

    def _attribute_problem(self, element: Any, key: str, value: str) -> str | None:
        """Return why an attribute goes ('' to drop it quietly), or None to keep it."""
        namespace, local = _split(key)
        if namespace in EDITOR_NAMESPACES:
            return ""
        if namespace == XLINK:
            return (
                _href_problem(element, value)
                if local == "href"
                else (None if local in KEPT_XLINK else f"removed the attribute xlink:{local}")
            )
        if namespace == XML:
            return None if local in ("lang", "space") else f"removed the attribute xml:{local}"
        if namespace is not None:
            return f"removed the attribute '{local}' of another vocabulary ({namespace})"
        if local.lower().startswith("on"):
            return f"removed the event handler '{local}' (scripts never run in the book)"
        if local == "href":
            return _href_problem(element, value)
        if (local == "style" or "url(" in value.lower() or "\\" in value) and not css_is_safe(
            value
        ):
            return f"removed the attribute '{local}', which loads a file from outside the SVG"
        return None

    def _warn(self, message: str, node: Any) -> None:
        if message not in self.seen:
            self.seen.add(message)
            where = SourceLocation(path=self.shown, line=node.sourceline or 1)
            self.found.warn("BB311", message, where)


def _element_reason(namespace: str | None, local: str, name: str) -> str:
    if namespace == SVG and local == "script":
        return "removed <script> (scripts never run in the book)"
    if namespace == SVG and local in ANIMATION:
        return f"removed <{local}> (the book does not animate: motion can be a hazard)"
    if namespace == SVG and local == "foreignObject":
        return "removed <foreignObject> (only SVG drawing is kept)"
    return f"removed <{name}>, which is not an SVG drawing element"


def _is_dangling(element: Any) -> bool:
    """Return whether an element exists only to draw a reference it no longer has."""
    namespace, local = _split(element.tag)
    referring = namespace == SVG and local in ("use", "image", "feImage")
    return referring and element.get("href") is None and element.get(f"{{{XLINK}}}href") is None


def _href_problem(element: Any, value: str) -> str | None:
    target = value.strip()
    if target.startswith("#") and len(target) > 1:
        return None
    _, local = _split(element.tag)
    if local in ("image", "feImage") and _is_data_image(target):
        return None
    shown = target if len(target) <= 60 else target[:57] + "..."
    return f"removed a reference to '{shown}' on <{local}>: only '#id' within the SVG is kept"


def _is_data_image(url: str) -> bool:
    return embedded_image(url) is not None


def embedded_image(url: str) -> tuple[str, bytes] | None:
    """Return the media type and bytes of a data: URL holding the PNG, JPEG, GIF or WebP image
    it says it holds, or None."""
    from bookbuild.images import sniff  # the two modules share one idea of what an image is

    match = DATA_IMAGE.match(url)
    if match is None:
        return None
    try:
        payload = base64.b64decode("".join(match[2].split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return (match[1], payload) if sniff(payload) == match[1] else None


def css_is_safe(css: str) -> bool:
    """Return whether CSS loads nothing: no @import, and url() only for '#id'."""
    return all(_token_is_safe(t) for t in tinycss2.parse_component_value_list(css))


def _token_is_safe(token: Any) -> bool:
    if token.type == "url":
        return bool(str(token.value).strip().startswith("#"))
    if token.type == "at-keyword":
        return bool(token.lower_value != "import")
    if token.type == "function":
        if token.lower_name in CSS_LOADERS:
            args = [a for a in token.arguments if a.type not in ("whitespace", "comment")]
            return (
                token.lower_name in ("url", "src")
                and len(args) == 1
                and args[0].type == "string"
                and str(args[0].value).strip().startswith("#")
            )
        return all(_token_is_safe(a) for a in token.arguments)
    if token.type.endswith("block"):
        return all(_token_is_safe(t) for t in token.content)
    return True


def expanded_size(root: Any, ceiling: int) -> int | None:
    """Return how many elements the drawing has once every <use> is expanded, capped past
    `ceiling`; None when a <use> refers to itself or an ancestor.

    Each element is visited once (the count of a shared target is remembered), so the work is
    linear in the file's size however far the references fan out.
    """
    ids: dict[str, Any] = {}
    for element in root.iter("{*}*"):
        if (key := element.get("id")) is not None:
            ids.setdefault(key, element)
    sizes: dict[Any, int] = {}
    visiting: dict[Any, list[Any]] = {}  # the elements being counted, with what they hold
    stack = [root]
    while stack:
        element = stack[-1]
        if element in sizes:
            stack.pop()
        elif element not in visiting:
            visiting[element] = following = _successors(element, ids)
            for successor in following:
                if successor in visiting:
                    return None
                if successor not in sizes:
                    stack.append(successor)
        else:
            stack.pop()
            following = visiting.pop(element)
            sizes[element] = min(ceiling + 1, 1 + sum(sizes[s] for s in following))
    return sizes[root]


def _successors(element: Any, ids: dict[str, Any]) -> list[Any]:
    following = [child for child in element if isinstance(child.tag, str)]
    if element.tag == USE:
        href = element.get("href") or element.get(f"{{{XLINK}}}href") or ""
        if href.startswith("#") and (target := ids.get(href[1:])) is not None:
            following.append(target)
    return following


def _remove(node: Any) -> None:
    """Remove a node but keep the text that follows it."""
    parent, tail = node.getparent(), node.tail
    if tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _name(element: Any) -> str:
    _, local = _split(element.tag)
    return f"{element.prefix}:{local}" if element.prefix else local
