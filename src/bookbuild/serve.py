"""`bookbuild serve`: the book's HTML on 127.0.0.1, rebuilt and reloaded on every change."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote

import jinja2

from bookbuild.assets import Asset, collect_assets, default_styles_dir, read_asset
from bookbuild.chaptermemo import ChapterMemo
from bookbuild.chronology import extract_chronology
from bookbuild.errors import BookbuildError, Diagnostic
from bookbuild.locale import load_messages
from bookbuild.render import create_environment, render_print, render_timeline_svg

# On news from the server, swap in the parts of the page that changed, or reload it all when
# more than the parts did; reconnect if the server restarts. It is a file of its own so that the
# page's Content-Security-Policy can forbid every inline script. A part is the server's own
# rendering of the book (an author's raw HTML is printed as text), as trusted as the page.
RELOAD_JS = b"""new EventSource('/events').onmessage = async (message) => {
  const news = JSON.parse(message.data);
  if (news.reload) return location.reload();
  for (const id of news.parts) {
    const response = await fetch('/part/' + encodeURIComponent(id) + '?v=' + news.version);
    const old = document.getElementById(id);
    if (!response.ok || !old) return location.reload();
    const template = document.createElement('template');
    template.innerHTML = await response.text();
    old.replaceWith(template.content);
  }
  document.documentElement.dataset.bbVersion = news.version;
};
"""
RELOAD_TAG = '<script src="/reload.js"></script>'
# Styles may be inline: the print HTML sets its page size in a <style> and tables align cells with
# style attributes. Author markup never reaches the page (raw HTML is printed as text).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# An SVG opened on its own is a document too: it may draw, never run or load anything.
SVG_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# When even the theme's error page cannot be rendered, this one still can.
FALLBACK_ERRORS = jinja2.Template(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8" />'
    "<title>The manuscript has errors</title></head><body><h1>The manuscript has errors</h1>"
    '<ul id="diagnostics">{% for line in lines %}<li>{{ line }}</li>{% endfor %}</ul>'
    "</body></html>",
    autoescape=True,
)
# Seconds after a rebuild before the next one's chapter copies are made (see ChapterMemo).
SPARE_DELAY = 0.5
TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".js": "text/javascript; charset=utf-8",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """What the preview shows now: the book, or the diagnostics that stop it.

    `parts` are the page's top-level elements by id, in order, so that an edit can be shown by
    swapping only the parts it changed; `changed` names them (None: reload the whole page).
    """

    version: int
    page: bytes
    assets: Mapping[str, Asset]
    parts: Mapping[str, bytes] = dataclasses.field(default_factory=dict)
    changed: tuple[str, ...] | None = None


class Preview:
    """Rebuild the book's HTML on demand and tell waiting pages when it changed."""

    def __init__(self, book_dir: Path, styles: Path | None = None) -> None:
        self.book_dir, self.styles = book_dir, styles or default_styles_dir()
        self.changed = threading.Condition()
        self.snapshot = Snapshot(version=0, page=b"", assets={})
        self.memo = ChapterMemo()

    def rebuild(self, log: TextIO | None = None) -> Snapshot:
        """Render the book (or its errors) and wake every page that waits for a change.

        Every error is shown on the page, a bug's as much as the manuscript's, so that the
        preview keeps going whatever the next edit does.
        """
        try:
            page, assets = self._render()
        except BookbuildError as exc:
            page, assets = self._render_errors(exc.diagnostics, None), {}
        except Exception as exc:  # a bug: show it, keep its traceback in the terminal
            if log is not None:
                log.write(traceback.format_exc())
            failure = f"bookbuild failed while rebuilding: {type(exc).__name__}: {exc}"
            page, assets = self._render_errors((), failure), {}
        page = page.replace("</body>", RELOAD_TAG + "</body>", 1)
        split = split_page(page)
        with self.changed:
            last = self.snapshot
            changed = None if split is None else changed_parts(last, split, assets)
            self.snapshot = Snapshot(
                version=last.version + 1,
                page=page.encode("utf-8") if split is None else split.page,
                assets=assets,
                parts={} if split is None else split.parts,
                changed=changed,
            )
            self.changed.notify_all()
        # The copies for the next rebuild are made once the pages have fetched this one's parts.
        spare = threading.Timer(SPARE_DELAY, self.memo.prepare)
        spare.daemon = True
        spare.start()
        return self.snapshot

    def _render(self) -> tuple[str, dict[str, Asset]]:
        from bookbuild.pipeline import load_book

        book, _ = load_book(self.book_dir, self.styles, memo=self.memo)
        env = create_environment(self.styles, load_messages(book.meta.language, self.styles)[0])
        chronology = extract_chronology(book)
        assets = dict(collect_assets(book, self.styles))
        if svg := render_timeline_svg(book, chronology, env):
            assets["timeline.svg"] = svg
        return render_print(book, chronology, env), assets

    def _render_errors(self, diagnostics: Sequence[Diagnostic], failure: str | None) -> str:
        try:
            template = create_environment(self.styles).get_template("serve_errors.html")
            return template.render(diagnostics=diagnostics, failure=failure)
        except Exception:  # the theme itself is broken: say what is wrong all the same
            lines = [d.format() for d in diagnostics] + ([failure] if failure else [])
            return str(FALLBACK_ERRORS.render(lines=lines))

    def wait(self, version: int, timeout: float) -> Snapshot:
        """Return the snapshot once it is newer than `version`, or after `timeout` seconds."""
        with self.changed:
            self.changed.wait_for(lambda: self.snapshot.version > version, timeout)
            return self.snapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitPage:
    """A page as the browser will have it: what comes before its parts, the parts, the rest."""

    page: bytes
    head: bytes
    parts: dict[str, bytes]


def split_page(page: str) -> SplitPage | None:
    """Return the page cut into its body's top-level elements, or None when it has no body.

    The page served is put together from the same parts, so a part swapped in is the very
    markup a reload would show. A part without an id is named by its place.
    """
    import lxml.html

    start, end = page.find("<body"), page.rfind("</body>")
    if start < 0 or end < 0 or (open_end := page.find(">", start)) < 0 or open_end > end:
        return None
    body = lxml.html.fragment_fromstring(page[open_end + 1 : end], create_parent="div")
    parts: dict[str, bytes] = {}
    if body.text and body.text.strip():
        return None  # loose text at the top of the body: only a reload shows it faithfully
    for n, element in enumerate(body):
        key = element.get("id") or f"#{n}"
        if key in parts or (element.tail and element.tail.strip()):
            return None
        # Without what follows it: swapping an element in keeps the white space after the old.
        parts[key] = lxml.html.tostring(element, encoding="utf-8", with_tail=False)
    head = page[: open_end + 1].encode("utf-8")
    whole = head + b"\n" + b"\n".join(parts.values()) + b"\n" + page[end:].encode("utf-8")
    return SplitPage(page=whole, head=head, parts=parts)


def changed_parts(
    last: Snapshot, split: SplitPage, assets: Mapping[str, Asset]
) -> tuple[str, ...] | None:
    """Return the ids of the parts that differ from the last snapshot's, or None to reload.

    Anything beyond the parts' content (the head, their order, the files the page loads)
    asks for a reload.
    """
    if not last.parts or list(last.parts) != list(split.parts):
        return None
    if not last.page.startswith(split.head) or _asset_digest(last.assets) != _asset_digest(assets):
        return None
    return tuple(key for key, html in split.parts.items() if last.parts[key] != html)


def _asset_digest(assets: Mapping[str, Asset]) -> tuple[tuple[str, object], ...]:
    # A file asset is named by its path and modification; generated ones by their bytes.
    def state(asset: Asset) -> object:
        if isinstance(asset, bytes):
            return asset
        try:
            return (str(asset), asset.stat().st_mtime_ns)
        except OSError:
            return str(asset)

    return tuple(sorted((name, state(asset)) for name, asset in assets.items()))


def make_handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class that serves this preview."""

    class Handler(BaseHTTPRequestHandler):
        policy = OTHER_POLICY

        def do_GET(self) -> None:
            if not self._host_is_ours():
                return self._send(
                    HTTPStatus.MISDIRECTED_REQUEST,
                    "text/plain; charset=utf-8",
                    b"bookbuild serve answers only to 127.0.0.1 and localhost\n",
                )
            path = self.path.split("?", 1)[0]
            if path == "/events":
                return self._events()
            if path == "/reload.js":
                return self._send(HTTPStatus.OK, TYPES[".js"], RELOAD_JS)
            snapshot = preview.snapshot
            if path in ("/", "/index.html"):
                self.policy = PAGE_POLICY
                return self._send(HTTPStatus.OK, "text/html; charset=utf-8", snapshot.page)
            if path.startswith("/part/"):
                return self._part(snapshot, unquote(path.removeprefix("/part/")))
            return self._asset(snapshot, path.lstrip("/"))

        def _host_is_ours(self) -> bool:
            """Refuse every Host but our own, so a DNS-rebinding page cannot read the book."""
            port = getattr(self.server, "server_port", None)
            hosts = self.headers.get_all("Host") or []
            allowed = {f"127.0.0.1:{port}", f"localhost:{port}"}
            return len(hosts) == 1 and hosts[0].strip().lower() in allowed

        def _asset(self, snapshot: Snapshot, name: str) -> None:
            asset = snapshot.assets.get(name)
            try:
                body = None if asset is None else read_asset(asset)
            except OSError:  # a theme file deleted since the rebuild
                body = None
            if body is None:
                return self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not part of this book\n")
            suffix = Path(name).suffix.lower()
            self.policy = SVG_POLICY if suffix == ".svg" else OTHER_POLICY
            return self._send(HTTPStatus.OK, TYPES.get(suffix, "application/octet-stream"), body)

        def _part(self, snapshot: Snapshot, key: str) -> None:
            if (body := snapshot.parts.get(key)) is None:
                return self._send(HTTPStatus.NOT_FOUND, "text/plain", b"no such part\n")
            self.policy = PAGE_POLICY
            return self._send(HTTPStatus.OK, "text/html; charset=utf-8", body)

        def end_headers(self) -> None:
            # Every response, errors included, carries these.
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", self.policy)
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("Referrer-Policy", "no-referrer")
            super().end_headers()

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
                        # Parts can be swapped only over the version they were measured from.
                        news = _news(snapshot, version)
                        version = snapshot.version
                        self.wfile.write(f"data: {json.dumps(news)}\n\n".encode())
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass  # requests are not news; rebuilds and errors are logged by serve()

    return Handler


def _news(snapshot: Snapshot, seen: int) -> dict[str, object]:
    """Return what a page that shows version `seen` must do to show `snapshot`."""
    if snapshot.changed is None or snapshot.version != seen + 1:
        return {"version": snapshot.version, "reload": True}
    return {"version": snapshot.version, "parts": list(snapshot.changed)}


class PreviewServer(ThreadingHTTPServer):
    """The preview's HTTP server: a thread per request and room for many waiting connections."""

    daemon_threads = True
    request_queue_size = 128  # every open page holds an event stream; reloads come in bursts
    preview: Preview


def watch(preview: Preview, stop: threading.Event, log: TextIO) -> None:
    """Rebuild whenever a manuscript or theme file changes, until `stop` is set.

    Nothing stops the watching but `stop`: when the folders themselves vanish, it waits and
    tries again, and rebuilds (showing the errors) as soon as it can.
    """
    import watchfiles

    said = ""
    while not stop.is_set():
        try:
            for _ in watchfiles.watch(
                preview.book_dir,
                preview.styles,
                stop_event=stop,
                # An editor's save (write, then rename) comes within 50 ms; a person's next doesn't.
                debounce=50,
                step=20,
                raise_interrupt=False,
            ):
                _rebuild(preview, log)
        except Exception as exc:  # e.g. the manuscript folder was deleted or renamed
            if (message := f"cannot watch {preview.book_dir} ({exc}); trying again\n") != said:
                log.write(message)  # once, not every second
                log.flush()
                said = message
            if not stop.wait(1.0):
                _rebuild(preview, log)


def _rebuild(preview: Preview, log: TextIO) -> None:
    started = time.perf_counter()
    snapshot = preview.rebuild(log)
    took = time.perf_counter() - started
    what = "reloaded" if snapshot.changed is None else f"{len(snapshot.changed)} part(s) swapped"
    log.write(f"rebuilt in {took:.2f} s (version {snapshot.version}, {what})\n")
    log.flush()


def start(
    book_dir: Path, *, port: int, styles: Path | None, log: TextIO
) -> tuple[PreviewServer, threading.Event]:
    """Build once, then serve and watch in background threads; return the server and its stop.

    Raise OSError when the port cannot be listened on.
    """
    preview = Preview(book_dir, styles)
    preview.rebuild(log)
    server = PreviewServer(("127.0.0.1", port), make_handler(preview))
    server.preview = preview
    stop = threading.Event()
    threading.Thread(target=watch, args=(preview, stop, log), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stop


def serve(book_dir: Path, *, port: int, styles: Path | None, log: TextIO) -> int:
    """Serve until interrupted; the CLI's entry point. Return 1 when the port is unavailable."""
    try:
        server, stop = start(book_dir, port=port, styles=styles, log=log)
    except OSError as exc:
        log.write(
            f"error: cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; "
            "choose another port with --port\n"
        )
        return 1
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
        server.server_close()
    return 0
