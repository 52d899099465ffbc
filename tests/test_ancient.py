"""Dates before the common era, end to end: the `ancient` fixture read back from PDF and EPUB."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pdfplumber
import pytest
from lxml import etree

from bookbuild.assets import default_styles_dir
from bookbuild.chronology import extract_chronology
from bookbuild.manuscript import load_manuscript
from bookbuild.pipeline import BuildResult, build
from bookbuild.render import create_environment, render_epub_pages
from tests.conftest import DATA, output
from tests.validators import run_epubcheck

ANCIENT = DATA / "ancient"
XHTML = {"x": "http://www.w3.org/1999/xhtml"}
SVG = {"s": "http://www.w3.org/2000/svg"}
# The chronology in time order, as a reader should see it (no-break spaces folded).
CHRONOLOGY = [
    ("c. 500 BCE", "The Temple of Saturn is dedicated"),
    ("499–400 BCE", "The Conflict of the Orders"),
    ("July 100 BCE", "Caesar is born"),
    ("10 January 49 BCE", "Caesar crosses the Rubicon"),
    ("15 March 44 BCE", "Caesar is assassinated"),
    ("2 September 31 BCE", "The battle of Actium"),
    ("27 BCE – 14 CE", "The principate of Augustus"),
    ("19 August 14", "Augustus dies"),
]


def fold(text: str) -> str:
    # No-break spaces read as spaces; the soft hyphens the EPUB puts in table cells read as nothing.
    return " ".join(text.replace("\u00a0", " ").replace("\u00ad", "").split())


@pytest.fixture(scope="module")
def ancient_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(ANCIENT, tmp_path_factory.mktemp("ancient"), ("pdf", "epub", "html"))


def test_builds_without_diagnostics(ancient_build: BuildResult) -> None:
    assert ancient_build.diagnostics == ()
    assert {p.suffix for p in ancient_build.outputs} >= {".pdf", ".epub"}


def test_pdf_chronology_reads_in_time_order(ancient_build: BuildResult) -> None:
    with pdfplumber.open(output(ancient_build, ".pdf")) as pdf:
        page = next(p for p in pdf.pages if "Date Event Page" in (p.extract_text() or ""))
        words = page.extract_words()
    top = next(w["top"] for w in words if w["text"] == "Date")
    header = {w["text"]: w for w in words if w["top"] == top}
    lines: dict[int, list[dict[str, object]]] = {}
    for word in words:
        if word["top"] > header["Date"]["bottom"]:
            lines.setdefault(round(word["top"]), []).append(word)
    rows = []
    for line in lines.values():
        date = [w["text"] for w in line if w["x0"] < header["Event"]["x0"]]
        title = [w["text"] for w in line if header["Event"]["x0"] <= w["x0"] < header["Page"]["x0"]]
        if date:
            rows.append((fold(" ".join(date)), fold(" ".join(title))))
    assert rows[: len(CHRONOLOGY)] == CHRONOLOGY


def test_epub_chronology_reads_in_time_order(ancient_build: BuildResult) -> None:
    with zipfile.ZipFile(output(ancient_build, ".epub")) as epub:
        tree = etree.fromstring(epub.read("EPUB/chronology.xhtml"))
    rows = [
        tuple(fold("".join(cell.itertext())) for cell in row.xpath("x:td", namespaces=XHTML)[:2])
        for row in tree.xpath("//x:tbody/x:tr", namespaces=XHTML)
    ]
    assert rows == CHRONOLOGY


def test_pdf_chapter_openers_and_contents_show_the_eras(ancient_build: BuildResult) -> None:
    with pdfplumber.open(output(ancient_build, ".pdf")) as pdf:
        texts = [fold(p.extract_text() or "") for p in pdf.pages]
    assert "509–101 BCE The early Republic" in texts[1]  # the contents
    assert "509–101 BCE The early Republic Rome’s first temples" in texts[2]
    assert "100–44 BCE The last generation Gaius Julius Caesar" in texts[3]
    assert "43 BCE – 14 CE Augustus Octavian" in texts[4]


def test_epub_passes_epubcheck(ancient_build: BuildResult) -> None:
    code, report = run_epubcheck(output(ancient_build, ".epub"))
    assert code == 0, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings / 0 infos" in report, report


def test_timeline_places_eras_in_order_with_bce_labels(ancient_build: BuildResult) -> None:
    svg_path = next(p for p in ancient_build.outputs if p.name == "timeline.svg")
    svg = etree.parse(str(svg_path))
    assert fold(svg.findtext("s:title", namespaces=SVG) or "").startswith(
        "Timeline from 509 BCE to 14 CE: 3 eras"
    )
    bars = [float(x) for x in svg.xpath("//s:rect[@class='era']/@x", namespaces=SVG)]
    widths = [float(w) for w in svg.xpath("//s:rect[@class='era']/@width", namespaces=SVG)]
    assert bars == sorted(bars) and all(w > 0 for w in widths)
    # 409 years of the Republic take most of the bar; Caesar's 57 and Augustus's 57 the rest.
    assert widths[0] > 3 * widths[1] and abs(widths[1] - widths[2]) < 0.1 * widths[1]
    labels = [fold(t) for t in svg.xpath("//s:text/text()", namespaces=SVG) if "E" in t]
    assert labels == ["509 BCE", "100 BCE", "43 BCE", "14 CE"]
    marks = sorted(float(x) for x in svg.xpath("//s:circle/@cx", namespaces=SVG))
    assert len(marks) == 8 and bars[1] <= marks[3] < bars[2]  # the Rubicon is in era 2


def test_era_notation_bc_words_every_date_with_bc_and_ad(tmp_path: Path) -> None:
    root = tmp_path / "bc"
    shutil.copytree(ANCIENT, root)
    with (root / "book.yaml").open("a") as book_yaml:
        book_yaml.write("era-notation: BC\n")
    book, _ = load_manuscript(root)
    pages = render_epub_pages(
        book, extract_chronology(book), create_environment(default_styles_dir())
    )
    chronology = next(p for p in pages if p.kind == "chronology")
    tree = etree.fromstring(chronology.xhtml)
    dates = [
        fold("".join(td.itertext()))
        for td in tree.xpath("//x:tbody/x:tr/x:td[1]", namespaces=XHTML)
    ]
    assert dates[4] == "15 March 44 BC"
    assert dates[6] == "27 BC – AD 14"
    assert "BCE" not in " ".join(dates)
    opener = next(p for p in pages if p.file == "augustus.xhtml")
    assert "43 BC – AD 14" in fold(opener.xhtml.decode())
