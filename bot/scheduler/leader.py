"""Which process plans and which sends, when several `aftercare run` processes share one PostgreSQL.

Each role is a session-level advisory lock (`pg_try_advisory_lock`) held on one dedicated connection per process
(bot/db/locks.py). Every process with the scheduler enabled tries, at each run of the role's job (every plan and
every dispatch interval), to take the lock; whoever has it acts, the others skip that run (their job still counts
as alive for `/healthz`: standing by is their work). PostgreSQL releases a dead process's locks with its connection,
so another process takes over at its next try, within one interval (5 s for sending by default). A process that
loses its connection stops at once: the termination listener and a once-a-second check drop its locks, the
dispatcher stops before its next batch, and a send still waiting for its turn is given back untried.

The keys are fixed 64-bit constants, one per role for the whole deployment (the bot is one per channel):
`0x44484E48` ("DHNH", Đồng Hành) in the high half, the role in the low half. Advisory locks are scoped to the
database, so two deployments on two databases of one server do not meet.

Waking: adding an urgent row (a crisis alert, a conversation message) NOTIFYs `URGENT_NOTIFY` in the same
transaction; the sending process LISTENs on its dedicated connection and runs an urgent-only pass at once (the
urgent lane), beside a long burst and sharing its rate limit, instead of waiting for the next dispatch interval.

`aftercare tick` goes through the same locks: it plans and sends only the parts no running process leads, and says
in its report which parts it skipped. On SQLite there is one process, always the leader: no locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

import structlog

from bot.db.repositories.outbox import URGENT_NOTIFY

log = structlog.get_logger(__name__)

_DEPLOYMENT = 0x44484E48 << 32
PLAN_LOCK = _DEPLOYMENT | 1  # 4920514346389716993: the planner
SEND_LOCK = _DEPLOYMENT | 2  # 4920514346389716994: the outbox's sender (every channel)

__all__ = ["PLAN_LOCK", "SEND_LOCK", "URGENT_NOTIFY", "Locks", "SoleProcess", "UrgentLane"]


class Locks(Protocol):
    """What the scheduler needs of leadership (bot/db/locks.py `SessionLocks` on PostgreSQL)."""

    exclusive: bool  # True: other processes may hold these locks (PostgreSQL); False: this process is alone

    async def try_hold(self, key: int) -> bool: ...

    def holds(self, key: int) -> bool: ...

    async def alive(self) -> bool: ...

    async def listen(self, channel: str, callback: Callable[[], None]) -> None: ...

    def on_lost(self, callback: Callable[[], None]) -> None: ...

    async def close(self) -> None: ...


class SoleProcess:
    """SQLite: one process, which leads everything; no wake-ups (nothing else can queue an urgent row unseen)."""

    exclusive = False

    async def try_hold(self, key: int) -> bool:
        return True

    def holds(self, key: int) -> bool:
        return True

    async def alive(self) -> bool:
        return True

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        return None

    def on_lost(self, callback: Callable[[], None]) -> None:
        return None

    async def close(self) -> None:
        return None


class UrgentLane:
    """Runs `send_urgent` whenever woken (a NOTIFY), one pass at a time; a wake during a pass runs one more."""

    def __init__(self, send_urgent: Callable[[], object]) -> None:
        self._send = send_urgent
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                woken = asyncio.ensure_future(self.wake.wait())
                await asyncio.wait({woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if stop.is_set():
                    return
                self.wake.clear()
                try:
                    await self._send()  # type: ignore[misc]
                except Exception:
                    log.exception("outbox_urgent_lane_failed")
        finally:
            stopping.cancel()
