"""The EPUBs pass EPUBCheck and DAISY Ace without a single message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.pipeline import BuildResult
from tests.conftest import output
from tests.validators import run_ace, run_epubcheck


@pytest.fixture(scope="module")
def briefing_epub(briefing_build: BuildResult) -> Path:
    """Return the briefing's EPUB, built with the PDF so that it carries the page list."""
    return output(briefing_build, ".epub")


def test_fixture_passes_epubcheck_with_no_messages(fixture_build: BuildResult) -> None:
    code, report = run_epubcheck(output(fixture_build, ".epub"))
    assert code == 0, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings / 0 infos" in report, report


def test_briefing_passes_epubcheck_with_no_messages(briefing_epub: Path) -> None:
    code, report = run_epubcheck(briefing_epub)
    assert code == 0, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings / 0 infos" in report, report


def test_fixture_passes_ace(fixture_build: BuildResult, tmp_path: Path) -> None:
    code, violations = run_ace(output(fixture_build, ".epub"), tmp_path)
    assert violations == []
    assert code == 0


def test_briefing_passes_ace(briefing_epub: Path, tmp_path: Path) -> None:
    code, violations = run_ace(briefing_epub, tmp_path)
    assert violations == []
    assert code == 0


def test_epubcheck_exit_code_is_trusted_over_its_summary(tmp_path: Path) -> None:
    code, report = run_epubcheck(tmp_path / "missing.epub")
    assert code != 0, report
