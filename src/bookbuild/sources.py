"""Read manuscript files: UTF-8 text, line ends and YAML front matter."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bookbuild.errors import ManuscriptError, error
from bookbuild.model import SourceLocation

_FENCE = "---"
_FENCE_END = ("---", "...")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceText:
    path: Path
    text: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FrontMatterSplit:
    yaml_text: str | None
    yaml_first_line: int
    body: str
    body_first_line: int


def read_source(path: Path) -> SourceText:
    """Return a file's text with any BOM removed and CRLF line ends folded to LF."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        where = SourceLocation(path=path, line=0)
        raise ManuscriptError(
            [error("BB113", f"cannot read the file: {exc.strerror}", where)]
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        where = SourceLocation(path=path, line=line, col=col)
        message = f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        raise ManuscriptError([error("BB101", message, where)]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(path=path, text=text, lines=tuple(text.split("\n")))


def split_front_matter(source: SourceText) -> FrontMatterSplit:
    """Split a chapter into its YAML front matter and Markdown body, keeping line numbers."""
    lines = source.lines
    if not lines or lines[0].rstrip() != _FENCE:
        return FrontMatterSplit(
            yaml_text=None, yaml_first_line=1, body=source.text, body_first_line=1
        )
    for n, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _FENCE_END:
            body = "\n".join(lines[n + 1 :])
            return FrontMatterSplit(
                yaml_text="\n".join(lines[1:n]), yaml_first_line=2, body=body, body_first_line=n + 2
            )
    where = SourceLocation(path=source.path, line=1)
    raise ManuscriptError([error("BB108", "front matter is not closed with '---'", where)])


def slugify(text: str) -> str:
    """Return a lowercase ASCII slug made of letters, digits and hyphens."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
