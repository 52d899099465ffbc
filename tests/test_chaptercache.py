"""Parsed chapters kept between builds, and parsed in worker processes: the same book either way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild import chaptercache
from bookbuild.cache import cache_dir
from bookbuild.manuscript import Draft, draft_manuscript

DATA = Path(__file__).parent / "data"


def copy_book(tmp_path: Path, name: str = "fixture") -> Path:
    root = tmp_path / "m"
    shutil.copytree(DATA / name, root)
    return root


def entries() -> set[Path]:
    folder = cache_dir() / chaptercache.KIND
    return set(folder.iterdir()) if folder.is_dir() else set()


def same(a: Draft, b: Draft) -> None:
    """Assert two loadings gave the same chapters, token for token, and the same diagnostics."""
    assert a.book.chapters == b.book.chapters
    assert [d.format() for d in a.diagnostics] == [d.format() for d in b.diagnostics]


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("BOOKBUILD_CACHE", str(folder))
    return folder


def test_a_kept_chapter_is_the_chapter_a_parse_gives(tmp_path: Path, own_cache: Path) -> None:
    root = copy_book(tmp_path)
    # A warning the loading gives must come back from the cache too.
    (root / "chapters" / "09-w.md").write_text(
        "---\ntitle: W\nunknown-key: 1\n---\nA line with a note.[^1]\n\n[^1]: The note.\n"
    )
    first = draft_manuscript(root)
    kept = entries()
    assert len(kept) == len(first.book.chapters)
    assert any(d.severity.value == "warning" for d in first.diagnostics)
    second = draft_manuscript(root)
    assert entries() == kept  # nothing parsed, nothing stored anew
    same(first, second)


def test_an_edit_or_a_new_language_parses_again(tmp_path: Path, own_cache: Path) -> None:
    root = copy_book(tmp_path)
    draft_manuscript(root)
    kept = entries()
    chapter = sorted((root / "chapters").glob("*.md"))[1]
    chapter.write_text(chapter.read_text() + "\nA sentence added after the cache was made.\n")
    edited = draft_manuscript(root)
    assert len(entries() - kept) == 1
    text = "".join(t.content for c in edited.book.chapters for t in c.tokens)
    assert "A sentence added after the cache was made." in text
    book = root / "book.yaml"
    book.write_text(book.read_text().replace("language: en", "language: fr"))
    french = draft_manuscript(root)
    assert len(entries() - kept) == 1 + len(french.book.chapters)  # book.yaml is in every key


def test_a_damaged_entry_is_parsed_again(tmp_path: Path, own_cache: Path) -> None:
    root = copy_book(tmp_path)
    first = draft_manuscript(root)
    for entry in entries():
        entry.write_bytes(b"not a pickle")
    same(first, draft_manuscript(root))
    assert all(entry.read_bytes() != b"not a pickle" for entry in entries())


def test_workers_parse_what_one_process_parses(
    tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_book(tmp_path)
    (root / "chapters" / "09-bad.md").write_text("---\ntitle: Bad\nera: not a date\n---\nText.\n")
    monkeypatch.setattr(chaptercache, "PARALLEL_BYTES", 10**12)
    alone = draft_manuscript(root)
    assert any(d.severity.value == "error" for d in alone.diagnostics)
    shutil.rmtree(own_cache)
    monkeypatch.setattr(chaptercache, "PARALLEL_BYTES", 0)
    calls = []
    real = chaptercache._parse_in_workers
    monkeypatch.setattr(
        chaptercache,
        "_parse_in_workers",
        lambda loaders, sizes: calls.append(len(loaders)) or real(loaders, sizes),
    )
    in_workers = draft_manuscript(root)
    assert calls == [len(list((root / "chapters").glob("*.md")))]  # every chapter, the bad one too
    same(alone, in_workers)


def test_the_key_covers_the_parser_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another markdown-it-py (or mdit-py-plugins...) parses differently: a new key."""
    key = chaptercache.code_key()
    chaptercache.code_key.cache_clear()
    monkeypatch.setattr(chaptercache.metadata, "version", lambda name: "0.0")
    try:
        assert chaptercache.code_key() != key
    finally:
        chaptercache.code_key.cache_clear()
