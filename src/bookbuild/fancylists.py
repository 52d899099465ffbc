"""Pandoc's fancy list markers: `(1)`, `a.`, `iv)`, `A)`, `#.` and example lists `(@)`.

markdown-it reads only `1.` and `1)`. Before the block parser runs, each fancy marker that
starts a list item is rewritten in place as a decimal one of exactly the same width (`iv.`
becomes `04.`, `(a)` becomes `01)`), so every column of the source, and every diagnostic's
place, stays where it was; the list's numbering style is kept aside and set on its `<ol>`
as a class.
As in Pandoc, a marker only starts an item after a blank line or inside a list, a capital
letter with a period needs two spaces after it ("B. Williams" is prose), and `i`/`I` alone is
a roman numeral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from bookbuild.pandoc import DIV_CLOSE, DIV_OPEN

_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>\((?P<p>[^()\s]+)\)|(?P<d>[^().\s]+)(?P<delim>[.)]))"
    r"(?P<space>[ \t]+)(?=\S)"
)
_ANY_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-+*]|\d{1,9}(?P<delim>[.)]))(?:[ \t]|$)")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
STYLES = {"a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman", "I": "upper-roman"}
KEY = "bb_list_styles"


def use_fancy_lists(md: MarkdownIt) -> None:
    """Read Pandoc's fancy list markers as ordered lists with their numbering style."""
    md.core.ruler.after("normalize", "fancy_lists", _rewrite_markers)
    md.core.ruler.after("block", "fancy_list_styles", _set_styles)


@dataclass(slots=True)
class _Scan:
    in_list: bool = False
    after_blank: bool = True
    fence: str = ""
    examples: int = 0
    last: tuple[str, str, str] = ("", "", "")  # indent, style and delimiter of the last item
    written: str = ""  # the delimiter that item was written with


def _rewrite_markers(state: StateCore) -> None:
    lines = state.src.split("\n")
    styles: dict[int, str] = {}
    scan = _Scan()
    for number, line in enumerate(lines):
        lines[number] = _line(line, number, scan, styles)
    state.src = "\n".join(lines)
    state.env[KEY] = styles


def _line(line: str, number: int, scan: _Scan, styles: dict[int, str]) -> str:
    """Return the line with a fancy marker rewritten, and track fences, blanks and lists."""
    if fence := _FENCE.match(line):
        scan.fence = (
            "" if scan.fence and fence[1].startswith(scan.fence) else scan.fence or fence[1]
        )
        scan.in_list = scan.in_list and line[:1] in " \t"  # a fence at the margin ends a list
        return line
    if scan.fence:
        return line
    if not line.strip():
        scan.after_blank = True
        return line
    match = _MARKER.match(line)
    indented = len(match["indent"].expandtabs(4)) >= 4 if match else False
    starts = (
        match is not None and (scan.after_blank or scan.in_list) and (scan.in_list or not indented)
    )
    rewritten = _rewrite(match, scan, number, styles) if match and starts else None
    if rewritten is None and (item := _ANY_ITEM.match(line)):
        scan.last = (item["indent"], "1", item["delim"] or "-")
        scan.written = scan.last[2]
    scan.in_list = (
        rewritten is not None
        or bool(_ANY_ITEM.match(line))
        or (scan.in_list and (not scan.after_blank or line[:1] in " \t"))
    )
    # A list may follow a heading or a div's fence directly.
    scan.after_blank = bool(_HEADING.match(line) or DIV_OPEN.match(line) or DIV_CLOSE.match(line))
    return rewritten if rewritten is not None else line


def _rewrite(match: re.Match[str], scan: _Scan, number: int, styles: dict[int, str]) -> str | None:
    marker = match["marker"]
    label = match["p"] if match["p"] is not None else match["d"]
    delimiter = ")" if marker.endswith(")") else "."
    # After a roman item at this indentation, `v.` or `x.` goes on in roman, as in Pandoc.
    roman = scan.in_list and scan.last[0] == match["indent"] and scan.last[1] in ("i", "I")
    parsed = _value(label, marker, match["space"], roman)
    if parsed is None:
        return None
    value, style = parsed
    if label.startswith("@"):
        scan.examples += 1
        value = scan.examples
    width = len(marker) - 1
    digits = str(value).rjust(width, "0")
    kind = (match["indent"], style, delimiter)
    same = scan.in_list and scan.last == kind
    if len(digits) > width and same:
        digits = "1".rjust(width, "0")  # a later item: only a list's first number counts
    if len(digits) > width or width > 9:
        return None
    if style:
        styles[number] = style
    # A new style starts a new list, as in Pandoc; markdown-it starts one when the delimiter
    # changes, and the delimiter is not shown, so the other one is written.
    other = scan.in_list and scan.last[0] == kind[0] and scan.written == delimiter
    written = scan.written if same else ("." if delimiter == ")" else ")") if other else delimiter
    scan.last, scan.written = kind, written
    return match["indent"] + digits + written + line_rest(match)


def line_rest(match: re.Match[str]) -> str:
    """Return what follows the marker on its line."""
    return match.string[match.end("marker") :]


def _value(label: str, marker: str, space: str, roman: bool) -> tuple[int, str] | None:
    """Return the number a marker stands for and its style, or None if it is no marker."""
    if label == "#" or re.fullmatch(r"@[\w-]*", label):
        return 1, ""
    if label.isdigit():
        return (int(label), "") if marker.startswith("(") else None  # `1.` is CommonMark's
    numeral = set(label.lower()) <= set(ROMAN) and (label.islower() or label.isupper())
    if numeral and (label in ("i", "I") or len(label) > 1 or roman):
        value = _roman(label.lower())
        style = "i" if label.islower() else "I"
    elif len(label) == 1 and label.isascii() and label.isalpha():
        value, style = ord(label.lower()) - ord("a") + 1, "a" if label.islower() else "A"
    else:
        return None
    if label.isupper() and marker.endswith(".") and len(space.expandtabs(4)) < 2:
        return None
    return (value, style) if value else None


def _roman(text: str) -> int:
    total = 0
    for here, after in zip(text, text[1:] + " ", strict=True):
        value = ROMAN[here]
        total += -value if ROMAN.get(after, 0) > value else value
    return total


def _set_styles(state: StateCore) -> None:
    styles: dict[int, str] = state.env.get(KEY, {})
    for token in state.tokens:
        if token.type == "ordered_list_open" and token.map and token.map[0] in styles:
            token.attrSet("class", STYLES[styles[token.map[0]]])
