"""Hard edges: each of these builds or fails with a diagnostic, never a traceback or a hang."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookbuild.cli import main
from bookbuild.dates import DateError, parse_date
from bookbuild.errors import ManuscriptError
from bookbuild.manuscript import load_manuscript
from bookbuild.pipeline import build
from tests.conftest import FIXTURE
from tests.test_stages import write_manuscript

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def fresh(root: Path) -> Path:
    """Return an empty folder for one hypothesis example (they share a tmp_path)."""
    shutil.rmtree(root, ignore_errors=True)
    return root


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    return main(argv, stdout=io.StringIO(), stderr=err), err.getvalue()


@SETTINGS
@given(front=st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_any_front_matter_loads_or_gives_diagnostics(tmp_path: Path, front: str) -> None:
    root = fresh(tmp_path / "m")
    write_manuscript(root, {"01-a.md": f"---\n{front}\n---\nText.\n"})
    try:
        load_manuscript(root)
    except ManuscriptError as exc:
        assert exc.diagnostics
        assert all(d.location is not None for d in exc.diagnostics)


@SETTINGS
@given(
    date=st.text(alphabet="0123456789X-/.~?% ", max_size=16),
    title=st.text(max_size=30).filter(lambda t: '"' not in t and "}" not in t),
)
def test_any_event_attributes_give_an_event_or_a_diagnostic(
    tmp_path: Path, date: str, title: str
) -> None:
    root = fresh(tmp_path / "m")
    body = f'[Something happened]{{.event date="{date}" title="{title}"}}.\n'
    write_manuscript(root, {"01-a.md": f"---\ntitle: A\n---\n{body}"})
    try:
        book, _ = load_manuscript(root)
    except ManuscriptError as exc:
        assert {d.code for d in exc.diagnostics} <= {"BB117", "BB201", "BB202", "BB205", "BB211"}
    else:
        (event,) = book.chapters[0].events
        assert event.date.text == date


@SETTINGS
@given(text=st.text(max_size=24))
def test_any_edtf_string_parses_or_raises_date_error(text: str) -> None:
    try:
        parsed = parse_date(text)
    except DateError:
        return
    assert parsed.lower is None or parsed.upper is None or parsed.lower <= parsed.upper


def test_deeply_nested_blockquote_builds(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path / "m", {"01-a.md": "---\ntitle: A\n---\n" + ">" * 2000 + " deep\n"}
    )
    result = build(root, tmp_path / "out", ("pdf", "epub"))
    assert [p.suffix for p in result.outputs] == [".pdf", ".epub"]


def test_twenty_thousand_word_paragraph_builds(tmp_path: Path) -> None:
    words = " ".join(f"word{n % 97}" for n in range(20_000))
    root = write_manuscript(tmp_path / "m", {"01-a.md": f"---\ntitle: A\n---\n{words}\n"})
    result = build(root, tmp_path / "out", ("pdf",))
    (pdf,) = result.outputs
    assert len(pypdf.PdfReader(pdf).pages) > 20


def test_empty_chapter_file_is_a_diagnostic(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": ""})
    code, err = run(["check", str(root)])
    assert code == 1
    message = "chapter has no YAML front matter (start the file with '---') [BB108]"
    assert err == f"{root}/chapters/01-a.md:1:1: error: {message}\n"


def test_chapter_with_only_front_matter_builds(tmp_path: Path) -> None:
    root = write_manuscript(
        tmp_path / "m", {"01-a.md": "---\ntitle: Only a title\nera: 1900/1910\n---\n"}
    )
    result = build(root, tmp_path / "out", ("pdf", "epub"))
    text = "".join(p.extract_text() for p in pypdf.PdfReader(result.outputs[0]).pages)
    assert "Only a title" in text


def test_crlf_and_bom_keep_line_numbers(tmp_path: Path) -> None:
    chapter = (
        '\ufeff---\r\ntitle: A\r\nera: 1900/1910\r\n---\r\nOne.\r\n\r\n[x]{.event date="1800"}\r\n'
    )
    root = write_manuscript(tmp_path / "m", {})
    (root / "chapters" / "01-a.md").write_bytes(chapter.encode())
    code, err = run(["check", str(root)])
    assert code == 1
    assert err.startswith(f"{root}/chapters/01-a.md:7:1: error: event date '1800' lies outside")


def test_two_builds_into_one_folder_at_once_leave_whole_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bookbuild", "-q", "build", str(FIXTURE), "--out", str(out)]
    runs = [subprocess.Popen(command) for _ in range(2)]
    assert [r.wait(timeout=120) for r in runs] == [0, 0]
    # The command line chooses the number of processes as build(jobs=None) does.
    reference = build(FIXTURE, tmp_path / "reference", ("pdf", "epub"), jobs=None)
    for path in reference.outputs:
        assert (out / path.name).read_bytes() == path.read_bytes()
    with zipfile.ZipFile(out / "the-salt-roads.epub") as zf:
        assert zf.testzip() is None
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_new_manuscript_passes_check_strict_and_builds(tmp_path: Path) -> None:
    code, _ = run(["new", str(tmp_path / "my-book")])
    assert code == 0
    assert run(["check", "--strict", str(tmp_path / "my-book")]) == (0, "")
    result = build(tmp_path / "my-book", tmp_path / "out", ("pdf", "epub"))
    assert {p.name for p in result.outputs} == {"my-book.pdf", "my-book.epub"}
    book, _ = load_manuscript(tmp_path / "my-book")
    assert book.chapters[1].events and book.chapters[1].images and book.glossary
    code, err = run(["new", str(tmp_path / "my-book")])  # never over an existing book
    assert (code, err) == (
        1,
        f"{tmp_path / 'my-book'}: error: folder exists and is not empty [BB111]\n",
    )


def test_check_json_output_for_editors(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    case = Path(__file__).parent / "data" / "errors" / "BB202-invalid-date" / "manuscript"
    out = io.StringIO()
    assert main(["check", "--format", "json", str(case)], stdout=out, stderr=io.StringIO()) == 1
    (diagnostic,) = json.loads(out.getvalue())
    assert diagnostic == {
        "code": "BB202",
        "severity": "error",
        "message": "event date '1931-13' is not a valid EDTF date",
        "path": f"{case}/chapters/01-a.md",
        "line": 7,
        "col": 5,
    }


def test_verbose_build_times_each_step_and_quiet_prints_nothing(tmp_path: Path) -> None:
    err, out = io.StringIO(), io.StringIO()
    argv = ["-v", "build", str(FIXTURE), "--out", str(tmp_path), "--format", "epub"]
    assert main(argv, stdout=out, stderr=err) == 0
    assert "s] loading the manuscript" in err.getvalue()
    assert "s] writing the EPUB" in err.getvalue()
    err, out = io.StringIO(), io.StringIO()
    argv = ["-q", "build", str(FIXTURE), "--out", str(tmp_path), "--format", "epub"]
    assert main(argv, stdout=out, stderr=err) == 0
    assert (out.getvalue(), err.getvalue()) == ("", "")


def test_unwritable_output_missing_theme_and_unreadable_file_are_diagnostics(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, err = run(["build", str(FIXTURE), "--out", str(blocker), "--format", "epub"])
    assert (code, err) == (1, f"{blocker}: error: cannot write the outputs: File exists [BB904]\n")
    code, err = run(["build", str(FIXTURE), "--styles", str(tmp_path / "none")])
    message = "not a bookbuild theme (no templates/print.html) [BB905]"
    assert (code, err) == (1, f"{tmp_path / 'none'}: error: {message}\n")
    root = write_manuscript(tmp_path / "m", {})
    (root / "chapters" / "01-a.md").mkdir()
    code, err = run(["check", str(root)])
    assert (code, err) == (
        1,
        f"{root}/chapters/01-a.md: error: cannot read the file: Is a directory [BB113]\n",
    )
