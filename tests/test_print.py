"""Print production: trim sizes, bleed, crop marks and PDF/X, read back from the PDF's boxes."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from bookbuild.cli import main
from bookbuild.printsetup import parse_bleed, parse_marks, parse_paper
from bookbuild.scaffold import create_manuscript
from tests.pdftags import outloud_report, page_report

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
    # Every page, in absolute numbers: trim 432 x 648 pt, bleed 8.504 pt on each side.
    bleed = 3 * MM
    assert bleed == pytest.approx(8.504, abs=0.001)
    for page in PdfReader(pdf).pages:
        trim = [float(v) for v in page.trimbox]
        assert trim[2] - trim[0] == pytest.approx(432, abs=0.01)
        assert trim[3] - trim[1] == pytest.approx(648, abs=0.01)
        grown = [trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed]
        assert [float(v) for v in page.bleedbox] == pytest.approx(grown, abs=0.01)
        assert [float(v) for v in page.mediabox] == pytest.approx(grown, abs=0.01)
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


# ---------------------------------------------------------------------------------------------
# Bleed: what prints to the edge goes on past the trim, to the bleed edge.

PLATE = (30, 90, 160)  # the full-bleed image's one colour
ACCENT = (122, 31, 43)  # the theme's --accent, the title page's band
DPI = 72  # one pixel a point: a 3 mm bleed is 8.5 pixels wide


def write_plate_book(root: Path) -> Path:
    """Write the `new` book with a one-colour {.full-bleed} image in its last chapter."""
    create_manuscript(root)
    yaml = root / "book.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            f"title: {root.name.capitalize()}",
            "title: Ports and plates of the Hansa\nslug: print-test",
        )
    )
    Image.new("RGB", (600, 900), PLATE).save(root / "images" / "plate.png")
    chapter = sorted((root / "chapters").glob("*.md"))[-1]
    chapter.write_text(
        chapter.read_text()
        + "\n![A blue plate, printed to the edge](images/plate.png){.full-bleed}"
        "\n\nThe text goes on after the plate.\n"
    )
    return root


def render(pdf: Path, out: Path) -> list[Image.Image]:
    """Render every page at its MediaBox (bleed included), as a printer's RIP would see it."""
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(out / "page")], check=True)
    return [Image.open(png).convert("RGB") for png in sorted(out.glob("page-*.png"))]


def bleed_strips(page: Image.Image, bleed_px: int) -> dict[str, list[tuple[int, int, int]]]:
    """Return the pixels along the middle of each bleed strip, outside the trim."""
    width, height = page.size
    inner = bleed_px // 2  # halfway between the bleed edge and the trim
    return {
        "top": [page.getpixel((x, inner)) for x in range(bleed_px, width - bleed_px, 8)],
        "bottom": [
            page.getpixel((x, height - 1 - inner)) for x in range(bleed_px, width - bleed_px, 8)
        ],
        "left": [page.getpixel((inner, y)) for y in range(bleed_px, height - bleed_px, 8)],
        "right": [
            page.getpixel((width - 1 - inner, y)) for y in range(bleed_px, height - bleed_px, 8)
        ],
    }


def near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 3 for a, b in zip(pixel, colour, strict=True))


def test_bleed_extends_the_band_and_full_bleed_images_past_the_trim(tmp_path: Path) -> None:
    book = write_plate_book(tmp_path / "book")
    argv = ["build", str(book), "--out", str(tmp_path / "out"), "--format", "pdf"]
    code, _, err = run([*argv, "--paper", "6x9in", "--bleed", "3mm", "--pdf-variant", "pdf/x-4"])
    assert code == 0, err
    (pdf,) = (tmp_path / "out").glob("*.pdf")
    got = boxes(pdf)
    bleed_px = int((got["trimbox"][0] - got["mediabox"][0]) * DPI / 72)
    assert bleed_px == 8  # 3 mm = 8.5 pt
    pages = render(pdf, tmp_path)
    # pdftoppm rounds each side up: 449.0 x 665.0 pt is 450 x 666 pixels.
    media_w, media_h = size(got["mediabox"])
    assert pages[0].size == (int(media_w) + 1, int(media_h) + 1)
    # The title page's band runs off the top, left and right edges; the page's foot is paper.
    title = bleed_strips(pages[0], bleed_px)
    assert all(near(p, ACCENT) for p in title["top"]), title["top"]
    assert near(title["left"][0], ACCENT) and near(title["right"][0], ACCENT)
    assert all(p == (255, 255, 255) for p in title["bottom"])
    # The plate covers its page and the bleed on all four sides.
    plates = [i for i, page in enumerate(pages) if near(page.getpixel((200, 300)), PLATE)]
    assert len(plates) == 1
    for side, pixels in bleed_strips(pages[plates[0]], bleed_px).items():
        assert all(near(p, PLATE) for p in pixels), f"plate stops short of the {side} bleed"
    # The text before and after the plate is on pages of its own, with white bleed.
    for index in (plates[0] - 1, plates[0] + 1):
        assert all(
            p == (255, 255, 255) for s in bleed_strips(pages[index], bleed_px).values() for p in s
        )
    text = PdfReader(pdf).pages[plates[0] + 1].extract_text()
    assert "The text goes on after the plate." in text


def test_without_bleed_a_plate_covers_the_trimmed_page(tmp_path: Path) -> None:
    book = write_plate_book(tmp_path / "book")
    argv = ["build", str(book), "--out", str(tmp_path / "out"), "--format", "pdf"]
    code, _, err = run([*argv, "--paper", "a5"])
    assert code == 0, err
    (pdf,) = (tmp_path / "out").glob("*.pdf")
    got = boxes(pdf)
    assert got["mediabox"] == got["trimbox"]
    (plate,) = [page for page in render(pdf, tmp_path) if near(page.getpixel((200, 300)), PLATE)]
    width, height = plate.size
    for x, y in ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)):
        assert near(plate.getpixel((x, y)), PLATE), (x, y)


# ---------------------------------------------------------------------------------------------
# Which variants combine with which print settings: every combination the README claims.


def unembedded_fonts(doc: pikepdf.Pdf) -> list[str]:
    """Return the names of fonts whose program is not in the file (printers refuse them)."""
    missing = []
    for page in doc.pages:
        for font in page.Resources.get("/Font", {}).values():
            for part in [font, *font.get("/DescendantFonts", [])]:
                descriptor = part.get("/FontDescriptor")
                if descriptor is None:
                    continue
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.append(str(descriptor.FontName))
    return missing


COMBINATIONS = [
    # (variant, extra flags, page-validation profiles that must pass, PDF/X version or None)
    ("pdf/ua-1", ["--paper", "6x9in", "--bleed", "3mm"], ("ua1",), None),
    ("pdf/a-3a", ["--paper", "a5", "--bleed", "0.125in"], ("3a", "ua1"), None),
    (
        "pdf/x-4",
        ["--paper", "6x9in", "--bleed", "3mm", "--marks", "crop,cross"],
        ("ua1",),
        "PDF/X-4",
    ),
    (
        "pdf/x-3",
        ["--paper", "royal", "--bleed", "3mm", "--marks", "crop"],
        (),
        "PDF/X-3:2003",
    ),
    ("pdf/x-4", [], ("ua1",), "PDF/X-4"),
]


@pytest.mark.parametrize(
    ("variant", "flags", "profiles", "pdfx"),
    COMBINATIONS,
    ids=[f"{c[0]}{''.join(c[1][1::2])}" for c in COMBINATIONS],
)
def test_each_claimed_combination_is_what_it_declares(
    variant: str, flags: list[str], profiles: tuple[str, ...], pdfx: str | None, tmp_path: Path
) -> None:
    book = write_plate_book(tmp_path / "book")
    out = tmp_path / "out"
    argv = ["build", str(book), "--out", str(out), "--format", "pdf", "--pdf-variant", variant]
    code, _, err = run([*argv, *flags])
    assert code == 0, err
    (pdf,) = out.glob("*.pdf")
    for profile in profiles:
        assert page_report(pdf, profile) == (True, []), profile
    with pikepdf.open(pdf) as doc:
        meta = doc.open_metadata()
        # Every variant is tagged; all but PDF/X-3 declare PDF/UA-1 and pass its checks.
        assert "/StructTreeRoot" in doc.Root and doc.Root.MarkInfo.Marked
        assert str(meta.get("pdfuaid:part")) == ("1" if "ua1" in profiles else "None")
        if pdfx:
            assert str(meta.get("pdfxid:GTS_PDFXVersion")) == pdfx
            (intent,) = doc.Root.OutputIntents
            assert intent.S == "/GTS_PDFX"
        else:
            assert "/OutputIntents" not in doc.Root or variant == "pdf/a-3a"
            assert meta.get("pdfxid:GTS_PDFXVersion") is None
        assert not unembedded_fonts(doc)
    if "ua1" in profiles:
        report = outloud_report(pdf)
        assert report["counts"]["error"] == 0, report["findings"]
        assert report["counts"]["warning"] == 0, report["findings"]


@pytest.mark.parametrize("variant", ["pdf/ua-1", "pdf/a-3a"])
def test_marks_on_a_screen_edition_in_book_yaml_is_a_located_error(
    variant: str, tmp_path: Path
) -> None:
    book = write_plate_book(tmp_path / "book")
    yaml = book / "book.yaml"
    text = yaml.read_text()
    line = len(text.splitlines()) + 3
    yaml.write_text(text + f"build:\n  pdf-variant: {variant}\n  marks: crop\n")
    code, _, err = run(["check", str(book)])
    assert code == 1
    assert err == (
        f"{yaml}:{line}:10: error: build.marks: printer's marks need a PDF/X variant "
        f"(pdf/x-4 or pdf/x-3), not {variant} [BB105]\n"
    )


def test_verify_checks_the_pdf_ua_tagging_of_a_pdf_x4_print_file(tmp_path: Path) -> None:
    book = write_plate_book(tmp_path / "book")
    argv = ["build", str(book), "--out", str(tmp_path / "out"), "--format", "pdf", "--verify"]
    code, _, err = run([*argv, "--pdf-variant", "pdf/x-4", "--paper", "6x9in", "--bleed", "3mm"])
    assert code == 0, err
    assert "[BB92" not in err, err
    assert "note: PDF/X-4 itself is not validated here" in err
    assert "no PDF validator knows" not in err
