"""Management term arithmetic (Law 73/2021/QH14 Art. 40; Decree 116/2021 Art. 79).

A term counted in months ends on the corresponding day of its last month, or on that month's last day when it has
no such day (Civil Code 2015 Art. 147-148). Unreported absence does not count toward the term, so it pushes the end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class TermPolicy:
    """Which term lengths an officer may choose; data, because the law changes (Law 120/2025/QH15)."""

    allowed_months: tuple[int, ...] = (12, 24)

    def check(self, months: int) -> None:
        if months not in self.allowed_months:
            allowed = ", ".join(str(m) for m in self.allowed_months)
            raise ValueError(f"term must be one of {allowed} months, not {months}")


def add_months(start: date, months: int) -> date:
    """The corresponding day `months` later, clamped to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def expected_end(start: date, months: int, unreported_absence_days: int = 0) -> date:
    if months <= 0:
        raise ValueError("a term has a positive number of months")
    if unreported_absence_days < 0:
        raise ValueError("absence days cannot be negative")
    return add_months(start, months) + timedelta(days=unreported_absence_days)
