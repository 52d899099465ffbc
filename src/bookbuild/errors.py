"""Diagnostics that point at the manuscript, and the errors that carry them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from bookbuild.model import SourceLocation

T = TypeVar("T")


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    location: SourceLocation | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the diagnostic as plain data, for `--format json`."""
        where = self.location
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": _printable(str(where.path)) if where else None,
            "line": where.line if where and where.line > 0 else None,
            "col": where.col if where and where.line > 0 else None,
        }

    def format(self) -> str:
        """Return the diagnostic as `path:line:col: severity: message [code]`."""
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity.value}: {self.message} [{self.code}]"


def _printable(path: str) -> str:
    """Return a path as valid Unicode: bytes of a file name that are not UTF-8 as `\\xff`."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def error(code: str, message: str, location: SourceLocation | None = None) -> Diagnostic:
    """Return an error diagnostic."""
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, location=location)


def warning(code: str, message: str, location: SourceLocation | None = None) -> Diagnostic:
    """Return a warning diagnostic."""
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, location=location)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """Return whether any diagnostic is an error."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


class Collector(list[Diagnostic]):
    """The diagnostics gathered while loading, reported together at the end."""

    def error(self, code: str, message: str, where: SourceLocation | None) -> None:
        self.append(error(code, message, where))

    def warn(self, code: str, message: str, where: SourceLocation | None) -> None:
        self.append(warning(code, message, where))

    def guard(self, load: Callable[[], T]) -> T | None:
        """Run one loader, collecting a ManuscriptError's diagnostics instead of raising."""
        try:
            return load()
        except ManuscriptError as exc:
            self.extend(exc.diagnostics)
            return None


class BookbuildError(Exception):
    """An expected failure, reported to the user without a traceback."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class ManuscriptError(BookbuildError):
    """The manuscript has errors; nothing was written."""


class OutputError(BookbuildError):
    """An output could not be produced; earlier outputs are untouched."""
