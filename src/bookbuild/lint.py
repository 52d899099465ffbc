"""Checks across the whole book that a single file cannot make: eras, dates, glossary, links."""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterator

from bookbuild.attribution import lint_sources
from bookbuild.dates import EdtfDate
from bookbuild.errors import Diagnostic, error, warning
from bookbuild.links import LinkTargets, link_targets, resolve
from bookbuild.markup import plain_text
from bookbuild.model import Book, Chapter, Link
from bookbuild.render import id_files


def lint_book(book: Book, *, complete: bool = True) -> tuple[Diagnostic, ...]:
    """Return the book-wide diagnostics, in a stable order.

    When a chapter or the glossary failed to load (`complete` is false), only the checks that
    what is missing cannot change run: a link may point into the missing chapter, an era gap may
    be its era, and a glossary term may appear only in its text.
    """
    if not complete:
        return (*lint_event_dates(book), *lint_sources(book))
    return (
        *lint_eras(book),
        *lint_event_dates(book),
        *lint_glossary(book),
        *lint_links(book),
        *lint_sources(book),
    )


def lint_eras(book: Book) -> Iterator[Diagnostic]:
    """Warn where an era overlaps the one before it or leaves a gap after it."""
    eras = [c for c in book.chapters if c.era is not None]
    for before, after in itertools.pairwise(eras):
        assert before.era is not None and after.era is not None
        end, start = before.era.upper, after.era.lower
        if end is None or start is None:
            continue
        where = after.era_location or after.location
        if start <= end and not shares_only_a_boundary(before.era, after.era):
            yield warning(
                "BB209",
                f"era '{after.era.text}' overlaps the era of '{before.title}' "
                f"('{before.era.text}')",
                where,
            )
        elif start.ordinal - end.ordinal > 1:
            yield warning(
                "BB210",
                f"era '{after.era.text}' leaves a gap after the era of "
                f"'{before.title}' ('{before.era.text}')",
                where,
            )


def shares_only_a_boundary(before: EdtfDate, after: EdtfDate) -> bool:
    """Return whether two eras can be read so that one ends on or before the day the next starts.

    Reigns and periods are written '1944/1961' then '1961/1978': the change came during 1961.
    '1944/1965' then '1961/1978' overlap however they are read.
    """
    last, first = before.end_points()[1], after.end_points()[0]
    return last is not None and first is not None and last[0] <= first[1]


def lint_event_dates(book: Book) -> Iterator[Diagnostic]:
    """Report an event told in two chapters with two different dates."""
    seen: dict[str, tuple[str, Chapter, str]] = {}
    for chapter in book.chapters:
        for event in chapter.events:
            key = " ".join(event.title.casefold().split())
            if key in seen and seen[key][1] is not chapter and seen[key][0] != event.date.text:
                date, other, where = seen[key]
                yield error(
                    "BB208",
                    f"event '{event.title}' is dated '{event.date.text}' here but "
                    f"'{date}' in '{other.title}' ({where})",
                    event.location,
                )
            seen.setdefault(key, (event.date.text, chapter, str(event.location)))


def lint_glossary(book: Book) -> Iterator[Diagnostic]:
    """Warn about glossary terms that the text never uses."""
    if not book.glossary:
        return
    text = " ".join(chapter_text(c) for c in book.chapters)
    forms = sorted({f for e in book.glossary for f in (e.term, *e.aliases)}, key=len, reverse=True)
    found = sorted(set(_longest_forms(text, forms).values()))
    for entry in book.glossary:
        names = (entry.term, *entry.aliases)
        if not any(_within_found(name, found) for name in names):
            yield warning(
                "BB403", f"glossary term '{entry.term}' never appears in the text", entry.location
            )


def _longest_forms(text: str, forms: list[str]) -> dict[int, str]:
    """Return, at each place where forms occur as whole words, the longest of them.

    Where several start at one place only the longest is kept, so a shorter form also occurs
    there when it is a word-bounded prefix of it. `forms` come longest first. (One regular
    expression of all the forms says the same, but compiling it costs more than the search.)
    """
    longest: dict[int, str] = {}
    for form in filter(None, forms):
        # A side in a spaceless script needs no boundary: '砖茶' stands inside '把砖茶存放'.
        free_start, free_end = _unspaced(form[0]), _unspaced(form[-1])
        start = text.find(form)
        while start != -1:
            end = start + len(form)
            if (free_start or not (start and _is_word(text[start - 1]))) and (
                free_end or not (end < len(text) and _is_word(text[end]))
            ):
                longest.setdefault(start, form)
            start = text.find(form, start + 1)
    return longest


def _is_word(char: str) -> bool:
    """Return whether a character is one that `\\w` matches."""
    return char.isalnum() or char == "_"


def _within_found(form: str, found: list[str]) -> bool:
    """Return whether the form, or a found form that starts with it and a word there, was found."""
    # The found forms that start with this one sit together in sorted order.
    for n in range(bisect.bisect_left(found, form), len(found)):
        if not found[n].startswith(form):
            break
        if found[n] == form or re.match(r"\W", found[n][len(form)]) or _unspaced(form[-1]):
            return True
    return False


# Scripts written without spaces between words (or, in Korean, with particles joined on), so
# a glossary term sits inside a run of letters: '砖茶' in '把砖茶存放'.
_SPACELESS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def _unspaced(char: str) -> bool:
    return unicodedata.name(char, "").startswith(_SPACELESS)


def lint_links(book: Book) -> Iterator[Diagnostic]:
    """Report links to an id that no part of the book has."""
    targets = link_targets(book, id_files(book))  # the targets the EPUB's links are pointed at
    for chapter in book.chapters:
        for link in chapter.links:
            if resolve(targets, chapter, link) is None:
                yield error("BB503", _broken(targets, link), link.location)


def _broken(targets: LinkTargets, link: Link) -> str:
    if link.path is None:
        return f"link to '#{link.target}', which no chapter, event, glossary entry or heading has"
    if link.path not in targets.files:
        return f"link to '{link.file}', which is not a chapter file of this book"
    return f"link to '{link.file}', whose chapter has no id '{link.target}'"


def chapter_text(chapter: Chapter) -> str:
    """Return a chapter's prose as plain text, with no-break spaces made plain."""
    parts = (plain_text(t.children or []) for t in chapter.tokens if t.type == "inline")
    return " ".join(parts).replace("\u00a0", " ")
