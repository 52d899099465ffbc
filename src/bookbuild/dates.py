"""Parse, order and word EDTF (Extended Date/Time Format) level 0/1 dates."""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import datetime
import functools
import io
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from edtf import EDTFObject


__all__ = ["DateError", "EdtfDate", "format_date", "format_era", "iso_range", "parse_date"]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class EdtfDate:
    """Hold an EDTF string with its strict day bounds (None = open or unknown)."""

    text: str
    lower: datetime.date | None
    upper: datetime.date | None

    def sort_key(self) -> tuple[int, int, str]:
        """Return a key ordering by start, then broader period first, then text.

        An open or unknown start sorts first. For equal starts the later end
        sorts first, an open or unknown end earliest of all, so a containing
        period ('1959', '1959/..') precedes its parts ('1959-01').
        """
        start = self.lower.toordinal() if self.lower else 0
        end = self.upper.toordinal() if self.upper else datetime.date.max.toordinal() + 1
        return (start, -end, self.text)

    def within(self, other: EdtfDate) -> bool:
        """Return whether every possible day of this date lies within other's bounds."""
        after = other.lower is None or (self.lower is not None and self.lower >= other.lower)
        before = other.upper is None or (self.upper is not None and self.upper <= other.upper)
        return after and before


@dataclass(frozen=True, slots=True, kw_only=True)
class _Point:
    """Hold the parts of one date that its wording needs."""

    year: str  # four digits, trailing ones possibly 'X'
    month: str | None  # '01'..'12' or a season code '21'..'24'
    day: str | None
    qualifier: str  # '', '~', '?' or '%'


@dataclass(frozen=True, slots=True, kw_only=True)
class _Side:
    """One end of a date: a point with its day bounds, or an open ('..') or unknown ('') end."""

    point: _Point | None
    is_open: bool = False
    lower: datetime.date | None = None
    upper: datetime.date | None = None


def parse_date(text: str) -> EdtfDate:
    """Parse an EDTF level 0/1 date or interval into its strict day bounds."""
    start, end = _ends(text)
    if start.lower and end.upper and start.lower > end.upper:
        raise DateError(f"{text!r} ends before it starts")
    return EdtfDate(text=text, lower=start.lower, upper=end.upper)


def format_date(d: EdtfDate) -> str:
    """Word a date for readers, e.g. '25 May 1959', 'c. 1190' or '2014 onwards'."""
    start, end = _ends(d.text)
    if end.point is None and start.point is not None:
        return f"{_word(start.point)} onwards" if end.is_open else f"from {_word(start.point)}"
    if start.point is None and end.point is not None:
        return f"until {_word(end.point)}"
    assert start.point is not None and end.point is not None  # _ends() needs a known end
    return _word_range(start.point, end.point)


def format_era(d: EdtfDate) -> str:
    """Word the years a date spans for a chapter opener, with 'present' for an open end."""
    start, end = _ends(d.text)
    if start.point is None and start.is_open and end.point is not None:
        return f"until {_era_word(end.point)}"
    left = "?" if start.point is None else _era_word(start.point)
    if end.point is None:
        return _join(left, "present" if end.is_open else "?")
    right = _era_word(end.point)
    return left if left == right else _join(left, right)


def iso_range(d: EdtfDate) -> tuple[str | None, str | None]:
    """Return the ISO 8601 strings of the lower and upper bounds."""
    return (d.lower.isoformat() if d.lower else None, d.upper.isoformat() if d.upper else None)


# Plain calendar dates, alone or as an interval: most of a manuscript's dates.
_PLAIN = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?([~?%]?)"
    r"|(\d{3}X|\d{2}XX)()()()"  # a decade or a century: '195X', '19XX'
)
_OPEN_ENDS = {"..": True, "": False}


@functools.lru_cache(maxsize=4096)
def _ends(text: str) -> tuple[_Side, _Side]:
    """Parse text into (start, end); a single date is its own start and end."""
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
    y, m = int(year.replace("X", "0")), int(month or 1)
    try:
        lower = datetime.date(y, m, int(day or 1))
        if day:
            upper = lower
        elif month:
            upper = datetime.date(y, m, calendar.monthrange(y, m)[1])
        else:
            upper = datetime.date(int(year.replace("X", "9")), 12, 31)
    except ValueError:
        return None
    point = _Point(year=year, month=month, day=day, qualifier=qualifier)
    return _Side(point=point, lower=lower, upper=upper)


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
    try:
        return _edtf_side(ends[0], "lower"), _edtf_side(ends[1], "upper")
    except DateError:
        raise
    except Exception as exc:  # edtf's struct_time maths and date() fail in assorted ways
        raise DateError(f"{text!r} is outside the supported range") from exc


def _edtf_side(end: EDTFObject, side: str) -> _Side:
    from edtf import UnspecifiedIntervalSection

    if isinstance(end, UnspecifiedIntervalSection):
        # edtf invents a fuzzy bound for unknown ends; we do not.
        return _Side(point=None, is_open=bool(end.is_open))
    bound = _bound(end, side)
    return _Side(
        point=_point(end),
        lower=bound if side == "lower" else None,
        upper=bound if side == "upper" else None,
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


def _bound(end: EDTFObject, side: str) -> datetime.date:
    """Return the strict earliest or latest day of an interval end."""
    st: time.struct_time = end.lower_strict() if side == "lower" else end.upper_strict()
    return datetime.date(st.tm_year, st.tm_mon, st.tm_mday)


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
    return None if part is None or "X" in part else part


def _word(p: _Point, *, with_year: bool = True) -> str:
    """Word one point, e.g. '25 May 1959', 'spring 2022', 'c. 1950s'."""
    parts = [str(int(p.day))] if p.day else []
    if p.month:
        parts.append(SEASONS.get(p.month) or MONTHS[int(p.month) - 1])
    if with_year:
        digits = p.year.replace("X", "0")
        parts.append(f"{int(digits)}s" if "X" in p.year else str(int(digits)))
    return QUALIFIED.get(p.qualifier, "{}").format(NBSP.join(parts))


def _word_range(a: _Point, b: _Point) -> str:
    """Word a closed interval, sharing the year or month where that reads naturally."""
    if a == b:
        return _word(a)
    if not _shares_year(a, b):
        return _join(_word(a), _word(b))
    if a.day and a.month == b.month:
        return f"{int(a.day)}{EN_DASH}{_word(b)}"
    return _join(_word(a, with_year=False), _word(b))


def _shares_year(a: _Point, b: _Point) -> bool:
    """Return whether two plain points of the same precision fall in one year."""
    plain = not (a.qualifier or b.qualifier or "X" in a.year + b.year)
    same_shape = (a.day is None) == (b.day is None) and (a.month in SEASONS) == (b.month in SEASONS)
    return plain and same_shape and a.year == b.year and a.month is not None


def _era_word(point: _Point) -> str:
    """Word a point at year precision, keeping its qualifier."""
    return _word(dataclasses.replace(point, month=None, day=None))


def _join(left: str, right: str) -> str:
    """Join two worded ends with an en dash, spaced when either end has a space."""
    if " " in left + right or NBSP in left + right:
        # The non-breaking space keeps the dash from starting a line.
        return f"{left}{NBSP}{EN_DASH} {right}"
    return f"{left}{EN_DASH}{right}"
