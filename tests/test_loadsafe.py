"""Manuscripts from strangers: nothing read from outside the book, bounded cost, no traceback."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bookbuild import lint, markup
from bookbuild.cli import main
from tests.conftest import FIXTURE
from tests.test_stages import BOOK_YAML, write_manuscript

ROOT = Path(__file__).parents[1]
SECRET = "TOP-SECRET-TOKEN"
CHAPTER = "---\ntitle: A\n---\nText of the book.\n"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def run_limited(argv: list[str], cwd: Path, timeout: float = 30) -> tuple[int, str, float]:
    """Run the CLI in a child process capped at 1 GiB of address space; return code, stderr, s."""
    limit = 1 << 30
    code = (
        "import resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
        "from bookbuild.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stderr, time.perf_counter() - start


def every_output_byte(out: Path) -> bytes:
    """Return the bytes of every output file, EPUB members unpacked."""
    data = b""
    for path in (p for p in out.rglob("*") if p.is_file()):
        data += path.read_bytes()
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as epub:
                data += b"".join(epub.read(name) for name in epub.namelist())
    return data


# The reading policy


def test_links_out_of_the_book_are_refused_and_nothing_outside_reaches_an_output(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(f"---\ntitle: Secret\n---\n{SECRET}\n")
    (outside / "glossary.yaml").write_text(f"- term: {SECRET}\n  description: {SECRET}\n")
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    (root / "chapters" / "02-secret.md").symlink_to(outside / "secret.md")
    (root / "glossary.yaml").symlink_to(outside / "glossary.yaml")
    code, _, err = run(["check", str(root)])
    refused = "leads outside the manuscript folder (through a symbolic link); not read [BB114]"
    assert (code, err) == (
        1,
        f"{root}/chapters/02-secret.md: error: {refused}\n{root}/glossary.yaml: error: {refused}\n",
    )
    out = tmp_path / "out"
    assert run(["build", str(root), "--out", str(out), "--format", "epub,html"])[0] == 1
    assert not out.exists() or SECRET.encode() not in every_output_byte(out)


def test_book_yaml_and_the_chapters_folder_cannot_lead_outside_either(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_manuscript(outside, {"01-secret.md": f"---\ntitle: {SECRET}\n---\n{SECRET}\n"})
    root = tmp_path / "m"
    root.mkdir()
    (root / "book.yaml").symlink_to(outside / "book.yaml")
    (root / "chapters").symlink_to(outside / "chapters")
    code, _, err = run(["check", str(root)])
    refused = "leads outside the manuscript folder (through a symbolic link); not read [BB114]"
    assert (code, err) == (
        1,
        f"{root}/book.yaml: error: {refused}\n{root}/chapters: error: {refused}\n",
    )


def test_links_that_stay_inside_the_book_are_read(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    (root / "drafts").mkdir()
    (root / "drafts" / "b.md").write_text("---\ntitle: B\n---\nThe linked chapter.\n")
    (root / "chapters" / "02-b.md").symlink_to(root / "drafts" / "b.md")
    os.rename(root / "chapters", root / "real-chapters")
    (root / "chapters").symlink_to("real-chapters")
    out = tmp_path / "out"
    assert run(["build", str(root), "--out", str(out), "--format", "epub"])[0] == 0
    assert b"The linked chapter." in every_output_byte(out)


def test_a_named_pipe_a_socket_and_dev_zero_are_refused_at_once(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    os.mkfifo(root / "chapters" / "02-pipe.md")
    os.mkfifo(root / "glossary.yaml")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(root / "chapters" / "03-socket.md"))
        (root / "chapters" / "04-zero.md").symlink_to("/dev/zero")
        code, err, seconds = run_limited(["check", "m"], cwd=tmp_path)
    finally:
        server.close()
    assert code == 1, err
    assert err == (
        "m/chapters/02-pipe.md: error: is a named pipe, not a regular file [BB115]\n"
        "m/chapters/03-socket.md: error: is a socket, not a regular file [BB115]\n"
        "m/chapters/04-zero.md: error: leads outside the manuscript folder (through a symbolic "
        "link); not read [BB114]\n"
        "m/glossary.yaml: error: is a named pipe, not a regular file [BB115]\n"
    )
    assert seconds < 30


def test_a_device_inside_the_book_is_refused(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    try:
        os.mknod(root / "chapters" / "02-zero.md", 0o600 | 0o020000, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device needs CAP_MKNOD")
    code, _, err = run(["check", str(root)])
    assert (code, err) == (
        1,
        f"{root}/chapters/02-zero.md: error: is a device, not a regular file [BB115]\n",
    )


def test_a_file_over_the_size_limit_is_refused_without_being_read(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    with open(root / "chapters" / "02-big.md", "wb") as big:
        big.truncate(2 * 1024 * 1024 + 1)  # sparse: costs no disk
    code, err, _ = run_limited(["check", "m"], cwd=tmp_path)
    assert (code, err) == (
        1,
        "m/chapters/02-big.md: error: file is larger than the limit of 2 MiB; raise "
        "`limits: file-size` in book.yaml to read it [BB116]\n",
    )


def test_hidden_lock_and_backup_files_are_not_chapters(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    chapters = root / "chapters"
    (chapters / ".#01-a.md").symlink_to("user@host.1234:1700000000")  # Emacs' lock: dangling
    for name in ("#01-a.md#", "01-a.md~", ".01-a.md.swp", ".hidden.md"):
        (chapters / name).write_bytes(b"\xff not a chapter")
    out = tmp_path / "out"
    assert run(["check", str(root)]) == (0, "", "")
    assert run(["build", str(root), "--out", str(out), "--format", "epub"])[0] == 0
    with zipfile.ZipFile(out / "t.epub") as epub:
        pages = [n for n in epub.namelist() if n.endswith(".xhtml") and "/a." in f"/{n}"]
    assert pages == ["EPUB/a.xhtml"]


def test_a_file_name_that_is_not_utf8_still_gives_valid_json(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER})
    name = os.path.join(os.fsencode(root / "chapters"), b"\xff-b.md")
    with open(name, "wb") as chapter:
        chapter.write(b"---\ntitle: B\nmood: odd\n---\nText.\n")
    code, out, _ = run(["check", str(root), "--format", "json"])
    assert code == 0
    (warning,) = json.loads(out.encode("utf-8"))
    assert warning["path"] == f"{root}/chapters/\\xff-b.md"


def test_chapter_file_names_with_nothing_to_slug_give_valid_ids(tmp_path: Path) -> None:
    # Hypothesis found `\x1f.md`: the id was "chapter-\x1f", which no XML attribute may hold.
    names = ["\x1f.md", "\x1e.md", "——.md", "07.md"]
    root = write_manuscript(tmp_path / "m", dict.fromkeys(names, CHAPTER))
    code, _, err = run(["build", str(root), "--out", str(tmp_path / "out"), "--format", "epub"])
    assert code == 0, err
    (epub_path,) = (tmp_path / "out").glob("*.epub")
    with zipfile.ZipFile(epub_path) as epub:
        files = [n for n in epub.namelist() if n.startswith("EPUB/chapter-")]
    assert len(files) == len(names)
    assert all(re.fullmatch(r"EPUB/chapter-[0-9a-f]+\.xhtml", n) for n in files), files


# YAML, text and limits


def test_yaml_alias_bomb_stays_small_and_fast(tmp_path: Path) -> None:
    levels = [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    bomb = "\n".join(levels)
    assert len(bomb) < 700
    book = BOOK_YAML + f"slug: &s [{', '.join(['*s'] * 2)}]\n"
    root = write_manuscript(tmp_path / "m", {"01-a.md": f"---\n{bomb}\ntitle: A\n---\nText.\n"})
    (root / "book.yaml").write_text(book)
    code, err, seconds = run_limited(["check", "m"], cwd=tmp_path)
    assert code == 1
    assert err.splitlines() == [
        "m/book.yaml:4:7: error: YAML anchors (&name) are not allowed: write the value out [BB102]",
        "m/chapters/01-a.md:2:5: error: YAML anchors (&name) are not allowed: write the value out "
        "[BB102]",
    ]
    assert seconds < 30


def test_check_json_survives_an_impossible_date(tmp_path: Path) -> None:
    root = write_manuscript(tmp_path / "m", {"01-a.md": CHAPTER}, BOOK_YAML + "date: 2025-02-30\n")
    code, out, _ = run(["check", str(root), "--format", "json"])
    assert code == 1
    assert '"code": "BB105"' in out and '"line": 4' in out


def test_a_lone_surrogate_escape_is_refused_at_its_column(tmp_path: Path) -> None:
    chapter = '---\ntitle: "Broken \\ud800 title"\n---\nText.\n'
    root = write_manuscript(tmp_path / "m", {"01-a.md": chapter})
    code, _, err = run(["build", str(root), "--out", str(tmp_path / "out"), "--format", "epub"])
    assert (code, err) == (
        1,
        f"{root}/chapters/01-a.md:2:18: error: invalid YAML: while parsing a quoted scalar: "
        "found invalid Unicode character escape code [BB102]\n",
    )


def test_characters_xml_cannot_hold_are_replaced_in_every_output(tmp_path: Path) -> None:
    chapter = '---\ntitle: "Ti\\x01tle"\n---\nA line\vbroken in Word, a \uffff and \x07.\n'
    root = write_manuscript(tmp_path / "m", {"01-a.md": chapter})
    out = tmp_path / "out"
    code, _, err = run(["build", str(root), "--out", str(out), "--format", "epub,html"])
    assert code == 0
    assert err.count("[BB117]") == 2
    with zipfile.ZipFile(out / "t.epub") as epub:
        page = etree.fromstring(epub.read("EPUB/a.xhtml"))  # a strict XML parser
    text = "".join(page.itertext())
    assert "A line broken in Word, a \ufffd and \ufffd." in text
    assert "Ti\ufffdtle" in text
    etree.fromstring((out / "html" / "t.html").read_bytes(), etree.HTMLParser())


def test_six_hundred_nested_emphases_are_refused_at_their_line(tmp_path: Path) -> None:
    body = "Fine.\n\n" + "*" * 600 + "deep" + "*" * 600 + "\n"
    write_manuscript(tmp_path / "m", {"01-a.md": f"---\ntitle: A\n---\n{body}"})
    code, err, seconds = run_limited(
        ["build", "m", "--out", "out", "--format", "epub,html"], cwd=tmp_path
    )
    assert (code, err) == (
        1,
        "m/chapters/01-a.md:6:1: error: text nested 301 levels deep (quotes, lists, emphasis, "
        "spans); the limit is 64, set by `limits: nesting` in book.yaml [BB121]\n",
    )
    assert seconds < 30


def test_nesting_limit_can_be_raised_within_its_ceiling(tmp_path: Path) -> None:
    body = "*" * 140 + "deep" + "*" * 140 + "\n"
    book = BOOK_YAML + "limits:\n  nesting: 100\n"
    root = write_manuscript(tmp_path / "m", {"01-a.md": f"---\ntitle: A\n---\n{body}"}, book)
    out = tmp_path / "out"
    assert run(["build", str(root), "--out", str(out), "--format", "epub"])[:2] == (
        0,
        "wrote " + str(out / "t.epub") + "\n",
    )


def test_a_forty_kilobyte_word_is_refused_before_layout(tmp_path: Path) -> None:
    write_manuscript(tmp_path / "m", {"01-a.md": "---\ntitle: A\n---\nA " + "x" * 40_000})
    code, err, seconds = run_limited(["build", "m", "--out", "out"], cwd=tmp_path)
    assert (code, err) == (
        1,
        "m/chapters/01-a.md:4:3: error: 40000 characters without a space ('xxxxxxxxxxxxxxxxxxxx"
        "...'); the limit is 500, set by `limits: word-length` in book.yaml [BB122]\n",
    )
    assert seconds < 30


def old_span_starts(content: str) -> list[int]:
    """Return the span starts as the quadratic walk back from every `]{` found them."""
    starts = []
    for match in re.finditer(r"(?<!\\)\]\{", content):
        depth, i = 0, match.start()
        while i >= 0:
            char = content[i]
            if char == "]" and (i == 0 or content[i - 1] != "\\"):
                depth += 1
            elif char == "[" and (i == 0 or content[i - 1] != "\\"):
                depth -= 1
                if depth == 0:
                    break
            i -= 1
        starts.append(max(i, 0))
    return sorted(starts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]{}\\a ", max_size=40))
def test_span_starts_in_one_pass_agree_with_the_walk_back(content: str) -> None:
    assert markup._span_starts(content) == old_span_starts(content)


def test_a_long_paragraph_of_brackets_checks_in_linear_time(tmp_path: Path) -> None:
    spans = "[a]{.b} " * 15_000  # 120 KB; took minutes when each `]{` walked back
    brackets = "a]{ " * 30_000
    chapters = {
        "01-a.md": f"---\ntitle: A\n---\n{spans}\n",
        "02-b.md": f"---\ntitle: B\n---\n{brackets}\n",
    }
    write_manuscript(tmp_path / "m", chapters)
    code, err, seconds = run_limited(["check", "m"], cwd=tmp_path)
    assert (code, err) == (0, "")
    assert seconds < 30


def test_a_large_unused_glossary_checks_in_linear_time(tmp_path: Path) -> None:
    glossary = "".join(f"- term: Term{n} word\n  description: D.\n" for n in range(3000))
    prose = ("Some prose about Term1 word and other things. " * 20 + "\n\n") * 300
    root = write_manuscript(tmp_path / "m", {"01-a.md": f"---\ntitle: A\n---\n{prose}"})
    (root / "glossary.yaml").write_text(glossary)
    code, err, seconds = run_limited(["check", "m"], cwd=tmp_path)
    assert code == 0
    assert err.count("[BB403]") == 2999  # about a minute when each unused term searched the text
    assert seconds < 30


# Ids


def test_author_ids_stay_unique_in_both_outputs(tmp_path: Path) -> None:
    chapter = (
        "---\ntitle: A\n---\n{#intro}\nA [phrase]{#phrase lang=fr} and [a link](#phrase){#ln}.\n\n"
        '[It happened]{.event date="1959" #told}.\n'
    )
    root = write_manuscript(tmp_path / "m", {"01-a.md": chapter})
    out = tmp_path / "out"
    assert run(["build", str(root), "--out", str(out), "--format", "epub,html"])[0] == 0
    html = etree.fromstring((out / "html" / "t.html").read_bytes(), etree.HTMLParser())
    ids = html.xpath("//@id")
    assert {"intro", "phrase", "ln", "told"} <= set(ids)
    assert len(ids) == len(set(ids))


# Bugs become diagnostics


def test_an_unexpected_exception_names_its_stage_instead_of_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr("bookbuild.pipeline.build_epub_bytes", broken)
    out = tmp_path / "out"
    code, _, err = run(["build", str(FIXTURE), "--out", str(out), "--format", "epub"])
    assert (code, err) == (
        1,
        f"{FIXTURE}: error: internal error while writing the EPUB: RuntimeError: boom; please "
        "report this, with the manuscript if you can (run with -v for the traceback) [BB990]\n",
    )
    assert not out.exists()
    code, _, err = run(["-v", "build", str(FIXTURE), "--out", str(out), "--format", "epub"])
    assert code == 1 and "Traceback" in err and 'raise RuntimeError("boom")' in err


def test_an_unexpected_exception_in_check_is_json_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("bookbuild.pipeline.lint_book", broken)
    code, out, _ = run(["check", str(FIXTURE), "--format", "json"])
    assert code == 1
    assert '"code": "BB990"' in out
    assert "internal error while checking the manuscript: RecursionError" in out


# Generated manuscripts

_NAME_CHARS = st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",))
_MARKDOWN = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("*_[]{}#.=!()<>`^~|-:\"' \n\\&0123456789ae")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=200,
)
_YAML_LINES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "title: A",
                "era: 1956/1961",
                'era: "x"',
                "id: a-b",
                "id: [1]",
                "summary: &a x",
                "title: *a",
                "date: 2025-02-30",
                "slug: Ünï",
                'title: "\\ud800"',
                "title: !!binary aGk=",
                "limits: {nesting: 3}",
                "authors: [a, [b]]",
            ]
        ),
        st.text(_NAME_CHARS, max_size=30),
    ),
    max_size=5,
)


@st.composite
def manuscripts(draw: st.DrawFn) -> dict[str, str]:
    """Return a manuscript tree as {relative path: text}: partly valid, partly anything."""
    lines = "\n".join(draw(_YAML_LINES))
    files = {
        "book.yaml": draw(
            st.sampled_from([BOOK_YAML, BOOK_YAML + lines, draw(st.text(_NAME_CHARS, max_size=80))])
        )
    }
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.text(_NAME_CHARS, min_size=1, max_size=12)).replace(".", "_")
        extra = "\n".join(draw(_YAML_LINES))
        front = draw(st.sampled_from(["title: A", f"title: A\n{extra}", extra]))
        files[f"chapters/{name}.md"] = f"---\n{front}\n---\n{draw(_MARKDOWN)}\n"
    if draw(st.booleans()):
        files["glossary.yaml"] = "- term: T\n  description: D\n" + "\n".join(draw(_YAML_LINES))
    return files


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(path.name.encode()) < 250:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")


def answers_cleanly(argv: list[str]) -> int:
    """Run the command line; assert it exits 0 or 1, with no traceback or internal error."""
    start = time.perf_counter()
    code, out, err = run(argv)
    assert code in (0, 1)
    assert "Traceback" not in err and "BB990" not in err + out, err
    assert time.perf_counter() - start < 30
    return code


def generated(examples: int) -> settings:
    """Return the settings of a test fed generated manuscripts: slow examples are fine."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@generated(60)
@given(files=manuscripts())
def test_generated_manuscripts_check_cleanly(tmp_path: Path, files: dict[str, str]) -> None:
    root = tmp_path / "check"
    shutil.rmtree(root, ignore_errors=True)
    write_tree(root, files)
    answers_cleanly(["check", str(root)])
    answers_cleanly(["check", str(root), "--format", "json"])


@generated(30)
@given(files=manuscripts())
def test_generated_manuscripts_build_epub_and_html_cleanly(
    tmp_path: Path, files: dict[str, str]
) -> None:
    root = tmp_path / "build"
    shutil.rmtree(root, ignore_errors=True)
    write_tree(root, files)
    answers_cleanly(["build", str(root), "--out", str(root / "out"), "--format", "epub,html"])


@generated(3)
@given(body=_MARKDOWN)
def test_generated_bodies_build_a_pdf_cleanly(tmp_path: Path, body: str) -> None:
    root = tmp_path / "pdf"
    shutil.rmtree(root, ignore_errors=True)
    write_tree(root, {"book.yaml": BOOK_YAML, "chapters/01-a.md": f"---\ntitle: A\n---\n{body}\n"})
    answers_cleanly(["build", str(root), "--out", str(root / "out"), "--format", "pdf"])


@settings(max_examples=300, deadline=None)
@given(
    forms=st.lists(st.text(alphabet="ab -", min_size=1, max_size=5), min_size=1, max_size=4),
    text=st.text(alphabet="ab -.", max_size=30),
)
def test_glossary_forms_found_in_one_pass_agree_with_a_search_for_each(
    forms: list[str], text: str
) -> None:
    ordered = sorted(set(forms), key=len, reverse=True)
    pattern = re.compile(rf"(?<!\w)(?=({'|'.join(map(re.escape, ordered))})(?!\w))")
    found = sorted({match[1] for match in pattern.finditer(text)})
    for form in forms:
        searched = re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text) is not None
        assert lint._within_found(form, found) == searched
