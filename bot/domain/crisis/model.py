"""The learned second stage: a linear model over the character n-grams, words and word pairs of the normalised words.

It catches the paraphrases a phrase list cannot hold ("ước gì ngủ luôn không dậy"). Trained by
scripts/train_crisis_model.py from the labelled corpus and shipped as bot/data/crisis/model.json (with its training
report); nothing is downloaded. Scoring is plain Python over dictionaries: each distinct word's features are computed
once, a long message is read in overlapping windows of `window` words (a crisis said in one sentence of a long
message is not diluted by the rest), and the highest probability counts — linear in the length.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

PAIR = "\x01"  # prefixes a pair of words, so it can never equal a character n-gram
WORD = "\x02"  # prefixes a whole word


def word_ngrams(word: str, low: int, high: int) -> Iterator[str]:
    """The word padded with a space on each side, cut into `low`..`high` characters; a word shorter than an n-gram
    counts once whole."""
    padded = f" {word} "
    for size in range(low, high + 1):
        if size >= len(padded):
            yield padded
            return
        for start in range(len(padded) - size + 1):
            yield padded[start : start + size]


def features(words: Sequence[str], low: int, high: int) -> Iterator[str]:
    """Everything the model looks at in these words (training and scoring use this same function)."""
    for word in words:
        yield from word_ngrams(word, low, high)
        yield f"{WORD}{word}"
    for first, second in pairwise(words):
        yield f"{PAIR}{first} {second}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    unsure: float  # from this probability on, the person is asked whether they are safe
    crisis: float  # from this one on, it is answered as a crisis


class Model:
    """Scores like scikit-learn's TfidfVectorizer(sublinear_tf, norm="l2") then LogisticRegression: each feature of
    the vocabulary counts 1 + ln(times seen), times its idf; the vector is L2-normalised; the score is the bias plus
    its dot product with the coefficients."""

    def __init__(self, weights: dict[str, tuple[float, float]], bias: float, low: int, high: int, window: int,
                 thresholds: Thresholds) -> None:  # fmt: skip
        self._weights = weights  # feature → (coefficient × idf, idf)
        self._bias = bias
        self._low, self._high = low, high
        self.window = window
        self.thresholds = thresholds
        self._of_word = lru_cache(maxsize=16384)(self._word_features)

    @classmethod
    def load(cls, source: str) -> Model:
        data = json.loads(source)
        return cls(
            {str(k): (float(v[0]), float(v[1])) for k, v in data["weights"].items()},
            float(data["bias"]),
            int(data["ngrams"][0]),
            int(data["ngrams"][1]),
            int(data["window"]),
            Thresholds(float(data["thresholds"]["unsure"]), float(data["thresholds"]["crisis"])),
        )

    def _word_features(self, word: str) -> tuple[str, ...]:
        weights = self._weights
        return tuple(f for f in (*word_ngrams(word, self._low, self._high), f"{WORD}{word}") if f in weights)

    def probability(self, words: Sequence[str]) -> float:
        """The highest probability of a crisis over the windows of these (normalised) words; 0 for no words."""
        if not words:
            return 0.0
        step = max(1, self.window // 2)
        best = -math.inf
        for start in range(0, max(1, len(words) - step), step):
            best = max(best, self._score(words[start : start + self.window]))
        return 1.0 / (1.0 + math.exp(-best))

    def _score(self, words: Sequence[str]) -> float:
        weights = self._weights
        counts: Counter[str] = Counter()
        for word in words:
            counts.update(self._of_word(word))
        for first, second in pairwise(words):
            pair = f"{PAIR}{first} {second}"
            if pair in weights:
                counts[pair] += 1
        if not counts:
            return self._bias
        dot = norm = 0.0
        for feature, count in counts.items():
            weighted, idf = weights[feature]
            tf = 1.0 + math.log(count)
            dot += weighted * tf
            norm += (idf * tf) ** 2
        return self._bias + dot / math.sqrt(norm)
