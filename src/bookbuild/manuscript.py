"""Load a manuscript folder into a validated, frozen Book."""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from markdown_it import MarkdownIt

from bookbuild import body, chaptercache, ids, markup, sections
from bookbuild.attribution import parse_sources
from bookbuild.chaptermemo import ChapterMemo
from bookbuild.constructs import ConstructCheck
from bookbuild.dates import DateError, EdtfDate, YearRangeError, parse_date
from bookbuild.errors import Collector, Diagnostic, ManuscriptError, has_errors
from bookbuild.langtags import is_language_tag
from bookbuild.limits import (
    LIMITS,
    Limits,
    check_book_size,
    check_nesting,
    check_words,
    long_run,
    parse_limit,
    word_message,
)
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
from bookbuild.sources import (
    character_message,
    has_bad_characters,
    read_manuscript_bytes,
    read_source,
    replace_characters,
    slugify,
    split_front_matter,
    within,
)
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
    "era-notation",
    "limits",
    "notes",
    "note-numbering",
    "build",
    "bibliography",
    "citation-style",
    "nocite",
    "lists",
    "require-sources",
    "index",
)
ERA_NOTATIONS = ("BCE", "BC")
CHAPTER_KEYS = ("title", "era", "summary", "id", "authors", "author")
GLOSSARY_KEYS = ("term", "kind", "description", "aliases", "source")
_UUID_URN = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_ISBN = re.compile(r"^(urn:isbn:)?(97[89]-?)?(\d-?){9}[\dX]$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# Values that are never set as lines of text, so the word-length limit does not apply.
_NOT_LAID_OUT = frozenset(
    {"identifier", "language", "slug", "date", "id", "era", "era-notation", "limits"}
    | {"bibliography", "citation-style", "nocite", "lists", "require-sources", "source"}
)
# Editors' lock, swap and backup files (Emacs `.#x.md`, `#x.md#`, `x.md~`; Vim `.x.md.swp`).
_NOT_A_CHAPTER = re.compile(r"^[.#]|~$")


def load_manuscript(root: Path) -> tuple[Book, tuple[Diagnostic, ...]]:
    """Return the book in `root` and its warnings; raise ManuscriptError on any error."""
    draft = draft_manuscript(root)
    if has_errors(draft.diagnostics):
        raise ManuscriptError(draft.diagnostics)
    return draft.book, draft.diagnostics


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """Whatever of a manuscript loaded, with every problem found on the way.

    With errors, `book` is for the book-wide checks only: its metadata may be a stand-in, and
    `complete` says whether every chapter and the glossary are in it.
    """

    book: Book
    complete: bool
    diagnostics: tuple[Diagnostic, ...]


# Stands in for a book.yaml that did not load, so the checks of the chapters can still run.
_NO_METADATA = Metadata(
    title="",
    subtitle=None,
    language="und",
    identifier="",
    authors=(),
    publisher=None,
    date=None,
    description=None,
    rights=None,
    slug="book",
)


def draft_manuscript(root: Path, memo: ChapterMemo | None = None) -> Draft:
    """Load what can be loaded of the book in `root`; never raise for the manuscript's errors.

    With a `memo`, a chapter whose file and book.yaml are as they were last time is not parsed
    again (the preview's rebuilds).
    """
    found = Collector()
    doc = found.guard(lambda: read_book_yaml(root, found))
    limits = load_limits(doc, found) if doc else Limits()
    meta = found.guard(lambda: load_metadata(doc, found, limits)) if doc else None
    paths = chapter_paths(root, found)
    language = meta.language if meta else "en"
    if too_large := list(check_book_size(root, [*paths, root / "glossary.yaml"], limits)):
        raise ManuscriptError([*found, *too_large])
    if memo is None:
        settings = _settings_bytes(root)
        loaded: Iterable[Chapter | None] = chaptercache.load_chapters(
            [
                (
                    _cache_key(root, path, limits, settings),
                    functools.partial(_load_into, root, path, limits, language),
                )
                for path in paths
            ],
            found,
        )
    else:
        memo.forget_others(paths)
        settings = _settings_bytes(root)  # the language and the limits are in it
        loaded = (
            memo.load(
                path,
                (str(path).encode(), _file_bytes(root, path, limits), settings),
                found,
                lambda own, path=path: load_chapter(root, path, own, limits, language),  # type: ignore[misc]
            )
            for path in paths
        )
    chapters = tuple(chapter for chapter in loaded if chapter)
    glossary = found.guard(lambda: load_glossary(root, found, limits))
    validate_unique_ids(chapters, glossary or (), found)
    found.extend(ids.validate_author_ids(chapters, glossary or ()))
    chapters = sections.assign_heading_ids(chapters, glossary or ())
    book = Book(root=root, meta=meta or _NO_METADATA, chapters=chapters, glossary=glossary or ())
    complete = len(chapters) == len(paths) and glossary is not None
    return Draft(book=book, complete=complete, diagnostics=tuple(found))


def _settings_bytes(root: Path) -> bytes:
    """Return book.yaml's bytes: the settings (limits, language) that a chapter's loading reads."""
    try:
        return (root / "book.yaml").read_bytes()
    except OSError:
        return b"\0unreadable"


def _cache_key(root: Path, path: Path, limits: Limits, settings: bytes) -> list[bytes] | None:
    """Return what a chapter's loading reads, as the disk cache's key; None if unreadable."""
    try:
        data = read_manuscript_bytes(path, root, limits.file_size)
    except (OSError, ManuscriptError):
        return None  # loaded afresh each time, so its error is reported as it is now
    # A loaded chapter holds its paths as given and as resolved from the working folder.
    where = b"\0".join(os.fsencode(place) for place in (os.getcwd(), root, path))
    return [where, data, settings]


def _load_into(
    root: Path, path: Path, limits: Limits, language: str, found: Collector
) -> Chapter | None:
    return load_chapter(root, path, found, limits, language)


def _file_bytes(root: Path, path: Path, limits: Limits) -> bytes:
    """Return a chapter file's bytes for the memo's key, or a key that never matches."""
    try:
        return read_manuscript_bytes(path, root, limits.file_size)
    except (OSError, ManuscriptError):
        return os.urandom(16)  # loaded afresh, so its error is reported as it is now


# book.yaml


def read_book_yaml(root: Path, found: Collector) -> YamlDoc | None:
    """Return book.yaml parsed, or None when there is none."""
    path = root / "book.yaml"
    if not os.path.lexists(path):
        found.error("BB100", "missing book.yaml", SourceLocation(path=path, line=0))
        return None
    return parse_yaml(_read(root, path, Limits(), found), path)


def load_limits(doc: YamlDoc, found: Collector) -> Limits:
    """Return the limits book.yaml sets (`limits:`), each within its ceiling."""
    value = doc.data.get("limits") if isinstance(doc.data, dict) else None
    if value is None:
        return Limits()
    node = key_nodes(doc.node).get("limits")
    item = YamlDoc(data=value, node=node, path=doc.path, first_line=doc.first_line)
    fields = _mapping(item, [limit.key for limit in LIMITS], found) or {}
    chosen: dict[str, int] = {}
    for limit in (limit for limit in LIMITS if limit.key in fields):
        parsed = parse_limit(limit, fields[limit.key])
        if isinstance(parsed, str):
            found.error("BB105", parsed, _at(item, limit.key))
        else:
            chosen[limit.key.replace("-", "_")] = parsed
    return Limits(**chosen)


def load_metadata(doc: YamlDoc, found: Collector, limits: Limits) -> Metadata | None:
    """Return the book's metadata from book.yaml."""
    fields = _mapping(doc, BOOK_KEYS, found)
    if fields is None or not _has_required(doc, fields, ("title", "language", "identifier"), found):
        return None
    _check_words(doc, fields, limits, found)
    return _metadata(doc, fields, found)


def _read(root: Path, path: Path, limits: Limits, found: Collector) -> str:
    """Return a manuscript file's text, read under the reading policy; note its warnings."""
    source = read_source(path, root, limits.file_size)
    found.extend(source.warnings)
    return source.text


def _metadata(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> Metadata | None:
    title = _text(doc, fields, "title", found)
    language = _language(doc, fields, found)
    identifier = _identifier(doc, fields, found)
    authors = _text_list(doc, fields, "authors", found)
    slug = _text(doc, fields, "slug", found) or slugify(title or "") or "book"
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
        era_notation=_era_notation(doc, fields, found),
        notes=_choice(doc, fields, "notes", PLACEMENTS, found),
        note_numbering=_choice(doc, fields, "note-numbering", NUMBERINGS, found),
        require_sources=_flag(doc, fields, "require-sources", found),
    )


def _flag(doc: YamlDoc, fields: dict[str, Any], key: str, found: Collector) -> bool:
    value = fields.get(key, False)
    if isinstance(value, bool):
        return value
    found.error("BB105", f"'{key}' must be true or false", _at(doc, key))
    return False


def _language(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> str | None:
    value = _text(doc, fields, "language", found)
    if value is not None and not is_language_tag(value):
        found.error(
            "BB109", f"language '{value}' is not a BCP 47 language tag", _at(doc, "language")
        )
        return None
    return value


def _era_notation(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> str:
    value = _text(doc, fields, "era-notation", found) or "BCE"
    if value not in ERA_NOTATIONS:
        found.error("BB105", f"era-notation '{value}' must be BCE or BC", _at(doc, "era-notation"))
    return value


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
    value = _text(doc, fields, "date", found)
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        found.error(
            "BB105", f"date '{value}' is not an ISO 8601 date (YYYY-MM-DD)", _at(doc, "date")
        )
        return None


# chapters


def chapter_paths(root: Path, found: Collector) -> list[Path]:
    """Return the chapter files in file-name order, leaving out hidden and editor files."""
    folder = root / "chapters"
    if found.guard(lambda: within(folder, root)) is None and folder.exists():
        return []
    paths = sorted(p for p in folder.glob("*.md") if not _NOT_A_CHAPTER.search(p.name))
    if not paths:
        found.error(
            "BB106",
            "no chapters: add Markdown files to this folder",
            SourceLocation(path=folder, line=0),
        )
    return paths


@functools.cache
def _chapter_parser(language: str) -> MarkdownIt:
    """Return the one parser every chapter in `language` goes through: it keeps no state."""
    return markup.create_parser(language)


def load_chapter(
    root: Path, path: Path, found: Collector, limits: Limits, language: str = "en"
) -> Chapter | None:
    """Return one chapter with its events and images, validated; quotes curl the language's way."""
    source = read_source(path, root, limits.file_size)
    found.extend(source.warnings)
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
    _check_words(doc, fields, limits, found)
    chapter_id = _chapter_id(doc, fields, path, found)
    era = _era(doc, fields, found)
    env: dict[str, Any] = {}
    tokens = _chapter_parser(language).parse(split.body, env)
    if too_deep := list(check_nesting(tokens, path, split.body_first_line, limits)):
        found.extend(too_deep)  # the checks below walk the tokens; refuse before they do
        return None
    found.extend(check_words(tokens, path, split.body_first_line, source.lines, limits))
    parsed = body.ParsedBody(
        root=root,
        source=source,
        first_line=split.body_first_line,
        chapter_id=chapter_id,
        era=era,
        found=found,
    )
    parsed.walk(tokens)
    for event in parsed.events:
        # The chronology sets an event's title as text, even when only an attribute gave it.
        if run := long_run(event.title, limits.word_length):
            found.error("BB122", word_message(run[0], limits.word_length), event.location)
    parsed.check_footnotes(tokens, env)
    constructs = ConstructCheck(source=source, first_line=split.body_first_line, found=found)
    constructs.walk(tokens)
    sections.nest_headings(markup.body_tokens(tokens))
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
        links=(*parsed.links, *constructs.links),
        anchors=tuple(parsed.anchors),
        author_ids=tuple(parsed.author_ids),
        authors=(
            *_text_list(doc, fields, "authors", found),
            *_text_list(doc, fields, "author", found),
        ),
        note_locations=tuple(parsed.note_locations[n] for n in sorted(parsed.note_locations)),
        source=path,
        location=SourceLocation(path=path, line=1),
        era_location=_at(doc, "era") if era else None,
    )


def _chapter_id(doc: YamlDoc, fields: dict[str, Any], path: Path, found: Collector) -> str:
    if "id" in fields:
        value = _text(doc, fields, "id", found) or ""
        if not _ID.match(value):
            found.error(
                "BB105",
                f"id '{value}' must start with a letter and use only letters, digits, '-' and '_'",
                _at(doc, "id"),
            )
        return value
    slug = slugify(re.sub(r"^\d+[-_. ]*", "", path.stem))
    if slug and slug[0].isalpha():
        return slug
    # A name with nothing to slug (`\x1f.md`, `——.md`) may hold anything: never put it in an id.
    stem = path.stem.encode("utf-8", "surrogateescape")
    return f"chapter-{slug or hashlib.sha256(stem).hexdigest()[:8]}"


def _era(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> EdtfDate | None:
    text = _text(doc, fields, "era", found)
    if text is None:
        return None
    try:
        return parse_date(text)
    except YearRangeError as exc:
        found.error("BB211", f"era {exc}", _at(doc, "era"))
    except DateError as exc:
        found.error("BB204", f"era {exc}", _at(doc, "era"))
    return None


# glossary.yaml


def load_glossary(root: Path, found: Collector, limits: Limits) -> tuple[GlossaryEntry, ...]:
    """Return the glossary entries from glossary.yaml, if there is one."""
    path = root / "glossary.yaml"
    if not os.path.lexists(path):
        return ()
    doc = parse_yaml(_read(root, path, limits, found), path)
    if doc.data is None:
        return ()
    if not isinstance(doc.data, list):
        found.error("BB105", "glossary.yaml must be a list of entries", doc.locate(doc.node))
        return ()
    entries = (
        _glossary_entry(doc, data, node, found, limits)
        for data, node in zip(doc.data, item_nodes(doc.node), strict=True)
    )
    return tuple(e for e in entries if e is not None)


def _glossary_entry(
    doc: YamlDoc, data: Any, node: Any, found: Collector, limits: Limits
) -> GlossaryEntry | None:
    item = YamlDoc(data=data, node=node, path=doc.path, first_line=doc.first_line)
    fields = _mapping(item, GLOSSARY_KEYS, found)
    if fields is None or not _has_required(item, fields, ("term", "description"), found):
        return None
    _check_words(item, fields, limits, found)
    term = _text(item, fields, "term", found)
    description = _text(item, fields, "description", found)
    if term is None or description is None:
        return None
    return GlossaryEntry(
        id=f"g-{slugify(term) or _script_id(term)}",
        term=term,
        kind=_text(item, fields, "kind", found) or "",
        description=description,
        aliases=_text_list(item, fields, "aliases", found),
        location=item.locate(node),
        **_glossary_sources(item, fields, found),
    )


def _script_id(term: str) -> str:
    """Return an ASCII id for a term that has no Latin letters to slugify ('الملح', '盐')."""
    # A digest, not 'term': every Arabic or Chinese term would otherwise share one id.
    return "t" + hashlib.sha1(unicodedata.normalize("NFC", term).encode()).hexdigest()[:10]


def _glossary_sources(doc: YamlDoc, fields: dict[str, Any], found: Collector) -> dict[str, Any]:
    """Return an entry's `source:` keys and their line; report a value that is not keys."""
    if "source" not in fields:
        return {}
    where = _at(doc, "source")
    value = fields["source"]
    texts = value if isinstance(value, list) else [value]
    keys = parse_sources(texts) if all(isinstance(t, str) for t in texts) else None
    if keys is None:
        found.error(
            "BB642",
            "glossary source must be a citation key or a list of them (`source: key`, "
            "`source: [a, b]`)",
            where,
        )
        return {"source_location": where}
    return {"sources": keys, "source_location": where}


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
        return _xml_text(doc, key, value.strip(), found) if value else None
    found.error("BB105", f"'{key}' must be text, not {_kind(value)}", _at(doc, key))
    return None


def _text_list(doc: YamlDoc, fields: dict[str, Any], key: str, found: Collector) -> tuple[str, ...]:
    value = fields.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (_xml_text(doc, key, value, found),)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(_xml_text(doc, key, v, found) for v in value)
    found.error("BB105", f"'{key}' must be a list of text", _at(doc, key))
    return ()


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false (quote it to make it text)"
    return "a list" if isinstance(value, list) else "a mapping"


def _xml_text(doc: YamlDoc, key: str, value: str, found: Collector) -> str:
    """Return the text with characters XML cannot hold (from YAML escapes) replaced."""
    if char := has_bad_characters(value):
        found.warn("BB117", character_message(char), _at(doc, key))
        return replace_characters(value)
    return value


def _check_words(doc: YamlDoc, fields: dict[str, Any], limits: Limits, found: Collector) -> None:
    """Report text values with a run too long to break into lines."""
    for key, value in fields.items():
        if key in _NOT_LAID_OUT:
            continue
        texts = value if isinstance(value, list) else [value]
        runs = (long_run(t, limits.word_length) for t in texts if isinstance(t, str))
        if run := next((r for r in runs if r), None):
            found.error("BB122", word_message(run[0], limits.word_length), _at(doc, key))
