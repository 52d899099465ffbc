"""The wheel installs into a fresh venv outside the checkout, and new, build and --verify work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).parents[1]


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Build the wheel once and install it, with its dependencies, into a fresh venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], ROOT, env)
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], ROOT, env)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "bookbuild/styles/templates/print.html" in names
    assert "bookbuild/styles/new-book/book.yaml" in names
    assert not [n for n in names if n.endswith((".ttf", ".otf"))], "fonts come from fontpkg"
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], home, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, "-c", str(ROOT / "requirements.lock"), f"{wheel}[verify]"], home, env, 1800)
    env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    env.pop("BOOKBUILD_ACE", None)
    return home, env


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_builds_a_new_book(installed: tuple[Path, dict[str, str]]) -> None:
    home, env = installed
    bookbuild = str(Path(env["PATH"].split(os.pathsep)[0]) / "bookbuild")
    assert re.fullmatch(r"bookbuild \d+\.\d+\.\d+\n", _run([bookbuild, "--version"], home, env))
    # The installed bookbuild is the wheel's, not this checkout's.
    where = _run(
        [
            str(Path(bookbuild).parent / "python"),
            "-c",
            "import bookbuild; print(bookbuild.__file__)",
        ],
        home,
        env,
    )
    assert str(ROOT) not in where and "site-packages" in where
    _run([bookbuild, "new", "mybook"], home, env)
    out = _run([bookbuild, "build", "mybook", "-q"], home, env)
    assert "Traceback" not in out
    pdf, epub = home / "dist" / "mybook.pdf", home / "dist" / "mybook.epub"
    assert len(PdfReader(pdf).pages) > 1
    with zipfile.ZipFile(epub) as archive:
        assert archive.read("mimetype") == b"application/epub+zip"
    assert "ok       Pango" in _run([bookbuild, "doctor"], home, env)


@pytest.mark.slow
def test_verify_runs_in_the_fresh_venv(installed: tuple[Path, dict[str, str]]) -> None:
    home, env = installed
    bookbuild = str(Path(env["PATH"].split(os.pathsep)[0]) / "bookbuild")
    _run([bookbuild, "new", "verified"], home, env)
    done = subprocess.run(
        [bookbuild, "-q", "build", "verified", "--verify"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    err = done.stderr
    assert "Traceback" not in err
    assert "[BB925]" not in err, err  # every validator ran
    assert not re.search(r"\[BB92[01]\]", err), err  # EPUBCheck passes the new book's EPUB
    assert "note: DAISY Ace was skipped" in err
    errors = [s for s in err.splitlines() if ": error:" in s]
    assert done.returncode == (1 if errors else 0)
