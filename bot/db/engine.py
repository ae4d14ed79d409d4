"""Engine and session factories; created by the composition root, never at import time."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


PGBOUNCER = "pgbouncer"


def make_engine(url: str, *, echo: bool = False, pooler: str = "none") -> AsyncEngine:
    """The pooled engine; `pooler="pgbouncer"`: the URL points at PgBouncer in transaction mode (`_via_pgbouncer`)."""
    # hide_parameters: a failing statement's error (and any log line or traceback quoting it) never carries the
    # bound values: ciphertexts, keyed hashes, search terms, free text.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if not is_sqlite(url):
        # No pre-ping (a round trip per transaction): a connection that died is a TransientFailure, and channels
        # redeliver those; recycling keeps connections younger than typical server/proxy idle limits.
        kwargs |= {"pool_pre_ping": False, "pool_recycle": 1800, "pool_size": 10, "max_overflow": 10}
        if url.startswith("postgresql+asyncpg") and pooler == PGBOUNCER:
            kwargs["connect_args"] = _via_pgbouncer()
        elif url.startswith("postgresql+asyncpg"):
            # asyncpg reuses prepared statements; PostgreSQL's generic plan for the planner's date-window queries
            # reads the whole due_on index (about 300 ms a page instead of 1.4 ms): plan each execution.
            kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _via_pgbouncer() -> dict[str, Any]:
    """Connection arguments for PgBouncer in transaction mode, where consecutive transactions of one client connection
    run on different server connections: no statement kept prepared between transactions (neither SQLAlchemy's nor
    asyncpg's cache), each prepared under a name no other client uses (asyncpg numbers them per connection, and two
    clients' `__asyncpg_stmt_1__` would meet on one server connection), and no startup setting PgBouncer would refuse
    (`plan_cache_mode`: needless here, as a statement prepared for one execution is always planned for its values)."""
    return {
        "prepared_statement_cache_size": 0,
        "statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4().hex}__",
    }


def make_probe_engine(url: str, *, pooler: str = "none") -> AsyncEngine | None:
    """A pool-less engine for /healthz on a server database: under a flood every pooled connection is busy, and that
    is exactly when a health check must still answer quickly rather than queue (an uptime monitor would restart a
    working process). None for SQLite, whose file needs no connection slot: use the main engine."""
    if is_sqlite(url):
        return None
    kwargs: dict[str, Any] = {"hide_parameters": True, "poolclass": NullPool}
    if url.startswith("postgresql+asyncpg") and pooler == PGBOUNCER:
        kwargs["connect_args"] = _via_pgbouncer()
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
