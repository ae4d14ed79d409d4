"""Shared fixtures: every test that touches a database runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from bot.app import Application, build_application
from bot.config import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.databases import (
    PostgresCopies,
    database_name,
    migrated,
    postgres_base_url,
    postgres_database,
    sqlite_copy,
    sqlite_url,
)
from tests.fakes.sleeps import RecordedSleeps
from tests.support.config import TEST_KEY, TEST_KEY_BYTES


class Templates:
    """One migrated database per backend for this worker, made when a test first needs it (tests.fakes.databases)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.made: dict[str, str] = {}
        self.postgres: ExitStack = ExitStack()
        self.copies: PostgresCopies | None = None

    def sqlite(self) -> str:
        if "sqlite" not in self.made:
            self.made["sqlite"] = migrated(sqlite_url(self.directory), TEST_KEY_BYTES)
        return self.made["sqlite"]

    def postgres_name(self, base: str) -> str:
        if "postgres" not in self.made:
            self.made["postgres"] = migrated(self.postgres.enter_context(postgres_database(base)), TEST_KEY_BYTES)
        return database_name(self.made["postgres"])

    def postgres_copies(self, base: str) -> PostgresCopies:
        """Made once per worker; closed (its spare copies dropped, its drops waited for) before the template goes."""
        if self.copies is None:
            self.copies = PostgresCopies(base)
        return self.copies


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("template"))
    with made.postgres:
        try:
            yield made
        finally:
            if made.copies is not None:
                made.copies.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """A database of this test's own, at the newest migration; empty under `@pytest.mark.empty_database`."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        yield sqlite_url(tmp_path) if empty else sqlite_copy(templates.sqlite(), tmp_path)
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("AFTERCARE_TEST_POSTGRES_URL is not set")
    copies = templates.postgres_copies(base)
    with copies.database(None if empty else templates.postgres_name(base)) as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (a stable sort: the rest keep their order), so no worker starts one as the others end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        environment="development",
    )


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock, sleeps: RecordedSleeps) -> AsyncIterator[Application]:
    application = build_application(settings, clock=clock, sleep=sleeps)
    try:
        await application.migrate()
        yield application
    finally:
        await application.aclose()
