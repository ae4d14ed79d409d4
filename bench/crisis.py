"""Benchmark: how often the crisis net answers a crisis, how often it raises a false alarm, and how fast it reads.

Not part of the test suite; it prints figures next to their targets. Run:
    .venv/bin/python -m bench.crisis [--show]

Why: the net runs on every message a participant sends, before anything else, and a miss can cost a life. Two
measurements, neither on data the model or its thresholds were fitted to:

- cross-validated on the corpus (tests/fixtures/crisis/): 5 folds by group (a message and its other spellings are
  always on the same side); in each, the model and its thresholds are trained on four fifths and measured on the
  fifth (the patterns are fixed: they were written while looking at this corpus);
- held out (tests/fixtures/crisis_heldout/): written apart, never read while the patterns were written or the model
  trained; measured with the shipped model.

Targets (issue 15): a crisis is answered — as a crisis or at least with the "are you safe?" question — in ≥ 0.98 of
crisis messages, ≥ 0.95 in every kind; ≤ 0.05 of look-alikes raise an alarm (answered as a crisis); the unsure band
is counted apart. ≤ 5 ms for the longest message the bot accepts.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.common import ok
from bench.crisis_training import fit, split_by_group
from bot.data import crisis_model_source, crisis_sources
from bot.domain.crisis import CrisisDetector, Lexicon, Model, Verdict
from bot.domain.crisis.corpus import FORMS, Example, Label, read
from bot.domain.crisis.corpus import YES_KINDS as KINDS

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "crisis"
HELDOUT = ROOT / "tests" / "fixtures" / "crisis_heldout"
LONGEST = 4000  # characters: the engine's max_text_length
SCREENED = 4 * LONGEST  # the engine screens up to this much of an overlong message

RECALL, KIND_RECALL, FPR, SPEED_MS = 0.98, 0.95, 0.05, 5.0

Decided = list[tuple[Example, Verdict]]


def _rates(decided: Decided) -> tuple[int, float, float, int, float, float]:
    """(crises, answered, as crisis, look-alikes, alarms, asked) — rates over their own count."""
    yes = [v for e, v in decided if e.label is Label.YES]
    no = [v for e, v in decided if e.label is Label.NO]
    answered = sum(v is not Verdict.NOTHING for v in yes) / len(yes) if yes else float("nan")
    strict = sum(v is Verdict.CRISIS for v in yes) / len(yes) if yes else float("nan")
    alarms = sum(v is Verdict.CRISIS for v in no) / len(no) if no else float("nan")
    asked = sum(v is Verdict.UNSURE for v in no) / len(no) if no else float("nan")
    return len(yes), answered, strict, len(no), alarms, asked


def _table(title: str, decided: Decided) -> None:
    crises, answered, strict, lookalikes, alarms, asked = _rates(decided)
    print(f"\n{title}")
    print(f"  crises {crises}: answered {answered:.3f} (target ≥ {RECALL}: {ok(answered >= RECALL)}), "
          f"as a crisis {strict:.3f}, asked only {answered - strict:.3f}")  # fmt: skip
    print(f"  look-alikes {lookalikes}: alarms {alarms:.3f} (target ≤ {FPR}: {ok(alarms <= FPR)}), asked {asked:.3f}")
    print("  by kind (crises: answered / as a crisis; target ≥ 0.95 each)")
    for kind in KINDS:
        of_kind = [(e, v) for e, v in decided if e.label is Label.YES and e.kind == kind]
        if of_kind:
            _, a, s, _, _, _ = _rates(of_kind)
            print(f"    {kind:<10} {len(of_kind):>4}  {a:.3f} / {s:.3f}  {ok(a >= KIND_RECALL)}")
    print("  by form (crises answered · look-alikes alarmed · look-alikes asked)")
    for form in FORMS:
        of_form = [(e, v) for e, v in decided if e.form == form]
        if of_form:
            _, a, _, _, f, u = _rates(of_form)
            print(f"    {form:<7} {len(of_form):>4}  {a:.3f} · {f:.3f} · {u:.3f}")
    ambiguous = Counter(v.value for e, v in decided if e.label is Label.AMBIGUOUS)
    if ambiguous:
        print("  ambiguous: " + ", ".join(f"{ambiguous[v.value]} {v.value}" for v in Verdict))


def cross_validated(examples: list[Example], lexicon: Lexicon) -> Decided:
    decided: Decided = []
    for train, held in split_by_group(examples):
        fitted = fit([examples[i] for i in train], lexicon)
        detector = CrisisDetector(lexicon, fitted.model())
        decided += [(examples[i], detector.assess(examples[i].text).verdict) for i in held]
    return decided


def _decide(detector: CrisisDetector, examples: Sequence[Example]) -> Decided:
    return [(e, detector.assess(e.text).verdict) for e in examples]


def _longest(length: int, seed: int) -> str:
    """A message of distinct made-up words: nothing cached helps, no pattern decides early, the model reads it all."""
    rng = random.Random(seed)
    letters = "abcdeghiklmnopqrstuvxyàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < length - 40:
        words.append("".join(rng.choice(letters) for _ in range(rng.randint(2, 7))))
    return " ".join(words)[:length]


def speed(detector: CrisisDetector, examples: list[Example]) -> None:
    print("\nSpeed (one core, this machine)")
    texts = [e.text for e in examples]
    started = time.perf_counter()
    for text in texts:
        detector.assess(text)
    print(f"  corpus: {(time.perf_counter() - started) * 1000 / len(texts):.3f} ms per message")
    for length, label in ((LONGEST, "the longest accepted"), (SCREENED, "an overlong one, as far as it is screened")):
        worst = 0.0
        for seed in range(5):
            text = _longest(length, seed)
            fresh = CrisisDetector(LEXICON, Model._load(crisis_model_source()))  # no word scored yet
            started = time.perf_counter()
            fresh.assess(text, LONGEST)  # as the engine screens it: the model reads the first LONGEST characters
            worst = max(worst, (time.perf_counter() - started) * 1000)
        target = f"(target ≤ {SPEED_MS} ms: {ok(worst <= SPEED_MS)})" if length == LONGEST else "(no target)"
        print(f"  {label} ({length} characters of distinct words): {worst:.2f} ms, worst of 5 {target}")


LEXICON = Lexicon.parse(crisis_sources())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", action="store_true", help="print every held-out crisis missed and alarm raised")
    args = parser.parse_args()
    examples = read(CORPUS.glob("*.tsv"))
    heldout = read(HELDOUT.glob("*.tsv"))
    counts = Counter(e.label.value for e in examples)
    print(f"Crisis net — corpus {len(examples)} messages in {len({e.group for e in examples})} groups "
          f"({', '.join(f'{n} {k}' for k, n in counts.most_common())}); held out {len(heldout)} messages")  # fmt: skip
    shipped = CrisisDetector(LEXICON, Model.load(crisis_model_source()))
    patterns_only = CrisisDetector(LEXICON)
    _table("Cross-validated on the corpus (5 folds by group; model and thresholds fitted on the other four)",
           cross_validated(examples, LEXICON))  # fmt: skip
    held = _decide(shipped, heldout)
    _table("Held out (the shipped model; never read while writing the patterns or training)", held)
    _table("Held out, the patterns alone (no learned stage), for contrast", _decide(patterns_only, heldout))
    speed(shipped, examples)
    if args.show:
        for example, verdict in held:
            wrong = (example.label is Label.YES and verdict is Verdict.NOTHING) or (
                example.label is Label.NO and verdict is Verdict.CRISIS
            )
            if wrong:
                print(f"  {example.label.value}/{example.kind} → {verdict.value}: {example.text}")


if __name__ == "__main__":
    main()
