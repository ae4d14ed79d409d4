"""The report's pure rules: which days a period covers, who is under management on a day and in which commune,
and how a span's facts split into months."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.reports.facts import Duty, Facts, Person, Request, by_month
from bot.domain.reports.figures import COUNT_KEYS, DEFINITIONS, LABELS, SECTIONS, tally
from bot.domain.reports.indicators import DEFINITIONS as INDICATOR_DEFINITIONS
from bot.domain.reports.indicators import NAMES, Indicator
from bot.domain.reports.period import PeriodError, parse_period, trailing_months


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        (" 2026-11-03..2026-11-09 ", date(2026, 11, 3), date(2026, 11, 9)),
    ],
)
def test_periods_as_written(text: str, first: date, last: date) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize(
    ("text", "message"),
    [("2026-13", "no such date"), ("2026-Q5", "is not a period"), ("11/2026", "is not a period"),
     ("2026-11-09..2026-11-03", "ends before"), ("2020-01-01..2026-01-01", "three years"), ("", "is not a period"),
     ("2026-02-30..2026-03-01", "no such date"), ("0001-01", "between 2000 and 2099"),
     ("9999-Q4", "between 2000 and 2099")],
)  # fmt: skip
def test_periods_refused(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_quarters_ending_in_a_period_and_trailing_months() -> None:
    assert parse_period("2026").quarter_ends() == [
        ("2026-Q1", date(2026, 3, 31)), ("2026-Q2", date(2026, 6, 30)), ("2026-Q3", date(2026, 9, 30)),
        ("2026-Q4", date(2026, 12, 31)),
    ]  # fmt: skip
    assert parse_period("2026-11").quarter_ends() == []
    assert parse_period("2026-09-15..2026-10-15").quarter_ends() == [("2026-Q3", date(2026, 9, 30))]
    labels = [p.label for p in trailing_months(parse_period("2026-Q1"), 12)]
    assert labels[0] == "2025-04" and labels[-1] == "2026-03" and len(set(labels)) == 12


def test_a_person_on_a_day_and_in_which_commune() -> None:
    moved = Person(1, date(2026, 1, 10), date(2027, 1, 10), None, ((date.min, 5), (date(2026, 11, 15), 6)))
    assert [moved.unit_on(date(2026, 11, day)) for day in (14, 15, 16)] == [5, 6, 6]
    done = Person(2, date(2025, 11, 30), date(2026, 11, 30), date(2026, 11, 30), ((date.min, 5),))
    assert done.managed_on(date(2026, 11, 29)) and not done.managed_on(date(2026, 11, 30))
    late = Person(3, date(2025, 11, 1), date(2026, 11, 13), None, ((date.min, 5),))
    assert late.managed_on(date(2026, 11, 13)) and not late.managed_on(date(2026, 11, 14))
    assert late.due_for_completion_on(date(2026, 11, 14)) and not late.due_for_completion_on(date(2026, 11, 13))
    assert not Person(4, date(2026, 12, 1), date(2027, 12, 1), None, ((date.min, 5),)).managed_on(date(2026, 11, 30))
    # Left the list (moved out of the province, removed) on the 10th: managed up to the 9th, never due to complete.
    gone = Person(5, date(2025, 11, 1), date(2026, 11, 13), None, ((date.min, 5),), date(2026, 11, 10))
    assert gone.managed_on(date(2026, 11, 9)) and not gone.managed_on(date(2026, 11, 10))
    assert not gone.due_for_completion_on(date(2026, 11, 14))


def test_a_span_split_into_months_tallies_like_each_month_alone() -> None:
    people = {1: Person(1, date(2026, 1, 1), date(2027, 1, 1), None, ((date.min, 5), (date(2026, 6, 15), 6)))}
    duties = [Duty(1, "checkin", date(2026, month, 10), "done" if month % 2 else "missed") for month in range(1, 13)]
    facts = Facts(people=people, duties=duties)
    months = trailing_months(parse_period("2026-12"), 12)
    shares = by_month(facts, [(m.first, m.last) for m in months])
    for month, share in zip(months, shares, strict=True):
        assert [duty.due_on.month for duty in share.duties] == [month.first.month]  # its own month's share only
        assert tally(share, month, {5, 6}).keys() == tally(facts, month, {5, 6}).keys()
        for unit, counted in tally(facts, month, {5, 6}).items():
            assert tally(share, month, {5, 6})[unit].counts == counted.counts
    june = tally(facts, parse_period("2026-06"), {5, 6})
    assert june[5].counts["checkins_due"] == 1 and june[6].counts["under_management_end"] == 1


def test_every_figure_and_indicator_has_a_label_and_a_definition() -> None:
    assert set(LABELS) == set(DEFINITIONS) == set(COUNT_KEYS)
    assert len(COUNT_KEYS) == len(set(COUNT_KEYS)) == sum(len(keys) for _, keys in SECTIONS)
    assert set(INDICATOR_DEFINITIONS) == set(NAMES)
    assert Indicator("relapse", 1, 10, 0.05).met is False and Indicator("relapse", 0, 10, 0.05).met is True
    assert Indicator("checkins", 3, 0, 1.0).value is None and Indicator("checkins", 3, 0, 1.0).met is None


def test_help_got_is_the_latest_request_of_the_period_and_met_is_exact() -> None:
    """An asked for a job in October and was advised; in November he asks again, still open: November's job support
    is 0 of 1 (an earlier request's help does not answer this one)."""
    person = {1: Person(1, date(2026, 1, 1), date(2027, 1, 1), None, ((date.min, 5),))}
    requests = [Request(1, "job", date(2026, 10, 3), date(2026, 10, 4), "advised"),
                Request(1, "job", date(2026, 11, 3), None, None)]  # fmt: skip
    facts = Facts(people=person, requests=requests)
    november, october = (tally(facts, parse_period(p), {5})[5] for p in ("2026-11", "2026-10"))
    assert (november.distinct("got_job"), november.distinct("asked_job")) == (0, 1)
    assert (october.distinct("got_job"), october.distinct("asked_job")) == (1, 1)
    nearly = Indicator("checkins", 19_999, 20_000, 1.0)
    assert nearly.value == 1.0 and nearly.met is False  # shown as 100.0 %, not met
    assert Indicator("accessed_services", 8, 10, 0.8).met is True
