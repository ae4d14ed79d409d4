"""Session-level advisory locks and LISTEN on one dedicated PostgreSQL connection per process.

Not from the pool: a pooled connection goes back to the pool (and a transaction-mode PgBouncer hands the session to
someone else) between statements, and a session lock must live exactly as long as this connection does. PostgreSQL
releases every lock of a session when its connection ends, so a process that dies (even by SIGKILL: the kernel
closes its socket) gives up what it held at once, and another process takes it at its next try.

The holder must know at once when it has lost the connection: asyncpg's termination listener, plus `alive()` (one
round trip with a deadline) before each run and from a watchdog, drop every lock this object believes it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger(__name__)

KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}


def asyncpg_dsn(url: str) -> str:
    """An SQLAlchemy URL (postgresql+asyncpg://…) as the libpq-style DSN asyncpg connects with."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class SessionLocks:
    """`try_hold(key)`: take a session-level advisory lock if free (keeps it once taken); `holds(key)`: whether this
    process still holds it, without I/O; `listen(channel, callback)`: PostgreSQL notifications on the same session.

    One connection serves all of them, one statement at a time (asyncpg refuses overlapping operations)."""

    exclusive = True  # other processes may hold these locks

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self._timeout = timeout
        self._conn: Any = None
        self._held: set[int] = set()
        self._io = asyncio.Lock()
        self._listeners: dict[str, Callable[[], None]] = {}
        self._on_lost: list[Callable[[], None]] = []

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Called (synchronously) the moment the connection, and with it every lock, is known to be gone."""
        self._on_lost.append(callback)

    def holds(self, key: int) -> bool:
        return key in self._held and self._conn is not None and not self._conn.is_closed()

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """`callback()` on every NOTIFY on `channel` (re-subscribed after a reconnection)."""
        self._listeners[channel] = callback
        async with self._io:
            conn = await self._connected()
            if conn is not None:  # (a new connection has subscribed already; asyncpg keeps one callback)
                try:
                    await conn.add_listener(channel, self._notified)
                except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("leader_listen_failed", error=type(exc).__name__)  # re-subscribed on reconnection

    async def try_hold(self, key: int) -> bool:
        """True when this process holds `key` now (taken just now or before, on a connection that still answers)."""
        async with self._io:
            conn = await self._connected()
            if conn is None:
                return False
            try:
                if key in self._held:
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), self._timeout)
                    return True
                got = bool(await asyncio.wait_for(conn.fetchval("SELECT pg_try_advisory_lock($1)", key), self._timeout))
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._lose(conn, type(exc).__name__)
                return False
            if got:
                self._held.add(key)
            return got

    async def alive(self) -> bool:
        """One round trip with a deadline; a connection that does not answer is dropped with its locks."""
        async with self._io:
            conn = self._conn
            if conn is None or conn.is_closed():
                return False
            try:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), self._timeout)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._lose(conn, type(exc).__name__)
                return False
            return True

    async def close(self) -> None:
        async with self._io:
            conn, self._conn = self._conn, None
            self._held.clear()
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), self._timeout)

    async def _connected(self) -> Any:
        """The connection, made (and listening) if there is none; None when PostgreSQL cannot be reached now."""
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        conn = None
        try:
            # The server notices a silently dropped connection (and frees its locks for another process) within
            # about 25 s instead of the operating system's default two hours.
            conn = await asyncpg.connect(self._dsn, timeout=self._timeout, server_settings=KEEPALIVES)
            for channel in self._listeners:
                await conn.add_listener(channel, self._notified)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("leader_connection_failed", error=type(exc).__name__)
            if conn is not None:
                conn.terminate()
            return None
        conn.add_termination_listener(self._terminated)
        self._conn = conn
        self._held.clear()  # a new session holds nothing
        return conn

    def _notified(self, _conn: object, _pid: int, channel: str, _payload: str) -> None:
        callback = self._listeners.get(channel)
        if callback is not None:
            callback()

    def _terminated(self, conn: object) -> None:
        if conn is self._conn:
            self._lose(conn, "terminated")

    def _lose(self, conn: Any, why: str) -> None:
        had = sorted(self._held)
        self._held.clear()
        if conn is self._conn:
            self._conn = None
        if conn is not None and not conn.is_closed():
            conn.terminate()
        if had:
            log.warning("leadership_lost", locks=had, why=why)
        for callback in self._on_lost:
            callback()
