"""Load a manuscript folder into a validated, frozen Book."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from bookbuild import body, markup
from bookbuild.dates import DateError, EdtfDate, parse_date
from bookbuild.errors import Collector, Diagnostic, ManuscriptError, has_errors
from bookbuild.model import (
    NUMBERINGS,
    PLACEMENTS,
    RESERVED_IDS,
    Book,
    Chapter,
    GlossaryEntry,
    Metadata,
    SourceLocation,
)
from bookbuild.sources import read_source, slugify, split_front_matter
from bookbuild.yamlsrc import YamlDoc, item_nodes, key_names, key_nodes, parse_yaml

T = TypeVar("T")

BOOK_KEYS = (
    "title",
    "language",
    "identifier",
    "subtitle",
    "authors",
    "publisher",
    "date",
    "description",
    "rights",
    "slug",
    "notes",
    "note-numbering",
)
CHAPTER_KEYS = ("title", "era", "summary", "id")
GLOSSARY_KEYS = ("term", "kind", "description", "aliases")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_UUID_URN = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_ISBN = re.compile(r"^(urn:isbn:)?(97[89]-?)?(\d-?){9}[\dX]$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def load_manuscript(root: Path) -> tuple[Book, tuple[Diagnostic, ...]]:
    """Return the book in `root` and its warnings; raise ManuscriptError on any error."""
    found = Collector()
    meta = found.guard(lambda: load_metadata(root, found))
    chapters = tuple(
        chapter
        for path in chapter_paths(root, found)
        if (chapter := found.guard(lambda path=path: load_chapter(root, path, found)))  # type: ignore[misc]
    )
    glossary = found.guard(lambda: load_glossary(root, found)) or ()
    validate_unique_ids(chapters, glossary, found)
    if has_errors(found) or meta is None:
        raise ManuscriptError(found)
    return Book(root=root, meta=meta, chapters=chapters, glossary=glossary), tuple(found)


# book.yaml


def load_metadata(root: Path, found: Collector) -> Metadata | None:
    """Return the book's metadata from book.yaml."""
    path = root / "book.yaml"
    if not path.is_file():
        found.error("BB100", "missing book.yaml", SourceLocation(path=path, line=0))
        return None
    doc = parse_yaml(read_source(path).text, path)
    fields = _mapping(doc, BOOK_KEYS, found)
    if fields is None or not _has_required(doc, fields, ("title", "language", "identifier"), found):
        return None
    return _metadata(doc, fields, found)


def _metadata(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> Metadata | None:
    title = _text(doc, fields, "title", found)
    language = _matching(
        doc, fields, "language", _LANGUAGE, "a BCP 47 language tag", "BB109", found
    )
    identifier = _identifier(doc, fields, found)
    authors = _text_list(doc, fields, "authors", found)
    slug = str(fields.get("slug") or slugify(title or "") or "book")
    if slug != slugify(slug):
        found.error(
            "BB105",
            f"slug '{slug}' must be lowercase letters, digits and hyphens",
            _at(doc, "slug"),
        )
    if title is None or language is None or identifier is None:
        return None
    return Metadata(
        title=title,
        subtitle=_text(doc, fields, "subtitle", found),
        language=language,
        identifier=identifier,
        authors=authors,
        publisher=_text(doc, fields, "publisher", found),
        date=_date(doc, fields, found),
        description=_text(doc, fields, "description", found),
        rights=_text(doc, fields, "rights", found),
        slug=slug,
        notes=_choice(doc, fields, "notes", PLACEMENTS, found),
        note_numbering=_choice(doc, fields, "note-numbering", NUMBERINGS, found),
    )


def _choice(
    doc: YamlDoc, fields: dict[str, Any], key: str, choices: Sequence[T], found: Collector
) -> T:
    """Return the value of `key` if it is one of `choices`, else the first (the default)."""
    value = _text(doc, fields, key, found)
    if value is None:
        return choices[0]
    match = next((c for c in choices if c == value), None)
    if match is None:
        options = " | ".join(str(c) for c in choices)
        found.error("BB105", f"{key} '{value}' must be one of: {options}", _at(doc, key))
        return choices[0]
    return match


def _identifier(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> str | None:
    value = _text(doc, fields, "identifier", found)
    if value is not None and not (_UUID_URN.match(value) or _ISBN.match(value)):
        found.error(
            "BB110",
            f"identifier '{value}' is neither a urn:uuid nor an ISBN",
            _at(doc, "identifier"),
        )
        return None
    return value


def _date(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> str | None:
    value = fields.get("date")
    if value is None or isinstance(value, datetime.date):
        return value.isoformat()[:10] if value else None
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        found.error(
            "BB105", f"date '{value}' is not an ISO 8601 date (YYYY-MM-DD)", _at(doc, "date")
        )
        return None


# chapters


def chapter_paths(root: Path, found: Collector) -> list[Path]:
    """Return the chapter files in file-name order."""
    folder = root / "chapters"
    paths = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not paths:
        found.error(
            "BB106",
            "no chapters: add Markdown files to this folder",
            SourceLocation(path=folder, line=0),
        )
    return paths


def load_chapter(root: Path, path: Path, found: Collector) -> Chapter | None:
    """Return one chapter with its events and images, validated."""
    source = read_source(path)
    split = split_front_matter(source)
    if split.yaml_text is None:
        found.error(
            "BB108",
            "chapter has no YAML front matter (start the file with '---')",
            SourceLocation(path=path, line=1),
        )
        return None
    doc = parse_yaml(split.yaml_text, path, split.yaml_first_line)
    fields = _mapping(doc, CHAPTER_KEYS, found)
    if fields is None or not _has_required(doc, fields, ("title",), found):
        return None
    chapter_id = _chapter_id(doc, fields, path, found)
    era = _era(doc, fields, found)
    env: dict[str, Any] = {}
    tokens = markup.create_parser().parse(split.body, env)
    parsed = body.ParsedBody(
        root=root,
        source=source,
        first_line=split.body_first_line,
        chapter_id=chapter_id,
        era=era,
        found=found,
    )
    parsed.walk(tokens)
    parsed.check_footnotes(tokens, env)
    markup.mark_blocks(tokens, chapter_id)
    title = _text(doc, fields, "title", found)
    if title is None:
        return None
    return Chapter(
        id=chapter_id,
        title=title,
        era=era,
        summary=_text(doc, fields, "summary", found),
        tokens=tuple(tokens),
        events=tuple(parsed.events),
        images=tuple(parsed.images),
        links=tuple(parsed.links),
        anchors=tuple(parsed.anchors),
        note_locations=tuple(parsed.note_locations[n] for n in sorted(parsed.note_locations)),
        source=path,
        location=SourceLocation(path=path, line=1),
    )


def _chapter_id(doc: YamlDoc, fields: dict[str, Any], path: Path, found: Collector) -> str:
    if "id" in fields:
        value = str(fields["id"])
        if not _ID.match(value):
            found.error(
                "BB105",
                f"id '{value}' must start with a letter and use only letters, digits, '-' and '_'",
                _at(doc, "id"),
            )
        return value
    slug = slugify(re.sub(r"^\d+[-_. ]*", "", path.stem))
    return slug if slug and slug[0].isalpha() else f"chapter-{slug or path.stem}"


def _era(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> EdtfDate | None:
    if fields.get("era") is None:
        return None
    text = str(fields["era"])
    try:
        return parse_date(text)
    except DateError as exc:
        found.error("BB204", f"era {exc}", _at(doc, "era"))
        return None


# glossary.yaml


def load_glossary(root: Path, found: Collector) -> tuple[GlossaryEntry, ...]:
    """Return the glossary entries from glossary.yaml, if there is one."""
    path = root / "glossary.yaml"
    if not path.is_file():
        return ()
    doc = parse_yaml(read_source(path).text, path)
    if doc.data is None:
        return ()
    if not isinstance(doc.data, list):
        found.error("BB105", "glossary.yaml must be a list of entries", doc.locate(doc.node))
        return ()
    entries = (
        _glossary_entry(doc, data, node, found)
        for data, node in zip(doc.data, item_nodes(doc.node), strict=True)
    )
    return tuple(e for e in entries if e is not None)


def _glossary_entry(doc: YamlDoc, data: Any, node: Any, found: Collector) -> GlossaryEntry | None:
    item = YamlDoc(data=data, node=node, path=doc.path, first_line=doc.first_line)
    fields = _mapping(item, GLOSSARY_KEYS, found)
    if fields is None or not _has_required(item, fields, ("term", "description"), found):
        return None
    term = _text(item, fields, "term", found)
    description = _text(item, fields, "description", found)
    if term is None or description is None:
        return None
    return GlossaryEntry(
        id=f"g-{slugify(term) or 'term'}",
        term=term,
        kind=_text(item, fields, "kind", found) or "",
        description=description,
        aliases=_text_list(item, fields, "aliases", found),
        location=item.locate(node),
    )


def validate_unique_ids(
    chapters: Sequence[Chapter], glossary: Sequence[GlossaryEntry], found: Collector
) -> None:
    """Report chapters, events and glossary entries that share an id."""
    seen: dict[str, SourceLocation] = {}
    for chapter in chapters:
        if chapter.id in RESERVED_IDS:
            found.error(
                "BB107",
                f"chapter id '{chapter.id}' is reserved for a generated part of the "
                "book; set another `id` in the front matter",
                chapter.location,
            )
    for chapter in chapters:
        _claim(seen, chapter.id, chapter.location, "chapter id", "BB107", found)
    for event in (e for c in chapters for e in c.events):
        _claim(seen, event.id, event.location, "event id", "BB206", found)
    for entry in glossary:
        label = f"glossary term '{entry.term}', as id"
        _claim(seen, entry.id, entry.location, label, "BB402", found)


def _claim(
    seen: dict[str, SourceLocation],
    key: str,
    where: SourceLocation,
    what: str,
    code: str,
    found: Collector,
) -> None:
    if key in seen:
        found.error(code, f"{what} '{key}' is already used at {seen[key]}", where)
    else:
        seen[key] = where


# typed access to YAML fields


def _at(doc: YamlDoc, key: str) -> SourceLocation:
    return doc.locate(key_nodes(doc.node).get(key, doc.node))


def _mapping(doc: YamlDoc, keys: Sequence[str], found: Collector) -> dict[str, Any] | None:
    if not isinstance(doc.data, dict):
        found.error("BB105", "expected a mapping of keys to values", doc.locate(doc.node))
        return None
    for key, node in key_names(doc.node).items():
        if key not in keys:
            found.warn("BB104", f"unknown key '{key}' (known: {', '.join(keys)})", doc.locate(node))
    return {str(k): v for k, v in doc.data.items()}


def _has_required(
    doc: YamlDoc, fields: dict[str, Any], keys: Sequence[str], found: Collector
) -> bool:
    missing = [k for k in keys if fields.get(k) in (None, "")]
    for key in missing:
        found.error("BB103", f"missing required key '{key}'", doc.locate(doc.node))
    return not missing


def _text(doc: YamlDoc, fields: dict[str, Any], key: str, found: Collector) -> str | None:
    value = fields.get(key)
    if value is None or isinstance(value, str):
        return value.strip() if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    found.error("BB105", f"'{key}' must be text", _at(doc, key))
    return None


def _text_list(doc: YamlDoc, fields: dict[str, Any], key: str, found: Collector) -> tuple[str, ...]:
    value = fields.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    found.error("BB105", f"'{key}' must be a list of text", _at(doc, key))
    return ()


def _matching(
    doc: YamlDoc,
    fields: dict[str, Any],
    key: str,
    pattern: re.Pattern[str],
    what: str,
    code: str,
    found: Collector,
) -> str | None:
    value = _text(doc, fields, key, found)
    if value is not None and not pattern.match(value):
        found.error(code, f"{key} '{value}' is not {what}", _at(doc, key))
        return None
    return value
