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
    if not is_postgres(session):
        return await _executemany(session, table, list(rows), conflict, returning)
    return await insert_columns(
        session, table, {name: [row[name] for row in rows] for name in rows[0]}, conflict, returning
    )


async def insert_columns(
    session: AsyncSession,
    table: Any,
    columns: dict[str, list[Any]],
    conflict: Callable[[Any], Any],
    returning: Sequence[Any] = (),
) -> list[Any]:
    """`insert_many` of rows given column by column (each list one column, all as long): what the planner builds for
    its tens of thousands of rows, without a dict per row that the statement would only take apart again."""
    names = list(columns)
    if not names or not columns[names[0]]:
        return []
    if not is_postgres(session):
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        return await _executemany(session, table, rows, conflict, returning)
    connection = await core_connection(session)
    types = table.__table__.c
    # A column with one value for every row is one parameter, and one with the same values as an earlier column of
    # its type is that column again: each array element costs Python and driver work (here a reminder's kind, status
    # and creation time, its next attempt, which is its due time; an audit entry's actor, action and time).
    arrays: dict[str, list[Any]] = {}
    picked: dict[str, Any] = {}
    for index, name in enumerate(names):
        values = columns[name]
        if index and values.count(values[0]) == len(values) and _exact(values, values[:1] * len(values)):
            picked[name] = bindparam(f"one_{name}", values[0], type_=types[name].type)
            continue
        kind = type(types[name].type)
        same = next(
            (o for o in arrays if type(types[o].type) is kind and arrays[o] == values and _exact(arrays[o], values)),
            None,
        )
        if same is not None:
            picked[name] = same
            continue
        arrays[name] = values
    source = (
        func.unnest(
            *(bindparam(f"many_{name}", values, type_=ARRAY(types[name].type)) for name, values in arrays.items())
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


def _exact(values: list[Any], others: list[Any]) -> bool:
    """Equal as stored, not only as Python compares: `1 == True == 1.0` and `{"n": 1} == {"n": True}`, but a JSON
    payload keeps which it was, so JSON values (dicts, lists) are never shared and the types must match."""
    return all(
        type(a) is type(b) and not isinstance(a, dict | list | tuple) for a, b in zip(values, others, strict=True)
    )


async def _executemany(
    session: AsyncSession,
    table: Any,
    rows: list[dict[str, Any]],
    conflict: Callable[[Any], Any],
    returning: Sequence[Any],
) -> list[Any]:
    """SQLite's form of `insert_many`."""
    connection = await core_connection(session)
    statement = conflict(sqlite_insert(table))
    if returning:  # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues")
        return list((await connection.execute(statement.returning(*returning), rows)).all())
    await connection.execute(statement, rows)
    return []


def first_per_key_columns(columns: dict[str, list[Any]], key: str = "key") -> dict[str, list[Any]]:
    """`first_per_key` of rows given column by column."""
    first: dict[Any, int] = {}
    for index, value in enumerate(columns[key]):
        first.setdefault(value, index)
    if len(first) == len(columns[key]):
        return columns
    kept = list(first.values())
    return {name: [values[i] for i in kept] for name, values in columns.items()}


def first_per_key(rows: Sequence[dict[str, Any]], key: str = "key") -> list[dict[str, Any]]:
    """The first row of each key, in order: what a row-by-row upsert would have let through before its own repeats
    found the row already there (and what a one-statement upsert needs: no key twice)."""
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())
