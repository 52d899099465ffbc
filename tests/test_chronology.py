"""The chronology's order: disjoint dates by date, overlapping ones as the manuscript tells them."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from bookbuild.chronology import chronological_order, extract_chronology
from bookbuild.dates import DateError, EdtfDate, parse_date
from bookbuild.lint import lint_eras
from bookbuild.manuscript import load_manuscript
from bookbuild.pipeline import BuildResult, build
from tests.conftest import DATA, MANUSCRIPT, output

CAUSES = DATA / "chronology"
BOOK_YAML = "title: T\nlanguage: en\nidentifier: urn:uuid:12345678-1234-1234-1234-123456789abc\n"

# The fixture's whole chronology, as a historian would order it.
EXPECTED = [
    "Death of Stalin",
    "Khrushchev becomes First Secretary",
    "The pact is signed",  # told last, in the notes: it goes by its date
    "Hoxha speaks against Soviet errors",
    "Hoxha calls the ambassador a saboteur",
    "Fall of Khrushchev",
    "Hoxha welcomes the fall",  # told first, dated '1964', but sort="1964-11"
    "Dresden meeting",  # told last; March 1968 comes before the August invasion
    "Invasion of Czechoslovakia",
    "Albania leaves the pact",
    "Relations restored",
    "Embassy staff tripled",
    "Annexation of Crimea",
    "Albania opposes the annexation",
    "Invasion of Ukraine",
    "Albania imposes sanctions",
    "Albania listed as unfriendly",
    "Bucha killings condemned",
]

# The six cases of issue 17: each cause, then what the old order put before it.
CASES = {
    "1968 withdrawal after the August invasion": (
        "Invasion of Czechoslovakia",
        "Albania leaves the pact",
    ),
    "1990s staff after 1990 restoration": ("Relations restored", "Embassy staff tripled"),
    "2014 opposition after the annexation": (
        "Annexation of Crimea",
        "Albania opposes the annexation",
    ),
    "2022 responses after 24 February 2022": (
        "Invasion of Ukraine",
        "Albania imposes sanctions",
        "Albania listed as unfriendly",
        "Bucha killings condemned",
    ),
    "1953 First Secretary after Stalin's death": (
        "Death of Stalin",
        "Khrushchev becomes First Secretary",
    ),
    "later in 1960 after July 1960": (
        "Hoxha speaks against Soviet errors",
        "Hoxha calls the ambassador a saboteur",
    ),
}


# -- the order itself, on dates ---------------------------------------------------------------


def _point(year: int, month: int | None, day: int | None) -> str:
    text = f"{year:04d}"
    if month is not None:
        text += f"-{month:02d}"
        if day is not None:
            text += f"-{day:02d}"
    return text


def _date_texts(first: int, last: int, *, open_ends: bool = True) -> st.SearchStrategy[str]:
    """Return EDTF dates of every precision between two years: points, intervals, open ends."""
    points = st.builds(
        _point,
        st.integers(first, last),
        st.none() | st.integers(1, 12),
        st.none() | st.integers(1, 28),
    )
    return st.one_of(
        points,
        st.builds(lambda a, b: f"{min(a, b)}/{max(a, b)}", points, points),
        points.map(lambda p: f"{p}/.." if open_ends else p),
        points.map(lambda p: f"../{p}" if open_ends else p),
        st.integers(first, last).map(lambda y: f"{y // 10}X"),  # the decade of that year
    )


def _parsed(text: str) -> EdtfDate | None:
    try:
        return parse_date(text)
    except DateError:  # an interval of mixed precision may end before it starts
        return None


def _dates(
    first: int = 1950, last: int = 1962, *, size: int = 40, open_ends: bool = True
) -> st.SearchStrategy[list[EdtfDate]]:
    date = (
        _date_texts(first, last, open_ends=open_ends).map(_parsed).filter(lambda d: d is not None)
    )
    return st.lists(date, max_size=size)  # type: ignore[arg-type]


def insertion_order(dates: Sequence[EdtfDate]) -> list[int]:
    """Apply the README's rule literally: each event, as told, goes before the first placed
    event that lies wholly after it (O(n^2), the reference for the fast version)."""
    line: list[int] = []
    for i, date in enumerate(dates):
        at = next((k for k, j in enumerate(line) if date.precedes(dates[j])), len(line))
        line.insert(at, i)
    return line


@given(_dates())
def test_the_order_holds_every_event_once_and_is_the_same_every_time(
    dates: list[EdtfDate],
) -> None:
    order = chronological_order(dates)
    assert sorted(order) == list(range(len(dates)))
    assert chronological_order([parse_date(d.text) for d in dates]) == order


@given(_dates())
def test_disjoint_dates_are_always_in_date_order(dates: list[EdtfDate]) -> None:
    place = {event: n for n, event in enumerate(chronological_order(dates))}
    for i, a in enumerate(dates):
        for j, b in enumerate(dates):
            if a.precedes(b):
                assert place[i] < place[j], (a.text, b.text)


@given(_dates())
def test_overlapping_dates_leave_manuscript_order_only_for_a_date_between_them(
    dates: list[EdtfDate],
) -> None:
    order = chronological_order(dates)
    place = {event: n for n, event in enumerate(order)}
    for i, a in enumerate(dates):
        for j in range(i + 1, len(dates)):
            b = dates[j]
            if a.precedes(b) or b.precedes(a) or place[i] < place[j]:
                continue
            # j, told after i, was placed before it: some event dated wholly after j sits
            # between them, and keeping i before j would have broken that date order.
            between = order[place[j] + 1 : place[i]]
            assert any(b.precedes(dates[k]) for k in between), (a.text, b.text)


@given(_dates())
def test_the_fast_order_is_the_insertion_rule(dates: list[EdtfDate]) -> None:
    assert chronological_order(dates) == insertion_order(dates)


def _independent_chapters() -> st.SearchStrategy[tuple[list[list[EdtfDate]], list[int]]]:
    """Return chapters whose dates no other chapter's overlap, and an order to tell them in."""

    def chapters(count: int) -> st.SearchStrategy[tuple[list[list[EdtfDate]], list[int]]]:
        # Chapter n's dates lie in the decade 1900 + 20n, and none is open-ended, so no two
        # chapters' dates overlap.
        decades = [
            _dates(1900 + 20 * n, 1909 + 20 * n, size=8, open_ends=False) for n in range(count)
        ]
        return st.tuples(st.tuples(*decades).map(list), st.permutations(range(count)))

    return st.integers(1, 5).flatmap(chapters)


@settings(max_examples=50)  # each example draws up to five lists of dates
@given(_independent_chapters())
def test_chapters_that_share_no_dates_can_be_told_in_any_order(
    drawn: tuple[list[list[EdtfDate]], list[int]],
) -> None:
    chapters, shuffled = drawn

    def chronology(chapter_order: Sequence[int]) -> list[tuple[int, int]]:
        events = [(n, k, date) for n in chapter_order for k, date in enumerate(chapters[n])]
        return [events[i][:2] for i in chronological_order([e[2] for e in events])]

    assert chronology(shuffled) == chronology(range(len(chapters)))


@pytest.mark.parametrize(
    ("told", "expected"),
    [
        (["1968-08-20/1968-08-21", "1968"], ["1968-08-20/1968-08-21", "1968"]),
        (["1968", "1968-08-20/1968-08-21"], ["1968", "1968-08-20/1968-08-21"]),
        (["1990", "199X"], ["1990", "199X"]),
        (["1960-07", "1960", "1960/1961", "1961-10"], ["1960-07", "1960", "1960/1961", "1961-10"]),
        (["2014/..", "1990", "2014-03"], ["1990", "2014/..", "2014-03"]),
        (["1970", "1960"], ["1960", "1970"]),
        # A cycle: the invasion before the withdrawal (told so), the withdrawal before March
        # (told so), March before the invasion (by date). The date order is kept, and the
        # later-told March event goes before the first event dated wholly after it.
        (
            ["1968-08-20/1968-08-21", "1968", "1968-03"],
            ["1968-03", "1968-08-20/1968-08-21", "1968"],
        ),
    ],
)
def test_examples_of_the_order(told: list[str], expected: list[str]) -> None:
    dates = [parse_date(t) for t in told]
    assert [told[i] for i in chronological_order(dates)] == expected


def test_ten_thousand_nested_events_are_ordered() -> None:
    # Nested and overlapping spans told in reverse date order: the worst case for insertion.
    # (How fast is for the benchmark to say; this checks the large case is right.)
    texts = [
        f"{1000 + (n % 997)}" if n % 3 else f"{1000 + n % 900}/{1100 + n % 900}"
        for n in range(10_000)
    ]
    dates = [parse_date(t) for t in reversed(texts)]
    order = chronological_order(dates)
    assert sorted(order) == list(range(10_000))
    spans = [dates[i].span() for i in order]
    # No event is placed after one that lies wholly after it: every later event ends on or
    # after each earlier event's start (checked against the running minimum of later ends).
    later_end = spans[-1][1]
    for start, end in reversed(spans[:-1]):
        assert later_end >= start
        later_end = min(later_end, end)


# -- the author's `sort` date and the era check ------------------------------------------------


def write_manuscript(root: Path, chapters: dict[str, str]) -> Path:
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(BOOK_YAML)
    for name, text in chapters.items():
        (root / "chapters" / name).write_text(text)
    return root


@pytest.mark.parametrize(("sort", "expected"), [("", ["b", "a"]), (' sort="1959-06"', ["a", "b"])])
def test_sort_attribute_places_an_event_by_that_date(
    tmp_path: Path, sort: str, expected: list[str]
) -> None:
    root = write_manuscript(
        tmp_path,
        {
            "01-a.md": "---\ntitle: A\n---\n"
            f'[b]{{.event date="1959"{sort}}} [a]{{.event date="1959-05"}}\n'
        },
    )
    book, diagnostics = load_manuscript(root)
    assert diagnostics == ()
    chronology = extract_chronology(book)
    assert [e.title for e in chronology] == expected
    assert [e.date.text for e in chronology if e.title == "b"] == ["1959"]  # shown as written


@pytest.mark.parametrize(
    ("eras", "overlaps"),
    [
        (("1944/1961", "1961/1978"), False),  # a shared boundary year, as reigns are written
        (("1944/1961-06", "1961-06/1978"), False),  # a shared month
        (("1944/1961", "1961-03/1978"), False),  # the change may fall in March 1961
        (("1944/1965", "1961/1978"), True),  # a real overlap
        (("1944/1961-10", "1961-06/1978"), True),  # October cannot precede June
        (("1944/1960", "1961/1978"), False),
    ],
)
def test_eras_that_share_only_a_boundary_do_not_overlap(
    tmp_path: Path, eras: tuple[str, str], overlaps: bool
) -> None:
    root = write_manuscript(
        tmp_path,
        {
            f"0{n}-e{n}.md": f"---\ntitle: E{n}\nera: {era}\n---\nText.\n"
            for n, era in enumerate(eras)
        },
    )
    book, _ = load_manuscript(root)
    assert [d.code for d in lint_eras(book)] == (["BB209"] if overlaps else [])


# -- the six cases, read back from the built PDF and EPUB --------------------------------------


@pytest.fixture(scope="module")
def causes_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(CAUSES, tmp_path_factory.mktemp("causes"), ("pdf", "epub"))


def pdf_chronology(pdf_path: Path, until: str = "afterword") -> str:
    """Return the text of the PDF's chronology pages, read with pdfplumber."""
    reader = pypdf.PdfReader(pdf_path)
    pages = {
        name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()
    }
    with pdfplumber.open(pdf_path) as pdf:
        texts = [_event_column(p) for p in pdf.pages[pages["chronology"] : pages[until]]]
    return " ".join(" ".join(texts).split())


def _event_column(page: pdfplumber.page.Page) -> str:
    """Return the text of a chronology page's Event column, its words joined where hyphenated.

    The column runs from its header to the next one (Source, or Page), which every page repeats;
    a title may wrap in it, and a hyphen the layout added (drawn as U+2010) ends the line.
    """
    words = page.extract_words()
    headers = [w for w in words if w["text"] in ("Date", "Event", "Source", "Page")]
    event = next(w for w in headers if w["text"] == "Event")
    # The next header on the header row ("Page" also starts the running foot).
    row = [w for w in headers if abs(w["top"] - event["top"]) < 2]
    right = min(w["x0"] for w in row if w["x0"] > event["x0"])
    text = page.crop((event["x0"] - 1, 0, right - 1, page.height)).extract_text()
    return text.replace("\u2010\n", "")


def epub_chronology(epub_path: Path) -> list[str]:
    """Return the event titles of the EPUB's chronology table, read with lxml."""
    with zipfile.ZipFile(epub_path) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith("chronology.xhtml")]
        root = etree.fromstring(zf.read(name))
    # The title is the cell's link; a context entry's label stands before it.
    cells = root.xpath("//x:td[@class='chrono-title']/x:a", namespaces={"x": root.nsmap[None]})
    # The EPUB puts soft hyphens into table cells for small screens; they read as nothing.
    return [" ".join("".join(cell.itertext()).replace("\u00ad", "").split()) for cell in cells]


def in_pdf_order(text: str, titles: Sequence[str]) -> list[str]:
    found = {title: text.find(title) for title in titles}
    assert -1 not in found.values(), found
    return sorted(titles, key=found.__getitem__)


def test_the_fixture_builds_with_no_diagnostic_for_its_shared_boundary_eras(
    causes_build: BuildResult,
) -> None:
    assert causes_build.diagnostics == ()


def test_the_whole_chronology_is_in_cause_order_in_every_output(
    causes_build: BuildResult,
) -> None:
    book, _ = load_manuscript(CAUSES)
    assert [e.title for e in extract_chronology(book)] == EXPECTED
    assert epub_chronology(output(causes_build, ".epub")) == EXPECTED
    assert in_pdf_order(pdf_chronology(output(causes_build, ".pdf")), EXPECTED) == EXPECTED


@pytest.mark.parametrize("case", CASES)
def test_each_case_is_in_cause_order(causes_build: BuildResult, case: str) -> None:
    titles = list(CASES[case])
    book, _ = load_manuscript(CAUSES)
    chronology = [e.title for e in extract_chronology(book) if e.title in titles]
    assert chronology == titles
    assert [t for t in epub_chronology(output(causes_build, ".epub")) if t in titles] == titles
    assert in_pdf_order(pdf_chronology(output(causes_build, ".pdf")), titles) == titles


def test_the_old_order_got_every_case_wrong() -> None:
    """Sorting by start date alone, as before, puts each response before its cause."""
    book, _ = load_manuscript(CAUSES)
    events = [e for c in book.chapters for e in c.events]
    by_start = [e.title for e in sorted(events, key=lambda e: e.date.sort_key())]
    for titles in CASES.values():
        assert [t for t in by_start if t in titles] != list(titles)


# The same six cases as the briefing tells them.
BRIEFING_CASES = [
    ("Warsaw Pact invasion of Czechoslovakia", "Albania withdraws from the Warsaw Pact"),
    ("Diplomatic relations restored", "Russian embassy staff in Tirana tripled"),
    ("Russia annexes Crimea", "Albania opposes the annexation of Crimea"),
    (
        "Russian invasion of Ukraine",
        "Albania imposes sanctions on Russia",
        "Russia lists Albania as unfriendly",
        "Albanian leaders condemn the Bucha massacre",
    ),
    ("Death of Stalin", "Khrushchev becomes First Secretary"),
    (
        "Hoxha speaks against Soviet ideological errors",
        "Hoxha calls the Soviet ambassador a saboteur",
    ),
]


def test_the_briefing_tells_the_six_cases_in_cause_order(briefing_build: BuildResult) -> None:
    book, _ = load_manuscript(MANUSCRIPT)
    chronology = [e.title for e in extract_chronology(book)]
    epub = epub_chronology(output(briefing_build, ".epub"))
    pdf = pdf_chronology(output(briefing_build, ".pdf"), until="glossary")
    for titles in BRIEFING_CASES:
        assert [t for t in chronology if t in titles] == list(titles)
        assert [t for t in epub if t in titles] == list(titles)
        assert in_pdf_order(pdf, titles) == list(titles)
