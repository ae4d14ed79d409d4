"""How a message is read before matching: case, Vietnamese diacritics, repeated letters, spacing and punctuation do
not matter; abbreviations ("ko", "mik", "dc") are read as the word they stand for."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from bot.domain.text import fold

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=8192)  # people repeat their words; a long message costs a fold per distinct word
def bare(word: str) -> str:
    """Without diacritics, repeats shortened again ("cứu" → "cuu" → "cu", as "cuuu" typed plain becomes)."""
    return _REPEATS.sub(r"\1", fold(word))


def accented(text: str) -> list[str]:
    """Lower-case words with diacritics kept, punctuation dropped (apostrophes joined: "can't" → "cant"), each run of
    one repeated letter shortened to one ("chếttt" → "chết", and so "kill" → "kil" on both sides of a match)."""
    composed = unicodedata.normalize("NFC", text.casefold().replace("'", "").replace("’", ""))
    return [_REPEATS.sub(r"\1", word) for word in _WORD.findall(composed)]


def plain(words: list[str], same: Mapping[str, str]) -> list[str]:
    """The words without diacritics, each abbreviation replaced by the word it stands for."""
    return [same.get(word, word) for word in map(bare, words)]
