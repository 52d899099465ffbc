"""Set code blocks for print: one box per source line, so that a wrapped line can be marked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

# The first word of a fence's info string names the language: ```python or ```{.python}.
_LANGUAGE = re.compile(r"[{.\s]*([A-Za-z0-9_+#-]+)")


def render_print_code(_r: Any, tokens: Sequence[Token], idx: int, _o: Any, _e: Any) -> str:
    """Render a fenced or indented code block with each source line in its own box.

    The print theme indents a line's continuation rows and marks them in the gutter; the
    boxes carry no text of their own, so the code copies and reads out exactly as written.
    """
    token = tokens[idx]
    language = _LANGUAGE.match(token.info or "")
    classes = [f"language-{language[1]}"] if language else []
    classes += str(token.attrGet("class") or "").split()
    # Keep the author's id and classes (```{.python #listing}), as the EPUB's renderer does.
    attrs = f' id="{escapeHtml(str(token.attrGet("id")))}"' if token.attrGet("id") else ""
    attrs += f' class="{escapeHtml(" ".join(classes))}"' if classes else ""
    lines = token.content.removesuffix("\n").split("\n")
    # No newline between the boxes: in `pre` it would set an empty row of its own.
    boxes = "".join(f'<span class="code-line">{escapeHtml(line)}</span>' for line in lines)
    return f'<pre class="code-block"><code{attrs}>{boxes}</code></pre>\n'
