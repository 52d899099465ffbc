"""book.yaml's `build:` section travels with the book; flags override it; global options."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from bookbuild import __version__
from bookbuild.cli import main

FIXTURE = Path(__file__).parent / "data" / "fixture"


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the command line and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """Return a copy of the fixture whose book.yaml asks for a 6 x 9 in PDF only."""
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    with (book / "book.yaml").open("a") as handle:
        handle.write("build:\n  formats: [pdf]\n  paper: 6x9in\n")
    return book


def trim(pdf: Path) -> tuple[float, float]:
    box = PdfReader(pdf).pages[0].trimbox
    return round(float(box.width), 2), round(float(box.height), 2)


def test_book_yaml_build_settings_apply(configured: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = run(["build", str(configured), "--out", str(out)])
    assert code == 0, err
    assert [p.suffix for p in out.iterdir() if p.is_file()] == [".pdf"]
    assert trim(next(out.glob("*.pdf"))) == (432.0, 648.0)


def test_flags_override_book_yaml(configured: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = run(
        ["build", str(configured), "--out", str(out), "--paper", "a5", "--format", "pdf,epub"]
    )
    assert code == 0, err
    assert sorted(p.suffix for p in out.iterdir() if p.is_file()) == [".epub", ".pdf"]
    assert trim(next(out.glob("*.pdf"))) == (419.53, 595.28)


def test_global_options_before_or_after_the_subcommand(tmp_path: Path) -> None:
    for argv in (["-q", "build"], ["build", "-q"]):
        code, out, _ = run([*argv, str(FIXTURE), "--out", str(tmp_path), "--format", "epub"])
        assert code == 0
        assert out == ""
    code, _, err = run(["build", str(FIXTURE), "--out", str(tmp_path), "--format", "epub", "-v"])
    assert code == 0
    assert re.search(r"\[\s*\d+\.\d+ s\] writing the EPUB", err)
    assert (
        run(["-q", "build", "-v", str(FIXTURE), "--out", str(tmp_path)])[0] == 2
    )  # -q and -v still exclude each other


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"])[0] == 0
    assert capsys.readouterr().out == f"bookbuild {__version__}\n"


def test_doctor_reports_each_requirement_with_its_install_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bookbuild import doctor

    out = io.StringIO()
    assert doctor.doctor(out, "debian") == 0
    assert "ok       Pango" in out.getvalue()
    assert "ok       Noto CJK" in out.getvalue()
    monkeypatch.setenv("BOOKBUILD_FALLBACK_FONT", str(tmp_path / "missing.ttf"))
    monkeypatch.setenv("BOOKBUILD_CJK_FONTS", str(tmp_path / "no-cjk"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no java, no ace
    monkeypatch.delenv("BOOKBUILD_ACE", raising=False)
    for system, hint in (
        ("debian", "apt-get install fonts-dejavu-core"),
        ("fedora", "dnf install dejavu-sans-fonts"),
        ("macos", "brew install --cask font-dejavu"),
    ):
        out = io.StringIO()
        assert doctor.doctor(out, system) == 1
        report = out.getvalue()
        assert "MISSING  DejaVu Sans" in report and hint in report
        assert "MISSING  Java" in report
        assert "optional Noto CJK" in report
        assert "optional DAISY Ace" in report


def epub_notes(epub: Path) -> tuple[bool, list[str]]:
    """Return whether the EPUB has a Notes appendix, and its note calls' numbers in order."""
    import zipfile

    from lxml import etree

    ops = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    with zipfile.ZipFile(epub) as zf:
        calls = [
            "".join(a.itertext())
            for name in ("EPUB/early.xhtml", "EPUB/league.xhtml")
            for a in etree.fromstring(zf.read(name)).xpath(
                "//x:a[@epub:type='noteref']", namespaces=ops
            )
        ]
        return "EPUB/notes.xhtml" in zf.namelist(), calls


def test_book_yaml_notes_settings_apply_and_flags_override_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    yaml = book / "book.yaml"
    # The build: section's notes win over the top-level key; the flags win over both.
    yaml.write_text(
        yaml.read_text() + "notes: chapter-end\nbuild:\n  notes: book-end\n  note-numbering: book\n"
    )
    base = ["build", str(book), "--format", "epub"]
    code, _, err = run([*base, "--out", str(tmp_path / "a")])
    assert code == 0, err
    assert epub_notes(next((tmp_path / "a").glob("*.epub"))) == (True, ["1", "2"])
    code, _, err = run(
        [*base, "--out", str(tmp_path / "b"), "--notes", "page", "--note-numbering", "chapter"]
    )
    assert code == 0, err
    assert epub_notes(next((tmp_path / "b").glob("*.epub"))) == (False, ["1", "1"])
    capsys.readouterr()
    assert run([*base, "--out", str(tmp_path / "c"), "--notes", "margin"])[0] == 2
    assert "notes 'margin' must be one of page, chapter-end, book-end" in capsys.readouterr().err
