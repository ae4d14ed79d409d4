"""Run Alembic migrations from inside the application (async engine, one connection, one transaction)."""

from __future__ import annotations

from pathlib import Path

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

    async with engine.begin() as connection:
        await connection.run_sync(apply)
