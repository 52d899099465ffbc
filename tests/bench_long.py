"""`make bench`, the long book: bookbuild against bare WeasyPrint and Pandoc at 300,000 words.

The book is Gibbon's Decline and Fall, chapters I-XVII (tests/data/books/gibbon-1 and
tests/data/books/gibbon-ch17: about 322,000 words, 2,088 notes), assembled in a temporary
folder. Run side by side in one go:

(e) the full build (`--jobs` the number of cores) against the `weasyprint` command line on
    the exact HTML that `--format html` writes, same PDF variant, same fonts: wall time, and
    peak memory of the whole process tree (the sum over the process and its children,
    sampled every 50 ms; the proportional set size, so the pages a forked worker shares with
    its parent count once, and the resident set size beside it);
(f) an EPUB-only build against `pandoc -t epub3` on the same chapter files, with a warm cache
    and with an empty one;
(g) the full build at 1x, 2x and 4x the book, `--jobs 1` against `--jobs` the number of
    cores: time and peak memory, plotted into dist/bench-long.png, and the largest of those
    books that builds within 1 GiB.

Figures are printed and written to dist/bench-long.json. This is a benchmark, not a test: it
asserts nothing, and it reports every goal as met or not. `--only e,f` runs some parts;
`--sizes 1,2` the sizes of (g).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent
PARTS = (ROOT / "tests/data/books/gibbon-1", ROOT / "tests/data/books/gibbon-ch17")
GOALS = {"e_time": 0.70, "e_memory": 0.75, "f": 0.5, "g_memory_mib": 1024.0}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SAMPLE_S = 0.05
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    pss_mib: float  # peak of the tree's summed proportional set size
    rss_mib: float  # peak of the tree's summed resident set size


def measure(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a command to its end; return its wall time and the peak memory of its process tree.

    Fail loudly if it fails.
    """
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env or ENV, stdout=subprocess.DEVNULL)
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(child.pid)
        while not done.is_set():
            pss = rss = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for process in tree:
                try:
                    info = process.memory_full_info()
                except psutil.Error:
                    continue  # it ended between the listing and the reading
                pss, rss = pss + info.pss, rss + info.rss
            peaks[0], peaks[1] = max(peaks[0], pss), max(peaks[1], rss)
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if code:
        raise subprocess.CalledProcessError(code, argv)
    return Measured(round(seconds, 2), round(peaks[0] / MIB, 1), round(peaks[1] / MIB, 1))


def assemble(target: Path, copies: int = 1) -> int:
    """Write the long book `copies` times over into `target`; return its number of words."""
    shutil.rmtree(target, ignore_errors=True)
    (target / "chapters").mkdir(parents=True)
    shutil.copy(PARTS[0] / "book.yaml", target / "book.yaml")
    if copies > 1:  # past the default limit of what a manuscript may hold (BB123)
        with (target / "book.yaml").open("a", encoding="utf-8") as handle:
            handle.write(f"limits:\n  book-size: {4 * copies} MiB\n")
    chapters = sorted(path for part in PARTS for path in (part / "chapters").glob("*.md"))
    words = 0
    for n in range(copies):
        for path in chapters:
            text = path.read_text(encoding="utf-8")
            if copies > 1:
                # Every copy is a chapter of its own: its own id, its own file.
                text = text.replace("---\ntitle:", f"---\nid: c{n}-{path.stem}\ntitle:", 1)
            (target / "chapters" / f"{n:02d}-{path.name}").write_text(text, encoding="utf-8")
            words += len(text.split())
    return words


def bookbuild(book: Path, out: Path, *extra: str) -> list[str]:
    return [str(BIN / "bookbuild"), "build", str(book), "--out", str(out), *extra]


def peer_env(book: Path) -> dict[str, str]:
    """Return an environment giving bare WeasyPrint bookbuild's own fontconfig, for fairness."""
    from bookbuild.fontconf import write_fontconfig
    from bookbuild.fontset import find_fonts
    from bookbuild.manuscript import load_manuscript

    language = load_manuscript(book)[0].meta.language
    return {**ENV, "FONTCONFIG_FILE": str(write_fontconfig(find_fonts(), language))}


def bench_weasyprint(work: Path, book: Path, jobs: int) -> dict[str, object]:
    """(e) the full build against bare WeasyPrint on bookbuild's HTML: time and memory."""
    subprocess.run(
        bookbuild(book, work / "html", "--format", "html"), check=True, stdout=subprocess.DEVNULL
    )
    html = next((work / "html" / "html").glob("*.html"))
    ours = measure(bookbuild(book, work / "e", "--jobs", str(jobs)))
    peer = measure(
        [str(BIN / "weasyprint"), "--pdf-variant", "pdf/ua-1", str(html), str(work / "peer.pdf")],
        env=peer_env(book),
    )
    return {
        "jobs": jobs,
        "ours": asdict(ours),
        "peer": asdict(peer),
        "time_ratio": round(ours.seconds / peer.seconds, 3),
        "memory_ratio": round(ours.pss_mib / peer.pss_mib, 3),
        "rss_ratio": round(ours.rss_mib / peer.rss_mib, 3),
    }


def bench_pandoc(work: Path, book: Path, pairs: int) -> dict[str, object]:
    """(f) an EPUB-only build against pandoc, warm and with an empty cache, in pairs."""
    chapters = sorted(str(p) for p in (book / "chapters").glob("*.md"))
    title = "The History of the Decline and Fall of the Roman Empire"
    pandoc = ["pandoc", "-t", "epub3", "--metadata", f"title={title}"]
    pandoc += ["-o", str(work / "peer.epub"), *chapters]
    subprocess.run(bookbuild(book, work / "f", "--format", "epub"), check=True)  # warm it
    figures: dict[str, object] = {}
    for kind in ("warm", "cold"):
        ratios, ours_s, peer_s = [], [], []
        for n in range(pairs):
            env = {**ENV, "BOOKBUILD_CACHE": str(work / f"cold-{n}")} if kind == "cold" else ENV
            ours_argv = bookbuild(book, work / "f", "--format", "epub")
            # Alternate which goes first, so load from elsewhere falls on both sides alike.
            if n % 2:
                peer, ours = measure(pandoc), measure(ours_argv, env)
            else:
                ours, peer = measure(ours_argv, env), measure(pandoc)
            ours_s.append(ours.seconds)
            peer_s.append(peer.seconds)
            ratios.append(ours.seconds / peer.seconds)
        figures[kind] = {
            "ours_s": statistics.median(ours_s),
            "peer_s": statistics.median(peer_s),
            "ratio": round(statistics.median(ratios), 3),
            "pairs": pairs,
        }
    return figures


def bench_scaling(work: Path, sizes: list[int], jobs: int) -> dict[str, object]:
    """(g) time and memory at each size, --jobs 1 against --jobs N; the plot.

    Each row is written to dist/bench-long.json as soon as it is measured, over the row of the
    same size and --jobs from an earlier run, so a run of some sizes keeps the others' rows
    (`--sizes 4` after `--sizes 1,2`) and the plot shows every size measured.
    """
    rows = list(_kept_rows())
    for size in sizes:
        book = work / f"book-{size}x"
        words = assemble(book, size)
        for j in (1, jobs):
            got = measure(bookbuild(book, work / f"g-{size}-{j}", "--jobs", str(j)))
            row = {"size": size, "words": words, "jobs": j, **asdict(got)}
            rows = [r for r in rows if (r["size"], r["jobs"]) != (size, j)] + [row]
            _keep_rows(rows)
            print(f"    {size}x ({words} words), --jobs {j}: {got.seconds} s, {got.pss_mib} MiB")
        shutil.rmtree(book)
    rows.sort(key=lambda r: (int(str(r["size"])), int(str(r["jobs"]))))
    within = [r for r in rows if float(str(r["pss_mib"])) <= GOALS["g_memory_mib"]]
    largest = max(within, key=lambda r: (int(str(r["words"])), -int(str(r["jobs"]))), default=None)
    plot(rows, jobs, ROOT / "dist" / "bench-long.png")
    return {"rows": rows, "largest_within_1gib": largest}


def _kept_rows() -> list[dict[str, object]]:
    target = ROOT / "dist" / "bench-long.json"
    kept = json.loads(target.read_text()) if target.is_file() else {}
    return list(kept.get("g", {}).get("rows", []))


def _keep_rows(rows: list[dict[str, object]]) -> None:
    target = ROOT / "dist" / "bench-long.json"
    kept = json.loads(target.read_text()) if target.is_file() else {}
    kept["g"] = {**kept.get("g", {}), "rows": rows}
    target.write_text(json.dumps(kept, indent=2) + "\n")


def plot(rows: list[dict[str, object]], jobs: int, target: Path) -> None:
    """Draw time and peak memory against the book's size, one line per --jobs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for j, style in ((1, "o-"), (jobs, "s-")):
        mine = [r for r in rows if r["jobs"] == j]
        words = [float(r["words"]) / 1000 for r in mine]  # type: ignore[arg-type]
        time_axis.plot(words, [r["seconds"] for r in mine], style, label=f"--jobs {j}")
        memory_axis.plot(words, [r["pss_mib"] for r in mine], style, label=f"--jobs {j}")
    memory_axis.axhline(GOALS["g_memory_mib"], color="grey", linestyle=":", label="1 GiB")
    time_axis.set(xlabel="thousands of words", ylabel="seconds", title="Full build, wall time")
    memory_axis.set(xlabel="thousands of words", ylabel="MiB", title="Peak memory (PSS, tree)")
    for axis in (time_axis, memory_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    sizes = ", ".join(f"{n}x" for n in sorted({int(str(r["size"])) for r in rows}))
    figure.suptitle(f"bookbuild on Gibbon I-XVII at {sizes} ({os.cpu_count()} cores)")
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    # A fixed date in the PNG's metadata, so the same figures give the same file.
    figure.savefig(target, metadata={"Software": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bookbuild on a long book against its peers")
    parser.add_argument("--only", default="e,f,g", help="the parts to run, e.g. e,f")
    parser.add_argument("--sizes", default="1,2,4", help="the sizes of (g), in books")
    parser.add_argument("--pairs", type=int, default=3, help="pairs for (f)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    if "f" in parts and shutil.which("pandoc") is None:
        print("error: pandoc is needed for (f): apt-get install pandoc", file=sys.stderr)
        return 1
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count()}, "goals": GOALS}
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        book = work / "book"
        results["words"] = assemble(book)
        if "e" in parts:
            e = bench_weasyprint(work, book, args.jobs)
            results["e"] = e
            ours, peer = e["ours"], e["peer"]
            met_time = e["time_ratio"] <= GOALS["e_time"]  # type: ignore[operator]
            met_memory = e["memory_ratio"] <= GOALS["e_memory"]  # type: ignore[operator]
            print(
                f"(e) long book, {results['words']} words, --jobs {args.jobs}: "
                f"{ours['seconds']} s vs weasyprint {peer['seconds']} s: ratio "  # type: ignore[index]
                f"{e['time_ratio']} (goal <= {GOALS['e_time']}) {'met' if met_time else 'NOT met'}"
            )
            print(
                f"    peak memory {ours['pss_mib']} MiB vs {peer['pss_mib']} MiB (PSS): ratio "  # type: ignore[index]
                f"{e['memory_ratio']} (goal <= {GOALS['e_memory']}) "
                f"{'met' if met_memory else 'NOT met'}; RSS ratio {e['rss_ratio']}"
            )
        if "f" in parts:
            f = bench_pandoc(work, book, args.pairs)
            results["f"] = f
            for kind, figures in f.items():
                met = figures["ratio"] <= GOALS["f"]  # type: ignore[index]
                print(
                    f"(f) EPUB only, {kind} cache: {figures['ours_s']} s vs pandoc "  # type: ignore[index]
                    f"{figures['peer_s']} s: ratio {figures['ratio']} "  # type: ignore[index]
                    f"(goal <= {GOALS['f']}) {'met' if met else 'NOT met'}"
                )
        if "g" in parts:
            print("(g) scaling:")
            g = bench_scaling(work, [int(s) for s in args.sizes.split(",")], args.jobs)
            results["g"] = g
            largest = g["largest_within_1gib"]
            print(f"    largest within 1 GiB: {largest}; plot: dist/bench-long.png")
    # A run of some parts keeps the figures of the others from the last run that had them.
    target = ROOT / "dist" / "bench-long.json"
    kept = json.loads(target.read_text()) if target.is_file() else {}
    target.write_text(json.dumps({**kept, **results}, indent=2) + "\n")
    print("wrote dist/bench-long.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
