"""`make bench`, the preview: from saving a chapter to the open page showing the change.

`bookbuild serve` runs as its own process, as an author runs it; the page is open in headless
Chromium (Debian's, under Playwright). Each round adds a new word to one chapter and times, from
just after the file is written, until the page has painted the word: the page records the
moment itself (a MutationObserver, then two animation frames, so the frame with the word has
been painted), on the same clock as the writer's. Books: the briefing, and Gibbon's Decline and
Fall vol. I (tests/data/books/gibbon-1, about 292,000 words).

Figures are printed and written to dist/bench-serve.json. This is a benchmark, not a test: it
asserts nothing, and it reports each goal as met or not.
"""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOKS = {"briefing": ROOT / "manuscript", "gibbon-1": ROOT / "tests/data/books/gibbon-1"}
GOALS = {"briefing": 0.3, "gibbon-1": 1.0}
ROUNDS = 7
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
# Sets window.bbPainted to the wall-clock moment (ms since the epoch) the word was painted.
WATCH_JS = """word => {
  window.bbPainted = null;
  const painted = () => requestAnimationFrame(() => requestAnimationFrame(
    () => { window.bbPainted = performance.timeOrigin + performance.now(); }));
  // Only the nodes that arrive are searched: the whole body's text is long on a long book.
  new MutationObserver((records, observer) => {
    const arrived = records.flatMap(r => [...r.addedNodes]);
    if (arrived.some(node => (node.textContent || '').includes(word))) {
      observer.disconnect();
      painted();
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_served(url: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("bookbuild serve exited")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def middle_chapter(book: Path) -> Path:
    chapters = sorted((book / "chapters").glob("*.md"))
    return chapters[len(chapters) // 2]


def bench_book(name: str, source: Path, work: Path) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    book = work / name
    shutil.copytree(source, book)
    chapter = middle_chapter(book)
    original = chapter.read_text(encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [sys.executable, "-m", "bookbuild", "serve", str(book), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    latencies = []
    try:
        wait_until_served(url, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(url, timeout=120_000)
            page.wait_for_timeout(1000)  # the event stream connects; the first layout settles
            for n in range(ROUNDS):
                word = f"benchword{n}x{time.time_ns()}"
                page.evaluate(WATCH_JS, word)
                chapter.write_text(original + f"\nAn edit that adds {word}.\n", encoding="utf-8")
                saved = time.time() * 1000
                page.wait_for_function("() => window.bbPainted !== null", timeout=60_000)
                shown = float(page.evaluate("() => window.bbPainted"))
                latencies.append(round((shown - saved) / 1000, 3))
                page.wait_for_timeout(500)  # the next save comes after this one is settled
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    median = statistics.median(latencies)
    return {
        "median_s": round(median, 3),
        "max_s": max(latencies),
        "rounds": latencies,
        "chapter": chapter.name,
        "goal_s": GOALS[name],
        "met": median <= GOALS[name],
    }


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(
            f"error: the preview bench needs {CHROMIUM}: apt-get install chromium", file=sys.stderr
        )
        return 1
    results = {}
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-serve-") as tmp:
        for name, source in BOOKS.items():
            results[name] = bench_book(name, source, Path(tmp))
            r = results[name]
            print(
                f"(e) preview, {name}: save to painted page {r['median_s']} s median, "
                f"{r['max_s']} s max of {ROUNDS} (goal <= {r['goal_s']} s: "
                f"{'met' if r['met'] else 'NOT met'})"
            )
    (ROOT / "dist").mkdir(exist_ok=True)
    (ROOT / "dist" / "bench-serve.json").write_text(json.dumps(results, indent=2) + "\n")
    print("wrote dist/bench-serve.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
