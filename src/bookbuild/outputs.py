"""Move a build's outputs into place so that a kill or a full disk never leaves half a file.

Every file is first written into a hidden staging folder inside the output folder. Only when all
of them are written (and synced) is the folder renamed "ready", in one atomic step, and its files
moved into place, each with an atomic rename. The whole commit holds a lock on the output folder,
and so does the clean-up of earlier builds that ran before it:

- a staging folder left by a build killed while writing is deleted (the old outputs stand);
- a ready folder left by a build killed while moving is moved into place first (that build had
  finished: its outputs replace the old ones);
- temporary files of earlier bookbuild versions (`.<name>.XXXXXXXX.tmp`) older than this build
  are deleted.

So each output is always a whole file, the old one or the new one. A kill in the instant between
two renames can leave some files new and some old until the next build completes the moves.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from bookbuild.errors import OutputError, error
from bookbuild.model import SourceLocation

STAGING_PREFIX = ".bookbuild-staging-"
READY_PREFIX = ".bookbuild-ready-"
# What earlier versions of bookbuild left behind when killed: mkstemp names beside each output.
LEGACY_TEMP = re.compile(
    r"\.[^/]+\.(pdf|epub|html|css|svg|png|jpe?g|gif|webp|ttf)\.[a-z0-9_]{8}\.tmp", re.IGNORECASE
)


def commit_outputs(
    out: Path, staged: Mapping[str, bytes], *, started: float | None = None
) -> tuple[Path, ...]:
    """Write every staged file into `out`, all or (after a kill) none; return the paths."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with lock_folder(out):
            remove_stale_outputs(out, time.time() if started is None else started)
            _refuse_folders_in_the_way(out, staged)
            ready = stage_outputs(out, staged)
            return move_into_place(ready, out, list(staged))
    except OSError as exc:
        where = SourceLocation(path=Path(exc.filename or out), line=0)
        raise OutputError(
            [error("BB904", f"cannot write the outputs: {exc.strerror or exc}", where)]
        ) from None


@contextlib.contextmanager
def lock_folder(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a folder, so that two builds into it take turns."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process dies
        except OSError as exc:  # a file system without locks: build, unguarded, all the same
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
        yield
    finally:
        os.close(fd)


def stage_outputs(out: Path, staged: Mapping[str, bytes]) -> Path:
    """Write every file into a new staging folder; return it, renamed as ready."""
    stage = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
    try:
        for name, data in staged.items():
            _write_synced(stage / name, data)
        ready = out / (READY_PREFIX + stage.name.removeprefix(STAGING_PREFIX))
        stage.rename(ready)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return ready


def move_into_place(ready: Path, out: Path, names: list[str]) -> tuple[Path, ...]:
    """Move a ready folder's files to their places in `out`, then remove the folder."""
    targets = []
    for name in names:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(ready / name, target)
        targets.append(target)
    shutil.rmtree(ready)
    return tuple(targets)


def remove_stale_outputs(out: Path, started: float) -> None:
    """Finish or remove what interrupted builds left in `out`; the caller holds its lock."""
    for leftover in sorted(out.glob(READY_PREFIX + "*")):
        names = [p.relative_to(leftover).as_posix() for p in leftover.rglob("*") if p.is_file()]
        move_into_place(leftover, out, sorted(names))
    for leftover in out.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for path in _legacy_temporaries(out):
        if path.stat().st_mtime < started:
            path.unlink(missing_ok=True)


def _legacy_temporaries(out: Path) -> Iterator[Path]:
    html = out / "html"  # earlier versions wrote only here and at the top
    folders = [out, html, *(p for p in html.rglob("*") if p.is_dir())] if html.is_dir() else [out]
    for folder in folders:
        yield from (p for p in folder.iterdir() if LEGACY_TEMP.fullmatch(p.name) and p.is_file())


def _refuse_folders_in_the_way(out: Path, staged: Mapping[str, bytes]) -> None:
    """Fail before anything moves when a folder sits where an output file should go."""
    for name in staged:
        if (out / name).is_dir():
            raise IsADirectoryError(21, "a folder is in the way", str(out / name))


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with the usual mode (the umask applies), not mkstemp's owner-only one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())  # on disk before the rename that makes it an output
