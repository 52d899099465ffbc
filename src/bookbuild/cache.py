"""A content-addressed cache for generated files that cost more to make than to look up."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def cache_dir() -> Path:
    """Return bookbuild's cache folder: $BOOKBUILD_CACHE, else the XDG cache folder."""
    if explicit := os.environ.get("BOOKBUILD_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bookbuild"


def entry_path(kind: str, key: Iterable[bytes]) -> Path:
    """Return the file that holds, or would hold, the bytes stored under this key."""
    return cache_dir() / kind / hashlib.sha256(b"\0".join(key)).hexdigest()


def cached(kind: str, key: Iterable[bytes], make: Callable[[], bytes]) -> bytes:
    """Return the bytes stored under this key, making and storing them on a miss.

    The key must cover everything the bytes depend on, so a hit gives what `make` would.
    A cache that cannot be written is skipped, never an error.
    """
    key = list(key)
    try:
        return entry_path(kind, key).read_bytes()
    except OSError:
        pass
    data = make()
    store(kind, key, data)
    return data


def store(kind: str, key: Iterable[bytes], data: bytes) -> None:
    """Keep the bytes under this key, atomically; a cache that cannot be written is skipped."""
    path = entry_path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError:
        pass
