"""The keys that wrote to this database, where a key rotation stands, and the row updates a rotation makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert_ignoring, upsert
from bot.db.models import EncryptionKeyRow, InviteCodeRow, KeyRotationRow
from bot.db.sealed import SealedColumn, holds_value, key_prefix, table_of


@dataclass(frozen=True)
class KnownKey:
    key_id: str
    canary: str
    added_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class Cursor:
    key_id: str
    position: int
    old_link: str
    new_link: str


class KeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def known(self) -> list[KnownKey]:
        rows = (await self._s.execute(select(EncryptionKeyRow).order_by(EncryptionKeyRow.added_at))).scalars()
        return [KnownKey(r.key_id, r.canary, r.added_at, r.retired_at) for r in rows]

    async def add(self, key_id: str, canary: str, at: datetime) -> None:
        """Remember a key (two workers starting at once: the second inserts nothing)."""
        values = {"key_id": key_id, "canary": canary, "added_at": at, "retired_at": None}
        await self._s.execute(insert_ignoring(self._s, EncryptionKeyRow, "key_id").values(**values))

    async def retire(self, key_id: str, at: datetime) -> None:
        await self._s.execute(
            update(EncryptionKeyRow).where(EncryptionKeyRow.key_id == key_id).values(retired_at=at)  # type: ignore[arg-type]
        )

    async def cursor(self, part: str, lock: bool = False) -> Cursor | None:
        stmt = select(KeyRotationRow).where(KeyRotationRow.part == part).execution_options(populate_existing=True)
        row = (await self._s.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
        return Cursor(row.key_id, row.position, row.old_link, row.new_link) if row else None

    async def cursors(self) -> dict[str, Cursor]:
        rows = (await self._s.execute(select(KeyRotationRow))).scalars()
        return {r.part: Cursor(r.key_id, r.position, r.old_link, r.new_link) for r in rows}

    async def save_cursor(self, part: str, cursor: Cursor) -> None:
        """One statement, insert or update: the CLI and the scheduler starting the same part at once never collide
        on the primary key (the second waits for the first's row, then updates it)."""
        values = {
            "key_id": cursor.key_id,
            "position": cursor.position,
            "old_link": cursor.old_link,
            "new_link": cursor.new_link,
        }
        stmt = upsert(self._s, KeyRotationRow).values(part=part, **values)
        await self._s.execute(stmt.on_conflict_do_update(index_elements=["part"], set_=values))

    async def by_key_prefix(self, spec: SealedColumn) -> list[tuple[str, int]]:
        """(first characters of the sealed string, how many values) for one column, counted by the database."""
        prefix = key_prefix(spec)
        stmt = select(prefix, func.count()).where(holds_value(spec)).group_by(prefix)
        return [(str(r[0]), int(r[1])) for r in (await self._s.execute(stmt)).all()]

    async def locked_rows(self, spec: SealedColumn, ids: Sequence[int], extra: Sequence[str] = ()) -> list[Any]:
        """The rows as they are now, locked until the batch commits (PostgreSQL): a value the application rewrote
        since the page was read is re-sealed as it is now, never overwritten with the older one."""
        table = table_of(spec)
        names = dict.fromkeys([spec.column, *spec.uses, *extra])
        stmt = select(table.c.id, *(table.c[n] for n in names)).where(table.c.id.in_(ids)).order_by(table.c.id)
        return list((await self._s.execute(stmt.with_for_update())).mappings())

    async def write(self, spec: SealedColumn, row_id: int, values: dict[str, Any]) -> None:
        table = table_of(spec)
        await self._s.execute(update(table).where(table.c.id == row_id).values(**values))

    async def live_invites_before(self, before: datetime, now: datetime) -> list[tuple[int | None, int | None]]:
        """(participant id, staff id) of unused, unrevoked, unexpired invite codes issued before `before`: hashed
        under an older key, they stop working when it is retired."""
        stmt = (
            select(InviteCodeRow.participant_id, InviteCodeRow.staff_id)
            .where(
                InviteCodeRow.created_at < before,
                InviteCodeRow.used_at.is_(None),  # type: ignore[union-attr]
                InviteCodeRow.revoked_at.is_(None),  # type: ignore[union-attr]
                InviteCodeRow.expires_at > now,
            )
            .order_by(InviteCodeRow.id)
        )
        return [(r[0], r[1]) for r in (await self._s.execute(stmt)).all()]

    async def count(self, spec: SealedColumn) -> int:
        table = table_of(spec)
        return int((await self._s.execute(select(func.count()).select_from(table))).scalar_one())
