"""One send rate per bot, whatever the number of processes: the outbox's sender spends what direct replies leave.

Exactly one process sends the outbox (bot/scheduler/leader.py), so the outbox is paced in one place. Replies to a
person's own message are not queued: whichever process received the message sends them at once, and they count
against the same platform limit. Each process counts its direct sends per channel and second (`DirectSends`, the
channels' `SendCounter` port) and adds them to the shared `direct_send` table about once a second; the sender reads
the busiest of the last `window` seconds and paces the outbox at `limit − busiest`, never below `floor × limit`.

The bound: in any one second the bot sends at most what the outbox was paced at plus the direct replies of that
second, i.e. limit − d̂ + d, where d̂ is the busiest second seen in the last few seconds and d the current one. The
total passes the limit only when direct replies rise above anything seen in the last `window` + 2 seconds (the
flush and the refresh each lag by up to a second), by that rise; and when direct replies alone take more than
(1 − floor) of the limit, by up to floor × limit (the outbox never stops entirely: a crisis alert must go out).
A 429 the platform then answers pauses the channel for as long as it asks, and nothing is lost. On SQLite there is
one process: its own counts are read directly, nothing is written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import structlog

from bot.db.repositories import direct_sends
from bot.db.store import Store
from bot.scheduler.limits import RateLimits

log = structlog.get_logger(__name__)


class DirectSends:
    """The `SendCounter` the channels are given: counts per (channel, epoch second), in memory until flushed."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._pending: Counter[tuple[str, int]] = Counter()
        self._recent: Counter[tuple[str, int]] = Counter()  # what this process sent lately (kept a minute)

    def count(self, channel: str, messages: int = 1) -> None:
        second = int(self._wall())
        key = (channel, second)
        self._pending[key] += messages
        self._recent[key] += messages
        if len(self._recent) > 600:  # a process that never sends the outbox never asks `busiest`: forget here too
            self._recent = Counter({k: n for k, n in self._recent.items() if k[1] >= second - 60})

    def take(self) -> dict[tuple[str, int], int]:
        """The counts not written yet (and forgets them)."""
        taken, self._pending = dict(self._pending), Counter()
        return taken

    def give_back(self, counts: dict[tuple[str, int], int]) -> None:
        """Counts a failed write could not add, kept for the next one while they still matter (a minute)."""
        horizon = int(self._wall()) - 60
        self._pending.update({k: n for k, n in counts.items() if k[1] >= horizon})

    def busiest(self, since_second: int) -> dict[str, int]:
        """This process's busiest second per channel since `since_second` (older seconds are forgotten)."""
        horizon = int(self._wall()) - 60
        self._recent = Counter({k: n for k, n in self._recent.items() if k[1] >= horizon})
        out: dict[str, int] = {}
        for (channel, second), n in self._recent.items():
            if second >= since_second:
                out[channel] = max(out.get(channel, 0), n)
        return out


class SendBudget:
    """Keeps `limits` (the sender's pacing) at what direct replies leave of each channel's limit."""

    def __init__(
        self,
        store: Store | None,
        limits: RateLimits,
        counter: DirectSends,
        *,
        window: int = 3,
        floor: float = 0.2,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._store = store  # None: one process (SQLite), its own counts are everyone's
        self._limits = limits
        self._caps = dict(limits.limits)
        self.counter = counter
        self._window = window
        self._floor = floor
        self._wall = wall
        self._purged = 0

    def rate_for(self, channel: str, busiest_direct: int) -> float:
        cap = self._caps[channel]
        return max(cap * self._floor, cap - busiest_direct)

    async def flush(self) -> None:
        """Add this process's direct sends to the shared counts (every process, about once a second)."""
        counts = self.counter.take()
        if self._store is None:  # one process: `refresh` reads its own recent counts, nothing is written
            return
        if not counts:
            return
        try:
            async with self._store.transaction() as repos:
                await direct_sends.add(repos.session, counts)
        except Exception:
            self.counter.give_back(counts)
            raise

    async def refresh(self) -> dict[str, float]:
        """Set each limited channel's pace from the busiest recent second of direct sends (the sending process,
        about once a second). Returns the rates set."""
        since = int(self._wall()) - self._window
        if self._store is None:
            busiest = self.counter.busiest(since)
        else:
            async with self._store.transaction() as repos:
                busiest = await direct_sends.busiest_since(repos.session, since)
                if since - self._purged > 60:  # counts older than a minute serve nothing
                    await direct_sends.forget_before(repos.session, since - 60)
                    self._purged = since
        rates = {channel: self.rate_for(channel, busiest.get(channel, 0)) for channel in self._caps}
        for channel, rate in rates.items():
            if rate != self._limits.rate(channel):
                self._limits.set_rate(channel, rate)
                log.info("outbox_rate_set", channel=channel, rate=round(rate, 2))
        return rates
