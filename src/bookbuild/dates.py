"""Parse, order and word EDTF (Extended Date/Time Format) level 0/1 dates."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from edtf import EDTFObject


__all__ = [
    "DateError",
    "Day",
    "EdtfDate",
    "YearRangeError",
    "format_date",
    "format_era",
    "format_year",
    "iso_range",
    "parse_date",
]

NBSP: Final = "\u00a0"
EN_DASH: Final = "\u2013"
MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
SEASONS: Final = {"21": "spring", "22": "summer", "23": "autumn", "24": "winter"}
QUALIFIED: Final = {"~": "c.\u00a0{}", "?": "{}?", "%": "c.\u00a0{}?"}


class DateError(ValueError):
    """Raised when a string is not a valid EDTF level 0/1 date or interval."""


class YearRangeError(DateError):
    """Raised when a date names a year beyond 9999, before or after the common era."""


@dataclass(frozen=True, slots=True, order=True)
class Day:
    """A day of the proleptic Gregorian calendar, its year numbered astronomically.

    Year 0 is 1 BCE and year -43 is 44 BCE, so day arithmetic runs straight through the change
    of era; Python's datetime.date stops at year 1.
    """

    year: int
    month: int
    day: int

    @property
    def ordinal(self) -> int:
        """Return the day's number, counting 1 January 1 CE as day 1 (as date.toordinal())."""
        return _days_from_civil(self.year, self.month, self.day)

    @property
    def day_of_year(self) -> int:
        """Return 1 for 1 January, up to 366."""
        return self.ordinal - _days_from_civil(self.year, 1, 1) + 1

    def isoformat(self) -> str:
        """Return the day in ISO 8601, with a sign and astronomical year before 1 CE."""
        sign = "-" if self.year < 0 else ""
        return f"{sign}{abs(self.year):04d}-{self.month:02d}-{self.day:02d}"


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Count days in the proleptic Gregorian calendar (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    # doe counts from 1 March of year 0, which is 306 days before day 1 (1 January 1 CE).
    return era * 146097 + doe - 305


def _month_days(year: int, month: int) -> int:
    """Return the days in a month of an astronomically numbered year."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


@dataclass(frozen=True, slots=True, kw_only=True)
class EdtfDate:
    """Hold an EDTF string with its strict day bounds (None = open or unknown)."""

    text: str
    lower: Day | None
    upper: Day | None

    def sort_key(self) -> tuple[int, int, str]:
        """Return a key ordering by start, then broader period first, then text.

        An open or unknown start sorts first. For equal starts the later end
        sorts first, an open or unknown end earliest of all, so a containing
        period ('1959', '1959/..') precedes its parts ('1959-01').
        """
        start, end = self.span()
        return (start, -end, self.text)

    def span(self) -> tuple[int, int]:
        """Return the first and last day numbers the date may mean; an open end is unbounded."""
        start = self.lower.ordinal if self.lower else _BEFORE_ALL
        end = self.upper.ordinal if self.upper else -_BEFORE_ALL
        return (start, end)

    def precedes(self, other: EdtfDate) -> bool:
        """Return whether this date ends before other starts, however either is read."""
        return self.span()[1] < other.span()[0]

    def end_points(self) -> tuple[tuple[Day, Day] | None, tuple[Day, Day] | None]:
        """Return the first and last day that the start, and the end, may each mean.

        For '1944/1961' the end is any day of 1961; an open or unknown end is None.
        """
        start, end = _ends(self.text)
        return (
            _bounds(start.point) if start.point else None,
            _bounds(end.point) if end.point else None,
        )

    def within(self, other: EdtfDate) -> bool:
        """Return whether every possible day of this date lies within other's bounds."""
        after = other.lower is None or (self.lower is not None and self.lower >= other.lower)
        before = other.upper is None or (self.upper is not None and self.upper <= other.upper)
        return after and before


_BEFORE_ALL: Final = -(10**9)  # earlier than any day of years -9999 to 9999


@dataclass(frozen=True, slots=True, kw_only=True)
class _Point:
    """Hold the parts of one date that its wording needs."""

    year: str  # four digits, trailing ones possibly 'X', after a '-' before the common era
    month: str | None  # '01'..'12' or a season code '21'..'24'
    day: str | None
    qualifier: str  # '', '~', '?' or '%'

    @property
    def bce(self) -> bool:
        return self.year.startswith("-")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Side:
    """One end of a date: a point with its day bounds, or an open ('..') or unknown ('') end."""

    point: _Point | None
    is_open: bool = False
    lower: Day | None = None
    upper: Day | None = None


def parse_date(text: str) -> EdtfDate:
    """Parse an EDTF level 0/1 date or interval into its strict day bounds."""
    start, end = _ends(text)
    if start.lower and end.upper and start.lower > end.upper:
        raise DateError(f"{text!r} ends before it starts")
    return EdtfDate(text=text, lower=start.lower, upper=end.upper)


def format_date(d: EdtfDate, notation: str = "BCE") -> str:
    """Word a date for readers, e.g. '25 May 1959', 'c. 500 BCE' or '2014 onwards'.

    notation is 'BCE' (with 'CE' where a range crosses into the common era) or 'BC' (with 'AD').
    """
    start, end = _ends(d.text)
    if end.point is None and start.point is not None:
        first = _word(start.point, era=_era_of(start.point, notation))
        return f"{first} onwards" if end.is_open else f"from {first}"
    if start.point is None and end.point is not None:
        return f"until {_word(end.point, era=_era_of(end.point, notation))}"
    assert start.point is not None and end.point is not None  # _ends() needs a known end
    return _word_range(start.point, end.point, notation)


def format_era(d: EdtfDate, notation: str = "BCE") -> str:
    """Word the years a date spans for a chapter opener, with 'present' for an open end."""
    start, end = _ends(d.text)
    a, b = start.point, end.point
    if a is None and start.is_open and b is not None:
        return f"until {_era_word(b, _era_of(b, notation))}"
    if a is None or b is None:
        known = a or b
        assert known is not None  # _ends() needs a known end
        word = _era_word(known, _era_of(known, notation))
        return _join("?", word) if a is None else _join(word, "present" if end.is_open else "?")
    if _era_word(a, _era_of(a, notation)) == (alone := _era_word(b, _era_of(b, notation))):
        return alone
    start_era, end_era, whole = _range_labels(a, b, notation)
    return _join(_era_word(a, start_era), _era_word(b, end_era), whole)


def format_year(year: int, notation: str = "BCE", *, ce: bool = False) -> str:
    """Word an astronomically numbered year, e.g. -43 as '44 BCE'; `ce` labels a CE year too."""
    if year <= 0:
        return f"{1 - year}{NBSP}{notation}"
    if ce:
        return f"{_CE[notation]}{NBSP}{year}" if notation == "BC" else f"{year}{NBSP}CE"
    return str(year)


def iso_range(d: EdtfDate) -> tuple[str | None, str | None]:
    """Return the ISO 8601 strings of the lower and upper bounds (astronomical years)."""
    return (d.lower.isoformat() if d.lower else None, d.upper.isoformat() if d.upper else None)


# Plain calendar dates, alone or as an interval: most of a manuscript's dates.
_PLAIN = re.compile(
    r"(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?([~?%]?)"
    r"|(-?(?:\d{3}X|\d{2}XX))()()()"  # a decade or a century: '195X', '19XX', '-004X'
)
_OPEN_ENDS = {"..": True, "": False}
# A year of five digits or more: EDTF's 'Y10000', or '10000-01-01', which EDTF does not allow.
_LONG_YEAR = re.compile(r"(?:\.\.)?Y?-?\d{5}")
SEASON_MONTHS: Final = {"21": (3, 5), "22": (6, 8), "23": (9, 11), "24": (12, 12)}
_CE: Final = {"BCE": "CE", "BC": "AD"}


@functools.lru_cache(maxsize=4096)
def _ends(text: str) -> tuple[_Side, _Side]:
    """Parse text into (start, end); a single date is its own start and end."""
    if any(_LONG_YEAR.match(part) for part in text.split("/")):
        raise YearRangeError(f"{text!r} has a year beyond 9999; dates run from 9999 BCE to 9999 CE")
    return _plain_ends(text) or _edtf_ends(text)


def _plain_ends(text: str) -> tuple[_Side, _Side] | None:
    """Read plain calendar dates without edtf's grammar, which costs ~5 ms a parse.

    Anything else (unspecified digits, seasons, invalid days) goes to edtf; a test checks that
    both read plain dates alike.
    """
    parts = text.split("/")
    known = [p for p in parts if p not in _OPEN_ENDS]
    if len(parts) > 2 or not known or not all(_PLAIN.fullmatch(p) for p in known):
        return None
    if len(parts) == 2 and "X" in text:
        return None  # unspecified digits in an interval are level 2: edtf rejects them
    sides = [
        _Side(point=None, is_open=_OPEN_ENDS[p]) if p in _OPEN_ENDS else _plain_side(p)
        for p in parts
    ]
    if None in sides:
        return None  # not a calendar date: let edtf word the error
    start, end = sides[0], sides[-1]
    assert start is not None and end is not None
    return start, end


def _plain_side(text: str) -> _Side | None:
    groups = cast(re.Match[str], _PLAIN.fullmatch(text)).groups()
    year, month, day, qualifier = groups[:4] if groups[0] else groups[4:]
    if (month and not 1 <= int(month) <= 12) or (day and int(day) == 0):
        return None
    point = _Point(year=year, month=month or None, day=day or None, qualifier=qualifier)
    try:
        lower, upper = _bounds(point)
    except DateError:
        return None
    return _Side(point=point, lower=lower, upper=upper)


def _bounds(p: _Point) -> tuple[Day, Day]:
    """Return the first and last day a point may mean, with its year read as the README says."""
    first, last = _years(p.year)
    if p.month is None:
        return Day(first, 1, 1), Day(last, 12, 31)
    if p.month in SEASON_MONTHS:
        start, end = SEASON_MONTHS[p.month]
        return Day(first, start, 1), Day(first, end, _month_days(first, end))
    month = int(p.month)
    if p.day is None:
        return Day(first, month, 1), Day(first, month, _month_days(first, month))
    if int(p.day) > _month_days(first, month):
        year = _word(dataclasses.replace(p, month=None, day=None, qualifier=""))
        raise DateError(
            f"'{p.year}-{p.month}-{p.day}' is not a calendar day: {MONTHS[month - 1]} "
            f"{year}{' BCE' if p.bce else ''} has {_month_days(first, month)} days"
        )
    return Day(first, month, int(p.day)), Day(first, month, int(p.day))


def _years(year: str) -> tuple[int, int]:
    """Return the first and last astronomical years of an EDTF year, '-0044' being 44 BCE.

    There is no year 0 in this reading: '-0001' is 1 BCE and the year after it is '0001'.
    """
    low, high = int(year.lstrip("-").replace("X", "0")), int(year.lstrip("-").replace("X", "9"))
    if high == 0:
        raise DateError(
            f"there is no year {year}: bookbuild reads '-0001' as 1 BCE and '0001' as 1 CE"
        )
    low = max(low, 1)
    return (1 - high, 1 - low) if year.startswith("-") else (low, high)


def _edtf_ends(text: str) -> tuple[_Side, _Side]:
    """Parse with edtf's grammar, imported only when a date needs it."""
    from edtf import Interval, parse_edtf

    try:
        # edtf prints its parser's retries to stdout on some invalid input; keep our output clean.
        with contextlib.redirect_stdout(io.StringIO()):
            obj = parse_edtf(text)
    except Exception as exc:  # edtf raises more than EDTFParseException on odd input
        raise DateError(f"{text!r} is not a valid EDTF date") from exc
    ends = (obj.lower, obj.upper) if isinstance(obj, Interval) else (obj, obj)
    # edtf tolerates surrounding whitespace, which EDTF itself does not allow.
    if text != text.strip() or not _is_level1(obj, ends):
        raise DateError(f"{text!r} is not a valid EDTF level 0/1 date")
    return _edtf_side(ends[0], "lower"), _edtf_side(ends[1], "upper")


def _edtf_side(end: EDTFObject, side: str) -> _Side:
    from edtf import UnspecifiedIntervalSection

    if isinstance(end, UnspecifiedIntervalSection):
        # edtf invents a fuzzy bound for unknown ends; we do not.
        return _Side(point=None, is_open=bool(end.is_open))
    point = _point(end)
    # Our own bounds, not edtf's: its struct_time maths inverts some days before year 1.
    lower, upper = _bounds(point)
    return _Side(
        point=point,
        lower=lower if side == "lower" else None,
        upper=upper if side == "upper" else None,
    )


def _is_level1(obj: EDTFObject, ends: tuple[EDTFObject, EDTFObject]) -> bool:
    """Return whether obj uses only level 0/1 features, with at least one known end."""
    from edtf import Date, Interval, Level1Interval, Season, Unspecified, UnspecifiedIntervalSection

    # Exact types, not isinstance(): edtf's level 2 classes subclass these level 1 ones.
    _INTERVALS = {Interval, Level1Interval}
    _CORES = {Date, Season, Unspecified}
    if isinstance(obj, Interval) and type(obj) not in _INTERVALS:
        return False
    points = [e for e in ends if not isinstance(e, UnspecifiedIntervalSection)]
    return bool(points) and all(type(_core(p)) in _CORES for p in points)


def _core(obj: EDTFObject) -> EDTFObject:
    """Strip a qualifier wrapper and any time of day from a point."""
    from edtf import DateAndTime, UncertainOrApproximate

    if isinstance(obj, UncertainOrApproximate):
        obj = obj.date
    return obj.date if isinstance(obj, DateAndTime) else obj


def _point(obj: EDTFObject) -> _Point:
    """Break a parsed level 0/1 point into its wording parts."""
    from edtf import Date, Season, UncertainOrApproximate, Unspecified

    core = _core(obj)
    if not isinstance(core, Date):  # unreachable after _ends(); narrows the type
        raise DateError(f"{obj} is not a level 0/1 point")
    ua = obj.ua if isinstance(obj, UncertainOrApproximate | Unspecified) else None
    month = core.season if isinstance(core, Season) else core.month
    qualifier = str(ua or "")
    return _Point(year=core.year, month=_known(month), day=_known(core.day), qualifier=qualifier)


def _known(part: str | None) -> str | None:
    """Return a month or day string, or None when absent or unspecified ('XX')."""
    return None if part is None or "X" in part else str(part)


def _word(p: _Point, *, with_year: bool = True, era: str = "") -> str:
    """Word one point, e.g. '25 May 1959', 'spring 2022', 'c. 1950s', 'c. 500 BCE'."""
    parts = [str(int(p.day))] if p.day else []
    if p.month:
        parts.append(SEASONS.get(p.month) or MONTHS[int(p.month) - 1])
    if with_year:
        digits = p.year.lstrip("-").replace("X", "0")
        year = f"{int(digits)}s" if "X" in p.year else str(int(digits))
        # 'AD' goes before the year, the other labels after it and after any qualifier.
        parts.append(f"AD{NBSP}{year}" if era == "AD" else year)
    worded = QUALIFIED.get(p.qualifier, "{}").format(NBSP.join(parts))
    return f"{worded}{NBSP}{era}" if era and era != "AD" and with_year else worded


def _era_of(p: _Point, notation: str) -> str:
    """Return the era label a point needs on its own: only dates before the common era have one."""
    return notation if p.bce else ""


def _range_labels(a: _Point, b: _Point, notation: str) -> tuple[str, str, str]:
    """Return the era labels of a range's start, end and whole.

    A range before the common era is labelled once, at its end ('100-44 BCE'); one that crosses
    into the common era labels both ends ('31 BCE - 14 CE'); a common-era range has none.
    """
    if a.bce and b.bce:
        return "", "", notation
    if a.bce:
        return notation, _CE[notation], ""
    return "", "", ""


def _word_range(a: _Point, b: _Point, notation: str) -> str:
    """Word a closed interval, sharing the year or month where that reads naturally."""
    if a == b:
        return _word(a, era=_era_of(a, notation))
    start_era, end_era, whole = _range_labels(a, b, notation)
    if not _shares_year(a, b):
        return _join(_word(a, era=start_era), _word(b, era=end_era), whole)
    if a.day and a.month == b.month:
        return f"{int(a.day)}{EN_DASH}{_word(b, era=whole)}"
    return _join(_word(a, with_year=False), _word(b), whole)


def _shares_year(a: _Point, b: _Point) -> bool:
    """Return whether two plain points of the same precision fall in one year."""
    plain = not (a.qualifier or b.qualifier or "X" in a.year + b.year)
    same_shape = (a.day is None) == (b.day is None) and (a.month in SEASONS) == (b.month in SEASONS)
    return plain and same_shape and a.year == b.year and a.month is not None


def _era_word(point: _Point, era: str = "") -> str:
    """Word a point at year precision, keeping its qualifier."""
    return _word(dataclasses.replace(point, month=None, day=None), era=era)


def _join(left: str, right: str, era: str = "") -> str:
    """Join two worded ends with an en dash, spaced when either end has a space; label the whole."""
    if " " in left + right or NBSP in left + right:
        # The non-breaking space keeps the dash from starting a line.
        joined = f"{left}{NBSP}{EN_DASH} {right}"
    else:
        joined = f"{left}{EN_DASH}{right}"
    return f"{joined}{NBSP}{era}" if era else joined


# For wording in other languages (localdates.py), which reads the same parts as _word.
DatePoint = _Point
DateSide = _Side


def date_sides(d: EdtfDate) -> tuple[DateSide, DateSide]:
    """Return a date's start and end as the parts its wording needs."""
    return _ends(d.text)
