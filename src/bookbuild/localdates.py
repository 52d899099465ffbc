"""Word dates for readers in the book's language: CLDR's months and orders through Babel.

English outside the United States keeps dates.py's own wording ('25 May 1959', 'c. 1190',
'1250s', '2014 onwards'). Other languages take day, month and year, and a range within one
year, from CLDR (babel.dates); what CLDR has no pattern for, EDTF's approximate and uncertain
dates, decades, seasons and open ends, comes from the catalog. babel-edtf was not used: it reads
EDTF level 0 only, and a chronology's dates are mostly level 1.
"""

from __future__ import annotations

import datetime

import babel.dates

from bookbuild import dates
from bookbuild.dates import DatePoint, EdtfDate, date_sides
from bookbuild.locale import Messages

EN_DASH = "\u2013"
SEASONS = {"21": "spring", "22": "summer", "23": "autumn", "24": "winter"}
QUALIFIERS = {"~": "approximate", "?": "uncertain", "%": "approximate-uncertain"}
# Any leap year stands in for a year before the common era, which datetime cannot hold.
STAND_IN = 2000


def format_local_date(d: EdtfDate, notation: str, messages: Messages) -> str:
    """Word a date for readers in the book's language."""
    if _own_english(messages):
        return dates.format_date(d, notation)
    start, end = date_sides(d)
    if end.point is None and start.point is not None:
        first = _word(start.point, messages, _era(start.point, notation, messages))
        return str(messages.text("onwards" if end.is_open else "from", date=first))
    if start.point is None and end.point is not None:
        last = _word(end.point, messages, _era(end.point, notation, messages))
        return str(messages.text("until", date=last))
    assert start.point is not None and end.point is not None
    return _range(start.point, end.point, notation, messages)


def format_local_era(d: EdtfDate, notation: str, messages: Messages) -> str:
    """Word the years a date spans, for a chapter opener, in the book's language."""
    if _own_english(messages):
        return dates.format_era(d, notation)
    start, end = date_sides(d)
    a = start.point and _year_only(start.point)
    b = end.point and _year_only(end.point)
    if a is None and b is not None:
        return str(messages.text("until", date=_word(b, messages, _era(b, notation, messages))))
    if a is not None and b is None:
        first = _word(a, messages, _era(a, notation, messages))
        return f"{first}{EN_DASH}{messages.labels()['present']}" if end.is_open else first
    assert a is not None and b is not None
    return _range(a, b, notation, messages)


def format_local_year(year: int, notation: str, messages: Messages, *, ce: bool = False) -> str:
    """Word an astronomically numbered year (0 is 1 BCE) in the book's language."""
    if _own_english(messages):
        return dates.format_year(year, notation, ce=ce)
    point = DatePoint(
        year=f"{'-' if year <= 0 else ''}{abs(1 - year if year <= 0 else year):04d}",
        month=None,
        day=None,
        qualifier="",
    )
    return _word(point, messages, _era(point, notation, messages, ce=ce))


def _own_english(messages: Messages) -> bool:
    """Return whether dates.py's English wording is the book's (en, en-GB, ... not en-US)."""
    return messages.language == "en" and messages.locale.territory != "US"


def _range(a: DatePoint, b: DatePoint, notation: str, messages: Messages) -> str:
    """Word a closed range: CLDR's interval within one plain year, else two ends and a dash."""
    if a == b:
        return _word(a, messages, _era(a, notation, messages))
    plain = not (a.qualifier or b.qualifier or a.bce or b.bce or "X" in a.year + b.year)
    one_year = a.year == b.year and a.month in _MONTHS and b.month in _MONTHS
    if plain and one_year and (a.day is None) == (b.day is None):
        skeleton = "yMMMMd" if a.day else "yMMMM"
        interval = babel.dates.format_interval(_day(a), _day(b), skeleton, locale=messages.locale)
        return str(interval)
    both_bce = a.bce and b.bce
    left = _word(a, messages, "" if both_bce else _era(a, notation, messages))
    right = _word(b, messages, _era(b, notation, messages, ce=a.bce and not b.bce))
    spaced = " " in left + right or "\u00a0" in left + right
    return f"{left}\u00a0{EN_DASH} {right}" if spaced else f"{left}{EN_DASH}{right}"


_MONTHS = {f"{m:02d}" for m in range(1, 13)}


def _word(p: DatePoint, messages: Messages, era: str) -> str:
    """Word one point: a day, a month, a season, a year or a decade, qualified, era-labelled."""
    year = int(p.year.lstrip("-").replace("X", "0"))
    if "X" in p.year:
        worded = str(messages.text("decade", year=year))
    elif p.month in SEASONS:
        season = messages.labels()[SEASONS[p.month]]
        worded = str(messages.text("season", season=season, year=_year(year, p, messages)))
    elif p.month is not None:
        worded = _calendar(p, year, messages)
    else:
        worded = _year(year, p, messages)
    if era:
        worded = str(messages.text("era", date=worded, era=era))
    if p.qualifier:
        worded = str(messages.text(QUALIFIERS[p.qualifier], date=worded))
    return worded


def _calendar(p: DatePoint, year: int, messages: Messages) -> str:
    """Word a day or a month with CLDR's pattern for the language (or the catalog's)."""
    key, default = ("day-pattern", "long") if p.day else ("month-pattern", None)
    pattern = messages.labels()[key]
    day = _day(p)
    if pattern or default:
        text = babel.dates.format_date(day, pattern or default or "", locale=messages.locale)
    else:
        text = babel.dates.format_skeleton("yMMMM", day, locale=messages.locale)
    return text.replace(str(STAND_IN), str(year)) if p.bce else text


def _year(year: int, p: DatePoint, messages: Messages) -> str:
    day = datetime.date(STAND_IN if p.bce else year, 1, 1)
    text = babel.dates.format_skeleton("y", day, locale=messages.locale)
    return text.replace(str(STAND_IN), str(year)) if p.bce else text


def _day(p: DatePoint) -> datetime.date:
    year = STAND_IN if p.bce else int(p.year)
    return datetime.date(year, int(p.month or 1), int(p.day or 1))


def _year_only(p: DatePoint) -> DatePoint:
    return DatePoint(year=p.year, month=None, day=None, qualifier=p.qualifier)


def _era(p: DatePoint, notation: str, messages: Messages, *, ce: bool = False) -> str:
    """Return the era label a point needs: CLDR's, or in English the book's notation."""
    if not (p.bce or ce):
        return ""
    if messages.language == "en":
        return notation if p.bce else {"BCE": "CE", "BC": "AD"}[notation]
    return str(messages.locale.eras["abbreviated"][0 if p.bce else 1])
