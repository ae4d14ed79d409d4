"""The first stage: curated patterns the counselling team can read and edit (data files in bot/data/crisis).

- A **phrase** of a kind ("muốn chết", "rạch tay") is a crisis wherever it appears outside an everyday look-alike
  ("chết cười", "mệt muốn chết"), which is set aside first.
- A **rule** is a crisis when a word of each of its sets appears within `WINDOW` words: an act of taking with a
  quantity and a substance ("uống hết cả vỉ thuốc ngủ"), distress of the body with a recent use ("vừa chơi lại giờ
  tức ngực khó thở"), an intent with a means ("định nhảy cầu") — so "xem thi nhảy cầu" (diving) is not one.
- Words of the set `urgent` ("tối nay", "ngay bây giờ") raise what the learned stage was unsure of to a crisis.
- Words of the set `apart` ("đọc báo", "bộ phim", "hồi xưa", "in the game") say the message reports something apart
  from the person now: a match then asks whether they are safe instead of raising an alarm, unless the learned stage
  is sure of a crisis ("đọc báo thấy vụ tự tử ở cầu" is news; "xem phim xong chỉ muốn chết" still asks).

What it cannot do is in bot/data/crisis/README.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from bot.domain.crisis.words import accented as accented_words
from bot.domain.crisis.words import bare


class CrisisKind(StrEnum):
    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    OVERDOSE = "overdose"
    MEDICAL = "medical"  # a medical emergency after use: breathing, chest pain, someone who cannot be woken
    DANGER = "danger"


_KINDS = frozenset(CrisisKind)
WINDOW = 6  # words within which every set of a rule must be found
APART_WITHIN = 10  # words around a match within which an `apart` word says it is about news, a film or the past
URGENT = "urgent"  # the set of time words that raise urgency
APART = "apart"  # the set of words saying the message reports something apart from the person now (news, a film)
NUMBER = "<n>"  # in a set's phrase: a number written in digits, 5 or more ("20 viên"; "2 viên" is a dose)
_MANY = 5
_IGNORE, _SAME, _SET, _RULE = "ignore", "same", "set", "rule"
_END = None  # the trie key under which a node lists the entries ending there (no word is None)


@dataclass(frozen=True, slots=True)
class _Entry:
    words: tuple[str, ...]
    accented: bool  # match the words with their diacritics ("=" in the data file), else without
    tag: str  # a CrisisKind value, "ignore", or "set:<name>"


@dataclass(frozen=True, slots=True)
class Rule:
    kind: CrisisKind
    sets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    entries: tuple[_Entry, ...] = ()
    rules: tuple[Rule, ...] = ()
    same: dict[str, str] = field(default_factory=dict)
    trie: _Trie | None = None  # built once with the lexicon

    @classmethod
    def parse(cls, sources: Iterable[str]) -> Lexicon:
        """The contents of the data files: `kind<TAB>phrase`, `ignore<TAB>phrase`, `same<TAB>typed<TAB>word`,
        `set<TAB>name<TAB>phrase`, `rule<TAB>kind<TAB>set set…`. The same texts give the same lexicon, parsed once
        per process (thousands of lines: every application a test builds would otherwise parse them again)."""
        return _parsed(tuple(sources))

    @classmethod
    def _parse(cls, sources: tuple[str, ...]) -> Lexicon:
        raw_entries: list[tuple[str, str, int, str]] = []
        rules: list[Rule] = []
        same: dict[str, str] = {}
        for source in sources:
            for number, raw in enumerate(source.splitlines(), 1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                parts = [part.strip() for part in line.split("\t")]
                where = f"crisis phrases, line {number}"
                if parts[0] == _SAME and len(parts) == 3:
                    same[bare(parts[1])] = bare(parts[2])
                elif parts[0] == _SET and len(parts) == 3 and parts[1]:
                    raw_entries.append((f"{_SET}:{parts[1]}", parts[2], number, raw))
                elif parts[0] == _RULE and len(parts) == 3 and parts[1] in _KINDS and parts[2].split():
                    rules.append(Rule(CrisisKind(parts[1]), tuple(parts[2].split())))
                elif len(parts) == 2 and (parts[0] == _IGNORE or parts[0] in _KINDS):
                    raw_entries.append((parts[0], parts[1], number, raw))
                else:
                    raise ValueError(f"{where}: expected kind<TAB>phrase, got {raw!r}")
        entries = []
        for tag, phrase, number, raw in raw_entries:
            is_accented = phrase.startswith("=")
            words = accented_words(phrase.removeprefix("="))
            if not words:
                raise ValueError(f"crisis phrases, line {number}: no words in {raw!r}")
            if not is_accented:  # "ko thở được" is looked for as "khong tho duoc"
                words = [NUMBER if w == "n" and f"<{w}>" in phrase else same.get(bare(w), bare(w)) for w in words]
            entries.append(_Entry(tuple(words), is_accented, tag))
        defined = {entry.tag.removeprefix(f"{_SET}:") for entry in entries if entry.tag.startswith(f"{_SET}:")}
        for rule in rules:
            unknown = set(rule.sets) - defined
            if unknown:
                raise ValueError(f"crisis phrases: rule for {rule.kind} uses unknown sets {', '.join(sorted(unknown))}")
        return cls(tuple(entries), tuple(rules), same, _Trie(entries))


_parsed = lru_cache(maxsize=4)(Lexicon._parse)


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    kind: CrisisKind
    entry: str  # the phrase or rule that matched (for tests and the benchmark; never stored or logged)


@dataclass(frozen=True, slots=True)
class Found:
    match: CrisisMatch | None
    urgent: bool  # a time word raising urgency, outside any look-alike
    apart: bool = False  # a word near the match saying it is news, a film, a game or the past: the match only asks
    aside: tuple[bool, ...] = ()  # per word: inside an everyday look-alike (the model does not read those either)


class Patterns:
    def __init__(self, lexicon: Lexicon) -> None:
        if not any(entry.tag in _KINDS for entry in lexicon.entries):
            raise ValueError("no crisis phrases loaded")
        self._lexicon = lexicon
        self._trie = lexicon.trie or _Trie(lexicon.entries)

    @property
    def same(self) -> dict[str, str]:
        return self._lexicon.same

    def find(self, accented: list[str], plain: list[str]) -> Found:
        """The first listed phrase (or else rule) found outside every everyday look-alike.

        Linear in the text: each word position walks a trie of entry words (as deep as the longest entry), so the
        work is words × (longest entry), whatever the number of entries; a rule is checked over the positions of its
        sets' words in one pass.
        """
        entries = self._lexicon.entries
        starting_at = self._trie.starting_at
        hits = [(start, index) for start in range(len(accented)) for index in starting_at(accented, plain, start)]
        aside = [0] * (len(accented) + 1)  # +1 where a look-alike starts, -1 after it ends
        for start, index in hits:
            if entries[index].tag == _IGNORE:
                aside[start] += 1
                aside[start + len(entries[index].words)] -= 1
        covered = [0] * (len(accented) + 1)  # covered[i]: how many of the first i words are set aside
        depth = 0
        for i, change in enumerate(aside[:-1]):
            depth += change
            covered[i + 1] = covered[i] + (depth > 0)
        aside = tuple(covered[i + 1] > covered[i] for i in range(len(accented)))
        where: dict[str, list[int]] = {}
        phrases: list[tuple[int, int]] = []  # (entry, where it starts)
        for start, index in hits:
            entry = entries[index]
            if entry.tag == _IGNORE or covered[start + len(entry.words)] != covered[start]:
                continue
            if entry.tag.startswith(f"{_SET}:"):
                where.setdefault(entry.tag[len(_SET) + 1 :], []).append(start)
            else:
                phrases.append((index, start))
        urgent = URGENT in where
        apart = where.get(APART, ())
        if phrases:  # the first listed, preferring one not said of news, a film or the past
            index, start = min(phrases, key=lambda found: (_near(apart, found[1]), found[0]))
            match = CrisisMatch(CrisisKind(entries[index].tag), " ".join(entries[index].words))
            return Found(match, urgent, _near(apart, start), aside)
        for rule in self._lexicon.rules if where else ():  # a rule needs a word of each of its sets: none found
            at = _together(rule.sets, where)
            if at is not None:
                match = CrisisMatch(rule.kind, " + ".join(rule.sets))
                return Found(match, urgent, _near(where.get(APART, ()), at), aside)
        return Found(None, urgent, bool(apart), aside)


def _near(apart: Iterable[int], at: int) -> bool:
    """An `apart` word within `APART_WITHIN` words of the match: "đọc báo thấy người ta tự tử" reports news, but in "đọc
    báo thấy người ta tự tử, em cũng muốn tự tử theo" the person's own words are further on."""
    return any(abs(position - at) <= APART_WITHIN for position in apart)


def _together(sets: tuple[str, ...], where: dict[str, list[int]]) -> int | None:
    """Where a word of every set is found within `WINDOW` words of each other (the last of them), or None; one pass
    over their positions in order."""
    if any(name not in where for name in sets):
        return None
    events = sorted((position, name) for name in set(sets) for position in where[name])
    last: dict[str, int] = {}
    for position, name in events:
        last[name] = position
        if len(last) == len(set(sets)) and position - min(last.values()) <= WINDOW:
            return position
    return None


class _Trie:
    """Entries by their words, one trie for those matched with diacritics and one for those matched without.

    A node is a dict from a word to the next node; the key `_END` holds the indexes of the entries ending there;
    `NUMBER` stands for any word written in digits."""

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self._accented: dict[str | None, Any] = {}
        self._bare: dict[str | None, Any] = {}
        for index, entry in enumerate(entries):
            node = self._accented if entry.accented else self._bare
            for word in entry.words:
                node = node.setdefault(word, {})
            node.setdefault(_END, []).append(index)

    def starting_at(self, accented: list[str], bare_words: list[str], start: int) -> Iterator[int]:
        """Indexes of the entries whose words are those of the text from `start` on."""
        yield from _walk(self._accented, accented, start)
        yield from _walk(self._bare, bare_words, start)


def _walk(node: dict[str | None, Any], words: list[str], start: int) -> Iterator[int]:
    """A number of 5 or more follows both its own node and the `NUMBER` one (rare: a second walk from there)."""
    for i in range(start, len(words)):
        word = words[i]
        if NUMBER in node and word.isdecimal() and int(word[:6]) >= _MANY:
            yield from node[NUMBER].get(_END, ())
            yield from _walk(node[NUMBER], words, i + 1)
        node = node.get(word)  # type: ignore[assignment]
        if node is None:
            return
        yield from node.get(_END, ())
