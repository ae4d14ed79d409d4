"""Schedule rules: property tests over whole terms, and the edges people actually hit (February, month ends)."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.entities import RiskLevel
from bot.domain.schedule import (
    EscalationPolicy,
    QuietHours,
    ReminderPolicy,
    Stage,
    draw_random_test_days,
    monthly_due_dates,
    periodic_test_dates,
    reminder_plan,
)
from bot.domain.terms import expected_end

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=starts, months=st.sampled_from([12, 24]), due_day=st.integers(1, 31), absence=st.integers(0, 120))
def test_every_month_of_the_term_has_exactly_one_check_in(start: date, months: int, due_day: int, absence: int) -> None:
    end = expected_end(start, months, absence)
    dues = monthly_due_dates(start, end, due_day)
    per_month = Counter((d.year, d.month) for d in dues)
    assert all(count == 1 for count in per_month.values())
    assert len(dues) == (end.year - start.year) * 12 + end.month - start.month + 1
    assert all(start <= d <= end for d in dues)
    assert dues == sorted(dues)


def test_due_day_31_falls_on_the_last_day_of_short_months() -> None:
    dues = monthly_due_dates(date(2027, 1, 1), date(2027, 4, 30), 31)
    assert dues == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert monthly_due_dates(date(2028, 2, 1), date(2028, 2, 29), 30) == [date(2028, 2, 29)]


def test_first_and_last_months_stay_inside_the_term() -> None:
    dues = monthly_due_dates(date(2026, 1, 25), date(2026, 3, 5), 10)
    assert dues == [date(2026, 1, 25), date(2026, 2, 10), date(2026, 3, 5)]


@pytest.mark.parametrize(("risk", "count"), [(RiskLevel.HIGH, 12), (RiskLevel.MEDIUM, 4), (RiskLevel.LOW, 0)])
def test_periodic_tests_follow_the_risk_level(risk: RiskLevel, count: int) -> None:
    start = date(2026, 1, 1)
    assert len(periodic_test_dates(start, expected_end(start, 12) - timedelta(days=1), risk, 10)) == count


@settings(max_examples=200, deadline=None)
@given(
    due=starts,
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    quiet_start=st.integers(18, 23),
    quiet_end=st.integers(5, 9),
)
def test_no_reminder_ever_lands_in_quiet_hours(
    due: date, hour: int, minute: int, quiet_start: int, quiet_end: int
) -> None:
    quiet = QuietHours(time(quiet_start), time(quiet_end))
    plan = reminder_plan(due, time(hour, minute), HANOI, ReminderPolicy(days_before=(3,), quiet=quiet))
    assert [stage for stage, _, _ in plan] == [Stage.BEFORE, Stage.DUE_DAY, Stage.FOLLOW_UP, Stage.ESCALATE]
    for _, _, instant in plan:
        assert instant.tzinfo is not None
        assert not quiet.contains(instant.astimezone(HANOI))
    instants = [instant for _, _, instant in plan]
    assert instants == sorted(instants)


def test_a_held_message_goes_out_when_the_window_opens() -> None:
    quiet = QuietHours()
    late = datetime(2026, 12, 11, 22, 30, tzinfo=HANOI)
    early = datetime(2026, 12, 12, 5, 0, tzinfo=HANOI)
    assert quiet.next_allowed(late, HANOI) == datetime(2026, 12, 12, 7, 0, tzinfo=HANOI)
    assert quiet.next_allowed(early, HANOI) == datetime(2026, 12, 12, 7, 0, tzinfo=HANOI)
    noon = datetime(2026, 12, 12, 5, 0, tzinfo=UTC)  # 12:00 in Hà Nội
    assert quiet.next_allowed(noon, HANOI) == noon
    assert not QuietHours(time(7), time(7)).contains(late)  # an empty window


@settings(max_examples=100, deadline=None)
@given(start=starts, length=st.integers(0, 90), count=st.integers(0, 6))
def test_random_test_days_are_distinct_working_days_in_the_window(start: date, length: int, count: int) -> None:
    end = start + timedelta(days=length)
    draws = draw_random_test_days(start, end, count)
    days = [d.day for d in draws]
    assert len(set(days)) == len(days) <= count
    assert all(start <= d <= end and d.weekday() < 5 for d in days)
    assert all(d.candidates >= len(days) for d in draws)


def test_random_draws_are_not_predictable() -> None:
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    runs = {tuple(d.day for d in draw_random_test_days(start, end, 3)) for _ in range(20)}
    assert len(runs) > 15  # 20 draws of 3 out of ~260 working days practically never repeat
    seeded = draw_random_test_days(start, end, 2, rng=secrets.SystemRandom())
    assert len(seeded) == 2


def test_escalation_goes_to_the_officer_without_a_cadre_or_after_two_days() -> None:
    policy = EscalationPolicy()
    raised = datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert policy.recipients(False, raised, False, raised) == {"officer"}
    assert policy.recipients(True, raised, False, raised + timedelta(days=1)) == {"cadre"}
    assert policy.recipients(True, raised, False, raised + timedelta(days=2)) == {"cadre", "officer"}
    assert policy.recipients(True, raised, True, raised + timedelta(days=5)) == {"cadre"}


@pytest.mark.parametrize("bad", [0, 32])
def test_due_day_must_be_a_day_of_the_month(bad: int) -> None:
    with pytest.raises(ValueError, match="1-31"):
        monthly_due_dates(date(2026, 1, 1), date(2026, 2, 1), bad)
