"""Shared fixtures: every test that touches a database runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
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
from tests.support.factories import SeededCommune, seed_commune_once


class Templates:
    """One migrated database per backend for this worker, made when a test first needs it (tests.fakes.databases);
    and one per backend where `seed_commune` also ran, for the tests that ask for the `commune` fixture (most of the
    transcripts: seeding it through the services for each of them cost a tenth of their time)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.made: dict[str, str] = {}
        self.postgres: ExitStack = ExitStack()
        self.copies: PostgresCopies | None = None
        self.seeded: dict[str, SeededCommune] = {}  # a seeded template's name → what seeding it returned
        self.handed: dict[str, SeededCommune] = {}  # a test's database URL → the seeded template it is a copy of

    def sqlite(self) -> str:
        if "sqlite" not in self.made:
            self.made["sqlite"] = migrated(sqlite_url(self.directory), TEST_KEY_BYTES)
        return self.made["sqlite"]

    def postgres_name(self, base: str) -> str:
        if "postgres" not in self.made:
            self.made["postgres"] = migrated(self.postgres.enter_context(postgres_database(base)), TEST_KEY_BYTES)
        return database_name(self.made["postgres"])

    def sqlite_commune(self) -> str:
        if "sqlite-commune" not in self.made:
            directory = self.directory / "commune"
            directory.mkdir()
            url = sqlite_copy(self.sqlite(), directory)
            self.seeded[database_name(url)] = seed_commune_once(url, directory / "data")
            self.made["sqlite-commune"] = url
        return self.made["sqlite-commune"]

    def postgres_commune_name(self, base: str) -> str:
        if "postgres-commune" not in self.made:
            url = self.postgres.enter_context(postgres_database(base, self.postgres_name(base)))
            self.seeded[database_name(url)] = seed_commune_once(url, self.directory / "commune-postgres")
            self.made["postgres-commune"] = url
        return database_name(self.made["postgres-commune"])

    def commune_of(self, database_url: str) -> SeededCommune | None:
        """The commune a test's database was copied with; None when it was not (then the test seeds it)."""
        return self.handed.get(database_url)

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
    """A database of this test's own, at the newest migration; empty under `@pytest.mark.empty_database`. A test that
    asks for the `commune` fixture (tests/e2e/conftest.py) gets a copy of the template where it was seeded."""
    empty = request.node.get_closest_marker("empty_database") is not None
    seeded = not empty and "commune" in request.fixturenames
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


@contextmanager
def handing(templates: Templates, url: str, seeded: SeededCommune | None) -> Iterator[None]:
    """While the test runs, `templates.commune_of(url)` says what the seeded template it was copied from holds."""
    if seeded is not None:
        templates.handed[url] = seeded
    try:
        yield
    finally:
        templates.handed.pop(url, None)


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
