"""Messages of the conversations between people and counsellors through the bot.

Each body is sealed with its referral's id as associated data: a row copied onto another conversation does not
decrypt, so a bug or a tampered database cannot show one person's words in another's chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher
from bot.db.models import RelayMessageRow


@dataclass(frozen=True, slots=True)
class RelayMessage:
    id: int
    referral_id: int
    participant_id: int
    sender: str  # participant | counsellor
    staff_id: int | None
    body: str
    sent_at: datetime


class RelayRepository:
    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    @staticmethod
    def _column(referral_id: int) -> str:
        return f"relay.body:{referral_id}"

    async def add(
        self, referral_id: int, participant_id: int, sender: str, body: str, staff_id: int | None = None
    ) -> int:
        row = RelayMessageRow(
            referral_id=referral_id,
            participant_id=participant_id,
            sender=sender,
            staff_id=staff_id,
            body_enc=self._cipher.encrypt(body, self._column(referral_id)),
            sent_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        return row.id

    def _message(self, row: RelayMessageRow) -> RelayMessage:
        assert row.id is not None
        body = self._cipher.decrypt(row.body_enc, self._column(row.referral_id))
        return RelayMessage(row.id, row.referral_id, row.participant_id, row.sender, row.staff_id, body, row.sent_at)

    async def get(self, message_id: int) -> RelayMessage | None:
        row = await self._s.get(RelayMessageRow, message_id)
        return self._message(row) if row else None

    async def of_referral(self, referral_id: int, sender: str | None = None, limit: int = 20) -> list[RelayMessage]:
        """The latest messages of one conversation, oldest first."""
        stmt = select(RelayMessageRow).where(RelayMessageRow.referral_id == referral_id)
        if sender is not None:
            stmt = stmt.where(RelayMessageRow.sender == sender)
        stmt = stmt.order_by(RelayMessageRow.sent_at.desc(), RelayMessageRow.id.desc()).limit(limit)  # type: ignore[attr-defined]
        rows = list((await self._s.execute(stmt)).scalars())
        return [self._message(r) for r in reversed(rows)]

    async def purge(self, participant_ids: Sequence[int]) -> int:
        """Gone with the person's records; outbox rows that still point at them are skipped when rendered."""
        if not participant_ids:
            return 0
        result = await self._s.execute(
            delete(RelayMessageRow).where(RelayMessageRow.participant_id.in_(list(participant_ids)))  # type: ignore[attr-defined]
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
