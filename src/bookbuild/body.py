"""Check a chapter's Markdown body: events, images, attributes, links and footnotes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from bookbuild import images, markup
from bookbuild.attribution import parse_sources
from bookbuild.dates import DateError, EdtfDate, YearRangeError, parse_date
from bookbuild.errors import Collector
from bookbuild.langtags import is_language_tag
from bookbuild.model import Anchor, Event, Image, Link, SourceLocation
from bookbuild.sources import SourceText

# Attributes an author may set on a span or block; anything else could smuggle in markup.
ALLOWED_ATTRS = frozenset({"id", "class", "lang", "dir"})
DIRECTIONS = frozenset({"ltr", "rtl", "auto"})
# An index span also names its heading and subheading; the index stage takes them off.
INDEX_ATTRS = frozenset({"term", "sub"})
# Attributes the parser itself sets on these token types.
PARSER_ATTRS = {
    "image": {"src", "alt", "title"},
    "link_open": {"href", "title"},
    "ordered_list_open": {"start"},
    "th_open": {"style"},
    "td_open": {"style"},
}
_IMAGE_START = re.compile(r"!\[")
_NOTE_CALL = re.compile(r"\[\^([^\]\s]+)\]")
_PLATE = "full-bleed"  # the class that makes an image a page of its own, printed to the edge


def _classes(token: Token) -> list[str]:
    return str(token.attrGet("class") or "").split()


# An attribute block the parser could not read, left in the text: `]{#a b}`, `{.x y=}`.
_LOOSE_ATTRS = re.compile(r"(?:\]|^)(\{\s*(?:[#.][\w-]|[\w-]+=)[^{}\n]*\})")
_NOTE_DEFINITION = re.compile(r"^\s{0,3}\[\^([^\]]+)\]:")


class ParsedBody:
    """Walk a chapter's tokens, collecting events and images and checking them."""

    def __init__(
        self,
        *,
        root: Path,
        source: SourceText,
        first_line: int,
        chapter_id: str,
        era: EdtfDate | None,
        found: Collector,
    ) -> None:
        self.root, self.source, self.first_line = root, source, first_line
        self.chapter_id, self.era, self.found = chapter_id, era, found
        self.events: list[Event] = []
        self.images: list[Image] = []
        self.links: list[Link] = []
        self.anchors: list[str] = []
        self.author_ids: list[Anchor] = []
        self.note_locations: dict[int, SourceLocation] = {}

    def walk(self, tokens: Sequence[Token]) -> None:
        """Check every token of the body."""
        opener: Token | None = None
        for token in tokens:
            self._filter_attrs(token, self._line_of(token))
            self._note_id(token, self._attrs_line(token))
            self._note_anchor(token)
            if token.type == "inline":
                self._walk_inline(token)
                self._check_plates(token, opener)
            opener = token

    def _check_plates(self, inline: Token, opener: Token | None) -> None:
        """Print a {.full-bleed} image that cannot be a page of its own as an ordinary one."""
        children = inline.children or []
        plates = [c for c in children if c.type == "image" and _PLATE in _classes(c)]
        if not plates:
            return
        others = [
            c
            for c in children
            if c not in plates
            and c.type not in ("softbreak", "hardbreak")
            and not (c.type == "text" and not c.content.strip())
        ]
        # The theme makes a plate of a top-level paragraph holding the image and nothing else;
        # anywhere else the image, positioned over the page, would hide the text around it.
        top = opener is not None and opener.type == "paragraph_open" and opener.level == 0
        if top and len(plates) == 1 and not others:
            return
        for image in plates:
            kept = [name for name in _classes(image) if name != _PLATE]
            if kept:
                image.attrs["class"] = " ".join(kept)
            else:
                del image.attrs["class"]
        self.found.warn(
            "BB313",
            "a {.full-bleed} image must be alone in a paragraph of its own, outside lists, "
            "quotations, tables, headings and notes; it is printed as an ordinary image",
            self._line_of(inline),
        )

    def check_footnotes(self, tokens: Sequence[Token], env: dict[str, Any]) -> None:
        """Report notes defined but never called, and calls with no note."""
        refs = [
            (inline, t)
            for inline in tokens
            if inline.type == "inline"
            for t in inline.children or []
            if t.type == "footnote_ref"
        ]
        # An inline note `^[...]` has no label: it is defined where it is called.
        used = {str(t.meta["label"]) for _, t in refs if t.meta.get("label") is not None}
        definitions = self._definitions()
        for inline, ref in refs:
            label = ref.meta.get("label")
            if label is None:
                where = self._line_of(inline)
            else:
                line = definitions.get(str(label), self.first_line)
                where = SourceLocation(path=self.source.path, line=line)
            self.note_locations.setdefault(int(ref.meta["id"]), where)
        for label in (key.removeprefix(":") for key in env.get("footnotes", {}).get("refs", {})):
            if label not in used:
                line = definitions.get(label, self.first_line)
                where = SourceLocation(path=self.source.path, line=line)
                self.found.warn("BB501", f"footnote [^{label}] is defined but never used", where)
        for inline in (t for t in tokens if t.type == "inline"):
            self._undefined_calls(inline)

    def _undefined_calls(self, inline: Token) -> None:
        """Report the calls the parser left as text: their note is not defined."""
        calls, searched = [], 0
        for child in (c for c in inline.children or [] if c.type == "text"):
            for match in _NOTE_CALL.finditer(child.content):
                # Each call is looked for after the one before: linear, and the right one.
                offset = inline.content.find(match[0], searched)
                searched = offset + 1 if offset >= 0 else searched
                calls.append((match[1], max(offset, 0)))
        offsets = [offset for _, offset in calls]
        places = markup.source_positions(inline, offsets, self.first_line, self.source.lines)
        for (label, _), (line, col) in zip(calls, places, strict=True):
            where = SourceLocation(path=self.source.path, line=line, col=col)
            self.found.error("BB502", f"footnote [^{label}] is used but never defined", where)

    def _definitions(self) -> dict[str, int]:
        """Return the line that defines each footnote; the parser drops unused definitions."""
        lines = self.source.lines[self.first_line - 1 :]
        found: dict[str, int] = {}
        for n, text in enumerate(lines):
            if match := _NOTE_DEFINITION.match(text):
                found.setdefault(match[1], self.first_line + n)
        return found

    def _note_id(self, token: Token, where: SourceLocation) -> None:
        if "id" in token.attrs:
            self.author_ids.append(Anchor(id=str(token.attrs["id"]), location=where))

    def _note_anchor(self, token: Token) -> None:
        if anchor := token.attrGet("id"):
            self.anchors.append(str(anchor))

    def _attrs_line(self, token: Token) -> SourceLocation:
        """Return where a block's attributes are written: a table's are on its caption's line."""
        written = token.meta.get("attrs_map") if token.meta else None
        line = self.first_line + (written or token.map or [0])[0]
        return SourceLocation(path=self.source.path, line=line)

    def _line_of(self, token: Token) -> SourceLocation:
        line = self.first_line + (token.map[0] if token.map else 0)
        return SourceLocation(path=self.source.path, line=line)

    def _walk_inline(self, inline: Token) -> None:
        for span in markup.find_spans(inline, self.first_line, self.source.lines):
            where = SourceLocation(path=self.source.path, line=span.line, col=span.col)
            classes = str(span.open_token.attrGet("class") or "").split()
            if "event" in classes:
                self._event(span, where)
            elif "index" in classes:
                self._index_span(span, where)
            else:
                self._filter_attrs(span.open_token, where)
                self._note_id(span.open_token, where)
        for child in inline.children or []:
            if child.type != "span_open":
                self._filter_attrs(child, self._line_of(inline))
                self._note_id(child, self._line_of(inline))
            self._note_anchor(child)
            href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
            if href.startswith("#"):
                self.links.append(Link(target=href[1:], location=self._line_of(inline)))
        images = [t for t in inline.children or [] if t.type == "image"]
        starts = [m.start() for m in _IMAGE_START.finditer(inline.content)]
        offsets = [starts[n] if n < len(starts) else 0 for n in range(len(images))]
        places = markup.source_positions(inline, offsets, self.first_line, self.source.lines)
        for image, (line, col) in zip(images, places, strict=True):
            self._image(image, SourceLocation(path=self.source.path, line=line, col=col))
        for child in inline.children or []:
            if child.type == "text" and "]{" in child.content and ".event" in child.content:
                where = self._line_of(inline)
                self.found.error(
                    "BB205",
                    "event attributes could not be read; write them as "
                    '{.event date="1959-05" title="..."}',
                    where,
                )
            elif child.type == "text" and (match := _LOOSE_ATTRS.search(child.content)):
                self.found.error(
                    "BB205",
                    f"attributes {match[1]} could not be read and would be printed as text; "
                    "an id is one word ({#name}) and a value with spaces is quoted",
                    self._line_of(inline),
                )

    def _index_span(self, span: markup.Span, where: SourceLocation) -> None:
        """Check an index span: its heading (`term`, or its text) and `sub` say something."""
        token = span.open_token
        term, sub = token.attrGet("term"), token.attrGet("sub")
        if term is not None and not str(term).strip():
            self.found.error("BB630", 'index term is empty: term="" names no heading', where)
        elif term is None and not span.text.strip():
            self.found.error(
                "BB630",
                'index span has no text and no term: write [text]{.index} or {.index term="..."}',
                where,
            )
        if sub is not None and not str(sub).strip():
            self.found.error("BB630", 'index subentry is empty: sub="" names no subheading', where)
        self._filter_attrs(token, where, extra=INDEX_ATTRS)
        self._note_id(token, where)

    def _filter_attrs(
        self, token: Token, where: SourceLocation, extra: frozenset[str] = frozenset()
    ) -> None:
        allowed = ALLOWED_ATTRS | PARSER_ATTRS.get(token.type, set()) | extra
        for name in [n for n in token.attrs if n not in allowed]:
            self.found.warn(
                "BB207", f"attribute '{name}' is not allowed here and was dropped", where
            )
            del token.attrs[name]
        if (direction := token.attrGet("dir")) is not None and direction not in DIRECTIONS:
            message = f"dir '{direction}' is not ltr, rtl or auto and was dropped"
            self.found.warn("BB207", message, where)
            del token.attrs["dir"]
        lang = token.attrGet("lang")
        if lang is not None and lang != "" and not is_language_tag(str(lang)):
            where = self._attr_location(where, f"lang={lang}", before=token.block)
            self.found.error("BB109", f"lang '{lang}' is not a BCP 47 language tag", where)

    def _attr_location(self, near: SourceLocation, attr: str, *, before: bool) -> SourceLocation:
        """Return where an attribute is written: after a span's start, or above its block."""
        name, value = attr.split("=", 1)
        pattern = re.compile(rf"\b{re.escape(name)}\s*=\s*[\"']?{re.escape(value)}")
        found = [
            (number, match.start() + 1)
            for number in range(max(near.line - 5, 1), near.line + 3)
            if number <= len(self.source.lines)
            for match in pattern.finditer(self.source.lines[number - 1])
        ]
        at = (near.line, near.col)
        if choices := [f for f in found if (f < at if before else f >= at)]:
            line, col = choices[-1] if before else choices[0]
            return SourceLocation(path=near.path, line=line, col=col)
        return near

    def _event(self, span: markup.Span, where: SourceLocation) -> None:
        token = span.open_token
        event_id = str(token.attrGet("id") or f"ev-{self.chapter_id}-{len(self.events) + 1}")
        title = " ".join(str(token.attrGet("title") or span.text).split())
        date_text, sort_text = token.attrGet("date"), token.attrGet("sort")
        source_text = token.attrGet("source")
        classes = str(token.attrGet("class")).split()
        token.attrs = {"id": event_id, "class": str(token.attrGet("class"))}
        if date_text is None or not str(date_text).strip():
            self.found.error("BB201", 'event has no date: add date="YYYY-MM-DD" (EDTF)', where)
            return
        try:
            date = parse_date(str(date_text))
        except YearRangeError as exc:
            self.found.error("BB211", f"event date {exc}", where)
            return
        except DateError as exc:
            self.found.error("BB202", f"event date {exc}", where)
            return
        if self.era is not None and not date.within(self.era):
            self.found.error(
                "BB203",
                f"event date '{date.text}' lies outside the chapter's era '{self.era.text}'",
                where,
            )
        if not title:
            self.found.error("BB105", "event has no text and no title", where)
        token.attrs["data-date"] = date.text
        self.events.append(
            Event(
                id=event_id,
                date=date,
                title=title,
                text=span.text,
                chapter_id=self.chapter_id,
                location=where,
                sort=self._sort_date(sort_text, date, where),
                context="context" in classes,
                **self._sources(source_text, where),
            )
        )

    def _sources(self, text: str | int | float | None, near: SourceLocation) -> dict[str, Any]:
        """Return an event's `source` keys and where they are written; report a bad value."""
        if text is None:
            return {}
        where = self._attr_location(near, f"source={text}", before=False)
        keys = parse_sources(str(text))
        if keys is None:
            self.found.error(
                "BB642",
                f"event source '{text}' is not a list of citation keys: write source=\"@key\" "
                'or source="@a; @b"',
                where,
            )
            return {"source_location": where}
        return {"sources": keys, "source_location": where}

    def _sort_date(
        self, text: str | int | float | None, date: EdtfDate, near: SourceLocation
    ) -> EdtfDate | None:
        """Return an event's `sort` date, which must be EDTF and lie within the event's date."""
        if text is None:
            return None
        where = self._attr_location(near, f"sort={text}", before=False)
        try:
            sort = parse_date(str(text))
        except DateError as exc:
            self.found.error("BB212", f"event sort date {exc}", where)
            return None
        if not sort.within(date):
            message = f"event sort date '{sort.text}' lies outside the event's date '{date.text}'"
            self.found.error("BB212", message, where)
            return None
        return sort

    def _image(self, token: Token, where: SourceLocation) -> None:
        src = str(token.attrGet("src") or "")
        alt = " ".join(markup.plain_text(token.children or []).split())
        path = self._image_path(src, where)
        if not alt:
            shown = images.display_src(src)
            self.found.error(
                "BB304", f"image '{shown}' has no alt text: write ![description]({shown})", where
            )
        if path is not None:
            self.images.append(Image(src=src, path=path, alt=alt, location=where))

    def _image_path(self, src: str, where: SourceLocation) -> Path | None:
        located = images.locate_image(self.root, src)
        if isinstance(located, images.Refusal):
            self.found.error(located.code, located.message, where)
            return None
        return located
