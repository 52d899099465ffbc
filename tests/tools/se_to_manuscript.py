"""Turn a Standard Ebooks source tree into a bookbuild manuscript, endnotes becoming footnotes.

    python tests/tools/se_to_manuscript.py REPO.git COMMIT OUT --chapters 1-16 --title "..."

REPO.git is a (bare) git repository of a Standard Ebooks production; its files are read with
`git show COMMIT:path`. Each `chapter-N.xhtml` becomes `chapters/NN-chapter-N.md`; every endnote
called from a chapter becomes a Markdown footnote defined after the paragraph that calls it, so a
note keeps its place in the source. Paragraphs are wrapped at 96 columns (soft line breaks), verse
becomes a block quote with hard line breaks, tables become pipe tables.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import textwrap
from pathlib import Path

from lxml import etree

# ASCII punctuation that Markdown (or Pandoc's extensions) could read as syntax.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|^~$={}!])")
# Words that would open a block if a wrapped line started with them.
_BLOCK_START = re.compile(r"^(\d+[.)]|[-+*>#=]|:)")
WIDTH = 96


def git_show(repo: Path, commit: str, path: str) -> bytes:
    """Return a file of the repository at a commit."""
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"{commit}:{path}"], check=True, capture_output=True
    ).stdout


def local(element: etree._Element) -> str:
    return element.tag if isinstance(element.tag, str) else ""


def inline(element: etree._Element, calls: list[str] | None = None) -> str:
    """Return the Markdown of an element's inline content; note calls are appended to `calls`."""
    parts = [_escape(element.text or "")]
    for child in element:
        parts.append(_inline_child(child, calls))
        parts.append(_escape(child.tail or ""))
    return "".join(parts)


def _inline_child(child: etree._Element, calls: list[str] | None) -> str:
    name = local(child)
    kind = child.get("epub:type") or ""
    if name == "a" and "noteref" in kind:
        label = child.get("href", "").split("#note-")[-1]
        if calls is not None:
            calls.append(label)
        return f"[^{label}]"
    if name == "a" and "backlink" in kind:
        return ""
    if name == "br":
        return "\\\n"
    text = inline(child, calls)
    if name in ("i", "em") and text.strip():
        return _wrap_emphasis(text, "*")
    if name == "b" and text.strip():
        return _wrap_emphasis(text, "**")
    if name == "q":
        return f"“{text}”"
    return text


def _wrap_emphasis(text: str, mark: str) -> str:
    """Put emphasis marks inside the text's outer spaces, where Markdown can see them."""
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{mark}{text.strip()}{mark}{trail}"


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.replace("\u00a0", "\u00a0").split(" ")))


def wrap(text: str, indent: str = "") -> str:
    """Wrap a paragraph into lines joined by soft line breaks, never starting a block."""
    text = " ".join(text.split())
    words = text.split(" ")
    lines: list[str] = []
    line = ""
    for word in words:
        full = len(line) + 1 + len(word) > WIDTH - len(indent)
        if line and full and not _BLOCK_START.match(word):
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(indent + line for line in lines)


def blocks(element: etree._Element, calls: list[str] | None = None) -> list[str]:
    """Return the Markdown blocks of an element's block children."""
    out = []
    for child in element:
        name = local(child)
        if name == "p":
            out.append(wrap(inline(child, calls)))
        elif name == "blockquote":
            out.append(_quote(child, calls))
        elif name == "table":
            out.append(_table(child, calls))
        elif name in ("ol", "ul"):
            out += [f"- {inline(li, calls)}" for li in _all(child, "li")]
        elif name in ("section", "div", "header"):
            out += blocks(child, calls)
    return out


def _quote(element: etree._Element, calls: list[str] | None) -> str:
    lines = []
    for p in _all(element, "p"):
        verse = [inline(span, calls).strip() for span in _all(p, "span")]
        verse = [v for v in verse if v] if _first(p, "br") is not None else []
        if verse:
            lines.append("\\\n".join(verse))
        else:
            lines.append(" ".join(inline(p, calls).split()))
    body = "\n\n".join(lines)
    return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))


def _table(element: etree._Element, calls: list[str] | None) -> str:
    rows = [
        [" ".join(inline(td, calls).split()) for td in tr if local(td) in ("td", "th")]
        for tr in _all(element, "tr")
    ]
    width = max(len(r) for r in rows)
    head = "|" + " |" * width
    rule = "|" + "---|" * width
    body = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def read_endnotes(repo: Path, commit: str) -> dict[str, etree._Element]:
    """Return each endnote's <li>, keyed by its label (the id after `note-`)."""
    root = parse(git_show(repo, commit, "src/epub/text/endnotes.xhtml"))
    return {
        li.get("id").removeprefix("note-"): li
        for li in _all(root, "li")
        if li.get("id", "").startswith("note-")
    }


def parse(xhtml: bytes) -> etree._Element:
    """Parse XHTML as HTML: this commit's endnotes leave some <p> open, which HTML closes."""
    parser = etree.HTMLParser(huge_tree=True, encoding="utf-8")
    return etree.fromstring(xhtml, parser)


def _all(element: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in element.iter() if local(e) == name]


def _first(element: etree._Element, name: str) -> etree._Element | None:
    return next((e for e in element if local(e) == name), None)


def note_definition(label: str, li: etree._Element) -> str:
    """Return a footnote definition: the first block after the label, the rest indented."""
    parts = blocks(li)
    first, rest = parts[0] if parts else "", parts[1:]
    text = f"[^{label}]: " + textwrap.indent(first, "    ").lstrip()
    for block in rest:
        text += "\n\n" + textwrap.indent(block, "    ")
    return text


def convert_chapter(xhtml: bytes, notes: dict[str, etree._Element]) -> tuple[str, int]:
    """Return a chapter's Markdown, with front matter, and how many notes it defines."""
    section = _all(parse(xhtml), "section")[0]
    header = _first(section, "header")
    title = _title(header)
    out = ["---", f"title: {_yaml(title)}", "---", ""]
    defined: set[str] = set()
    for child in [*(header if header is not None else []), *section]:
        if child is header or local(child) in ("h2", "h1"):
            continue
        calls: list[str] = []
        for block in blocks(_holder(child), calls):
            out += [block, ""]
        # A note may be called twice (chapter 15 calls one of Gibbon's notes from two places):
        # it is defined once, after its first call.
        for label in dict.fromkeys(c for c in calls if c not in defined):
            out += [note_definition(label, notes[label]), ""]
            defined.add(label)
    return "\n".join(out).rstrip() + "\n", len(defined)


def _holder(child: etree._Element) -> etree._Element:
    """Wrap a single block in a parent so `blocks` can read it."""
    holder = etree.Element("div")
    holder.append(_copy(child))
    return holder


def _copy(element: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(element), etree.HTMLParser(encoding="utf-8"))
    copy = copy[0][0]  # html/body/element
    copy.tail = None
    return copy


def _title(header: etree._Element | None) -> str:
    if header is None:
        return "Chapter"
    h2 = _first(header, "h2")
    spans = [" ".join("".join(s.itertext()).split()) for s in h2 if local(s) == "span"]
    if spans:
        return f"Chapter {spans[0]}: {' '.join(spans[1:])}" if len(spans) > 1 else spans[0]
    return f"Chapter {' '.join(''.join(h2.itertext()).split())}"


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("commit")
    parser.add_argument("out", type=Path)
    parser.add_argument("--chapters", default="1-16")
    parser.add_argument("--title", required=True)
    parser.add_argument("--author", required=True)
    parser.add_argument("--identifier", required=True)
    args = parser.parse_args()
    first, last = (int(n) for n in args.chapters.split("-"))
    notes = read_endnotes(args.repo, args.commit)
    (args.out / "chapters").mkdir(parents=True, exist_ok=True)
    (args.out / "book.yaml").write_text(
        f"title: {_yaml(args.title)}\nlanguage: en\nidentifier: {args.identifier}\n"
        f"authors: [{_yaml(args.author)}]\nrights: Public domain (CC0 transcription)\n"
        "date: 2020-09-06\n",
        encoding="utf-8",
    )
    total = 0
    for n in range(first, last + 1):
        xhtml = git_show(args.repo, args.commit, f"src/epub/text/chapter-{n}.xhtml")
        text, count = convert_chapter(xhtml, notes)
        (args.out / "chapters" / f"{n:02d}-chapter-{n}.md").write_text(text, encoding="utf-8")
        total += count
    print(f"{last - first + 1} chapters, {total} notes")


if __name__ == "__main__":
    main()
