"""Builds are byte-reproducible, and dist/ holds what a fresh build of the briefing gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.pipeline import BuildResult, build
from tests.conftest import FIXTURE, ROOT, output


def test_two_builds_in_different_folders_are_identical(
    fixture_build: BuildResult, tmp_path: Path
) -> None:
    again = build(FIXTURE, tmp_path / "elsewhere" / "out", ("pdf", "epub"))
    for suffix in (".pdf", ".epub"):
        assert output(again, suffix).read_bytes() == output(fixture_build, suffix).read_bytes()


def test_source_date_epoch_overrides_the_build_date(
    fixture_build: BuildResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    again = build(FIXTURE, tmp_path, ("pdf", "epub"))
    epub = output(again, ".epub").read_bytes()
    assert epub != output(fixture_build, ".epub").read_bytes()
    import zipfile

    with zipfile.ZipFile(output(again, ".epub")) as zf:
        assert b"2023-11-14T22:13:20Z" in zf.read("EPUB/content.opf")
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_committed_dist_matches_a_fresh_build(briefing_build: BuildResult) -> None:
    for suffix in (".pdf", ".epub"):
        fresh = output(briefing_build, suffix)
        committed = ROOT / "dist" / fresh.name
        assert committed.exists(), f"{committed} is missing: run `make book` and commit dist/"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"{committed} differs from a fresh build: run `make book` and commit dist/"
        )


def test_a_bad_source_date_epoch_is_a_diagnostic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from bookbuild.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    err = io.StringIO()
    argv = ["build", str(FIXTURE), "--out", str(tmp_path), "--format", "epub"]
    assert main(argv, stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue() == (
        "error: SOURCE_DATE_EPOCH is 'yesterday', not a whole number of seconds [BB112]\n"
    )
