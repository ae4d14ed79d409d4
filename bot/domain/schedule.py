"""When things are due and when messages may go out: monthly check-ins, periodic and random drug tests, reminder
stages, quiet hours and escalation. Pure functions of dates and policies; the caller passes the instant ("now").

Check-ins: one per calendar month of the term, on the commune's due day (clamped to short months), never before the
term starts nor after it ends. Periodic tests follow the risk level (high: every month, medium: every quarter,
low: none). Random tests for people at risk of relapse are drawn with the OS CSPRNG on working days.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache

from bot.domain.entities import RiskLevel


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every calendar month that overlaps [first, last]."""
    months = []
    cursor = first.replace(day=1)
    while cursor <= last:
        months.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def clamp_day(month_start: date, day: int) -> date:
    return month_start.replace(day=min(day, calendar.monthrange(month_start.year, month_start.month)[1]))


def monthly_due_dates(term_start: date, term_end: date, due_day: int) -> list[date]:
    """Exactly one due date in each calendar month of the term, inside the term."""
    if not 1 <= due_day <= 31:
        raise ValueError("the due day is a day of the month, 1-31")
    if term_end < term_start:
        raise ValueError("a term cannot end before it starts")
    return [min(max(clamp_day(month, due_day), term_start), term_end) for month in month_starts(term_start, term_end)]


TEST_EVERY_MONTHS: dict[RiskLevel, int | None] = {RiskLevel.HIGH: 1, RiskLevel.MEDIUM: 3, RiskLevel.LOW: None}


def periodic_test_dates(
    term_start: date, term_end: date, risk: RiskLevel, due_day: int, every: dict[RiskLevel, int | None] | None = None
) -> list[date]:
    """Scheduled tests: every n-th month of the term counted from its first month (none for low risk)."""
    interval = (every or TEST_EVERY_MONTHS)[risk]
    if interval is None:
        return []
    return monthly_due_dates(term_start, term_end, due_day)[::interval]


@dataclass(frozen=True, slots=True)
class RandomDraw:
    """One unannounced test day, with what the audit log needs to show it was not chosen by a person."""

    day: date
    window_start: date
    window_end: date
    candidates: int


def draw_random_test_days(
    window_start: date,
    window_end: date,
    count: int,
    working_days: Sequence[int] = (0, 1, 2, 3, 4),
    rng: secrets.SystemRandom | None = None,
) -> list[RandomDraw]:
    """`count` distinct working days in the window, drawn with the OS CSPRNG (not predictable from the schedule)."""
    candidates = _working_days(window_start, window_end, tuple(working_days))
    if count < 0:
        raise ValueError("count cannot be negative")
    chosen = (rng or secrets.SystemRandom()).sample(candidates, min(count, len(candidates)))
    return [RandomDraw(day, window_start, window_end, len(candidates)) for day in sorted(chosen)]


@lru_cache(maxsize=1024)
def _working_days(first: date, last: date, working_days: tuple[int, ...]) -> tuple[date, ...]:
    """The working days of [first, last]: the same few windows for everyone drawn in a quarter, so computed once."""
    return tuple(
        first + timedelta(days=offset)
        for offset in range((last - first).days + 1)
        if (first + timedelta(days=offset)).weekday() in working_days
    )


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Nothing is sent between `start` and `end` local time (the window may cross midnight)."""

    start: time = time(21, 0)
    end: time = time(7, 0)

    def contains(self, local: datetime) -> bool:
        moment = local.time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def next_allowed(self, when: datetime, tz: tzinfo) -> datetime:
        """`when` itself if allowed, else the moment the window opens (same tz-aware type as given)."""
        local = when.astimezone(tz)
        if not self.contains(local):
            return when
        opening = datetime.combine(local.date(), self.end, tzinfo=tz)
        if opening <= local:
            opening = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        return opening.astimezone(when.tzinfo)


class Stage(StrEnum):
    """The messages about one obligation, in the order they may happen."""

    BEFORE = "before"  # some days ahead
    DUE_DAY = "due_day"  # the morning of the due day
    FOLLOW_UP = "follow_up"  # the day after, if not done
    ESCALATE = "escalate"  # to the cadre, if still not done


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    days_before: tuple[int, ...] = (3,)
    follow_up_after_days: int = 1
    escalate_after_days: int = 3
    quiet: QuietHours = field(default_factory=QuietHours)


def reminder_plan(
    due: date, preferred: time, tz: tzinfo, policy: ReminderPolicy | None = None
) -> list[tuple[Stage, int, datetime]]:
    """(stage, days offset, instant in UTC) for one obligation; every instant is outside quiet hours."""
    policy = policy or ReminderPolicy()
    offsets: list[tuple[Stage, int]] = [(Stage.BEFORE, -d) for d in sorted(policy.days_before, reverse=True)]
    offsets += [
        (Stage.DUE_DAY, 0),
        (Stage.FOLLOW_UP, policy.follow_up_after_days),
        (Stage.ESCALATE, policy.escalate_after_days),
    ]
    plan = []
    for stage, offset in offsets:
        local = datetime.combine(due + timedelta(days=offset), preferred, tzinfo=tz)
        plan.append((stage, offset, policy.quiet.next_allowed(local, tz).astimezone(UTC)))
    return plan


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Who hears about a problem: the assigned cadre first; the officer when there is no cadre or they did not act."""

    cadre_must_act_within: timedelta = timedelta(days=2)
    crisis_cadre_must_act_within: timedelta = timedelta(hours=1)  # a crisis alert not acknowledged: the officers too

    def recipients(self, has_cadre: bool, raised_at: datetime, acknowledged: bool, now: datetime) -> set[str]:
        if not has_cadre:
            return {"officer"}
        if not acknowledged and now - raised_at >= self.cadre_must_act_within:
            return {"cadre", "officer"}
        return {"cadre"}
