"""Ceilings on what one manuscript may cost to read and lay out, and their checks.

A manuscript may come from a stranger, so every cost that grows with the input has a limit.
book.yaml may move a limit (`limits:`), but never past its ceiling: the ceilings are what
bookbuild itself promises to survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown_it.token import Token

from bookbuild.errors import Diagnostic, ManuscriptError, error
from bookbuild.model import SourceLocation
from bookbuild.sources import DEFAULT_FILE_SIZE, format_size, within

_MIB = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    key: str
    default: int
    ceiling: int
    what: str


LIMITS = (
    Limit(key="file-size", default=DEFAULT_FILE_SIZE, ceiling=64 * _MIB, what="bytes a file"),
    # Checking costs about 8 s and 100 MB a MiB of Markdown; this keeps it within 30 s and 1 GiB.
    Limit(key="book-size", default=4 * _MIB, ceiling=256 * _MIB, what="bytes in all"),
    # XHTML readers (lxml among them) refuse documents nested 256 deep; the page and its
    # sections take a few of those levels.
    Limit(key="nesting", default=64, ceiling=200, what="levels of nesting"),
    # WeasyPrint's line breaking slows down sharply on very long unbreakable runs.
    Limit(key="word-length", default=500, ceiling=5000, what="characters without a space"),
)
_SIZE = re.compile(r"^\s*(\d+)\s*(KiB|MiB|GiB)?\s*$")
_UNITS = {None: 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    file_size: int = DEFAULT_FILE_SIZE
    book_size: int = 4 * _MIB
    nesting: int = 64
    word_length: int = 500


def parse_limit(limit: Limit, value: object) -> int | str:
    """Return the limit's value, or a message saying why it cannot be used."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    match = _SIZE.match(text)
    sized = limit.key.endswith("-size")
    if not match or (match[2] and not sized):
        unit = " (bytes, or with KiB, MiB or GiB)" if sized else ""
        return f"limit '{limit.key}' must be a whole number{unit}"
    number = int(match[1]) * _UNITS[match[2]]
    if not 0 < number <= limit.ceiling:
        shown = format_size(limit.ceiling) if sized else str(limit.ceiling)
        return f"limit '{limit.key}' must be between 1 and {shown}"
    return number


def check_book_size(root: Path, paths: Sequence[Path], limits: Limits) -> Iterator[Diagnostic]:
    """Report a manuscript whose files add up to more than the limit, before reading them."""
    total = sum(_size(path, root) for path in paths)
    if total > limits.book_size:
        yield error(
            "BB123",
            f"the manuscript's files add up to {_amount(total)}, more than the limit of "
            f"{format_size(limits.book_size)}; raise `limits: book-size` in book.yaml to build it",
            SourceLocation(path=root, line=0),
        )


def _amount(size: int) -> str:
    return f"{size / _MIB:.1f} MiB" if size >= _MIB else f"{size} bytes"


def _size(path: Path, root: Path) -> int:
    """Return a file's size, or 0 for one the reading policy will refuse anyway."""
    try:
        return within(path, root).stat().st_size if path.is_file() else 0
    except (OSError, ManuscriptError):
        return 0


def check_nesting(
    tokens: Sequence[Token], path: Path, first_line: int, limits: Limits
) -> Iterator[Diagnostic]:
    """Report the first block nested deeper than the limit, counting inline nesting too."""
    for token in tokens:
        inner = max((c.level for c in token.children or []), default=0)
        if token.level + inner > limits.nesting:
            line = first_line + (token.map[0] if token.map else 0)
            yield error(
                "BB121",
                f"text nested {token.level + inner} levels deep (quotes, lists, emphasis, "
                f"spans); the limit is {limits.nesting}, set by `limits: nesting` in book.yaml",
                SourceLocation(path=path, line=line),
            )
            return


def long_run(text: str, limit: int) -> re.Match[str] | None:
    """Return the first run of more than `limit` characters without a space, if any."""
    # Only tried where a run starts (the lookbehind), so the search stays linear in the text.
    return re.search(rf"(?<!\S)\S{{{limit + 1}}}\S*", text)


def word_message(run: str, limit: int) -> str:
    """Say that a run is too long to lay out, and how to lift the limit."""
    return (
        f"{len(run)} characters without a space ('{run[:20]}...'); the limit is {limit}, "
        "set by `limits: word-length` in book.yaml"
    )


def check_words(
    tokens: Sequence[Token], path: Path, first_line: int, lines: Sequence[str], limits: Limits
) -> Iterator[Diagnostic]:
    """Report each paragraph's first run of text too long to break into lines."""
    from bookbuild.markup import source_position

    for inline in (t for t in tokens if t.type == "inline"):
        run = long_run(_laid_out_text(inline.children or []), limits.word_length)
        if run is None:
            continue
        offset = max(inline.content.find(run[0][:40]), 0)
        line, col = source_position(inline, offset, first_line, lines)
        where = SourceLocation(path=path, line=line, col=col)
        yield error("BB122", word_message(run[0], limits.word_length), where)


def _laid_out_text(children: Sequence[Token]) -> str:
    """Return the text a reader sees, with line breaks where the source has them."""
    parts = {"softbreak": "\n", "hardbreak": "\n"}
    return "".join(
        c.content if c.type in ("text", "code_inline") else parts.get(c.type, "") for c in children
    )
