"""Parse, order and word EDTF (Extended Date/Time Format) level 0/1 dates."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import time
from dataclasses import dataclass
from typing import Final

from edtf import (
    Date,
    DateAndTime,
    EDTFObject,
    Interval,
    Level1Interval,
    Season,
    UncertainOrApproximate,
    Unspecified,
    UnspecifiedIntervalSection,
    parse_edtf,
)

__all__ = ["DateError", "EdtfDate", "format_date", "format_era", "iso_range", "parse_date"]

NBSP: Final = "\u00a0"
EN_DASH: Final = "\u2013"
MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
SEASONS: Final = {"21": "spring", "22": "summer", "23": "autumn", "24": "winter"}
QUALIFIED: Final = {"~": "c.\u00a0{}", "?": "{}?", "%": "c.\u00a0{}?"}

# Exact types, not isinstance(): edtf's level 2 classes subclass these level 1 ones.
_INTERVALS: Final = frozenset({Interval, Level1Interval})
_CORES: Final = frozenset({Date, Season, Unspecified})


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


def parse_date(text: str) -> EdtfDate:
    """Parse an EDTF level 0/1 date or interval into its strict day bounds."""
    start, end = _ends(text)
    try:
        lower, upper = _bound(start, "lower"), _bound(end, "upper")
    except Exception as exc:  # edtf's struct_time maths and date() fail in assorted ways
        raise DateError(f"{text!r} is outside the supported range") from exc
    if lower and upper and lower > upper:
        raise DateError(f"{text!r} ends before it starts")
    return EdtfDate(text=text, lower=lower, upper=upper)


def format_date(d: EdtfDate) -> str:
    """Word a date for readers, e.g. '25 May 1959', 'c. 1190' or '2014 onwards'."""
    start, end = _ends(d.text)
    if isinstance(end, UnspecifiedIntervalSection):
        return f"{_word(_point(start))} onwards" if end.is_open else f"from {_word(_point(start))}"
    if isinstance(start, UnspecifiedIntervalSection):
        return f"until {_word(_point(end))}"
    return _word_range(_point(start), _point(end))


def format_era(d: EdtfDate) -> str:
    """Word the years a date spans for a chapter opener, with 'present' for an open end."""
    start, end = _ends(d.text)
    if isinstance(start, UnspecifiedIntervalSection) and start.is_open:
        return f"until {_era_word(end)}"
    left = "?" if isinstance(start, UnspecifiedIntervalSection) else _era_word(start)
    if isinstance(end, UnspecifiedIntervalSection):
        return _join(left, "present" if end.is_open else "?")
    right = _era_word(end)
    return left if left == right else _join(left, right)


def iso_range(d: EdtfDate) -> tuple[str | None, str | None]:
    """Return the ISO 8601 strings of the lower and upper bounds."""
    return (d.lower.isoformat() if d.lower else None, d.upper.isoformat() if d.upper else None)


def _ends(text: str) -> tuple[EDTFObject, EDTFObject]:
    """Parse text into (start, end); a single date is its own start and end."""
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
    return ends


def _is_level1(obj: EDTFObject, ends: tuple[EDTFObject, EDTFObject]) -> bool:
    """Return whether obj uses only level 0/1 features, with at least one known end."""
    if isinstance(obj, Interval) and type(obj) not in _INTERVALS:
        return False
    points = [e for e in ends if not isinstance(e, UnspecifiedIntervalSection)]
    return bool(points) and all(type(_core(p)) in _CORES for p in points)


def _core(obj: EDTFObject) -> EDTFObject:
    """Strip a qualifier wrapper and any time of day from a point."""
    if isinstance(obj, UncertainOrApproximate):
        obj = obj.date
    return obj.date if isinstance(obj, DateAndTime) else obj


def _bound(end: EDTFObject, side: str) -> datetime.date | None:
    """Return the strict earliest or latest day of an interval end."""
    if isinstance(end, UnspecifiedIntervalSection):
        return None  # edtf invents a fuzzy bound for unknown ends; we do not
    st: time.struct_time = end.lower_strict() if side == "lower" else end.upper_strict()
    return datetime.date(st.tm_year, st.tm_mon, st.tm_mday)


def _point(obj: EDTFObject) -> _Point:
    """Break a parsed level 0/1 point into its wording parts."""
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


def _era_word(obj: EDTFObject) -> str:
    """Word a point at year precision, keeping its qualifier."""
    return _word(dataclasses.replace(_point(obj), month=None, day=None))


def _join(left: str, right: str) -> str:
    """Join two worded ends with an en dash, spaced when either end has a space."""
    if " " in left + right or NBSP in left + right:
        # The non-breaking space keeps the dash from starting a line.
        return f"{left}{NBSP}{EN_DASH} {right}"
    return f"{left}{EN_DASH}{right}"
