"""fontcache.py keeps the font programs WeasyPrint subsets and instantiates, by their inputs."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
import weasyprint
import weasyprint.pdf.fonts as fonts

from bookbuild import fontcache, pdf
from bookbuild.pipeline import build
from tests.conftest import FIXTURE, output


def _counting_clean(monkeypatch: pytest.MonkeyPatch, *, warn: bool = False) -> list[str]:
    """Count WeasyPrint's own Font.clean runs (the cache calls it on a miss only)."""
    made: list[str] = []
    original = fonts.Font.clean

    def clean(font: fonts.Font, to_unicode: object, hinting: object) -> None:
        made.append(font.family)
        if warn:
            logging.getLogger("weasyprint").warning("a warning from clean for %s", font.family)
        original(font, to_unicode, hinting)

    monkeypatch.setattr(fonts.Font, "clean", clean)
    return made


def _build(out: Path, *, cache: bool = True) -> tuple[bytes, tuple[str, ...]]:
    with contextlib.ExitStack() as stack:
        if not cache:
            patch = stack.enter_context(pytest.MonkeyPatch.context())
            patch.setattr(pdf, "caching_font_programs", contextlib.nullcontext)
        result = build(FIXTURE, out, ("pdf",))
    return output(result, ".pdf").read_bytes(), tuple(d.message for d in result.diagnostics)


def test_a_second_build_reads_every_font_program_and_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path / "cache"))
    made = _counting_clean(monkeypatch)
    first, _ = _build(tmp_path / "first")
    assert made  # the fixture embeds fonts, variable ones among them
    kept = sorted((tmp_path / "cache" / "font-programs").iterdir())
    assert len(kept) == len(made)
    made.clear()
    second, _ = _build(tmp_path / "second")
    assert made == []
    uncached, _ = _build(tmp_path / "third", cache=False)
    assert first == second == uncached


def test_the_date_fonttools_stamps_into_a_program_is_in_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fontTools writes SOURCE_DATE_EPOCH into each program's head table: a build dated
    # otherwise must not read the programs of the first.
    monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path / "cache"))
    _build(tmp_path / "first")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated, _ = _build(tmp_path / "dated")
    uncached, _ = _build(tmp_path / "uncached", cache=False)
    assert dated == uncached


def test_a_damaged_entry_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path / "cache"))
    first, _ = _build(tmp_path / "first")
    kept = sorted((tmp_path / "cache" / "font-programs").iterdir())
    for entry in kept:
        entry.write_bytes(entry.read_bytes()[:-10])  # cut short, as a full disk would leave it
    made = _counting_clean(monkeypatch)
    second, _ = _build(tmp_path / "second")
    assert len(made) == len(kept)
    assert second == first


def test_a_clean_that_warns_is_not_kept_and_its_warning_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKBUILD_CACHE", str(tmp_path / "cache"))
    made = _counting_clean(monkeypatch, warn=True)
    for attempt in ("first", "second"):
        _, messages = _build(tmp_path / attempt)
        assert any("a warning from clean" in m for m in messages)
    assert not list((tmp_path / "cache" / "font-programs").glob("*"))
    assert len(made) > 0 and len(made) % 2 == 0  # made again on the second build


def test_other_glyphs_or_another_size_are_another_program(monkeypatch: pytest.MonkeyPatch) -> None:
    class Font:
        index, missing, weight, font_size, style = 0, {}, 400, 10.0, 0
        file_content = b"font"

        def __init__(self) -> None:
            self.variations: dict[str, float] = {}

    font = Font()
    key = fontcache._key("v", font, {3: "a", 4: "b"}, True)
    assert key == fontcache._key("v", font, {4: "x", 3: "y"}, True)  # glyph ids, not texts
    assert key != fontcache._key("v", font, {3: "a", 5: "b"}, True)
    assert key != fontcache._key("v", font, {3: "a", 4: "b"}, False)
    font.font_size = 11.0
    assert key != fontcache._key("v", font, {3: "a", 4: "b"}, True)


def test_fontcache_refuses_a_weasyprint_it_was_not_written_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert weasyprint.__version__ == fontcache.PINNED_WEASYPRINT == "70.0"
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with (
        pytest.raises(RuntimeError, match=r"written for WeasyPrint 70\.0"),
        fontcache.caching_font_programs(),
    ):
        pass
