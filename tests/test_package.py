"""The README's install lines, run as written in a fresh home outside the checkout, work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).parents[1]
BEGIN, END = "<!-- install-commands", "<!-- /install-commands -->"


def readme_install_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """Return the shell lines of the README's install block, between its markers."""
    text = readme.read_text()
    block = text[text.index(BEGIN) : text.index(END)].splitlines()[1:]
    return [line.strip() for line in block if line.strip()]


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@dataclass(frozen=True, slots=True, kw_only=True)
class Install:
    home: Path  # the new user's home folder, outside the checkout
    source: Path  # the unpacked sdist the README's lines ran in
    output: str  # everything the README's lines printed
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """Build the wheel and sdist once, then run the README's install lines from the sdist."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("BOOKBUILD_ACE", None)
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
    home = tmp_path_factory.mktemp("home")
    with tarfile.open(sdist) as archive:
        archive.extractall(home / "src", filter="data")
    (source,) = (home / "src").iterdir()
    env = {
        **env,
        "HOME": str(home),
        # `python3` is the Python running the tests; the lock pins what pip installs.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PIP_CONSTRAINT": str(ROOT / "requirements.lock"),
    }
    script = "\n".join(readme_install_commands())
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script}\n{output}"
    return Install(home=home, source=source, output=output, env=env)


def test_the_install_block_is_the_commands_a_new_user_types() -> None:
    lines = readme_install_commands()
    assert lines[0] == "python3 -m venv ~/.bookbuild"
    assert lines[1] == "~/.bookbuild/bin/pip install '.[verify]'"
    assert any("bookbuild build mybook --verify" in line for line in lines)


@pytest.mark.slow
def test_readme_install_lines_build_and_verify_a_new_book(installed: Install) -> None:
    out = installed.output
    assert "Traceback" not in out
    assert "ok       Pango" in out  # doctor ran and found WeasyPrint's Pango
    pdf, epub = installed.home / "dist" / "mybook.pdf", installed.home / "dist" / "mybook.epub"
    assert len(PdfReader(pdf).pages) > 1
    with zipfile.ZipFile(epub) as archive:
        assert archive.read("mimetype") == b"application/epub+zip"
    # --verify ran every validator it has, and EPUBCheck passed the new book's EPUB.
    assert "[BB925]" not in out, out
    assert not re.search(r"\[BB92[01]\]", out), out
    assert "note: DAISY Ace was skipped" in out
    assert not [s for s in out.splitlines() if ": error:" in s], out


@pytest.mark.slow
def test_the_installed_bookbuild_is_the_package_not_the_checkout(installed: Install) -> None:
    venv = installed.home / ".bookbuild" / "bin"
    version = _run([str(venv / "bookbuild"), "--version"], installed.home, installed.env)
    assert re.fullmatch(r"bookbuild \d+\.\d+\.\d+\n", version)
    code = "import bookbuild; print(bookbuild.__file__)"
    where = _run([str(venv / "python"), "-c", code], installed.home, installed.env)
    assert str(ROOT) not in where and str(installed.source) not in where
    assert "site-packages" in where


# ---------------------------------------------------------------------------------------------
# docs/ci.md: the GitHub Actions example installs and builds the way the README does.


def ci_workflow() -> dict[str, object]:
    """Return the workflow in docs/ci.md, parsed."""
    import yaml

    text = (ROOT / "docs" / "ci.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    workflow = yaml.safe_load(block)
    assert isinstance(workflow, dict)
    return workflow


def readme_debian_packages() -> set[str]:
    """Return the packages of the README's Debian and Ubuntu install command."""
    row = next(s for s in (ROOT / "README.md").read_text().splitlines() if s.startswith("| Debian"))
    command = row.split("`")[1]
    return set(command.split("apt-get install", 1)[1].split())


def test_the_ci_example_installs_and_builds_as_the_readme_says() -> None:
    workflow = ci_workflow()
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads `on:` as True
    (job,) = workflow["jobs"].values()  # type: ignore[attr-defined]
    steps = job["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == [
        "actions/checkout",
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
    ]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    source = steps[1]["with"]["path"]
    runs = {s.get("name", ""): s for s in steps if "run" in s}
    # The apt-get line installs exactly the README's Debian and Ubuntu packages.
    apt = runs["System libraries"]["run"].replace("\\\n", " ")
    install = next(line for line in apt.splitlines() if "apt-get install" in line)
    packages = {p for p in install.split("apt-get install", 1)[1].split() if p != "-y"}
    assert packages == readme_debian_packages()
    # bookbuild is installed with the README's own two lines, in bookbuild's checkout.
    step = runs["bookbuild"]
    assert step["working-directory"] == source
    assert step["run"].splitlines()[:2] == readme_install_commands()[:2]
    commands = "\n".join(s["run"] for s in runs.values())
    assert "bookbuild doctor" in commands
    assert re.search(r"^bookbuild build manuscript --out dist --verify$", commands, re.M)
    upload = steps[-1]
    assert upload["if"] == "always()"
    assert upload["with"]["path"].split() == ["dist/*.pdf", "dist/*.epub"]
