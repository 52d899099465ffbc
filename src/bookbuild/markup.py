"""Markdown parsing of chapter bodies and rendering of the parsed tokens to HTML."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from bookbuild import notes
from bookbuild.codeblocks import render_print_code
from bookbuild.fancylists import use_fancy_lists
from bookbuild.links import rendered_href
from bookbuild.locale import quotes_for
from bookbuild.pandoc import use_pandoc
from bookbuild.pandoc_extras import use_pandoc_extras
from bookbuild.sections import use_sections

Target = Literal["print", "epub"]

# A bracket that no backslash escapes.
_BRACKET = re.compile(r"(?<!\\)[\[\]]")


def create_parser(language: str = "en") -> MarkdownIt:
    """Return the CommonMark parser with the manuscript's extensions and raw HTML off.

    Straight quotes become the curly ones of `language`: "so" is „so“ in German.
    """
    options = {"html": False, "typographer": True, "quotes": list(quotes_for(language))}
    md = MarkdownIt("commonmark", options)
    md.enable(["table", "replacements", "smartquotes"])
    md.use(attrs_plugin, spans=True).use(attrs_block_plugin).use(footnote_plugin)
    md.use(use_pandoc).use(use_pandoc_extras).use(use_fancy_lists).use(use_sections)
    md.core.ruler.push("bb_nbsp", _tie_numbers)
    return md


_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
# Keep together what a line break would split awkwardly: "May 1959", "25 May", "p. 12".
_TIES = (
    re.compile(rf"\b({_MONTH}) (?=\d)"),
    re.compile(rf"\b(\d{{1,2}}) (?={_MONTH}\b)"),
    re.compile(r"\b(pp?\.) (?=\d)"),
)


def _tie_numbers(state: Any) -> None:
    """Put no-break spaces inside dates and page references in the text."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text":
                for tie in _TIES:
                    child.content = tie.sub("\\1\u00a0", child.content)


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A bracketed span found in an inline token, with its place in the source."""

    open_token: Token
    text: str
    line: int
    col: int


def find_spans(inline: Token, first_line: int, lines: Sequence[str]) -> list[Span]:
    """Return the spans of an inline token with their source line and column."""
    children = inline.children or []
    opens = [i for i, t in enumerate(children) if t.type == "span_open"]
    starts = _span_starts(inline.content)
    offsets = [starts[n] if n < len(starts) else 0 for n in range(len(opens))]
    places = source_positions(inline, offsets, first_line, lines)
    spans = []
    for index, (line, col) in zip(opens, places, strict=True):
        spans.append(
            Span(open_token=children[index], text=_span_text(children, index), line=line, col=col)
        )
    return spans


def _span_starts(content: str) -> list[int]:
    """Return the offsets of the `[` that opens each attributed span, in order.

    One pass with a stack of open brackets, so the cost stays linear in the paragraph; a `]{`
    with no open bracket before it is placed at the paragraph's start.
    """
    starts, opened = [], []
    for match in _BRACKET.finditer(content):
        if match[0] == "[":
            opened.append(match.start())
            continue
        start = opened.pop() if opened else 0
        if content.startswith("{", match.end()):
            starts.append(start)
    return sorted(starts)


def source_position(
    inline: Token, offset: int, first_line: int, lines: Sequence[str]
) -> tuple[int, int]:
    """Map an offset in an inline token's content to a 1-based line and column of the file."""
    return source_positions(inline, [offset], first_line, lines)[0]


def source_positions(
    inline: Token, offsets: Sequence[int], first_line: int, lines: Sequence[str]
) -> list[tuple[int, int]]:
    """Map offsets in an inline token's content to lines and columns of the file."""
    line_starts, indents = _line_index(inline, first_line)
    block_line = first_line + (inline.map[0] if inline.map else 0)
    content = inline.content
    places = []
    for offset in offsets:
        n = bisect.bisect_right(line_starts, offset) - 1
        if n not in indents:
            end = line_starts[n + 1] - 1 if n + 1 < len(line_starts) else len(content)
            content_line = content[line_starts[n] : end]
            line = block_line + n
            source = lines[line - 1] if 0 < line <= len(lines) else ""
            indents[n] = max(source.find(content_line), 0) if content_line else 0
        places.append((block_line + n, indents[n] + offset - line_starts[n] + 1))
    return places


def _line_index(inline: Token, first_line: int) -> tuple[list[int], dict[int, int]]:
    """Return where each line of the token's content starts, and the indents found so far.

    Kept on the token, so that the many checks asking for one place each stay linear.
    """
    key = (first_line, len(inline.content))
    cached = inline.meta.get("bb_line_index")
    if cached is None or cached[0] != key:
        starts = [0, *(m.end() for m in re.finditer("\n", inline.content))]
        cached = (key, starts, {})
        inline.meta["bb_line_index"] = cached
    return cached[1], cached[2]


def _span_text(children: Sequence[Token], index: int) -> str:
    """Return the plain text inside the span that opens at `index`."""
    depth, parts = 0, []
    for n in range(index, len(children)):  # neither a copy nor a skip of the rest: linear
        token = children[n]
        depth += {"span_open": 1, "span_close": -1}.get(token.type, 0)
        if depth == 0:
            break
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def plain_text(children: Sequence[Token]) -> str:
    """Return the text of inline tokens without markup."""
    return "".join(
        t.content if t.type in ("text", "code_inline") else plain_text(t.children or [])
        for t in children
    )


def footnote_slices(tokens: Sequence[Token]) -> dict[int, list[Token]]:
    """Return the tokens of each footnote's content, keyed by footnote number."""
    slices: dict[int, list[Token]] = {}
    current: list[Token] | None = None
    for token in tokens:
        if token.type == "footnote_open":
            current = slices.setdefault(int(token.meta["id"]), [])
        elif token.type == "footnote_close":
            current = None
        elif current is not None and token.type != "footnote_anchor":
            current.append(token)
    return slices


def body_tokens(tokens: Sequence[Token]) -> list[Token]:
    """Return the tokens outside the footnote block."""
    body, depth = [], 0
    for token in tokens:
        depth += {"footnote_block_open": 1, "footnote_block_close": -1}.get(token.type, 0)
        if depth == 0 and token.type != "footnote_block_close":
            body.append(token)
    return body


BLOCK_ATTR = "data-b"


def mark_blocks(tokens: Sequence[Token], prefix: str) -> None:
    """Number each block that holds text, so a place in the PDF can be found in the EPUB."""
    body = body_tokens(tokens)
    for n, index in enumerate((i for i, t in enumerate(body) if t.type == "inline"), start=1):
        container = body[index - 1] if index > 0 else None
        if container is not None and container.hidden and index > 1:
            container = body[index - 2]  # a tight list's paragraph is not rendered; its item is
        if container is not None and container.nesting == 1:
            container.attrSet(BLOCK_ATTR, f"{prefix}.{n}")


class HtmlRenderer:
    """Render parsed chapter tokens as XHTML for one target (print or EPUB)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.md = create_parser()
        self.md.options["xhtmlOut"] = True
        # markdown-it binds each rule to its renderer, so ours are wrapped to keep `self`.
        self.md.add_render_rule("footnote_ref", lambda _r, *args: self._footnote_ref(*args))
        self.md.add_render_rule("image", lambda _r, *args: self._image(*args))
        self.md.add_render_rule("link_open", lambda r, *args: self._link_open(r, *args))
        self.md.add_render_rule("table_open", _table_open)
        self.md.add_render_rule("table_close", _table_close)
        self.md.add_render_rule("th_open", _th_open)
        self.md.add_render_rule("th_close", _th_close)
        if target == "print":
            self.md.add_render_rule("fence", render_print_code)
            self.md.add_render_rule("code_block", render_print_code)

    def render(self, tokens: Sequence[Token], env: dict[str, Any]) -> str:
        """Return the body HTML and the notes this edition sets after it."""
        html = str(self.md.renderer.render(body_tokens(tokens), self.md.options, env))
        return html + self.render_notes(tokens, env)

    def render_notes(self, tokens: Sequence[Token], env: dict[str, Any]) -> str:
        """Return the notes set after the chapter: EPUB asides, or print endnotes."""
        slices = footnote_slices(tokens)
        if env.get("notes_elsewhere"):
            return ""  # in the book's Notes appendix
        if self.target == "epub":
            return "".join(self._aside(n, slice_, env) for n, slice_ in slices.items())
        ends = env.get("endnotes", frozenset())
        if not any(n in ends for n in slices):
            return ""
        notes = "".join(self._endnote(n, slices[n], env) for n in slices if n in ends)
        title = _escape(env.get("labels", {}).get("notes", "Notes"))
        return (
            '<section class="endnotes" role="doc-endnotes">'
            f'<h2 class="endnotes-title">{title}</h2>{notes}</section>\n'
        )

    def render_appendix_notes(self, tokens: Sequence[Token], env: dict[str, Any]) -> str:
        """Return a chapter's notes for the book's Notes appendix."""
        slices = footnote_slices(tokens)
        if self.target == "epub":
            return "".join(self._aside(n, slice_, env) for n, slice_ in slices.items())
        return "".join(self._endnote(n, slice_, env) for n, slice_ in slices.items())

    def _number(self, n: int, env: dict[str, Any]) -> int:
        return int(env.get("note_numbers", {}).get(n, n + 1))

    def _footnote_ref(self, tokens: Sequence[Token], idx: int, _o: Any, env: Any) -> str:
        n, again = int(tokens[idx].meta["id"]), int(tokens[idx].meta.get("subId", 0))
        chapter, number = env["chapter_id"], self._number(n, env)
        note, ref = notes.note_id(chapter, n), notes.ref_id(chapter, n, again)
        after = idx > 0 and tokens[idx - 1].type == "footnote_ref"
        if self.target == "print" and n not in env.get("endnotes", frozenset()):
            # A note called twice is set twice at the foot of its pages; ids must stay unique.
            inner = self._note_inline(env["footnotes_tokens"].get(n, []), env)
            note_id = f"{note}-{again + 1}" if again else note
            classes = "footnote note-after" if after else "footnote"
            return f'<span class="{classes}" id="{note_id}" data-n="{number}">{inner}</span>'
        # Two calls side by side would read as one number: a comma keeps them apart.
        sep = '<span class="noteref-sep">,</span>' if after else ""
        href = f"{env.get('notes_file') or ''}#{note}"
        kind = 'epub:type="noteref" ' if self.target == "epub" else ""
        return (
            f'{sep}<a {kind}role="doc-noteref" class="noteref" id="{ref}" '
            f'href="{href}">{number}</a>'
        )

    def _note_inline(self, tokens: Sequence[Token], env: dict[str, Any]) -> str:
        """Return a note's content as markup that may stand inside a paragraph."""
        return str(self.md.renderer.render(notes.print_spans(tokens), self.md.options, env))

    def _aside(self, n: int, tokens: Sequence[Token], env: dict[str, Any]) -> str:
        chapter = env["chapter_id"]
        note, ref = notes.note_id(chapter, n), notes.ref_id(chapter, n)
        body = self._note_body(n, tokens, env, f"{env.get('chapter_file') or ''}#{ref}")
        attrs = f'epub:type="footnote" role="doc-footnote" class="footnote" id="{note}"'
        return f"<aside {attrs}>{body}</aside>\n"

    def _endnote(self, n: int, tokens: Sequence[Token], env: dict[str, Any]) -> str:
        chapter = env["chapter_id"]
        note, ref = notes.note_id(chapter, n), notes.ref_id(chapter, n)
        body = self._note_body(n, tokens, env, f"#{ref}")
        return f'<div class="endnote" id="{note}">{body}</div>\n'

    def _note_body(self, n: int, tokens: Sequence[Token], env: dict[str, Any], back: str) -> str:
        """Return a note's blocks, its number a link back to its call."""
        body = str(self.md.renderer.render(tokens, self.md.options, env))
        link = f'<a href="{back}" class="backref">{self._number(n, env)}.</a> '
        return body.replace("<p>", "<p>" + link, 1) if body.startswith("<p>") else link + body

    def _link_open(
        self, renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
    ) -> str:
        """Point links to ids and chapter files at the place each edition has them."""
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        resolved = rendered_href(href, env, self.target)
        if resolved != href:
            token = token.copy(attrs={**token.attrs, "href": resolved})
        return str(renderer.renderToken([token], 0, options, env))

    def _image(self, tokens: Sequence[Token], idx: int, _o: Any, env: Any) -> str:
        token = tokens[idx]
        alt = plain_text(token.children or [])
        src = env["image_srcs"].get(str(token.attrGet("src")), str(token.attrGet("src")))
        title = token.attrGet("title")
        extra = f' title="{_escape(str(title))}"' if title else ""
        # `check` accepted the id as a link target, so both outputs must keep it.
        if ident := token.attrGet("id"):
            extra = f' id="{_escape(str(ident))}"{extra}'
        # A class is the theme's to use: `{.full-bleed}` prints the image to the page's edge.
        if classes := token.attrGet("class"):
            extra = f'{extra} class="{_escape(str(classes))}"'
        return f'<img src="{_escape(src)}" alt="{_escape(alt)}"{extra} />'


def _table_open(_r: Any, _t: Sequence[Token], _i: int, _o: Any, _e: Any) -> str:
    return '<div class="table-wrap"><table>\n'


def _table_close(_r: Any, _t: Sequence[Token], _i: int, _o: Any, _e: Any) -> str:
    return "</table></div>\n"


def _is_empty_cell(tokens: Sequence[Token], inline: int) -> bool:
    return (
        0 <= inline < len(tokens)
        and tokens[inline].type == "inline"
        and not tokens[inline].content.strip()
    )


def _th_open(r: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    # An empty header cell is announced as a nameless header; a plain cell is what it means.
    if _is_empty_cell(tokens, idx + 1):
        return r.renderToken([Token("td_open", "td", 1, attrs=tokens[idx].attrs)], 0, options, env)  # type: ignore[no-any-return]
    return r.renderToken(tokens, idx, options, env)  # type: ignore[no-any-return]


def _th_close(r: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    if _is_empty_cell(tokens, idx - 1):
        return "</td>\n"
    return r.renderToken(tokens, idx, options, env)  # type: ignore[no-any-return]


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
