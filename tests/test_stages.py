"""One test or more for each stage: load, extract, render, write."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bookbuild.assets import default_styles_dir
from bookbuild.chronology import extract_chronology
from bookbuild.errors import ManuscriptError
from bookbuild.manuscript import load_manuscript
from bookbuild.pipeline import build, commit_outputs
from bookbuild.render import create_environment, render_epub_pages, render_print
from tests.conftest import FIXTURE

BOOK_YAML = "title: T\nlanguage: en\nidentifier: urn:uuid:6f1d7c8a-2b3e-4f5a-8c9d-0e1f2a3b4c5d\n"


def write_manuscript(root: Path, chapters: dict[str, str], book: str = BOOK_YAML) -> Path:
    """Write a small manuscript and return its folder."""
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(book)
    for name, text in chapters.items():
        (root / "chapters" / name).write_text(text)
    return root


def test_load_splits_front_body_and_back_matter() -> None:
    book, warnings = load_manuscript(FIXTURE)
    assert warnings == ()
    assert [c.id for c in book.front_matter] == ["introduction"]
    assert [c.id for c in book.body] == ["early", "league"]
    assert [c.id for c in book.back_matter] == ["sources"]
    assert book.meta.slug == "the-salt-roads"
    assert [g.term for g in book.glossary] == ["Hanseatic League", "Novgorod"]


def test_load_keeps_event_text_title_and_source_location() -> None:
    book, _ = load_manuscript(FIXTURE)
    war = next(e for c in book.chapters for e in c.events if e.date.text == "1367/1370")
    assert war.title == "war ran from 1367 to 1370"
    assert war.text == "war ran from 1367 to 1370"
    assert (war.location.line, war.location.col) == (6, 3)
    assert war.location.path.name == "02-league.md"


def test_chapter_id_comes_from_file_name_or_front_matter(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path,
        {"01-the-rift.md": "---\ntitle: A\n---\n", "02-x.md": "---\ntitle: B\nid: custom\n---\n"},
    )
    book, _ = load_manuscript(root)
    assert [c.id for c in book.chapters] == ["the-rift", "custom"]


def test_raw_html_is_escaped_never_passed_through(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path,
        {
            "01-a.md": "---\ntitle: A\n---\n<script>alert(1)</script>\n\n"
            "Text <b onclick='x'>bold</b>.\n"
        },
    )
    book, _ = load_manuscript(root)
    html = render_print(book, (), create_environment(default_styles_dir()))
    assert "<script>" not in html and "<b " not in html
    assert "&lt;script&gt;" in html


def test_disallowed_span_attributes_are_dropped_with_a_warning(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path, {"01-a.md": '---\ntitle: A\n---\n[x]{style="color:red" lang=ru}\n'}
    )
    book, warnings = load_manuscript(root)
    assert [w.code for w in warnings] == ["BB207"]
    html = render_print(book, (), create_environment(default_styles_dir()))
    assert "style=" not in html and '<span lang="ru">x</span>' in html


def test_event_title_defaults_to_the_span_text(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path,
        {
            "01-a.md": "---\ntitle: A\nera: 1950/1960\n---\n"
            '[Khrushchev *arrived*]{.event date="1959-05"}.\n'
        },
    )
    book, _ = load_manuscript(root)
    (event,) = book.chapters[0].events
    assert event.title == "Khrushchev arrived"


def test_chronology_sorts_by_date_and_keeps_text_order_for_overlaps(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path,
        {
            "01-a.md": "---\ntitle: A\nera: 1900/1999\n---\n"
            '[b]{.event date="1959"} [a]{.event date="1959"} [c]{.event date="1912/1913"}\n',
            "02-b.md": '---\ntitle: B\n---\n[e]{.event date="195X"} [f]{.event date="1959-05-25"}'
            ' [d]{.event date="1190~"}\n',
        },
    )
    book, _ = load_manuscript(root)
    # '195X' overlaps '1959' and is told after it, so it follows it; 'd' and 'c' go by date.
    assert [e.title for e in extract_chronology(book)] == ["d", "c", "b", "a", "e", "f"]


def test_render_print_has_era_spans_chronology_and_glossary() -> None:
    book, _ = load_manuscript(FIXTURE)
    html = render_print(book, extract_chronology(book), create_environment(default_styles_dir()))
    assert '<p class="chapter-era" data-b="early.era">1100–1299</p>' in html
    assert 'href="#ev-league-2"' in html
    assert '<dt id="g-novgorod" data-b="g-novgorod.term">' in html
    assert '<span class="footnote" id="fn-early-1" data-n="1">Salt was the main good.' in html


def test_render_epub_pages_are_well_formed_xhtml_in_reading_order() -> None:
    from lxml import etree

    book, _ = load_manuscript(FIXTURE)
    pages = render_epub_pages(
        book, extract_chronology(book), create_environment(default_styles_dir())
    )
    assert [p.file for p in pages] == [
        "cover.xhtml",
        "title.xhtml",
        "introduction.xhtml",
        "early.xhtml",
        "league.xhtml",
        "chronology.xhtml",
        "glossary.xhtml",
        "sources.xhtml",
        "colophon.xhtml",
    ]
    for page in pages:
        etree.fromstring(page.xhtml)
    early = next(p for p in pages if p.file == "early.xhtml").xhtml.decode()
    assert 'epub:type="noteref"' in early and 'epub:type="footnote"' in early


def test_commit_outputs_moves_all_files_into_place(tmp_path: Path) -> None:
    written = commit_outputs(tmp_path, {"a.pdf": b"1", "html/b.html": b"2"})
    assert [p.read_bytes() for p in written] == [b"1", b"2"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.pdf", "b.html", "html"]
    assert (tmp_path / "a.pdf").stat().st_mode & 0o777 == 0o644


def test_epub_zip_has_fixed_timestamps(tmp_path: Path) -> None:
    (result,) = build(FIXTURE, tmp_path, ("epub",)).outputs
    with zipfile.ZipFile(result) as zf:
        assert {info.date_time for info in zf.infolist()} == {(2024, 3, 1, 0, 0, 0)}


def test_check_reports_errors_from_every_file_at_once(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path,
        {
            "01-a.md": '---\ntitle: A\nera: 1900\n---\n[x]{.event date="1800"}\n',
            "02-b.md": "no front matter\n",
        },
        book="title: T\nlanguage: english!\nidentifier: nope\n",
    )
    with pytest.raises(ManuscriptError) as caught:
        load_manuscript(root)
    assert sorted(d.code for d in caught.value.diagnostics) == ["BB108", "BB109", "BB110", "BB203"]


def test_cached_cover_is_the_cover_it_would_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookbuild.assets import font_files
    from bookbuild.cover import build_cover, cached_cover

    monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path))
    book, _ = load_manuscript(FIXTURE)
    first = cached_cover(book.meta)
    assert list((tmp_path / "covers").iterdir())
    assert cached_cover(book.meta) == first == build_cover(book.meta, font_files())
    assert first[:3] == b"\xff\xd8\xff"  # a JPEG


def test_glossary_term_inside_a_longer_term_still_counts_as_used(tmp_path: Path) -> None:
    from bookbuild.lint import lint_glossary

    root = write_manuscript(tmp_path, {"01-a.md": "---\ntitle: A\n---\nThe Tirana Declaration.\n"})
    (root / "glossary.yaml").write_text(
        "- term: Tirana\n  description: A city.\n"
        "- term: Tirana Declaration\n  description: A text.\n"
        "- term: Durres\n  description: A port.\n"
    )
    book, _ = load_manuscript(root)
    assert [d.message for d in lint_glossary(book)] == [
        "glossary term 'Durres' never appears in the text"
    ]


def test_a_footnote_called_twice_keeps_every_id_unique(tmp_path: Path) -> None:
    from lxml import etree

    root = write_manuscript(
        tmp_path, {"01-a.md": "---\ntitle: A\n---\nOne.[^n] Two.[^n]\n\n[^n]: The note.\n"}
    )
    book, _ = load_manuscript(root)
    env = create_environment(default_styles_dir())
    print_html = render_print(book, (), env)
    assert print_html.count('id="fn-a-1"') == 1 and 'id="fn-a-1-2"' in print_html
    page = next(p for p in render_epub_pages(book, (), env) if p.file == "a.xhtml")
    ids = etree.fromstring(page.xhtml).xpath("//@id")
    assert len(ids) == len(set(ids))
    assert {"fnref-a-1", "fnref-a-1-2", "fn-a-1"} <= set(ids)


def test_links_reach_their_target_in_both_outputs_or_are_refused(tmp_path: Path) -> None:
    from bookbuild.lint import lint_links

    chapters = {
        "01-a.md": '---\ntitle: A\nera: 1900/1910\n---\n[x]{.event date="1905"} See [b](#b).\n',
        "02-b.md": "---\ntitle: B\n---\nBack to [the event](#ev-a-1), [the end](#colophon) "
        "and [the contents](#contents).\n",
    }
    book, _ = load_manuscript(write_manuscript(tmp_path, chapters))
    # The print edition has a contents page with that id, the EPUB does not.
    assert [d.message for d in lint_links(book)] == [
        "link to '#contents', which no chapter, event, glossary entry or heading has"
    ]
    pages = render_epub_pages(book, (), create_environment(default_styles_dir()))
    b = next(p for p in pages if p.file == "b.xhtml").xhtml.decode()
    assert 'href="a.xhtml#ev-a-1"' in b and 'href="colophon.xhtml#colophon"' in b
