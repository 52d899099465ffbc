"""`bookbuild serve` in real headless Chromium: edit a chapter and watch the change arrive."""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bookbuild import serve
from bookbuild.cli import main
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


@contextlib.contextmanager
def serving(book: Path) -> Iterator[str]:
    """Serve a manuscript folder on a free port; yield its URL, and stop the server after."""
    server, stop = start(book, port=0, styles=None, log=io.StringIO())
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a new manuscript on a free port; yield its URL and folder."""
    book = tmp_path / "book"
    create_manuscript(book)
    with serving(book) as url:
        yield url, book


def test_serves_on_loopback_only_and_only_the_books_files(served: tuple[str, Path]) -> None:
    url, _ = served
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url) as response:
        page = response.read().decode()
    assert '<h1 class="chapter-title" data-b="the-league.title">The league</h1>' in page
    assert '<script src="/reload.js"></script>' in page
    with urllib.request.urlopen(url + "reload.js") as response:
        assert "new EventSource('/events')" in response.read().decode()
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


def get(url: str, path: str = "/", host: str | None = None) -> http.client.HTTPResponse:
    """GET a path, with the Host header given (none at all when host is '')."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=host is not None)
    if host:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    response.read()  # keeps the body in response for the caller
    return response


def get_body(url: str, path: str) -> bytes:
    with urllib.request.urlopen(url + path.lstrip("/")) as response:
        return bytes(response.read())


def page_text(url: str) -> str:
    with urllib.request.urlopen(url) as response:
        return str(response.read().decode())


def wait_for(url: str, text: str, timeout: float = 20.0) -> str:
    """Return the page once it contains `text`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        page = page_text(url)
        if text in page or time.monotonic() > deadline:
            assert text in page, page
            return page
        time.sleep(0.1)


def test_only_our_own_host_names_are_answered(served: tuple[str, Path]) -> None:
    url, _ = served
    port = url.rstrip("/").rsplit(":", 1)[1]
    for path in ("/", "/events", "/print.css", "/reload.js"):
        for host in (
            f"attacker.example:{port}",
            "attacker.example",
            f"127.0.0.1.nip.io:{port}",
            "",
        ):
            response = get(url, path, host)
            assert response.status == 421, (path, host)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert get(url, "/", host).status == 200


def test_every_response_is_nosniff_with_a_strict_policy(served: tuple[str, Path]) -> None:
    from lxml import html as lxml_html

    url, _ = served
    page = get(url, "/")
    policy = page.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in policy.split("; ")
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    document = lxml_html.fromstring(page_text(url))
    assert [s.get("src") for s in document.iter("script")] == ["/reload.js"]
    assert all(not (s.text or "").strip() for s in document.iter("script"))
    svg = get(url, "/images/images/route.svg")
    assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'")
    for path in ("/", "/reload.js", "/print.css", "/images/images/route.svg", "/nope", "/x/../y"):
        response = get(url, path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path


def test_served_svgs_are_the_cleaned_ones(served: tuple[str, Path]) -> None:
    url, book = served
    route = book / "images" / "route.svg"
    hostile = route.read_text().replace("<svg ", '<svg onload="alert(1)" ', 1)
    route.write_text(
        hostile.replace("</svg>", "<desc>edited</desc><script>alert(2)</script></svg>")
    )
    deadline = time.monotonic() + 20
    while b"edited" not in (svg := get_body(url, "/images/images/route.svg")):
        assert time.monotonic() < deadline, svg
        time.sleep(0.1)
    assert b"alert" not in svg and b"<script" not in svg


def test_a_rebuild_that_raises_shows_the_error_and_a_fix_shows_the_book(
    served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, book = served
    chapter = book / "chapters" / "01-the-league.md"
    original = chapter.read_text()

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(serve, "render_print", broken)
    chapter.write_text(original + "\nOne more line.\n")
    wait_for(url, "bookbuild failed while rebuilding: RuntimeError: the renderer broke")
    monkeypatch.undo()
    chapter.write_text(original.replace("title: The league", "title: The mended league"))
    wait_for(url, "The mended league")


def test_serve_survives_any_edit(served: tuple[str, Path]) -> None:
    url, book = served
    chapter = book / "chapters" / "01-the-league.md"
    original, meta = chapter.read_bytes(), (book / "book.yaml").read_bytes()
    (book / "book.yaml").unlink()
    wait_for(url, "[BB100]")
    (book / "book.yaml").write_bytes(meta)
    wait_for(url, "The league")
    chapter.write_bytes(b"\x00\xff\xfe garbage \x80\x81" * 50)
    wait_for(url, "[BB101]")
    chapter.unlink()
    chapter.mkdir()
    wait_for(url, "[BB113]")
    chapter.rmdir()
    chapter.write_bytes(original)
    wait_for(url, "The league")


def test_serve_survives_the_manuscript_folder_moving_away_and_back(
    served: tuple[str, Path],
) -> None:
    url, book = served
    book.rename(book.with_name("away"))
    wait_for(url, "[BB100]")
    book.with_name("away").rename(book)
    wait_for(url, "The league")
    chapter = book / "chapters" / "01-the-league.md"
    chapter.write_text(chapter.read_text().replace("title: The league", "title: The back league"))
    wait_for(url, "The back league")


def test_a_busy_or_impossible_port_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book"
    create_manuscript(book)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = io.StringIO()
        assert main(["serve", str(book), "--port", str(port)], stderr=err) == 1
    assert err.getvalue().endswith(
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use; "
        "choose another port with --port\n"
    )
    assert "Traceback" not in err.getvalue()
    for bad in ("65536", "0", "-1", "http"):
        assert main(["serve", str(book), "--port", bad], stderr=io.StringIO()) == 2
        assert "not a port number from 1 to 65535" in capsys.readouterr().err


def test_the_listen_backlog_is_large() -> None:
    assert serve.PreviewServer.request_queue_size >= 128
