"""Sending no faster than the platforms allow: a global rate per channel and a minimum gap per chat.

The rate of a channel can change while messages wait (`set_rate`): the sending process spends what the bot's direct
replies, sent by every process, leave of the platform's limit (bot/scheduler/budget.py). It is spent with a little
headroom (`HEADROOM`): a message handed to the platform on time can arrive a few milliseconds late (a busy machine,
the network), and the platform counts arrivals; 31 messages spaced for 30/s at 96 % span 1.04 s, so up to 40 ms of
jitter never puts a 31st message in one second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

Sleep = Callable[[float], Awaitable[None]]

HEADROOM = 0.96


class _Pace:
    """One message per 1/rate seconds, no burst (a bucket of `rate` would let a second's worth out at once, and the
    platform, counting per second, answers 429 to the overflow). Waiters go in turn (asyncio.Lock is FIFO)."""

    def __init__(self, rate: float, monotonic: Callable[[], float], sleep: Sleep) -> None:
        self.rate = rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self._next - self._monotonic()) > 0:
                await self._sleep(wait)
            now, gap = self._monotonic(), 1.0 / (self.rate * HEADROOM)
            # Late by less than a gap (a sleep overslept): keep the schedule; idle longer: start again from now.
            self._next = self._next + gap if now - self._next < gap else now + gap


class RateLimits:
    """`rates` is messages per second per channel (None: unlimited). Per chat, sends are serialised and spaced
    `per_chat_interval` seconds apart. A 429 pauses the whole channel for the time the platform asked.

    `gate`: when set and false, this process must not send now (it no longer leads the outbox): a send not yet
    started is given back (`paused_until`, asked before the send and again once its turn has come), never made."""

    def __init__(
        self,
        rates: dict[str, float | None],
        per_chat_interval: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pace_sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = {channel: rate for channel, rate in rates.items() if rate}
        self._paces = {channel: _Pace(rate, monotonic, pace_sleep) for channel, rate in self.limits.items()}
        self._interval = per_chat_interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[tuple[str, str], float] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str], int] = {}  # sends holding or waiting for each chat's lock
        self._paused_until: dict[str, datetime] = {}
        self.gate: Callable[[], bool] | None = None

    def rate(self, channel: str) -> float | None:
        pace = self._paces.get(channel)
        return pace.rate if pace is not None else None

    def set_rate(self, channel: str, rate: float) -> None:
        """Spend `rate` messages per second on `channel` from the next message on (a channel without a limit
        stays without one)."""
        pace = self._paces.get(channel)
        if pace is not None and rate > 0:
            pace.rate = rate

    def paused_until(self, channel: str, now: datetime) -> datetime | None:
        """When a pause the platform asked for (429 retry_after) ends, if it has not yet; a second from now while
        the gate is shut (the message goes back to the queue untried)."""
        if self.gate is not None and not self.gate():
            return now + timedelta(seconds=1)
        until = self._paused_until.get(channel)
        return until if until is not None and until > now else None

    def pause(self, channel: str, now: datetime, seconds: float) -> None:
        """Measured on the scheduler's clock, like every other time in the outbox."""
        until = now + timedelta(seconds=seconds)
        current = self._paused_until.get(channel)
        self._paused_until[channel] = until if current is None or until > current else current

    @asynccontextmanager
    async def slot(self, channel: str, chat: str) -> AsyncIterator[None]:
        """Hold this while sending one message to `chat`."""
        key = (channel, chat)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                last = self._last.get(key)
                if last is not None:
                    wait = self._interval - (self._monotonic() - last)
                    if wait > 0:
                        await self._sleep(wait)
                pace = self._paces.get(channel)
                if pace is not None:
                    await pace.acquire()
                try:
                    yield
                finally:
                    self._last[key] = self._monotonic()
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody else waits for this chat: keep memory flat across many chats
                del self._users[key]
                del self._locks[key]
        if len(self._last) > 10_000:  # forget chats whose gap has long passed
            horizon = self._monotonic() - self._interval
            self._last = {k: t for k, t in self._last.items() if t > horizon}
