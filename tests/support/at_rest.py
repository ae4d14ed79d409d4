"""The database as someone holding a copy of it, or write access to it, sees it: for the few end-to-end checks that
a value is sealed at rest, that no platform id is stored in the clear, or that a tampered or foreign-written row is
refused. Only the tests allow-listed in tests/unit/test_test_layout.py use it; every other check goes through the
repositories, the CLI or what people are sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, update
from sqlmodel import SQLModel

from bot.app import Application


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def stored(app: Application, table: str, column: str, **where: Any) -> list[Any]:
    """One column's values as stored (sealed values stay sealed), in id order."""
    t = _table(table)
    stmt = select(t.c[column]).where(*(t.c[k] == v for k, v in where.items())).order_by(t.c.id)
    async with app.store.transaction() as repos:
        return list((await repos.session.execute(stmt)).scalars())


async def rows(app: Application, table: str, **where: Any) -> list[dict[str, Any]]:
    """Whole rows as stored, in id order."""
    t = _table(table)
    stmt = select(t).where(*(t.c[k] == v for k, v in where.items())).order_by(t.c.id)
    async with app.store.transaction() as repos:
        return [dict(row) for row in (await repos.session.execute(stmt)).mappings()]


async def overwrite(app: Application, table: str, values: dict[str, Any], **where: Any) -> int:
    """`UPDATE … SET` by hand, as an attacker (or another version of the assistant) would; rows changed."""
    t = _table(table)
    stmt = update(t).where(*(t.c[k] == v for k, v in where.items())).values(values)
    async with app.store.transaction() as repos:
        result = await repos.session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def swap(app: Application, table: str, column: str, first: int, second: int) -> None:
    """Exchange one column's stored values between two rows."""
    [a] = await stored(app, table, column, id=first)
    [b] = await stored(app, table, column, id=second)
    await overwrite(app, table, {column: b}, id=first)
    await overwrite(app, table, {column: a}, id=second)


async def every_value(app: Application) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every non-null value of every table: what a copy of the database holds."""
    found = []
    async with app.store.transaction() as repos:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await repos.session.execute(select(table))).mappings():
                found += [(table.name, column, value) for column, value in row.items() if value is not None]
    return found
