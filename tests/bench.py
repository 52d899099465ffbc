"""`make bench`: bookbuild side by side with its peers, run in the same go on this machine.

(a) a full build (PDF and EPUB) against the `weasyprint` command line, same PDF variant, on the
    exact HTML that `--format html` writes: the median of alternating pairs;
(b) an EPUB-only build against `pandoc -t epub3` on the same chapters;
(c) `make book` when nothing has changed;
(d) a synthetic manuscript ten times the briefing: its time as a multiple of the briefing's,
    and its peak memory.

Figures are printed and written to dist/bench.json. This is a benchmark, not a test: it asserts
nothing, and it reports every goal as met or not.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
MANUSCRIPT = ROOT / "manuscript"
GOALS = {"a": 1.15, "b": 1.5, "c": 0.25, "d_ratio": 10.0, "d_memory_mib": 1024.0}


def timed(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> float:
    """Run a command and return its wall time in seconds; fail loudly if it fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def alternating(
    ours: list[str],
    peer: list[str],
    pairs: int,
    cwd: Path = ROOT,
    peer_env: dict[str, str] | None = None,
) -> dict[str, float]:
    """Time ours and the peer in alternating pairs; return medians and the median ratio."""
    timed(ours, cwd), timed(peer, cwd, peer_env)  # warm the disk cache for both
    results = [(timed(ours, cwd), timed(peer, cwd, peer_env)) for _ in range(pairs)]
    return {
        "ours_s": round(statistics.median(r[0] for r in results), 3),
        "peer_s": round(statistics.median(r[1] for r in results), 3),
        "ratio": round(statistics.median(r[0] / r[1] for r in results), 3),
        "pairs": pairs,
    }


def bench_weasyprint(work: Path, slug: str) -> dict[str, float]:
    """(a) a full build against WeasyPrint's own command line on our HTML."""
    subprocess.run(
        [BIN / "bookbuild", "build", MANUSCRIPT, "--out", work / "html-out", "--format", "html"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    html = work / "html-out" / "html" / f"{slug}.html"
    ours = [str(BIN / "bookbuild"), "build", str(MANUSCRIPT), "--out", str(work / "a")]
    peer = [str(BIN / "weasyprint"), "--pdf-variant", "pdf/ua-1", str(html), str(work / "peer.pdf")]
    return alternating(ours, peer, pairs=5, peer_env=peer_fontconfig())


def peer_fontconfig() -> dict[str, str]:
    """Return an environment giving bare WeasyPrint bookbuild's own fontconfig, for fairness."""
    from bookbuild.fontconf import write_fontconfig
    from bookbuild.fontset import find_fonts
    from bookbuild.manuscript import load_manuscript

    language = load_manuscript(MANUSCRIPT)[0].meta.language
    return {**os.environ, "FONTCONFIG_FILE": str(write_fontconfig(find_fonts(), language))}


def bench_pandoc(work: Path, title: str) -> dict[str, float]:
    """(b) an EPUB-only build against pandoc on the same chapter files."""
    chapters = sorted(str(p) for p in (MANUSCRIPT / "chapters").glob("*.md"))
    ours = [
        str(BIN / "bookbuild"),
        "build",
        str(MANUSCRIPT),
        "--out",
        str(work / "b"),
        "--format",
        "epub",
    ]
    peer = [
        "pandoc",
        "-t",
        "epub3",
        "--metadata",
        f"title={title}",
        "-o",
        str(work / "peer.epub"),
        *chapters,
    ]
    return alternating(ours, peer, pairs=9)


def bench_epub_cold(work: Path) -> dict[str, float]:
    """(b') an EPUB-only build with an empty cache: the cover is drawn, not looked up."""
    times = []
    for n in range(3):
        env = {**os.environ, "BOOKBUILD_CACHE": str(work / f"cold-cache-{n}")}
        start = time.perf_counter()
        subprocess.run(
            [BIN / "bookbuild", "build", MANUSCRIPT, "--out", work / "b-cold", "--format", "epub"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        times.append(time.perf_counter() - start)
    return {"ours_s": round(statistics.median(times), 3), "runs": len(times)}


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
    return {
        "a": results["a"]["ratio"] <= GOALS["a"],
        "b": results["b"]["ratio"] <= GOALS["b"],
        "c": results["c"]["median_s"] <= GOALS["c"],
        "d": results["d"]["ratio"] <= GOALS["d_ratio"]
        and results["d"]["peak_memory_mib"] <= GOALS["d_memory_mib"],
    }


def main() -> int:
    if shutil.which("pandoc") is None:
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
        results["a"] = bench_weasyprint(work, slug)
        results["b"] = bench_pandoc(work, title)
        results["b_cold"] = bench_epub_cold(work)
        results["c"] = bench_make_noop()
        results["d"] = bench_scale(work, results["a"]["ours_s"])
    met = verdicts(results)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "goals": GOALS,
        "results": results,
        "met": met,
    }
    (ROOT / "dist" / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    a, b, c, d = (results[k] for k in "abcd")
    print(
        f"(a) full build {a['ours_s']} s vs weasyprint {a['peer_s']} s: ratio {a['ratio']} "
        f"(goal <= {GOALS['a']}) {'met' if met['a'] else 'NOT met'}"
    )
    print(
        f"(b) EPUB only {b['ours_s']} s vs pandoc {b['peer_s']} s: ratio {b['ratio']} "
        f"(goal <= {GOALS['b']}) {'met' if met['b'] else 'NOT met'}"
    )
    cold = results["b_cold"]["ours_s"]
    print(
        f"    with an empty cache (the cover drawn): {cold} s, ratio {round(cold / b['peer_s'], 3)}"
    )
    print(
        f"(c) make book, nothing to do: {c['median_s']} s (goal <= {GOALS['c']} s) "
        f"{'met' if met['c'] else 'NOT met'}"
    )
    print(
        f"(d) 10x manuscript ({d['words']} words): {d['seconds']} s = {d['ratio']}x the "
        f"briefing, peak {d['peak_memory_mib']} MiB (goal <= 10x, <= 1024 MiB) "
        f"{'met' if met['d'] else 'NOT met'}"
    )
    print("wrote dist/bench.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
