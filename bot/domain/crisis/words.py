"""How a message is read before matching: case, Vietnamese diacritics, repeated letters, spacing and punctuation do
not matter; abbreviations ("ko", "mik", "dc") are read as the word they stand for."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?;…\n]+")
_REPEATS = re.compile(r"([^\W\d_])\1+")  # a letter repeated ("200 viên" keeps its zeros)


def _without_marks() -> dict[int, str]:
    """Every letter with a diacritic (Latin, Latin Extended, Vietnamese) to its letter without (đ → d); a table for
    str.translate, which folds a whole message in one pass."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "d"}
    for code in range(0xC0, 0x2000):
        letter = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", letter) if not unicodedata.combining(c)).casefold()
        if base and base != letter and base.isalnum():
            table[code] = base
    return table


_BARE = _without_marks()
# A vowel held ("chêếết", "quáaa", "điii"): a run of one vowel's forms is read as the most marked of them (a tone,
# else a hat or a horn). Not "ưu", a real ending ("cứu", "hưu").
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def _vowel_forms() -> dict[str, str]:
    forms = {vowel: vowel for vowel in "aeiouy"}
    forms.update({chr(code): base for code, base in _BARE.items() if len(base) == 1 and base in "aeiouy"})
    return {letter: base for letter, base in forms.items() if letter == letter.casefold()}


_VOWEL_BASE = _vowel_forms()
_HELD = re.compile(
    "|".join(
        f"[{''.join(k for k, v in _VOWEL_BASE.items() if v == base)}]{{2,}}"
        for base in sorted(set(_VOWEL_BASE.values()))
    )
)


def _marks(letter: str) -> int:
    marks = unicodedata.normalize("NFD", letter)[1:]
    return 2 if any(mark in _TONES for mark in marks) else (1 if marks else 0)


def _unheld(found: re.Match[str]) -> str:
    run = found.group(0)
    if len(run) == 2 and run[0] in "ưừứửữự" and run[1] in "uùúủũụ":
        return run
    return max(run, key=_marks)


def accented(text: str) -> list[str]:
    """Lower-case words with diacritics kept, punctuation dropped (apostrophes joined: "can't" → "cant"), each run of
    one repeated letter shortened to one ("chếttt" → "chết", and so "kill" → "kil" on both sides of a match)."""
    return read(text)[0]


def read(text: str) -> tuple[list[str], list[int]]:
    """`accented`, and where each sentence starts (the index of its first word; a sentence ends at . ! ? ; or a new
    line): the learned stage reads a long message sentence by sentence."""
    composed = unicodedata.normalize("NFC", text.casefold().replace("'", "").replace("’", ""))
    words: list[str] = []
    starts: list[int] = []
    for sentence in _SENTENCE_END.split(_HELD.sub(_unheld, _REPEATS.sub(r"\1", composed))):
        found = _WORD.findall(sentence)
        if found:
            starts.append(len(words))
            words += found
    return words, starts


def plain(words: list[str], same: Mapping[str, str]) -> list[str]:
    """The words without diacritics, repeats shortened again ("cứu" → "cuu" → "cu", as "cuuu" typed plain becomes),
    each abbreviation replaced by the word it stands for. One translate and one substitution for the whole message."""
    if not words:
        return []
    folded = _REPEATS.sub(r"\1", " ".join(words).translate(_BARE)).split(" ")
    return [same.get(word, word) for word in folded] if same else folded


@lru_cache(maxsize=8192)
def bare(word: str) -> str:
    return plain([word], {})[0]
