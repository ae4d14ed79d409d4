"""The simulator's time control, for development only: jump the application's clock ahead, then plan and send what is
due at that instant (as `aftercare tick --at` does), so the simulator's chats show that day's reminders, digests and
alerts. A commune rehearses a month in minutes when it trains its cadres.

The composition root (`bot.app`) builds one only when the simulator is on and the environment is not production;
there the application runs on a `ShiftedClock` over the real clock, and everything (the conversation, the
scheduler's jobs, the console) sees the simulated time. In production the application has the real clock and no
time control exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.core.clock import ShiftedClock

# A date without a time means that morning, when the day's reminders and digests have gone out.
MORNING = time(8, 0)
# One jump goes at most this far: terms last 12 or 24 months; a typo such as 2926 is refused, not obeyed.
FURTHEST = timedelta(days=3 * 366)


class BadInstant(ValueError):
    """The instant cannot be jumped to (unreadable, in the past, too far); the message says why, in English (the
    simulator is a developer's tool)."""


@dataclass
class TimeMachine:
    clock: ShiftedClock
    tick: Callable[[], Awaitable[dict[str, Any]]]  # plan, then dispatch, at the clock's now; returns the tick's report
    tz: tzinfo
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def parse(self, text: str) -> datetime:
        """ "2026-12-10 08:00", "2026-12-10T08:00" or "2026-12-10" (08:00) in the commune's time zone, or an
        ISO-8601 instant with its offset ("2026-12-10T01:00:00Z")."""
        value = text.strip()
        if not value or len(value) > 40:
            raise BadInstant("give a date and time, e.g. 2026-12-10 08:00")
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), MORNING, tzinfo=self.tz)
            instant = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadInstant(f"not a date and time: {value!r} (e.g. 2026-12-10 08:00)") from exc
        return instant.replace(tzinfo=self.tz) if instant.tzinfo is None else instant

    def state(self) -> dict[str, Any]:
        """The simulated time, in UTC and in the commune's time zone, and whether it was moved."""
        now = self.clock.now()
        local = now.astimezone(self.tz)
        return {
            "now": now.astimezone(UTC).isoformat(),
            "local": local.isoformat(),
            "shown": f"{local:%d/%m/%Y %H:%M}",
            "shifted": self.clock.offset > timedelta(0),
        }

    async def jump(self, to: datetime) -> dict[str, Any]:
        """Move the clock to `to` and run one plan and dispatch there; the new state and the tick's report. One jump
        at a time: a second waits for the first and then is refused if it would go back."""
        async with self._lock:
            now = self.clock.now()
            if to < now:
                raise BadInstant(f"time only moves forward here; the simulated time is already {self.state()['shown']}")
            if to - now > FURTHEST:
                raise BadInstant("that is more than three years ahead; jump in smaller steps")
            self.clock.jump_to(to)
            report = await self.tick()
            return {**self.state(), "tick": report}
