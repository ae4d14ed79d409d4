#!/usr/bin/env python3
"""Train the crisis net's learned stage from the labelled corpus and write it with its training report.

    .venv/bin/python scripts/train_crisis_model.py            # writes bot/data/crisis/model.json and model_report.md
    .venv/bin/python scripts/train_crisis_model.py --check    # exit 1 when the shipped model is not the corpus's

Run it after changing the corpus (tests/fixtures/crisis/) or the phrase files; the test suite checks that the shipped
model is the one this script trains. The held-out set (tests/fixtures/crisis_heldout/) is never read here.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.crisis_training import (  # noqa: E402
    AMBIGUOUS_WEIGHT,
    ASK_RATE,
    DOUBT_RATE,
    FOLDS,
    MIN_DF,
    NGRAMS,
    WINDOW,
    C,
    Fitted,
    fit,
)  # fmt: skip
from bot.data import CRISIS_MODEL_FILE, crisis_sources  # noqa: E402
from bot.domain.crisis import Lexicon, Verdict  # noqa: E402
from bot.domain.crisis.corpus import Example, Label, problems, read  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "crisis"
REPORT = CRISIS_MODEL_FILE.with_name("model_report.md")


def corpus() -> list[Example]:
    examples = read(CORPUS.glob("*.tsv"))
    found = problems(examples)
    if found:
        raise SystemExit("the corpus has problems:\n" + "\n".join(found))
    return examples


def report(examples: list[Example], fitted: Fitted) -> str:
    """What was trained on, how, and how it did out of fold (every figure from a model that had not seen the group)."""
    oof = fitted.report["out_of_fold"]
    assert isinstance(oof, list)
    unsure = fitted.thresholds.unsure
    rows: Counter[tuple[str, str, str]] = Counter()
    for example, assessment in zip(examples, oof, strict=True):
        verdict = assessment.verdict.value
        if assessment.verdict is Verdict.CRISIS:
            verdict += f" ({assessment.stage.value})"
        rows[(example.label.value, example.kind, verdict)] += 1
    lines = [
        "# Crisis net: training report",
        "",
        "Written by `scripts/train_crisis_model.py` with `bot/data/crisis/model.json`; do not edit by hand.",
        "",
        f"- Corpus: {len(examples)} messages in {fitted.report['groups']} groups (tests/fixtures/crisis/): "
        + ", ".join(f"{n} {label}" for label, n in Counter(e.label.value for e in examples).most_common()),
        f"- Features: character {'–'.join(map(str, sorted(set(NGRAMS))))}-grams of each normalised word, the words "
        "and pairs of words, "
        f"counted times their idf, divided by Σ count × idf, kept when in ≥ {MIN_DF} "
        f"messages: {fitted.report['features']} features",
        f"- Model: logistic regression (liblinear, C = {C}, classes balanced; an ambiguous message weighs "
        f"{AMBIGUOUS_WEIGHT} of a crisis); long messages are read in windows of {WINDOW} words",
        f"- Thresholds, chosen on {FOLDS}-fold out-of-fold probabilities (folds by group): the model asks from "
        f"{unsure} (at most {ASK_RATE:.0%} of look-alikes asked or alarmed; with a time word it is a crisis); a "
        "pattern's match only asks below "
        f"{fitted.thresholds.doubt} (at most {DOUBT_RATE:.0%} of "
        "the crises the patterns match)",
        "",
        "## Out of fold, by label and kind (patterns first, then the model with these thresholds)",
        "",
        "| label | kind | messages | crisis (phrase) | crisis (model) | unsure | nothing |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = ("crisis (phrase)", "crisis (model)", "unsure", "nothing")
    for label in Label:
        kinds = sorted({k for (lab, k, _) in rows if lab == label.value})
        for kind in kinds:
            counts = [rows[(label.value, kind, v)] for v in verdicts]
            lines.append(f"| {label.value} | {kind} | {sum(counts)} | " + " | ".join(map(str, counts)) + " |")
    lines += ["", "The benchmark (`.venv/bin/python -m bench.crisis`) measures the whole net by group-wise cross-"
              "validation and on the held-out set, per kind and per form.", ""]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare with the shipped model")
    args = parser.parse_args()
    lexicon = Lexicon.parse(crisis_sources())
    examples = corpus()
    fitted = fit(examples, lexicon)
    written = fitted.to_json()
    if args.check:
        same = CRISIS_MODEL_FILE.exists() and CRISIS_MODEL_FILE.read_text("utf-8") == written
        print("the shipped model is the corpus's" if same else "the shipped model differs: run this script")
        raise SystemExit(0 if same else 1)
    CRISIS_MODEL_FILE.write_text(written, "utf-8")
    REPORT.write_text(report(examples, fitted), "utf-8")
    print(f"wrote {CRISIS_MODEL_FILE.relative_to(ROOT)} ({len(written) // 1024} KiB) and {REPORT.relative_to(ROOT)}")
    print(f"thresholds: unsure {fitted.thresholds.unsure}, doubt {fitted.thresholds.doubt}")


if __name__ == "__main__":
    main()
