from datetime import date

import pytest

from bot.domain.terms import TermPolicy, add_months, expected_end


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
        (date(2026, 1, 15), 24, date(2028, 1, 15)),
        (date(2025, 8, 31), 24, date(2027, 8, 31)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # no 31 February: last day of the month
        (date(2027, 2, 29 - 1), 12, date(2028, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # leap year
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
    ],
)
def test_expected_end_is_the_corresponding_day(start: date, months: int, end: date) -> None:
    assert expected_end(start, months) == end


def test_unreported_absence_pushes_the_end() -> None:
    assert expected_end(date(2026, 1, 15), 12, unreported_absence_days=20) == date(2027, 2, 4)


def test_add_months_across_years() -> None:
    assert add_months(date(2026, 11, 30), 14) == date(2028, 1, 30)


@pytest.mark.parametrize("bad", [0, -12])
def test_nonpositive_terms_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        expected_end(date(2026, 1, 1), bad)


def test_negative_absence_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        expected_end(date(2026, 1, 1), 12, unreported_absence_days=-1)


def test_policy_allows_only_configured_lengths() -> None:
    TermPolicy().check(12)
    TermPolicy().check(24)
    with pytest.raises(ValueError, match="12, 24"):
        TermPolicy().check(18)
    TermPolicy(allowed_months=(6, 12)).check(6)
