"""`bookbuild serve` in real headless Chromium: edit a chapter and watch the change arrive."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bookbuild.scaffold import create_manuscript
from bookbuild.serve import start

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network, as root, with no desktop: see the machine notes in README.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a new manuscript on a free port; yield its URL and folder."""
    book = tmp_path / "book"
    create_manuscript(book)
    server, stop = start(book, port=0, styles=None, log=io.StringIO())
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", book
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_serves_on_loopback_only_and_only_the_books_files(served: tuple[str, Path]) -> None:
    url, _ = served
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url) as response:
        page = response.read().decode()
    assert '<h1 class="chapter-title" data-b="the-league.title">The league</h1>' in page
    assert "new EventSource('/events')" in page
    with urllib.request.urlopen(url + "print.css") as response:
        assert response.headers["Content-Type"] == "text/css"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url + "../../etc/passwd")
    assert caught.value.code == 404


def test_live_reload_in_chromium_shows_edits_and_errors(served: tuple[str, Path]) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    url, book = served
    chapter = book / "chapters" / "01-the-league.md"
    original = chapter.read_text()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(url)
        playwright.expect(page.locator("#the-league h1")).to_have_text("The league")
        page.wait_for_timeout(300)  # let the page's event stream connect
        chapter.write_text(original.replace("title: The league", "title: The great league"))
        playwright.expect(page.locator("#the-league h1")).to_have_text(
            "The great league", timeout=15000
        )
        chapter.write_text(original.replace("title: The league", "title: [broken"))
        playwright.expect(page.locator("#diagnostics")).to_contain_text(
            "01-the-league.md:3:4: error: invalid YAML", timeout=15000
        )
        assert page.title() == "The manuscript has errors"
        chapter.write_text(original)
        playwright.expect(page.locator("#the-league h1")).to_have_text("The league", timeout=15000)
        browser.close()
