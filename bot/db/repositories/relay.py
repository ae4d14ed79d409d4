"""Messages of the conversations between people and counsellors through the bot.

Each body is sealed for its own row, conversation and person (bot/db/crypto.py): a body copied onto another message
or conversation does not decrypt, so a bug or a tampered database cannot show one person's words in another's chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.models import ReferralRow, RelayMessageRow
from bot.db.repositories.people import left_before
from bot.domain.referrals import ReferralStatus


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

    _BODY = "relay_message.body"

    @staticmethod
    def _ref(row: RelayMessageRow) -> str:
        return row_ref(id=row.id, referral=row.referral_id, participant=row.participant_id)

    async def add(
        self, referral_id: int, participant_id: int, sender: str, body: str, staff_id: int | None = None
    ) -> int:
        row = RelayMessageRow(
            referral_id=referral_id,
            participant_id=participant_id,
            sender=sender,
            staff_id=staff_id,
            body_enc="",  # sealed for the row once it has its id, below
            sent_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        row.body_enc = self._cipher.encrypt(body, self._BODY, self._ref(row))
        await self._s.flush()
        return row.id

    def _message(self, row: RelayMessageRow) -> RelayMessage:
        assert row.id is not None
        body = self._cipher.decrypt(row.body_enc, self._BODY, self._ref(row))
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

    async def others_since(self, counsellor_id: int, referral_id: int, since: str) -> list[tuple[int, int]]:
        """(referral, person) of the other conversations this counsellor is in where the person wrote after `since`
        (an ISO instant; empty: always), newest first."""
        try:
            after = datetime.fromisoformat(since)
        except ValueError:
            after = datetime.min.replace(tzinfo=UTC)
        stmt = (
            select(RelayMessageRow.referral_id, RelayMessageRow.participant_id)
            .join(ReferralRow, ReferralRow.id == RelayMessageRow.referral_id)
            .where(
                ReferralRow.counsellor_id == counsellor_id,
                ReferralRow.status == ReferralStatus.ACCEPTED.value,
                ReferralRow.relay_ended_at.is_(None),  # type: ignore[union-attr]
                RelayMessageRow.referral_id != referral_id,
                RelayMessageRow.sender == "participant",
                RelayMessageRow.sent_at > after,
            )
            .order_by(RelayMessageRow.sent_at.desc(), RelayMessageRow.id.desc())  # type: ignore[attr-defined]
        )
        seen: dict[int, int] = {}
        for rid, pid in (await self._s.execute(stmt)).all():
            seen.setdefault(rid, pid)
        return list(seen.items())

    async def unanswered_since(self, referral_id: int, since: str) -> bool:
        """No counsellor message in this conversation after `since` (an ISO instant)."""
        try:
            after = datetime.fromisoformat(since)
        except ValueError:
            return False
        stmt = select(RelayMessageRow.id).where(
            RelayMessageRow.referral_id == referral_id,
            RelayMessageRow.sender == "counsellor",
            RelayMessageRow.sent_at > after,
        )
        return (await self._s.execute(stmt.limit(1))).first() is None

    async def purge_left_before(self, day: date) -> tuple[int, int]:
        """Delete the conversations of people who left the list before that day (term completed, moved out):
        (how many people had some, how many messages went). One statement whatever the numbers; outbox rows that
        still point at them are skipped when rendered."""
        gone = left_before(day)
        people = select(func.count(func.distinct(RelayMessageRow.participant_id))).where(
            RelayMessageRow.participant_id.in_(gone)  # type: ignore[attr-defined]
        )
        count = int((await self._s.execute(people)).scalar_one())
        if not count:
            return 0, 0
        result = await self._s.execute(
            delete(RelayMessageRow).where(RelayMessageRow.participant_id.in_(gone))  # type: ignore[attr-defined]
        )
        return count, int(result.rowcount or 0)  # type: ignore[attr-defined]
