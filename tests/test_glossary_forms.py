"""The glossary check finds its terms as one regular expression of all of them would."""

from __future__ import annotations

import random
import re

from bookbuild.lint import _longest_forms

ALPHABET = "ab _-.é1ß\u0301"


def regex_forms(text: str, forms: list[str]) -> set[str]:
    """Return the forms found by the single expression the check used to compile."""
    pattern = re.compile(rf"(?<!\w)(?=({'|'.join(map(re.escape, forms))})(?!\w))")
    return {match[1] for match in pattern.finditer(text)}


def test_longest_forms_agree_with_one_alternation_on_random_texts() -> None:
    chance = random.Random(1959)
    for _ in range(3000):
        text = "".join(chance.choices(ALPHABET, k=chance.randint(0, 40)))
        forms = {"".join(chance.choices(ALPHABET, k=chance.randint(1, 4))) for _ in range(5)}
        ordered = sorted(forms, key=len, reverse=True)
        assert set(_longest_forms(text, ordered).values()) == regex_forms(text, ordered)


def test_where_forms_start_together_only_the_longest_is_kept() -> None:
    found = _longest_forms("Warsaw Pact states; the Warsaw", ["Warsaw Pact", "Warsaw", "Pact"])
    assert found == {0: "Warsaw Pact", 7: "Pact", 24: "Warsaw"}
