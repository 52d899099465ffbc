"""EPUB table hyphenation hands pyphen a subset of its patterns: the breaks must not change."""

from __future__ import annotations

from pathlib import Path

import pyphen  # type: ignore[import-untyped]
import pytest

from bookbuild.smallscreen import _LONG_WORD, MONTHS, _dictionary, hyphenate_cells

ROOT = Path(__file__).resolve().parents[1]
OTHERS = (
    "Straße überschreiten Schifffahrt zweiundzwanzig développement государственный "
    "hétköznapi Shqipëria Kommunikationsmittel"
)


def words() -> list[str]:
    text = " ".join(p.read_text("utf-8") for p in sorted((ROOT / "manuscript").rglob("*.md")))
    return sorted({w for w in _LONG_WORD.findall(text + " " + OTHERS) if w not in MONTHS})


@pytest.mark.parametrize("language", ["en", "de", "ru"])
def test_a_pattern_subset_breaks_words_as_the_whole_file_does(language: str) -> None:
    full = pyphen.Pyphen(lang=pyphen.language_fallback(language), left=3, right=3)
    every = words()
    for start in range(0, len(every), 250):
        page = frozenset(every[start : start + 250])
        subset = _dictionary(language, page)
        expected = {w: full.inserted(w, hyphen="\u00ad") for w in page}
        assert {w: subset.inserted(w, hyphen="\u00ad") for w in page} == expected
    assert any("\u00ad" in full.inserted(w, hyphen="\u00ad") for w in every)


def test_cells_with_no_breakable_word_are_left_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path))
    page = (
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body><table><tr><td>zzzzzzzz</td>'
        b"<td>Government</td></tr></table></body></html>"
    )
    out = hyphenate_cells(page, "en").decode()
    assert "<td>zzzzzzzz</td>" in out
    assert "Gov\u00adern\u00adment" in out
