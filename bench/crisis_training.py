"""Training the crisis net's learned stage, and measuring the whole net (shared by scripts/train_crisis_model.py, the
benchmark and the test that the shipped model is the one the corpus trains).

The model is a logistic regression (scikit-learn, liblinear: deterministic) over idf-weighted counts of the features
of `bot.domain.crisis.model.features` — the function the bot scores with, so training and scoring cannot
drift.
Its thresholds are chosen on out-of-fold probabilities (folds by group: a message and its other spellings are
never on both sides), so they are not tuned on what they are then measured on:

- `unsure`: the lowest probability at which at most `ASK_RATE` of the look-alikes are asked or alarmed (a question
  asked of everyone is read by no one: the budget holds even where the crises would want a lower threshold — the
  report and the benchmark show what that costs);
- `doubt`: below it a pattern's match only asks; at most `DOUBT_RATE` of the crises the patterns match fall below.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import diags
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from bot.domain.crisis import CrisisDetector, Lexicon, Model, Verdict, decide
from bot.domain.crisis.corpus import Example, Label
from bot.domain.crisis.model import Thresholds, features
from bot.domain.crisis.phrases import Found

NGRAMS = (3, 3)
WINDOW = 32
C = 256.0
MIN_DF = 2
FOLDS = 5
DOUBT_RATE = 0.01  # of the crises a pattern matches, at most this share may be only asked because the model doubts
ASK_RATE = 0.2  # look-alikes answered with a question or an alarm
AMBIGUOUS_WEIGHT = 0.5  # an ambiguous message counts as half a crisis: it should land between the thresholds
FLOOR = 0.2  # no threshold below this probability


@dataclass
class Fitted:
    weights: dict[str, tuple[float, float]]  # feature → (coefficient × idf, idf)
    bias: float
    thresholds: Thresholds
    report: dict[str, object] = field(default_factory=dict)

    def model(self) -> Model:
        return Model(self.weights, self.bias, NGRAMS[0], NGRAMS[1], WINDOW, self.thresholds)

    def to_json(self) -> str:
        data = {
            "about": "Crisis net, learned stage: logistic regression over character n-grams and word pairs of the "
            "normalised words. Written by scripts/train_crisis_model.py; do not edit by hand.",
            "ngrams": list(NGRAMS),
            "window": WINDOW,
            "bias": round(self.bias, 6),
            "thresholds": {
                "unsure": round(self.thresholds.unsure, 4),
                "doubt": round(self.thresholds.doubt, 4),
            },
            # every feature, zero or not: how many a message holds is the norm its score is divided by
            "weights": {k: [round(a, 5), round(b, 5)] for k, (a, b) in sorted(self.weights.items())},
        }
        return json.dumps(data, ensure_ascii=False, indent=0, sort_keys=False) + "\n"


def _analyzer(doc: str) -> list[str]:
    return list(features(doc.split(" ") if doc else [], *NGRAMS))


def _fit_linear(
    docs: Sequence[str], targets: Sequence[int], weights: Sequence[float]
) -> tuple[dict[str, tuple[float, float]], float]:
    """Counts times idf (scikit-learn's smoothed idf), each row divided by Σ count × idf (a message said twice
    scores as once) — what `Model` computes word by word — then a logistic regression."""
    vectorizer = CountVectorizer(analyzer=_analyzer, min_df=MIN_DF)
    counts = vectorizer.fit_transform(docs).tocsr().astype(np.float64)
    documents = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log((1 + counts.shape[0]) / (1 + documents)) + 1
    norms = counts @ idf
    norms[norms == 0] = 1.0
    matrix = diags(1 / norms) @ counts @ diags(idf)
    classifier = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=5000, random_state=0)
    classifier.fit(matrix, targets, sample_weight=np.asarray(weights))
    coefficients = classifier.coef_[0]
    features = {gram: (float(coefficients[i] * idf[i]), float(idf[i])) for gram, i in vectorizer.vocabulary_.items()}
    return features, float(classifier.intercept_[0])


def _targets(examples: Sequence[Example]) -> tuple[list[int], list[float]]:
    targets = [0 if e.label is Label.NO else 1 for e in examples]
    weights = [AMBIGUOUS_WEIGHT if e.label is Label.AMBIGUOUS else 1.0 for e in examples]
    return targets, weights


def fit(examples: Sequence[Example], lexicon: Lexicon) -> Fitted:
    """The model of these examples, its thresholds chosen on out-of-fold probabilities."""
    patterns = CrisisDetector(lexicon)
    read = [patterns.found(e.text) for e in examples]
    docs = [" ".join(words) for _, words in read]
    targets, weights = _targets(examples)
    out_of_fold: list[float | None] = [None] * len(examples)
    groups = [e.group for e in examples]
    for train, held in GroupKFold(n_splits=FOLDS).split(docs, targets, groups):
        fold_weights, fold_bias = _fit_linear([docs[i] for i in train], [targets[i] for i in train],
                                              [weights[i] for i in train])  # fmt: skip
        probe = Model(fold_weights, fold_bias, NGRAMS[0], NGRAMS[1], WINDOW, Thresholds(1.0, 1.0))
        for i in held:
            out_of_fold[i] = probe.probability(read[i][1])
    found = [f for f, _ in read]
    thresholds = choose(examples, found, out_of_fold)
    final_weights, final_bias = _fit_linear(docs, targets, weights)
    report = {"examples": len(examples), "groups": len(set(groups)), "features": len(final_weights),
              "out_of_fold": [decide(f, p, thresholds) for f, p in zip(found, out_of_fold, strict=True)]}  # fmt: skip
    return Fitted(final_weights, final_bias, thresholds, report)


def _rates(examples: Sequence[Example], verdicts: Sequence[Verdict]) -> tuple[float, float, float]:
    """(crises answered, look-alikes alarmed, look-alikes asked)."""
    yes = [v for e, v in zip(examples, verdicts, strict=True) if e.label is Label.YES]
    no = [v for e, v in zip(examples, verdicts, strict=True) if e.label is Label.NO]
    answered = sum(v is not Verdict.NOTHING for v in yes) / max(1, len(yes))
    alarmed = sum(v is Verdict.CRISIS for v in no) / max(1, len(no))
    return answered, alarmed, sum(v is Verdict.UNSURE for v in no) / max(1, len(no))


def choose(examples: Sequence[Example], found: Sequence[Found], probabilities: Sequence[float | None]) -> Thresholds:
    """The thresholds (see the module's docstring), simulated with the bot's own decision on out-of-fold
    probabilities: unsure is the lowest keeping questions and alarms to look-alikes within `ASK_RATE`, never below
    `FLOOR`."""
    candidates = [round(FLOOR + i * 0.005, 3) for i in range(int((1 - FLOOR) / 0.005) + 1)]

    def verdicts(unsure: float) -> list[Verdict]:
        limits = Thresholds(unsure)
        return [decide(f, p, limits).verdict for f, p in zip(found, probabilities, strict=True)]

    unsure = next((t for t in candidates if sum(_rates(examples, verdicts(t))[1:]) <= ASK_RATE), 1.0)
    matched = sorted(p for f, p, e in zip(found, probabilities, examples, strict=True)
                     if e.label is Label.YES and f.match is not None and not f.apart and p is not None)  # fmt: skip
    doubt = min(unsure, matched[int(DOUBT_RATE * len(matched))]) if matched else 0.0
    return Thresholds(unsure, round(doubt, 4))


def split_by_group(examples: Sequence[Example], folds: int = FOLDS) -> list[tuple[list[int], list[int]]]:
    groups = [e.group for e in examples]
    return [(list(a), list(b)) for a, b in GroupKFold(n_splits=folds).split(groups, groups, groups)]
