"""The one place that knows PostgreSQL and SQLite spell "insert unless it exists" differently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


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


async def core_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection for bulk Core statements, pending ORM changes flushed first (as `session.execute`
    would). A bulk insert through `session.execute` takes the ORM's bulk path, which costs more Python per row than
    the database spends on it; executemany on the connection does not."""
    await session.flush()
    return await session.connection()


async def insert_many(
    session: AsyncSession,
    table: Any,
    rows: Sequence[dict[str, Any]],
    conflict: Callable[[Any], Any],
    returning: Sequence[Any] = (),
) -> list[Any]:
    """INSERT many rows (all with the same keys) with the ON CONFLICT clause `conflict` adds to a dialect insert.

    PostgreSQL: one statement, each column one array parameter (`INSERT … SELECT * FROM unnest(…)`). Executemany
    would send a statement per row, each planned on its own (the engine plans every execution, `plan_cache_mode`):
    several times slower for the planner's tens of thousands of rows. SQLite: executemany, which is a loop in C.
    Either way on the Core connection: the ORM's bulk path costs more Python per row than the database does.
    With DO UPDATE, a key may appear only once in `rows` (PostgreSQL refuses to update a row twice in a statement).
    `returning`: columns to return of the rows inserted (or updated), in no promised order; none: returns []."""
    if not rows:
        return []
    connection = await core_connection(session)
    if not is_postgres(session):
        statement = conflict(sqlite_insert(table))
        if returning:  # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues")
            return list((await connection.execute(statement.returning(*returning), list(rows))).all())
        await connection.execute(statement, list(rows))
        return []
    columns = table.__table__.c
    names = list(rows[0])
    # A column with one value for every row is one parameter, and one with the same values as an earlier column of
    # its type is that column again: each array element costs Python and driver work (here a reminder's kind, status
    # and creation time, its next attempt, which is its due time; an audit entry's actor, action and time).
    arrays: dict[str, list[Any]] = {}
    picked: dict[str, Any] = {}
    for index, name in enumerate(names):
        values = [row[name] for row in rows]
        if index and values.count(values[0]) == len(values):
            picked[name] = bindparam(f"one_{name}", values[0], type_=columns[name].type)
            continue
        kind = type(columns[name].type)
        same = next((other for other in arrays if type(columns[other].type) is kind and arrays[other] == values), None)
        if same is not None:
            picked[name] = same
            continue
        arrays[name] = values
    source = (
        func.unnest(
            *(bindparam(f"many_{name}", values, type_=ARRAY(columns[name].type)) for name, values in arrays.items())
        )
        .table_valued(*arrays)
        .render_derived(name="many")
    )
    selected = [
        source.c[name] if name in arrays else source.c[picked[name]] if isinstance(picked[name], str) else picked[name]
        for name in names
    ]
    statement = conflict(pg_insert(table).from_select(names, select(*selected)))
    if returning:
        return list((await connection.execute(statement.returning(*returning))).all())
    await connection.execute(statement)
    return []


def first_per_key(rows: Sequence[dict[str, Any]], key: str = "key") -> list[dict[str, Any]]:
    """The first row of each key, in order: what a row-by-row upsert would have let through before its own repeats
    found the row already there (and what a one-statement upsert needs: no key twice)."""
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())
