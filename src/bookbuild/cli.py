"""The `bookbuild` command line: a thin layer that maps outcomes to exit codes."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from bookbuild import __version__
from bookbuild.buildconfig import parse_formats, parse_note_numbering, parse_notes
from bookbuild.errors import BookbuildError, Diagnostic, Severity, error
from bookbuild.model import SourceLocation
from bookbuild.printsetup import (
    PAPERS,
    PrintSetup,
    combination_problem,
    parse_bleed,
    parse_marks,
    parse_paper,
    parse_variant,
)

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _loudness(parser: argparse.ArgumentParser, default: object) -> None:
    """Add -q and -v; a subcommand's copies leave the main parser's value alone when unused."""
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="print only diagnostics"
    )
    loudness.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="time every step"
    )


def create_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bookbuild",
        description="Build a PDF briefing and an EPUB 3 from a manuscript of per-era chapters.",
    )
    parser.add_argument("--version", action="version", version=f"bookbuild {__version__}")
    _loudness(parser, False)
    # Global options work after the subcommand too: `bookbuild build -q`.
    common = argparse.ArgumentParser(add_help=False)
    _loudness(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, about: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=about, parents=[common])

    _add_build(command("build", "build the PDF and the EPUB"))
    check = command("check", "validate the manuscript without building")
    check.add_argument("dir", nargs="?", default="manuscript", type=Path, help="manuscript folder")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.add_argument(
        "--format",
        default="text",
        choices=("text", "json"),
        dest="output",
        help="diagnostics as text lines (default) or as JSON for editors and CI",
    )
    new = command("new", "start a new manuscript that shows every feature")
    new.add_argument("dir", type=Path, help="folder to create")
    serve = command("serve", "preview the book, rebuilt on every change")
    serve.add_argument("dir", nargs="?", default="manuscript", type=Path, help="manuscript folder")
    serve.add_argument(
        "--port", type=_port, default=8000, help="port on 127.0.0.1, 1-65535 (default: 8000)"
    )
    serve.add_argument("--styles", type=Path, help="theme folder (default: the bundled theme)")
    command("doctor", "report which system libraries and tools are missing, and how to get them")
    return parser


def _add_build(build: argparse.ArgumentParser) -> None:
    # Defaults are None so that book.yaml's `build:` section fills in what no flag says.
    build.add_argument("dir", nargs="?", default="manuscript", type=Path, help="manuscript folder")
    build.add_argument("--out", default="dist", type=Path, help="output folder (default: dist)")
    build.add_argument(
        "--format",
        type=_parsed(parse_formats),
        help="comma-separated: pdf,epub,kepub,html (kepub: a Kobo .kepub.epub)",
    )
    build.add_argument(
        "--pdf-variant",
        type=_parsed(parse_variant),
        help="pdf/ua-1 (tagged, the default), pdf/a-3a for archiving, pdf/x-3 or pdf/x-4 for print",
    )
    build.add_argument(
        "--paper",
        type=_parsed(parse_paper),
        help=f"trim size: {', '.join(PAPERS)} or WIDTHxHEIGHT in mm or in (default: a4)",
    )
    build.add_argument("--bleed", type=_parsed(parse_bleed), help="bleed, e.g. 3mm or 0.125in")
    build.add_argument("--marks", type=_parsed(parse_marks), help="printer's marks: crop, cross")
    build.add_argument("--styles", type=Path, help="theme folder (default: the bundled theme)")
    build.add_argument(
        "--notes",
        type=_parsed(parse_notes),
        help="where notes go: page (footnotes), chapter-end or book-end",
    )
    build.add_argument(
        "--note-numbering",
        type=_parsed(parse_note_numbering),
        help="note numbers restart in each chapter, or run through the book",
    )
    build.add_argument(
        "--jobs",
        type=_jobs,
        help="lay the PDF out in this many processes (default: the number of cores for a book "
        "of 1 MB of print HTML or more, else 1; 1: whole)",
    )
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="validate the outputs with EPUBCheck, DAISY Ace and the PDF validators",
    )


def _parsed(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Return an argparse type that reports a parser's ValueError as a usage error."""

    def convert(value: str) -> T:
        try:
            return parse(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


def _jobs(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 256:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes from 1 to 256")
    return int(value)


def _port(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number from 1 to 65535")
    return int(value)


class Progress:
    """Say which long step is running: on a terminal, or always with -v; never with -q."""

    def __init__(self, stream: TextIO, *, quiet: bool, verbose: bool) -> None:
        self.stream, self.verbose = stream, verbose
        self.enabled = verbose or (not quiet and stream.isatty())
        self.start = time.perf_counter()
        self.step = "starting"

    def __call__(self, step: str) -> None:
        self.step = step
        if self.verbose:
            self.stream.write(f"[{time.perf_counter() - self.start:6.2f} s] {step}\n")
        elif self.enabled:
            self.stream.write(f"\r\033[K{step}...")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled and not self.verbose:
            self.stream.write("\r\033[K")


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line and return its exit code."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = create_parser()
    try:
        args = parser.parse_args(argv)
        if args.quiet and args.verbose:  # one before the subcommand, one after it
            parser.error("argument -v/--verbose: not allowed with argument -q/--quiet")
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    progress = Progress(stderr, quiet=args.quiet, verbose=args.verbose)
    try:
        return _run(args, stdout, stderr, progress)
    except BookbuildError as exc:
        _report(exc.diagnostics, stdout if _json(args) else stderr, as_json=_json(args))
        return EXIT_FAILED
    except BrokenPipeError:  # the reader went away (`| head`): nobody is left to tell
        return EXIT_FAILED
    except Exception as exc:  # a bug in a stage: say which stage, without a traceback
        progress.done()
        diagnostic = internal_error(progress.step, exc, getattr(args, "dir", None))
        _report([diagnostic], stdout if _json(args) else stderr, as_json=_json(args))
        if args.verbose:
            traceback.print_exception(exc, file=stderr)
        return EXIT_FAILED


def internal_error(step: str, exc: BaseException, book_dir: Path | None) -> Diagnostic:
    """Return the diagnostic for an unexpected exception: a bug to report, not a traceback."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(detail) > 300:
        detail = detail[:300] + "..."
    message = (
        f"internal error while {step}: {detail}; please report this, with the manuscript "
        "if you can (run with -v for the traceback)"
    )
    where = SourceLocation(path=book_dir, line=0) if book_dir is not None else None
    return error("BB990", message, where)


def _json(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "text") == "json"


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, progress: Progress) -> int:
    progress.step = {"new": "creating the manuscript", "serve": "serving the book"}.get(
        args.command, "checking the manuscript"
    )
    if args.command == "doctor":
        from bookbuild.doctor import doctor

        return doctor(stdout)
    if args.command == "new":
        from bookbuild.scaffold import create_manuscript

        create_manuscript(args.dir)
        stdout.write(f"created {args.dir}: try `bookbuild build {args.dir}`\n")
        return EXIT_OK
    if not args.dir.is_dir():
        stderr.write(f"{args.dir}: error: manuscript folder not found\n")
        return EXIT_FAILED
    if args.command == "serve":
        from bookbuild.serve import serve

        return serve(args.dir, port=args.port, styles=args.styles, log=stderr)
    from bookbuild import pipeline

    if args.command == "check":
        found = pipeline.check(args.dir)
        _report(found, stdout if _json(args) else stderr, as_json=_json(args))
        return _verdict(found, args.strict)
    return _build(args, stdout, stderr, progress)


def _build(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, progress: Progress) -> int:
    from bookbuild import pipeline
    from bookbuild.buildconfig import read_build_config

    if args.strict and _verdict(found := pipeline.check(args.dir), True):
        _report(found, stderr)
        return EXIT_FAILED
    # book.yaml's problems are reported by the build's loading; here only its values count.
    config = read_build_config(args.dir)[0]
    variant = args.pdf_variant or config.pdf_variant or "pdf/ua-1"
    setup = PrintSetup(
        size=args.paper or config.paper or PAPERS["a4"],
        bleed=args.bleed if args.bleed is not None else config.bleed,
        marks=args.marks if args.marks is not None else config.marks,
    )
    if problem := combination_problem(variant, setup):
        stderr.write(f"bookbuild: error: {problem}\n")
        return EXIT_USAGE
    formats = args.format or config.formats or ("pdf", "epub")
    try:
        result = pipeline.build(
            args.dir,
            args.out,
            formats,
            styles=args.styles or config.styles,
            pdf_variant=variant,
            setup=setup,
            notes=args.notes,
            note_numbering=args.note_numbering,
            progress=progress,
            jobs=args.jobs,
        )
    finally:
        progress.done()
    _report(result.diagnostics, stderr)
    if not args.quiet:
        for path in result.outputs:
            if path.suffix in (".pdf", ".epub") or path.name.endswith(".html"):
                stdout.write(f"wrote {path}\n")
    verify = args.verify if args.verify is not None else bool(config.verify)
    if not verify:
        return EXIT_OK
    from bookbuild.verify import verify_outputs

    try:
        progress("verifying the outputs")
        problems, notes = verify_outputs(args.dir, result.outputs, variant, progress=progress)
    finally:
        progress.done()
    _report(problems, stderr)
    for note in notes:
        stderr.write(f"note: {note}\n")
    return _verdict(problems, False)


def _verdict(found: Sequence[Diagnostic], strict: bool) -> int:
    failing = [d for d in found if d.severity is Severity.ERROR or strict]
    return EXIT_FAILED if failing else EXIT_OK


def _report(diagnostics: Sequence[Diagnostic], stream: TextIO, *, as_json: bool = False) -> None:
    if as_json:
        json.dump([d.as_dict() for d in diagnostics], stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    for diagnostic in diagnostics:
        stream.write(diagnostic.format() + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
