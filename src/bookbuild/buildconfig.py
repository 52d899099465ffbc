"""The `build:` section of book.yaml: a book's own build settings, which flags override."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bookbuild.errors import Collector, Diagnostic, ManuscriptError
from bookbuild.model import NUMBERINGS, PLACEMENTS, Book, Numbering, Placement
from bookbuild.printsetup import (
    PrintSetup,
    combination_problem,
    parse_bleed,
    parse_marks,
    parse_paper,
    parse_variant,
)
from bookbuild.sources import read_source
from bookbuild.yamlsrc import YamlDoc, key_names, key_nodes, parse_yaml

FORMATS = ("pdf", "epub", "kepub", "html")
BUILD_KEYS = (
    "formats",
    "paper",
    "pdf-variant",
    "styles",
    "verify",
    "bleed",
    "marks",
    "notes",
    "note-numbering",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildConfig:
    """What book.yaml asks for; None where it says nothing (or something invalid)."""

    formats: tuple[str, ...] | None = None
    paper: str | None = None
    pdf_variant: str | None = None
    styles: Path | None = None
    verify: bool | None = None
    bleed: str | None = None
    marks: str | None = None
    notes: Placement | None = None
    note_numbering: Numbering | None = None


def parse_notes(value: str) -> Placement:
    """Return a note placement: page, chapter-end or book-end."""
    if value not in PLACEMENTS:
        raise ValueError(f"notes '{value}' must be one of {', '.join(PLACEMENTS)}")
    return value


def parse_note_numbering(value: str) -> Numbering:
    """Return a note numbering: chapter or book."""
    if value not in NUMBERINGS:
        raise ValueError(f"note-numbering '{value}' must be one of {', '.join(NUMBERINGS)}")
    return value


def apply_note_settings(book: Book, notes: Placement | None, numbering: Numbering | None) -> Book:
    """Return the book with its note placement and numbering replaced where one is given."""
    if notes is None and numbering is None:
        return book
    meta = dataclasses.replace(
        book.meta,
        notes=notes or book.meta.notes,
        note_numbering=numbering or book.meta.note_numbering,
    )
    return dataclasses.replace(book, meta=meta)


def parse_formats(value: str) -> tuple[str, ...]:
    """Return the formats of a comma-separated list such as pdf,epub."""
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        shown = ", ".join(unknown) or repr(value)
        raise ValueError(f"unknown format {shown} (choose from {', '.join(FORMATS)})")
    return chosen


def read_build_config(book_dir: Path) -> tuple[BuildConfig, tuple[Diagnostic, ...]]:
    """Return book.yaml's build settings and the problems with them."""
    found = Collector()
    path = book_dir / "book.yaml"
    try:
        doc = parse_yaml(read_source(path, book_dir).text, path)
    except (ManuscriptError, OSError):  # loading the book reports these at their place
        return BuildConfig(), ()
    if not isinstance(doc.data, dict) or doc.data.get("build") is None:
        return BuildConfig(), ()
    section = YamlDoc(
        data=doc.data["build"], node=key_nodes(doc.node).get("build"), path=path, first_line=1
    )
    if not isinstance(section.data, dict):
        found.error("BB105", "'build' must be a mapping of settings", section.locate(section.node))
        return BuildConfig(), tuple(found)
    for key, node in key_names(section.node).items():
        if key not in BUILD_KEYS:
            known = ", ".join(BUILD_KEYS)
            found.warn("BB104", f"unknown key 'build.{key}' (known: {known})", doc.locate(node))
    config = _config(section, book_dir, found)
    _check_combination(config, section, found)
    return config, tuple(found)


def _check_combination(config: BuildConfig, section: YamlDoc, found: Collector) -> None:
    """Report, at the marks line, settings of book.yaml that cannot go together."""
    setup = PrintSetup(marks=config.marks)
    if problem := combination_problem(config.pdf_variant or "pdf/ua-1", setup):
        found.error(
            "BB105", f"build.marks: {problem}", section.locate(key_nodes(section.node)["marks"])
        )


def _config(section: YamlDoc, book_dir: Path, found: Collector) -> BuildConfig:
    data: dict[str, Any] = section.data

    def value(key: str, parse: Callable[[str], Any]) -> Any:
        raw = data.get(key)
        if raw is None:
            return None
        if isinstance(raw, list) and key == "formats":
            raw = ",".join(str(item) for item in raw)
        where = section.locate(key_nodes(section.node).get(key))
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            found.error("BB105", f"'build.{key}' must be text", where)
            return None
        try:
            return parse(str(raw))
        except ValueError as exc:
            found.error("BB105", f"build.{key}: {exc}", where)
            return None

    # Read in the order of BUILD_KEYS' usual layout, so problems come out in line order.
    settings: dict[str, Any] = {
        "formats": value("formats", parse_formats),
        "paper": value("paper", parse_paper),
        "pdf_variant": value("pdf-variant", parse_variant),
        "styles": (book_dir / styles) if (styles := value("styles", str)) else None,
        "bleed": value("bleed", parse_bleed),
        "marks": value("marks", parse_marks),
        "notes": value("notes", parse_notes),
        "note_numbering": value("note-numbering", parse_note_numbering),
    }
    verify = data.get("verify")
    if verify is not None and not isinstance(verify, bool):
        where = section.locate(key_nodes(section.node).get("verify"))
        found.error("BB105", "'build.verify' must be true or false", where)
        verify = None
    return BuildConfig(**settings, verify=verify)
