"""Check a chapter's Markdown body: events, images, attributes, links and footnotes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from bookbuild import markup
from bookbuild.dates import DateError, EdtfDate, parse_date
from bookbuild.errors import Collector
from bookbuild.model import Event, Image, Link, SourceLocation
from bookbuild.sources import SourceText

# Attributes an author may set on a span or block; anything else could smuggle in markup.
ALLOWED_ATTRS = frozenset({"id", "class", "lang"})
# Attributes the parser itself sets on these token types.
PARSER_ATTRS = {
    "image": {"src", "alt", "title"},
    "link_open": {"href", "title"},
    "ordered_list_open": {"start"},
    "th_open": {"style"},
    "td_open": {"style"},
}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:|//)")
_IMAGE_START = re.compile(r"!\[")
_NOTE_CALL = re.compile(r"\[\^([^\]\s]+)\]")


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
        self.note_locations: dict[int, SourceLocation] = {}

    def walk(self, tokens: Sequence[Token]) -> None:
        """Check every token of the body."""
        for token in tokens:
            self._filter_attrs(token, self._line_of(token))
            self._note_anchor(token)
            if token.type == "inline":
                self._walk_inline(token)

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
        for inline, ref in refs:
            label = ref.meta.get("label")
            where = self._definition(str(label)) if label is not None else self._line_of(inline)
            self.note_locations.setdefault(int(ref.meta["id"]), where)
        for label in (key.removeprefix(":") for key in env.get("footnotes", {}).get("refs", {})):
            if label not in used:
                where = self._definition(label)
                self.found.warn("BB501", f"footnote [^{label}] is defined but never used", where)
        for inline in (t for t in tokens if t.type == "inline"):
            for child in inline.children or []:
                for match in _NOTE_CALL.finditer(child.content if child.type == "text" else ""):
                    offset = max(inline.content.find(match[0]), 0)
                    line, col = markup.source_position(
                        inline, offset, self.first_line, self.source.lines
                    )
                    where = SourceLocation(path=self.source.path, line=line, col=col)
                    self.found.error(
                        "BB502", f"footnote [^{match[1]}] is used but never defined", where
                    )

    def _definition(self, label: str) -> SourceLocation:
        """Return the line that defines a footnote; the parser drops unused definitions."""
        pattern = re.compile(rf"^\s{{0,3}}\[\^{re.escape(label)}\]:")
        lines = self.source.lines[self.first_line - 1 :]
        line = next((n for n, text in enumerate(lines) if pattern.match(text)), None)
        if line is None:
            return SourceLocation(path=self.source.path, line=self.first_line)
        return SourceLocation(path=self.source.path, line=self.first_line + line)

    def _note_anchor(self, token: Token) -> None:
        if anchor := token.attrGet("id"):
            self.anchors.append(str(anchor))

    def _line_of(self, token: Token) -> SourceLocation:
        line = self.first_line + (token.map[0] if token.map else 0)
        return SourceLocation(path=self.source.path, line=line)

    def _walk_inline(self, inline: Token) -> None:
        for span in markup.find_spans(inline, self.first_line, self.source.lines):
            where = SourceLocation(path=self.source.path, line=span.line, col=span.col)
            if "event" in str(span.open_token.attrGet("class") or "").split():
                self._event(span, where)
            else:
                self._filter_attrs(span.open_token, where)
        for child in inline.children or []:
            if child.type != "span_open":
                self._filter_attrs(child, self._line_of(inline))
            self._note_anchor(child)
            href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
            if href.startswith("#"):
                self.links.append(Link(target=href[1:], location=self._line_of(inline)))
        images = [t for t in inline.children or [] if t.type == "image"]
        starts = [m.start() for m in _IMAGE_START.finditer(inline.content)]
        for n, image in enumerate(images):
            line, col = markup.source_position(
                inline, starts[n] if n < len(starts) else 0, self.first_line, self.source.lines
            )
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

    def _filter_attrs(self, token: Token, where: SourceLocation) -> None:
        allowed = ALLOWED_ATTRS | PARSER_ATTRS.get(token.type, set())
        for name in [n for n in token.attrs if n not in allowed]:
            self.found.warn(
                "BB207", f"attribute '{name}' is not allowed here and was dropped", where
            )
            del token.attrs[name]

    def _event(self, span: markup.Span, where: SourceLocation) -> None:
        token = span.open_token
        event_id = str(token.attrGet("id") or f"ev-{self.chapter_id}-{len(self.events) + 1}")
        title = " ".join(str(token.attrGet("title") or span.text).split())
        date_text = token.attrGet("date")
        token.attrs = {"id": event_id, "class": str(token.attrGet("class"))}
        if date_text is None or not str(date_text).strip():
            self.found.error("BB201", 'event has no date: add date="YYYY-MM-DD" (EDTF)', where)
            return
        try:
            date = parse_date(str(date_text))
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
            )
        )

    def _image(self, token: Token, where: SourceLocation) -> None:
        src = str(token.attrGet("src") or "")
        alt = " ".join(markup.plain_text(token.children or []).split())
        path = self._image_path(src, where)
        if not alt:
            self.found.error(
                "BB304", f"image '{src}' has no alt text: write ![description]({src})", where
            )
        if path is not None:
            self.images.append(Image(src=src, path=path, alt=alt, location=where))

    def _image_path(self, src: str, where: SourceLocation) -> Path | None:
        if _URL.match(src):
            self.found.error(
                "BB303", f"image '{src}' is a URL; copy the file into the manuscript folder", where
            )
            return None
        root = self.root.resolve()
        path = (root / src).resolve()
        if src.startswith("/") or not path.is_relative_to(root):
            self.found.error("BB302", f"image '{src}' lies outside the manuscript folder", where)
            return None
        if not path.is_file():
            self.found.error("BB301", f"image '{src}' not found", where)
            return None
        return path
