"""Pandoc Markdown in chapters, construct by construct, read back from both editions' HTML.

Each test builds a small manuscript to the EPUB and to the print HTML (the document WeasyPrint
lays out) and reads them with lxml; the PDF itself is read back in test_pandoc_testsuite.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from bookbuild.assets import default_styles_dir
from bookbuild.errors import ManuscriptError
from bookbuild.pipeline import build, check
from bookbuild.sections import pandoc_id

HEADING = "string-length(local-name()) = 2 and starts-with(local-name(), 'h')"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
BOOK = "title: Probe\nlanguage: en\nidentifier: urn:uuid:12345678-1234-1234-1234-123456789abc\n"


def write_book(root: Path, chapters: dict[str, str]) -> Path:
    """Write a manuscript whose chapters are `name: front matter + body` texts."""
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(BOOK)
    for name, text in chapters.items():
        (root / "chapters" / name).write_text(text)
    return root


def chapter(body: str, title: str = "One", extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\n{body}"


class Editions:
    """Both editions of a built manuscript, parsed."""

    def __init__(self, root: Path, out: Path) -> None:
        build(root, out, ("epub", "html"))
        self.print = html.parse(str(out / "html" / "probe.html")).getroot()
        with zipfile.ZipFile(out / "probe.epub") as epub:
            self.files = {
                Path(n).name: etree.fromstring(epub.read(n))
                for n in epub.namelist()
                if n.endswith(".xhtml")
            }

    def epub(self, file: str, xpath: str) -> list[etree._Element]:
        return list(self.files[file].xpath(xpath, namespaces=NS))

    def both(self, file: str, tag: str) -> tuple[list[str], list[str]]:
        """Return the text of each `tag` element in the chapter, print first."""
        printed = [_text(e) for e in self.print.xpath(f"//section[@id='{file[:-6]}']//{tag}")]
        epub = [_text(e) for e in self.epub(file, f"//x:section//x:{tag}")]
        return printed, epub


def _text(element: etree._Element) -> str:
    # The EPUB puts soft hyphens into table cells for small screens; a reader shows none.
    return " ".join("".join(element.itertext()).replace("\u00ad", "").split())


def editions(tmp_path: Path, chapters: dict[str, str]) -> Editions:
    return Editions(write_book(tmp_path / "m", chapters), tmp_path / "out")


def test_definition_lists(tmp_path: Path) -> None:
    body = "apple\n:   red fruit\n:   computer\n\norange\n\n~ orange fruit\n"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    for edition in book.both("a.xhtml", "dt"):
        assert edition == ["apple", "orange"]
    for edition in book.both("a.xhtml", "dd"):
        assert edition == ["red fruit", "computer", "orange fruit"]


def test_fenced_divs_nest_and_carry_classes(tmp_path: Path) -> None:
    body = "::: {.note #n1}\nOuter\n\n::: warning\nInner\n:::\n\nAfter inner\n:::\n\nOutside\n"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    (note,) = book.epub("a.xhtml", "//x:div[@class='note']")
    assert note.get("id") == "n1"
    assert [_text(p) for p in note.xpath("x:p", namespaces=NS)] == ["Outer", "After inner"]
    assert _text(note.xpath("x:div[@class='warning']", namespaces=NS)[0]) == "Inner"
    printed = book.print.xpath("//div[@class='note']/div[@class='warning']")
    assert [_text(d) for d in printed] == ["Inner"]
    assert ":::" not in _text(book.files["a.xhtml"])


def test_superscript_subscript_strikeout(tmp_path: Path) -> None:
    body = "H~2~O, 2^10^, a^*hi*^ and ~~gone~~; a^b c^d stays.\n"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    for tag, expected in (("sub", ["2"]), ("sup", ["10", "hi"]), ("s", ["gone"])):
        for edition in book.both("a.xhtml", tag):
            assert edition == expected
    assert book.epub("a.xhtml", "//x:sup/x:em")
    assert "a^b c^d" in _text(book.files["a.xhtml"])


def test_line_blocks_keep_breaks_and_indentation(tmp_path: Path) -> None:
    body = (
        "| The limerick packs laughs anatomical\n"
        "|     Into space that is quite\n"
        "  economical.\n"
        "|\n"
        "| End\n"
    )
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    lines = [
        "".join(e.itertext())
        for e in book.epub("a.xhtml", "//x:div[@class='line-block']/x:div[@class='line']")
    ]
    nbsp = "\u00a0"
    assert lines == [
        "The limerick packs laughs anatomical",
        f"{nbsp * 4}Into space that is quite economical.",
        "",
        "End",
    ]
    assert len(book.print.xpath("//div[@class='line-block']/div[@class='line']")) == 4


@pytest.mark.parametrize(
    "body",
    [
        "| a | b |\n|---|---|\n| 1 | 2 |\n\nTable: Counts of things\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n: Counts of things\n",
        ": Counts of things\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\nTable: Counts of things\n",
    ],
    ids=["table-after", "colon-after", "colon-before", "no-blank-line"],
)
def test_table_captions(tmp_path: Path, body: str) -> None:
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    for edition in book.both("a.xhtml", "caption"):
        assert edition == ["Table 1: Counts of things"]  # numbered through the book
    assert book.epub("a.xhtml", "//x:table/*[1][self::x:caption]")
    assert not book.epub("a.xhtml", "//x:section/x:p")  # the caption is no paragraph


@pytest.mark.parametrize(
    ("heading", "expected"),
    [  # the examples in Pandoc's manual, "Extension: auto_identifiers"
        ("Heading identifiers in HTML", "heading-identifiers-in-html"),
        ("Maître d'hôtel", "maître-dhôtel"),
        ("*Dogs*?--in *my* house?", "dogs--in-my-house"),
        ("[HTML], [S5], or [RTF]?", "html-s5-or-rtf"),
        ("3. Applications", "applications"),
        ("33", "section"),
    ],
)
def test_automatic_heading_ids_follow_pandoc(tmp_path: Path, heading: str, expected: str) -> None:
    book = editions(tmp_path, {"01-a.md": chapter(f"## {heading}\n\nText.\n")})
    assert [h.get("id") for h in book.epub("a.xhtml", "//x:h2")] == [expected]
    assert [h.get("id") for h in book.print.xpath("//section[@id='a']//h2")] == [expected]


def test_pandoc_id_of_plain_text() -> None:
    assert pandoc_id("  Many   spaces_and.dots  ") == "many-spaces_and.dots"


def test_heading_attributes_and_ids_unique_in_the_book(tmp_path: Path) -> None:
    one = "## Intro {#start .lead}\n\n## Intro\n\n## Intro\n\n[self](#intro) [first](#start)\n"
    two = "## Intro\n\n[mine](#intro) [theirs](01-a.md#intro-1) [chapter](01-a.md)\n"
    book = editions(tmp_path, {"01-a.md": chapter(one), "02-b.md": chapter(two, "Two")})
    assert [(h.get("id"), h.get("class")) for h in book.epub("a.xhtml", "//x:h2")] == [
        ("start", "lead"),
        ("intro", None),
        ("intro-1", None),
    ]
    assert [h.get("id") for h in book.epub("b.xhtml", "//x:h2")] == ["intro-2"]
    assert [a.get("href") for a in book.epub("a.xhtml", "//x:p/x:a")] == ["#intro", "#start"]
    # In its own file Pandoc calls chapter two's heading `intro`; the book calls it intro-2.
    hrefs = [a.get("href") for a in book.epub("b.xhtml", "//x:p/x:a")]
    assert hrefs == ["#intro-2", "a.xhtml#intro-1", "a.xhtml"]
    printed = [a.get("href") for a in book.print.xpath("//section[@id='b']//p/a")]
    assert printed == ["#intro-2", "#intro-1", "#a"]
    assert len(book.print.xpath("//*[@id='intro-2']")) == 1


def test_links_to_chapter_files_are_checked(tmp_path: Path) -> None:
    body = "[ok](02-b.md#there) [gone](03-c.md) [no id](02-b.md#nowhere)\n"
    root = write_book(tmp_path, {"01-a.md": chapter(body), "02-b.md": chapter("## There\n", "Two")})
    with pytest.raises(ManuscriptError) as caught:
        check(root)
    messages = [
        (d.code, d.location.line if d.location else 0, d.message) for d in caught.value.diagnostics
    ]
    assert messages == [
        ("BB503", 5, "link to '03-c.md', which is not a chapter file of this book"),
        ("BB503", 5, "link to '02-b.md#nowhere', whose chapter has no id 'nowhere'"),
    ]


def test_html_comments_are_dropped(tmp_path: Path) -> None:
    body = (
        "Kept <!-- TODO inline --> text.\n\n<!--\nTODO block\n-->\n\n    <!-- code keeps it -->\n"
    )
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    for text in (_text(book.files["a.xhtml"]), _text(book.print)):
        assert "TODO" not in text
        assert "Kept text." in text
    assert _text(book.epub("a.xhtml", "//x:pre")[0]) == "<!-- code keeps it -->"


def test_chapter_authors_under_the_title_and_in_the_contents(tmp_path: Path) -> None:
    chapters = {
        "01-a.md": chapter("Text.\n", extra="authors: [Ann One, Bob Two]\n"),
        "02-b.md": chapter("Text.\n", "Two", extra="author: Carol Three\n"),
    }
    book = editions(tmp_path, chapters)
    assert _text(book.epub("a.xhtml", "//x:header/x:h1/following-sibling::x:p")[0]) == (
        "Ann One, Bob Two"
    )
    assert _text(book.epub("b.xhtml", "//x:p[@class='chapter-authors']")[0]) == "Carol Three"
    nav = [_text(a) for a in book.epub("nav.xhtml", "//x:nav[@id='toc']/x:ol/x:li/x:a")]
    assert nav[:2] == ["One (Ann One, Bob Two)", "Two (Carol Three)"]
    printed = [_text(p) for p in book.print.xpath("//p[@class='chapter-authors']")]
    assert printed == ["Ann One, Bob Two", "Carol Three"]
    toc = [_text(a) for a in book.print.xpath("//nav[@id='contents']//a")]
    assert toc[:2] == ["One Ann One, Bob Two", "Two Carol Three"]


@pytest.mark.parametrize(
    ("body", "levels"),
    [
        ("# Top\n\n## Sub\n\n### Subsub\n\n# Top again\n", ["h2", "h3", "h4", "h2"]),
        ("### Only three\n\n#### Four\n", ["h2", "h3"]),
        ("## Two\n\n###### Six\n", ["h2", "h6"]),
    ],
)
def test_headings_nest_under_the_chapter_title(
    tmp_path: Path, body: str, levels: list[str]
) -> None:
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    found = [e.tag.split("}")[1] for e in book.epub("a.xhtml", f"//x:section/*[{HEADING}]")]
    assert found == levels
    printed = [e.tag for e in book.print.xpath(f"//section[@id='a']/*[{HEADING}]")]
    assert printed == levels
    assert [_text(h) for h in book.print.xpath("//section[@id='a']//h1")] == ["One"]


def test_epub_nav_nests_the_sections(tmp_path: Path) -> None:
    body = "# Top\n\n## Sub\n\n# Next\n"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    (item,) = book.epub("nav.xhtml", "//x:nav[@id='toc']/x:ol/x:li[x:a[@href='a.xhtml']]")
    tops = item.xpath("x:ol/x:li", namespaces=NS)
    assert [_text(li.xpath("x:a", namespaces=NS)[0]) for li in tops] == ["Top", "Next"]
    assert [a.get("href") for a in tops[0].xpath("x:ol/x:li/x:a", namespaces=NS)] == ["a.xhtml#sub"]


def test_unrendered_constructs_print_as_code_or_text(tmp_path: Path) -> None:
    body = "Math $x^2$, TeX \\emph{y}, <b>tag</b>, [@doe99].\n\n$$\na+b\n$$\n"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    assert [_text(c) for c in book.epub("a.xhtml", "//*[contains(@class, 'math')]")] == [
        "x^2",
        "a+b",
    ]
    assert [_text(c) for c in book.epub("a.xhtml", "//x:code[@class='raw-tex']")] == ["\\emph{y}"]
    text = _text(book.files["a.xhtml"])
    assert "<b>tag</b>" in text and "[@doe99]" in text
    assert not book.epub("a.xhtml", "//x:b")


def test_code_blocks_keep_their_text_and_attributes(tmp_path: Path) -> None:
    long_line = "x = [" + ", ".join(str(n) for n in range(40)) + "]  # " + "a" * 20
    assert len(long_line) > 130
    body = f"```{{.python #listing .numberLines}}\n{long_line}\n```\n\nInline `a < b`{{.py}}.\n"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    (code,) = book.epub("a.xhtml", "//x:pre/x:code")
    assert code.text.rstrip("\n") == long_line
    assert code.get("id") == "listing"
    assert set(code.get("class").split()) == {"language-python", "numberLines"}
    (printed,) = book.print.xpath("//section[@id='a']//pre/code")
    assert "".join(printed.itertext()).rstrip("\n") == long_line
    assert printed.get("id") == "listing"
    assert set(printed.get("class").split()) == {"language-python", "numberLines"}
    assert [_text(c) for c in book.epub("a.xhtml", "//x:p/x:code")] == ["a < b"]


def test_raw_attributes_and_pandoc_tables_print_as_code(tmp_path: Path) -> None:
    grid = "+----+----+\n| a  | b  |\n+====+====+\n| 1  | 2  |\n+----+----+\n"
    body = f"A `<br/>`{{=html}} here.\n\n```{{=latex}}\n\\clearpage\n```\n\n{grid}"
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    assert [_text(c) for c in book.epub("a.xhtml", "//*[contains(@class, 'raw')]")] == [
        "<br/>",
        "\\clearpage",
    ]
    (table,) = book.epub("a.xhtml", "//x:pre[@class='pandoc-table']/x:code")
    assert table.text == grid.rstrip("\n")
    assert "{=" not in _text(book.files["a.xhtml"])


def test_task_lists_draw_ballot_boxes(tmp_path: Path) -> None:
    book = editions(tmp_path, {"01-a.md": chapter("- [ ] to do\n- [x] done\n")})
    for edition in book.both("a.xhtml", "li"):
        assert edition == ["\u2610 to do", "\u2612 done"]


def test_pdf_bookmarks_nest_headings_under_their_chapter(tmp_path: Path) -> None:
    import pypdf

    root = write_book(
        tmp_path / "m",
        {
            "01-a.md": chapter("# Top\n\nText.\n\n## Sub\n\nText.\n"),
            "02-b.md": chapter("### Deep only\n\nText.\n", "Two"),
        },
    )
    build(root, tmp_path / "out", ("pdf",))
    outline = pypdf.PdfReader(tmp_path / "out" / "probe.pdf").outline

    def tree(items: list[object]) -> list[object]:
        return [tree(i) if isinstance(i, list) else i.title for i in items]  # type: ignore[attr-defined]

    shape = tree(outline)
    assert shape[shape.index("One") + 1] == ["Top", ["Sub"]]
    assert shape[shape.index("Two") + 1] == ["Deep only"]


def test_backslash_space_is_a_no_break_space(tmp_path: Path) -> None:
    book = editions(tmp_path, {"01-a.md": chapter("Mr.\\ Smith\n")})
    (epub,) = book.epub("a.xhtml", "//x:section/x:p")
    (printed,) = book.print.xpath("//section[@id='a']/p")
    assert epub.text == printed.text == "Mr.\u00a0Smith"


def test_fancy_lists_keep_their_numbering(tmp_path: Path) -> None:
    body = (
        "(2) two\n(3) three\n\n"
        "iv. four\nv.  five\n\n"
        "B.  bee\nC.  sea\n\n"
        "B. Williams is prose.\n\n"
        "#. auto\n#. more\n\n"
        "(@) first example\n\nText.\n\n(@) second example\n\n"
        "```\na. stays code\n```\n"
    )
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    lists = [
        (ol.get("start"), ol.get("class"), [_text(li) for li in ol.xpath("x:li", namespaces=NS)])
        for ol in book.epub("a.xhtml", "//x:ol")
    ]
    assert lists == [
        ("2", None, ["two", "three"]),
        ("4", "lower-roman", ["four", "five"]),
        ("2", "upper-alpha", ["bee", "sea"]),
        (None, None, ["auto", "more"]),
        (None, None, ["first example"]),
        ("2", None, ["second example"]),
    ]
    assert "B. Williams is prose." in [_text(p) for p in book.epub("a.xhtml", "//x:p")]
    assert _text(book.epub("a.xhtml", "//x:pre")[0]) == "a. stays code"
    printed = [(ol.get("start"), ol.get("class")) for ol in book.print.xpath("//section//ol")]
    assert printed == [(s, c) for s, c, _ in lists]


def test_simple_and_multiline_tables(tmp_path: Path) -> None:
    simple = (
        "  Right     Left     Center     Default\n"
        "-------     ------ ----------   -------\n"
        "     12     12        12            12\n"
        "    123     123       123          123\n"
        "\n"
        "Table:  Demonstration of simple table syntax.\n\n"
    )
    multiline = (
        "-------------------------------------------------------------\n"
        " Centered   Default           Right Left\n"
        "  Header    Aligned         Aligned Aligned\n"
        "----------- ------- --------------- -------------------------\n"
        "   First    row                12.0 Example of a row that\n"
        "                                    spans multiple lines.\n"
        "\n"
        "  Second    row                 5.0 Here's another one.\n"
        "-------------------------------------------------------------\n"
    )
    book = editions(tmp_path, {"01-a.md": chapter(simple + multiline)})
    first, second = book.epub("a.xhtml", "//x:table")

    def cells(table: etree._Element, tag: str) -> list[tuple[str, str | None]]:
        return [(_text(c), c.get("style")) for c in table.xpath(f".//x:{tag}", namespaces=NS)]

    assert cells(first, "th") == [
        ("Right", "text-align:right"),
        ("Left", "text-align:left"),
        ("Center", "text-align:center"),
        ("Default", None),
    ]
    assert [c for c, _ in cells(first, "td")] == ["12"] * 4 + ["123"] * 4
    assert _text(first.xpath("x:caption", namespaces=NS)[0]) == (
        "Table 1: Demonstration of simple table syntax."
    )
    assert [c for c, _ in cells(second, "th")] == [
        "Centered Header",
        "Default Aligned",
        "Right Aligned",
        "Left Aligned",
    ]
    assert cells(second, "td")[3] == (
        "Example of a row that spans multiple lines.",
        "text-align:left",
    )
    assert len(book.print.xpath("//section[@id='a']//table")) == 2
    assert "-----" not in _text(book.files["a.xhtml"])


def test_implicit_header_references(tmp_path: Path) -> None:
    body = (
        "## The Rift\n\n## Other heading\n\n"
        "See [The Rift], [it][the rift] and [Other heading].\n\n"
        "[other heading]: #the-rift\n"
    )
    book = editions(tmp_path, {"01-a.md": chapter(body)})
    hrefs = [(a.get("href"), _text(a)) for a in book.epub("a.xhtml", "//x:p/x:a")]
    # An explicit reference definition wins over the heading, as in Pandoc.
    assert hrefs == [("#the-rift", "The Rift"), ("#the-rift", "it"), ("#the-rift", "Other heading")]
    assert [a.get("href") for a in book.print.xpath("//section[@id='a']//p/a")] == ["#the-rift"] * 3


def test_small_caps_and_underline_are_styled(tmp_path: Path) -> None:
    book = editions(tmp_path, {"01-a.md": chapter("[Tirana]{.smallcaps} and [this]{.underline}\n")})
    for edition in book.both("a.xhtml", "span[@class='smallcaps']"):
        assert edition == ["Tirana"]
    for sheet in ("print.css", "epub.css"):
        css = (default_styles_dir() / sheet).read_text()
        assert ".smallcaps { font-variant: small-caps; }" in css
        assert ".underline { text-decoration: underline; }" in css


PIECES = [
    ":::",
    "::: {.note}",
    "::: warning",
    "| ",
    "|",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "^",
    "~",
    "~~",
    "$",
    "$$",
    "\\",
    "\\begin{x}",
    "\\end{x}",
    "\\cmd{",
    "<!--",
    "-->",
    "<b>",
    "</div>",
    "[",
    "]",
    "(",
    ")",
    "{#id}",
    "{-}",
    "{=html}",
    "`",
    "```",
    "```{.py}",
    "@key",
    "[@a]",
    "(1) ",
    "a. ",
    "iv. ",
    "#. ",
    "(@) ",
    "B.  ",
    "- [ ] ",
    "# ",
    "## ",
    "Table: ",
    ": ",
    "+---+",
    "---",
    "--- ---",
    "word",
    "02-b.md#x",
    "[x](02-b.md)",
    "*",
    "_",
    "Term\n:   def",
]


@given(parts=st.lists(st.sampled_from(PIECES), max_size=40))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_mix_of_pandoc_syntax_loads_without_a_traceback(
    tmp_path: Path, parts: list[str]
) -> None:
    body = "".join(parts)
    assume("^[" not in body)  # inline notes are the footnote work's, tested there
    root = tmp_path / f"m{abs(hash(tuple(parts)))}"
    if root.exists():
        return
    write_book(root, {"01-a.md": chapter(body), "02-b.md": chapter("## X\n", "B")})
    try:
        check(root)
    except ManuscriptError as caught:  # diagnostics are fine; any other exception is a bug
        assert all(d.location is not None for d in caught.diagnostics)
