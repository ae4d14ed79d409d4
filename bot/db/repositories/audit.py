from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.models import AuditEventRow
from bot.domain.entities import Identity


class AuditRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def record(
        self,
        *,
        actor_type: str,
        actor_id: int | None,
        action: str,
        outcome: str,
        subject_type: str | None = None,
        subject_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._s.add(
            AuditEventRow(
                at=self._clock.now(),
                actor_type=actor_type,
                actor_id=actor_id,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                outcome=outcome,
                detail=detail or {},
            )
        )
        await self._s.flush()

    async def reachability(
        self, identity: Identity, channel: str, reachable: bool, actor_type: str = "channel"
    ) -> None:
        """A chat became (un)reachable: blocked the bot, undeliverable, or wrote again."""
        await self.record(
            actor_type=actor_type,
            actor_id=None,
            action="chat_reachability",
            outcome="reachable" if reachable else "unreachable",
            subject_type="participant" if identity.participant_id else "staff",
            subject_id=identity.participant_id or identity.staff_id,
            detail={"channel": channel},
        )

    async def by_scheduler(self, action: str, participant_id: int, detail: dict[str, Any], outcome: str = "ok") -> None:
        await self.record(
            actor_type="scheduler",
            actor_id=None,
            action=action,
            outcome=outcome,
            subject_type="participant",
            subject_id=participant_id,
            detail=detail,
        )

    async def recent(self, limit: int = 100) -> list[AuditEventRow]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        return list((await self._s.execute(stmt)).scalars())
