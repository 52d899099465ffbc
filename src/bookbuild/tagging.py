"""Tag the PDF as one document: a structure tree built from WeasyPrint's layout, not per page.

WeasyPrint 70 tags each page on its own (a paragraph cut by a page break becomes two), puts
running heads and leaders in the reading order and leaves link annotations outside Link
elements. This stage replaces its tagger while the PDF is written: page furniture, leaders,
repeated table headers and decorative images are painted as artifacts, and every painted text
run is attached to the structure element of the HTML element it came from, whatever its page.

Every read of WeasyPrint's private attributes (boxes, `Stream._tags`, the module function
`weasyprint.pdf.add_tags`) is in this module; tests/test_tagging.py names the pinned version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydyf
import weasyprint
import weasyprint.pdf
from fontTools.misc.roundTools import otRound
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.pdf.stream import Stream

# The WeasyPrint release whose internals this module reads.
PINNED_WEASYPRINT = "70.0"

SVG_ROOT = "{http://www.w3.org/2000/svg}svg"

# HTML element → PDF 1.7 standard structure type, for elements that need no special handling.
ROLES = {
    "section": "Sect",
    "nav": "Sect",
    "aside": "Sect",
    "main": "Part",
    "article": "Art",
    "div": "Div",
    "header": "Div",
    "footer": "Div",
    "figure": "Div",
    "address": "Div",
    "details": "Div",
    "summary": "P",
    "p": "P",
    "pre": "P",
    "blockquote": "BlockQuote",
    "h1": "H1",
    "h2": "H2",
    "h3": "H3",
    "h4": "H4",
    "h5": "H5",
    "h6": "H6",
    "ul": "L",
    "ol": "L",
    "dl": "L",
    "table": "Table",
    "caption": "Caption",
    "figcaption": "Caption",
    "thead": "THead",
    "tbody": "TBody",
    "tfoot": "TFoot",
    "tr": "TR",
    "th": "TH",
    "td": "TD",
    "img": "Figure",
    SVG_ROOT: "Figure",
    "code": "Code",
    "kbd": "Code",
    "samp": "Code",
    "q": "Quote",
}
BLOCK_DEFAULT = "Div"
# Structure types a Note is placed beside, never inside: inline text, lists and tables, whose
# children have fixed types.
NO_NOTE_INSIDE = (
    "Span",
    "Link",
    "Reference",
    "Code",
    "Quote",
    "Lbl",
    "LBody",
    "LI",
    "L",
    "TD",
    "TH",
    "TR",
    "THead",
    "TBody",
    "TFoot",
    "Table",
    "Caption",
)
# Elements kept even when they hold no content: a table's grid needs every cell.
KEEP_EMPTY = ("TH", "TD", "TR", "THead", "TBody", "TFoot", "Table")
INLINE_DEFAULT = "Span"
# Annotation flag bit 3: print the annotation (PDF 32000-1, table 165).
PRINT_FLAG = 4


class TaggingError(RuntimeError):
    """WeasyPrint's internals differ from the ones this module was written for."""


N = TypeVar("N")


@dataclass(eq=False)
class Node:
    """One structure element; kids are nodes, (page, mcid) pairs or (page, annotation)."""

    role: str
    parent: Node | None
    element: Any = None
    kids: list[Any] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    body: Node | None = None  # where an LI's content goes: its LBody
    reference: Any = None

    def add(self, kid: N) -> N:
        self.kids.append(kid)
        return kid


@dataclass(frozen=True, slots=True)
class Mark:
    page: int
    mcid: int


@dataclass(frozen=True, slots=True)
class Annotation:
    page: int
    dictionary: Any


@dataclass
class TagReport:
    """What the tagger did, for tests and the build's own checks."""

    artifacts: dict[str, int] = field(default_factory=dict)
    orphans: int = 0


def check_version() -> None:
    """Raise TaggingError unless WeasyPrint is of the major release this module reads.

    pyproject.toml pins WeasyPrint below 71, so this only fails on a broken install; the
    exact pin is checked by tests/test_tagging.py.
    """
    if weasyprint.__version__.split(".")[0] != PINNED_WEASYPRINT.split(".")[0]:
        raise TaggingError(
            f"bookbuild's tagger reads WeasyPrint {PINNED_WEASYPRINT} internals, "
            f"found WeasyPrint {weasyprint.__version__}"
        )


@contextmanager
def document_tags(
    document: Any, variant: str = "pdf/ua-1", report: TagReport | None = None
) -> Iterator[TagReport]:
    """Within this block, write_pdf writes the PDF the profiles ask for.

    It paints page furniture as artifacts, tags the whole document at once, writes each
    font's glyph widths from its embedded program and the XMP metadata unfiltered.
    """
    check_version()
    report = report or TagReport()
    kinds = artifact_kinds(document)
    original_marked = Stream.marked
    original_add_tags = weasyprint.pdf.add_tags
    original_add_font = Stream.add_font
    original_fonts = weasyprint.pdf.build_fonts_dictionary
    metadata = document.metadata
    original_include = metadata.include_in_pdf

    def add_font(self: Any, pango_font: Any) -> Any:
        font, size = original_add_font(self, pango_font)
        if not font.bitmap and not isinstance(font.widths, ProgramWidths):
            font.widths = ProgramWidths(font, font.widths)
        return font, size

    def include_in_pdf(
        pdf: Any, kind: str, version: Any, conformance: Any, compress: bool = False
    ) -> None:
        write_metadata(metadata, pdf, kind, version, conformance, variant)

    @contextmanager
    def marked(self: Any, box: Any, tag: str) -> Iterator[None]:
        kind = kinds.get(id(box))
        if kind is None and self._tags is not None and (word := _unhyphenated(box)):
            # A hyphen the layout added reads as nothing: the word's two parts join up.
            mcid = len(self._tags)
            self._tags[box] = {"tag": tag, "mcid": mcid}
            properties = pydyf.Dictionary({"MCID": mcid, "ActualText": pydyf.String(word)})
            pydyf.Stream.begin_marked_content(self, tag, properties)
            try:
                yield
            finally:
                pydyf.Stream.end_marked_content(self)
            return
        if kind is None or self._tags is None:
            with original_marked(self, box, tag):
                yield
            return
        report.artifacts[kind[0]] = report.artifacts.get(kind[0], 0) + 1
        properties = {"Type": f"/{kind[0]}"}
        if kind[1]:
            properties["Subtype"] = f"/{kind[1]}"
        pydyf.Stream.begin_marked_content(self, "Artifact", pydyf.Dictionary(properties))
        try:
            yield
        finally:
            pydyf.Stream.end_marked_content(self)

    def build_fonts_dictionary(pdf: Any, fonts: Any, *args: Any) -> Any:
        for font in fonts.values():
            if isinstance(font.widths, ProgramWidths):
                font.widths.frozen = True
        return original_fonts(pdf, fonts, *args)

    def add_tags(pdf: Any, document: Any, pdf_version: Any, page_streams: Any) -> None:
        report.orphans = build_tree(pdf, document, page_streams)

    Stream.marked = marked
    Stream.add_font = add_font
    pydyf.Stream.data = property(_stream_data)
    weasyprint.pdf.add_tags = add_tags
    weasyprint.pdf.build_fonts_dictionary = build_fonts_dictionary
    metadata.include_in_pdf = include_in_pdf
    try:
        yield report
    finally:
        Stream.marked = original_marked
        pydyf.Stream.data = _PYDYF_DATA
        Stream.add_font = original_add_font
        weasyprint.pdf.add_tags = original_add_tags
        weasyprint.pdf.build_fonts_dictionary = original_fonts
        metadata.include_in_pdf = original_include


_PYDYF_DATA = pydyf.Stream.data


def _stream_data(stream: Any) -> bytes:
    """Return pydyf's bytes for a stream, unambiguous when its data ends in a carriage return.

    pydyf ends every stream's data with LF before `endstream`; data whose last byte is CR
    then looks like it ends in a CRLF marker, one byte short of /Length (PDF/A-3 6.1.7.1).
    """
    data = bytes(_PYDYF_DATA.fget(stream))
    if data.endswith(b"\r\nendstream"):
        data = data[: -len(b"\nendstream")] + b"\r\nendstream"
    return data


def _unhyphenated(box: Any) -> str | None:
    """Return a text box's text without the hyphen the layout added at its end, if it did."""
    if not isinstance(box, boxes.TextBox):
        return None
    hyphen = box.style["hyphenate_character"]
    if not hyphen or not box.text.endswith(hyphen) or box.style["hyphens"] == "none":
        return None
    if box.element is not None and hyphen in "".join(box.element.itertext()):
        return None  # the manuscript wrote this character itself
    return str(box.text[: -len(hyphen)])


# ---------------------------------------------------------------------------------------------
# Glyph widths and metadata.


class ProgramWidths(dict[int, float]):
    """A font's glyph widths, read from the font program WeasyPrint will embed.

    WeasyPrint 70 measures glyphs with Pango, which uses a variable font's default instance,
    and then embeds an instance at the face's weight; /W then disagrees with the program
    (PDF/UA-1 and PDF/A-3a refuse that). draw_text asks `glyph in font.widths` before it
    measures; answering with the embedded instance's advance makes it write /W from the
    program and put the difference from Pango's advance into the TJ adjustments, so every
    glyph stays where Pango placed it.
    """

    def __init__(self, font: Any, given: dict[int, float]) -> None:
        super().__init__(given)
        self.glyphs = _glyph_set(font)
        # Frozen once painting is over: /W is then written from the glyphs drawn, no others.
        self.frozen = False

    def __contains__(self, glyph: object) -> bool:
        if not self.frozen and not dict.__contains__(self, glyph) and isinstance(glyph, int):
            advance = self.glyphs.get(glyph)
            if advance is not None:
                self[glyph] = advance
        return dict.__contains__(self, glyph)


_GLYPH_SETS: dict[tuple[int, int, tuple[tuple[str, float], ...]], dict[int, float]] = {}


class _Advances(dict[int, float]):
    """Advances (1/1000 em) of one font program at one design location, read on demand.

    A variable font's advances come from its HVAR table when it has one (cheap: no outlines
    are read), else from its glyph outlines at that location.
    """

    def __init__(self, ttfont: Any, location: dict[str, float]) -> None:
        super().__init__()
        self.order = ttfont.getGlyphOrder()
        self.scale = 1000 / ttfont["head"].unitsPerEm
        self.metrics = ttfont["hmtx"].metrics
        self.deltas: Any = None
        self.set: Any = None
        self.mapping: Any = None
        if location and "HVAR" in ttfont:
            from fontTools.varLib.models import normalizeLocation, piecewiseLinearMap
            from fontTools.varLib.varStore import VarStoreInstancer

            axes = ttfont["fvar"].axes
            normal = normalizeLocation(
                location, {a.axisTag: (a.minValue, a.defaultValue, a.maxValue) for a in axes}
            )
            if "avar" in ttfont:
                segments = ttfont["avar"].segments
                normal = {k: piecewiseLinearMap(v, segments.get(k, {})) for k, v in normal.items()}
            table = ttfont["HVAR"].table
            self.deltas = VarStoreInstancer(table.VarStore, axes, normal)
            self.mapping = table.AdvWidthMap.mapping if table.AdvWidthMap else None
        elif location:
            self.set = ttfont.getGlyphSet(location=location)

    def get(self, glyph: int, default: Any = None) -> Any:
        if not dict.__contains__(self, glyph):
            if glyph >= len(self.order):
                return default
            name = self.order[glyph]
            if self.deltas is not None:
                index = self.mapping[name] if self.mapping is not None else glyph
                width = self.metrics[name][0] + self.deltas[index]
            elif self.set is not None:
                width = self.set[name].width
            else:
                width = self.metrics[name][0]
            # otRound, as fontTools' instancer rounds the advances it embeds.
            self[glyph] = otRound(width) * self.scale
        return dict.__getitem__(self, glyph)


def _glyph_set(font: Any) -> Any:
    """Return the advances of the instance WeasyPrint's Font.clean will embed."""
    import io

    from fontTools.ttLib import TTFont

    content = font.file_content
    key_base = (hash(content), font.index)
    cache = _TTFONTS.get(key_base)
    if cache is None:
        cache = _TTFONTS[key_base] = TTFont(io.BytesIO(content), fontNumber=font.index)
    ttfont = cache
    location: dict[str, float] = {}
    if "fvar" in ttfont:
        axes = {axis.axisTag: axis for axis in ttfont["fvar"].axes}
        location = {k: v for k, v in font.variations.items() if k in axes}
        # The same defaults as Font.clean, which instantiates the embedded font.
        if "wght" in axes and "wght" not in location:
            location["wght"] = font.weight
        if "opsz" in axes and "opsz" not in location:
            location["opsz"] = font.font_size
        if "slnt" in axes and "slnt" not in location:
            slnt = axes["slnt"]
            location["slnt"] = (
                0 if font.style != 1 else slnt.minValue if slnt.maxValue == 0 else slnt.maxValue
            )
        if "ital" in axes and "ital" not in location:
            location["ital"] = int(font.style == 2)
    key = (*key_base, tuple(sorted(location.items())))
    if key not in _GLYPH_SETS:
        _GLYPH_SETS[key] = _Advances(ttfont, location)
    return _GLYPH_SETS[key]


_TTFONTS: dict[tuple[int, int], Any] = {}

# PDF/A accepts the PDF/UA identification only with an extension schema that declares it.
UA_IDENTIFICATION = b"".join(
    (
        b'<rdf:Description rdf:about=""',
        b' xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="1"/>\n',
        b'<rdf:Description rdf:about=""',
        b' xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"',
        b' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"',
        b' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">',
        b'<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">\n',
        b"<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\n",
        b"<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\n",
        b"<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\n",
        b'<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\n',
        b"<pdfaProperty:name>part</pdfaProperty:name>\n",
        b"<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\n",
        b"<pdfaProperty:category>internal</pdfaProperty:category>\n",
        b"<pdfaProperty:description>Indicates which part of ISO 14289 the file conforms to"
        b"</pdfaProperty:description>\n",
        b"</rdf:li></rdf:Seq></pdfaSchema:property>\n",
        b"</rdf:li></rdf:Bag></pdfaExtension:schemas>\n",
        b"</rdf:Description>\n",
    )
)


def write_metadata(
    metadata: Any, pdf: Any, kind: str, version: Any, conformance: Any, variant: str
) -> None:
    """Add the XMP stream unfiltered (ISO 19005-3 6.6.2.1); PDF/A-3a and PDF/X-4 declare UA-1."""
    header = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    header += b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    footer = b'</x:xmpmeta>\n<?xpacket end="r"?>'
    rdf = metadata.generate_rdf_metadata(kind, version, conformance)
    # Not PDF/X-3: WeasyPrint writes PDF 1.4 fonts a CIDSet that PDF/UA's check finds short.
    if variant in ("pdf/a-3a", "pdf/x-4") and b"pdfuaid" not in rdf:
        rdf = rdf.replace(b"</rdf:RDF>", UA_IDENTIFICATION + b"</rdf:RDF>", 1)
    content = b"\n".join((header, rdf, *metadata.xmp_metadata, footer))
    stream = pydyf.Stream([content], {"Type": "/Metadata", "Subtype": "/XML"}, compress=False)
    pdf.add_object(stream)
    pdf.catalog["Metadata"] = stream.reference


# ---------------------------------------------------------------------------------------------
# Artifacts: decided before painting, since painting assigns the marked-content ids.


def artifact_kinds(document: Any) -> dict[int, tuple[str, str | None, Any]]:
    """Map id(box) of each painted box that is page furniture to its artifact type."""
    kinds: dict[int, tuple[str, str | None, Any]] = {}
    seen_groups: set[int] = set()
    for page in document.pages:
        page_groups: set[int] = set()
        for child in page._page_box.children:
            if isinstance(child, boxes.MarginBox):
                edge: str | None = "Header" if child.at_keyword.startswith("@top") else "Footer"
                if child.at_keyword.startswith(("@left", "@right")):
                    edge = None
                _mark_painted(child, ("Pagination", edge), kinds)
            else:
                _find_furniture(child, kinds, seen_groups, page_groups)
        seen_groups |= page_groups
    return kinds


def _mark_painted(box: Any, kind: tuple[str, str | None], kinds: dict[int, Any]) -> None:
    for painted in _painted(box):
        kinds[id(painted)] = (*kind, painted)  # keep the box alive while its id is a key


def _painted(box: Any) -> Iterator[Any]:
    if isinstance(box, AbsolutePlaceholder):
        box = box._box
    if isinstance(box, boxes.TextBox | boxes.ReplacedBox):
        yield box
    for child in getattr(box, "children", ()):
        yield from _painted(child)


def _find_furniture(
    box: Any, kinds: dict[int, Any], seen_groups: set[int], page_groups: set[int]
) -> None:
    placed = isinstance(box, AbsolutePlaceholder)
    if placed:
        box = box._box
    element = box.element
    if box.is_leader:
        _mark_painted(box, ("Layout", None), kinds)
        return
    if placed and box.element_tag.endswith("::marker"):
        # An outside marker is painted after the page's flow; its Lbl says it as ActualText.
        _mark_painted(box, ("Layout", None), kinds)
        return
    if element is not None and _is_decorative(box):
        _mark_painted(box, ("Layout", None), kinds)
        return
    if isinstance(box, boxes.TableRowGroupBox) and box.element_tag in ("thead", "tfoot"):
        # A header group repeated on a later page is furniture: its cells were read once.
        if id(element) in seen_groups:
            _mark_painted(box, ("Pagination", None), kinds)
            return
        page_groups.add(id(element))
    for child in getattr(box, "children", ()):
        _find_furniture(child, kinds, seen_groups, page_groups)


def _is_decorative(box: Any) -> bool:
    """Return whether the box's element is hidden from assistive technology or purely visual."""
    element = box.element
    if "::" in box.element_tag:
        return False
    if element.get("aria-hidden") == "true" or element.get("role") in ("presentation", "none"):
        return True
    return _tag(box) == "img" and element.get("alt") == ""


# ---------------------------------------------------------------------------------------------
# The structure tree.


def _tag(box: Any) -> str:
    return str(box.element_tag).split("::")[0]


def _pseudo(box: Any) -> str:
    return str(box.element_tag).partition("::")[2]


class TreeBuilder:
    """Walk every page's boxes in order, attaching marked content to one node per element."""

    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf
        self.root = Node("Document", None)
        self.nodes: dict[tuple[int, str], Node] = {}
        self.keep: list[Any] = []  # elements whose id() is a key in self.nodes
        self.notes: dict[int, tuple[Node, Node]] = {}  # footnote element → (parent, reference)
        self.annotations: list[tuple[Node, Annotation]] = []
        self.footnotes: set[int] = set()  # ids of the elements laid out as footnotes
        self.last_flow: dict[int, Node] = {}  # page → node of its last main-flow mark
        self.note_after: dict[int, Node] = {}  # page → the note placed last on it
        self.note_count = 0
        self.in_flow = True
        self.page = 0
        self.tags: dict[Any, Any] = {}

    def walk_page(self, page_box: Any, page: int, tags: dict[Any, Any]) -> None:
        """Attach the marked content of one page."""
        self.page, self.tags = page, tags
        for child in page_box.children:
            self.in_flow = not isinstance(child, boxes.FootnoteAreaBox)
            if not self.in_flow:
                self.footnotes.update(id(note.element) for note in child.children)
            if not isinstance(child, boxes.MarginBox):
                self.walk(child, self.root)

    def walk(self, box: Any, parent: Node) -> None:
        """Attach `box` and its descendants below `parent`."""
        placed = isinstance(box, AbsolutePlaceholder)
        if placed:
            box = box._box
        node = self.node_for(box, parent, placed)
        if box.link_annotation is not None:
            link = self.link_for(node)
            self.annotations.append((link, Annotation(self.page, box.link_annotation)))
            link.add(Annotation(self.page, box.link_annotation))
        if isinstance(box, boxes.TextBox | boxes.ReplacedBox):
            self.attach(box, node)
        for child in getattr(box, "children", ()):
            self.walk(child, node)

    def attach(self, box: Any, node: Node) -> None:
        mark = self.tags.pop(box, None)
        if mark is None:
            return  # painted as an artifact, or not painted
        target = node.body or node
        target.add(Mark(self.page, mark["mcid"]))
        if self.in_flow:
            self.last_flow[self.page] = target
        if isinstance(box, boxes.TextBox):
            # Generated text (a contents line's page number) is a word of its own.
            text = f" {box.text}" if "::" in box.element_tag else box.text
            for holder in self.link_chain(node):
                holder.text.append(text)
        elif alt := (box.element.get("alt") if box.element is not None else None):
            for holder in self.link_chain(node):
                holder.text.append(alt)

    def link_chain(self, node: Node) -> Iterator[Node]:
        current: Node | None = node
        while current is not None:
            if current.role == "Link":
                yield current
            current = current.parent

    def link_for(self, node: Node) -> Node:
        """Return the Link node an annotation on `node` belongs to, making one if needed."""
        for link in self.link_chain(node):
            return link
        return (node.body or node).add(Node("Link", node))

    def node_for(self, box: Any, parent: Node, placed: bool = False) -> Node:
        """Return the node for the box's element, creating it the first time it is seen."""
        element = box.element
        if element is None or isinstance(box, boxes.PageBox):
            return parent
        tag, pseudo = _tag(box), _pseudo(box)
        if tag in ("html", "body") and not pseudo:
            return parent
        if pseudo in ("before", "after"):
            # Generated text reads as part of its element (a link's page number, say).
            pseudo = ""
        key = (id(element), pseudo)
        if key in self.nodes:
            return self.nodes[key]
        if parent.element is element and parent.role not in ("LBody", "Lbl") and not pseudo:
            return parent  # an anonymous box of the same element
        node = self.create(box, tag, pseudo, parent, placed)
        self.nodes[key] = node
        self.keep.append(element)
        return node

    def create(self, box: Any, tag: str, pseudo: str, parent: Node, placed: bool) -> Node:
        element = box.element
        home = parent.body or parent
        if pseudo == "marker":
            if parent.role == "LI":
                label = Node("Lbl", parent, element)
                parent.kids.insert(0, label)
                if placed:
                    label.attributes["ActualText"] = _text(box).strip()
                return label
            return home.add(Node("Span", home, element))
        if pseudo == "footnote-call":
            reference = home.add(Node("Reference", home, element))
            self.notes[id(element)] = (home, reference)
            return reference
        if pseudo == "footnote-marker":
            note = self.nodes.get((id(element), ""))
            return (note or home).add(Node("Lbl", note or home, element))
        if id(element) in self.footnotes or element.get("role") in ("doc-footnote", "doc-endnote"):
            return self.note(box, home)
        if tag == "li":
            return self.list_item(element, home)
        if tag in ("dt", "dd"):
            return self.definition(element, tag, home)
        role = self.role(box, tag)
        node = home.add(Node(role, home, element))
        if role == "Figure":
            self.describe_figure(box, node)
        if role in ("TH", "TD"):
            node.attributes["A"] = {"O": "/Table"}
        if (lang := element.get("lang")) and role not in ("Document",):
            node.attributes["Lang"] = lang
        return node

    def role(self, box: Any, tag: str) -> str:
        element = box.element
        if tag == "a":
            return "Link" if element.get("href") else INLINE_DEFAULT
        if tag in ROLES:
            return ROLES[tag]
        inline = isinstance(box, boxes.InlineLevelBox)
        return INLINE_DEFAULT if inline else BLOCK_DEFAULT

    def definition(self, element: Any, tag: str, home: Node) -> Node:
        """Tag a term as the Lbl of a new LI, and its descriptions as that LI's LBody."""
        last = next((k for k in reversed(home.kids) if isinstance(k, Node)), None)
        if tag == "dt" or last is None or last.role != "LI":
            last = home.add(Node("LI", home, element))
        return last.add(Node("Lbl" if tag == "dt" else "LBody", last, element))

    def list_item(self, element: Any, home: Node) -> Node:
        item = home.add(Node("LI", home, element))
        item.body = item.add(Node("LBody", item, element))
        return item

    def note(self, box: Any, home: Node) -> Node:
        """Place a footnote's Note where it is painted: after the page's last text in the flow.

        The call's own element and the element that ends the page share an ancestor; the note
        goes into it, after the child holding the page's end (and after the page's earlier
        notes), so that reading order stays paint order.
        """
        element = box.element
        reference = self.notes.get(id(element), (home, None))[1]
        last = self.last_flow.get(self.page, reference or home)
        anchor = _lowest_common(reference or home, last)
        while anchor.role in NO_NOTE_INSIDE and anchor.parent is not None:
            anchor = anchor.parent
        after = _child_towards(anchor, last)
        if (previous := self.note_after.get(self.page)) is not None and previous.parent:
            anchor, after = previous.parent, previous
        note = Node("Note", anchor, element)
        self.note_count += 1
        note.attributes["ID"] = element.get("id") or f"note-{self.note_count}"
        if after is not None and after in anchor.kids:
            anchor.kids.insert(anchor.kids.index(after) + 1, note)
        else:
            anchor.add(note)
        self.note_after[self.page] = note
        return note

    def describe_figure(self, box: Any, node: Node) -> None:
        element = box.element
        if element.tag == SVG_ROOT:
            title = element.find("{http://www.w3.org/2000/svg}title")
            alt = title.text if title is not None else None
        else:
            alt = element.get("alt")
        if alt:
            node.attributes["Alt"] = alt
        x1, y1 = box.content_box_x(), box.content_box_y()
        node.attributes["A"] = {
            "O": "/Layout",
            "BBox": [x1, y1, x1 + box.width, y1 + box.height],
        }


def _ancestors(node: Node) -> list[Node]:
    chain = []
    current: Node | None = node
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


def _lowest_common(a: Node, b: Node) -> Node:
    """Return the deepest node that is `a` or an ancestor of it, and `b` or an ancestor of it."""
    theirs = {id(n) for n in _ancestors(b)}
    return next(n for n in _ancestors(a) if id(n) in theirs)


def _child_towards(anchor: Node, node: Node) -> Node | None:
    """Return the child of `anchor` that is `node` or holds it, or None if `node` is anchor."""
    for current in _ancestors(node):
        if current.parent is anchor:
            return current
    return None


def _text(box: Any) -> str:
    return "".join(b.text for b in _painted(box) if isinstance(b, boxes.TextBox))


def build_tree(pdf: Any, document: Any, page_streams: Any) -> int:
    """Write the structure tree into `pdf`; return how many marks were left without an element."""
    builder = TreeBuilder(pdf)
    orphans = 0
    for number, (page, stream) in enumerate(zip(document.pages, page_streams, strict=True)):
        tags = stream._tags
        builder.walk_page(page._page_box, number, tags)
        for mark in tags.values():
            # Painted content the walk did not reach: keep it in the tree, not untagged.
            builder.root.add(Node("Span", builder.root, kids=[Mark(number, mark["mcid"])]))
            orphans += 1
        tags.clear()
    prune(builder.root)
    wrap_mixed(builder.root)
    add_table_headers(builder.root)
    write_tree(pdf, builder, document, page_streams)
    return orphans


def prune(node: Node) -> bool:
    """Drop elements with no content below them; return whether `node` has content."""
    kept = []
    for kid in node.kids:
        if not isinstance(kid, Node) or prune(kid):
            kept.append(kid)
    node.kids = kept
    # An empty cell still holds its place in the table's grid.
    return bool(kept) or node.role in KEEP_EMPTY or "ActualText" in node.attributes


def wrap_mixed(node: Node) -> None:
    """Wrap each run of marks that sits beside child elements in a Span.

    Checkers (outloud among them) read an element's own marks before its children's, so a
    paragraph holding text, then an emphasis, then text would read out of order.
    """
    kids = [kid for kid in node.kids if isinstance(kid, Node)]
    for kid in kids:
        wrap_mixed(kid)
    if not kids or not any(isinstance(kid, Mark) for kid in node.kids):
        return
    wrapped: list[Any] = []
    for kid in node.kids:
        if isinstance(kid, Mark):
            if not (
                wrapped
                and isinstance(wrapped[-1], Node)
                and wrapped[-1].role == "Span"
                and wrapped[-1].element is None
            ):
                wrapped.append(Node("Span", node))
            wrapped[-1].kids.append(kid)
        else:
            wrapped.append(kid)
    node.kids = wrapped


# ---------------------------------------------------------------------------------------------
# Table headers, from the HTML table's grid (so a table cut over pages stays one grid).


def add_table_headers(root: Node) -> None:
    """Give each TH an ID and a Scope, and each TD the IDs of the headers that label it."""
    counter = 0
    for table in _find(root, "Table"):
        cells: dict[int, Node] = {
            id(n.element): n for n in _find(table, "TH", "TD") if n.element is not None
        }
        grid = _grid(table.element)
        headers: dict[tuple[int, int], tuple[str, str]] = {}
        for (row, col), (element, in_head) in grid.items():
            node = cells.get(id(element))
            if node is None or node.role != "TH":
                continue
            scope = _scope(element, in_head, col)
            counter += 1
            node.attributes.setdefault("ID", f"th-{counter}")
            node.attributes["A"]["Scope"] = f"/{scope}"
            headers[(row, col)] = (node.attributes["ID"], scope)
        for (row, col), (element, _) in grid.items():
            node = cells.get(id(element))
            if node is None or node.role != "TD":
                continue
            found = [
                ident
                for (r, c), (ident, scope) in sorted(headers.items())
                if (c == col and r < row and scope in ("Column", "Both"))
                or (r == row and c < col and scope in ("Row", "Both"))
            ]
            if found and "Headers" not in node.attributes["A"]:
                node.attributes["A"]["Headers"] = list(dict.fromkeys(found))
            _spans(element, node)
        for element, _ in grid.values():
            if (node := cells.get(id(element))) is not None and node.role == "TH":
                _spans(element, node)


def _find(node: Node, *roles: str) -> Iterator[Node]:
    for kid in node.kids:
        if isinstance(kid, Node):
            if kid.role in roles:
                yield kid
            yield from _find(kid, *roles)


def _scope(element: Any, in_head: bool, col: int) -> str:
    given = (element.get("scope") or "").lower()
    if given in ("row", "rowgroup"):
        return "Row"
    if given in ("col", "colgroup"):
        return "Column"
    return "Column" if in_head or col > 0 else "Row"


def _spans(element: Any, node: Node) -> None:
    for attribute, key in (("colspan", "ColSpan"), ("rowspan", "RowSpan")):
        span = _span(element, attribute)
        if span != 1:
            node.attributes["A"][key] = span


def _span(element: Any, attribute: str) -> int:
    try:
        return max(1, int(element.get(attribute) or 1))
    except ValueError:
        return 1


def _grid(table: Any) -> dict[tuple[int, int], tuple[Any, bool]]:
    """Return each cell's top-left (row, column) in the HTML table, with whether it's in thead."""
    grid: dict[tuple[int, int], tuple[Any, bool]] = {}
    taken: set[tuple[int, int]] = set()
    for row, (tr, in_head) in enumerate(_rows(table)):
        col = 0
        for cell in tr:
            if _local(cell) not in ("th", "td"):
                continue
            while (row, col) in taken:
                col += 1
            grid[(row, col)] = (cell, in_head)
            for r in range(_span(cell, "rowspan")):
                for c in range(_span(cell, "colspan")):
                    taken.add((row + r, col + c))
            col += _span(cell, "colspan")
    return grid


def _rows(table: Any) -> Iterator[tuple[Any, bool]]:
    for child in table:
        name = _local(child)
        if name == "tr":
            yield child, False
        elif name in ("thead", "tbody", "tfoot"):
            for tr in child:
                if _local(tr) == "tr":
                    yield tr, name == "thead"


def _local(element: Any) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rpartition("}")[2]


# ---------------------------------------------------------------------------------------------
# Writing the tree as PDF objects.


def write_tree(pdf: Any, builder: TreeBuilder, document: Any, page_streams: Any) -> None:
    """Add the StructTreeRoot, its elements and the ParentTree to the PDF catalog."""
    parent_tree = pydyf.Dictionary({})
    pdf.add_object(parent_tree)
    root = pydyf.Dictionary({"Type": "/StructTreeRoot", "ParentTree": parent_tree.reference})
    pdf.add_object(root)
    owners: dict[tuple[int, int], Any] = {}
    ids: dict[str, Any] = {}
    document_element = _write_node(pdf, builder.root, root.reference, owners, ids)
    root["K"] = pydyf.Array([document_element.reference])
    if ids:
        # The IDTree lets readers find TH and Note elements by their ID.
        names = pydyf.Array()
        for ident in sorted(ids):
            names.extend([pydyf.String(ident), ids[ident]])
        root["IDTree"] = pydyf.Dictionary({"Names": names})
    nums = pydyf.Array()
    by_page: dict[int, list[tuple[int, Any]]] = {}
    for (page, mcid), ref in owners.items():
        by_page.setdefault(page, []).append((mcid, ref))
    for number in range(len(document.pages)):
        marks = sorted(by_page.get(number, ()), key=lambda mark: mark[0])
        nums.extend([number, pydyf.Array([ref for _, ref in marks])])
    for index, (link, annotation) in enumerate(builder.annotations, start=len(document.pages)):
        nums.extend([index, link.reference])
        annotation.dictionary["StructParent"] = index
        annotation.dictionary["F"] = PRINT_FLAG
        text = " ".join("".join(link.text).split())
        element = link.element
        label = (element.get("aria-label") or element.get("title")) if element is not None else None
        if label or text:
            annotation.dictionary["Contents"] = pydyf.String(label or text)
    parent_tree["Nums"] = nums
    root["ParentTreeNextKey"] = len(document.pages) + len(builder.annotations)
    pdf.catalog["StructTreeRoot"] = root.reference
    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})
    pdf.catalog["MarkInfo"] = pydyf.Dictionary({"Marked": "true"})
    if "Lang" not in pdf.catalog:
        pdf.catalog["Lang"] = pydyf.String()


def _write_node(
    pdf: Any, node: Node, parent: Any, owners: dict[tuple[int, int], Any], ids: dict[str, Any]
) -> Any:
    element = pydyf.Dictionary({"Type": "/StructElem", "S": f"/{node.role}", "P": parent})
    pdf.add_object(element)
    node.reference = element.reference
    pages = [kid.page for kid in node.kids if isinstance(kid, Mark | Annotation)]
    home = pages[0] if pages else None
    if home is not None:
        element["Pg"] = pdf.page_references[home]
    kids = pydyf.Array()
    for kid in node.kids:
        if isinstance(kid, Node):
            kids.append(_write_node(pdf, kid, element.reference, owners, ids).reference)
        elif isinstance(kid, Mark):
            owners[(kid.page, kid.mcid)] = element.reference
            if kid.page == home:
                kids.append(kid.mcid)
            else:
                kids.append(
                    pydyf.Dictionary(
                        {
                            "Type": "/MCR",
                            "Pg": pdf.page_references[kid.page],
                            "MCID": kid.mcid,
                        }
                    )
                )
        else:
            objr = pydyf.Dictionary(
                {
                    "Type": "/OBJR",
                    "Obj": kid.dictionary.reference,
                    "Pg": pdf.page_references[kid.page],
                }
            )
            pdf.add_object(objr)
            kids.append(objr.reference)
    element["K"] = kids
    for key, value in node.attributes.items():
        if key == "A":
            element["A"] = pydyf.Dictionary({k: _pdf_value(v) for k, v in value.items()})
        elif key == "ID":
            element["ID"] = pydyf.String(value)
            ids[value] = element.reference
        else:
            element[key] = pydyf.String(value)
    return element


def _pdf_value(value: Any) -> Any:
    if isinstance(value, list):
        return pydyf.Array(
            pydyf.String(v) if isinstance(v, str) and not v.startswith("/") else v for v in value
        )
    return value
