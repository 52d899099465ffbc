"""Dates for readers in the book's language, from CLDR through Babel, and EDTF wording."""

from __future__ import annotations

import pytest

from bookbuild import dates
from bookbuild.assets import default_styles_dir
from bookbuild.dates import parse_date
from bookbuild.localdates import format_local_date, format_local_era, format_local_year
from bookbuild.locale import load_messages

SAMPLES = (
    "1959-05-25", "1959-05", "1959", "1959-05-25/1959-05-28", "1959-05/1961-08", "1190~",
    "1961?", "1950%", "195X", "19XX", "2022-21", "2014/..", "2014/", "../1961", "/1961",
    "-0044", "-0100/-0044", "-0031/0014", "1961-08-13?", "1945/1961",
)  # fmt: skip


def words(language: str, text: str, notation: str = "BCE") -> str:
    messages, _ = load_messages(language, default_styles_dir())
    return format_local_date(parse_date(text), notation, messages).replace("\u00a0", " ")


@pytest.mark.parametrize("language", ["en", "en-GB", "en-IE"])
@pytest.mark.parametrize("notation", ["BCE", "BC"])
def test_english_outside_the_us_keeps_the_wording_of_dates_py(language: str, notation: str) -> None:
    messages, _ = load_messages(language, default_styles_dir())
    for text in SAMPLES:
        d = parse_date(text)
        assert format_local_date(d, notation, messages) == dates.format_date(d, notation)
        assert format_local_era(d, notation, messages) == dates.format_era(d, notation)
    for year in (-43, 0, 1, 1961):
        assert format_local_year(year, notation, messages) == dates.format_year(year, notation)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en-US", "1959-05-25", "May 25, 1959"),
        ("en-GB", "1959-05-25", "25 May 1959"),
        ("sq", "1959-05-25", "25 maj 1959"),
        ("sq-AL", "1961-08", "gusht 1961"),
        ("ru", "1959-05-25", "25 мая 1959"),
        ("ru", "1959-05", "май 1959"),
        ("fr", "1959-05-25", "25 mai 1959"),
        ("de", "1959-05-25", "25. Mai 1959"),
        ("ar", "1959-05-25", "25 مايو 1959"),
        ("zh", "1959-05-25", "1959年5月25日"),
        ("de", "1959-05-25/1959-05-28", "25.–28. Mai 1959"),
        ("sq", "1190~", "rreth 1190"),
        ("ru", "1190~", "ок. 1190"),
        ("fr", "1961?", "1961 ?"),
        ("de", "195X", "1950er"),
        ("ru", "195X", "1950-\u0435"),  # Cyrillic e
        ("sq", "2022-21", "pranverë 2022"),
        ("zh", "2022-21", "2022年春季"),
        ("de", "2014/..", "seit 2014"),
        ("ru", "../1961", "до 1961"),
        ("ru", "-0044", "44 до н. э."),
        ("fr", "-0031/0014", "31 av. J.-C. – 14 ap. J.-C."),
        ("zh", "-0044", "公元前44年"),
        ("en-US", "-0044", "44 BCE"),
    ],
)
def test_dates_are_written_as_native_readers_write_them(
    language: str, text: str, expected: str
) -> None:
    assert words(language, text) == expected


def test_a_chapter_era_with_an_open_end_says_present_in_the_language() -> None:
    messages, _ = load_messages("de", default_styles_dir())
    assert format_local_era(parse_date("1991/.."), "BCE", messages) == "1991–heute"
