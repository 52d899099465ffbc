"""`bookbuild serve`: the book's HTML on 127.0.0.1, rebuilt and reloaded on every change."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from bookbuild.assets import Asset, collect_assets, default_styles_dir, read_asset
from bookbuild.chronology import extract_chronology
from bookbuild.errors import BookbuildError
from bookbuild.render import create_environment, render_print, render_timeline_svg

# Reload the page when the server says the book changed; reconnect if the server restarts.
RELOAD_SCRIPT = "<script>new EventSource('/events').onmessage = () => location.reload();</script>"
TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """What the preview shows now: the book, or the diagnostics that stop it."""

    version: int
    page: bytes
    assets: Mapping[str, Asset]


class Preview:
    """Rebuild the book's HTML on demand and tell waiting pages when it changed."""

    def __init__(self, book_dir: Path, styles: Path | None = None) -> None:
        self.book_dir, self.styles = book_dir, styles or default_styles_dir()
        self.changed = threading.Condition()
        self.snapshot = Snapshot(version=0, page=b"", assets={})

    def rebuild(self) -> Snapshot:
        """Render the book (or its errors) and wake every page that waits for a change."""
        from bookbuild.pipeline import load_book

        env = create_environment(self.styles)
        try:
            book, _ = load_book(self.book_dir)
            chronology = extract_chronology(book)
            assets = dict(collect_assets(book, self.styles))
            if svg := render_timeline_svg(book, chronology, env):
                assets["timeline.svg"] = svg
            html = render_print(book, chronology, env)
        except BookbuildError as exc:
            assets = {}
            html = env.get_template("serve_errors.html").render(diagnostics=exc.diagnostics)
        page = html.replace("</body>", RELOAD_SCRIPT + "</body>", 1).encode("utf-8")
        with self.changed:
            self.snapshot = Snapshot(version=self.snapshot.version + 1, page=page, assets=assets)
            self.changed.notify_all()
        return self.snapshot

    def wait(self, version: int, timeout: float) -> Snapshot:
        """Return the snapshot once it is newer than `version`, or after `timeout` seconds."""
        with self.changed:
            self.changed.wait_for(lambda: self.snapshot.version > version, timeout)
            return self.snapshot


def make_handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class that serves this preview."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/events":
                return self._events()
            snapshot = preview.snapshot
            if path in ("/", "/index.html"):
                return self._send(HTTPStatus.OK, "text/html; charset=utf-8", snapshot.page)
            asset = snapshot.assets.get(path.lstrip("/"))
            if asset is None:
                return self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not part of this book\n")
            suffix = Path(path).suffix.lower()
            return self._send(
                HTTPStatus.OK, TYPES.get(suffix, "application/octet-stream"), read_asset(asset)
            )

        def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            version = preview.snapshot.version
            try:
                while not getattr(self.server, "closing", False):
                    snapshot = preview.wait(version, timeout=1.0)
                    if snapshot.version > version:
                        version = snapshot.version
                        self.wfile.write(f"data: {version}\n\n".encode())
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass  # requests are not news; rebuilds and errors are logged by serve()

    return Handler


def watch(preview: Preview, stop: threading.Event, log: TextIO) -> None:
    """Rebuild whenever a manuscript or theme file changes, until `stop` is set."""
    import watchfiles

    for _ in watchfiles.watch(
        preview.book_dir, preview.styles, stop_event=stop, debounce=200, raise_interrupt=False
    ):
        snapshot = preview.rebuild()
        log.write(f"rebuilt (version {snapshot.version})\n")
        log.flush()


def start(
    book_dir: Path, *, port: int, styles: Path | None, log: TextIO
) -> tuple[ThreadingHTTPServer, threading.Event]:
    """Build once, then serve and watch in background threads; return the server and its stop."""
    preview = Preview(book_dir, styles)
    preview.rebuild()
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(preview))
    server.daemon_threads = True
    stop = threading.Event()
    threading.Thread(target=watch, args=(preview, stop, log), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stop


def serve(book_dir: Path, *, port: int, styles: Path | None, log: TextIO) -> int:
    """Serve until interrupted; the CLI's entry point."""
    server, stop = start(book_dir, port=port, styles=styles, log=log)
    log.write(
        f"serving {book_dir} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)\n"
    )
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
    return 0
