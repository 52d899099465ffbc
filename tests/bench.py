"""`make bench`: bookbuild side by side with its peers, run in the same go on this machine.

(a) a full build (PDF and EPUB) against the `weasyprint` command line, same PDF variant, on the
    exact HTML that `--format html` writes;
(b) an EPUB-only build against `pandoc -t epub3` on the same chapters;
(c) `make book` when nothing has changed;
(d) a synthetic manuscript ten times the briefing: its time as a multiple of the briefing's,
    and its peak memory.

(a) and (b) run in pairs, bookbuild and its peer back to back, the one that goes first
alternating from pair to pair, so that load from other processes on a shared machine falls on
both sides alike. Each is reported as the median of the pairs' ratios (the goal's figure), with
the ratio of the fastest runs, the spread of the pairs' ratios and the ratio of CPU time.

Every command runs with bytecode caching on, as an installed package has it: pip compiles
WeasyPrint's modules when it installs them, and an environment that sets
PYTHONDONTWRITEBYTECODE would otherwise charge bookbuild alone for compiling its source.

Figures are printed and written to dist/bench.json. This is a benchmark, not a test: it asserts
nothing, and it reports every goal as met or not. `--only a,b` runs some parts; `--pairs N`
sets the number of pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The checkout's own venv (what `make` creates), else the venv of the Python running this.
BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent
MANUSCRIPT = ROOT / "manuscript"
GOALS = {"a": 1.15, "b": 1.5, "c": 0.25, "d_ratio": 10.0, "d_memory_mib": 1024.0}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(
    argv: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Run a command; return its wall time and CPU time (user + system) in seconds.

    Fail loudly if it fails.
    """
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, env=env or ENV, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, argv)
    return wall, usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> float:
    """Run a command and return its wall time in seconds; fail loudly if it fails."""
    return run(command, cwd, env)[0]


Run = Callable[[int], tuple[float, float]]


def alternating(ours: Run, peer: Run, pairs: int) -> dict[str, float]:
    """Time ours and the peer in pairs, alternating which goes first; summarise the ratios.

    Each side is called with the number of its run, so a run can set itself up (a cold cache).
    """
    ours(-1), peer(-1)  # warm the disk cache for both, and write bookbuild's bytecode
    results = []
    for n in range(pairs):
        if n % 2:
            peer_run, ours_run = peer(n), ours(n)
        else:
            ours_run, peer_run = ours(n), peer(n)
        results.append((ours_run, peer_run))
    ratios = sorted(o[0] / p[0] for o, p in results)
    ours_wall, peer_wall = [o[0] for o, _ in results], [p[0] for _, p in results]
    return {
        "ours_s": round(statistics.median(ours_wall), 3),
        "peer_s": round(statistics.median(peer_wall), 3),
        "ratio": round(statistics.median(ratios), 3),
        "ours_min_s": round(min(ours_wall), 3),
        "peer_min_s": round(min(peer_wall), 3),
        "min_ratio": round(min(ours_wall) / min(peer_wall), 3),
        "ratio_low": round(ratios[0], 3),
        "ratio_high": round(ratios[-1], 3),
        "cpu_ratio": round(
            statistics.median(o[1] for o, _ in results)
            / statistics.median(p[1] for _, p in results),
            3,
        ),
        "pairs": pairs,
    }


def command(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Return a run of a fixed command line."""
    return lambda n: run(argv, env=env)


def bookbuild_full(work: Path) -> list[str]:
    return [str(BIN / "bookbuild"), "build", str(MANUSCRIPT), "--out", str(work / "a")]


def bench_weasyprint(work: Path, slug: str, pairs: int) -> dict[str, float]:
    """(a) a full build against WeasyPrint's own command line on our HTML."""
    html_out = work / "html-out"
    run(
        [
            str(BIN / "bookbuild"),
            "build",
            str(MANUSCRIPT),
            "--out",
            str(html_out),
            "--format",
            "html",
        ]
    )
    html = html_out / "html" / f"{slug}.html"
    ours = bookbuild_full(work)
    peer = [str(BIN / "weasyprint"), "--pdf-variant", "pdf/ua-1", str(html), str(work / "peer.pdf")]
    return alternating(command(ours), command(peer, env=peer_fontconfig()), pairs)


def bench_weasyprint_cold(work: Path, slug: str, pairs: int) -> dict[str, float]:
    """(a') the full build with an empty cache: chapters parsed, citations formatted, the
    cover drawn, the notes measured and the font programs made, as on a first build."""
    html = work / "html-out" / "html" / f"{slug}.html"

    def ours(n: int) -> tuple[float, float]:
        env = {**ENV, "BOOKBUILD_CACHE": str(work / f"cold-cache-a-{n}")}
        return run(bookbuild_full(work), env=env)

    peer = [str(BIN / "weasyprint"), "--pdf-variant", "pdf/ua-1", str(html), str(work / "peer.pdf")]
    return alternating(ours, command(peer, env=peer_fontconfig()), pairs)


def peer_fontconfig() -> dict[str, str]:
    """Return an environment giving bare WeasyPrint bookbuild's own fontconfig, for fairness."""
    from bookbuild.fontconf import write_fontconfig
    from bookbuild.fontset import find_fonts
    from bookbuild.manuscript import load_manuscript

    language = load_manuscript(MANUSCRIPT)[0].meta.language
    return {**ENV, "FONTCONFIG_FILE": str(write_fontconfig(find_fonts(), language))}


def pandoc_command(work: Path, title: str) -> list[str]:
    """Return the pandoc command line for an EPUB 3 of the briefing's chapters."""
    chapters = sorted(str(p) for p in (MANUSCRIPT / "chapters").glob("*.md"))
    peer = ["pandoc", "-t", "epub3", "--metadata", f"title={title}"]
    return [*peer, "-o", str(work / "peer.epub"), *chapters]


def epub_command(out: Path) -> list[str]:
    return [str(BIN / "bookbuild"), "build", str(MANUSCRIPT), "--out", str(out), "--format", "epub"]


def bench_pandoc(work: Path, title: str, pairs: int) -> dict[str, float]:
    """(b) an EPUB-only build against pandoc on the same chapter files."""
    peer = command(pandoc_command(work, title))
    return alternating(command(epub_command(work / "b")), peer, pairs)


def bench_epub_cold(work: Path, title: str, pairs: int) -> dict[str, float]:
    """(b') an EPUB-only build with an empty cache: the cover is drawn, not looked up."""

    def ours(n: int) -> tuple[float, float]:
        env = {**ENV, "BOOKBUILD_CACHE": str(work / f"cold-cache-{n}")}
        return run(epub_command(work / "b-cold"), env=env)

    return alternating(ours, command(pandoc_command(work, title)), pairs)


def bench_make_noop() -> dict[str, float]:
    """(c) `make book` when nothing has changed."""
    subprocess.run(["make", "-s", "book"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    times = [timed(["make", "-s", "book"]) for _ in range(7)]
    return {"median_s": round(statistics.median(times), 3), "runs": len(times)}


def synthesize(target: Path, copies: int) -> None:
    """Write a manuscript of `copies` times the briefing's chapters, events and glossary."""
    shutil.copytree(MANUSCRIPT, target)
    chapters = sorted((MANUSCRIPT / "chapters").glob("*.md"))
    for path in (target / "chapters").glob("*.md"):
        path.unlink()
    for n in range(copies):
        for path in chapters:
            text = path.read_text()
            # Give every copy its own chapter id; the prose, eras and events are the briefing's.
            text = text.replace("---\ntitle:", f"---\nid: c{n}-{path.stem[3:]}\ntitle:", 1)
            (target / "chapters" / f"{n:02d}-{path.name}").write_text(text)


def bench_scale(work: Path, briefing_s: float) -> dict[str, float]:
    """(d) ten times the briefing: time as a multiple of the briefing's, and peak memory."""
    big = work / "big"
    synthesize(big, 10)
    words = sum(len(p.read_text().split()) for p in (big / "chapters").glob("*.md"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    seconds = timed([str(BIN / "bookbuild"), "build", str(big), "--out", str(work / "d")])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "words": words,
        "seconds": round(seconds, 3),
        "ratio": round(seconds / briefing_s, 2),
        # ru_maxrss is the largest child so far; the big build is by far the largest.
        "peak_memory_mib": round(max(peak_kib, before) / 1024, 1),
    }


def verdicts(results: dict[str, dict[str, float]]) -> dict[str, bool]:
    checks = {
        "a": lambda r: r["ratio"] <= GOALS["a"],
        "b": lambda r: r["ratio"] <= GOALS["b"],
        "c": lambda r: r["median_s"] <= GOALS["c"],
        "d": lambda r: (
            r["ratio"] <= GOALS["d_ratio"] and r["peak_memory_mib"] <= GOALS["d_memory_mib"]
        ),
    }
    return {part: check(results[part]) for part, check in checks.items() if part in results}


def describe(pair: dict[str, float]) -> str:
    """Return the other views of a set of pairs: fastest runs, spread, CPU time."""
    return (
        f"    fastest {pair['ours_min_s']} s vs {pair['peer_min_s']} s: {pair['min_ratio']}; "
        f"pairs from {pair['ratio_low']} to {pair['ratio_high']} ({pair['pairs']} pairs); "
        f"CPU time {pair['cpu_ratio']}"
    )


def report(results: dict[str, dict[str, float]], met: dict[str, bool]) -> None:
    """Print each part's figures and whether its goal is met."""

    def verdict(part: str) -> str:
        return "met" if met[part] else "NOT met"

    if a := results.get("a"):
        print(
            f"(a) full build {a['ours_s']} s vs weasyprint {a['peer_s']} s: ratio {a['ratio']} "
            f"(goal <= {GOALS['a']}) {verdict('a')}"
        )
        print(describe(a))
    if cold := results.get("a_cold"):
        print(
            f"    with an empty cache (a first build): {cold['ours_s']} s vs weasyprint "
            f"{cold['peer_s']} s: ratio {cold['ratio']}"
        )
        print(describe(cold))
    if b := results.get("b"):
        print(
            f"(b) EPUB only {b['ours_s']} s vs pandoc {b['peer_s']} s: ratio {b['ratio']} "
            f"(goal <= {GOALS['b']}) {verdict('b')}"
        )
        print(describe(b))
    if cold := results.get("b_cold"):
        print(
            f"    with an empty cache (the cover drawn): {cold['ours_s']} s vs pandoc "
            f"{cold['peer_s']} s: ratio {cold['ratio']}"
        )
        print(describe(cold))
    if c := results.get("c"):
        print(
            f"(c) make book, nothing to do: {c['median_s']} s (goal <= {GOALS['c']} s) "
            f"{verdict('c')}"
        )
    if d := results.get("d"):
        print(
            f"(d) 10x manuscript ({d['words']} words): {d['seconds']} s = {d['ratio']}x the "
            f"briefing, peak {d['peak_memory_mib']} MiB (goal <= 10x, <= 1024 MiB) "
            f"{verdict('d')}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bookbuild against its peers")
    parser.add_argument("--only", default="a,b,c,d", help="the parts to run, e.g. a,b")
    parser.add_argument("--pairs", type=int, default=0, help="pairs per comparison")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    if shutil.which("pandoc") is None and "b" in parts:
        print("error: pandoc is needed for (b): apt-get install pandoc", file=sys.stderr)
        return 1
    book = (MANUSCRIPT / "book.yaml").read_text()
    slug = next(
        line.split(":", 1)[1].strip() for line in book.splitlines() if line.startswith("slug:")
    )
    title = next(
        line.split(":", 1)[1].strip() for line in book.splitlines() if line.startswith("title:")
    )
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        if "a" in parts:
            results["a"] = bench_weasyprint(work, slug, args.pairs or 7)
            results["a_cold"] = bench_weasyprint_cold(work, slug, args.pairs or 5)
        if "b" in parts:
            results["b"] = bench_pandoc(work, title, args.pairs or 11)
            results["b_cold"] = bench_epub_cold(work, title, args.pairs or 7)
        if "c" in parts:
            results["c"] = bench_make_noop()
        if "d" in parts:
            briefing = results["a"]["ours_s"] if "a" in results else None
            results["d"] = bench_scale(work, briefing or timed(bookbuild_full(work)))
    met = verdicts(results)
    report(results, met)
    if parts >= set("abcd"):
        summary = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "goals": GOALS,
            "results": results,
            "met": met,
        }
        (ROOT / "dist" / "bench.json").write_text(json.dumps(summary, indent=2) + "\n")
        print("wrote dist/bench.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
