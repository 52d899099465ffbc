"""Content checks for the Albania–Russia history briefing in manuscript/.

These tests look only at the manuscript files (and, where available, the
source text the briefing was written from). They do not import bookbuild.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MANUSCRIPT = ROOT / "manuscript"
CHAPTERS = MANUSCRIPT / "chapters"
GLOSSARY = MANUSCRIPT / "glossary.yaml"
# The seed sits in shared/ beside the checkout, or one level further up from a git worktree.
_SEEDS = [p / "shared" / "seed" / "000_585accfd8715a167.txt" for p in Path(__file__).parents[2:4]]
SEED = next((p for p in _SEEDS if p.exists()), _SEEDS[0])
BIBLIOGRAPHY = MANUSCRIPT / "bibliography.json"
MAIN_WORK = "albania-russia"

SHINGLE = 10
ALLOWED_KINDS = {"person", "organisation", "state", "place", "treaty", "event", "concept"}

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
SPAN_ATTRS = re.compile(r"\]\{[^}]*\}")
QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
WORD = re.compile(r"[a-z0-9'’]+")
EVENT = re.compile(r"\]\{\.event\b[^}]*\}")


def chapter_files():
    files = sorted(CHAPTERS.glob("*.md"))
    assert files, f"no chapters found in {CHAPTERS}"
    return files


def split_front_matter(text):
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    return yaml.safe_load(match.group(1)) or {}, text[match.end() :]


def chapter_bodies():
    return {p.name: split_front_matter(p.read_text(encoding="utf-8"))[1] for p in chapter_files()}


def strip_markup(text):
    """Remove span attribute blocks ``]{...}`` and the square brackets of spans."""
    text = SPAN_ATTRS.sub(" ", text)
    return text.replace("[", " ").replace("]", " ")


def words(text):
    text = text.lower().replace("’", "'")
    return WORD.findall(text)


def shingles(tokens, n=SHINGLE):
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def manuscript_prose():
    """Yield (label, text) for every piece of prose written for the briefing."""
    for path in chapter_files():
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        for key in ("title", "summary"):
            if meta.get(key):
                yield f"{path.name}:{key}", str(meta[key])
        yield path.name, body
    for entry in load_glossary():
        yield f"glossary:{entry.get('term')}", str(entry.get("description", ""))
    book = yaml.safe_load((MANUSCRIPT / "book.yaml").read_text(encoding="utf-8"))
    for key in ("title", "subtitle", "description"):
        if book.get(key):
            yield f"book.yaml:{key}", str(book[key])


def load_glossary():
    data = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))
    assert isinstance(data, list), "glossary.yaml must be a YAML list"
    return data


def test_no_ten_word_run_copied_from_source():
    if not SEED.exists():
        pytest.skip(f"source text not available at {SEED}")
    seed_shingles = shingles(words(SEED.read_text(encoding="utf-8")))
    offending = []
    for label, text in manuscript_prose():
        text = QUOTED.sub(" ", strip_markup(text))
        for run in sorted(shingles(words(text)) & seed_shingles):
            offending.append(f"{label}: {' '.join(run)}")
    assert not offending, (
        f"{len(offending)} run(s) of {SHINGLE} words copied from the source:\n"
        + "\n".join(offending)
    )


def test_every_glossary_term_appears_in_text():
    text = strip_markup("\n".join(chapter_bodies().values()))
    missing = []
    for entry in load_glossary():
        forms = [entry.get("term"), *(entry.get("aliases") or [])]
        found = any(
            form and re.search(r"(?<!\w)" + re.escape(str(form)) + r"(?!\w)", text)
            for form in forms
        )
        if not found:
            missing.append(str(entry.get("term")))
    assert not missing, "glossary terms not found in any chapter: " + ", ".join(missing)


def test_glossary_entries_are_complete():
    problems = []
    terms = set()
    for i, entry in enumerate(load_glossary()):
        if not isinstance(entry, dict):
            problems.append(f"entry {i} is not a mapping")
            continue
        term = entry.get("term")
        if not isinstance(term, str) or not term.strip():
            problems.append(f"entry {i} has no term")
        elif term in terms:
            problems.append(f"duplicate term {term!r}")
        else:
            terms.add(term)
        if entry.get("kind") not in ALLOWED_KINDS:
            problems.append(f"{term!r}: kind {entry.get('kind')!r} not allowed")
        description = entry.get("description")
        if not isinstance(description, str) or not description.strip():
            problems.append(f"{term!r}: empty description")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(
            isinstance(a, str) and a.strip() for a in aliases
        ):
            problems.append(f"{term!r}: aliases must be a list of non-empty strings")
    assert not problems, "\n".join(problems)


def test_event_count():
    count = sum(len(EVENT.findall(body)) for body in chapter_bodies().values())
    assert count >= 40, f"only {count} .event spans; expected at least 40"


def test_briefing_passes_bookbuild_check_strict():
    """Every event within its era, unique ids, used glossary terms and notes, working links."""
    import io

    from bookbuild.cli import main

    err = io.StringIO()
    code = main(["check", "--strict", str(MANUSCRIPT)], stdout=io.StringIO(), stderr=err)
    assert (code, err.getvalue()) == (0, "")


# Thirty events that the seed article's own text tells (not its link previews), by their titles.
MAIN_EVENTS = [
    "Albania declares independence from the Ottoman Empire",
    "Russia and France oppose Albanian aims",
    "Diplomatic relations established",
    "Hoxha travels to Moscow for trade talks",
    "Hoxha backs Stalin in the Tito–Stalin split",
    "Albania joins Comecon",
    "Albania has received major Soviet and socialist loans",
    "Khrushchev criticises Stalin",
    "Khrushchev visits Albania",
    "Khrushchev’s remark at Butrint",
    "Albania refuses to criticise China",
    "Hoxha speaks against Soviet ideological errors",
    "Hoxha calls the Soviet ambassador a saboteur",
    "Khrushchev criticises Albania at the Twenty-Second Congress",
    "Hoxha’s ‘eat grass’ speech",
    "Soviet Union breaks off relations with Albania",
    "Albania seizes the empty Soviet embassy",
    "Hoxha demands a Soviet apology and reparations",
    "Albania withdraws from the Warsaw Pact",
    "Diplomatic relations restored",
    "Meksi’s official visit to Moscow",
    "Russian embassy staff in Tirana tripled",
    "Primakov’s letter on ‘Albanian terrorism’",
    "Foreign Minister Paskal Milo visits Russia",
    "Ilir Meta visits Moscow",
    "Albania opposes the annexation of Crimea",
    "Albania expels two Russian diplomats",
    "Zakharova criticises Rama over uniting Albania and Kosovo",
    "Albanian leaders condemn the invasion",
    "Russia lists Albania as unfriendly",
]
ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def events():
    """Return each event's attributes (title, date, source...) as written."""
    found = []
    for body in chapter_bodies().values():
        for match in EVENT.finditer(body):
            found.append(dict(ATTR.findall(match[0])))
    return found


def bibliography_keys():
    import json

    return {entry["id"] for entry in json.loads(BIBLIOGRAPHY.read_text(encoding="utf-8"))}


def test_the_main_events_of_the_seed_are_all_in_the_chronology_citing_the_article():
    by_title = {e.get("title"): e for e in events()}
    missing = [t for t in MAIN_EVENTS if t not in by_title]
    assert not missing, f"main events missing: {missing}"
    assert len(MAIN_EVENTS) == len(set(MAIN_EVENTS)) == 30
    for title in MAIN_EVENTS:
        assert "@" + MAIN_WORK in by_title[title].get("source", ""), title


def test_every_event_and_glossary_entry_names_works_of_the_bibliography():
    keys = bibliography_keys()
    for event in events():
        named = [k.strip().lstrip("@") for k in event.get("source", "").split(";") if k.strip()]
        assert named and set(named) <= keys, event
    for entry in load_glossary():
        named = entry.get("source")
        named = [named] if isinstance(named, str) else named
        assert named and set(named) <= keys, entry["term"]
