"""Every diagnostic code has a manuscript in tests/data/errors and its exact expected output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bookbuild.cli import main

CASES = sorted((Path(__file__).parent / "data" / "errors").iterdir())


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the command line and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def use_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in the case's folder, with the environment its optional `env` file sets."""
    monkeypatch.chdir(case)
    env = case / "env"
    for line in env.read_text().splitlines() if env.is_file() else ():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_prints_exact_diagnostics(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_case(case, monkeypatch)
    code, _, err = run(["check", "manuscript"])
    expected = (case / "expected.txt").read_text()
    assert err == expected
    assert code == (1 if ": error:" in expected else 0)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if ": error:" in (c / "expected.txt").read_text()],
    ids=lambda c: c.name,
)
def test_failed_build_leaves_earlier_outputs_untouched(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_case(case, monkeypatch)
    out = tmp_path / "dist"
    out.mkdir()
    earlier = {
        name: f"earlier {name}".encode()
        for name in ("error-case.pdf", "error-case.epub", "notes.txt")
    }
    for name, data in earlier.items():
        (out / name).write_bytes(data)
    code, _, err = run(["build", "manuscript", "--out", str(out), "--format", "pdf,epub,html"])
    assert code == 1
    assert err == (case / "expected.txt").read_text()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier


def test_warnings_fail_only_with_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent / "data" / "errors" / "BB104-unknown-key")
    assert run(["check", "manuscript"])[0] == 0
    assert run(["check", "manuscript", "--strict"])[0] == 1


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["build", "--format", "docx"])[0] == 2
    assert run(["frobnicate"])[0] == 2
    assert "invalid" in capsys.readouterr().err


def test_missing_manuscript_folder_is_reported(tmp_path: Path) -> None:
    code, _, err = run(["check", str(tmp_path / "nowhere")])
    assert code == 1
    assert err == f"{tmp_path / 'nowhere'}: error: manuscript folder not found\n"


BUILD_CASES = [c for c in CASES if (c / "expected-build.txt").is_file()]


@pytest.mark.parametrize("case", BUILD_CASES, ids=[c.name for c in BUILD_CASES])
def test_build_prints_exact_layout_diagnostics(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codes that only the PDF's layout can find (`check` cannot) are matched on a build."""
    monkeypatch.chdir(case)
    code, _, err = run(["-q", "build", "manuscript", "--out", str(tmp_path), "--format", "pdf"])
    expected = (case / "expected-build.txt").read_text()
    assert err == expected
    assert code == (1 if ": error:" in expected else 0)
