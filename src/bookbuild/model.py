"""The frozen data that passes between the build's stages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bookbuild.dates import EdtfDate

if TYPE_CHECKING:
    from markdown_it.token import Token


# Where notes are set (`page` means footnotes) and whether their numbers restart per chapter.
Placement = Literal["page", "chapter-end", "book-end"]
Numbering = Literal["chapter", "book"]
PLACEMENTS: tuple[Placement, ...] = ("page", "chapter-end", "book-end")
NUMBERINGS: tuple[Numbering, ...] = ("chapter", "book")

# Ids and file names that the generated parts of the book use, so chapters cannot.
RESERVED_IDS = frozenset(
    {
        "chronology",
        "glossary",
        "contents",
        "cover",
        "title",
        "title-page",
        "nav",
        "toc",
        "landmarks",
        "page-list",
        "colophon",
        "notes",
        "list-of-figures",
        "list-of-tables",
        "index",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceLocation:
    path: Path
    line: int
    col: int = 1

    def __str__(self) -> str:
        if self.line <= 0:
            return str(self.path)
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    id: str
    date: EdtfDate
    title: str
    text: str
    chapter_id: str
    location: SourceLocation
    sort: EdtfDate | None = None  # the author's `sort` date, used only to order the chronology
    sources: tuple[str, ...] = ()  # the citation keys of the works it comes from (`source=`)
    source_location: SourceLocation | None = None  # where `source=` is written
    context: bool = False  # background to the history (`.context`), marked so in the chronology


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    src: str
    path: Path
    alt: str
    location: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageFile:
    """An image as the outputs get it: checked, cleaned if SVG, under a unique safe name."""

    path: Path
    name: str
    media_type: str
    data: bytes
    location: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A link within the book, to `#target`, or to another chapter's file (`path`) and id."""

    target: str
    location: SourceLocation
    path: Path | None = None  # the chapter file named, resolved; None for `#target`
    file: str = ""  # that file as the author wrote it


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    """An id the author gave a block, span, link or image, where it was given."""

    id: str
    location: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class Chapter:
    id: str
    title: str
    era: EdtfDate | None
    summary: str | None
    tokens: tuple[Token, ...]
    events: tuple[Event, ...]
    images: tuple[Image, ...]
    links: tuple[Link, ...] = ()
    anchors: tuple[str, ...] = ()
    author_ids: tuple[Anchor, ...] = ()
    authors: tuple[str, ...] = ()
    # Pandoc's id for each heading in its own file, with the id it has in the book.
    heading_ids: tuple[tuple[str, str], ...] = ()
    # Where each note (by the parser's index) is defined, for diagnostics about its layout.
    note_locations: tuple[SourceLocation, ...] = ()
    source: Path
    location: SourceLocation
    era_location: SourceLocation | None = None  # the `era:` line of the front matter

    @property
    def is_era(self) -> bool:
        return self.era is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class GlossaryEntry:
    id: str
    term: str
    kind: str
    description: str
    aliases: tuple[str, ...]
    location: SourceLocation
    sources: tuple[str, ...] = ()  # the citation keys of the works it comes from (`source:`)
    source_location: SourceLocation | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Work:
    """A work an event or glossary entry names as its source, as the chronology shows it."""

    key: str
    label: str  # HTML: the style's short form of the work
    entry_id: str | None  # its bibliography entry, or None when the style leaves it out


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    title: str
    subtitle: str | None
    language: str
    identifier: str
    authors: tuple[str, ...]
    publisher: str | None
    date: str | None
    description: str | None
    rights: str | None
    slug: str
    era_notation: str = "BCE"  # how dates before the common era are labelled: BCE or BC
    notes: Placement = "page"
    note_numbering: Numbering = "chapter"
    lists: tuple[str, ...] = ()  # the lists after the contents: "figures", "tables"
    require_sources: bool = False  # every event and glossary entry must name its source


@dataclass(frozen=True, slots=True, kw_only=True)
class Book:
    root: Path
    meta: Metadata
    chapters: tuple[Chapter, ...]
    glossary: tuple[GlossaryEntry, ...]
    # Filled by images.load_images once every image has been read and checked.
    image_files: tuple[ImageFile, ...] = ()
    # Filled by cite.apply_citations: every work named by a `source`, by its key (lowercased).
    works: tuple[Work, ...] = ()

    @property
    def front_matter(self) -> tuple[Chapter, ...]:
        """Return the chapters without an era that come before the first era chapter."""
        return self._split()[0]

    @property
    def body(self) -> tuple[Chapter, ...]:
        """Return the chapters from the first to the last era chapter."""
        return self._split()[1]

    @property
    def back_matter(self) -> tuple[Chapter, ...]:
        """Return the chapters without an era that come after the last era chapter."""
        return self._split()[2]

    def _split(self) -> tuple[tuple[Chapter, ...], tuple[Chapter, ...], tuple[Chapter, ...]]:
        eras = [i for i, c in enumerate(self.chapters) if c.is_era]
        if not eras:
            return (), self.chapters, ()
        first, last = eras[0], eras[-1] + 1
        return self.chapters[:first], self.chapters[first:last], self.chapters[last:]
