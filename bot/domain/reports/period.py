"""Which days a report covers: a month (2026-11), a quarter (2026-Q4), a year (2026) or any range
(2026-11-01..2026-11-15). Days are local days (Asia/Ho_Chi_Minh by default): a check-in at 23:30 on the 30th belongs
to the 30th whatever UTC says."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.terms import add_months

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_YEARS_WRITTEN = re.compile(r"(?:^|\.\.|/)\s*(\d{4})")  # the year each date of the period starts with
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/)\s*(\d{4}-\d{2}-\d{2})$")
LONGEST_DAYS = 3 * 366  # a range longer than three years is a typo
YEARS = range(2000, 2100)  # a period outside them is a typo (and a trend before it would leave the calendar)


class PeriodError(ValueError):
    """The period is not one of the accepted forms; the message shows them."""


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included
    label: str  # as written: "2026-11", "2026-Q4", "2026", "2026-11-01..2026-11-15"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def months(self) -> list[str]:
        """The calendar months the period touches, "YYYY-MM"."""
        found, day = [], self.first.replace(day=1)
        while day <= self.last:
            found.append(f"{day:%Y-%m}")
            day = add_months(day, 1)
        return found

    def quarter_ends(self) -> list[tuple[str, date]]:
        """The quarters whose last day falls in the period: their reviews are due in it."""
        found = []
        for month in self.months():
            year, number = int(month[:4]), int(month[5:])
            if number % 3 == 0:
                last = add_months(date(year, number, 1), 1) - timedelta(days=1)
                if self.first <= last <= self.last:
                    found.append((f"{year}-Q{number // 3}", last))
        return found

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "label": self.label}


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period(first, add_months(first, 1) - timedelta(days=1), f"{year:04d}-{month:02d}")


def parse_period(text: str) -> Period:
    """"2026-11" | "2026-Q4" | "2026" | "2026-11-01..2026-11-15" → the period; PeriodError otherwise."""
    value = text.strip()
    if any(int(year) not in YEARS for year in _YEARS_WRITTEN.findall(value)):
        raise PeriodError(f"a period lies between {YEARS[0]} and {YEARS[-1]}")
    return _parse(value)


def _parse(value: str) -> Period:
    try:
        if match := _MONTH.match(value):
            return month_period(int(match[1]), int(match[2]))
        if match := _QUARTER.match(value):
            year, quarter = int(match[1]), int(match[2])
            first = date(year, 3 * quarter - 2, 1)
            return Period(first, add_months(first, 3) - timedelta(days=1), f"{year}-Q{quarter}")
        if match := _YEAR.match(value):
            year = int(match[1])
            return Period(date(year, 1, 1), date(year, 12, 31), str(year))
        if match := _RANGE.match(value):
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if last < first:
                raise PeriodError("the period ends before it starts")
            if (last - first).days > LONGEST_DAYS:
                raise PeriodError("a period is at most three years")
            return Period(first, last, f"{first.isoformat()}..{last.isoformat()}")
    except ValueError as error:
        if isinstance(error, PeriodError):
            raise
        raise PeriodError(f"no such date in {value[:40]!r}") from error
    raise PeriodError(f"{value[:40]!r} is not a period: write YYYY-MM, YYYY-QN, YYYY or YYYY-MM-DD..YYYY-MM-DD")


def trailing_months(last: Period, count: int = 12) -> list[Period]:
    """The `count` calendar months ending with the one `last` ends in, oldest first (a report's trend)."""
    end = last.last.replace(day=1)
    starts = [add_months(end, -offset) for offset in range(count - 1, -1, -1)]
    return [month_period(day.year, day.month) for day in starts]
