"""Sort words the way a language's readers look them up (the glossary, later the index).

Babel has no collation and PyICU needs ICU's headers and a C++ build, so this is a fallback
written here: words compare by their letters with accents and case set aside, then with
them ('élan' files among the e's, 'Ähre' among the a's, as in French and German dictionaries,
'ёлка' between 'еда' and 'ель'); languages whose
alphabets count a letter with a mark or a digraph as a letter of its own (Albanian 'ç', 'ë',
'dh', 'sh'; Spanish 'ñ'; Swedish 'å', 'ä', 'ö') list their alphabet, and sort by it.
Chinese sorts by pinyin, CLDR's default for it, with pypinyin's readings.
"""

from __future__ import annotations

import unicodedata
from typing import Final

ALPHABETS: Final = {
    "sq": "a b c ç d dh e ë f g gj h i j k l ll m n nj o p q r rr s sh t th u v x xh y z zh",
    "es": "a b c d e f g h i j k l m n ñ o p q r s t u v w x y z",
    "sv": "a b c d e f g h i j k l m n o p q r s t u v w x y z å ä ö",
    "fi": "a b c d e f g h i j k l m n o p q r s t u v w x y z å ä ö",
    "da": "a b c d e f g h i j k l m n o p q r s t u v w x y z æ ø å",
    "nb": "a b c d e f g h i j k l m n o p q r s t u v w x y z æ ø å",
    "pl": "a ą b c ć d e ę f g h i j k l ł m n ń o ó p q r s ś t u v w x y z ź ż",
    "cs": "a b c č d e f g h ch i j k l m n o p q r ř s š t u v w x y z ž",
}


def collation_key(word: str, language: str) -> tuple[tuple[int, ...], str, str]:
    """Return a key that sorts `word` among others the way `language` does."""
    folded = unicodedata.normalize("NFC", word).casefold()
    primary_language = language.split("-")[0].lower()
    if primary_language == "zh":
        return _by_pinyin(folded), folded, folded
    alphabet = ALPHABETS.get(primary_language)
    primary = _by_alphabet(folded, alphabet) if alphabet else _base_letters(folded)
    return primary, _base_text(folded), folded


def _by_pinyin(text: str) -> tuple[int, ...]:
    """Return a key in pinyin order, CLDR's default for Chinese: syllable by syllable, then tone.

    '店铺' (dian4 pu4) files before '马帮' (ma3 bang1) and '砖茶' (zhuan1 cha2); code point
    order would put 砖 before 马.
    """
    from pypinyin import Style, lazy_pinyin  # its dictionaries load only for a Chinese book

    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    return tuple(ord(c) for c in " ".join(syllables))


def _base_text(text: str) -> str:
    """Return the text without its combining marks: 'élan' as 'elan', 'ёж' as 'еж'."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _base_letters(text: str) -> tuple[int, ...]:
    # Letters and digits only: 'de Gaulle' files beside 'Degas', 'al-Idrisi' beside 'Alidrisi'.
    return tuple(ord(c) for c in _base_text(text) if c.isalnum())


def _by_alphabet(text: str, alphabet: str) -> tuple[int, ...]:
    """Return the positions of the letters in the alphabet, digraphs first, others after it."""
    letters = alphabet.split()
    order = {letter: n for n, letter in enumerate(letters)}
    longest = max(len(letter) for letter in letters)
    key: list[int] = []
    i = 0
    while i < len(text):
        for size in range(longest, 0, -1):
            if (chunk := text[i : i + size]) in order:
                key.append(order[chunk])
                i += size
                break
        else:
            base = _base_text(text[i])
            if base.isalnum():
                key.append(order.get(base, len(letters) + ord(base[0])) if base else 0)
            i += 1
    return tuple(key)
