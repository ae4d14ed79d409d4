"""The one place that knows PostgreSQL and SQLite spell "insert unless it exists" differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring(session: AsyncSession, table: Any, unique: str = "key") -> Any:
    """`INSERT … ON CONFLICT (unique) DO NOTHING`: idempotent planning, and the loser of a race inserts nothing."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=[unique])


def upsert(session: AsyncSession, table: Any) -> Any:
    """A dialect `INSERT` that accepts `.on_conflict_do_update(...)` (both dialects spell it the same)."""
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)
