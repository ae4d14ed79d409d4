"""Shared fixtures: every test that touches a database runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import Application, build_application
from bot.config import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url
from tests.fakes.sleeps import RecordedSleeps
from tests.support.config import TEST_KEY


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("AFTERCARE_TEST_POSTGRES_URL is not set")
    with postgres_database(base) as url:
        yield url


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
