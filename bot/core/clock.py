"""Time as a dependency, so rules and tests never read the wall clock directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
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


class ShiftedClock:
    """Another clock moved ahead: the simulator's time control in development (`jump_to` a day, see that day's
    reminders, digests and alerts), so a commune can rehearse a month in minutes. Time keeps flowing from the
    instant jumped to. Never built in production (`bot.app`): there the application has the real clock.

    Only forward: what was sent, missed or escalated at a later instant cannot be undone by going back, and a
    lease or a session dated in the simulated future would outlive a jump back."""

    def __init__(self, base: Clock) -> None:
        self._base = base
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self._offset

    @property
    def offset(self) -> timedelta:
        """How far ahead of the underlying clock this one is (zero until the first jump)."""
        return self._offset

    def jump_to(self, instant: datetime) -> None:
        """From now on `now()` is `instant` plus the time that passes. Raises ValueError for a naive instant or one
        before the current simulated time."""
        if instant.tzinfo is None:
            raise ValueError("the instant needs a time zone")
        now = self.now()
        if instant < now:
            raise ValueError("time only moves forward")
        self._offset += instant - now


def local_today(clock: Clock, tz: tzinfo) -> date:
    """The calendar date where the commune is, which is what due dates are counted in."""
    return clock.now().astimezone(tz).date()
