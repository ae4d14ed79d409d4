"""The databases a worker copies for its tests (tests/conftest.py's `templates` and `database_url`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.fakes.databases import PostgresCopies, database_name, migrated, postgres_database, sqlite_copy, sqlite_url
from tests.support.config import TEST_KEY_BYTES
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


@contextmanager
def handing(templates: Templates, url: str, seeded: SeededCommune | None) -> Iterator[None]:
    """While the test runs, `templates.commune_of(url)` says what the seeded template it was copied from holds."""
    if seeded is not None:
        templates.handed[url] = seeded
    try:
        yield
    finally:
        templates.handed.pop(url, None)
