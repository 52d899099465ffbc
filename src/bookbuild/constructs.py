"""Name, at its line, every construct bookbuild reads but does not render (BB601-BB609).

Nothing an author wrote is dropped or printed as bare syntax without a word: math is printed
as its TeX, raw HTML and raw TeX as text, citations as written, a link that leads out of the
book as its text. Each gets a warning that says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from markdown_it.token import Token

from bookbuild import links, markup
from bookbuild.errors import Collector, Diagnostic
from bookbuild.model import Link, SourceLocation
from bookbuild.pandoc import DIV_CLOSE, DIV_OPEN
from bookbuild.sources import SourceText

# Pandoc's fancy list markers that CommonMark does not read: (2), a., iv), #. A capital
# letter with a period needs two spaces after it, as in Pandoc, so "B. Williams" is prose.
_FANCY_LIST = re.compile(
    r"^(?:\((?:\d+|[A-Za-z]|[ivxlcdm]+|[IVXLCDM]+|#)\)|(?:[a-z]|[ivxlcdm]+|#)[.)]|[A-Z]\)"
    r"|(?:[A-Z]|[IVXLCDM]+)\.(?=  )|\(@[\w-]*\))[ \t]+\S"
)
# Link syntax left in the text after parsing: `[text](...` or `[text][...`.
_BROKEN_LINK = re.compile(r"\[([^\[\]]*)\][(\[]")


class ConstructCheck:
    """Walk a chapter's tokens, warning about constructs that are not rendered."""

    def __init__(self, *, source: SourceText, first_line: int, found: Collector) -> None:
        self.source, self.first_line, self.found = source, first_line, found
        self.links: list[Link] = []

    def walk(self, tokens: Sequence[Token]) -> None:
        """Check the body's blocks, then each inline token's children."""
        self._title_block(tokens)
        for index, token in enumerate(tokens):
            self._block(token)
            if token.type == "inline":
                paragraph = index > 0 and tokens[index - 1].type == "paragraph_open"
                self._inline(token, paragraph)

    def _where(self, inline: Token, offset: int) -> SourceLocation:
        line, col = markup.source_position(inline, offset, self.first_line, self.source.lines)
        return SourceLocation(path=self.source.path, line=line, col=col)

    def _line(self, token: Token) -> SourceLocation:
        line = self.first_line + (token.map[0] if token.map else 0)
        return SourceLocation(path=self.source.path, line=line, col=1)

    def _title_block(self, tokens: Sequence[Token]) -> None:
        first = tokens[1].content if len(tokens) > 1 and tokens[0].type == "paragraph_open" else ""
        if re.match(r"%(\s|$)", first):
            self.found.warn(
                "BB607",
                "a Pandoc title block ('% title') is not read and is printed as text; "
                "put title and authors in the front matter",
                self._line(tokens[0]),
            )

    def _block(self, token: Token) -> None:
        if token.type == "math_block":
            self._math(self._line(token), "$$" + token.content.strip() + "$$")
        elif token.type == "raw_tex_block":
            self._tex(self._line(token), token.content.split("\n")[0])
        elif token.type == "raw_block":
            self._raw_format(self._line(token), token)
        elif token.type == "pandoc_table":
            self.found.warn(
                "BB611",
                "Pandoc's grid tables are not read; this one is printed as preformatted text "
                "(write a pipe, simple or multiline table)",
                self._line(token),
            )
        elif token.type == "fenced_div_open" and not token.meta.get("closed", True):
            self.found.warn(
                "BB609",
                "fenced div is never closed with ':::'; it runs to the end of its container",
                self._line(token),
            )

    def _inline(self, inline: Token, paragraph: bool) -> None:
        first = len(self.found)
        self._inline_constructs(inline, paragraph)
        # Warnings about one block come in the order of their places in it.
        self.found[first:] = sorted(self.found[first:], key=_position)

    def _inline_constructs(self, inline: Token, paragraph: bool) -> None:
        if paragraph:
            self._paragraph_text(inline)
        cursor = 0
        for child in inline.children or []:
            offset = child.meta.get("offset") if child.meta else None
            if offset is None and child.type in ("math_inline", "math_inline_double", "raw_inline"):
                offset = max(inline.content.find(child.content, cursor) - 1, 0)
            cursor = offset if offset is not None else cursor
            self._child(inline, child, self._where(inline, offset or 0))
        self._raw_html(inline)
        self._links(inline)

    def _child(self, inline: Token, child: Token, where: SourceLocation) -> None:
        if child.type == "math_inline":
            self._math(where, f"${child.content}$")
        elif child.type == "math_inline_double":
            self._math(where, f"$${child.content}$$")
        elif child.type == "raw_tex":
            self._tex(where, child.content)
        elif child.type == "raw_inline":
            self._raw_format(where, child)
        elif child.type == "citation":
            child.meta["where"] = where  # cite.py formats it, and names this place if it can't
        elif child.type == "text":
            self._text(inline, child)

    def _math(self, where: SourceLocation, tex: str) -> None:
        self.found.warn(
            "BB601", f"math {_short(tex)} is not typeset; its TeX is printed as code", where
        )

    def _tex(self, where: SourceLocation, tex: str) -> None:
        self.found.warn(
            "BB603", f"raw LaTeX {_short(tex)} is not rendered; it is printed as code", where
        )

    def _raw_format(self, where: SourceLocation, token: Token) -> None:
        name = token.meta.get("format")
        self.found.warn(
            "BB610",
            f"raw {name} {_short(token.content)} ({{={name}}}) is not rendered; "
            "it is printed as code",
            where,
        )

    def _raw_html(self, inline: Token) -> None:
        """Warn once per line about the raw HTML tags on it."""
        by_line: dict[int, tuple[SourceLocation, list[str]]] = {}
        for child in (c for c in inline.children or [] if c.type == "raw_html"):
            where = self._where(inline, int(child.meta["offset"]))
            by_line.setdefault(where.line, (where, []))[1].append(_short(child.content, 24))
        for where, tags in by_line.values():
            self.found.warn(
                "BB602", f"raw HTML {', '.join(tags)} is not rendered; it is printed as text", where
            )

    def _text(self, inline: Token, child: Token) -> None:
        if "<!--" in child.content:
            where = self._where(inline, max(inline.content.find("<!--"), 0))
            self.found.warn(
                "BB602", "HTML comment is never closed with '-->'; it is printed as text", where
            )
        for label in _BROKEN_LINK.findall(child.content):
            match = re.search(rf"\[{re.escape(label)}\][(\[][^)\]]*[)\]]?", inline.content)
            text = match[0] if match else f"[{label}]"
            hint = ' (quotes inside a title must be escaped as \\")' if '"' in text else ""
            self.found.warn(
                "BB608",
                f"link {_short(text)} could not be read; it is printed as text{hint}",
                self._where(inline, match.start() if match else 0),
            )

    def _paragraph_text(self, inline: Token) -> None:
        first = inline.content.split("\n", 1)[0]
        if _FANCY_LIST.match(first):
            self.found.warn(
                "BB606",
                f"list marker '{first.split()[0]}' could not be read (a list's first letter or "
                "numeral must fit the marker's width); the list is printed as text",
                self._where(inline, 0),
            )
        for n, line in enumerate(inline.content.split("\n")):
            if DIV_CLOSE.match(line) or DIV_OPEN.match(line):
                offset = sum(len(x) + 1 for x in inline.content.split("\n")[:n])
                self.found.warn(
                    "BB609",
                    f"fence '{line.strip()}' opens or closes no fenced div; it is printed as text",
                    self._where(inline, offset),
                )

    def _links(self, inline: Token) -> None:
        children = inline.children or []
        for index, child in enumerate(children):
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            where = self._where(inline, _link_start(inline.content, href))
            kind = links.classify(href)
            if kind == "chapter":
                path = links.chapter_path(self.source.path, href)
                target = href.partition("#")[2]
                self.links.append(Link(target=target, location=where, path=path, file=href))
            elif kind == "outside":
                _unlink(children, index)
                what = f"link to '{href}' leads outside the book" if href else "link has no target"
                self.found.warn(
                    "BB605",
                    f"{what} (neither a chapter, an id nor a URL); its text is printed without "
                    "the link",
                    where,
                )


def _link_start(content: str, href: str) -> int:
    """Return the offset of the `[` of an inline link to `href`, or 0 (a reference link)."""
    match = re.search(rf"\]\(\s*<?{re.escape(href)}>?[\s)]", content)
    return max(content.rfind("[", 0, match.start()), 0) if match else 0


def _unlink(children: list[Token], index: int) -> None:
    """Turn the link that opens at `index` into a plain span, keeping its text."""
    close = next(_closing(children, index))
    for token in (children[index], children[close]):
        token.type = "unlinked_" + ("open" if token.nesting == 1 else "close")
        token.tag, token.attrs = "span", {}


def _closing(children: Sequence[Token], index: int) -> Iterator[int]:
    depth = 0
    for i in range(index, len(children)):
        depth += {"link_open": 1, "link_close": -1}.get(children[i].type, 0)
        if depth == 0:
            yield i


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"


def _position(diagnostic: Diagnostic) -> tuple[int, int]:
    where = diagnostic.location
    return (where.line, where.col) if where else (0, 0)
