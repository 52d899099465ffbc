"""Shared fixtures: the fixture manuscript, built once per test session."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bookbuild.pipeline import BuildResult, build

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "fixture"
ROOT = Path(__file__).parents[1]
MANUSCRIPT = ROOT / "manuscript"
GIBBON = DATA / "books" / "gibbon-1"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Give the test session a cache of its own, so no test depends on the user's."""
    os.environ["BOOKBUILD_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """Build the fixture manuscript to PDF, EPUB and HTML once for all tests."""
    out = tmp_path_factory.mktemp("fixture-build")
    return build(FIXTURE, out, ("pdf", "epub", "html"))


@pytest.fixture(scope="session")
def briefing_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """Build the briefing's PDF and EPUB once for all tests."""
    return build(MANUSCRIPT, tmp_path_factory.mktemp("briefing-build"), ("pdf", "epub"))


@pytest.fixture(scope="session")
def gibbon_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, float]:
    """Build Gibbon's first volume (PDF and EPUB) once for the slow tests; with its seconds."""
    started = time.monotonic()
    result = build(GIBBON, tmp_path_factory.mktemp("gibbon"), ("pdf", "epub"))
    return result, time.monotonic() - started


def output(result: BuildResult, suffix: str) -> Path:
    """Return the one output file with this suffix."""
    (path,) = [
        p for p in result.outputs if p.name.endswith(suffix) and "/html/" not in p.as_posix()
    ]
    return path
