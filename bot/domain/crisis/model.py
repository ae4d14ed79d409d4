"""The learned second stage: a linear model over the character n-grams, words and word pairs of the normalised words.

It catches the paraphrases a phrase list cannot hold ("ước gì ngủ luôn không dậy"). Trained by
scripts/train_crisis_model.py from the labelled corpus and shipped as bot/data/crisis/model.json (with its training
report); nothing is downloaded. Scoring is plain Python over dictionaries: each distinct word's features are computed
once, a long message is read in windows of `window` words and sentence by sentence (a crisis said in one sentence of
a long message is not diluted by the rest), and the highest probability counts — linear in the length.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

PAIR = "\x01"  # prefixes a pair of words, so it can never equal a character n-gram
WORD = "\x02"  # prefixes a whole word
MIN_WORDS = 5


def word_ngrams(word: str, low: int, high: int) -> list[str]:
    """The word padded with a space on each side, cut into `low`..`high` characters; a word shorter than an n-gram
    counts once whole."""
    padded = f" {word} "
    length = len(padded)
    if low >= length:
        return [padded]
    grams = [padded[i : i + size] for size in range(low, min(high, length - 1) + 1) for i in range(length - size + 1)]
    if high >= length:
        grams.append(padded)
    return grams


def features(words: Sequence[str], low: int, high: int) -> Iterator[str]:
    """Everything the model looks at in these words (training and scoring use this same function)."""
    for word in words:
        yield from word_ngrams(word, low, high)
        yield f"{WORD}{word}"
    for first, second in pairwise(words):
        yield f"{PAIR}{first} {second}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    unsure: float  # from this probability on, the person is asked whether they are safe (a crisis with a time word)
    doubt: float = 0.0  # below this one, a pattern's match only asks (the model reads it as everyday words)


class Model:
    """Each occurrence of a feature of the vocabulary counts its idf; the vector is divided by its sum (a message said
    twice, or one word said fifty times, weighs as once); the score is the bias plus its dot product with the
    coefficients. So a window's score is a ratio of sums over its words and pairs: each word's part is computed once,
    windows take differences of prefix sums."""

    def __init__(self, weights: dict[str, tuple[float, float]], bias: float, low: int, high: int, window: int,
                 thresholds: Thresholds) -> None:  # fmt: skip
        self._weights = weights  # feature → (coefficient × idf, idf)
        self._bias = bias
        self._low, self._high = low, high
        self.window = window
        self.thresholds = thresholds
        self._of_word = lru_cache(maxsize=16384)(self._word_part)

    @classmethod
    def load(cls, source: str) -> Model:
        """The same file gives the same model, read once per process (its word cache is shared too: scores do not
        depend on who asked)."""
        return _loaded(source)

    @classmethod
    def _load(cls, source: str) -> Model:
        data = json.loads(source)
        return cls(
            {str(k): (float(v[0]), float(v[1])) for k, v in data["weights"].items()},
            float(data["bias"]),
            int(data["ngrams"][0]),
            int(data["ngrams"][1]),
            int(data["window"]),
            Thresholds(
                float(data["thresholds"]["unsure"]),
                float(data["thresholds"].get("doubt", 0.0)),
            ),
        )

    def _word_part(self, word: str) -> tuple[float, float]:
        """(Σ coefficient × idf, Σ idf) over the word's features."""
        dot = square = 0.0
        for known in map(self._weights.get, word_ngrams(word, self._low, self._high)):
            if known is not None:
                dot += known[0]
                square += known[1]
        known = self._weights.get(f"{WORD}{word}")
        if known is not None:
            dot += known[0]
            square += known[1]
        return dot, square

    def probability(self, words: Sequence[str], sentences: Sequence[int] = ()) -> float | None:
        """The probability of a crisis in these (normalised) words: of the whole message when it is no longer than
        `window` words (as trained), else the highest over windows of `window` words, each sentence and each two
        sentences in a row (`sentences`: where each starts) — a crisis said in one sentence of a long message is not
        diluted by the rest. None for fewer than `MIN_WORDS`: a few words ("không", "tôi ổn", "em sẽ đợi", "tối nay
        em bận") are answers and requests, which a model of sentences reads as noise; what they say of a crisis, the
        patterns say ("muốn chết", "kms", "ngủ luôn khỏi dậy")."""
        if len(words) < MIN_WORDS:
            return None
        weights = self._weights
        dots, squares = [0.0], [0.0]  # prefix sums: words, then the pair each word starts
        pair_dots, pair_squares = [0.0], [0.0]
        for i, word in enumerate(words):
            dot, square = self._of_word(word)
            dots.append(dots[-1] + dot)
            squares.append(squares[-1] + square)
            pair = weights.get(f"{PAIR}{word} {words[i + 1]}") if i + 1 < len(words) else None
            pair_dots.append(pair_dots[-1] + (pair[0] if pair else 0.0))
            pair_squares.append(pair_squares[-1] + (pair[1] if pair else 0.0))
        best = max(
            self._bias + (dot / square if square > 0 else 0.0)
            for start, end in self._spans(len(words), sentences)
            for dot, square in [(
                dots[end] - dots[start] + pair_dots[end - 1] - pair_dots[start],
                squares[end] - squares[start] + pair_squares[end - 1] - pair_squares[start],
            )]
        )  # fmt: skip
        return 1.0 / (1.0 + math.exp(-best))

    def _spans(self, length: int, sentences: Sequence[int]) -> Iterator[tuple[int, int]]:
        """[start, end) word ranges to score; linear in the length (each costs two prefix-sum differences)."""
        window = self.window
        if length <= window:
            yield 0, length
            return
        step = max(1, window // 2)
        for start in range(0, length - step, step):
            yield start, min(length, start + window)
        bounds = [*sentences, length] if sentences and sentences[0] == 0 else [0, *sentences, length]
        for i in range(len(bounds) - 1):
            for end in bounds[i + 1 : i + 3]:  # one sentence, then two in a row (not "Xong rồi." alone: too short)
                if MIN_WORDS <= end - bounds[i] <= window:
                    yield bounds[i], end


_loaded = lru_cache(maxsize=2)(Model._load)
