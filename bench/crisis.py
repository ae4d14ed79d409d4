"""Benchmark: recall and precision of the crisis phrase list over the labelled table, and its speed.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.crisis [--table tests/fixtures/crisis_messages.tsv] [--show]

Why: the detector runs on every message a participant sends, before any other handler. Misses are worse than false
alarms; the table has crises written the ways people write them (with and without diacritics, abbreviations,
repeated letters, English), everyday look-alikes, and the documented limits (`miss`, `false_alarm` lines), which count
against the figures here as they would in life. Target: every listed crisis caught on the curated lines, recall over
all crisis lines ≥ 0.9, precision ≥ 0.95, ≤ 0.2 ms per message.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import ok
from bot.data import crisis_sources
from bot.domain.crisis import CrisisDetector, Lexicon

DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "crisis_messages.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--show", action="store_true", help="print every wrong decision")
    args = parser.parse_args()
    rows = [
        line.split("\t", 1)
        for line in args.table.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    detector = CrisisDetector(Lexicon.parse(crisis_sources()))
    started = time.perf_counter()
    decisions = [(label, message, detector.detect(message) is not None) for label, message in rows]
    per_message_ms = (time.perf_counter() - started) * 1000 / len(rows)
    crisis = {"crisis", "miss"}
    tp = sum(1 for label, _, fired in decisions if label in crisis and fired)
    fn = sum(1 for label, _, fired in decisions if label in crisis and not fired)
    fp = sum(1 for label, _, fired in decisions if label not in crisis and fired)
    tn = sum(1 for label, _, fired in decisions if label not in crisis and not fired)
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    print(f"{len(rows)} messages: {tp + fn} crises, {fp + tn} not")
    print(f"  caught {tp}, missed {fn}; false alarms {fp}, quiet {tn}")
    print(f"  recall    {recall:.3f}  (target ≥ 0.90: {ok(recall >= 0.9)})")
    print(f"  precision {precision:.3f}  (target ≥ 0.95: {ok(precision >= 0.95)})")
    print(f"  {per_message_ms:.3f} ms per message  (target ≤ 0.2 ms: {ok(per_message_ms <= 0.2)})")
    if args.show:
        for label, message, fired in decisions:
            if fired != (label in crisis):
                print(f"  {'FALSE ALARM' if fired else 'MISSED'}: {message}")


if __name__ == "__main__":
    main()
