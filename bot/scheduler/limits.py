"""Sending no faster than the platforms allow: a global rate per channel and a minimum gap per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter

Sleep = Callable[[float], Awaitable[None]]


class RateLimits:
    """`rates` is messages per second per channel (None: unlimited). Per chat, sends are serialised and spaced
    `per_chat_interval` seconds apart. A 429 pauses the whole channel for the time the platform asked."""

    def __init__(
        self,
        rates: dict[str, float | None],
        per_chat_interval: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # One message per 1/rate seconds, no burst: a bucket of `rate` lets a second's worth out at once and the
        # platform, counting per second, answers 429 to the overflow.
        self._limiters = {channel: AsyncLimiter(1, 1.0 / rate) for channel, rate in rates.items() if rate}
        self._interval = per_chat_interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[tuple[str, str], float] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._paused_until: dict[str, datetime] = {}

    def paused_until(self, channel: str, now: datetime) -> datetime | None:
        """When a pause the platform asked for (429 retry_after) ends, if it has not yet."""
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
        async with lock:
            last = self._last.get(key)
            if last is not None:
                wait = self._interval - (self._monotonic() - last)
                if wait > 0:
                    await self._sleep(wait)
            limiter = self._limiters.get(channel)
            if limiter is not None:
                await limiter.acquire()
            try:
                yield
            finally:
                self._last[key] = self._monotonic()
        if not lock.locked() and self._locks.get(key) is lock:
            del self._locks[key]  # keep memory flat across many chats
        if len(self._last) > 10_000:  # forget chats whose gap has long passed
            horizon = self._monotonic() - self._interval
            self._last = {k: t for k, t in self._last.items() if t > horizon}
