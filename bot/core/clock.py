"""Time as a dependency, so rules and tests never read the wall clock directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def local_today(clock: Clock, tz: tzinfo) -> date:
    """The calendar date where the commune is, which is what due dates are counted in."""
    return clock.now().astimezone(tz).date()
