"""A clean database per test: a temporary SQLite file, or a fresh PostgreSQL database when one is configured.

Most tests want the schema at head, and running every migration for each of them cost a third of the suite. So each
worker migrates one template per backend once and every test gets a copy: the file copied for SQLite, `CREATE
DATABASE … TEMPLATE` for PostgreSQL. Tests of the migrations themselves ask for an empty database instead."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_ENV = "AFTERCARE_TEST_POSTGRES_URL"


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database(base_url: str, template: str | None = None) -> Iterator[str]:
    """A new database, empty or a copy of `template` (a database nobody is connected to)."""
    name = f"aftercare_t_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"{copy}'))
    try:
        url = make_url(base_url).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'aftercare-test.db'}"


async def _migrate(url: str, key: bytes) -> None:
    from bot.db import migrate
    from bot.db.engine import make_engine

    engine = make_engine(url)  # as the application connects (SQLite's pragmas too)
    try:
        await migrate.upgrade(engine, key=key)
    finally:
        await engine.dispose()  # a PostgreSQL template must have no connection left when it is copied


def migrated(url: str, key: bytes) -> str:
    """Bring the database at `url` to head (the template, once per worker)."""
    asyncio.run(_migrate(url, key))
    return url


def sqlite_copy(template_url: str, directory: Path) -> str:
    url = sqlite_url(directory)
    source = Path(make_url(template_url).database or "")
    assert not source.with_name(source.name + "-wal").exists(), "the template's engine was not disposed"
    shutil.copyfile(source, make_url(url).database or "")
    return url


def database_name(url: str) -> str:
    return make_url(url).database or ""
