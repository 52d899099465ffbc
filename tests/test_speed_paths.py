"""Shortcuts taken for speed give what the long way gives."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape as sax_escape

from bookbuild import fontconf, ids


def test_an_ascii_id_is_judged_as_the_whole_ncname_pattern_judges_it() -> None:
    whole = re.compile(f"[{ids._NAME_START}][{ids._NAME}]*")
    ascii_ = [chr(c) for c in range(128)]
    samples = [a + b for a in ascii_ for b in ["", "a", *ascii_]] + ["", "fig-1.2_x", "-a"]
    for value in samples:
        assert ids._is_ncname(value) == (whole.fullmatch(value) is not None), repr(value)
    # Beyond ASCII the whole pattern is used: a Greek id is one, a multiplication sign is not.
    assert ids.id_problem("σχήμα-1") is None
    assert ids.id_problem("a\u00d7b") is not None and ids.id_problem("é") is None


def test_fontconfig_text_is_escaped_as_xml_sax_escapes_it() -> None:
    for text in ["a & b", "<dir>", "/tmp/x\"y'z>", "plain", "&amp;"]:
        assert fontconf.escape(text) == sax_escape(text)
