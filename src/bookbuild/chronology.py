"""Extract the chronology: every event of the book in an order a historian would accept.

Two events whose dates are disjoint go in date order. Two whose dates overlap, or one of which
contains the other ('1968' and '20-21 August 1968'), cannot be ordered by date, so they go in
the order the manuscript tells them: the author tells a response after its cause. These two
rules can conflict. A third event may be dated wholly between two overlapping ones but told
out of order, and the relation is then not transitive. The rule that resolves every conflict
is stated as an insertion, which is easy to follow by hand:

    Take the events in the order the manuscript tells them. Put each one just before the first
    event already placed that lies wholly after it, or at the end when there is none.

Every pair of disjoint dates therefore stays in date order, always; a manuscript order is given
up only where keeping it would break a date order. An author who wants a different place sets
`sort="1968-08-22"` on the event: that date, within the event's own, is used for ordering only.

Inserting into a list costs O(n^2). `chronological_order` computes the same order in
O(n log n) from the other end: it repeatedly takes, among the events that no unplaced event
lies wholly after, the one told last, and puts it last. A property test checks that the two
agree.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from bookbuild.dates import EdtfDate
from bookbuild.model import Book, Event


def extract_chronology(book: Book) -> tuple[Event, ...]:
    """Return every event of the book in chronology order."""
    events = [event for chapter in book.chapters for event in chapter.events]
    return tuple(events[i] for i in chronological_order([sort_date(e) for e in events]))


def sort_date(event: Event) -> EdtfDate:
    """Return the date an event is ordered by: its `sort` date, else its own."""
    return event.sort or event.date


def chronological_order(dates: Sequence[EdtfDate]) -> list[int]:
    """Return the indices of dates, given in manuscript order, in chronology order."""
    spans = [d.span() for d in dates]
    # Unplaced events by latest start first; an entry whose event is placed is skipped on sight.
    starts = [(-start, i) for i, (start, _) in enumerate(spans)]
    heapq.heapify(starts)
    by_end = sorted(range(len(spans)), key=lambda i: spans[i][1], reverse=True)
    placed = [False] * len(spans)
    ready: list[int] = []  # events nothing unplaced lies wholly after, as negated indices
    taken = 0
    backwards = []
    for _ in spans:
        while placed[starts[0][1]]:
            heapq.heappop(starts)
        latest_start = -starts[0][0]
        # The latest start only falls, so an event once ready stays ready until placed.
        while taken < len(by_end) and spans[by_end[taken]][1] >= latest_start:
            heapq.heappush(ready, -by_end[taken])
            taken += 1
        last = -heapq.heappop(ready)
        placed[last] = True
        backwards.append(last)
    return backwards[::-1]
