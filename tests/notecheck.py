"""Read footnotes back from a built PDF and EPUB the way a reader's software would.

The EPUB gives every note's number and text (lxml, its asides in reading order); the PDF
(pdfplumber) gives where each call and each note was set. The theme's sizes tell them apart:
body text is 10.5pt, footnotes 8.5pt serif, calls 70% of the body in superscript.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
from lxml import etree

XHTML = {"x": "http://www.w3.org/1999/xhtml", "ops": "http://www.idpf.org/2007/ops"}
MM = 72 / 25.4
# The print theme's A4 page: running heads above 24mm, the folio below 26mm from the foot.
CONTENT_TOP, FOOT_MARGIN = 24 * MM, 26 * MM
# Spaces, hyphens, word joiners and list bullets: what line breaking and list markers change.
_IGNORED = re.compile(r"[\s\u00ad\u2010\u2060\u200b\-•]")
_CALL = re.compile(r"^[\d,]+$")


@dataclass(frozen=True)
class Note:
    file: str
    id: str
    number: int
    text: str
    has_table: bool = False


@dataclass
class Placed:
    note: Note
    page: int
    text: str = ""


@dataclass
class Report:
    pages: int
    # (number, page, top, foot of the body text) for each call
    calls: list[tuple[int, int, float, float]] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    body_texts: list[str] = field(default_factory=list)


def squash(text: str) -> str:
    """Return text without the spaces and hyphens that line breaking adds or removes."""
    return _IGNORED.sub("", text)


def _spine_documents(epub: Path) -> Iterator[tuple[str, etree._Element]]:
    """Yield each spine document of the EPUB, in reading order, with its name."""
    with zipfile.ZipFile(epub) as zf:
        opf_name = next(n for n in zf.namelist() if n.endswith(".opf"))
        opf = etree.fromstring(zf.read(opf_name))
        ns = {"opf": "http://www.idpf.org/2007/opf"}
        hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", ns)}
        base = opf_name.rsplit("/", 1)[0]
        for ref in opf.iterfind(".//opf:itemref", ns):
            name = hrefs[ref.get("idref")]
            yield name, etree.fromstring(zf.read(f"{base}/{name}"))


def epub_notes(epub: Path) -> list[Note]:
    """Return every note of the EPUB, in reading order, with its number and text."""
    notes = []
    for name, doc in _spine_documents(epub):
        for aside in doc.iterfind(".//x:aside", XHTML):
            _number_list_items(aside)
            back = aside.find(".//x:a[@class='backref']", XHTML)
            number = int(back.text.rstrip("."))
            text = "".join(aside.itertext()).strip()
            text = text.removeprefix(back.text).strip()
            table = aside.find(".//x:table", XHTML) is not None
            notes.append(
                Note(file=name, id=aside.get("id"), number=number, text=text, has_table=table)
            )
    return notes


def _number_list_items(element: etree._Element) -> None:
    """Write an ordered list's numbers into its items, as print draws them."""
    for ol in element.iterfind(".//x:ol", XHTML):
        start = int(ol.get("start", "1"))
        for n, li in enumerate(ol.iterfind("x:li", XHTML)):
            li.text = f"{start + n}. " + (li.text or "")


def noterefs(epub: Path) -> list[int]:
    """Return the numbers of the EPUB's note calls, in reading order."""
    return [number for number, _ in noteref_targets(epub)]


def noteref_targets(epub: Path) -> list[tuple[int, str]]:
    """Return the number and the note id of each of the EPUB's note calls, in reading order."""
    numbers = []
    for _, doc in _spine_documents(epub):
        refs = doc.xpath("//x:a[@role='doc-noteref']", namespaces=XHTML)
        numbers += [(int(a.text), a.get("href").split("#")[1]) for a in refs]
    return numbers


def _lines(words: list[dict]) -> list[list[dict]]:
    """Group words into lines by their top, top to bottom."""
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) < 1.5:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def _in_reading_order(body: list[dict]) -> list[dict]:
    """Return the calls of a page's body in reading order: by the line they stand on, then x.

    A superscript's top is above its line's, by an amount that differs between a call to a
    footnote and a call to an endnote, so calls are put on the text line they overlap.
    """
    text = [w for w in body if not _is_call(w)]
    calls = [w for w in body if _is_call(w)]

    def line_of(call: dict) -> float:
        middle = (call["top"] + call["bottom"]) / 2
        spans = [w for w in text if w["top"] - 1 <= middle <= w["bottom"] + 1]
        return min((w["bottom"] for w in spans), default=call["bottom"])

    return sorted(calls, key=lambda c: (round(line_of(c)), c["x0"]))


def _is_note(word: dict) -> bool:
    return 7.9 <= word["size"] <= 8.7


def _is_call(word: dict) -> bool:
    return word["size"] < 7.8 and bool(_CALL.match(word["text"]))


def read_pdf(pdf: Path, notes: list[Note]) -> Report:
    """Find every call and every footnote of the PDF, and what went wrong with them."""
    note_lines: list[tuple[int, str]] = []
    with pdfplumber.open(pdf) as doc:
        report = Report(pages=len(doc.pages))
        for number, page in enumerate(doc.pages, start=1):
            words = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
            foot = float(page.height) - FOOT_MARGIN
            _check_margins(number, words, foot, report)
            inside = [w for w in words if w["top"] >= CONTENT_TOP - 1 and w["bottom"] <= foot + 1]
            body = [w for w in inside if not _is_note(w)]
            below = [w for w in inside if _is_note(w)]
            body_foot = max((w["bottom"] for w in body), default=CONTENT_TOP)
            _check_overlap(number, body, below, report)
            report.body_texts.append(" ".join(w["text"] for w in body if not _is_call(w)))
            for word in _in_reading_order(body):
                for n in filter(None, word["text"].split(",")):
                    report.calls.append((int(n), number, word["top"], body_foot))
            note_lines += [(number, " ".join(w["text"] for w in line)) for line in _lines(below)]
            page.close()  # pdfplumber keeps every page's objects otherwise
    _match_notes(note_lines, notes, report)
    return report


def _check_margins(number: int, words: list[dict], foot: float, report: Report) -> None:
    for word in words:
        in_margin = word["top"] < CONTENT_TOP - 1 or word["bottom"] > foot + 1
        if in_margin and "Sans" not in word["fontname"]:
            report.problems.append(f"page {number}: text in the margin: {word['text']!r}")


def _check_overlap(number: int, body: list[dict], notes: list[dict], report: Report) -> None:
    if not notes:
        return
    rule = min(w["top"] for w in notes)
    for word in body:
        if word["bottom"] > rule + 0.5:
            report.problems.append(f"page {number}: {word['text']!r} overlaps the notes")
            return
    lines = _lines(notes)
    for upper, lower in itertools.pairwise(lines):
        if min(w["top"] for w in lower) < max(w["bottom"] for w in upper) - 1:
            report.problems.append(f"page {number}: two lines of notes overlap")
            return


def _match_notes(lines: list[tuple[int, str]], notes: list[Note], report: Report) -> None:
    """Split the notes' lines into notes, each starting with the number expected next."""
    expected = iter(notes)
    current: Placed | None = None
    upcoming = next(expected, None)
    for page, text in lines:
        if upcoming is not None and text.startswith(f"{upcoming.number}. "):
            start = text.removeprefix(f"{upcoming.number}. ")
            current = Placed(note=upcoming, page=page, text=start)
            report.placed.append(current)
            upcoming = next(expected, None)
        elif current is not None:
            current.text += " " + text
        else:
            report.problems.append(f"page {page}: note text before any note: {text!r}")


# Body text line height in the print theme (10.5pt at 1.45), for "the page's last lines".
BODY_LINE = 10.5 * 1.45
LAST_LINES = 4


@dataclass
class Figures:
    notes: int
    calls: int
    footnotes: int
    moved: int
    max_distance: int
    next_page: int


def moved_notes(book_dir: Path, diagnostics: tuple) -> set[str]:
    """Return the ids of the notes that the build said it moved to their chapter's end."""
    from bookbuild.manuscript import load_manuscript
    from bookbuild.notes import note_id

    book, _ = load_manuscript(book_dir)
    where = {
        (str(loc.path), loc.line): note_id(c.id, i)
        for c in book.chapters
        for i, loc in enumerate(c.note_locations)
    }
    return {
        where[(str(d.location.path), d.location.line)] for d in diagnostics if d.code == "BB504"
    }


def check_notes(pdf: Path, epub: Path, moved: set[str]) -> Figures:
    """Assert that every note is in the PDF, whole, once, in order, near its call, unoverlapped."""
    notes = epub_notes(epub)
    by_id = {n.id: n for n in notes}
    targets = noteref_targets(epub)
    refs = [number for number, _ in targets]
    assert all(by_id[ident].number == number for number, ident in targets), "EPUB numbers differ"
    assert {ident for _, ident in targets} == set(by_id), "an EPUB note has no call"
    # A note called twice is set at the foot of the page of each of its calls.
    feet = [(i, by_id[ident]) for i, (_, ident) in enumerate(targets) if ident not in moved]
    report = read_pdf(pdf, [note for _, note in feet])
    assert report.problems == [], report.problems[:5]
    assert [c[0] for c in report.calls] == refs, "PDF calls differ from the EPUB's"
    assert [p.note.id for p in report.placed] == [n.id for _, n in feet]
    distances = []
    for placed, (call, _) in zip(report.placed, feet, strict=True):
        if placed.note.has_table:
            # pdfplumber reads a table's wrapped cells line by line across the columns, so
            # only which characters are there, not their order, can be compared.
            assert Counter(squash(placed.text)) == Counter(squash(placed.note.text)), placed.note.id
        else:
            assert squash(placed.text) == squash(placed.note.text), placed.note.id
        _, call_page, top, foot = report.calls[call]
        distance = placed.page - call_page
        assert distance in (0, 1), (placed.note.id, call_page, placed.page)
        if distance == 1:
            assert top >= foot - LAST_LINES * BODY_LINE, (placed.note.id, top, foot)
        distances.append(distance)
    body = squash(" ".join(report.body_texts))
    for note in (n for n in notes if n.id in moved):
        assert body.count(squash(note.text)) == 1, note.id
    return Figures(
        notes=len(notes),
        calls=len(refs),
        footnotes=len(report.placed),
        moved=len(moved),
        max_distance=max(distances, default=0),
        next_page=distances.count(1),
    )
