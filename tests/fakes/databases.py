"""A clean database per test: a temporary SQLite file, or a fresh PostgreSQL database when one is configured.

Most tests want the schema at head, and running every migration for each of them cost a third of the suite. So each
worker migrates one template per backend once and every test gets a copy: the file copied for SQLite, `CREATE
DATABASE … TEMPLATE` for PostgreSQL. Tests of the migrations themselves ask for an empty database instead.

On PostgreSQL, creating and dropping a database cost 0.2–0.4 s of each test's set-up and teardown on a busy machine,
waiting on the server. `PostgresCopies` does both in a thread of the worker's own: the next test's copy is made while
the current test runs, and a finished test's database is dropped while the next one runs. Each copy is still new,
made from the untouched template, and given to one test only."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_ENV = "AFTERCARE_TEST_POSTGRES_URL"
T = TypeVar("T")


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


class PostgresCopies:
    """One worker's test databases on one server: copies of a template (or empty ones, for template None), each made
    one test ahead and dropped behind in a thread with its own event loop and one admin connection."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="postgres-copies", daemon=True)
        self._thread.start()
        self._connection: asyncpg.Connection | None = None
        self._lock: asyncio.Lock | None = None
        self._spare: dict[str | None, Future[str]] = {}
        self._drops: list[Future[None]] = []

    def _submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    async def _execute(self, statement: str) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one statement at a time on the connection
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(_asyncpg_dsn(self.base_url))
            await self._connection.execute(statement)

    async def _create(self, template: str | None) -> str:
        name = f"aftercare_t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        await self._execute(f'CREATE DATABASE "{name}"{copy}')
        return name

    async def _drop(self, name: str) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _check_drops(self) -> None:
        """A drop that failed fails the next test to ask for a database, not silently."""
        done = [future for future in self._drops if future.done()]
        self._drops = [future for future in self._drops if not future.done()]
        for future in done:
            future.result()

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A new database (a copy of `template`, or empty) for one test; its URL. Dropped after, in the background."""
        self._check_drops()
        made = self._spare.pop(template, None) or self._submit(self._create(template))
        name = made.result()
        self._spare[template] = self._submit(self._create(template))  # the next test's, made while this one runs
        try:
            url = make_url(self.base_url).set(drivername="postgresql+asyncpg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            self._drops.append(self._submit(self._drop(name)))

    def close(self) -> None:
        """Drop the spare copies, wait for every drop, and stop the thread."""
        errors: list[BaseException] = []
        try:
            for made in self._spare.values():  # every spare, even after one failed: none left behind
                try:
                    self._drops.append(self._submit(self._drop(made.result())))
                except Exception as error:  # collected, the first raised below
                    errors.append(error)
            self._spare.clear()
            for future in self._drops:  # every drop waited for before the loop stops
                try:
                    future.result()
                except Exception as error:  # collected, the first raised below
                    errors.append(error)
            self._drops.clear()
            if errors:
                raise errors[0]
        finally:
            if self._connection is not None:
                self._submit(self._connection.close()).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()


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
