"""Outputs after a kill or a full disk: whole files, old or new, and nothing left behind."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bookbuild import outputs
from bookbuild.cli import main
from bookbuild.errors import OutputError
from bookbuild.pipeline import build
from tests.conftest import FIXTURE

SLUG = "the-salt-roads"
# Run the command line in a child that kills itself (SIGKILL: no clean-up runs) at the n-th call
# of a function of the commit (for os.replace, the n-th move of an output).
DYING_CHILD = """
import os, signal, sys
from bookbuild import outputs
target, module, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
owner = outputs if module == "outputs" else os
real, calls = getattr(owner, target), []
def dying(*args, **kwargs):
    if module == "os" and outputs.READY_PREFIX not in str(args[0]):
        return real(*args, **kwargs)  # a cache write, say: not the commit's moves
    calls.append(1)
    if len(calls) == n:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
setattr(owner, target, dying)
from bookbuild.cli import main
sys.exit(main(sys.argv[4:]))
"""


def earlier_outputs(out: Path) -> dict[str, bytes]:
    """Fill `out` with stand-ins for an earlier build's outputs and a file of the user's."""
    files = {
        f"{SLUG}.epub": b"earlier epub",
        f"html/{SLUG}.html": b"earlier html",
        "html/print.css": b"earlier css",
        "notes.txt": b"the user's own file",
    }
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return files


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def hidden(out: Path) -> list[str]:
    return [p.name for p in out.rglob(".*")]


def kill_a_build(out: Path, target: str, module: str, n: int) -> None:
    argv = ["-q", "build", str(FIXTURE), "--out", str(out), "--format", "epub,html"]
    child = [sys.executable, "-c", DYING_CHILD, target, module, str(n), *argv]
    done = subprocess.run(child, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr


@pytest.fixture(scope="module")
def fresh_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Return what an uninterrupted EPUB and HTML build of the fixture writes."""
    out = tmp_path_factory.mktemp("reference")
    build(FIXTURE, out, ("epub", "html"))
    return tree(out)


def test_a_build_killed_while_writing_leaves_the_old_outputs_and_the_next_cleans_up(
    tmp_path: Path, fresh_outputs: dict[str, bytes]
) -> None:
    out = tmp_path / "out"
    before = earlier_outputs(out)
    kill_a_build(out, "_write_synced", "outputs", 5)
    assert [n for n in hidden(out) if n.startswith(outputs.STAGING_PREFIX)]  # the kill's litter
    assert {k: v for k, v in tree(out).items() if not k.startswith(".")} == before
    build(FIXTURE, out, ("epub", "html"))
    assert hidden(out) == []
    assert tree(out) == fresh_outputs | {"notes.txt": before["notes.txt"]}


def test_a_build_killed_while_moving_is_completed_by_the_next_build(
    tmp_path: Path, fresh_outputs: dict[str, bytes]
) -> None:
    out = tmp_path / "out"
    before = earlier_outputs(out)
    kill_a_build(out, "replace", "os", 3)  # two files moved, the rest still waiting
    now = {k: v for k, v in tree(out).items() if not k.startswith(".")}
    assert now != before and now != fresh_outputs | {"notes.txt": before["notes.txt"]}
    assert all(now[k] in (before.get(k), fresh_outputs.get(k)) for k in now)  # all whole files
    # The next build, even of the EPUB alone, first finishes the killed build's moves.
    build(FIXTURE, out, ("epub",))
    assert hidden(out) == []
    assert tree(out) == fresh_outputs | {"notes.txt": before["notes.txt"]}


def test_a_full_disk_is_a_diagnostic_and_leaves_the_old_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    before = earlier_outputs(out)
    real, calls = outputs._write_synced, []

    def full_disk(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(outputs, "_write_synced", full_disk)
    with pytest.raises(OutputError) as caught:
        build(FIXTURE, out, ("epub", "html"))
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.message) == (
        "BB904",
        "cannot write the outputs: No space left on device",
    )
    assert tree(out) == before and hidden(out) == []


def test_a_failed_move_is_finished_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_outputs: dict[str, bytes]
) -> None:
    out = tmp_path / "out"
    before = earlier_outputs(out)
    real, calls = os.replace, []

    def failing(source: object, target: object) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))
        real(source, target)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", failing)
        with pytest.raises(OutputError):
            build(FIXTURE, out, ("epub", "html"))
    build(FIXTURE, out, ("epub",))
    assert tree(out) == fresh_outputs | {"notes.txt": before["notes.txt"]}


def test_temporaries_of_earlier_versions_are_removed_but_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    old = [out / f".{SLUG}.epub.k2j4x9_q.tmp", out / "html" / ".print.css.abcdefgh.tmp"]
    kept = [out / ".notes.txt.abcdefgh.tmp", out / "draft.tmp", out / f".{SLUG}.pdf.short.tmp"]
    recent = out / f".{SLUG}.pdf.zzzzzzzz.tmp"  # written after this build began: not ours to judge
    for path in (*old, *kept):
        path.write_bytes(b"x")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    recent.write_bytes(b"x")
    os.utime(recent, (time.time() + 3600, time.time() + 3600))
    build(FIXTURE, out, ("epub",))
    assert not any(p.exists() for p in old)
    assert all(p.exists() for p in (*kept, recent))


def test_new_refuses_a_file_and_an_impossible_place(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    for target, message in (
        (tmp_path / "a-file", "a file exists here; give a folder name"),
        (tmp_path / "a-file" / "book", "cannot create the manuscript: Not a directory"),
    ):
        err = io.StringIO()
        assert main(["new", str(target)], stdout=io.StringIO(), stderr=err) == 1
        assert err.getvalue() == f"{target}: error: {message} [BB111]\n"
