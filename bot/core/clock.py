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


class FixedClock:
    """One instant, for `aftercare tick --at`: the whole run sees the same "now"."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


def local_today(clock: Clock, tz: tzinfo) -> date:
    """The calendar date where the commune is, which is what due dates are counted in."""
    return clock.now().astimezone(tz).date()
