"""The one place that knows PostgreSQL and SQLite spell "insert unless it exists" differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def is_postgres(session: AsyncSession) -> bool:
    return dialect_name(session) == "postgresql"


def insert_ignoring(session: AsyncSession | str, table: Any, unique: str = "key") -> Any:
    """`INSERT … ON CONFLICT (unique) DO NOTHING`: idempotent planning, and the loser of a race inserts nothing.
    `session`: the session, or its dialect's name (for a statement built once and kept)."""
    dialect = session if isinstance(session, str) else dialect_name(session)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=[unique])


def upsert(session: AsyncSession, table: Any) -> Any:
    """A dialect `INSERT` that accepts `.on_conflict_do_update(...)` (both dialects spell it the same)."""
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)
