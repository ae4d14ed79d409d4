"""What cadres record about the people they accompany, and the rules that follow from it.

Pure: which outcomes close an obligation, which must reach the officer at once (Law 73/2021 Art. 22(3): test results
go to the commune chairman), how urgent a person is on the cadre's list, and when a quarter's review is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.planning import ObligationStatus
from bot.domain.terms import add_months
from bot.domain.text import fold


class InPersonOutcome(StrEnum):
    """The monthly in-person check (kiểm diện)."""

    PRESENT = "present"
    ABSENT = "absent"  # with a reason
    UNREACHABLE = "unreachable"  # could not be reached


class TestOutcome(StrEnum):
    __test__ = False  # not a pytest test class, despite its name
    NEGATIVE = "negative"
    POSITIVE = "positive"
    REFUSED = "refused"
    NO_SHOW = "no_show"
    INVALID = "invalid"  # invalid sample: the test must be repeated


class SubstanceGroup(StrEnum):
    OPIOIDS = "opioids"
    STIMULANTS = "stimulants"  # amphetamine-type (ma túy tổng hợp)
    CANNABIS = "cannabis"
    KETAMINE = "ketamine"
    OTHER = "other"


class ObservationCategory(StrEnum):
    FAMILY = "family"
    WORK = "work"
    HEALTH = "health"
    BEHAVIOUR = "behaviour"
    RELAPSE_RISK = "relapse_risk"
    SUPPORT = "support"
    OTHER = "other"


class ReviewProgress(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    CONCERNING = "concerning"


class ReportKind(StrEnum):
    """What a cadre saw in the community and the officer must confirm."""

    ABSENCE = "absence"
    MOVE = "move"


class ReportStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    VOID = "void"  # the person moved away before anyone decided it


class TransferStatus(StrEnum):
    PENDING = "pending"  # the receiving commune has the hand-over notice and has not answered
    ACCEPTED = "accepted"
    DECLINED = "declined"


ESCALATING_RESULTS = frozenset({TestOutcome.POSITIVE, TestOutcome.REFUSED, TestOutcome.NO_SHOW})


def result_escalates(outcome: TestOutcome) -> bool:
    """A positive, refused or missed test goes to the officer at once, whoever recorded it."""
    return outcome in ESCALATING_RESULTS


def status_after_result(outcome: TestOutcome) -> ObligationStatus | None:
    """What a recorded result does to the test it answers: a result (even a refusal) closes it, a no-show misses it,
    an invalid sample leaves it open for a repeat."""
    if outcome is TestOutcome.INVALID:
        return None
    if outcome is TestOutcome.NO_SHOW:
        return ObligationStatus.MISSED
    return ObligationStatus.DONE


def in_person_obligation_status(outcome: InPersonOutcome) -> ObligationStatus | None:
    """Present closes the month's check-in; absent or unreachable leaves it for the schedule to follow up."""
    return ObligationStatus.DONE if outcome is InPersonOutcome.PRESENT else None


@dataclass(frozen=True, slots=True)
class CaseloadFacts:
    """What the cadre's list shows for one person; gathered by a repository, ranked here."""

    participant_id: int
    name: str
    overdue: int  # open obligations past their day
    next_due: date | None
    last_checkin: date | None
    risk_flag: bool  # a risky check-in or an observation flagged as a risk, recently
    open_escalations: int


def urgency(facts: CaseloadFacts, today: date) -> tuple[int, int, int, str, int]:
    """Sort key, most urgent first: open escalations, then overdue items, a risk flag, what is due soonest."""
    days_to_next = (facts.next_due - today).days if facts.next_due else 10_000
    return (
        -facts.open_escalations,
        -facts.overdue,
        -int(facts.risk_flag),
        f"{max(days_to_next, -999) + 1000:05d}",
        facts.participant_id,
    )


def initials(name: str) -> str:
    """ "Nguyễn Văn An" → "nva" (without diacritics, so "NVA" or "nva" typed on any keyboard finds them)."""
    return "".join(word[0] for word in fold(name).split() if word)


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """The quarterly review (kiểm điểm cuối quý): asked from a few days before the quarter ends, reminded, and
    reported to the officer as missing after the deadline."""

    opens_days_before_end: int = 3
    due_days_after_end: int = 7
    reminder_every_days: int = 3


@dataclass(frozen=True, slots=True)
class ReviewWindow:
    quarter: str  # "2026-Q4"
    last_day: date  # the quarter's last day
    opens_on: date
    due_on: date


def quarter_label(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_last_day(day: date) -> date:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return add_months(first, 3) - timedelta(days=1)


def review_window(today: date, policy: ReviewPolicy) -> ReviewWindow | None:
    """The review being collected today, if any: the quarter ending soon, or the one that just ended."""
    for last in (quarter_last_day(today), quarter_last_day(today.replace(day=1) - timedelta(days=1))):
        window = ReviewWindow(
            quarter_label(last),
            last,
            last - timedelta(days=policy.opens_days_before_end),
            last + timedelta(days=policy.due_days_after_end),
        )
        if window.opens_on <= today <= window.due_on:
            return window
    return None


def review_reminder_days(window: ReviewWindow, policy: ReviewPolicy) -> list[date]:
    """The request on the day it opens, then a reminder every few days until the deadline."""
    days, day = [], window.opens_on
    while day <= window.due_on:
        days.append(day)
        day += timedelta(days=policy.reminder_every_days)
    return days
