"""The `bookbuild` command line: a thin layer that maps outcomes to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bookbuild import __version__
from bookbuild.errors import BookbuildError, Diagnostic, Severity

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def create_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bookbuild",
        description="Build a PDF briefing and an EPUB 3 from a manuscript of per-era chapters.",
    )
    parser.add_argument("--version", action="version", version=f"bookbuild {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the PDF and the EPUB")
    build.add_argument("dir", nargs="?", default="manuscript", type=Path, help="manuscript folder")
    build.add_argument("--out", default="dist", type=Path, help="output folder (default: dist)")
    build.add_argument(
        "--format", default="pdf,epub", type=_formats, help="comma-separated: pdf,epub,html"
    )
    build.add_argument(
        "--pdf-variant",
        default="pdf/ua-1",
        choices=("pdf/ua-1", "pdf/a-3a"),
        help="PDF/UA-1 (tagged, the default) or PDF/A-3a for archiving",
    )
    build.add_argument(
        "--paper", default="a4", choices=("a4", "letter"), help="page size of the PDF (default: a4)"
    )
    build.add_argument("--styles", type=Path, help="theme folder (default: the bundled styles/)")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check = commands.add_parser("check", help="validate the manuscript without building")
    check.add_argument("dir", nargs="?", default="manuscript", type=Path, help="manuscript folder")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    return parser


def _formats(value: str) -> tuple[str, ...]:
    from bookbuild.pipeline import FORMATS

    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown) or value!r} (choose from {', '.join(FORMATS)})"
        )
    return chosen


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line and return its exit code."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = create_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    try:
        return _run(args, stdout, stderr)
    except BookbuildError as exc:
        _report(exc.diagnostics, stderr)
        return EXIT_FAILED


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from bookbuild import pipeline

    if not args.dir.is_dir():
        stderr.write(f"{args.dir}: error: manuscript folder not found\n")
        return EXIT_FAILED
    if args.command == "check":
        found = pipeline.check(args.dir)
        _report(found, stderr)
        return _verdict(found, args.strict)
    if args.strict and _verdict(found := pipeline.check(args.dir), True):
        _report(found, stderr)
        return EXIT_FAILED
    result = pipeline.build(
        args.dir,
        args.out,
        args.format,
        styles=args.styles,
        pdf_variant=args.pdf_variant,
        paper=pipeline.PAPER_SIZES[args.paper],
    )
    _report(result.diagnostics, stderr)
    for path in result.outputs:
        if path.suffix in (".pdf", ".epub") or path.name.endswith(".html"):
            stdout.write(f"wrote {path}\n")
    return EXIT_OK


def _verdict(found: Sequence[Diagnostic], strict: bool) -> int:
    failing = [d for d in found if d.severity is Severity.ERROR or strict]
    return EXIT_FAILED if failing else EXIT_OK


def _report(diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
    for diagnostic in diagnostics:
        stream.write(diagnostic.format() + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
