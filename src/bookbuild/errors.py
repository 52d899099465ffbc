"""Diagnostics that point at the manuscript, and the errors that carry them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bookbuild.model import SourceLocation


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    location: SourceLocation | None = None

    def format(self) -> str:
        """Return the diagnostic as `path:line:col: severity: message [code]`."""
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity.value}: {self.message} [{self.code}]"


def error(code: str, message: str, location: SourceLocation | None = None) -> Diagnostic:
    """Return an error diagnostic."""
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, location=location)


def warning(code: str, message: str, location: SourceLocation | None = None) -> Diagnostic:
    """Return a warning diagnostic."""
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, location=location)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """Return whether any diagnostic is an error."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


class BookbuildError(Exception):
    """An expected failure, reported to the user without a traceback."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class ManuscriptError(BookbuildError):
    """The manuscript has errors; nothing was written."""


class OutputError(BookbuildError):
    """An output could not be produced; earlier outputs are untouched."""
