"""Pandoc's Markdown in chapter bodies: the parser rules that read it and the HTML they render.

The constructs mdit-py-plugins covers come from there (definition lists, superscript,
subscript, dollar math); markdown-it has strikethrough. The rest has no plugin that follows
Pandoc, so it is written here: fenced divs (nested by counting, as Pandoc does, where the
container plugin would close an outer div at the inner one's fence), line blocks, HTML
comments, and the constructs bookbuild does not render but must not print as bare syntax
(raw HTML, raw TeX, citations), which become tokens of their own so that a check can name them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.subscript import sub_plugin
from mdit_py_plugins.superscript import superscript_plugin

_INTERRUPTS: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote", "list"]}
# A fenced div opens with three or more colons and attributes: `{.note #id}` or one class word.
DIV_OPEN = re.compile(r"^(:{3,})[ \t]*(\{[^}]*\}|[^\s{}:]+)[ \t]*:*[ \t]*$")
DIV_CLOSE = re.compile(r"^:{3,}[ \t]*$")
_LINE = re.compile(r"^\|(?: |$)")
_TEX_BEGIN = re.compile(r"^\\begin\{([A-Za-z*]+)\}")
_TEX_COMMAND = re.compile(r"\\([A-Za-z]+)")
# A citation key, as Pandoc reads it: internal punctuation is allowed, a final one is not.
CITE_KEY = r"[A-Za-z0-9_](?:[\w]|[:.#$%&+?<>~/-](?=\w))*"
_BRACKET_CITE = re.compile(rf"\[[^\[\]\n]*?(?<![\w.])-?@{CITE_KEY}[^\[\]]*\]")
_INTEXT_CITE = re.compile(rf"@{CITE_KEY}")
_MARKUP = re.compile(r"[*_`\[$\\<]")


def use_pandoc(md: MarkdownIt) -> None:
    """Teach the parser the Pandoc constructs a book needs, and mark those it cannot render."""
    md.enable("strikethrough")
    md.use(deflist_plugin).use(superscript_plugin).use(sub_plugin)
    md.use(
        dollarmath_plugin,
        allow_labels=False,
        allow_space=False,  # Pandoc: no space after the opening `$` or before the closing one
        allow_digits=False,  # nor a digit right after the closing one, so "$20 and $30" is text
        double_inline=True,
    )
    md.block.ruler.before("fence", "fenced_div", _fenced_div, _INTERRUPTS)
    md.block.ruler.before("html_block", "html_comment", _comment_block, _INTERRUPTS)
    md.block.ruler.before("paragraph", "line_block", _line_block)
    md.block.ruler.before("paragraph", "raw_tex_block", _tex_block)
    md.inline.ruler.before("escape", "escaped_space", _escaped_space)
    md.inline.ruler.before("escape", "raw_tex", _tex_inline)
    md.inline.ruler.before("link", "citation", _citation)
    md.inline.ruler.before("html_inline", "html_comment_inline", _comment_inline)
    md.inline.ruler.before("html_inline", "raw_html", _html_inline)
    md.core.ruler.after("inline", "nested_scripts", _nested_scripts)
    for name, rule in RENDER_RULES.items():
        md.add_render_rule(name, rule)


def _nested_scripts(state: StateCore) -> None:
    """Parse the markup inside `^...^` and `~...~`, which the plugins keep as plain text."""
    for inline in (t for t in state.tokens if t.type == "inline"):
        children = inline.children or []
        for i in range(len(children) - 2, 0, -1):
            text = children[i]
            script = children[i - 1].type in ("sup_open", "sub_open") and text.type == "text"
            if script and _MARKUP.search(text.content):
                parsed: list[Token] = []
                state.md.inline.parse(text.content, state.md, state.env, parsed)
                children[i : i + 1] = parsed


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


# fenced divs


def div_attrs(text: str) -> dict[str, str] | None:
    """Return the attributes of a fence's `{...}` or class word; None when they do not parse."""
    if not text.startswith("{"):
        return {"class": text}
    try:
        return dict(parse_attrs(text)[1])
    except ParseError:
        return None


def _fenced_div(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start):
        return False
    match = DIV_OPEN.match(_line(state, start))
    attrs = div_attrs(match[2]) if match else None
    if attrs is None:
        return False
    if silent:
        return True
    close, closed = _div_end(state, start, end)
    old_parent, old_max = state.parentType, state.lineMax
    state.lineMax = close
    state.parentType = "container"
    token = state.push("fenced_div_open", "div", 1)
    token.attrs, token.map, token.block = dict(attrs), [start, close], True
    token.meta["closed"] = closed
    state.md.block.tokenize(state, start + 1, close)
    state.push("fenced_div_close", "div", -1).block = True
    state.parentType, state.lineMax = old_parent, old_max
    state.line = close + 1 if closed else close
    return True


def _div_end(state: StateBlock, start: int, end: int) -> tuple[int, bool]:
    """Return the line of the fence that closes the div opened at `start`, and if there is one."""
    depth = 1
    for line in range(start + 1, end):
        text = _line(state, line)
        if text and state.sCount[line] < state.blkIndent:
            return line, False
        if state.is_code_block(line):
            continue
        depth += 1 if DIV_OPEN.match(text) else -1 if DIV_CLOSE.match(text) else 0
        if depth == 0:
            return line, True
    return end, False


# line blocks


def _line_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start) or not _LINE.match(_line(state, start)):
        return False
    if silent:
        return True
    lines: list[list[Any]] = []
    line = start
    while line < end and not state.is_code_block(line):
        text = _line(state, line)
        if _LINE.match(text):
            lines.append([line, text[2:]])
        elif lines and text.strip() and state.sCount[line] > state.blkIndent:
            lines[-1][1] += " " + text.strip()  # a continuation line starts with a space
        else:
            break
        line += 1
    token = state.push("line_block_open", "div", 1)
    token.attrs, token.map = {"class": "line-block"}, [start, line]
    for number, text in lines:
        _push_line(state, number, text)
    state.push("line_block_close", "div", -1)
    state.line = line
    return True


def _push_line(state: StateBlock, number: int, text: str) -> None:
    # Verse keeps its indentation: leading spaces become no-break spaces, as in Pandoc.
    stripped = text.lstrip(" ")
    token = state.push("line_open", "div", 1)
    token.attrs, token.map = {"class": "line"}, [number, number + 1]
    inline = state.push("inline", "", 0)
    inline.content = "\u00a0" * (len(text) - len(stripped)) + stripped.rstrip()
    inline.map, inline.children = [number, number + 1], []
    state.push("line_close", "div", -1)


# HTML comments are dropped, so remarks and TODOs are never published


def _comment_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start) or not _line(state, start).startswith("<!--"):
        return False
    for line in range(start, end):
        text = _line(state, line)
        close = text.find("-->", 4 if line == start else 0)
        if close >= 0:
            if text[close + 3 :].strip():
                return False  # text follows on the line: the paragraph keeps it
            if not silent:
                state.line = line + 1
            return True
    return False  # never closed: the inline rule leaves it as text and the check names it


def _comment_inline(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("<!--", state.pos):
        return False
    close = state.src.find("-->", state.pos + 4, state.posMax)
    if close < 0:
        return False
    state.pos = close + 3
    return True


# constructs that are not rendered: tokens of their own, printed as code or text, checked


def _push_raw(state: StateInline, kind: str, text: str, silent: bool) -> bool:
    if not silent:
        token = state.push(kind, "", 0)
        token.content, token.meta["offset"] = text, state.pos
    state.pos += len(text)
    return True


def _html_inline(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "<":
        return False
    match = HTML_TAG_RE.match(state.src[state.pos : state.posMax])
    return bool(match) and _push_raw(state, "raw_html", match[0] if match else "", silent)


def _escaped_space(state: StateInline, silent: bool) -> bool:
    # Pandoc reads a backslash before a space as a no-break space.
    if not state.src.startswith("\\ ", state.pos):
        return False
    if not silent:
        state.push("text", "", 0).content = "\u00a0"
    state.pos += 2
    return True


def _tex_inline(state: StateInline, silent: bool) -> bool:
    match = _TEX_COMMAND.match(state.src, state.pos)
    if match is None:
        return False
    end = match.end()
    while end < state.posMax and state.src[end] in "[{":
        close = _balanced_end(state.src, end, state.posMax)
        if close is None:
            break
        end = close
    return _push_raw(state, "raw_tex", state.src[state.pos : end], silent)


def _balanced_end(text: str, start: int, stop: int) -> int | None:
    """Return the offset after the bracket that closes the one at `start`."""
    pair = {"[": "]", "{": "}"}[text[start]]
    depth = 0
    for i in range(start, stop):
        depth += 1 if text[i] == text[start] else -1 if text[i] == pair else 0
        if depth == 0:
            return i + 1
    return None


def _tex_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    match = None if state.is_code_block(start) else _TEX_BEGIN.match(_line(state, start))
    if match is None:
        return False
    closing = f"\\end{{{match[1]}}}"
    last = next((n for n in range(start, end) if closing in _line(state, n)), None)
    if last is None:
        return False
    if not silent:
        token = state.push("raw_tex_block", "pre", 0)
        token.content = "\n".join(_line(state, n) for n in range(start, last + 1))
        token.map, token.block = [start, last + 1], True
        state.line = last + 1
    return True


def _citation(state: StateInline, silent: bool) -> bool:
    char = state.src[state.pos]
    if char == "[" and not state.src.startswith("[^", state.pos):
        match = _BRACKET_CITE.match(state.src, state.pos, state.posMax)
    elif char == "@" and (state.pos == 0 or not state.src[state.pos - 1].isalnum()):
        match = _INTEXT_CITE.match(state.src, state.pos, state.posMax)
    else:
        return False
    return bool(match) and _push_raw(state, "citation", match[0] if match else "", silent)


# rendering


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline_code(css: str) -> Any:
    def render(_r: Any, tokens: Sequence[Token], idx: int, _o: Any, _e: Any) -> str:
        return f'<code class="{css}">{_escape(tokens[idx].content)}</code>'

    return render


def _block_code(css: str) -> Any:
    def render(_r: Any, tokens: Sequence[Token], idx: int, _o: Any, _e: Any) -> str:
        return f'<pre class="{css}"><code>{_escape(tokens[idx].content.strip())}</code></pre>\n'

    return render


def _text(css: str) -> Any:
    def render(_r: Any, tokens: Sequence[Token], idx: int, _o: Any, _e: Any) -> str:
        return f'<span class="{css}">{_escape(tokens[idx].content)}</span>'

    return render


# Math is not typeset: its TeX is shown as code, and the check says so (BB601).
RENDER_RULES = {
    "math_inline": _inline_code("math tex"),
    "math_inline_double": _inline_code("math tex display"),
    "math_block": _block_code("math tex display"),
    "raw_tex": _inline_code("raw-tex"),
    "raw_tex_block": _block_code("raw-tex"),
    "raw_html": _text("raw-html"),
    "citation": _text("citation"),
}
