"""Stairway: every revision upgrades, downgrades and upgrades again, and head matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.db import migrate
from bot.db.engine import make_engine


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_stairway_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        revisions = _revisions()
        assert revisions, "no migrations found"
        for index, revision in enumerate(revisions):
            await migrate.upgrade(engine, revision)
            assert await migrate.current(engine) == revision
            await migrate.downgrade(engine, revisions[index - 1] if index else "base")
            await migrate.upgrade(engine, revision)
        assert await migrate.current(engine) == revisions[-1]
        await migrate.downgrade(engine, "base")
        assert await _tables(engine) <= {"alembic_version"}
        await migrate.upgrade(engine)
        assert {"participant", "channel_identity", "invite_code", "consent", "audit_event"} <= await _tables(engine)
    finally:
        await engine.dispose()


async def test_head_matches_the_models(database_url: str) -> None:
    """Autogenerate against head finds nothing: no model change is missing a migration."""
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), SQLModel.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()
