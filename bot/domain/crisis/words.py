"""How a message is read before matching: case, Vietnamese diacritics, repeated letters, spacing and punctuation do
not matter; abbreviations ("ko", "mik", "dc") are read as the word they stand for."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

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
# A vowel held after its own accented form ("điiii", "chếeet"): the accented letter stays. Not after ư, whose "ưu"
# is a real ending ("cứu", "hưu").
_HELD_AFTER = {
    chr(code): base for code, base in _BARE.items() if len(base) == 1 and base in "aeiouy" and chr(code) not in "ưừứửữự"
}
_HELD = re.compile(f"([{''.join(_HELD_AFTER)}])([aeiouy])\\2*")


def _unheld(found: re.Match[str]) -> str:
    accented_letter, held = found.group(1), found.group(2)
    return accented_letter if _HELD_AFTER[accented_letter] == held else found.group(0)


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


def bare(word: str) -> str:
    return plain([word], {})[0]
