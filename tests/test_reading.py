"""The EPUB in a real reading engine: every spine document on a 360 px phone at 200% text.

Three books are opened: the briefing, the fixture, and a stress manuscript written here with an
eight-column table, twelve eras and a sixty-entry glossary, since unseen books will be read on
phones too. Each document is shown with the EPUB's own CSS, a reader's margins and text size,
and the page colours of a light, a sepia and a dark theme (see tests/reading.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bookbuild.pipeline import BuildResult, build
from tests.conftest import MANUSCRIPT, output
from tests.reading import (
    PHONE,
    READER,
    THEMES,
    DocumentReport,
    chromium,
    measure_book,
    overflowing,
    spine_documents,
    write_stress_manuscript,
)

BOOKS = ("briefing", "fixture", "stress")

pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def stress_epub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the stress manuscript's EPUB (no PDF, so no page list)."""
    book = write_stress_manuscript(tmp_path_factory.mktemp("stress") / "book")
    return output(build(book, tmp_path_factory.mktemp("stress-out"), ("epub",)), ".epub")


@pytest.fixture(scope="module")
def epubs(briefing_build: BuildResult, fixture_build: BuildResult, stress_epub: Path) -> dict:
    return {
        "briefing": output(briefing_build, ".epub"),
        "fixture": output(fixture_build, ".epub"),
        "stress": stress_epub,
    }


@pytest.fixture(scope="module")
def reports(
    browser: Any, epubs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, DocumentReport]]:
    """Measure every spine document of every book once; axe-core also runs on the briefing."""
    return {
        name: measure_book(browser, epub, tmp_path_factory.mktemp(name), axe=name == "briefing")
        for name, epub in epubs.items()
    }


@pytest.fixture(scope="module")
def unpacked(epubs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Return each book's spine documents by file name, unpacked once."""
    return {
        name: {d.name: d for d in spine_documents(epub, tmp_path_factory.mktemp(f"{name}-docs"))}
        for name, epub in epubs.items()
    }


def show(
    browser: Any, document: Path, theme: str = "dark", size: int = 200, **viewport: int
) -> Any:
    page = browser.new_page(viewport={**PHONE, **viewport})
    page.goto(document.as_uri())
    page.add_style_tag(content=THEMES[theme] + READER % size)
    return page


@pytest.mark.parametrize("book", BOOKS)
def test_every_document_fits_a_phone_at_200_percent_text(
    reports: dict[str, dict[str, DocumentReport]], unpacked: dict, book: str
) -> None:
    measured = reports[book]
    assert list(measured) == list(unpacked[book])
    wide = {name: r.overflow for name, r in measured.items() if r.overflow}
    assert wide == {}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("book", BOOKS)
def test_text_contrast_passes_aa_in_every_theme(
    reports: dict[str, dict[str, DocumentReport]], book: str, theme: str
) -> None:
    failing = {name: r.contrast[theme] for name, r in reports[book].items() if r.contrast[theme]}
    assert failing == {}
    assert sum(r.checked[theme] for r in reports[book].values()) > 50


def test_axe_core_finds_no_contrast_problem_in_dark_mode(
    reports: dict[str, dict[str, DocumentReport]],
) -> None:
    found = {name: r.axe for name, r in reports["briefing"].items() if r.axe}
    assert found == {}


def test_the_measures_catch_what_the_issue_found(browser: Any, unpacked: dict) -> None:
    """The old theme's faults are caught: the #555 kind label in the dark, a 529 px table."""
    from tests.reading import CONTRAST_JS

    page = show(browser, unpacked["briefing"]["glossary.xhtml"], size=100)
    page.add_style_tag(content=".gloss-kind { color: #555; }")
    failures, _ = page.evaluate(CONTRAST_JS)
    assert failures and all("span.gloss-kind" in f for f in failures)
    page = show(browser, unpacked["briefing"]["the-rift.xhtml"])
    page.add_style_tag(content=".table-wrap { overflow-x: visible; } table { width: 529px; }")
    assert any("529" in line for line in overflowing(page))


def test_a_table_too_wide_for_the_phone_scrolls_in_its_own_box(
    browser: Any, unpacked: dict
) -> None:
    page = show(browser, unpacked["stress"]["overview.xhtml"])
    wrap = page.locator(".table-wrap").first
    sizes = wrap.evaluate(
        "(el) => [el.scrollWidth, el.clientWidth, el.getBoundingClientRect().right, "
        "getComputedStyle(el).overflowX]"
    )
    assert sizes[0] > sizes[1] and sizes[2] <= PHONE["width"] and sizes[3] == "auto"


def test_table_cells_break_long_words_at_syllables(browser: Any, unpacked: dict) -> None:
    page = show(browser, unpacked["briefing"]["the-rift.xhtml"])
    cell = page.locator("td", has_text="agricultural").first
    assert "\u00ad" in cell.text_content()
    assert cell.evaluate("(el) => getComputedStyle(el).overflowWrap") == "break-word"


def test_the_chronology_stacks_on_a_phone_and_is_a_table_on_a_tablet(
    browser: Any, unpacked: dict
) -> None:
    chronology = unpacked["briefing"]["chronology.xhtml"]
    where = "(el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.bottom]; }"
    for width, stacked in ((360, True), (1024, False)):
        page = show(browser, chronology, size=100, width=width)
        date = page.locator("td.chrono-date").first.evaluate(where)
        title = page.locator("td.chrono-title").first.evaluate(where)
        assert (title[1] >= date[2] - 1) is stacked
        assert (title[0] > date[0]) is not stacked


def test_date_ranges_can_break_but_day_and_month_stay_together(unpacked: dict) -> None:
    text = unpacked["briefing"]["chronology.xhtml"].read_text(encoding="utf-8")
    assert "28\u00a0February 1998\u00a0\u2013 11\u00a0June 1999" in text
    assert not re.search("(February|March|June)\u00a0[0-9]{4}", text)


def test_note_references_are_at_least_24_px_touch_targets(browser: Any, unpacked: dict) -> None:
    for size in (100, 200):
        page = show(browser, unpacked["briefing"]["the-rift.xhtml"], size=size)
        boxes = page.locator("a.noteref").evaluate_all(
            "(els) => els.map((el) => { const r = el.getBoundingClientRect(); "
            "return [r.width, r.height, parseFloat(getComputedStyle(el).fontSize), "
            "parseFloat(getComputedStyle(el.parentElement).fontSize)]; })"
        )
        assert len(boxes) >= 3
        for width, height, font, parent_font in boxes:
            assert width >= 24 and height >= 24
            assert font < parent_font  # still set small, as a note call


def test_the_title_page_legend_has_one_number_per_era(browser: Any, unpacked: dict) -> None:
    page = show(browser, unpacked["briefing"]["title.xhtml"], size=100)
    items = page.locator(".era-legend li").all_inner_texts()
    assert len(items) == 6
    for n, item in enumerate(items, start=1):
        assert re.fullmatch(rf"{n}\s+\S.*\S, (\d{{4}}|\d{{4}}\u2013(\d{{4}}|present))", item), item
    assert items[0].startswith("1 Imperial Russia") and items[0].endswith(", 1912\u20131943")


def test_the_timeline_fits_the_column_and_keeps_its_ground_in_dark_mode(
    browser: Any, unpacked: dict, tmp_path: Path
) -> None:
    for width in (360, 412):
        page = show(browser, unpacked["briefing"]["title.xhtml"], width=width)
        image = page.locator(".at-a-glance img")
        box = image.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        shot = tmp_path / f"timeline-{width}.png"
        image.screenshot(path=str(shot))
        from PIL import Image

        with Image.open(shot) as picture:
            rgb = picture.convert("RGB")
            corners = [rgb.getpixel((2, 2)), rgb.getpixel((rgb.width - 3, rgb.height - 3))]
        assert all(min(pixel) > 240 for pixel in corners), corners  # white, not the black page


def test_glossary_terms_are_bold_and_kept_with_their_definitions(
    browser: Any, unpacked: dict
) -> None:
    page = show(browser, unpacked["stress"]["glossary.xhtml"], size=100)
    styles = page.locator(".glossary dt").evaluate_all(
        "(els) => els.map((el) => [getComputedStyle(el).fontWeight, "
        "getComputedStyle(el).breakAfter, getComputedStyle(el.parentElement).breakInside, "
        "el.nextElementSibling.localName])"
    )
    assert len(styles) == 60
    assert all(
        int(w) >= 700 and a == "avoid" and i == "avoid" and n == "dd" for w, a, i, n in styles
    )


def test_events_are_highlighted_in_both_editions(
    browser: Any, unpacked: dict, fixture_build: BuildResult
) -> None:
    """The Overview says dated events are highlighted; both stylesheets must make it true."""
    overview = (MANUSCRIPT / "chapters" / "00-overview.md").read_text(encoding="utf-8")
    assert "Dated events are highlighted" in overview
    (print_html,) = [p for p in fixture_build.outputs if p.name.endswith(".html")]
    for document in (unpacked["fixture"]["league.xhtml"], print_html):
        page = browser.new_page(viewport=PHONE)
        page.goto(document.as_uri())
        events = page.locator(".event").evaluate_all(
            "(els) => els.map((el) => [getComputedStyle(el).backgroundColor, "
            "getComputedStyle(el.parentElement).backgroundColor])"
        )
        assert events and all(own != around for own, around in events), events


def test_the_stylesheet_leaves_body_margins_and_line_height_to_the_reader(
    browser: Any, unpacked: dict
) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(unpacked["briefing"]["the-rift.xhtml"].as_uri())
    body = page.locator("body").evaluate(
        "(el) => [getComputedStyle(el).margin, getComputedStyle(el).lineHeight]"
    )
    assert body == ["8px", "normal"]  # the engine's defaults, which a reader replaces
    heads = page.locator("h1, h2").evaluate_all(
        "(els) => els.map((el) => getComputedStyle(el).textAlign)"
    )
    assert heads and set(heads) == {"left"}
    header = page.locator("header.chapter-head").evaluate(
        "(el) => getComputedStyle(el).breakInside"
    )
    assert header == "avoid"
    css = (unpacked["briefing"]["the-rift.xhtml"].parent / "epub.css").read_text()
    assert not re.search(r"font-size:\s*[\d.]+(px|pt)", css)
    assert not re.search(r"(?<![-\w])color:\s*#", css)
    assert "position:" not in css  # KDP: no CSS positioning in reflowable books
