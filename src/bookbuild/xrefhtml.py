"""Render numbered captions, cross-references and page references for one edition.

Print leaves a page number to WeasyPrint's `target-counter()`, so the number is whatever page
the layout put the target on; the EPUB writes the number that same layout's page map gives
(`page_numbers` in the environment) and links to the passage. Every generated word comes from
the book's labels, as a pattern: "Figure {n}", "p. {page}", "{text} (p. {page})".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markdown_it.token import Token

if TYPE_CHECKING:  # xref.py parses with markup.py, which renders with this module
    from bookbuild.xref import References, Target


def reference_text(target: Target, labels: Mapping[str, str], bare: bool = False) -> str:
    """Return what a reference to `target` prints: "Figure 3", "Chapter 2", a title."""
    if target.kind in ("figure", "table") and target.number is not None:
        return str(target.number) if bare else labels[target.kind].format(n=target.number)
    if target.kind == "chapter" and target.number is not None:
        return str(target.number) if bare else labels["chapter-ref"].format(n=target.number)
    if target.kind == "section":
        title = labels["title-ref"].format(title=target.title)
        if target.chapter_number is None:
            return title
        chapter = labels["chapter-ref"].format(n=target.chapter_number)
        return labels["section-ref"].format(chapter=chapter, title=title)
    return target.title


def caption_number(tokens: Sequence[Token], idx: int, env: Mapping[str, Any]) -> str:
    """Return the number that opens a caption: "Figure 3: ", as markup, or nothing."""
    block = next(
        (tokens[i] for i in range(idx, -1, -1) if tokens[i].type in ("figure_open", "table_open")),
        None,
    )
    references: References | None = env.get("references")
    if block is None or references is None:
        return ""
    target = references.targets.get(str(block.attrGet("id") or ""))
    if target is None or target.number is None:
        return ""
    labels = env["labels"]
    text = escape(reference_text(target, labels))
    separator = escape(labels["caption-separator"])
    return f'<span class="{target.kind}-number">{text}</span>{separator}'


def render_xref(token: Token, env: Mapping[str, Any], href: Any) -> str:
    """Return `@fig-map` or `[see @fig-map; @tbl-loans]` as links with their numbers."""
    references: References = env["references"]
    parts = []
    for ident, (before, after, bare) in zip(token.meta["ids"], token.meta["parts"], strict=True):
        target = references.targets[ident]
        link = (
            f'<a class="xref" href="{escape(href(f"#{ident}"))}">'
            f"{escape(reference_text(target, env['labels'], bare))}</a>"
        )
        parts.append(" ".join(p for p in (escape(before), link) if p) + _after(after))
    return "; ".join(parts)


def _after(text: str) -> str:
    return f", {escape(text)}" if text else ""


def is_page_ref(token: Token) -> bool:
    return "page-ref" in str(token.attrGet("class") or "").split()


def page_ref_open(
    token: Token, href: str, empty: bool, env: Mapping[str, Any], edition: str
) -> str:
    """Return the opening of a page reference: the link and any label text before the text."""
    before, _, after = _pattern(env["labels"], empty)
    attrs = f'href="{escape(href)}" class="{escape(str(token.attrGet("class")))}"'
    if edition == "print":
        attrs += f' data-after="{escape(after)}"'  # print.css sets the page, then this
    if ident := token.attrGet("id"):
        attrs = f'id="{escape(str(ident))}" {attrs}'
    return f"<a {attrs}>{escape(before)}"


def page_ref_close(target: str, empty: bool, env: Mapping[str, Any], edition: str) -> str:
    """Return the end of a page reference: "p. 12" from the page map in the EPUB."""
    _, middle, after = _pattern(env["labels"], empty)
    if edition == "print":
        return f"{escape(middle)}</a>"
    page = env.get("page_numbers", {}).get(target)
    if page is not None:
        return f"{escape(middle)}{page}{escape(after)}</a>"
    # No print layout to take a page from: an empty reference says what it points at.
    known: References | None = env.get("references")
    found = known.targets.get(target) if known else None
    text = reference_text(found, env["labels"]) if found and empty else ""
    return f"{escape(text)}</a>"


def _pattern(labels: Mapping[str, str], empty: bool) -> tuple[str, str, str]:
    """Split a page reference's label around the link text and the page number."""
    pattern = labels["page-ref"] if empty else labels["page-ref-text"]
    before, _, rest = pattern.partition("{text}") if "{text}" in pattern else ("", "", pattern)
    middle, _, after = rest.partition("{page}")
    return before, middle, after


def empty_link_text(target: str, env: Mapping[str, Any]) -> str:
    """Return the text an empty link `[](#fig-map)` prints: what it points at."""
    known: References | None = env.get("references")
    found = known.targets.get(target) if known else None
    return escape(reference_text(found, env["labels"])) if found else ""


def escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
