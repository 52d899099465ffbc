"""More of Pandoc's Markdown: code attributes, raw attributes, task lists, and its own tables.

Pandoc's own tables are read in pandoc_tables.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs

from bookbuild.pandoc_tables import pandoc_table

RAW_ATTR = re.compile(r"^\{=([A-Za-z0-9_-]+)\}")
_TASK = re.compile(r"^\[([ xX])\] ")


def use_pandoc_extras(md: MarkdownIt) -> None:
    """Read code attributes, raw attributes, task lists and Pandoc's tables."""
    md.block.ruler.before("table", "pandoc_table", pandoc_table)
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
