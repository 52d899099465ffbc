"""Print production: trim sizes, bleed, crop marks and PDF/X, read back from the PDF's boxes."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from pypdf import PdfReader

from bookbuild.cli import main
from bookbuild.printsetup import parse_bleed, parse_marks, parse_paper

FIXTURE = Path(__file__).parent / "data" / "fixture"
MM = 72 / 25.4  # points per millimetre


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the command line and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def boxes(pdf: Path) -> dict[str, list[float]]:
    """Return the first page's MediaBox, TrimBox and BleedBox, in points."""
    page = PdfReader(pdf).pages[0]
    return {
        name: [float(v) for v in getattr(page, name)]
        for name in ("mediabox", "trimbox", "bleedbox")
    }


def size(box: list[float]) -> tuple[float, float]:
    return box[2] - box[0], box[3] - box[1]


def test_6x9_with_3mm_bleed_and_crop_marks_as_pdf_x4(tmp_path: Path) -> None:
    argv = [
        "build",
        str(FIXTURE),
        "--out",
        str(tmp_path),
        "--format",
        "pdf",
        "--paper",
        "6x9in",
        "--bleed",
        "3mm",
        "--marks",
        "crop",
        "--pdf-variant",
        "pdf/x-4",
    ]
    code, _, err = run(argv)
    assert code == 0, err
    (pdf,) = tmp_path.glob("*.pdf")
    got = boxes(pdf)
    # TrimBox is the 6 x 9 in page exactly; MediaBox adds the bleed on every side.
    assert size(got["trimbox"]) == pytest.approx((6 * 72, 9 * 72), abs=0.01)
    assert size(got["mediabox"]) == pytest.approx((6 * 72 + 6 * MM, 9 * 72 + 6 * MM), abs=0.01)
    assert got["mediabox"][0] == pytest.approx(got["trimbox"][0] - 3 * MM, abs=0.01)
    # The BleedBox is where the printer's cut may fall: the trim plus the 3 mm bleed.
    assert got["bleedbox"] == pytest.approx(got["mediabox"], abs=0.01)
    with pikepdf.open(pdf) as doc:
        (intent,) = doc.Root.OutputIntents
        assert intent.S == "/GTS_PDFX"
        assert "/DestOutputProfile" in intent
        assert "PDF/X-4" in str(doc.open_metadata().get("pdfxid:GTS_PDFXVersion"))
    # Crop marks are strokes in the bleed, outside the trim, on every page.
    trim_left = got["trimbox"][0] - got["mediabox"][0]
    with pdfplumber.open(pdf) as doc:
        for page in (doc.pages[0], doc.pages[-1]):
            outside = [o for o in page.lines + page.curves if o["x1"] <= trim_left + 0.01]
            assert outside, f"no crop marks on page {page.page_number}"


@pytest.mark.parametrize(
    ("paper", "width_mm", "height_mm"),
    [
        ("royal", 156, 234),
        ("digest", 139.7, 215.9),
        ("156x234mm", 156, 234),
        ("6x9in", 152.4, 228.6),
    ],
)
def test_trim_sizes(paper: str, width_mm: float, height_mm: float) -> None:
    css = parse_paper(paper)
    width, height = css.split()
    to_mm = {"mm": 1.0, "in": 25.4}
    assert float(width[:-2]) * to_mm[width[-2:]] == pytest.approx(width_mm)
    assert float(height[:-2]) * to_mm[height[-2:]] == pytest.approx(height_mm)


def test_a_custom_trim_size_is_the_pdf_page(tmp_path: Path) -> None:
    code, _, err = run(
        ["build", str(FIXTURE), "--out", str(tmp_path), "--format", "pdf", "--paper", "156x234mm"]
    )
    assert code == 0, err
    (pdf,) = tmp_path.glob("*.pdf")
    got = boxes(pdf)
    assert size(got["mediabox"]) == pytest.approx((156 * MM, 234 * MM), abs=0.01)
    assert size(got["trimbox"]) == pytest.approx((156 * MM, 234 * MM), abs=0.01)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--paper", "6x9"], "unknown paper"),
        (["--paper", "1x1mm"], "each side must be"),
        (["--bleed", "3cm"], "must be a length"),
        (["--bleed", "2in"], "more than 25 mm"),
        (["--marks", "stars"], "must be crop"),
        (["--pdf-variant", "pdf/x-1a"], "unknown PDF variant"),
    ],
)
def test_bad_print_settings_are_usage_errors(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["build", str(FIXTURE), *argv])[0] == 2
    assert said in capsys.readouterr().err


def test_marks_need_pdf_x(tmp_path: Path) -> None:
    code, _, err = run(["build", str(FIXTURE), "--out", str(tmp_path), "--marks", "crop"])
    assert code == 2
    assert "printer's marks need a PDF/X variant" in err
    assert not list(tmp_path.iterdir())


def test_parsers_normalise() -> None:
    assert parse_bleed("0mm") is None
    assert parse_bleed("0.125in") == "0.125in"
    assert parse_marks("crop, cross") == "crop cross"
    assert parse_marks("none") is None
