"""What the planner wants for one person: pure functions of dates, hours and policies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checkin import QUESTION_ORDER, SKIPPED, next_question, risk_reasons, valid_answer
from bot.domain.entities import RiskLevel
from bot.domain.planning import (
    KnownObligation,
    ObligationKind,
    ObligationStatus,
    PlanPolicy,
    obligation_key,
    quarter_start,
    random_draw_windows,
    reminder_instants,
    unreported_absence_days,
    wanted_obligations,
    wanted_reminders,
)
from bot.domain.schedule import QuietHours, ReminderPolicy, Stage

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = PlanPolicy()


def obligation(kind: ObligationKind, due: date, oid: int = 1) -> KnownObligation:
    return KnownObligation(oid, obligation_key(kind, 7, due), kind, due, ObligationStatus.PENDING)


quiet_windows = st.tuples(st.integers(18, 23), st.integers(5, 9)).map(lambda se: QuietHours(time(se[0]), time(se[1])))


@settings(max_examples=300, deadline=None)
@given(
    due=st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    quiet=quiet_windows,
    kind=st.sampled_from(list(ObligationKind)),
)
def test_no_reminder_ever_lands_inside_quiet_hours(
    due: date, hour: int, minute: int, quiet: QuietHours, kind: ObligationKind
) -> None:
    policy = PlanPolicy(reminders=ReminderPolicy(quiet=quiet))
    for _stage, _offset, send, stale in reminder_instants(obligation(kind, due), time(hour, minute), HANOI, policy):
        assert not quiet.contains(send.astimezone(HANOI)), send.astimezone(HANOI)
        assert send < stale  # every message can still go out the day it is meant for


def test_stages_per_kind_and_the_random_test_is_announced_only_on_its_day() -> None:
    due = date(2026, 12, 10)
    checkin = reminder_instants(obligation(ObligationKind.CHECKIN, due), time(19), HANOI, POLICY)
    assert [(s, o) for s, o, _, _ in checkin] == [(Stage.BEFORE, -3), (Stage.DUE_DAY, 0), (Stage.FOLLOW_UP, 1)]
    assert checkin[0][2].astimezone(HANOI) == datetime(2026, 12, 7, 19, tzinfo=HANOI)
    random = reminder_instants(obligation(ObligationKind.RANDOM_TEST, due), time(19), HANOI, POLICY)
    assert [(s, o) for s, o, _, _ in random] == [(Stage.DUE_DAY, 0)]
    assert random[0][2].astimezone(HANOI) == datetime(2026, 12, 10, 8, tzinfo=HANOI)  # by 08:00, not 19:00


def test_an_early_hour_waits_for_quiet_hours_to_end() -> None:
    [(_, _, send, _), *_] = reminder_instants(
        obligation(ObligationKind.CHECKIN, date(2026, 12, 10)), time(5), HANOI, POLICY
    )
    assert send.astimezone(HANOI) == datetime(2026, 12, 7, 7, tzinfo=HANOI)


def test_past_moments_are_not_planned_and_a_same_day_test_rides_on_the_check_in() -> None:
    due = date(2026, 12, 10)
    checkin = obligation(ObligationKind.CHECKIN, due, 1)
    test = KnownObligation(
        2, obligation_key(ObligationKind.TEST, 7, due), ObligationKind.TEST, due, ObligationStatus.PENDING
    )
    now = datetime(2026, 12, 8, 12, tzinfo=HANOI).astimezone(UTC)
    wanted = wanted_reminders([checkin, test], time(8), HANOI, now, POLICY)
    assert [w.payload["stage"] for w in wanted] == ["due_day", "follow_up"]
    assert all(w.payload["obligation_id"] == 1 and w.payload["with_test"] == 2 for w in wanted)
    done = KnownObligation(1, checkin.key, ObligationKind.CHECKIN, due, ObligationStatus.DONE)
    alone = wanted_reminders([done, test], time(8), HANOI, now, POLICY)
    assert [(w.payload["obligation_id"], w.payload["stage"]) for w in alone] == [(2, "due_day")]


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    months=st.sampled_from([12, 24]),
    today_offset=st.integers(-40, 800),
    risk=st.sampled_from(list(RiskLevel)),
)
def test_wanted_obligations_stay_inside_the_term_and_the_window(
    start: date, months: int, today_offset: int, risk: RiskLevel
) -> None:
    from bot.domain.terms import expected_end

    end = expected_end(start, months)
    today = start + timedelta(days=today_offset)
    wanted = wanted_obligations(7, start, end, risk, 10, today, POLICY)
    assert all(start <= w.due_on <= end for w in wanted)
    assert all(w.due_on <= today + timedelta(days=POLICY.horizon_days) for w in wanted)
    assert len({w.key for w in wanted}) == len(wanted)
    checkin_months = [(w.due_on.year, w.due_on.month) for w in wanted if w.kind is ObligationKind.CHECKIN]
    assert len(checkin_months) == len(set(checkin_months))
    if risk is RiskLevel.LOW:
        assert not [w for w in wanted if w.kind is ObligationKind.TEST]


def test_random_draw_windows_cover_the_rest_of_the_quarter_for_high_risk_only() -> None:
    today = date(2027, 2, 14)
    [window] = random_draw_windows(date(2026, 6, 1), date(2028, 6, 1), RiskLevel.HIGH, today, POLICY)
    assert (window.quarter, window.first, window.last, window.count) == (
        date(2027, 1, 1),
        date(2027, 2, 15),
        date(2027, 3, 31),
        1,
    )
    assert random_draw_windows(date(2026, 6, 1), date(2028, 6, 1), RiskLevel.MEDIUM, today, POLICY) == []
    # The term ends mid-quarter: the window stops with it; after the end there is nothing to draw.
    [short] = random_draw_windows(date(2026, 3, 1), date(2027, 3, 1), RiskLevel.HIGH, today, POLICY)
    assert short.last == date(2027, 3, 1)
    assert random_draw_windows(date(2026, 3, 1), date(2027, 2, 1), RiskLevel.HIGH, today, POLICY) == []
    assert quarter_start(date(2027, 12, 31)) == date(2027, 10, 1)


def test_unreported_absence_days_count_overlaps_once_and_ignore_reported_ones() -> None:
    spans = [
        (date(2027, 6, 1), date(2027, 6, 10), False),
        (date(2027, 6, 5), date(2027, 6, 12), False),
        (date(2027, 7, 1), date(2027, 7, 31), True),
        (date(2027, 8, 31), date(2027, 9, 1), False),
    ]
    assert unreported_absence_days(spans) == 12 + 2


def test_checkin_questions_risk_and_skips() -> None:
    assert next_question({}) == QUESTION_ORDER[0]
    assert next_question(dict.fromkeys(QUESTION_ORDER, SKIPPED)) is None
    assert valid_answer("mood", "5") and valid_answer("mood", SKIPPED)
    assert not valid_answer("mood", "6") and not valid_answer("nope", "1")
    assert risk_reasons({"cravings": "strong", "use": "private", "call": "no"}) == {"cravings"}
    assert risk_reasons({"cravings": "little", "use": "yes", "call": "yes"}) == {"use", "call"}
    assert risk_reasons(dict.fromkeys(QUESTION_ORDER, SKIPPED)) == set()


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    months=st.sampled_from([12, 24]),
    extra=st.integers(0, 40),
    today_offset=st.integers(-60, 800),
    risk=st.sampled_from(list(RiskLevel)),
    due_day=st.integers(1, 31),
)
def test_the_window_only_computation_equals_the_whole_term_one(
    start: date, months: int, extra: int, today_offset: int, risk: RiskLevel, due_day: int
) -> None:
    """The planner computes only the window's months; it must give what the whole-term rules give there."""
    from bot.domain.schedule import monthly_due_dates, periodic_test_dates
    from bot.domain.terms import expected_end

    end = expected_end(start, months, extra)
    today = start + timedelta(days=today_offset)
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = today + timedelta(days=POLICY.horizon_days)
    expected = {("checkin", d) for d in monthly_due_dates(start, end, due_day) if first <= d <= last}
    expected |= {("test", d) for d in periodic_test_dates(start, end, risk, due_day) if first <= d <= last}
    got = {(w.kind.value, w.due_on) for w in wanted_obligations(7, start, end, risk, due_day, today, POLICY)}
    assert got == expected
