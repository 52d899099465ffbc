"""More of Pandoc's Markdown: code attributes, raw attributes, task lists, and its own tables.

Pandoc's grid, simple and multiline tables have no markdown-it plugin; CommonMark reads them as
a jumble of paragraphs, rules and code. They are kept here as one preformatted block, with
their layout intact, and the check names them (BB611).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs

RAW_ATTR = re.compile(r"^\{=([A-Za-z0-9_-]+)\}")
_TASK = re.compile(r"^\[([ xX])\] ")
_GRID = re.compile(r"^\+(?:[-=:]+\+)+[ \t]*$")
_DASHES = re.compile(r"^[ \t]*-{3,}[ \t]*$")
_DASH_GROUPS = re.compile(r"^[ \t]*-{2,}(?:[ \t]+-{2,})+[ \t]*$")


def use_pandoc_extras(md: MarkdownIt) -> None:
    """Read code attributes, raw attributes, task lists and Pandoc's tables."""
    md.block.ruler.before("table", "pandoc_table", _pandoc_table)
    md.core.ruler.after("block", "fence_attrs", _fence_attrs)
    md.core.ruler.after("inline", "raw_attrs", _raw_attrs)
    md.core.ruler.after("inline", "task_lists", _task_lists)
    md.add_render_rule("raw_inline", _render_raw_inline)
    md.add_render_rule("raw_block", _render_block("raw raw-{format}"))
    md.add_render_rule("pandoc_table", _render_block("pandoc-table"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _css(template: str, token: Token) -> str:
    return template.format(format=re.sub(r"[^\w-]", "", str(token.meta.get("format", ""))))


def _render_raw_inline(_r: Any, tokens: Sequence[Token], idx: int, _o: Any, _e: Any) -> str:
    token = tokens[idx]
    return f'<code class="{_css("raw raw-{format}", token)}">{_escape(token.content)}</code>'


def _render_block(css: str) -> Any:
    def render(_r: Any, tokens: Sequence[Token], idx: int, _o: Any, _e: Any) -> str:
        token = tokens[idx]
        code = _escape(token.content.rstrip("\n"))
        return f'<pre class="{_css(css, token)}"><code>{code}</code></pre>\n'

    return render


def _fence_attrs(state: StateCore) -> None:
    """Read ```` ```{.python #id} ```` and ```` ```{=html} ```` as Pandoc does."""
    for token in (t for t in state.tokens if t.type == "fence" and t.info.startswith("{")):
        raw = RAW_ATTR.match(token.info.strip())
        if raw:
            token.type, token.info = "raw_block", ""
            token.meta["format"] = raw[1]
            continue
        try:
            attrs = dict(parse_attrs(token.info.strip())[1])
        except ParseError:
            continue
        classes = str(attrs.pop("class", "")).split()
        token.info = classes[0] if classes else ""
        if classes[1:]:
            attrs["class"] = " ".join(classes[1:])
        for name, value in attrs.items():
            token.attrSet(name, value)


def _raw_attrs(state: StateCore) -> None:
    """Read `` `<b>`{=html} ``: code meant for one output format."""
    for inline in (t for t in state.tokens if t.type == "inline"):
        children = inline.children or []
        for code, after in itertools.pairwise(children):
            match = RAW_ATTR.match(after.content) if code.type == "code_inline" else None
            if match and after.type == "text":
                after.content = after.content[match.end() :]
                code.type, code.meta["format"] = "raw_inline", match[1]


def _task_lists(state: StateCore) -> None:
    """Draw Pandoc's `- [ ]` and `- [x]` items as ballot boxes rather than brackets."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "list_item_open":
            continue
        inline = next((t for t in tokens[index:] if t.type == "inline"), None)
        first = inline.children[0] if inline and inline.children else None
        if first is not None and first.type == "text" and (match := _TASK.match(first.content)):
            box = "\u2610" if match[1] == " " else "\u2612"
            first.content = box + " " + first.content[match.end() :]
            token.attrSet("class", "task")


# Pandoc's own tables


def _pandoc_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start):
        return False
    last = _table_end(state, start, end)
    if last is None:
        return False
    if not silent:
        token = state.push("pandoc_table", "pre", 0)
        token.content = "\n".join(_raw_line(state, n) for n in range(start, last + 1))
        token.map, token.block = [start, last + 1], True
        state.line = last + 1
    return True


def _raw_line(state: StateBlock, line: int) -> str:
    begin = state.bMarks[line] + min(state.tShift[line], state.blkIndent)
    return state.src[begin : state.eMarks[line]]


def _text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _table_end(state: StateBlock, start: int, end: int) -> int | None:
    """Return the last line of a grid, simple or multiline table that starts here, or None."""
    first = _text(state, start)
    second = _text(state, start + 1) if start + 1 < end else ""
    starts = (_GRID, _DASHES, _DASH_GROUPS)
    if not any(p.match(first) for p in starts) and not _DASH_GROUPS.match(second):
        return None  # most blocks: nothing more to read
    block = _until_blank(state, start, end)
    if len(block) < 3:
        return None
    grid = _GRID.match(first) and _GRID.match(block[-1])
    headed = not _DASHES.match(first) and _DASH_GROUPS.match(second)  # header, then dashes
    headless = _DASH_GROUPS.match(first) and _DASH_GROUPS.match(block[-1])
    if grid or headed or headless:
        return start + len(block) - 1
    if _DASHES.match(first) and any(_DASH_GROUPS.match(x) for x in block[1:4]):
        # a multiline table: rows between blank lines, closed by a row of dashes
        close = next((n for n in range(start + 2, end) if _DASHES.match(_text(state, n))), None)
        return close
    return None


def _until_blank(state: StateBlock, start: int, end: int) -> list[str]:
    block: list[str] = []
    for line in range(start, end):
        text = _text(state, line)
        if not text.strip():
            break
        block.append(text)
    return block
