"""Shared fixtures: every test that touches a database runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import Application, build_application
from bot.config import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.databases import database_name, postgres_base_url, sqlite_copy, sqlite_url
from tests.fakes.sleeps import RecordedSleeps
from tests.support.config import TEST_KEY
from tests.support.templates import Templates, handing


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
    """A database of this test's own, at the newest migration; empty under `@pytest.mark.empty_database`. A test using
    the transcripts' `commune` fixture (tests/e2e/conftest.py, through `commune_template`) gets a copy of the template
    where it was seeded."""
    empty = request.node.get_closest_marker("empty_database") is not None
    seeded = not empty and "commune_template" in request.fixturenames
    if request.param == "sqlite":
        if empty:
            yield sqlite_url(tmp_path)
            return
        template = templates.sqlite_commune() if seeded else templates.sqlite()
        url = sqlite_copy(template, tmp_path)
        with handing(templates, url, templates.seeded.get(database_name(template))):
            yield url
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("AFTERCARE_TEST_POSTGRES_URL is not set")
    name = None if empty else templates.postgres_commune_name(base) if seeded else templates.postgres_name(base)
    copies = templates.postgres_copies(base)
    with copies.database(name) as url, handing(templates, url, templates.seeded.get(name or "")):
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
