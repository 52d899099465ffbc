"""Lay out the "at a glance" timeline: the eras as a bar, the events as marks above it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bookbuild.localdates import format_local_era, format_local_year
from bookbuild.locale import Messages
from bookbuild.model import Book, Event

WIDTH, LEFT, RIGHT = 1000, 30, 970
BAR_Y, BAR_HEIGHT = 96, 20
MARK_SIZE, LABEL_GAP = 7, 50
LABEL_CHAR = 8.5  # the average advance of a label character at font-size 16, in figure units


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    x: float
    width: float
    number: int
    title: str
    span: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark:
    x: float
    y: float


@dataclass(frozen=True, slots=True, kw_only=True)
class YearLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    segments: tuple[Segment, ...]
    marks: tuple[Mark, ...]
    years: tuple[YearLabel, ...]
    alt: str
    top: float
    height: float


def layout_timeline(book: Book, events: Sequence[Event], messages: Messages) -> Timeline | None:
    """Return the timeline's geometry, or None when the book has no eras."""
    eras = [c for c in book.body if c.era is not None and c.era.lower is not None]
    if not eras:
        return None
    first = min(c.era.lower.year for c in eras if c.era and c.era.lower)
    ends = [c.era.upper.year for c in eras if c.era and c.era.upper]
    ends += [e.date.upper.year for e in events if e.date.upper]
    last = max([*ends, first]) + 1
    scale = (RIGHT - LEFT) / (last - first)
    notation = book.meta.era_notation

    def word(year: int) -> str:
        # Years are astronomical (0 is 1 BCE); a figure that spans the change of era labels both.
        return format_local_year(year, notation, messages, ce=first <= 0 < last - 1)

    def x_of(year: float) -> float:
        return round(LEFT + (year - first) * scale, 1)

    segments = []
    for number, chapter in enumerate(eras, start=1):
        assert chapter.era is not None and chapter.era.lower is not None
        end = chapter.era.upper.year + 1 if chapter.era.upper else last
        start = x_of(chapter.era.lower.year)
        segments.append(
            Segment(
                x=start,
                width=round(x_of(end) - start, 1),
                number=number,
                title=chapter.title,
                span=format_local_era(chapter.era, notation, messages),
            )
        )
    marks = _stack_marks([x_of(_midyear(e)) for e in events if e.date.lower and e.date.upper])
    years = _year_labels(
        [
            (s.x, word(c.era.lower.year))
            for s, c in zip(segments, eras, strict=True)
            if c.era and c.era.lower
        ]
        + [(float(RIGHT), word(last - 1))]
    )
    alt = messages.text(
        "timeline-alt",
        first=word(first),
        last=word(last - 1),
        eras=messages.count("eras", len(segments)),
        events=messages.count("events", len(marks)),
    )
    # Grow the figure upwards when a busy year stacks its marks high.
    top = min([BAR_Y - 50.0, *(m.y - MARK_SIZE for m in marks)])
    bottom = max(y.y for y in years) + 8
    timeline = Timeline(
        segments=tuple(segments),
        marks=tuple(marks),
        years=tuple(years),
        alt=alt,
        top=top,
        height=bottom - top,
    )
    return mirrored(timeline) if messages.locale.character_order == "right-to-left" else timeline


def mirrored(timeline: Timeline) -> Timeline:
    """Return the timeline running right to left, the way a right-to-left book reads."""
    return replace(
        timeline,
        segments=tuple(replace(s, x=round(WIDTH - s.x - s.width, 1)) for s in timeline.segments),
        marks=tuple(replace(m, x=round(WIDTH - m.x, 1)) for m in timeline.marks),
        years=tuple(replace(y, x=round(WIDTH - y.x, 1)) for y in timeline.years),
    )


def _midyear(event: Event) -> float:
    assert event.date.lower is not None and event.date.upper is not None
    lower, upper = event.date.lower, event.date.upper
    return (lower.year + lower.day_of_year / 366 + upper.year + upper.day_of_year / 366) / 2


def _stack_marks(xs: Sequence[float]) -> list[Mark]:
    """Stack marks that would overlap into columns rising from the bar."""
    marks: list[Mark] = []
    heights: dict[int, int] = {}
    for x in sorted(xs):
        column = round(x / MARK_SIZE)
        height = heights.get(column, 0)
        heights[column] = height + 1
        marks.append(Mark(x=column * MARK_SIZE, y=BAR_Y - 6 - height * MARK_SIZE))
    return marks


def _year_labels(points: Sequence[tuple[float, str]]) -> list[YearLabel]:
    """Place year labels below the bar, dropping to a second row where they would collide."""
    labels: list[YearLabel] = []
    last = {0: (-1e9, ""), 1: (-1e9, "")}

    def clear(row: int, x: float, text: str) -> bool:
        # Labels are centred on their x: keep half of each one's width, plus a gap, between them.
        before, other = last[row]
        return x - before >= max(LABEL_GAP, (len(other) + len(text)) * LABEL_CHAR / 2 + 12)

    for x, text in points:
        row = 0 if clear(0, x, text) else 1
        if not clear(row, x, text):
            continue
        last[row] = (x, text)
        labels.append(YearLabel(x=x, y=BAR_Y + BAR_HEIGHT + 22 + row * 22, text=text))
    return labels
