"""Read manuscript files: UTF-8 text, line ends and YAML front matter."""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bookbuild.errors import Diagnostic, ManuscriptError, error, warning
from bookbuild.model import SourceLocation

# The largest manuscript file read, unless book.yaml's `limits: file-size` says otherwise.
DEFAULT_FILE_SIZE = 2 * 1024 * 1024
# Characters XML 1.0 cannot hold (tab and line ends aside), and lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Word's manual line break (Shift+Enter) and the form feed read as spaces; the rest as U+FFFD.
_AS_SPACE = "\x0b\x0c"
_MAX_CHARACTER_REPORTS = 20

_FENCE = "---"
_FENCE_END = ("---", "...")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceText:
    path: Path
    text: str
    lines: tuple[str, ...]
    warnings: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FrontMatterSplit:
    yaml_text: str | None
    yaml_first_line: int
    body: str
    body_first_line: int


def read_source(path: Path, root: Path | None = None, limit: int = DEFAULT_FILE_SIZE) -> SourceText:
    """Return a manuscript file's text: BOM removed, CRLF folded to LF, XML-safe characters.

    The file must lie inside `root` (by default, its own folder) under the reading policy.
    """
    raw = read_manuscript_bytes(path, path.parent if root is None else root, limit)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        where = SourceLocation(path=path, line=line, col=col)
        message = f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        raise ManuscriptError([error("BB101", message, where)]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = tuple(text.split("\n"))
    found = tuple(report_characters(lines, path))
    if found:
        text = replace_characters(text)
        lines = tuple(text.split("\n"))
    return SourceText(path=path, text=text, lines=lines, warnings=found)


def read_manuscript_bytes(path: Path, root: Path, limit: int = DEFAULT_FILE_SIZE) -> bytes:
    """Return a file's bytes if it is a regular file inside `root` no larger than `limit`."""
    inside = within(path, root)
    status = _status(path, inside)
    if stat.S_ISDIR(status.st_mode):
        raise _refusal("BB113", f"cannot read the file: {os.strerror(errno.EISDIR)}", path)
    if not stat.S_ISREG(status.st_mode):
        raise _refusal("BB115", f"is {_kind(status.st_mode)}, not a regular file", path)
    if status.st_size > limit:
        raise _too_large(path, limit)
    # O_NONBLOCK: should the file be swapped for a named pipe after the check, opening it
    # still cannot hang; O_NOFOLLOW: nor can it be swapped for a link leading elsewhere.
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(inside, flags)
    except OSError as exc:
        raise _refusal("BB113", f"cannot read the file: {exc.strerror}", path) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _refusal("BB115", "is not a regular file", path)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _too_large(path, limit)
    return data


def within(path: Path, root: Path) -> Path:
    """Return `path` with every link resolved; refuse it when that leaves `root`."""
    resolved = Path(os.path.realpath(path))
    if not resolved.is_relative_to(os.path.realpath(root)):
        message = "leads outside the manuscript folder (through a symbolic link); not read"
        raise _refusal("BB114", message, path)
    return resolved


def _status(path: Path, resolved: Path) -> os.stat_result:
    try:
        return os.stat(resolved)
    except OSError as exc:
        raise _refusal("BB113", f"cannot read the file: {exc.strerror}", path) from None


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _too_large(path: Path, limit: int) -> ManuscriptError:
    message = (
        f"file is larger than the limit of {format_size(limit)}; "
        "raise `limits: file-size` in book.yaml to read it"
    )
    return _refusal("BB116", message, path)


def format_size(size: int) -> str:
    """Return a byte count as MiB, KiB or bytes, whichever is whole."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def _refusal(code: str, message: str, path: Path) -> ManuscriptError:
    return ManuscriptError([error(code, message, SourceLocation(path=path, line=0))])


def report_characters(lines: tuple[str, ...], path: Path, first_line: int = 1) -> list[Diagnostic]:
    """Warn, at its line and column, about each line's first character XML cannot hold."""
    found = []
    bad_lines = [(n, m) for n, line in enumerate(lines) if (m := _NOT_XML.search(line))]
    for n, match in bad_lines[:_MAX_CHARACTER_REPORTS]:
        where = SourceLocation(path=path, line=first_line + n, col=match.start() + 1)
        found.append(warning("BB117", character_message(match[0]), where))
    if len(bad_lines) > _MAX_CHARACTER_REPORTS:
        more = len(bad_lines) - _MAX_CHARACTER_REPORTS
        where = SourceLocation(path=path, line=first_line + bad_lines[_MAX_CHARACTER_REPORTS][0])
        found.append(warning("BB117", f"{more} more lines hold such characters", where))
    return found


def character_message(char: str) -> str:
    """Say which character XML cannot hold and what it was replaced with."""
    instead = "a space" if char in _AS_SPACE else "U+FFFD"
    return f"character U+{ord(char):04X} cannot appear in XML; it was replaced with {instead}"


def has_bad_characters(text: str) -> str | None:
    """Return the first character XML cannot hold, or None."""
    match = _NOT_XML.search(text)
    return match[0] if match else None


def replace_characters(text: str) -> str:
    """Return the text with every character XML cannot hold replaced."""
    return _NOT_XML.sub(lambda m: " " if m[0] in _AS_SPACE else "\ufffd", text)


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
