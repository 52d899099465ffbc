"""Print production settings: trim size, bleed, printer's marks and the PDF variant."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Named trim sizes, as CSS page sizes: CSS's own names where it has one (B5 is ISO's, 176 x 250
# mm), so the default edition's HTML is the same whichever way the build was started.
PAPERS = {
    "a4": "A4",
    "letter": "letter",
    "a5": "A5",
    "b5": "B5",
    "royal": "156mm 234mm",
    "digest": "5.5in 8.5in",
    "5.5x8.5in": "5.5in 8.5in",
    "6x9in": "6in 9in",
}
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3a", "pdf/x-3", "pdf/x-4")
# PDF/X wants an output intent; WeasyPrint writes one only for a colour profile it embeds.
PRINT_VARIANTS = ("pdf/x-3", "pdf/x-4")
MARKS = ("crop", "cross")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*x\s*(\d+(?:\.\d+)?)\s*(mm|in)")
_LENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(mm|in|pt)")
MM_PER = {"mm": 1.0, "in": 25.4, "pt": 25.4 / 72}
# A page from a business card to a broadsheet; a bleed no printer asks more of.
PAGE_MM = (50.0, 1200.0)
BLEED_MM = 25.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintSetup:
    size: str = PAPERS["a4"]
    bleed: str | None = None
    marks: str | None = None


def parse_paper(value: str) -> str:
    """Return the CSS page size for a named trim size or WIDTHxHEIGHT in mm or in."""
    text = value.strip().lower()
    if text in PAPERS:
        return PAPERS[text]
    match = _SIZE.fullmatch(text)
    if not match:
        names = ", ".join(PAPERS)
        raise ValueError(
            f"unknown paper '{value}' (choose from {names}, or WIDTHxHEIGHT in mm or in)"
        )
    width, height, unit = float(match[1]), float(match[2]), match[3]
    for side in (width, height):
        if not PAGE_MM[0] <= side * MM_PER[unit] <= PAGE_MM[1]:
            raise ValueError(f"paper '{value}': each side must be {PAGE_MM[0]:g}–{PAGE_MM[1]:g} mm")
    return f"{match[1]}{unit} {match[2]}{unit}"


def parse_bleed(value: str) -> str | None:
    """Return the CSS bleed length for a length in mm, in or pt; None for zero."""
    match = _LENGTH.fullmatch(value.strip().lower())
    if not match:
        raise ValueError(f"bleed '{value}' must be a length such as 3mm, 0.125in or 9pt")
    if float(match[1]) * MM_PER[match[2]] > BLEED_MM:
        raise ValueError(f"bleed '{value}' is more than {BLEED_MM:g} mm")
    return f"{match[1]}{match[2]}" if float(match[1]) else None


def parse_marks(value: str) -> str | None:
    """Return the CSS marks value for crop, cross, both (crop,cross) or none."""
    parts = [part.strip().lower() for part in value.split(",") if part.strip()]
    if parts == ["none"]:
        return None
    unknown = [part for part in parts if part not in MARKS]
    if unknown or not parts:
        raise ValueError(f"marks '{value}' must be crop, cross, crop,cross or none")
    return " ".join(dict.fromkeys(parts))


def parse_variant(value: str) -> str:
    """Return a PDF variant bookbuild writes."""
    text = value.strip().lower()
    if text not in PDF_VARIANTS:
        raise ValueError(f"unknown PDF variant '{value}' (choose from {', '.join(PDF_VARIANTS)})")
    return text


def combination_problem(variant: str, setup: PrintSetup) -> str | None:
    """Return why these settings cannot go together, or None."""
    # Marks belong to the printer's file: the screen and archive editions are read uncut, and
    # marks there are a build meant for print that forgot its variant.
    if setup.marks and variant not in PRINT_VARIANTS:
        return f"printer's marks need a PDF/X variant (pdf/x-4 or pdf/x-3), not {variant}"
    return None
