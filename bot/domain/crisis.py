"""Crisis detection: does this message speak of suicide, self-harm, an overdose or acute danger?

A curated phrase list (data files in bot/data/crisis, extendable by the counselling team) matched on normalised
words: case, Vietnamese diacritics, repeated letters, spacing and punctuation do not matter; common abbreviations
("ko", "k", "mun") are read as the word they stand for; everyday look-alikes ("chết cười", "mệt muốn chết") are set
aside first. Misses are worse than false alarms. What it cannot do is in bot/data/crisis/README.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from bot.domain.text import fold


class CrisisKind(StrEnum):
    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    OVERDOSE = "overdose"
    DANGER = "danger"


_IGNORE, _SAME = "ignore", "same"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REPEATS = re.compile(r"(.)\1+")
_END = None  # the trie key under which a node lists the phrases ending there (no word is None)


@lru_cache(maxsize=4096)  # people repeat their words; a long message costs a fold per distinct word
def _bare(word: str) -> str:
    """Without diacritics, repeats shortened again ("cứu" → "cuu" → "cu", as "cuuu" typed plain becomes)."""
    return _REPEATS.sub(r"\1", fold(word))


def _words(text: str) -> list[str]:
    """Lower-case words with diacritics kept, punctuation dropped (apostrophes joined: "can't" → "cant"), each run of
    one repeated letter shortened to one ("chếttt" → "chết", and so "kill" → "kil" on both sides of a match)."""
    composed = unicodedata.normalize("NFC", text.casefold().replace("'", "").replace("’", ""))
    return [_REPEATS.sub(r"\1", word) for word in _WORD.findall(composed)]


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    accented: bool  # match the words with their diacritics ("=" in the data file), else without
    kind: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    phrases: tuple[_Phrase, ...] = ()
    ignored: tuple[_Phrase, ...] = ()
    same: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, sources: Iterable[str]) -> Lexicon:
        """The contents of the data files (`kind<TAB>phrase`, `ignore<TAB>phrase`, `same<TAB>typed<TAB>word`)."""
        phrases: list[_Phrase] = []
        ignored: list[_Phrase] = []
        same: dict[str, str] = {}
        for source in sources:
            for number, raw in enumerate(source.splitlines(), 1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                parts = [part.strip() for part in line.split("\t")]
                if parts[0] == _SAME and len(parts) == 3:
                    same[_bare(parts[1])] = _bare(parts[2])
                    continue
                if len(parts) != 2 or (parts[0] != _IGNORE and parts[0] not in set(CrisisKind)):
                    raise ValueError(f"crisis phrases, line {number}: expected kind<TAB>phrase, got {raw!r}")
                accented = parts[1].startswith("=")
                words = _words(parts[1].removeprefix("="))
                if not words:
                    raise ValueError(f"crisis phrases, line {number}: no words in {raw!r}")
                phrase = _Phrase(tuple(words if accented else [_bare(w) for w in words]), accented, parts[0])
                (ignored if parts[0] == _IGNORE else phrases).append(phrase)
        return cls(tuple(phrases), tuple(ignored), same)


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    kind: CrisisKind
    phrase: str  # the list entry that matched (for tests and the benchmark; never stored or logged)


class CrisisDetector:
    def __init__(self, lexicon: Lexicon) -> None:
        if not lexicon.phrases:
            raise ValueError("no crisis phrases loaded")
        same = lexicon.same

        def read_as_typed(phrase: _Phrase) -> _Phrase:  # "ko thở được" is looked for as "khong tho duoc"
            if phrase.accented:
                return phrase
            return _Phrase(tuple(same.get(w, w) for w in phrase.words), False, phrase.kind)

        self._lexicon = Lexicon(
            tuple(map(read_as_typed, lexicon.phrases)), tuple(map(read_as_typed, lexicon.ignored)), same
        )
        self._phrases = _Trie(self._lexicon.phrases)
        self._ignored = _Trie(self._lexicon.ignored)

    def detect(self, text: str) -> CrisisMatch | None:
        """The first listed phrase found outside every everyday look-alike, or None.

        Linear in the text: each word position walks a trie of phrase words (as deep as the longest phrase), so the
        work is words × (longest phrase), whatever the number of phrases; look-alikes are found the same way first.
        """
        accented = _words(text)
        bare = [self._lexicon.same.get(w, w) for w in map(_bare, accented)]
        aside = [0] * (len(accented) + 1)  # +1 where a look-alike starts, -1 after it ends
        for start in range(len(accented)):
            for index in self._ignored.starting_at(accented, bare, start):
                aside[start] += 1
                aside[start + len(self._lexicon.ignored[index].words)] -= 1
        covered = [0] * (len(accented) + 1)  # covered[i]: how many of the first i words are set aside
        depth = 0
        for i, change in enumerate(aside[:-1]):
            depth += change
            covered[i + 1] = covered[i] + (depth > 0)
        best: int | None = None
        for start in range(len(accented)):
            for index in self._phrases.starting_at(accented, bare, start):
                end = start + len(self._lexicon.phrases[index].words)
                if covered[end] == covered[start] and (best is None or index < best):
                    best = index
            if best == 0:
                break
        if best is None:
            return None
        phrase = self._lexicon.phrases[best]
        return CrisisMatch(CrisisKind(phrase.kind), " ".join(phrase.words))


class _Trie:
    """Phrases by their words, one trie for those matched with diacritics and one for those matched without.

    A node is a dict from a word to the next node; the key `_END` holds the indexes of the phrases ending there."""

    def __init__(self, phrases: Iterable[_Phrase]) -> None:
        self._accented: dict[str | None, Any] = {}
        self._bare: dict[str | None, Any] = {}
        for index, phrase in enumerate(phrases):
            node = self._accented if phrase.accented else self._bare
            for word in phrase.words:
                node = node.setdefault(word, {})
            node.setdefault(_END, []).append(index)

    def starting_at(self, accented: list[str], bare: list[str], start: int) -> Iterator[int]:
        """Indexes of the phrases whose words are those of the text from `start` on."""
        for root, words in ((self._accented, accented), (self._bare, bare)):
            node = root
            for i in range(start, len(words)):
                node = node.get(words[i])
                if node is None:
                    break
                yield from node.get(_END, ())
