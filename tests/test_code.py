"""Code is set in our monospace font; long lines wrap in print with a mark, and stay whole."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from lxml import etree

from bookbuild.pipeline import BuildResult, build
from tests.conftest import output
from tests.test_pdf import MM, OUR_FONTS
from tests.test_stages import write_manuscript
from tests.validators import run_epubcheck

# 130 characters with spaces, where the line may wrap at a space, and 130 without any.
LONG = (
    "result = compute_the_long_function_name(first_argument=alpha_value, second_argument=beta, "
    "third=gamma, fourth=delta_epsilon_zeta)"
)
UNBROKEN = "x" * 60 + "_" + "y" * 69
CODE = ["def caesar(shift):", "    return shift", "", LONG, UNBROKEN, "print(caesar(3))"]
CHAPTER = (
    "---\ntitle: Code\n---\nThe call `caesar(3)` shifts each letter; so does `"
    + "Q" * 130
    + "`.\n\n```python\n"
    + "\n".join(CODE)
    + "\n```\n\nThe end.\n"
)
GUTTER = 10  # pt: the hanging indent of continuation rows in print.css


@pytest.fixture(scope="module")
def code_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    root = write_manuscript(tmp_path_factory.mktemp("code") / "m", {"01-a.md": CHAPTER})
    return build(root, root.parent / "out", ("pdf", "epub"))


def mono_rows(pdf_path: Path) -> tuple[int, list[list[dict[str, object]]]]:
    """Return the code block's page number and its rows of monospace characters, top down."""
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages):
            chars = [c for c in page.chars if "BB-Mono" in c["fontname"] and c["text"].strip()]
            if any(c["text"] == "d" for c in chars):
                rows: dict[float, list[dict[str, object]]] = {}
                for char in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])):
                    rows.setdefault(round(char["top"]), []).append(char)
                return number, list(rows.values())
    raise AssertionError("no code in the PDF")


def test_code_is_in_our_embedded_subset_monospace(code_build: BuildResult) -> None:
    assert code_build.diagnostics == ()  # WeasyPrint's warnings would be diagnostics here
    assert "BB-Mono" in OUR_FONTS
    reader = pypdf.PdfReader(output(code_build, ".pdf"))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            prefix, _, base = str(font["/BaseFont"]).lstrip("/").partition("+")
            assert len(prefix) == 6 and prefix.isupper(), f"{base} is not subset"
            assert base.startswith(OUR_FONTS), f"{base} is not one of our fonts"
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor, f"{base} is not embedded"
            names.add(base)
    assert "BB-Mono" in names
    with pdfplumber.open(output(code_build, ".pdf")) as pdf:
        inline = [c for p in pdf.pages for c in p.chars if c["text"] == "Q"]
    assert len(inline) == 130 and all("BB-Mono" in c["fontname"] for c in inline)


def test_long_code_lines_stay_inside_the_text_block(code_build: BuildResult) -> None:
    left, right = 24 * MM, 22 * MM  # the theme's page margins
    with pdfplumber.open(output(code_build, ".pdf")) as pdf:
        for page in pdf.pages:
            for char in page.chars:
                assert left - 1 <= char["x0"] and char["x1"] <= page.width - right + 1, char


def test_code_text_extracts_whole_and_in_order(code_build: BuildResult) -> None:
    _, rows = mono_rows(output(code_build, ".pdf"))
    printed = "".join(str(c["text"]) for row in rows for c in row)
    assert printed.endswith("".join("".join(line.split()) for line in CODE))
    pages = pypdf.PdfReader(output(code_build, ".pdf")).pages
    text = "".join("".join(page.extract_text().split()) for page in pages)
    assert "".join(LONG.split()) in text and UNBROKEN in text
    assert "↳" not in text and "↪" not in text  # the mark is drawn, not text to copy


def test_wrapped_rows_are_indented_and_marked_in_the_gutter(code_build: BuildResult) -> None:
    number, rows = mono_rows(output(code_build, ".pdf"))
    texts = ["".join(str(c["text"]) for c in r) for r in rows]
    block = rows[texts.index("defcaesar(shift):") :]  # the code block, not the inline code
    texts = texts[-len(block) :]
    starts = [float(r[0]["x0"]) for r in block]
    margin = starts[0]
    first_long = texts.index(next(t for t in texts if t.startswith("result=")))
    continuations = [i for i, x in enumerate(starts) if x > margin + GUTTER - 1]
    # LONG wraps once or more, UNBROKEN too; 'return shift' is indented by its own spaces.
    wrapped = [i for i in continuations if i > first_long]
    assert len(wrapped) >= 2
    for i in wrapped:
        assert abs(starts[i] - (margin + GUTTER)) < 1, texts[i]
    with pdfplumber.open(output(code_build, ".pdf")) as pdf:
        page = pdf.pages[number]
        image = page.to_image(resolution=144).original.convert("L")
    scale = 144 / 72
    for i in wrapped:
        top, bottom = float(block[i][0]["top"]), float(block[i][0]["bottom"])
        box = (int(margin * scale), int(top * scale), int((margin + GUTTER - 1) * scale),
               int(bottom * scale))  # fmt: skip
        darkest = image.crop(box).getextrema()[0]
        assert darkest < 180, f"no continuation mark before row {texts[i]!r}"
    for i in (first_long, texts.index("print(caesar(3))")):
        # A line's first row starts in the gutter with its own text: no mark is drawn there.
        assert abs(starts[i] - margin) < 1


def test_epub_keeps_code_as_written(code_build: BuildResult) -> None:
    with zipfile.ZipFile(output(code_build, ".epub")) as epub:
        page = etree.fromstring(epub.read("EPUB/a.xhtml"))
        css = epub.read("EPUB/epub.css").decode()
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    (pre,) = page.xpath("//x:pre", namespaces=ns)
    assert "".join(pre.itertext()) == "\n".join(CODE) + "\n"
    assert "white-space: pre-wrap" in css
    code, report = run_epubcheck(output(code_build, ".epub"))
    assert code == 0, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings / 0 infos" in report, report
