"""The PDF reads like a briefing and is accessible: tagged, our fonts only, nothing overflowing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pdfplumber
import pypdf
import pytest

from bookbuild.assets import default_styles_dir
from bookbuild.cli import main
from bookbuild.errors import ManuscriptError
from bookbuild.pipeline import BuildResult, build
from tests.conftest import FIXTURE, output

MM = 72 / 25.4
OUR_FONTS = ("BB-Serif", "BB-Sans", "BB-Mono", "BB-Fallback")


def fonts_used(pdf: Path) -> set[str]:
    """Return the base names of every font in the PDF, without subset prefixes."""
    reader = pypdf.PdfReader(pdf)
    names = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1])
    return names


def test_pdf_is_tagged_pdf_ua_with_language_title_and_outline(fixture_build: BuildResult) -> None:
    reader = pypdf.PdfReader(output(fixture_build, ".pdf"))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert b'pdfuaid:part="1"' in root["/Metadata"].get_data()
    assert len(reader.outline) >= 5


def test_pdf_a_3a_on_request(tmp_path: Path) -> None:
    result = build(FIXTURE, tmp_path, ("pdf",), pdf_variant="pdf/a-3a")
    metadata = pypdf.PdfReader(output(result, ".pdf")).trailer["/Root"]["/Metadata"].get_data()
    assert b'pdfaid:part="3"' in metadata
    assert b'pdfaid:conformance="A"' in metadata


def test_every_font_is_ours_embedded_and_subset(fixture_build: BuildResult) -> None:
    reader = pypdf.PdfReader(output(fixture_build, ".pdf"))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/")
            prefix, _, base = name.partition("+")
            assert len(prefix) == 6 and prefix.isupper(), f"{name} is not subset"
            assert base.startswith(OUR_FONTS), f"{name} is not one of our fonts"
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor, f"{name} is not embedded"


def test_georgian_falls_back_to_the_named_font(fixture_build: BuildResult) -> None:
    pdf = output(fixture_build, ".pdf")
    assert any(name.startswith("BB-Fallback") for name in fonts_used(pdf))
    text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "ნოვგოროდი" in text


def test_paper_is_a4_by_default_and_letter_on_request(
    fixture_build: BuildResult, tmp_path: Path
) -> None:
    a4 = pypdf.PdfReader(output(fixture_build, ".pdf")).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    letter = build(FIXTURE, tmp_path, ("pdf",), paper="letter")
    box = pypdf.PdfReader(output(letter, ".pdf")).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


@pytest.mark.parametrize("which", ["fixture_build", "briefing_build"])
def test_no_text_overflows_the_text_block(which: str, request: pytest.FixtureRequest) -> None:
    result: BuildResult = request.getfixturevalue(which)
    left, right = 24 * MM, 22 * MM  # the theme's page margins
    with pdfplumber.open(output(result, ".pdf")) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            for char in page.chars:
                assert char["x0"] >= left - 1, (number, char["text"])
                assert char["x1"] <= page.width - right + 1, (number, char["text"])


def test_briefing_design_parts_are_all_there(briefing_build: BuildResult) -> None:
    texts = [p.extract_text() for p in pypdf.PdfReader(output(briefing_build, ".pdf")).pages]
    assert "AT A GLANCE" in texts[0].upper()
    assert "Contents" in texts[1] and ". . . ." in texts[1]
    assert "Key points" in "".join(texts[2:5])
    chronology = next(t for t in texts if t.startswith("Chronology"))
    assert "Date Event Page" in chronology
    last = texts[-1].replace("\u00a0", " ")
    assert "Colophon" in last and "bookbuild 0.1.0" in last and "27 November 2026" in last
    assert all(f"of {len(texts)}" in t for t in texts[1:])


def test_title_page_timeline_is_an_image_with_alt_text(fixture_build: BuildResult) -> None:
    html = next(p for p in fixture_build.outputs if p.suffix == ".html").read_text()
    assert '<img src="timeline.svg" alt="Timeline from 1100 to 1500: 2 eras' in html
    svg = next(p for p in fixture_build.outputs if p.suffix == ".html").parent / "timeline.svg"
    assert svg.read_text().count("<circle") == 7


def test_dates_and_page_references_do_not_break(tmp_path: Path) -> None:
    from bookbuild.markup import create_parser

    html = create_parser().render("On 25 May 1959, see p. 12, in May 1959.")
    assert "25\u00a0May\u00a01959" in html and "p.\u00a012" in html and "May\u00a01959" in html


def test_urls_outside_the_book_are_refused_and_nothing_is_fetched(tmp_path: Path) -> None:
    from weasyprint.urls import FatalURLFetchingError

    from bookbuild.pdf import BASE_URL, AssetFetcher

    fetcher = AssetFetcher({"print.css": default_styles_dir() / "print.css"})
    assert fetcher.fetch(BASE_URL + "print.css").status == 200
    for url in ("http://127.0.0.1:9/x.png", "file:///etc/passwd", BASE_URL + "../../etc/passwd"):
        with pytest.raises(FatalURLFetchingError):
            fetcher.fetch(url)


def test_a_theme_that_asks_for_a_url_fails_with_a_diagnostic(tmp_path: Path) -> None:
    styles = tmp_path / "styles"
    (styles / "templates").mkdir(parents=True)
    for path in default_styles_dir().rglob("*"):
        if path.is_file():
            target = styles / path.relative_to(default_styles_dir())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    css = styles / "print.css"
    css.write_text('@import url("http://127.0.0.1:9/evil.css");\n' + css.read_text())
    err = io.StringIO()
    argv = ["build", str(FIXTURE), "--out", str(tmp_path / "out"), "--styles", str(styles)]
    assert main(argv, stdout=io.StringIO(), stderr=err) == 1
    assert "refused to fetch 'http://127.0.0.1:9/evil.css'" in err.getvalue()
    assert "[BB902]" in err.getvalue()
    assert not (tmp_path / "out").exists()


def test_weasyprint_accessibility_errors_fail_the_build_at_the_image_line(tmp_path: Path) -> None:
    from bookbuild.errors import OutputError
    from bookbuild.model import SourceLocation
    from bookbuild.pdf import layout_pdf, write_pdf

    image = FIXTURE / "images" / "route.svg"
    where = SourceLocation(path=Path("chapters/01-a.md"), line=7, col=3)
    html = (
        '<html lang="en"><head><title>T</title></head><body><img src="images/r.svg"></body></html>'
    )
    document, warnings = layout_pdf(html, {"images/r.svg": image}, Path("ms"))
    assert warnings == []
    with pytest.raises(OutputError) as caught:
        write_pdf(
            document,
            io.BytesIO(),
            source=Path("ms"),
            variant="pdf/ua-1",
            epoch=0,
            identifier="x",
            places={"images/r.svg": where},
        )
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.format() == (
        'chapters/01-a.md:7:3: error: WeasyPrint: Image "images/r.svg" has no required alt '
        "description [BB901]"
    )


def test_long_table_breaks_between_rows_and_repeats_its_header(tmp_path: Path) -> None:
    rows = "\n".join(f"| {n} | item {n} | {n * 3} |" for n in range(1, 121))
    table = f"| Number | Item | Weight |\n|---|---|---|\n{rows}\n"
    root = tmp_path / "m"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        "title: T\nlanguage: en\nidentifier: urn:uuid:6f1d7c8a-2b3e-4f5a-8c9d-0e1f2a3b4c5d\n"
    )
    (root / "chapters" / "01-a.md").write_text(f"---\ntitle: A table\n---\n{table}")
    result = build(root, tmp_path / "out", ("pdf",))
    pages = [p.extract_text() for p in pypdf.PdfReader(result.outputs[0]).pages]
    row = re.compile(r"^(\d+) item \1 \d+$", re.M)
    with_rows = [t for t in pages if row.search(t)]
    assert len(with_rows) >= 2
    for text in with_rows:
        assert "Number Item Weight" in text
    numbers = [int(m[1]) for t in with_rows for m in row.finditer(t)]
    assert numbers == list(range(1, 121))  # every row whole, once, in order


def test_characters_no_font_has_stop_the_build_at_their_line(tmp_path: Path) -> None:
    root = tmp_path / "m"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        "title: T\nlanguage: en\nidentifier: urn:uuid:6f1d7c8a-2b3e-4f5a-8c9d-0e1f2a3b4c5d\n"
    )
    (root / "chapters" / "01-a.md").write_text(
        "---\ntitle: A\n---\nGeorgian ქ and Tokyo 東 are fine.\n\nTibetan ཀ.\n"
    )
    with pytest.raises(ManuscriptError) as raised:
        build(root, tmp_path / "out", ("pdf",))
    ours = [d.format() for d in raised.value.diagnostics if d.code.startswith("BB71")]
    assert ours == [
        f"{root}/chapters/01-a.md:6:9: error: character '\u0f40' (U+0F40, TIBETAN LETTER KA) "
        "is in none of bookbuild's fonts, so the PDF cannot show it [BB710]"
    ]
    assert not (tmp_path / "out").exists()
