"""Parsed chapters kept on disk between builds, and parsed in parallel when none is kept.

Parsing is most of an EPUB build's time on a long book (markdown-it and bookbuild's own walks
of the tokens). A chapter's loading reads only its own file and book.yaml (the language, the
limits), so a chapter is stored under those bytes, its path and the code that parsed it: the
package's own source and the parser's versions. What is stored is the loaded chapter and the
diagnostics its loading gave, so a hit reports the same warnings as a parse.

The entries are pickles in bookbuild's own cache folder (cache.py), which only the user
writes: they are as trusted as the installed package. Nothing a manuscript holds is unpickled.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

from bookbuild.cache import cached, entry_path
from bookbuild.errors import Collector, Diagnostic
from bookbuild.model import Chapter

KIND = "chapters"
# Parsing in worker processes pays from about this many bytes of chapters still to parse:
# below it, starting the workers and sending the tokens back costs more than it saves.
PARALLEL_BYTES = 256 * 1024

Loaded = tuple[Chapter | None, tuple[Diagnostic, ...]]
Loader = Callable[[Collector], Chapter | None]


@functools.cache
def code_key() -> bytes:
    """Return a digest of what parses a chapter: bookbuild's source and the parser's versions."""
    digest = hashlib.sha256(sys.version.encode())
    for name in ("markdown-it-py", "mdit-py-plugins", "PyYAML", "edtf", "babel"):
        digest.update(f"{name} {metadata.version(name)}".encode())
    package = Path(__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def load_chapters(
    tasks: Sequence[tuple[list[bytes] | None, Loader]], found: Collector
) -> list[Chapter | None]:
    """Load each chapter, from the cache where its key is kept; report its diagnostics.

    A task is (key, loader): the key covers what the loading reads (None: never cached), the
    loader fills the Collector it is given. The chapters that must be parsed are parsed in
    worker processes when there are enough of them.
    """
    keys = [None if key is None else [code_key(), *key] for key, _ in tasks]
    missing = [n for n, key in enumerate(keys) if key is None or not _kept(key)]
    parsed: dict[int, bytes] = {}
    if _worth_parallel([keys[n] for n in missing]):
        loaders = [tasks[n][1] for n in missing]
        sizes = [len(keys[n][2]) if keys[n] else 0 for n in missing]  # type: ignore[index]
        parsed = dict(zip(missing, _parse_in_workers(loaders, sizes), strict=True))
    results = []
    for (_, load), key, n in zip(tasks, keys, range(len(tasks)), strict=True):
        make = functools.partial(parsed.pop, n) if n in parsed else functools.partial(_parse, load)
        data = make() if key is None else cached(KIND, key, make)
        try:
            chapter, diagnostics = _unpickle(data)
        except Exception:  # a damaged entry (a full disk, another version's pickle): parse
            data = _parse(load)
            chapter, diagnostics = _unpickle(data)
            if key is not None:
                entry_path(KIND, key).unlink(missing_ok=True)
                cached(KIND, key, lambda: data)  # noqa: B023 (called at once)
        found.extend(diagnostics)
        results.append(chapter)
    return results


def _kept(key: list[bytes]) -> bool:
    return entry_path(KIND, key).is_file()


def _worth_parallel(keys: Sequence[list[bytes] | None]) -> bool:
    """Whether the chapters still to parse are many and large enough for worker processes."""
    if len(keys) < 2 or (os.cpu_count() or 1) < 2 or sys.platform == "win32":
        return False
    # The file's bytes are the key's third part (code, path, bytes, settings).
    size = sum(len(key[2]) if key else 0 for key in keys)
    return size >= PARALLEL_BYTES


def _parse(load: Loader) -> bytes:
    """Run one chapter's loader; return the chapter and its diagnostics, pickled."""
    own = Collector()
    chapter = own.guard(lambda: load(own))
    return pickle.dumps((chapter, tuple(own)), protocol=pickle.HIGHEST_PROTOCOL)


# The loaders of the chapters a pool is parsing: forked workers inherit them, so only an
# index crosses to a worker (a loader is a closure, which pickle cannot send).
_LOADERS: list[Loader] = []


def _parse_nth(n: int) -> bytes:
    return _parse(_LOADERS[n])


def _parse_in_workers(loaders: list[Loader], sizes: list[int]) -> list[bytes]:
    """Parse the chapters in worker processes, one per core, largest first; keep their order."""
    global _LOADERS
    _LOADERS = loaders
    try:
        context = multiprocessing.get_context("fork")
        workers = min(len(loaders), os.cpu_count() or 1)
        # The largest first, so that no worker starts a long chapter last.
        order = sorted(range(len(loaders)), key=lambda n: -sizes[n])
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            done = dict(zip(order, pool.map(_parse_nth, order), strict=True))
        return [done[n] for n in range(len(loaders))]
    finally:
        _LOADERS = []


def _unpickle(data: bytes) -> Loaded:
    chapter, diagnostics = pickle.loads(data)
    return chapter, diagnostics
