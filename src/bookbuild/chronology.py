"""Extract the chronology: every event of the book in date order."""

from __future__ import annotations

from bookbuild.model import Book, Event


def extract_chronology(book: Book) -> tuple[Event, ...]:
    """Return every event sorted by date, keeping manuscript order among equal dates."""
    events = [event for chapter in book.chapters for event in chapter.events]
    # sorted() is stable, so events with the same date keep the order the prose tells them.
    return tuple(sorted(events, key=lambda event: event.date.sort_key()))
