"""Navigation for every kind of reader: the NCX page list, landmarks, file-as, heading groups."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from bookbuild.epub import file_as
from bookbuild.ncx import read_spine
from bookbuild.pipeline import BuildResult, build
from bookbuild.smallscreen import fit_to_small_screens
from tests.conftest import FIXTURE, output

NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def member(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as zf:
        return etree.fromstring(zf.read(f"EPUB/{name}"))


def ncx_meta(ncx: etree._Element, name: str) -> str:
    return str(ncx.xpath(f"string(//ncx:head/ncx:meta[@name='{name}']/@content)", namespaces=NS))


def test_the_ncx_carries_the_nav_page_list(briefing_build: BuildResult) -> None:
    epub = output(briefing_build, ".epub")
    nav, ncx = member(epub, "nav.xhtml"), member(epub, "toc.ncx")
    links = nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NS)
    targets = ncx.xpath("//ncx:pageList/ncx:pageTarget", namespaces=NS)
    assert len(links) >= 30
    assert [(a.text, a.get("href")) for a in links] == [
        (
            t.xpath("string(ncx:navLabel/ncx:text)", namespaces=NS),
            t.xpath("string(ncx:content/@src)", namespaces=NS),
        )
        for t in targets
    ]
    assert all(t.get("type") == "normal" and t.get("value") == t[0][0].text for t in targets)
    assert ncx_meta(ncx, "dtb:totalPageCount") == str(len(targets))
    assert ncx_meta(ncx, "dtb:maxPageNumber") == str(max(int(a.text) for a in links))
    assert ncx_meta(ncx, "dtb:depth") == "1"


def test_the_ncx_play_order_follows_the_reading_order(briefing_build: BuildResult) -> None:
    epub = output(briefing_build, ".epub")
    ncx = member(epub, "toc.ncx")
    with zipfile.ZipFile(epub) as zf:
        spine = read_spine(zf.read("EPUB/content.opf"))
    points = ncx.xpath("//ncx:navPoint | //ncx:pageTarget", namespaces=NS)

    def place(point: etree._Element) -> tuple[int, int]:
        file, _, fragment = point.xpath("string(ncx:content/@src)", namespaces=NS).partition("#")
        return spine.index(file), int(point.get("value")) if fragment else -1

    by_order = sorted(points, key=lambda p: int(p.get("playOrder")))
    assert [place(p) for p in by_order] == sorted(place(p) for p in points)
    assert len({p.get("playOrder") for p in points}) == len(points)


def test_an_epub_without_a_pdf_has_no_page_list_and_says_so(tmp_path: Path) -> None:
    epub = output(build(FIXTURE, tmp_path, ("epub",)), ".epub")
    ncx = member(epub, "toc.ncx")
    assert ncx.xpath("//ncx:pageList", namespaces=NS) == []
    assert ncx_meta(ncx, "dtb:totalPageCount") == "0"
    assert ncx_meta(ncx, "dtb:depth") == "1"


def test_reading_starts_at_the_first_chapter_the_author_wrote(briefing_build: BuildResult) -> None:
    epub = output(briefing_build, ".epub")
    nav, opf = member(epub, "nav.xhtml"), member(epub, "content.opf")
    (start,) = nav.xpath(
        "//x:nav[@epub:type='landmarks']//x:a[@epub:type='bodymatter']/@href", namespaces=NS
    )
    assert start == "overview.xhtml"
    (text,) = opf.xpath("//opf:guide/opf:reference[@type='text']/@href", namespaces=NS)
    assert text == "overview.xhtml"


def test_authors_are_filed_by_surname(fixture_build: BuildResult) -> None:
    opf = member(output(fixture_build, ".epub"), "content.opf")
    (creator,) = opf.xpath("//dc:creator", namespaces=NS)
    refines = f"#{creator.get('id')}"
    meta = {
        m.get("property"): m.text
        for m in opf.xpath(f"//opf:meta[@refines='{refines}']", namespaces=NS)
    }
    assert meta == {"file-as": "Author, Fixture", "role": "aut"}


@pytest.mark.parametrize(
    ("name", "sort"),
    [
        ("Miranda Vickers", "Vickers, Miranda"),
        ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
        ("Martin Luther King Jr.", "King, Martin Luther, Jr."),
        ("Vickers, Miranda", "Vickers, Miranda"),
        ("Plato", "Plato"),
        ("bookbuild editorial team", "bookbuild editorial team"),
    ],
)
def test_file_as(name: str, sort: str) -> None:
    assert file_as(name) == sort


def test_each_chapter_opens_with_its_title_then_its_era(briefing_build: BuildResult) -> None:
    """Converters that break the page before every h1 keep the era line with its title."""
    epub = output(briefing_build, ".epub")
    with zipfile.ZipFile(epub) as zf:
        names = [n for n in zf.namelist() if n.endswith(".xhtml")]
        heads = [etree.fromstring(zf.read(n)).find(".//x:header", NS) for n in names]
    heads = [h for h in heads if h is not None]
    eras = [h for h in heads if h.find("x:p[@class='chapter-era']", NS) is not None]
    assert len(eras) == 6
    for head in heads:
        children = [etree.QName(c).localname + "." + (c.get("class") or "") for c in head]
        assert children[0] == "h1.chapter-title"
        assert children[1:] in (
            [],
            ["p.chapter-era"],
            ["p.chapter-summary"],
            ["p.chapter-era", "p.chapter-summary"],
        )
    for head in eras:  # each starts a PDF page, and the page starts with the heading group
        title, era = head.find("x:h1", NS), head.find("x:p[@class='chapter-era']", NS)
        assert title[0].get(f"{{{NS['epub']}}}type") == "pagebreak" and not title.text
        assert era.find("x:span", NS) is None and era.text


def test_small_screens_loosen_month_year_ties_and_hyphenate_cells_only_in_the_epub(
    fixture_build: BuildResult,
) -> None:
    page = (
        '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
        "<p>On 25\u00a0May\u00a01959, p.\u00a012, c.\u00a01950</p>"
        "<table><tr><td>agricultural supplier</td><td></td></tr></table></body></html>"
    )
    fitted = fit_to_small_screens(page.encode(), "en").decode()
    assert fit_to_small_screens(page.encode(), "en").decode() == fitted  # a cache hit, the same
    assert "25\u00a0May 1959, p.\u00a012, c.\u00a01950" in fitted
    (cell,) = [c for c in re.findall("<td>([^<]+)</td>", fitted)]
    assert cell.replace("\u00ad", "") == "agricultural supplier"
    assert [word.count("\u00ad") > 0 for word in cell.split()] == [True, True]
    assert not re.search("(^|[ \u00ad])[a-z]{1,2}\u00ad", cell)  # three letters before a break
    assert "<td></td>" in fitted  # an empty cell stays an open and a close tag
    (html,) = [p for p in fixture_build.outputs if p.name.endswith(".html")]
    assert "May\u00a01370" in html.read_text(encoding="utf-8")  # print keeps its ties


def test_the_pdf_keeps_the_era_above_the_chapter_title(briefing_build: BuildResult) -> None:
    import pdfplumber

    with pdfplumber.open(output(briefing_build, ".pdf")) as pdf:
        for page in pdf.pages:
            words = page.extract_words()
            title = [w for w in words if w["text"] == "rift" and w["bottom"] - w["top"] > 15]
            if title:  # the chapter opener, not the contents
                era = next(w for w in words if w["text"] == "1956–1961")
                assert era["bottom"] <= title[0]["top"]
                return
    raise AssertionError("no page opens 'The rift'")


def test_the_timeline_has_an_opaque_ground_and_a_generic_font(briefing_build: BuildResult) -> None:
    with zipfile.ZipFile(output(briefing_build, ".epub")) as zf:
        svg = etree.fromstring(zf.read("EPUB/timeline.svg"))
    left, top, width, height = (float(v) for v in svg.get("viewBox").split())
    ground = svg.find("{http://www.w3.org/2000/svg}rect")
    assert (float(ground.get("x")), float(ground.get("y"))) == (left, top)
    assert (float(ground.get("width")), float(ground.get("height"))) == (width, height)
    assert ground.get("fill") == "#fff"
    fonts = {t.get("font-family") for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert fonts and all(f.split(",")[-1].strip() == "sans-serif" for f in fonts)
