"""Author-given ids: valid XML ids, unique across the book and clear of the generated ones."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from bookbuild.errors import Diagnostic, error
from bookbuild.model import RESERVED_IDS, Chapter, GlossaryEntry, SourceLocation

# XML's NCName (Namespaces in XML 1.0): what an `id` attribute may hold.
_NAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME = f"{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
_ASCII_NCNAME = re.compile(r"[A-Z_a-z][-.0-9A-Z_a-z]*")  # the same classes, ASCII's part
# Ids the build makes itself: footnotes and their calls, print pages, glossary entries.
_GENERATED = re.compile(r"^(fn-|fnref-|g-|ix-|ixe-|page-\d+$)")


def id_problem(value: str) -> tuple[str, str] | None:
    """Return the code and message for an id that cannot be used, or None."""
    if not _is_ncname(value):
        return "BB118", (
            f"id '{value}' is not a valid XML id: one word, starting with a letter or '_', "
            "of letters, digits, '-', '_' and '.'"
        )
    if value in RESERVED_IDS or _GENERATED.match(value):
        return "BB119", (
            f"id '{value}' is reserved for a part of the book bookbuild generates "
            "(the ids 'fn-...', 'fnref-...', 'g-...', 'ix-...', 'page-N' "
            "and names such as 'chronology')"
        )
    return None


def _is_ncname(value: str) -> bool:
    if value.isascii():
        return _ASCII_NCNAME.fullmatch(value) is not None
    return _ncname().fullmatch(value) is not None


@functools.cache
def _ncname() -> re.Pattern[str]:
    # Compiled only for an id beyond ASCII: re spends some 15 ms on these classes' ranges.
    return re.compile(f"[{_NAME_START}][{_NAME}]*")


def validate_author_ids(
    chapters: Sequence[Chapter], glossary: Sequence[GlossaryEntry]
) -> list[Diagnostic]:
    """Return a diagnostic for each author-given id that is malformed, reserved or taken."""
    found = []
    seen: dict[str, str] = {entry.id: f"glossary term '{entry.term}'" for entry in glossary}
    for chapter in chapters:
        seen.setdefault(chapter.id, f"chapter '{chapter.title}'")
        seen.update({e.id: f"an event at {e.location}" for e in chapter.events if e.id not in seen})
    for chapter in chapters:
        if _GENERATED.match(chapter.id):
            found.append(error(*(id_problem(chapter.id) or ("BB119", "")), chapter.location))
        events = [
            (e.location, error(*p, e.location)) for e in chapter.events if (p := id_problem(e.id))
        ]
        anchors = [
            (a.location, d) for a in chapter.author_ids for d in _check(a.id, a.location, seen)
        ]
        found += [
            d for _, d in sorted(events + anchors, key=lambda pair: (pair[0].line, pair[0].col))
        ]
    return found


def _check(value: str, where: SourceLocation, seen: dict[str, str]) -> list[Diagnostic]:
    if (problem := id_problem(value)) is not None:
        return [error(*problem, where)]
    if value in seen:
        return [error("BB120", f"id '{value}' is already used by {seen[value]}", where)]
    seen[value] = f"the id at {where}"
    return []
