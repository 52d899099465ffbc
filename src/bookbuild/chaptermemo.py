"""Chapters kept between rebuilds, so that the preview reparses only the files that changed.

A kept chapter is handed out as a copy: the stages after loading (citations, note numbers,
heading ids) rewrite tokens in place, and each rebuild must start from the parser's tokens.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from markdown_it.token import Token

from bookbuild.errors import Collector, Diagnostic
from bookbuild.model import Chapter

Loaded = tuple[Chapter | None, tuple[Diagnostic, ...]]


class ChapterMemo:
    """The chapters of the last rebuild, by file and by everything their loading reads."""

    def __init__(self) -> None:
        self._kept: dict[Path, tuple[bytes, Loaded]] = {}
        self._spare: dict[Path, Chapter] = {}
        self._lock = threading.Lock()  # prepare() may run in another thread than load()
        self.hits = 0

    def load(
        self,
        path: Path,
        key: Iterable[bytes],
        found: Collector,
        load: Callable[[Collector], Chapter | None],
    ) -> Chapter | None:
        """Return the chapter at `path`, loading it only when `key` differs from last time.

        `key` must cover what the loading reads: the file's bytes and the book's settings.
        Its diagnostics are reported again on every rebuild, as a fresh load would.
        """
        digest = hashlib.sha256(b"\0".join(key)).digest()
        with self._lock:
            kept = self._kept.get(path)
            spare = self._spare.pop(path, None)
        if kept is not None and kept[0] == digest:
            self.hits += 1
            chapter, diagnostics = kept[1]
        else:
            own = Collector()
            chapter = own.guard(lambda: load(own))
            diagnostics = tuple(own)
            spare = None
            with self._lock:
                self._kept[path] = (digest, (chapter, diagnostics))
        found.extend(diagnostics)
        if chapter is None:
            return None
        return spare or fresh_copy(chapter)

    def prepare(self) -> None:
        """Make the copies the next rebuild will hand out, while nobody waits for them."""
        with self._lock:
            todo = [(path, kept[1][0]) for path, kept in self._kept.items()]
        for path, chapter in todo:
            if chapter is None or path in self._spare:
                continue
            copy = fresh_copy(chapter)
            with self._lock:
                # Only if the chapter is still the one copied: a rebuild may have replaced it.
                kept = self._kept.get(path)
                if kept is not None and kept[1][0] is chapter:
                    self._spare[path] = copy

    def forget_others(self, paths: Iterable[Path]) -> None:
        """Drop the chapters of files that are no longer in the book."""
        keep = set(paths)
        with self._lock:
            for path in [p for p in self._kept if p not in keep]:
                del self._kept[path]
                self._spare.pop(path, None)


def fresh_copy(chapter: Chapter) -> Chapter:
    """Return the chapter with tokens of its own, which later stages may rewrite freely."""
    return dataclasses.replace(chapter, tokens=tuple(_copy(t) for t in chapter.tokens))


def _copy(token: Token) -> Token:
    # Slot by slot, not copy.deepcopy or the constructor: a long book has tens of thousands of
    # tokens. Their values are immutable but for attrs, meta and children; `map` is only read.
    new = _NEW(Token)
    new.type, new.tag, new.nesting = token.type, token.tag, token.nesting
    new.attrs, new.map, new.level = token.attrs.copy(), token.map, token.level
    kids = token.children
    new.children = None if kids is None else [_copy(kid) for kid in kids]
    new.content, new.markup, new.info = token.content, token.markup, token.info
    new.meta, new.block, new.hidden = token.meta.copy(), token.block, token.hidden
    return new


_NEW = object.__new__
