"""Run Alembic migrations from inside the application (async engine, one connection, one transaction)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head", key: bytes | None = None) -> None:
    """`key`: the master encryption key, for migrations that re-seal stored values (0008); without it such a
    migration loads it from the settings, as a bare `alembic upgrade` does."""
    await _run(engine, lambda cfg: command.upgrade(cfg, revision), key)


async def downgrade(engine: AsyncEngine, revision: str, key: bytes | None = None) -> None:
    await _run(engine, lambda cfg: command.downgrade(cfg, revision), key)


async def current(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def _run(engine: AsyncEngine, step: object, key: bytes | None = None) -> None:
    def apply(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        if key is not None:
            config.attributes["encryption_key"] = key
        step(config)  # type: ignore[operator]

    await in_one_transaction(engine, apply)


async def in_one_transaction(engine: AsyncEngine, work: Callable[[Connection], Any]) -> None:
    """Run `work` on one connection in one database transaction that holds its schema changes too.

    PostgreSQL does this by itself. SQLite's Python driver does not: it opens a transaction only before INSERT,
    UPDATE or DELETE, so a schema change made before the first of them is committed at once and stays when the
    migration later fails (0008 with a wrong key would leave its new columns, and running it again would fail on
    "duplicate column name"). So, on this connection only, the driver's own transaction handling is switched off
    and the transaction is opened here (`BEGIN IMMEDIATE`: the write lock from the start, so another writer makes
    it wait, not fail half-way); the driver's setting is put back before the connection returns to the pool."""
    async with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            async with connection.begin():
                await connection.run_sync(work)
            return
        previous = await connection.run_sync(lambda c: _driver_transactions(c, None))
        try:
            async with connection.begin():
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
                await connection.run_sync(work)
        finally:
            # After COMMIT or ROLLBACK: setting it while a transaction was open would commit that transaction.
            try:
                await connection.run_sync(lambda c: _driver_transactions(c, previous))
            except Exception:  # a broken connection: never reused, and the error that broke it is the one raised
                await connection.invalidate()


def _driver_transactions(connection: Connection, level: str | None) -> str | None:
    """Set the sqlite3 driver's `isolation_level` (None: it opens no transactions itself); returns the old one."""
    dbapi = connection.connection.dbapi_connection
    previous: str | None = dbapi.isolation_level  # type: ignore[union-attr]
    dbapi.isolation_level = level  # type: ignore[union-attr]
    return previous
