"""An Arabic book reads right to left in both editions, in Arabic throughout."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from lxml import etree

from bookbuild.cli import main
from tests.validators import run_epubcheck

ARABIC = Path(__file__).parent / "data" / "locales" / "ar"
XHTML = "{http://www.w3.org/1999/xhtml}"
OPF = {"opf": "http://www.idpf.org/2007/opf"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("ar") / "dist"
    err = io.StringIO()
    assert main(["build", str(ARABIC), "--out", str(out)], stdout=io.StringIO(), stderr=err) == 0
    assert err.getvalue() == ""
    return out / "book.pdf", out / "book.epub"


def test_every_epub_document_is_right_to_left(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as archive:
        names = [n for n in archive.namelist() if n.endswith(".xhtml")]
        roots = {n: etree.fromstring(archive.read(n)) for n in names}
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    assert len(roots) >= 6
    assert {n: r.get("dir") for n, r in roots.items()} == dict.fromkeys(names, "rtl")
    assert opf.xpath("//opf:spine/@page-progression-direction", namespaces=OPF) == ["rtl"]


def test_the_epub_speaks_arabic(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
        chronology = etree.fromstring(archive.read("EPUB/chronology.xhtml"))
    assert nav.findtext(f".//{XHTML}h1") == "المحتويات"
    landmarks = [a.text for a in nav.iter(f"{XHTML}a") if a.get("href") == "title.xhtml"]
    assert landmarks == ["صفحة العنوان"]
    heads = [th.text for th in chronology.iter(f"{XHTML}th")]
    assert heads == ["التاريخ", "الحدث"]
    dates = [td.text for td in chronology.iter(f"{XHTML}td") if td.get("class") == "chrono-date"]
    assert dates == ["25 مايو 1203", "حوالي\u00a01230", "شتاء\u00a01324"]


def test_the_pdf_is_mirrored_and_arabic(built: tuple[Path, Path]) -> None:
    reader = pypdf.PdfReader(built[0])
    texts = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert all("الصفحة" in t for t in texts[1:])  # the running foot
    assert any("مسرد من مصطلحين" in t for t in texts[-3:])  # the colophon's dual, before the index
    with pdfplumber.open(built[0]) as pdf:
        page = pdf.pages[2]
        head = [w for w in page.extract_words() if w["top"] < 60]
        # The book's title, on the left in a left-to-right book, heads the right of the page.
        assert head and min(w["x0"] for w in head) > page.width / 2


def test_the_arabic_epub_passes_epubcheck(built: tuple[Path, Path]) -> None:
    code, report = run_epubcheck(built[1])
    assert code == 0, report
