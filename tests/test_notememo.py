"""notememo.py lays each footnote out once per page while WeasyPrint measures the note area,
and the PDF comes out byte for byte as WeasyPrint's own measuring makes it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import weasyprint
import weasyprint.layout.block as block
from weasyprint.formatting_structure.boxes import FootnoteAreaBox

from bookbuild import notememo, pdf
from bookbuild.pipeline import build
from tests.conftest import FIXTURE, output

BOOK_YAML = (
    "title: Notes\nlanguage: en\nidentifier: urn:uuid:0d6e2c4a-8b1f-4e3a-9c5d-7f8a9b0c1d2e\n"
)

_LONG = " ".join(["A note that runs on over several lines of the foot of the page."] * 6)


def _chapter(title: str, paragraphs: int) -> str:
    """Return a chapter dense with notes: short, long, with a list, with emphasis."""
    lines = [f"---\ntitle: {title}\n---\n"]
    for n in range(paragraphs):
        lines.append(
            f"Paragraph {n} tells its part of the story at some length, so that lines and "
            f"pages fill up.^[Short note {n}.] It goes on with a second claim,^[{_LONG}] "
            f"and a third one that needs a source^[*Annals*, book {n}, with a word in "
            f"**bold** and `code`.] before it ends on a longer sentence that wraps across "
            f"the measure of the page more than once, as prose does.^[See also note {n}.]\n"
        )
        if n % 7 == 3:
            lines.append("- a list item\n- another one^[A note in a list.]\n")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dense")
    (root / "chapters").mkdir()
    (root / "book.yaml").write_text(BOOK_YAML)
    (root / "chapters" / "01-one.md").write_text(_chapter("One", 40))
    (root / "chapters" / "02-two.md").write_text(_chapter("Two", 25))
    return root


def _pdf_bytes(book: Path, out: Path, *, memo: bool, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        if not memo:
            patch.setattr(pdf, "remembering_notes", contextlib.nullcontext)
        result = build(book, out, ("pdf",))
    return output(result, ".pdf").read_bytes()


@pytest.mark.parametrize("which", ["dense", "fixture"])
def test_remembered_notes_give_the_same_pdf_byte_for_byte(
    which: str, dense: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = dense if which == "dense" else FIXTURE
    remembered = _pdf_bytes(book, tmp_path / "on", memo=True, monkeypatch=monkeypatch)
    measured = _pdf_bytes(book, tmp_path / "off", memo=False, monkeypatch=monkeypatch)
    assert remembered == measured


def test_each_note_is_laid_out_once_per_page_while_the_area_is_measured(
    dense: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = {True: 0, False: 0}
    original = block.block_level_layout
    memo = True

    def counting(context: object, box: object, *args: object, **kwargs: object) -> object:
        containing = args[2] if len(args) > 2 else kwargs.get("containing_block")
        if isinstance(containing, FootnoteAreaBox):
            counts[memo] += 1
        return original(context, box, *args, **kwargs)

    monkeypatch.setattr(block, "block_level_layout", counting)
    _pdf_bytes(dense, tmp_path / "on", memo=True, monkeypatch=monkeypatch)
    memo = False
    _pdf_bytes(dense, tmp_path / "off", memo=False, monkeypatch=monkeypatch)
    # Without the memo, every measure lays out every note of the page so far, again.
    assert counts[False] > 2 * counts[True] > 0


def test_notememo_refuses_a_weasyprint_it_was_not_written_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert weasyprint.__version__ == notememo.PINNED_WEASYPRINT == "70.0"
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with (
        pytest.raises(RuntimeError, match=r"written for WeasyPrint 70\.0"),
        notememo.remembering_notes(),
    ):
        pass
