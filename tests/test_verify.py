"""`build --verify` runs EPUBCheck, DAISY Ace and the PDF validators on the author's book."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from bookbuild import markup
from bookbuild.cli import main
from bookbuild.scaffold import create_manuscript

ROOT = Path(__file__).parents[1]
ACE = ROOT / "tests" / "ace" / "node_modules" / ".bin" / "ace-cli"
CHAPTER = "chapters/01-the-league.md"
# The image stands in a sentence: alone in its paragraph it would be a figure, the id the figure's.
IMAGE_AND_LINK = """
The route ![A map of the route](images/route.svg){#fig-route} runs east.

As the map shows, the towns lie far apart ([see the route](#fig-route)).
"""


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the command line and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def linked_image_book(tmp_path: Path) -> tuple[Path, int]:
    """Return a new book whose image has an id that a link names, and the link's line."""
    book = tmp_path / "mybook"
    create_manuscript(book)
    chapter = book / CHAPTER
    text = chapter.read_text() + IMAGE_AND_LINK
    chapter.write_text(text)
    lines = text.splitlines()
    line = next(n for n, s in enumerate(lines, start=1) if "(#fig-route)" in s)
    return book, line


@pytest.fixture
def ace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point --verify at the DAISY Ace that `make test` installs."""
    assert ACE.exists(), "DAISY Ace is not installed: `make test` installs it into tests/ace"
    monkeypatch.setenv("BOOKBUILD_ACE", str(ACE))
    monkeypatch.setenv("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium")


def _drop_image_ids(self: markup.HtmlRenderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
    """Render an image as the renderer did before the fix: without its id."""
    token = tokens[idx]
    return f'<img src="{env["image_srcs"][token.attrGet("src")]}" alt="x" />'


@pytest.mark.slow
def test_verify_locates_a_link_the_epub_breaks(
    linked_image_book: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, line = linked_image_book
    # The book passes check; an output that loses the image's id then breaks the link.
    assert run(["check", str(book), "--strict"])[0] == 0
    monkeypatch.setattr(markup.HtmlRenderer, "_image", _drop_image_ids)
    code, _, err = run(
        ["build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--verify", "-q"]
    )
    assert code == 1
    found = [s for s in err.splitlines() if "[BB920]" in s]
    assert found, err
    assert re.match(
        rf"{re.escape(str(book / CHAPTER))}:{line}:\d+: error: EPUBCheck RSC-012", found[0]
    )


@pytest.mark.slow
def test_image_ids_are_kept_in_both_outputs(
    linked_image_book: tuple[Path, int], tmp_path: Path, ace: None
) -> None:
    book, _ = linked_image_book
    out = tmp_path / "out"
    code, _, err = run(["build", str(book), "--out", str(out), "--format", "epub", "--verify"])
    assert code == 0, err
    assert "[BB92" not in err
    with zipfile.ZipFile(out / "mybook.epub") as epub:
        page = etree.fromstring(epub.read("EPUB/the-league.xhtml"))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    assert page.xpath("//h:img[@id='fig-route']", namespaces=ns)
    assert page.xpath("//h:a[@href='#fig-route']", namespaces=ns)
    assert run(["build", str(book), "--out", str(out), "--format", "pdf"])[0] == 0
    reader = PdfReader(out / "mybook.pdf")
    assert "fig-route" in reader.named_destinations


@pytest.mark.slow
def test_verify_without_ace_says_it_was_skipped(
    linked_image_book: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, _ = linked_image_book
    monkeypatch.setenv("BOOKBUILD_ACE", str(tmp_path / "no-ace"))
    code, _, err = run(
        ["build", str(book), "--out", str(tmp_path / "o"), "--format", "epub", "--verify"]
    )
    assert code == 0, err
    assert "note: DAISY Ace was skipped" in err
    assert "npm install -g @daisy/ace" in err


@pytest.mark.slow
def test_verify_maps_pdf_findings_to_pages_and_lines(tmp_path: Path, ace: None) -> None:
    """The briefing: the EPUB passes EPUBCheck and Ace; every PDF finding says where it is."""
    out = tmp_path / "out"
    code, _, err = run(["build", str(ROOT / "manuscript"), "--out", str(out), "--verify", "-q"])
    lines = err.splitlines()
    assert not [s for s in lines if re.search(r"\[BB92[0-2]\]", s)], err
    assert not [s for s in lines if "[BB925]" in s], err
    pdf_findings = [s for s in lines if re.search(r"\[BB92[34]\]", s)]
    for finding in pdf_findings:
        assert finding.startswith((str(ROOT / "manuscript"), str(out))), finding
    assert code == (1 if any(": error:" in s for s in lines) else 0)


@pytest.mark.slow
def test_the_briefing_passes_verify(tmp_path: Path, ace: None) -> None:
    code, _, err = run(["build", str(ROOT / "manuscript"), "--out", str(tmp_path), "--verify"])
    assert code == 0, err


@pytest.mark.slow
def test_book_yaml_asks_for_verify_and_no_verify_overrides_it(
    linked_image_book: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, _ = linked_image_book
    with (book / "book.yaml").open("a") as handle:
        handle.write("build:\n  formats: [epub]\n  verify: true\n")
    monkeypatch.setenv("BOOKBUILD_ACE", str(tmp_path / "no-ace"))
    code, _, err = run(["build", str(book), "--out", str(tmp_path / "o")])
    assert code == 0, err
    assert "note: DAISY Ace was skipped" in err  # verification ran
    code, _, err = run(["build", str(book), "--out", str(tmp_path / "o"), "--no-verify"])
    assert (code, err) == (0, "")
