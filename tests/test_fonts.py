"""Only the book's own fonts, on any machine: the PDF ignores the machine's font configuration."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pikepdf
import pypdf
import pytest
from fontTools.ttLib import TTCollection, TTFont

from bookbuild.fontset import find_fonts
from bookbuild.pipeline import BuildResult, build
from bookbuild.verify import run_pdf_validators
from tests.conftest import DATA, ROOT, output

CHINESE = DATA / "fonts" / "zh"
# The theme's @font-face names, as WeasyPrint writes them into the PDF.
THEME_NAMES = ("BB-Serif", "BB-Sans", "BB-Mono", "BB-Fallback")
# Another machine's idea of fonts: Liberation and DejaVu only, generic names mapped to them.
OTHER_MACHINE = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/liberation</dir>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
  <alias><family>serif</family><prefer><family>Liberation Serif</family></prefer></alias>
  <alias><family>sans-serif</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <alias><family>monospace</family><prefer><family>DejaVu Sans Mono</family></prefer></alias>
</fontconfig>
"""


@pytest.fixture(scope="module")
def chinese_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(CHINESE, tmp_path_factory.mktemp("zh"), ("pdf",))


def shipped_names() -> set[str]:
    """Return the PDF names of every family in bookbuild's font files, read from the files."""
    names = set(THEME_NAMES)
    for path in find_fonts().all_files:
        faces = TTCollection(path).fonts if path.suffix == ".ttc" else [TTFont(path)]
        for face in faces:
            family = face["name"].getDebugName(16) or face["name"].getDebugName(1)
            names.add(family.replace(" ", "-"))
    return names


def pdf_fonts(pdf: Path) -> dict[str, tuple[str, bytes] | None]:
    """Return every font the PDF's pages and forms use, by name, with its embedded program.

    The program is given with the key it is filed under (/FontFile2 for TrueType, /FontFile3
    for CFF), or None for a font that is not embedded.
    """
    fonts: dict[str, tuple[str, bytes] | None] = {}
    with pikepdf.open(pdf) as document:
        for resources in _resources(document):
            for font in (resources.get("/Font") or {}).values():
                descriptor = font.DescendantFonts[0].FontDescriptor
                key = next((k for k in ("/FontFile2", "/FontFile3") if k in descriptor), None)
                program = (key, descriptor[key].read_bytes()) if key else None
                fonts[str(font.BaseFont).lstrip("/")] = program
    return fonts


def _resources(document: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    stack = [page.obj.get("/Resources") for page in document.pages]
    while stack:
        resources = stack.pop()
        if resources is None:
            continue
        yield resources
        stack += [x.get("/Resources") for x in (resources.get("/XObject") or {}).values()]


def glyph_ids_by_font(pdf: Path) -> dict[str, set[int]]:
    """Return the glyph ids each font draws, read from the content streams (Identity-H)."""
    used: dict[str, set[int]] = {}
    with pikepdf.open(pdf) as document:
        holders = [page.obj for page in document.pages]
        while holders:
            holder = holders.pop()
            resources = holder.get("/Resources") or {}
            fonts = resources.get("/Font") or {}
            xobjects = resources.get("/XObject") or {}
            holders += list(xobjects.values())
            font = None
            for operands, operator in pikepdf.parse_content_stream(holder):
                if str(operator) == "Tf":
                    font = str(fonts[operands[0]].BaseFont).lstrip("/")
                elif str(operator) in ("Tj", "TJ") and font:
                    strings = operands[0] if str(operator) == "TJ" else [operands[0]]
                    for item in strings:
                        if isinstance(item, pikepdf.String):
                            data = bytes(item)
                            ids = {int.from_bytes(data[i : i + 2]) for i in range(0, len(data), 2)}
                            used.setdefault(font, set()).update(ids)
    return used


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_is_the_same_whatever_fonts_the_machine_has(tmp_path: Path) -> None:
    other = tmp_path / "other" / "fonts.conf"
    other.parent.mkdir()
    other.write_text(OTHER_MACHINE.format(cache=tmp_path / "other" / "cache"))
    pdfs = []
    for name, extra in (("here", {}), ("other", {"FONTCONFIG_FILE": str(other)})):
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SOURCE_DATE_EPOCH": "1700000000"}
        env.update(extra)
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "bookbuild", "build", str(CHINESE), "--out", str(out),
             "--format", "pdf"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        pdfs.append((out / "book.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]
    # The other configuration is real: under it, bare WeasyPrint sets Arial in another font.
    probe = (
        "import weasyprint, sys; weasyprint.HTML(string='<p style=\"font-family: Arial\">x</p>')"
        ".write_pdf(sys.argv[1])"
    )
    bare = []
    for name, extra in (("here", {}), ("other", {"FONTCONFIG_FILE": str(other)})):
        pdf = tmp_path / f"bare-{name}.pdf"
        subprocess.run([sys.executable, "-c", probe, pdf], env={**os.environ, **extra}, check=True)
        bare.append({name.partition("+")[2] for name in pdf_fonts(pdf)})
    assert bare[0] != bare[1]


def test_a_chinese_book_embeds_only_bookbuilds_fonts(chinese_build: BuildResult) -> None:
    fonts = pdf_fonts(output(chinese_build, ".pdf"))
    ours = shipped_names()
    for name, font in fonts.items():
        prefix, _, base = name.partition("+")
        assert len(prefix) == 6 and prefix.isupper(), f"{name} is not subset"
        assert base.startswith(tuple(ours)), f"{name} is not one of bookbuild's fonts"
        assert font is not None, f"{name} is not embedded"
    bases = {name.partition("+")[2] for name in fonts}
    assert {"Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC-Bold", "Noto-Sans-Mono-CJK-SC"} <= bases


def test_no_glyph_is_notdef_or_missing(chinese_build: BuildResult) -> None:
    pdf = output(chinese_build, ".pdf")
    fonts = pdf_fonts(pdf)
    for name, ids in glyph_ids_by_font(pdf).items():
        embedded = fonts[name]
        assert embedded is not None
        count = _glyph_count(embedded[1])
        assert 0 not in ids, f"{name} draws .notdef"
        assert max(ids) < count, f"{name} draws a glyph its program lacks"


def _glyph_count(program: bytes) -> int:
    import io

    if program[:4] in (b"OTTO", b"\0\1\0\0", b"true"):
        return int(TTFont(io.BytesIO(program))["maxp"].numGlyphs)
    from fontTools.cffLib import CFFFontSet  # a bare CFF program (FontFile3 /CIDFontType0C)

    cff = CFFFontSet()
    cff.decompile(io.BytesIO(program), None)
    return len(cff[cff.fontNames[0]].charset)


def test_the_chinese_text_extracts_back(chinese_build: BuildResult) -> None:
    pdf = output(chinese_build, ".pdf")
    text = squeeze("".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages))
    # Chinese punctuation is full-width: the commas below are meant.
    for expected in (
        "丝绸之路上的驿站",  # title
        "公元前138年，张骞奉命出使西域。他经过敦煌，走了十三年才回到长安。",  # event, prose  # noqa: RUF001
        "见《史记·大宛列传》。日本学者称之为「シルクロード」，并写作東西交易路。",  # footnote  # noqa: RUF001
        "敦煌三千七百四十",  # table row
        "简号日期文书去向",  # code block
        "古代用烟火传递军情的高台，常与驿站相邻。",  # glossary  # noqa: RUF001
        "长安",  # the figure's SVG text
    ):
        assert expected in text


def test_the_text_language_picks_the_cjk_face(chinese_build: BuildResult) -> None:
    """Han characters differ between Chinese and Japanese: a Japanese span gets the JP face."""
    with pdfplumber.open(output(chinese_build, ".pdf")) as pdf:
        chars = [c for page in pdf.pages for c in page.chars]
    faces = {c["fontname"].partition("+")[2] for c in chars if c["text"] in "シ東"}
    assert faces == {"Noto-Serif-CJK-JP"}
    body = {c["fontname"].partition("+")[2] for c in chars if c["text"] == "骞"}
    assert body >= {"Noto-Serif-CJK-SC"} and not any("JP" in face for face in body)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["pdf/ua-1", "pdf/a-3a"])
def test_the_chinese_pdf_passes_the_validators(variant: str, tmp_path: Path) -> None:
    result = build(CHINESE, tmp_path, ("pdf",), pdf_variant=variant)
    notes: list[str] = []
    findings = run_pdf_validators(output(result, ".pdf"), variant, notes)
    assert not notes
    assert [f.message for f in findings if f.is_error] == []


def test_the_epub_cover_draws_a_chinese_title_in_the_cjk_font() -> None:
    from PIL import ImageFont

    from bookbuild import cover
    from bookbuild.assets import font_files
    from bookbuild.manuscript import load_manuscript

    meta = load_manuscript(CHINESE)[0].meta
    fonts = cover.cjk_cover_fonts(meta.language)
    path = str(fonts["cjk/serif-bold"])
    assert path.endswith("NotoSerifCJK-Bold.ttc#2")  # the SC face, for zh-CN
    file, _, index = path.partition("#")
    font = ImageFont.truetype(file, 80, index=int(index))
    tofu = bytes(font.getmask("\ue000"))  # a private-use character: the .notdef box
    for char in meta.title:
        assert bytes(font.getmask(char)) != tofu, f"{char} is drawn as .notdef"
    jpeg = cover.build_cover(meta, {**font_files(), **fonts})
    assert jpeg[:2] == b"\xff\xd8"


def test_a_symbol_the_theme_lacks_never_brings_a_cjk_font_into_another_book(
    tmp_path: Path,
) -> None:
    """'℃' and '※' are in DejaVu Sans and in Noto CJK: an English book takes DejaVu's."""
    root = tmp_path / "m"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        "title: T\nlanguage: en\nidentifier: urn:uuid:6f1d7c8a-2b3e-4f5a-8c9d-0e1f2a3b4c5d\n"
    )
    (root / "chapters" / "01-a.md").write_text(
        "---\ntitle: A\n---\nIt was 40 ℃ in the shade ※ and `20 ℃` in the cellar.\n"
    )
    pdf = output(build(root, tmp_path / "out", ("pdf",)), ".pdf")
    with pdfplumber.open(pdf) as document:
        faces = {c["fontname"].partition("+")[2] for c in document.pages[-1].chars}
        faces |= {c["fontname"].partition("+")[2] for p in document.pages for c in p.chars
                  if c["text"] in "℃※"}  # fmt: skip
    assert not any("CJK" in face for face in faces)
    assert "BB-Fallback" in faces
