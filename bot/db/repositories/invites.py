from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.models import InviteCodeRow
from bot.domain.entities import InviteTarget


class InviteRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def issue(
        self,
        code_hash: str,
        expires_at: datetime,
        *,
        participant_id: int | None = None,
        staff_id: int | None = None,
        first: bool = False,
    ) -> None:
        """Store a new code for a person; any code they still had stops working (`first`: a record just made has
        none, so there is nothing to revoke)."""
        now = self._clock.now()
        owner = (
            InviteCodeRow.participant_id == participant_id
            if participant_id is not None
            else InviteCodeRow.staff_id == staff_id
        )
        if not first:
            await self._s.execute(
                update(InviteCodeRow)
                .where(owner, InviteCodeRow.used_at.is_(None), InviteCodeRow.revoked_at.is_(None))  # type: ignore[union-attr]
                .values(revoked_at=now)
            )
        self._s.add(
            InviteCodeRow(
                code_hash=code_hash,
                participant_id=participant_id,
                staff_id=staff_id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        await self._s.flush()

    async def redeem(self, code_hash: str | Sequence[str]) -> InviteTarget | None:
        """Mark a live code used and return whom it links; None for unknown, used, revoked or expired alike.
        Several hashes: the code under each configured key (a code issued before a key rotation still works)."""
        hashes = [code_hash] if isinstance(code_hash, str) else list(code_hash)
        now = self._clock.now()
        stmt = (
            select(InviteCodeRow)
            .where(
                InviteCodeRow.code_hash.in_(hashes),  # type: ignore[attr-defined]
                InviteCodeRow.used_at.is_(None),  # type: ignore[union-attr]
                InviteCodeRow.revoked_at.is_(None),  # type: ignore[union-attr]
            )
            .with_for_update()
        )
        row = (await self._s.execute(stmt)).scalars().first()
        if row is None or row.expires_at <= now:
            return None
        row.used_at = now
        await self._s.flush()
        assert row.id is not None
        return InviteTarget(row.id, row.participant_id, row.staff_id)

    async def revoke(self, *, participant_id: int | None = None, staff_id: int | None = None) -> int:
        """Every unused code of one person stops working (their account was closed); how many there were."""
        owner = (
            InviteCodeRow.participant_id == participant_id
            if participant_id is not None
            else InviteCodeRow.staff_id == staff_id
        )
        result = await self._s.execute(
            update(InviteCodeRow)
            .where(owner, InviteCodeRow.used_at.is_(None), InviteCodeRow.revoked_at.is_(None))  # type: ignore[union-attr]
            .values(revoked_at=self._clock.now())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
