"""Tests for bookbuild.dates: parsing, bounds, ordering and wording of EDTF dates."""

from __future__ import annotations

import datetime
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookbuild.dates import (
    DateError,
    Day,
    EdtfDate,
    YearRangeError,
    format_date,
    format_era,
    format_year,
    iso_range,
    parse_date,
)

N = "\u00a0"  # non-breaking space
D = "\u2013"  # en dash
SPACED = f"{N}{D} "  # spaced en dash: no line break before the dash


@pytest.mark.parametrize(
    ("text", "lower", "upper"),
    [
        ("1959", "1959-01-01", "1959-12-31"),
        ("1959-05", "1959-05-01", "1959-05-31"),
        ("1960-02", "1960-02-01", "1960-02-29"),
        ("1959-05-25", "1959-05-25", "1959-05-25"),
        ("1912/1913", "1912-01-01", "1913-12-31"),
        ("1959-05-25/1959-06", "1959-05-25", "1959-06-30"),
        ("2014/..", "2014-01-01", None),
        ("2014/", "2014-01-01", None),
        ("../1990", None, "1990-12-31"),
        ("/1990", None, "1990-12-31"),
        ("1190~", "1190-01-01", "1190-12-31"),
        ("1959?", "1959-01-01", "1959-12-31"),
        ("1959%", "1959-01-01", "1959-12-31"),
        ("195X", "1950-01-01", "1959-12-31"),
        ("19XX", "1900-01-01", "1999-12-31"),
        ("1959-XX", "1959-01-01", "1959-12-31"),
        ("1959-05-XX", "1959-05-01", "1959-05-31"),
        ("2022-21", "2022-03-01", "2022-05-31"),
        ("2022-24", "2022-12-01", "2022-12-31"),  # edtf keeps winter inside its year
        ("1984?/2004~", "1984-01-01", "2004-12-31"),
        ("1959-05-25T10:00:00", "1959-05-25", "1959-05-25"),
        ("0950", "0950-01-01", "0950-12-31"),
        # Before the common era: '-0044' is 44 BCE, astronomical year -43 (see the README).
        ("-0044-03-15", "-0043-03-15", "-0043-03-15"),
        ("-0044", "-0043-01-01", "-0043-12-31"),
        ("-0500~", "-0499-01-01", "-0499-12-31"),
        ("-0499/-0400", "-0498-01-01", "-0399-12-31"),
        ("-0100/-0044", "-0099-01-01", "-0043-12-31"),
        ("-0031/0014", "-0030-01-01", "0014-12-31"),
        ("-0001", "0000-01-01", "0000-12-31"),
        ("-0045-02", "-0044-02-01", "-0044-02-29"),  # 45 BCE is a proleptic Gregorian leap year
        ("-0044-02", "-0043-02-01", "-0043-02-28"),
        ("-004X", "-0048-01-01", "-0039-12-31"),  # the 40s BCE: 49 to 40 BCE
        ("-01XX", "-0198-01-01", "-0099-12-31"),
        ("-0044-03-XX", "-0043-03-01", "-0043-03-31"),
        ("-0044-21", "-0043-03-01", "-0043-05-31"),
        ("-0044/..", "-0043-01-01", None),
    ],
)
def test_parse_date_gives_strict_bounds(text: str, lower: str | None, upper: str | None) -> None:
    d = parse_date(text)
    assert d.text == text
    assert iso_range(d) == (lower, upper)


def test_bounds_are_days() -> None:
    d = parse_date("1959-05")
    assert d.lower == Day(1959, 5, 1)
    assert d.upper == Day(1959, 5, 31)
    assert d.lower.ordinal == datetime.date(1959, 5, 1).toordinal()


@given(st.dates())
def test_day_numbers_agree_with_datetime_in_the_common_era(day: datetime.date) -> None:
    ours = Day(day.year, day.month, day.day)
    assert ours.ordinal == day.toordinal()
    assert ours.day_of_year == day.timetuple().tm_yday
    assert ours.isoformat() == day.isoformat()


@given(st.integers(min_value=-9999, max_value=9999))
def test_day_numbers_run_on_through_every_year_end(year: int) -> None:
    last = Day(year, 12, 31)
    assert Day(year + 1, 1, 1).ordinal == last.ordinal + 1
    assert last.day_of_year in (365, 366)
    assert Day(year, 3, 1).ordinal - Day(year, 2, 1).ordinal == last.day_of_year - 337


_YEARS = st.integers(min_value=-9999, max_value=9999).filter(bool)


def _edtf_year(year: int) -> str:
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


@given(_YEARS, _YEARS)
def test_years_sort_in_time_order_across_the_change_of_era(a: int, b: int) -> None:
    """A negative EDTF year is that many years BCE: -0100 comes before -0044, both before 0001."""
    first, second = parse_date(_edtf_year(a)), parse_date(_edtf_year(b))
    assert (first.sort_key() < second.sort_key()) == (a < b)
    assert first.within(parse_date(f"{_edtf_year(min(a, b))}/{_edtf_year(max(a, b))}"))


@given(_YEARS, st.sampled_from(["BCE", "BC"]))
def test_years_are_worded_with_their_era(year: int, notation: str) -> None:
    worded = format_date(parse_date(_edtf_year(year)), notation)
    assert worded == (f"{-year}{N}{notation}" if year < 0 else str(year))
    lower = parse_date(_edtf_year(year)).lower
    assert lower is not None and format_year(lower.year, notation) == worded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1959", "1959"),
        ("1959-05", f"May{N}1959"),
        ("1959-05-25", f"25{N}May{N}1959"),
        ("1959-05-05", f"5{N}May{N}1959"),
        ("0950", "950"),
        ("1912/1913", f"1912{D}1913"),
        ("1944/1961", f"1944{D}1961"),
        ("1959/1959", "1959"),
        ("1959-05-25/1959-06-02", f"25{N}May{SPACED}2{N}June{N}1959"),
        ("1959-05-25/1959-05-28", f"25{D}28{N}May{N}1959"),
        ("1959-05/1959-06", f"May{SPACED}June{N}1959"),
        ("1959-05/1960-06", f"May{N}1959{SPACED}June{N}1960"),
        ("1959-12-30/1960-01-02", f"30{N}December{N}1959{SPACED}2{N}January{N}1960"),
        ("1959-05-25/1959-06", f"25{N}May{N}1959{SPACED}June{N}1959"),
        ("2022-21/2022-23", f"spring{SPACED}autumn{N}2022"),
        ("2014/..", "2014 onwards"),
        ("1959-05-25/..", f"25{N}May{N}1959 onwards"),
        ("2014/", "from 2014"),
        ("../1990", "until 1990"),
        ("/1990", "until 1990"),
        ("1190~", f"c.{N}1190"),
        ("1959?", "1959?"),
        ("1959%", f"c.{N}1959?"),
        ("1959-05~", f"c.{N}May{N}1959"),
        ("1959-05-25~/1959-05-28", f"c.{N}25{N}May{N}1959{SPACED}28{N}May{N}1959"),
        ("1984?/2004~", f"1984?{SPACED}c.{N}2004"),
        ("195X", "1950s"),
        ("19XX", "1900s"),
        ("195X~", f"c.{N}1950s"),
        ("1959-XX", "1959"),
        ("1959-XX-XX", "1959"),
        ("1959-05-XX", f"May{N}1959"),
        ("2022-21", f"spring{N}2022"),
        ("2022-22", f"summer{N}2022"),
        ("2022-23", f"autumn{N}2022"),
        ("2022-24", f"winter{N}2022"),
        ("1959-05-25T10:00:00", f"25{N}May{N}1959"),
        ("-0044-03-15", f"15{N}March{N}44{N}BCE"),
        ("-0044", f"44{N}BCE"),
        ("-0500~", f"c.{N}500{N}BCE"),
        ("-0500?", f"500?{N}BCE"),
        ("-0499/-0400", f"499{D}400{N}BCE"),
        ("-0100/-0044", f"100{D}44{N}BCE"),
        ("-0031/0014", f"31{N}BCE{SPACED}14{N}CE"),
        ("-0001/0001", f"1{N}BCE{SPACED}1{N}CE"),
        ("-0044-03-15/-0044-03-17", f"15{D}17{N}March{N}44{N}BCE"),
        ("-0044-03/-0044-04", f"March{SPACED}April{N}44{N}BCE"),
        ("-0045-03/-0044-06", f"March{N}45{SPACED}June{N}44{N}BCE"),
        ("-004X", f"40s{N}BCE"),
        ("-01XX", f"100s{N}BCE"),
        ("-0044-21", f"spring{N}44{N}BCE"),
        ("-0044/..", f"44{N}BCE onwards"),
        ("../-0044", f"until 44{N}BCE"),
    ],
)
def test_format_date(text: str, expected: str) -> None:
    assert format_date(parse_date(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-0044-03-15", f"15{N}March{N}44{N}BC"),
        ("-0500~", f"c.{N}500{N}BC"),
        ("-0100/-0044", f"100{D}44{N}BC"),
        ("-0031/0014", f"31{N}BC{SPACED}AD{N}14"),
        ("1959-05-25", f"25{N}May{N}1959"),
    ],
)
def test_format_date_in_bc_notation(text: str, expected: str) -> None:
    assert format_date(parse_date(text), "BC") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1912", "1912"),
        ("1944/1961", f"1944{D}1961"),
        ("2014/..", f"2014{D}present"),
        ("2014/", f"2014{D}?"),
        ("../1990", "until 1990"),
        ("/1990", f"?{D}1990"),
        ("1959-05-25", "1959"),
        ("1959-05-25/1959-06-02", "1959"),
        ("1959-05/1960-06", f"1959{D}1960"),
        ("1190~", f"c.{N}1190"),
        ("1190~/1250", f"c.{N}1190{SPACED}1250"),
        ("195X", "1950s"),
        ("2022-21", "2022"),
        ("-0100/-0044", f"100{D}44{N}BCE"),
        ("-0031/0014", f"31{N}BCE{SPACED}14{N}CE"),
        ("-0001/0001", f"1{N}BCE{SPACED}1{N}CE"),
        ("-0044-03-15", f"44{N}BCE"),
        ("-0500~/-0400", f"c.{N}500{SPACED}400{N}BCE"),
        ("-0500/..", f"500{N}BCE{SPACED}present"),
        ("../-0044", f"until 44{N}BCE"),
    ],
)
def test_format_era(text: str, expected: str) -> None:
    assert format_era(parse_date(text)) == expected


def test_sort_orders_by_start_then_broader_period_first_then_text() -> None:
    expected = [
        "../1990",  # open start sorts first; '.' < '/' breaks the tie
        "/1990",
        "-0500~",
        "-0499/-0400",
        "-0100/-0044",
        "-0044",
        "-0044-03-15",
        "-0031/0014",
        "-0001",
        "0001",
        "1190~",
        "1912/1913",
        "195X",
        "1959/..",  # same start as '1959', but an open end is broadest
        "1959",
        "1959%",  # same bounds as '1959': the text decides
        "1959?",
        "1959-01",
        "1959-05",
        "1959-05-25/1959-06-02",
        "1959-05-25",
        "2014/..",
        "2022-21",  # spring starts 1 March, as does March, but ends later
        "2022-03",
    ]
    dates = [parse_date(t) for t in expected]
    random.Random(7).shuffle(dates)
    assert [d.text for d in sorted(dates, key=EdtfDate.sort_key)] == expected


@pytest.mark.parametrize(
    ("inner", "outer", "expected"),
    [
        ("1959-05-25", "1959", True),
        ("1959", "1959", True),
        ("1959", "1959-05", False),
        ("1959-05-25/1959-06-02", "1959-05", False),
        ("1959-05-25/1959-06-02", "1959", True),
        ("1959~", "1959", True),  # strict bounds, not fuzzy ones
        ("195X", "1950/1959", True),
        ("195X", "1955/1965", False),
        ("2022-24", "2022", True),
        ("2020", "2014/..", True),
        ("2010", "2014/..", False),
        ("2014/..", "2000/..", True),
        ("2014/..", "2014/2020", False),
        ("1985", "../1990", True),
        ("../1990", "../2000", True),
        ("../1990", "1900/2000", False),
        ("/1990", "1900/2000", False),  # an unknown start is unbounded too
        ("-0044-03-15", "-0100/-0044", True),
        ("-0044-03-15", "-0044", True),
        ("-0045", "-0044/0014", False),
        ("0014-08-19", "-0031/0014", True),
        ("-0031/0014", "-0044/..", True),
        ("-0500~", "-0499/-0400", False),
    ],
)
def test_within(inner: str, outer: str, expected: bool) -> None:
    assert parse_date(inner).within(parse_date(outer)) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1961-13", "'1961-13' is not a valid EDTF date"),
        ("1959/1950", "'1959/1950' ends before it starts"),
        ("1959-06/1959-05-25", "'1959-06/1959-05-25' ends before it starts"),
        ("0000", "there is no year 0000: bookbuild reads '-0001' as 1 BCE and '0001' as 1 CE"),
        ("-0044-02-29", "'-0044-02-29' is not a calendar day: February 44 BCE has 28 days"),
        ("195X/196X", "'195X/196X' is not a valid EDTF level 0/1 date"),
        (" 1959", "' 1959' is not a valid EDTF level 0/1 date"),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    with pytest.raises(DateError) as info:
        parse_date(text)
    assert str(info.value) == message


ODD_INPUTS = [
    "", " ", "1959 ", "\t1959", "abc", "1959-02-30", "1960-06-31", "2022-13", "2022-25",
    "1959/1950", "..", "/", "/..", "../..", "1959-05-25T10:00", "1959-05-25T10:00/1960",
    "-0500", "-0500/1990", "0000", "XXXX", "0XXX", "Y170000002", "Y-170000002", "2E3",
    "{1667,1668}", "[1667,1668]", "[..1760-12-03]", "2004-06~-11", "~1990", "195X-05",
    "1959-XX-25", "1959-05-25/1959-05-24", "9999-12-31/..", "\x00", "1959\n", "\u0661\u0669",
    "1" * 200, "/" * 50, "1959/" * 20,
]  # fmt: skip


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_inputs_raise_only_date_error(text: str) -> None:
    _assert_parses_or_date_error(text)


def test_random_inputs_raise_only_date_error() -> None:
    rng = random.Random(1959)
    alphabet = "0123456789X-/.~?%YET:{}[], "
    for _ in range(300):
        _assert_parses_or_date_error("".join(rng.choices(alphabet, k=rng.randint(0, 14))))


def test_level2_dates_are_rejected() -> None:
    for text in ["195X/196X", "{1667,1668}", "2021-25", "~1990", "../.."]:
        with pytest.raises(DateError):
            parse_date(text)


@pytest.mark.parametrize(
    "text", ["Y10000", "Y-10000", "Y170000002", "10000-01-01", "-10000", "1959/Y10000", "..Y10000"]
)
def test_years_beyond_9999_have_their_own_error(text: str) -> None:
    with pytest.raises(YearRangeError) as info:
        parse_date(text)
    assert str(info.value) == f"{text!r} has a year beyond 9999; dates run from 9999 BCE to 9999 CE"


def test_formatting_a_hand_built_date_with_bad_text_raises_date_error() -> None:
    d = EdtfDate(text="not a date", lower=None, upper=None)
    with pytest.raises(DateError):
        format_date(d)
    with pytest.raises(DateError):
        format_era(d)


def _assert_parses_or_date_error(text: str) -> None:
    """Assert text parses to sane bounds and wording, or raises DateError."""
    try:
        d = parse_date(text)
    except DateError:
        return
    assert d.lower is None or d.upper is None or d.lower <= d.upper
    assert format_date(d)
    assert format_era(d)


def test_plain_date_fast_path_agrees_with_edtf_grammar() -> None:
    import random

    from bookbuild.dates import _edtf_ends, _plain_ends

    rng = random.Random(7)
    texts = [
        "1959",
        "1959-05",
        "1959-05-25",
        "2000-02-29",
        "1900-02",
        "1912/1913",
        "1959-05-25/1959-06",
    ]
    texts += ["-0044-03-15", "-0500", "-0100/-0044", "-0031/0014", "-004X", "-01XX", "-0500~"]
    for _ in range(60):
        year = rng.choice([1, -1]) * rng.randint(1, 2999)
        year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
        texts.append(
            rng.choice(
                [
                    f"{year_text}",
                    f"{year_text}-{rng.randint(1, 12):02d}",
                    f"{year_text}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                ]
            )
        )
    for text in texts:
        fast = _plain_ends(text)
        assert fast is not None, text
        slow = _edtf_ends(text)
        assert (fast[0].lower, fast[1].upper) == (slow[0].lower, slow[1].upper), text
        assert (fast[0].point, fast[1].point) == (slow[0].point, slow[1].point), text
        assert (fast[0].is_open, fast[1].is_open) == (slow[0].is_open, slow[1].is_open), text
    assert _plain_ends("1959-02-30") is None and _plain_ends("1959-XX") is None
    assert _plain_ends("../..") is None and _plain_ends("2022-21") is None
