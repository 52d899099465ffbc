"""Every independent problem is reported in one run, each at the line that causes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.coverage import lint_coverage
from bookbuild.errors import ManuscriptError
from bookbuild.langtags import is_language_tag
from bookbuild.manuscript import load_manuscript
from bookbuild.pipeline import check
from tests.test_stages import BOOK_YAML, write_manuscript


def codes_and_places(root: Path) -> list[tuple[str, str]]:
    with pytest.raises(ManuscriptError) as info:
        check(root)
    return [(d.code, str(d.location).removeprefix(f"{root}/")) for d in info.value.diagnostics]


def test_a_missing_image_does_not_hide_a_broken_link_or_an_era_gap(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path / "m",
        {
            "01-a.md": "---\ntitle: A\nera: 1900/1910\n---\n![Map](images/none.png)\n\n"
            "See [there](#nowhere).\n",
            "02-b.md": "---\ntitle: B\nera: 1950/1960\n---\nText.\n",
        },
    )
    assert codes_and_places(root) == [
        ("BB301", "chapters/01-a.md:5:1"),
        ("BB210", "chapters/02-b.md:3:6"),
        ("BB503", "chapters/01-a.md:7:1"),
    ]


def test_a_chapter_that_fails_to_load_gives_no_false_link_errors(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path / "m",
        {
            "01-a.md": "---\ntitle: A\nera: 1900/1910\n---\nSee [B](#b), [its event](#ev-b-1).\n",
            "02-b.md": "---\ntitle: [unclosed\n---\n[Treaty]{.event date='1955'}.\n",
            "03-c.md": "---\ntitle: C\nera: 1950/1960\n---\nText.\n",
        },
    )
    # Chapter b's links and era are unknown, so neither BB503 nor BB210 may be guessed at.
    assert [code for code, _ in codes_and_places(root)] == ["BB102"]


def test_a_broken_book_yaml_does_not_hide_the_chapters_problems(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path / "m",
        {"01-a.md": "---\ntitle: A\n---\nSee [there](#nowhere).\n"},
        book="title: T\nlanguage: en\n",
    )
    assert codes_and_places(root) == [("BB103", "book.yaml:1:1"), ("BB503", "chapters/01-a.md:4:1")]


@pytest.mark.parametrize("written", ["\u0d06", "&#xD06;", "&#x0D06;", "&#x0d06;", "&#3334;"])
def test_bb710_points_at_the_character_however_it_is_written(tmp_path: Path, written: str) -> None:
    root = write_manuscript(
        tmp_path / "m",
        {"01-a.md": f"---\ntitle: A\n---\nFirst line.\n\nSecond.\nMalayalam {written} here.\n"},
    )
    book, _ = load_manuscript(root)
    (warning,) = lint_coverage(book)
    assert warning.code == "BB710" and "U+0D06" in warning.message
    assert warning.location is not None
    assert (warning.location.path, warning.location.line) == (root / "chapters/01-a.md", 7)
    assert warning.location.col == 11  # just after 'Malayalam'


def test_bb710_finds_a_character_escaped_in_the_glossary_or_book_yaml(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path / "m",
        {"01-a.md": "---\ntitle: A\n---\nTokyo and Kyoto.\n"},
        book=BOOK_YAML + 'subtitle: "Notes on \\u0D15"\n',
    )
    (root / "glossary.yaml").write_text(
        '- term: Kyoto\n  description: "The western capital, \\U00000F40."\n'
    )
    book, _ = load_manuscript(root)
    places = {
        w.message[11]: str(w.location).removeprefix(f"{root}/")
        for w in lint_coverage(book)
    }
    assert places == {"\u0d15": "book.yaml:4:21", "\u0f40": "glossary.yaml:2:38"}


@pytest.mark.parametrize(
    "tag", ["en", "sq-AL", "sr-Latn-RS", "zh-Hant-TW", "es-419", "de-CH-1901", "x-private",
            "en-US-u-ca-gregory", "i-klingon", "grc", "la-x-latin"],
)  # fmt: skip
def test_well_formed_language_tags(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag", ["not a tag", "en_GB", "", "e", "en-", "-en", "en-toolongsubtag", "en-a-bb-a-cc",
            "la-x-classical", "en-US-x", "123"],
)  # fmt: skip
def test_malformed_language_tags(tag: str) -> None:
    assert not is_language_tag(tag)
