"""Read a PDF's structure tree and marked content back with pikepdf, as assistive software does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import page
import pikepdf


@dataclass
class Element:
    role: str
    obj: Any
    parent: Element | None
    kids: list[Element] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)  # (page index, mcid), in order
    objrs: list[Any] = field(default_factory=list)
    # Every mark and kid in K order: ("mark", (page, mcid)) or ("element", Element).
    order: list[tuple[str, Any]] = field(default_factory=list)

    def walk(self) -> Iterator[Element]:
        yield self
        for kid in self.kids:
            yield from kid.walk()

    def all_marks(self) -> Iterator[tuple[int, int]]:
        """Yield this element's marks and its descendants', in reading order."""
        for kind, item in self.order:
            if kind == "mark":
                yield item
            else:
                yield from item.all_marks()


def read_tree(pdf: pikepdf.Pdf) -> Element:
    """Return the Document element of the PDF's structure tree."""
    pages = {p.obj.objgen: i for i, p in enumerate(pdf.pages)}
    root = pdf.Root.StructTreeRoot
    kids = root.K if isinstance(root.K, pikepdf.Array) else [root.K]
    (document,) = kids
    return _element(document, None, pages, None)


def _element(obj: Any, parent: Element | None, pages: dict[Any, int], page: int | None) -> Element:
    node = Element(str(obj.S)[1:], obj, parent)
    if "/Pg" in obj:
        page = pages[obj.Pg.objgen]
    k = obj.get("/K")
    kids = list(k) if isinstance(k, pikepdf.Array) else ([] if k is None else [k])
    for kid in kids:
        if isinstance(kid, int):
            assert page is not None
            node.marks.append((page, int(kid)))
            node.order.append(("mark", (page, int(kid))))
        elif kid.get("/Type") == "/MCR":
            mark = (pages[kid.Pg.objgen], int(kid.MCID))
            node.marks.append(mark)
            node.order.append(("mark", mark))
        elif kid.get("/Type") == "/OBJR":
            node.objrs.append(kid)
        else:
            child = _element(kid, node, pages, page)
            node.kids.append(child)
            node.order.append(("element", child))
    return node


def paint_order(pdf: pikepdf.Pdf, index: int) -> list[int]:
    """Return the MCIDs of one page in the order its content stream paints them."""
    order = []
    for operands, operator in pikepdf.parse_content_stream(pdf.pages[index]):
        properties = operands[1] if str(operator) == "BDC" else None
        if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
            order.append(int(properties.MCID))
    return order


def marked_properties(pdf: pikepdf.Pdf) -> Iterator[tuple[int, str, Any]]:
    """Yield (page index, tag, property list) for every marked-content sequence."""
    for index, pdf_page in enumerate(pdf.pages):
        for operands, operator in pikepdf.parse_content_stream(pdf_page):
            if str(operator) == "BDC":
                yield index, str(operands[0])[1:], operands[1]
            elif str(operator) == "BMC":
                yield index, str(operands[0])[1:], None


def page_report(path: Path, profile: str) -> tuple[bool, list[str]]:
    """Return whether `page` says the file conforms to the profile, and the failed rule ids."""
    report = page.validate_pdf(path, profile=profile)
    return report.is_compliant, sorted({f.rule_id for f in report.failures})


def outloud_report(path: Path) -> dict[str, Any]:
    """Return outloud's JSON result for the file: counts, findings and rules."""
    exe = shutil.which("outloud", path=str(Path(sys.executable).parent)) or "outloud"
    done = subprocess.run(
        [exe, "--json", "-", "--fail-on", "never", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    return dict(result)
