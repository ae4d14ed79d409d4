"""The crisis phrase list against a table of Vietnamese and English messages (tests/fixtures/crisis_messages.tsv).

Every line is checked: crises are caught, everyday look-alikes are not, and the known limits (documented misses and
false alarms) are pinned so that a change to the lists that fixes or breaks one is noticed. `bench/crisis.py` prints
recall and precision over the same table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.data import crisis_sources
from bot.domain.crisis import CrisisDetector, CrisisKind, Lexicon

TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "crisis_messages.tsv"


def load_table() -> list[tuple[str, str]]:
    rows = []
    for line in TABLE.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, message = line.split("\t", 1)
            rows.append((label, message))
    return rows


ROWS = load_table()
DETECTOR = CrisisDetector(Lexicon.parse(crisis_sources()))


def test_the_table_is_large_and_balanced() -> None:
    labels = [label for label, _ in ROWS]
    assert len(ROWS) >= 150
    assert labels.count("crisis") >= 60 and labels.count("ok") >= 50
    assert set(labels) == {"crisis", "ok", "miss", "false_alarm"}


@pytest.mark.parametrize(("label", "message"), ROWS, ids=[f"{i}-{label}" for i, (label, _) in enumerate(ROWS)])
def test_decision(label: str, message: str) -> None:
    fired = DETECTOR.detect(message) is not None
    assert fired is (label in ("crisis", "false_alarm")), f"{label}: {message!r} → {DETECTOR.detect(message)}"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("muốn chết", CrisisKind.SUICIDE),
        ("rạch tay", CrisisKind.SELF_HARM),
        ("quá liều", CrisisKind.OVERDOSE),
        ("cứu tôi", CrisisKind.DANGER),
    ],
)
def test_kinds(message: str, kind: CrisisKind) -> None:
    found = DETECTOR.detect(message)
    assert found is not None and found.kind is kind


def test_accent_sensitive_phrases() -> None:
    """ "tự tử" (suicide) fires; "từ từ" (slowly) does not, though both are "tu tu" without diacritics."""
    assert DETECTOR.detect("tôi vừa tự tử") is not None
    assert DETECTOR.detect("từ từ thôi em") is None
    assert DETECTOR.detect("muon tu tu") is not None


def test_the_counselling_team_can_extend_the_list(tmp_path: Path) -> None:
    (tmp_path / "extra.tsv").write_text("suicide\tmuốn đi xa mãi\nsame\tmuonn\tmuon\n", "utf-8")
    extended = CrisisDetector(Lexicon.parse(crisis_sources(tmp_path)))
    assert DETECTOR.detect("muốn đi xa mãi") is None
    assert extended.detect("muon di xa mai") is not None


@pytest.mark.parametrize("bad", ["suicide muốn chết", "feelings\tsad", "suicide\t!!!"])
def test_a_malformed_line_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="crisis phrases, line 1"):
        Lexicon.parse([bad])
