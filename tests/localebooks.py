"""Build the test manuscripts in tests/data/locales once per session, and read their text back."""

from __future__ import annotations

import functools
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pypdf
import yaml
from lxml import etree

from bookbuild.assets import default_styles_dir
from bookbuild.cli import main

LOCALES = Path(__file__).parent / "data" / "locales"
X = "{http://www.w3.org/1999/xhtml}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    pdf: Path
    epub: Path
    stderr: str


@functools.cache
def build_locale_book(name: str) -> Built:
    """Build tests/data/locales/<name> (both editions) into a folder of its own."""
    out = Path(tempfile.mkdtemp(prefix=f"bookbuild-{name}-")) / "dist"
    err = io.StringIO()
    code = main(["build", str(LOCALES / name), "--out", str(out)], stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    return Built(pdf=next(out.glob("*.pdf")), epub=next(out.glob("*.epub")), stderr=err.getvalue())


def pdf_texts(pdf: Path) -> list[str]:
    """Return each page's text as pypdf extracts it, runs of white space made one space."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(pdf).pages]


def epub_documents(epub: Path) -> dict[str, etree._Element]:
    """Return every XML member of the EPUB (XHTML, the NCX, the package) parsed, by file name."""
    with zipfile.ZipFile(epub) as archive:
        return {
            Path(n).name: etree.fromstring(archive.read(n))
            for n in archive.namelist()
            if n.endswith((".xhtml", ".ncx", ".opf", ".svg"))
        }


def epub_text(epub: Path) -> str:
    """Return all the text a reader's software can show or speak: content and attributes."""
    parts = []
    for root in epub_documents(epub).values():
        parts += root.itertext()
        for element in root.iter():
            parts += [element.get(a, "") for a in ("alt", "aria-label", "title")]
    return " ".join(parts).replace("\u00ad", "")


def words(text: str) -> set[str]:
    """Return the Latin-script words of a text, case folded; file names (book.pdf) are not words."""
    text = re.sub(r"[\w-]+\.(?:pdf|epub|xhtml|css|svg|png|jpe?g)\b", " ", text)
    return {w.casefold() for w in re.findall(r"[^\W\d_]+", text) if w.isascii()}


def catalog_words(language: str) -> set[str]:
    """Return the words of a bundled catalog's text, placeholders left out."""
    data = yaml.safe_load((default_styles_dir() / "locales" / f"{language}.yaml").read_text())
    forms = [
        v
        for value in data.values()
        for v in ([value] if isinstance(value, str) else value.values())
    ]
    return words(re.sub(r"\{\w+\}", " ", " ".join(forms)))


def _forms(value: str | dict[str, str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value.values())


def manuscript_words(name: str) -> set[str]:
    """Return the words the author wrote in a test manuscript."""
    folder = LOCALES / name
    return words(" ".join(p.read_text() for p in folder.rglob("*") if p.is_file()))
