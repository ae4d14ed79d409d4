"""Rate limit on guessing invite codes from one chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(hours=1)
    duration: timedelta = timedelta(hours=1)

    def window_start(self, now: datetime) -> datetime:
        return now - self.window

    def lock_until(self, recent_failures: Sequence[datetime], now: datetime) -> datetime | None:
        """When the failures inside the window reach the limit, the chat is locked from now for `duration`."""
        inside = [at for at in recent_failures if at > now - self.window]
        if len(inside) >= self.max_failures:
            return now + self.duration
        return None
