"""The cadre workspace's pure rules: what a result does, who is most urgent, when the quarterly review is asked."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.fieldwork import (
    CaseloadFacts,
    InPersonOutcome,
    ReviewPolicy,
    TestOutcome,
    in_person_obligation_status,
    initials,
    quarter_label,
    quarter_last_day,
    result_escalates,
    review_reminder_days,
    review_window,
    status_after_result,
    urgency,
)
from bot.domain.planning import ObligationStatus
from bot.domain.text import fold


@pytest.mark.parametrize(
    ("outcome", "escalates", "status"),
    [
        (TestOutcome.NEGATIVE, False, ObligationStatus.DONE),
        (TestOutcome.POSITIVE, True, ObligationStatus.DONE),
        (TestOutcome.REFUSED, True, ObligationStatus.DONE),
        (TestOutcome.NO_SHOW, True, ObligationStatus.MISSED),
        (TestOutcome.INVALID, False, None),
    ],
)
def test_what_a_result_does(outcome: TestOutcome, escalates: bool, status: ObligationStatus | None) -> None:
    assert result_escalates(outcome) is escalates
    assert status_after_result(outcome) is status


def test_only_presence_closes_the_months_check_in() -> None:
    assert in_person_obligation_status(InPersonOutcome.PRESENT) is ObligationStatus.DONE
    assert in_person_obligation_status(InPersonOutcome.ABSENT) is None
    assert in_person_obligation_status(InPersonOutcome.UNREACHABLE) is None


def test_initials_and_folding_ignore_diacritics() -> None:
    assert initials("Nguyễn Văn An") == "nva"
    assert initials("Đỗ Thị Bích") == "dtb"
    assert fold("  ĐỖ   Thị  BÍCH ") == "do thi bich"


def _facts(pid: int, **kw: object) -> CaseloadFacts:
    base: dict[str, object] = {
        "participant_id": pid, "name": f"P{pid}", "overdue": 0, "next_due": None, "last_checkin": None,
        "risk_flag": False, "open_escalations": 0,
    }  # fmt: skip
    return CaseloadFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_most_urgent_first() -> None:
    today = date(2026, 12, 12)
    people = [
        _facts(1),
        _facts(2, next_due=date(2026, 12, 20)),
        _facts(3, next_due=date(2026, 12, 13)),
        _facts(4, risk_flag=True),
        _facts(5, overdue=2),
        _facts(6, open_escalations=1),
    ]
    assert [f.participant_id for f in sorted(people, key=lambda f: urgency(f, today))] == [6, 5, 4, 3, 2, 1]


def test_quarters() -> None:
    assert quarter_label(date(2026, 11, 30)) == "2026-Q4"
    assert quarter_last_day(date(2026, 11, 30)) == date(2026, 12, 31)
    assert quarter_last_day(date(2027, 2, 10)) == date(2027, 3, 31)


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (date(2026, 12, 27), None),
        (date(2026, 12, 28), "2026-Q4"),
        (date(2027, 1, 7), "2026-Q4"),
        (date(2027, 1, 8), None),
        (date(2027, 3, 29), "2027-Q1"),
    ],
)
def test_review_window(today: date, quarter: str | None) -> None:
    window = review_window(today, ReviewPolicy())
    assert (window.quarter if window else None) == quarter


def test_review_is_asked_then_reminded_until_the_deadline() -> None:
    window = review_window(date(2026, 12, 28), ReviewPolicy())
    assert window is not None and window.due_on == date(2027, 1, 7)
    assert review_reminder_days(window, ReviewPolicy()) == [
        date(2026, 12, 28), date(2026, 12, 31), date(2027, 1, 3), date(2027, 1, 6),
    ]  # fmt: skip
