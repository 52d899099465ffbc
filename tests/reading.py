"""Open an EPUB's documents in headless Chromium the way a reading system does.

A reading system shows each spine document with the book's own CSS, adds its own margins and
text size, and colours the page for its theme. These helpers do the same, then measure: which
elements stick out of the viewport, and what axe-core's colour-contrast rule finds.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from tests.test_serve import CHROMIUM, CHROMIUM_FLAGS

AXE = Path(__file__).parent / "ace" / "node_modules" / "@daisy" / "axe-core-for-ace" / "axe.min.js"
OPF = {"opf": "http://www.idpf.org/2007/opf"}
PHONE = {"width": 360, "height": 740}
# Theme colours as Readium CSS, the stylesheet many reading systems share, sets them; a reading
# system puts them on the root element and leaves the book's own rules in place.
THEMES = {
    "light": "html { background-color: #fff; color: #000; }",
    "sepia": "html { background-color: #faf4e8; color: #121212; }",
    "dark": "html { background-color: #000; color: #fefefe; }",
}
# The reader's own page margins, and its text-size setting.
READER = "body { margin: 0 15px !important; } html { font-size: %d%% !important; }"

# Every element whose box reaches past the viewport's edges, or whose content overflows its box,
# unless it sits inside a box that scrolls sideways on purpose (a table's wrapper).
OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const inScrollBox = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) if (scrolls(p)) return true;
    return false;
  };
  const found = [];
  if (document.documentElement.scrollWidth > width + 1)
    found.push(`document ${document.documentElement.scrollWidth} px > ${width} px`);
  for (const el of document.body.querySelectorAll("*")) {
    if (inScrollBox(el)) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (style.display === "none" || box.width === 0) continue;
    const text = (el.textContent || "").trim().slice(0, 40);
    const label = `${el.localName}.${el.className || ""} "${text}"`;
    if (box.left < -1 || box.right > width + 1)
      found.push(`${label}: ${Math.round(box.left)}..${Math.round(box.right)} of ${width} px`);
    else if (!scrolls(el) && style.display !== "inline" && el.scrollWidth > el.clientWidth + 1
             && el.clientWidth > 0)
      found.push(`${label}: content ${el.scrollWidth} px in ${el.clientWidth} px`);
  }
  return found;
}
"""


def spine_documents(epub: Path, folder: Path) -> list[Path]:
    """Unpack the EPUB into `folder`; return its spine documents in reading order."""
    with zipfile.ZipFile(epub) as zf:
        zf.extractall(folder)
        opf = etree.fromstring(zf.read("EPUB/content.opf"))
    hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", OPF)}
    return [folder / "EPUB" / hrefs[r.get("idref")] for r in opf.iterfind(".//opf:itemref", OPF)]


@contextmanager
def chromium() -> Iterator[Any]:
    """Yield a headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


# Every element with text of its own, its colour composited over the backgrounds of it and its
# ancestors (the canvas is white), and the WCAG contrast ratio between the two. AA asks 4.5:1 of
# normal text; it is asked of all text here, large or not.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
  const lum = (c) => c.map((v) => (v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
                      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const background = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = [255, 255, 255];
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) bg = over(c, bg);
    }
    return bg;
  };
  const failures = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
    const style = getComputedStyle(el);
    if (!own || !el.getClientRects().length || style.visibility !== "visible") continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const r = ratio(fg, bg);
    checked += 1;
    if (r < 4.5)
      failures.push(`${el.localName}.${el.className} "${el.textContent.trim().slice(0, 30)}": ` +
                    `${r.toFixed(2)}:1, ${style.color} on rgb(${bg.map(Math.round)})`);
  }
  return [failures, checked];
}
"""


def overflowing(page: Any) -> list[str]:
    """Return a line for each element wider than the viewport outside a scroll box."""
    return list(page.evaluate(OVERFLOW_JS))


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReport:
    """What one spine document looked like on the phone."""

    overflow: tuple[str, ...]
    contrast: dict[str, tuple[str, ...]]
    checked: dict[str, int]
    axe: tuple[str, ...] | None


def measure_book(
    browser: Any, epub: Path, folder: Path, *, axe: bool = False
) -> dict[str, DocumentReport]:
    """Open every spine document on a phone; report overflow at 200% text and contrast.

    Contrast is measured at the default text size, where AA asks for 4.5:1 rather than large
    text's 3:1, in each theme; with `axe`, axe-core's own colour-contrast rule runs in the dark.
    """
    page = browser.new_page(viewport=PHONE)
    reports = {}
    try:
        for document in spine_documents(epub, folder):
            page.goto(document.as_uri())
            reports[document.name] = _measure_document(page, axe=axe)
    finally:
        page.close()
    return reports


def _measure_document(page: Any, *, axe: bool) -> DocumentReport:
    style = page.add_style_tag(content=THEMES["dark"] + READER % 200)
    page.evaluate("document.fonts.ready")
    overflow = tuple(page.evaluate(OVERFLOW_JS))
    contrast, checked = {}, {}
    for theme, css in THEMES.items():
        style.evaluate("(el, css) => { el.textContent = css; }", css + READER % 100)
        failures, checked[theme] = page.evaluate(CONTRAST_JS)
        contrast[theme] = tuple(failures)
    axe_found = None
    if axe:
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        axe_found = _axe_contrast(page)
    return DocumentReport(overflow=overflow, contrast=contrast, checked=checked, axe=axe_found)


def _axe_contrast(page: Any) -> tuple[str, ...]:
    """Run axe-core's colour-contrast rule; return its violations."""
    return tuple(
        page.evaluate(
            """async () => {
              const r = await axe.run(document,
                  {runOnly: {type: "rule", values: ["color-contrast"]}});
              return r.violations.flatMap(
                  v => v.nodes.map(n => n.target + ": " + n.failureSummary));
            }"""
        )
    )


def write_stress_manuscript(folder: Path, *, eras: int = 12, glossary: int = 60) -> Path:
    """Write a manuscript that is hard on a phone: a wide table, many eras, a long glossary."""
    (folder / "chapters").mkdir(parents=True)
    (folder / "book.yaml").write_text(
        "title: Unverhältnismäßigkeitsgrundsätze and Other Long Words in Small Columns\n"
        "language: en\n"
        "identifier: urn:uuid:6d1f9a3e-2b4c-4e8a-9f10-3c5d7e9a1b2c\n"
        "authors: [Ludwig van Beethoven, Ada Lovelace]\n"
        "date: 2024-05-01\n",
        encoding="utf-8",
    )
    header = "| " + " | ".join(f"Column heading number {n}" for n in range(1, 9)) + " |"
    rows = [
        "| " + " | ".join(f"Internationalisation{n}{r} 28 February 1998" for n in range(8)) + " |"
        for r in range(3)
    ]
    (folder / "chapters" / "00-overview.md").write_text(
        "---\ntitle: Overview of a deliberately awkward manuscript\n---\n"
        "A word with no break: Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch, and a "
        "path: /usr/share/doc/bookbuild/examples/a-very-long-file-name-without-any-spaces.txt.\n\n"
        f"{header}\n|{'---|' * 8}\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    for n in range(eras):
        start = 1800 + 10 * n
        (folder / "chapters" / f"{n + 1:02d}-era-{n + 1}.md").write_text(
            f"---\ntitle: Era {n + 1}, with a heading long enough to wrap twice on a phone\n"
            f"era: {start}/{start + 9}\nsummary: The decade from {start}.\n---\n"
            f'[A treaty was signed on 28 February {start + 1}]{{.event date="{start + 1}-02-28"}}'
            f" and [a war ran from 28 February {start + 2} to 11 June {start + 3}]"
            f'{{.event date="{start + 2}-02-28/{start + 3}-06-11" title="War {n + 1} of '
            f'Unverhältnismäßigkeit"}}.[^n]\n\n## A second heading\n\nMore text.\n\n'
            f"[^n]: A note for era {n + 1}.\n",
            encoding="utf-8",
        )
    entries = [
        f"- term: Extraordinarily long glossary term number {n}\n"
        f"  kind: intergovernmental organisation\n"
        f"  description: {'A description that goes on for a while. ' * 6}\n"
        for n in range(glossary)
    ]
    (folder / "glossary.yaml").write_text("".join(entries), encoding="utf-8")
    return folder
