"""Citations: CSL-formatted, in footnotes for a note style, in the text for an author-date one."""

from __future__ import annotations

import shutil
import unicodedata
import zipfile
from pathlib import Path

import pdfplumber
import pytest
from lxml import etree

from bookbuild.citeparse import parse_citation
from bookbuild.pipeline import BuildResult, build
from tests.conftest import DATA, output
from tests.validators import run_ace, run_epubcheck

CITED = DATA / "cited"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@pytest.fixture(scope="module")
def note_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    out = tmp_path_factory.mktemp("cited")
    return build(CITED, out / "dist", ("pdf", "epub"))


@pytest.fixture(scope="module")
def author_date_epub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("author-date") / "m"
    shutil.copytree(CITED, root)
    book = root / "book.yaml"
    book.write_text(book.read_text() + "citation-style: chicago-author-date\n")
    return output(build(root, root.parent / "dist", ("epub",)), ".epub")


def page(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(f"EPUB/{name}"))


def text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def test_pandoc_citation_forms_are_read_into_their_parts() -> None:
    see, also = parse_citation("[see @a, pp. 33–35; also @b]")
    assert (see.prefix, see.key, see.locator, see.label) == ("see", "a", "33–35", "page")
    assert (also.prefix, also.key, also.locator) == ("also", "b", "")
    (chap,) = parse_citation("[@a, chap. 4, my emphasis]")
    assert (chap.locator, chap.label, chap.suffix) == ("4", "chapter", "my emphasis")
    assert parse_citation("[-@key]")[0].suppress_author
    assert parse_citation("@key")[0].key == "key"


def test_note_style_puts_each_citation_in_a_footnote(note_build: BuildResult) -> None:
    chapter = page(output(note_build, ".epub"), "split.xhtml")
    paragraphs = chapter.xpath("//x:section/x:p", namespaces=NS)
    assert not any(p.xpath(".//x:a[@role='doc-biblioref']", namespaces=NS) for p in paragraphs)
    assert "@" not in "".join(text(p) for p in paragraphs)
    notes = chapter.xpath("//x:aside[@role='doc-footnote']", namespaces=NS)
    # Seven citations outside notes plus the author's own note, numbered in reading order.
    assert [n.get("id") for n in notes] == [f"fn-split-{i}" for i in range(1, 9)]
    refs = chapter.xpath("//x:a[@role='doc-noteref']", namespaces=NS)
    assert [r.text for r in refs] == [str(i) for i in range(1, 9)]
    # The note goes after the punctuation, and the space before it is gone.
    assert text(paragraphs[0]).startswith("The quarrel began in 1956.1 It grew.2")
    first, second = text(notes[0]), text(notes[1])
    assert "Lorenz M. Lüthi" in first and "Princeton University Press" in first and "46" in first
    # A repeat is the style's short form: no first name, no publisher.
    assert second.startswith("2. Lüthi, The Sino-Soviet Split") and "Princeton" not in second
    assert second.endswith("50.")


def test_a_citation_inside_a_note_stays_in_it(note_build: BuildResult) -> None:
    chapter = page(output(note_build, ".epub"), "split.xhtml")
    own = [n for n in chapter.xpath("//x:aside", namespaces=NS) if "alliance" in text(n)]
    assert len(own) == 1
    links = own[0].xpath(".//x:a[@role='doc-biblioref']", namespaces=NS)
    assert [a.get("href") for a in links] == [
        "bibliography.xhtml#ref-mehilli2017",
        "bibliography.xhtml#ref-vickers1995",
    ]
    assert not own[0].xpath(".//x:a[@role='doc-noteref']", namespaces=NS)


def test_every_citation_links_to_its_bibliography_entry(note_build: BuildResult) -> None:
    epub = output(note_build, ".epub")
    entries = page(epub, "bibliography.xhtml").xpath("//x:li[@id]", namespaces=NS)
    ids = {li.get("id") for li in entries}
    links = page(epub, "split.xhtml").xpath("//x:a[@role='doc-biblioref']", namespaces=NS)
    assert links
    for link in links:
        assert link.get(EPUB_TYPE) == "biblioref"
        assert link.get("href").split("#")[1] in ids


def sort_key(entry: str) -> str:
    decomposed = unicodedata.normalize("NFKD", entry.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_bibliography_lists_cited_and_nocite_works_sorted(note_build: BuildResult) -> None:
    doc = page(output(note_build, ".epub"), "bibliography.xhtml")
    (section,) = doc.xpath("//x:section[@role='doc-bibliography']", namespaces=NS)
    assert section.get(EPUB_TYPE) == "bibliography"
    entries = [text(li) for li in section.xpath(".//x:li", namespaces=NS)]
    assert len(entries) == 19  # the cited ones, the uncited one left out
    assert entries == sorted(entries, key=sort_key)
    assert any(e.startswith("Westad, Odd Arne") for e in entries)
    assert not any("Nobody" in e for e in entries)
    assert any(e.startswith("Taubman, William. Khrushchev") for e in entries)


def test_uncited_entry_is_a_warning_with_its_line(note_build: BuildResult) -> None:
    found = [d for d in note_build.diagnostics if d.code == "BB623"]
    assert [d.message for d in found] == ["bibliography entry 'unused2000' is never cited"]
    lines = (CITED / "works.bib").read_text().splitlines()
    assert found[0].location is not None
    assert "unused2000" in lines[found[0].location.line - 1]


def test_pdf_sets_citations_as_footnotes_and_prints_the_bibliography(
    note_build: BuildResult,
) -> None:
    with pdfplumber.open(output(note_build, ".pdf")) as pdf:
        pages = [p.extract_text() or "" for p in pdf.pages]
    chapter = next(t for t in pages if "The quarrel began" in t)
    assert "Lorenz M. Lüthi, The Sino-Soviet Split" in chapter
    assert "[@" not in chapter
    biblio = next(t for t in pages if "Applebaum, Anne. Iron Curtain" in t)
    assert biblio.index("Applebaum") < biblio.index("Chen, Jian") < biblio.index("Zubok")


def test_author_date_style_cites_in_the_text(author_date_epub: Path) -> None:
    chapter = page(author_date_epub, "split.xhtml")
    body = " ".join(text(p) for p in chapter.xpath("//x:section/x:p", namespaces=NS))
    assert "(Lüthi 2008, 46)" in body
    assert "Zubok (2007, 120) puts it later" in body
    assert "follows the same line (2005)." in body  # [-@westad2005]: no author
    assert not chapter.xpath("//x:a[@role='doc-noteref']", namespaces=NS)[1:]  # the author's own


def test_cited_book_passes_epubcheck_and_ace(note_build: BuildResult, tmp_path: Path) -> None:
    epub = output(note_build, ".epub")
    code, report = run_epubcheck(epub)
    assert code == 0, report
    code, violations = run_ace(epub, tmp_path)
    assert violations == []


def test_a_style_with_ibid_says_ibid_on_an_immediate_repeat(tmp_path: Path) -> None:
    root = tmp_path / "m"
    shutil.copytree(CITED, root)
    book = root / "book.yaml"
    style = "chicago-shortened-notes-bibliography-subsequent-ibid"
    book.write_text(book.read_text() + f"citation-style: {style}\n")
    epub = output(build(root, tmp_path / "dist", ("epub",)), ".epub")
    notes = page(epub, "split.xhtml").xpath("//x:aside", namespaces=NS)
    assert text(notes[1]).casefold().startswith("2. ibid., 50")
    assert "ibid" not in text(notes[2]).casefold()  # another work: no ibid.


def test_nocite_star_lists_every_entry(tmp_path: Path) -> None:
    root = tmp_path / "m"
    shutil.copytree(CITED, root)
    book = root / "book.yaml"
    book.write_text(book.read_text().replace("nocite: [westad2005]", 'nocite: ["*"]'))
    result = build(root, tmp_path / "dist", ("epub",))
    assert not [d for d in result.diagnostics if d.code == "BB623"]
    entries = page(output(result, ".epub"), "bibliography.xhtml").xpath("//x:li", namespaces=NS)
    assert any("A Work Nobody Cites" in text(li) for li in entries)
    assert len(entries) == 20


def test_a_bibtex_file_cut_anywhere_is_read_or_refused_never_hangs(tmp_path: Path) -> None:
    from bookbuild.citeproc_glue import load_source
    from bookbuild.errors import ManuscriptError
    from bookbuild.model import SourceLocation

    whole = (CITED / "works.bib").read_text()
    bib = tmp_path / "works.bib"
    where = SourceLocation(path=tmp_path / "book.yaml", line=1)
    refused = 0
    for cut in range(0, len(whole), 23):
        bib.write_text(whole[:cut])
        try:
            load_source(bib, tmp_path, where)
        except ManuscriptError as exc:
            assert [d.code for d in exc.diagnostics] == ["BB620"]
            refused += 1
    assert refused > len(whole) // 23 // 2  # most cuts fall inside an entry
