"""Check language tags against the BCP 47 grammar (RFC 5646, section 2.1)."""

from __future__ import annotations

import re

__all__ = ["is_language_tag"]

_ALNUM = "[a-z0-9]"
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language, with extlangs
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"  # variants
    rf"(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*"  # extensions, each after a singleton
    rf"(?:-x(?:-{_ALNUM}{{1,8}})+)?"  # private use
)
_PRIVATE = rf"x(?:-{_ALNUM}{{1,8}})+"
# The tags RFC 5646 keeps from earlier registrations, which the grammar above does not match.
_GRANDFATHERED = frozenset({
    "en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux",
    "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-be-fr", "sgn-be-nl",
    "sgn-ch-de", "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka",
    "zh-min", "zh-min-nan", "zh-xiang",
})  # fmt: skip
_TAG = re.compile(rf"(?:{_LANGTAG}|{_PRIVATE})", re.IGNORECASE)


def is_language_tag(text: str) -> bool:
    """Return whether text is a well-formed BCP 47 language tag, such as 'en' or 'sr-Latn-RS'."""
    if text.casefold() in _GRANDFATHERED:
        return True
    if not _TAG.fullmatch(text):
        return False
    # A singleton may start only one extension (RFC 5646, 2.2.6); private use ends the tag.
    main = re.split(r"(?i)(?:^|-)x-", text, maxsplit=1)[0]
    singletons = [part.casefold() for part in main.split("-")[1:] if len(part) == 1]
    return len(singletons) == len(set(singletons))
