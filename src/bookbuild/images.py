"""Read the manuscript's images: real PNG, JPEG, GIF, WebP and SVG files only, within limits."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import stat
import unicodedata
import warnings
from pathlib import Path, PurePath, PurePosixPath
from urllib.parse import quote, unquote

from bookbuild.errors import Collector, Diagnostic, ManuscriptError, error
from bookbuild.model import Book, Image, ImageFile, SourceLocation

# What each accepted name ending promises; the file's first bytes must keep the promise.
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
FORMAT_NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/svg+xml": "SVG",
}
# Ceilings on what one image may cost, each overridable by an environment variable.
LIMITS = {
    "BOOKBUILD_MAX_IMAGE_BYTES": 64 * 1024 * 1024,
    "BOOKBUILD_MAX_IMAGE_PIXELS": 50_000_000,
    "BOOKBUILD_MAX_SVG_ELEMENTS": 20_000,
}
URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:|//)")
# Output names kept as they are; anything else becomes an ASCII slug and a hash.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str


def limit(name: str) -> int:
    """Return the ceiling named by an environment variable, or its default."""
    text = os.environ.get(name, "").strip()
    if not text:
        return LIMITS[name]
    if not text.isdigit() or int(text) == 0:
        code = "BB312" if name == "BOOKBUILD_MAX_SVG_ELEMENTS" else "BB308"
        raise ManuscriptError([error(code, f"{name} is '{text}', not a positive whole number")])
    return int(text)


def display_src(src: str) -> str:
    """Return an image src as the author wrote it: the parser percent-encodes non-ASCII."""
    shown = unquote(src)
    return shown if shown.isprintable() else src  # never a control character on the terminal


def locate_image(root: Path, src: str) -> Path | Refusal:
    """Return the file an image src names, or why it is refused; nothing is read."""
    written, name = unquote(src), display_src(src)
    if URL.match(src):
        return Refusal(
            "BB303", f"image '{name}' is a URL; copy the file into the manuscript folder"
        )
    base = root.resolve()
    try:
        path = (base / written).resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        return Refusal("BB309", f"image '{name}' cannot be read: {_reason(exc)}")
    if written.startswith("/") or not path.is_relative_to(base):
        return Refusal("BB302", f"image '{name}' lies outside the manuscript folder")
    if _is_hidden(PurePosixPath(written)):
        return Refusal(
            "BB305", f"image '{name}' is hidden (a name in its path starts with '.'); refused"
        )
    if _is_hidden(relative := path.relative_to(base)):
        return Refusal(
            "BB305",
            f"image '{name}' leads to '{display_src(quote(relative.as_posix()))}', which is "
            "hidden; refused",
        )
    if not os.path.lexists(path):
        return Refusal("BB301", f"image '{name}' not found")
    if path.suffix.lower() not in MEDIA_TYPES:
        return Refusal(
            "BB306",
            f"image '{name}' is not a PNG, JPEG, GIF, WebP or SVG file (by its name ending)",
        )
    return path


def _is_hidden(path: PurePath) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in path.parts)


def load_images(book: Book) -> tuple[Book, tuple[Diagnostic, ...]]:
    """Read, check and clean every image once; return the book holding them and the problems."""
    found = Collector()
    first: dict[Path, Image] = {}
    for image in (i for c in book.chapters for i in c.images):
        first.setdefault(image.path, image)
    base = book.root.resolve()
    names = output_names({path: path.relative_to(base).as_posix() for path in first})
    files = []
    for path, image in first.items():
        media_type = MEDIA_TYPES[path.suffix.lower()]
        data = read_image(book.root / path.relative_to(base), image, media_type, found)
        if data is not None:
            files.append(
                ImageFile(
                    path=path,
                    name=names[path],
                    media_type=media_type,
                    data=data,
                    location=image.location,
                )
            )
    return dataclasses.replace(book, image_files=tuple(files)), tuple(found)


def output_names(relatives: dict[Path, str]) -> dict[Path, str]:
    """Return a unique, safe ASCII asset name for each image, given its path in the manuscript.

    Safe names stay as they are; others become an ASCII slug and a hash of the path. Names are
    unique even ignoring case, since html/ may land on a case-insensitive disk.
    """
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path, relative in sorted(relatives.items(), key=lambda item: item[1]):
        name = _safe_name(relative, 8)
        size = 8
        while name.casefold() in taken:
            size += 8
            name = _safe_name(relative, size, force=True)
        taken.add(name.casefold())
        names[path] = name
    return names


def _safe_name(relative: str, size: int, *, force: bool = False) -> str:
    parts = relative.split("/")
    stem, suffix = os.path.splitext(parts[-1])
    if not force and suffix == suffix.lower() and all(_SAFE_NAME.fullmatch(p) for p in parts):
        return "images/" + relative
    digest = hashlib.sha256(relative.encode("utf-8")).hexdigest()[:size]
    folders = [_slug(p) for p in parts[:-1]]
    return "/".join(["images", *folders, f"{_slug(stem)}-{digest}{suffix.lower()}"])


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_]+", "-", ascii_text).strip("-") or "image"


def read_image(shown: Path, image: Image, media_type: str, found: Collector) -> bytes | None:
    """Return the image's bytes as the outputs get them, or None after reporting why not."""
    name, where = display_src(image.src), image.location
    data = _read_regular_file(image.path, name, where, found)
    if data is None:
        return None
    actual = sniff(data)
    if actual != media_type:
        what = f"{FORMAT_NAMES[actual]} data" if actual else "not an image"
        found.error(
            "BB307",
            f"image '{name}' is named as {FORMAT_NAMES[media_type]} but its content is {what}",
            where,
        )
        return None
    if media_type == "image/svg+xml":
        from bookbuild.svgclean import clean_svg  # lxml loads only for books with SVGs

        return clean_svg(data, shown, found, limit("BOOKBUILD_MAX_SVG_ELEMENTS"))
    problem = check_raster(data, limit("BOOKBUILD_MAX_IMAGE_PIXELS"))
    if problem is not None:
        found.append(error(problem.code, f"image '{name}' {problem.message}", where))
        return None
    return data


def _read_regular_file(
    path: Path, name: str, where: SourceLocation, found: Collector
) -> bytes | None:
    """Return a regular file's bytes, never blocking on a pipe or reading past the size limit."""
    ceiling = limit("BOOKBUILD_MAX_IMAGE_BYTES")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                found.error("BB309", f"image '{name}' cannot be read: not a regular file", where)
                return None
            data = handle.read(ceiling + 1)
    except OSError as exc:
        found.error("BB309", f"image '{name}' cannot be read: {_reason(exc)}", where)
        return None
    if len(data) > ceiling:
        found.error(
            "BB308",
            f"image '{name}' is larger than {ceiling:,} bytes "
            "(BOOKBUILD_MAX_IMAGE_BYTES raises the limit)",
            where,
        )
        return None
    return data


def sniff(data: bytes) -> str | None:
    """Return the media type that a file's first bytes show, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    # SVG is XML: whether it really is SVG is for the parser to say.
    if data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<"):
        return "image/svg+xml"
    return None


def check_raster(data: bytes, max_pixels: int) -> Refusal | None:
    """Return why Pillow cannot decode a PNG, JPEG, GIF or WebP image, or None when it can."""
    from PIL import Image as PILImage  # Pillow loads only for books with raster images

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width * height > max_pixels:
                    return _too_many_pixels(width, height, max_pixels)
                im.verify()  # PNG: every chunk's checksum, up to the end
            if not data.startswith(b"\x89PNG"):
                with PILImage.open(io.BytesIO(data)) as im:
                    im.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))  # JPEG: 1/8 scale
                    im.load()
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        return _too_many_pixels(0, 0, max_pixels)
    except Exception as exc:  # Pillow raises many types for a broken file; all mean the same
        return Refusal("BB309", f"cannot be decoded: {exc}")
    return None


def _too_many_pixels(width: int, height: int, max_pixels: int) -> Refusal:
    size = f"is {width} by {height} pixels, more than" if width else "has more than"
    return Refusal("BB308", f"{size} {max_pixels:,} (BOOKBUILD_MAX_IMAGE_PIXELS raises the limit)")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
