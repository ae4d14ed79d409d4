"""Crisis detection: does this message speak of suicide, self-harm, an overdose, a medical emergency after use or
acute danger — surely, maybe, or not?

Two stages. The curated patterns (`phrases`: phrases, look-alikes set aside, rules over word sets) are explainable
and editable by the counselling team; what they find is a crisis. Then a learned linear model (`model`) reads the
same normalised words and catches paraphrases the patterns miss: above its crisis threshold it is a crisis, above its
unsure threshold the person is asked gently whether they are safe (and a time word such as "tối nay" makes that a
crisis). A match in a message about news, a film, a game or the past only asks, unless the model is sure. Misses
are worse than false alarms. Nothing here logs or keeps the words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.domain.crisis.model import Model, Thresholds
from bot.domain.crisis.phrases import CrisisKind, CrisisMatch, Found, Lexicon, Patterns
from bot.domain.crisis.words import accented, plain, read

__all__ = [
    "Assessment",
    "CrisisDetector",
    "CrisisKind",
    "CrisisMatch",
    "Deferred",
    "Lexicon",
    "Model",
    "Thresholds",
    "Verdict",
    "decide",
]


class Verdict(StrEnum):
    CRISIS = "crisis"  # the safety reply, an urgent referral, alerts
    UNSURE = "unsure"  # "are you safe?" with the hotlines; "I need help now" or silence escalates
    NOTHING = "nothing"


class Stage(StrEnum):
    """Which stage decided (for the benchmark and tests; never stored)."""

    PHRASE = "phrase"
    MODEL = "model"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Assessment:
    verdict: Verdict
    kind: CrisisKind | None = None  # what the patterns recognised, if they matched
    stage: Stage = Stage.NONE
    probability: float = 0.0  # the model's; 0 when the patterns decided first

    @property
    def concerning(self) -> bool:
        return self.verdict is not Verdict.NOTHING


NOTHING = Assessment(Verdict.NOTHING)


def decide(found: Found, probability: float | None, thresholds: Thresholds | None) -> Assessment:
    """The verdict from what the patterns found and the model's probability (None: no model).

    The patterns decide crises and the model decides questions, so every alarm can be traced to a line a counsellor
    can read. A match is a crisis — unless the model reads the message as everyday words (below its doubt threshold)
    or a word near it says it is news, a film, a game or the past: then it is a question. Above its unsure threshold
    the model asks, and with a time word ("tối nay", "ngay bây giờ") that is a crisis. "I need help now", or no
    answer, turns a question into a crisis (bot/flows/safety)."""
    match = found.match
    kind = match.kind if match is not None else None
    doubted = probability is not None and thresholds is not None and probability < thresholds.doubt
    if match is not None and not found.apart and not doubted:
        return Assessment(Verdict.CRISIS, kind, Stage.PHRASE, probability or 0.0)
    if probability is None or thresholds is None:
        return Assessment(Verdict.UNSURE, kind, Stage.PHRASE) if match is not None else NOTHING
    if probability >= thresholds.unsure:
        return Assessment(Verdict.CRISIS if found.urgent else Verdict.UNSURE, kind, Stage.MODEL, probability)
    if match is not None:
        return Assessment(Verdict.UNSURE, kind, Stage.PHRASE, probability)
    return Assessment(Verdict.NOTHING, None, Stage.NONE, probability)


class Deferred:
    """A detector built on first use: a command that never reads a message (`unit list`, a `tick`) does not parse
    thousands of lines of patterns and a model. `run` builds it at start (`ready`), so a malformed data file stops
    the bot before it answers anyone."""

    def __init__(self, build: Callable[[], CrisisDetector]) -> None:
        self._build = build
        self._detector: CrisisDetector | None = None

    def ready(self) -> CrisisDetector:
        if self._detector is None:
            self._detector = self._build()
        return self._detector

    def assess(self, text: str, model_reads: int | None = None) -> Assessment:
        return self.ready().assess(text, model_reads)


def _first(words: list[str], characters: int) -> list[str]:
    total = 0
    for count, word in enumerate(words):
        total += len(word) + 1
        if total > characters:
            return words[:count]
    return words


class CrisisDetector:
    def __init__(self, lexicon: Lexicon, model: Model | None = None) -> None:
        self._patterns = Patterns(lexicon)
        self._model = model

    @property
    def model(self) -> Model | None:
        return self._model

    def assess(self, text: str, model_reads: int | None = None) -> Assessment:
        """`model_reads`: the model reads the words of about this many first characters (the patterns read all): an
        overlong message is screened further than the bot accepts, and the patterns are the cheaper stage."""
        found, seen, starts = self._read(text, model_reads)
        if self._model is None:
            return decide(found, None, None)
        thresholds = self._model.thresholds
        if len(seen) > self._model.window:  # the model's doubt is about a message as a whole, not one long page
            thresholds = replace(thresholds, doubt=0.0)
        return decide(found, self._model.probability(seen, starts), thresholds)

    def found(self, text: str) -> tuple[Found, list[str]]:
        """What the patterns find, and the words the model reads (training scores those with its own models)."""
        found, seen, _ = self._read(text, None)
        return found, seen

    def _read(self, text: str, model_reads: int | None) -> tuple[Found, list[str], list[int]]:
        """The patterns' findings, and the words the model reads — without the look-alikes the patterns set aside
        ("đói muốn chết" is hunger to the model too) and a word said again at once, up to `model_reads` characters —
        with where sentences start."""
        words, sentences = read(text)
        bare = plain(words, self._patterns.same)
        found = self._patterns.find(words, bare)
        if model_reads is not None and len(text) > model_reads:
            bare = _first(bare, model_reads)
        kept: list[str] = []
        starts: list[int] = []
        sentence = iter(sentences)
        next_start = next(sentence, None)
        for index, (word, aside) in enumerate(zip(bare, found.aside, strict=False)):
            while next_start is not None and next_start <= index:
                if not starts or starts[-1] != len(kept):
                    starts.append(len(kept))
                next_start = next(sentence, None)
            if not aside and (not kept or kept[-1] != word):  # "rất rất rất…" is read once
                kept.append(word)
        return found, kept, [start for start in starts if start < len(kept)]

    def match(self, text: str) -> CrisisMatch | None:
        """What the patterns alone find (the counselling team's table test)."""
        words = accented(text)
        return self._patterns.find(words, plain(words, self._patterns.same)).match
