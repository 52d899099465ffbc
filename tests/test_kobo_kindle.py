"""Kobo and Kindle: the kepub's sentence spans, and Calibre's Kindle conversion and back."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from bookbuild.cli import main
from bookbuild.pipeline import BuildResult
from tests.conftest import FIXTURE, output
from tests.validators import run_epubcheck

XHTML = "{http://www.w3.org/1999/xhtml}"
SPAN_ID = re.compile(r"kobo\.(\d+)\.(\d+)")


@pytest.fixture(scope="module")
def kobo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the fixture as an EPUB and a kepub through the command line."""
    out = tmp_path_factory.mktemp("kobo")
    argv = ["-q", "build", str(FIXTURE), "--out", str(out), "--format", "epub,kepub"]
    assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    return out


def documents(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.endswith(".xhtml")}


def body_text(xhtml: bytes) -> str:
    body = etree.fromstring(xhtml).find(f"{XHTML}body")
    return "".join(body.itertext())


def unspanned(inner: etree._Element) -> list[str]:
    """Return the text in `inner` that no koboSpan holds."""
    found = []
    for element in inner.iter():
        if element.text and element.text.strip() and element.get("class") != "koboSpan":
            found.append(element.text)
        parent = element.getparent()
        spanned = parent is not None and parent.get("class") == "koboSpan"
        if element is not inner and element.tail and element.tail.strip() and not spanned:
            found.append(element.tail)
    return found


def test_kepub_is_named_for_kobo_and_passes_epubcheck(kobo_build: Path) -> None:
    kepub = kobo_build / "the-salt-roads.kepub.epub"
    assert sorted(p.name for p in kobo_build.iterdir()) == [
        "the-salt-roads.epub",
        "the-salt-roads.kepub.epub",
    ]
    code, report = run_epubcheck(kepub)
    assert code == 0, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings / 0 infos" in report, report


def test_kepub_spans_every_sentence_and_changes_no_text(kobo_build: Path) -> None:
    plain = documents(kobo_build / "the-salt-roads.epub")
    kobo = documents(kobo_build / "the-salt-roads.kepub.epub")
    assert kobo["EPUB/nav.xhtml"] == plain["EPUB/nav.xhtml"]  # Kobo reads its contents as is
    spans = 0
    for name, xhtml in kobo.items():
        if name == "EPUB/nav.xhtml":
            continue
        assert body_text(xhtml) == body_text(plain[name]), name
        root = etree.fromstring(xhtml)
        inner = root.find(
            f"{XHTML}body/{XHTML}div[@id='book-columns']/{XHTML}div[@id='book-inner']"
        )
        assert inner is not None, name
        assert root.find(f"{XHTML}head/{XHTML}style[@id='kobostylehacks']") is not None
        ids = [s.get("id") for s in root.iter(f"{XHTML}span") if s.get("class") == "koboSpan"]
        assert len(ids) == len(set(ids)) and all(SPAN_ID.fullmatch(i) for i in ids), name
        numbers = [tuple(map(int, SPAN_ID.fullmatch(i).groups())) for i in ids]
        assert numbers == sorted(numbers), name  # in reading order
        assert list(unspanned(inner)) == [], name
        spans += len(ids)
    assert spans > 40


def test_kepub_splits_sentences(kobo_build: Path) -> None:
    xhtml = documents(kobo_build / "the-salt-roads.kepub.epub")["EPUB/league.xhtml"]
    root = etree.fromstring(xhtml)
    first = root.find(f".//{XHTML}section/{XHTML}p")
    sentences = [
        "".join(s.itertext()) for s in first.iter(f"{XHTML}span") if s.get("class") == "koboSpan"
    ]
    # A sentence ends at its full stop; an event span inside it gets a span of its own.
    assert sentences[:3] == ["The", "Hanseatic League", "met in L\u00fcbeck."]
    ids = [s.get("id") for s in first.iter(f"{XHTML}span") if s.get("class") == "koboSpan"]
    assert len({i.split(".")[1] for i in ids}) == 1  # one paragraph, one block number


EBOOK_CONVERT = shutil.which("ebook-convert")


def convert(source: Path, target: Path) -> Path:
    assert EBOOK_CONVERT, "Calibre is missing: `make test` installs Debian's calibre package"
    done = subprocess.run([EBOOK_CONVERT, str(source), str(target)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return target


def chapter_openings(epub: Path) -> list[tuple[str, str]]:
    """Return (title, era) for every chapter heading group of an EPUB."""
    openings = []
    for xhtml in documents(epub).values():
        for head in etree.fromstring(xhtml).iter(f"{XHTML}header"):
            era = head.find(f"{XHTML}p[@class='chapter-era']")
            if era is not None:
                openings.append((_text(head.find(f"{XHTML}h1")), _text(era)))
    return openings


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def converted_files(epub: Path) -> list[etree._Element]:
    with zipfile.ZipFile(epub) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith((".html", ".xhtml")))
        return [etree.fromstring(zf.read(n)) for n in names]


def test_calibre_kindle_round_trip_keeps_each_title_with_its_era(
    briefing_build: BuildResult, tmp_path: Path
) -> None:
    epub = output(briefing_build, ".epub")
    back = convert(convert(epub, tmp_path / "book.azw3"), tmp_path / "back.epub")
    openings = chapter_openings(epub)
    assert len(openings) == 6
    files = converted_files(back)
    for title, era in openings:
        (h1,) = [h for f in files for h in f.iter(f"{XHTML}h1") if _text(h) == title]
        following = h1.getnext()
        assert following is not None and _text(following) == era, title
        # No file of the conversion is the era line alone, split off from its chapter.
        assert not any(_text(f.find(f"{XHTML}body")) == era for f in files)
    h2s = {_text(h) for f in converted_files(epub) for h in f.iter(f"{XHTML}h2")}
    assert h2s <= {_text(h) for f in files for h in f.iter(f"{XHTML}h2")}
