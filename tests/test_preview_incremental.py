"""The preview rebuilds incrementally: it parses only changed chapters, swaps only changed parts."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bookbuild.assets import default_styles_dir
from bookbuild.chaptermemo import ChapterMemo
from bookbuild.chronology import extract_chronology
from bookbuild.pipeline import load_book
from bookbuild.render import create_environment, render_print
from bookbuild.serve import Preview
from tests.test_serve import CHROMIUM, CHROMIUM_FLAGS, serving

DATA = Path(__file__).parent / "data"


def rendered(book_dir: Path, memo: ChapterMemo | None) -> str:
    book, _ = load_book(book_dir, memo=memo)
    return render_print(book, extract_chronology(book), create_environment(default_styles_dir()))


@pytest.mark.parametrize("name", ["cited", "notes-book", "fixture"])
def test_a_kept_chapter_renders_as_a_fresh_load_does(tmp_path: Path, name: str) -> None:
    # Citations, note numbers and heading ids rewrite tokens after loading: a kept chapter that
    # were handed out twice without a copy would come out cited twice, or renumbered.
    book_dir = tmp_path / name
    shutil.copytree(DATA / name, book_dir)
    memo = ChapterMemo()
    first = rendered(book_dir, memo)
    memo.prepare()
    again = rendered(book_dir, memo)
    third = rendered(book_dir, memo)  # one without a spare copy ready
    assert memo.hits == 2 * len(list((book_dir / "chapters").glob("*.md")))
    assert first == again == third == rendered(book_dir, None)


def test_only_the_edited_chapter_is_parsed_again(tmp_path: Path) -> None:
    book_dir = tmp_path / "fixture"
    shutil.copytree(DATA / "fixture", book_dir)
    chapters = sorted((book_dir / "chapters").glob("*.md"))
    preview = Preview(book_dir)
    preview.rebuild(io.StringIO())
    edited = chapters[1]
    edited.write_text(edited.read_text() + "\nA sentence added by the test.\n")
    snapshot = preview.rebuild(io.StringIO())
    assert preview.memo.hits == len(chapters) - 1
    assert b"A sentence added by the test." in snapshot.page
    # The page's news names only the parts that changed: the edited chapter's section.
    assert snapshot.changed is not None and len(snapshot.changed) == 1
    assert b"A sentence added by the test." in snapshot.parts[snapshot.changed[0]]


def test_warnings_of_a_kept_chapter_are_reported_on_every_rebuild(tmp_path: Path) -> None:
    book_dir = tmp_path / "fixture"
    shutil.copytree(DATA / "fixture", book_dir)
    chapter = sorted((book_dir / "chapters").glob("*.md"))[0]
    chapter.write_text(chapter.read_text() + "\nA line with a control character: \x07.\n")
    memo = ChapterMemo()
    first = load_book(book_dir, memo=memo)[1]
    second = load_book(book_dir, memo=memo)[1]
    assert memo.hits == len(list((book_dir / "chapters").glob("*.md")))
    assert [d.format() for d in first] == [d.format() for d in second]
    assert any(str(chapter) in d.format() for d in second)


def test_a_changed_head_or_part_list_asks_for_a_reload(tmp_path: Path) -> None:
    book_dir = tmp_path / "fixture"
    shutil.copytree(DATA / "fixture", book_dir)
    preview = Preview(book_dir)
    assert preview.rebuild(io.StringIO()).changed is None  # nothing to swap into yet
    assert preview.rebuild(io.StringIO()).changed == ()
    yaml = book_dir / "book.yaml"
    yaml.write_text(yaml.read_text().replace("title:", "title: New", 1))
    assert preview.rebuild(io.StringIO()).changed is None  # the <title> is in the head
    chapter = sorted((book_dir / "chapters").glob("*.md"))[-1]
    chapter.rename(chapter.with_name("99-moved-to-the-end.md"))
    assert preview.rebuild(io.StringIO()).changed is None  # the parts' order changed


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    book = tmp_path / "fixture"
    shutil.copytree(DATA / "fixture", book)
    with serving(book) as url:
        yield url, book


def test_an_edit_is_swapped_into_the_open_page_without_a_reload(
    served: tuple[str, Path],
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    url, book = served
    chapter = sorted((book / "chapters").glob("*.md"))[1]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_timeout(300)  # let the page's event stream connect
        # A reload would forget both: the window's own property and the other part's element.
        page.evaluate("window.bbSeen = document.getElementById('contents')")
        chapter.write_text(chapter.read_text() + "\nA sentence added by the test.\n")
        playwright.expect(page.locator("body")).to_contain_text(
            "A sentence added by the test.", timeout=15000
        )
        assert page.evaluate("window.bbSeen === document.getElementById('contents')")
        assert page.evaluate("document.documentElement.dataset.bbVersion") == "2"
        # What was swapped in is what a reload shows.
        swapped = page.evaluate("document.body.innerHTML")
        page.reload()
        assert page.evaluate("document.body.innerHTML") == swapped
        browser.close()
