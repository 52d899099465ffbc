"""Links inside the book: `#id`, another chapter's file, or its file and a fragment.

The print edition is one document, where every target is `#id`; the EPUB has one file per
chapter, where a target in another chapter is `that.xhtml#id`. Both are resolved from here,
and so is the check, so what passes `check` is what both editions can follow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from bookbuild.model import Book, Chapter, Link

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
Kind = Literal["external", "internal", "chapter", "outside"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkTargets:
    ids: Mapping[str, str]  # every id a link may reach, with the EPUB file that holds it
    files: Mapping[Path, Chapter]
    chapters: Mapping[str, Chapter]
    local: Mapping[str, Mapping[str, str]]  # per chapter: Pandoc's id in its own file -> ours


def link_targets(book: Book, ids: Mapping[str, str]) -> LinkTargets:
    """Return what the book's links can point at."""
    return LinkTargets(
        ids=ids,
        files={c.source.resolve(): c for c in book.chapters},
        chapters={c.id: c for c in book.chapters},
        local={c.id: dict(c.heading_ids) for c in book.chapters},
    )


def classify(href: str) -> Kind:
    """Return what a link's href points at: a URL, an id, a chapter file, or nothing we have."""
    path, _, fragment = href.partition("#")
    if _SCHEME.match(href):
        return "external"
    if not path:
        return "internal" if fragment else "outside"
    return "chapter" if unquote(path).lower().endswith(".md") else "outside"


def chapter_path(chapter_file: Path, href: str) -> Path:
    """Return the chapter file that an href names, relative to the linking chapter."""
    return (chapter_file.parent / unquote(href.partition("#")[0])).resolve()


def resolve(targets: LinkTargets, chapter: Chapter, link: Link) -> str | None:
    """Return the id a link reaches (a chapter's own id for its file alone), or None."""
    if link.path is None:
        return _local(targets, chapter, link.target)
    other = targets.files.get(link.path)
    if other is None:
        return None
    if not link.target:
        return other.id
    found = targets.local[other.id].get(link.target, link.target)
    return found if found == other.id or found in other.anchors else None


def _local(targets: LinkTargets, chapter: Chapter, target: str) -> str | None:
    found = targets.local.get(chapter.id, {}).get(target, target)
    return found if found in targets.ids else None


def rendered_href(href: str, env: Mapping[str, Any], edition: str) -> str:
    """Return the href as one edition writes it: `#id` in print, `file.xhtml#id` in the EPUB."""
    targets: LinkTargets | None = env.get("link_targets")
    kind = classify(href)
    if targets is None or kind not in ("internal", "chapter"):
        return href
    chapter = targets.chapters[env["chapter_id"]]
    fragment = href.partition("#")[2]
    path = chapter_path(chapter.source, href) if kind == "chapter" else None
    found = resolve(targets, chapter, Link(target=fragment, path=path, location=chapter.location))
    if found is None:
        return href
    if edition == "print":
        return f"#{found}"
    file = targets.ids.get(found, env.get("file"))
    if kind == "chapter" and not fragment:
        return str(file)
    return f"#{found}" if file == env.get("file") else f"{file}#{found}"
