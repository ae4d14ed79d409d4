"""Alembic environment: runs on a connection handed over by `bot.db.migrate`, or opens one from settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.db.models  # noqa: F401  (registers the tables on the metadata)
from bot.config import Settings
from bot.db.engine import make_engine
from bot.db.migrate import in_one_transaction

target_metadata = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url, pooler=settings.database_pooler)
    try:
        await in_one_transaction(engine, _configure)  # schema and data changes together, on SQLite too
    finally:
        await engine.dispose()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    elif context.is_offline_mode():
        context.configure(url=Settings().database_url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_from_settings())


run()
