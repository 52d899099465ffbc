"""Pandoc's own tables: simple and multiline tables become tables; grid tables are kept as text.

No markdown-it plugin reads them, and CommonMark turns them into a jumble of paragraphs,
rules and code. In a simple or multiline table the row of dashes under the header gives the
columns, and how the header sits over its dashes gives each column's alignment, as Pandoc's
manual describes. A grid table, whose cells may hold any blocks, is kept as one preformatted
block with its layout intact, and the check names it (BB611).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from markdown_it.rules_block import StateBlock

_GRID = re.compile(r"^\+(?:[-=:]+\+)+[ \t]*$")
_DASHES = re.compile(r"^[ \t]*-{3,}[ \t]*$")
_DASH_GROUPS = re.compile(r"^[ \t]*-{2,}(?:[ \t]+-{2,})+[ \t]*$")
Kind = Literal["grid", "simple", "headless", "multiline"]


def pandoc_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Read a grid, simple or multiline table that starts at `start`."""
    if state.is_code_block(start):
        return False
    found = _table_end(state, start, end)
    if found is None:
        return False
    if silent:
        return True
    last, kind = found
    lines = [_raw_line(state, n) for n in range(start, last + 1)]
    if kind == "grid":
        token = state.push("pandoc_table", "pre", 0)
        token.content, token.map, token.block = "\n".join(lines), [start, last + 1], True
    else:
        header, dashes, rows = _split(lines, kind)
        _push_table(state, start, header, dashes, rows)
    state.line = last + 1
    return True


def _raw_line(state: StateBlock, line: int) -> str:
    begin = state.bMarks[line] + min(state.tShift[line], state.blkIndent)
    return state.src[begin : state.eMarks[line]].expandtabs(4)


def _text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _table_end(state: StateBlock, start: int, end: int) -> tuple[int, Kind] | None:
    """Return the last line and the kind of a table that starts here, or None."""
    first = _text(state, start)
    second = _text(state, start + 1) if start + 1 < end else ""
    starts = (_GRID, _DASHES, _DASH_GROUPS)
    if not any(p.match(first) for p in starts) and not _DASH_GROUPS.match(second):
        return None  # most blocks: nothing more to read
    block = _until_blank(state, start, end)
    if len(block) < 3:
        return None
    last = start + len(block) - 1
    if _GRID.match(first) and _GRID.match(block[-1]):
        return last, "grid"
    if not _DASHES.match(first) and _DASH_GROUPS.match(second):
        return last, "simple"  # a header, then a row of dashes per column
    if _DASH_GROUPS.match(first) and _DASH_GROUPS.match(block[-1]):
        return last, "headless"
    if _DASHES.match(first) and any(_DASH_GROUPS.match(x) for x in block[1:4]):
        # rows between blank lines, closed by a row of dashes
        close = next((n for n in range(start + 2, end) if _DASHES.match(_text(state, n))), None)
        return None if close is None else (close, "multiline")
    return None


def _until_blank(state: StateBlock, start: int, end: int) -> list[str]:
    block: list[str] = []
    for line in range(start, end):
        text = _text(state, line)
        if not text.strip():
            break
        block.append(text)
    return block


def _split(lines: Sequence[str], kind: Kind) -> tuple[list[str], str, list[tuple[int, list[str]]]]:
    """Return a table's header lines, its row of dashes, and each row's first line and lines."""
    if kind == "simple":
        rows = [(n, [x]) for n, x in enumerate(lines) if n > 1 and not _DASHES.match(x)]
        return [lines[0]], lines[1], [(n, r) for n, r in rows if not _DASH_GROUPS.match(r[0])]
    if kind == "headless":
        return [], lines[0], [(n, [x]) for n, x in enumerate(lines) if 0 < n < len(lines) - 1]
    under = next(i for i in range(1, len(lines)) if _DASH_GROUPS.match(lines[i]))
    grouped: list[tuple[int, list[str]]] = []
    for n in range(under + 1, len(lines) - 1):
        if lines[n].strip() and (not grouped or not lines[n - 1].strip()):
            grouped.append((n, []))
        if lines[n].strip():
            grouped[-1][1].append(lines[n])
    return list(lines[1:under]), lines[under], grouped


def _columns(dashes: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]


def _cells(lines: Sequence[str], columns: Sequence[tuple[int, int]]) -> list[str]:
    """Return the text of each column in these lines, cut where the next column's dashes start."""
    starts = [s for s, _ in columns]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [" ".join(" ".join(line[a:b].split()) for line in lines).strip() for a, b in bounds]


def _alignment(lines: Sequence[str], column: tuple[int, int]) -> str | None:
    """Return a column's alignment from where its header text sits over its dashes."""
    start, end = column
    left = any(line[start : start + 1].strip() for line in lines)
    right = any(line[end - 1 : end].strip() for line in lines)
    if (left and right) or not lines:
        return None
    return "left" if left else "right" if right else "center"


def _push_table(
    state: StateBlock,
    start: int,
    header: list[str],
    dashes: str,
    rows: list[tuple[int, list[str]]],
) -> None:
    columns = _columns(dashes)
    aligns = [_alignment(header or (rows[0][1] if rows else []), c) for c in columns]
    state.push("table_open", "table", 1).map = [start, start + 1]
    if header:
        state.push("thead_open", "thead", 1)
        _push_row(state, start, _cells(header, columns), aligns, "th")
        state.push("thead_close", "thead", -1)
    state.push("tbody_open", "tbody", 1)
    for offset, row in rows:
        _push_row(state, start + offset, _cells(row, columns), aligns, "td")
    state.push("tbody_close", "tbody", -1)
    state.push("table_close", "table", -1)


def _push_row(
    state: StateBlock, line: int, cells: list[str], aligns: list[str | None], tag: str
) -> None:
    state.push("tr_open", "tr", 1)
    for text, align in zip(cells, aligns, strict=True):
        cell = state.push(f"{tag}_open", tag, 1)
        if align:
            cell.attrs = {"style": f"text-align:{align}"}
        inline = state.push("inline", "", 0)
        inline.content, inline.map, inline.children = text, [line, line + 1], []
        state.push(f"{tag}_close", tag, -1)
    state.push("tr_close", "tr", -1)
