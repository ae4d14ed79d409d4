"""Messages of the conversations through the bot, a person's with a counsellor or with their own cadre; and the
conversations with a cadre themselves (referral rows of kind `CADRE_CONVERSATION`, see bot/domain/referrals.py).

Each body is sealed for its own row, conversation and person (bot/db/crypto.py): a body copied onto another message
or conversation does not decrypt, so a bug or a tampered database cannot show one person's words in another's chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.models import ReferralEventRow, ReferralRow, RelayMessageRow
from bot.domain.referrals import CADRE_CONVERSATION, ReferralEvent, ReferralStatus

# How a conversation with a cadre is closed, whoever ended it (the referral's outcome; counted nowhere).
ENDED = "ended"


@dataclass(frozen=True, slots=True)
class RelayMessage:
    id: int
    referral_id: int
    participant_id: int
    sender: str  # participant | counsellor | cadre
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

    # --- conversations with one's cadre -------------------------------------------------------------------------

    def _open(self) -> list[Any]:
        """Conditions of a conversation still going on: started, not ended by either side, not closed."""
        return [
            ReferralRow.relay_started_at.is_not(None),  # type: ignore[union-attr]
            ReferralRow.relay_ended_at.is_(None),  # type: ignore[union-attr]
            ReferralRow.status != ReferralStatus.CLOSED.value,
        ]

    async def start_with_cadre(self, participant_id: int, cadre_id: int) -> int:
        """A new conversation of the person with their cadre, open at once: the cadre is the one who answers (held
        in `counsellor_id`), no counselling point is involved and nobody has to take it first."""
        now = self._clock.now()
        row = ReferralRow(
            participant_id=participant_id,
            kind=CADRE_CONVERSATION,
            urgency="normal",
            status=ReferralStatus.ACCEPTED.value,
            source="participant",
            created_at=now,
            point_id=None,
            counsellor_id=cadre_id,
            accepted_at=now,
            relay_started_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        for event in (ReferralEvent.REQUESTED, ReferralEvent.RELAY_STARTED):
            self._s.add(ReferralEventRow(referral_id=row.id, status=str(event), actor_type="participant",
                                         actor_id=participant_id, at=now))  # fmt: skip
        await self._s.flush()
        return row.id

    async def open_with_cadre(self, participant_id: int) -> int | None:
        """The person's conversation with a cadre that is still going on (the newest, should there be two)."""
        stmt = select(ReferralRow.id).where(
            ReferralRow.participant_id == participant_id, ReferralRow.kind == CADRE_CONVERSATION, *self._open()
        )
        stmt = stmt.order_by(ReferralRow.created_at.desc(), ReferralRow.id.desc()).limit(1)  # type: ignore[attr-defined]
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def newest_open(self, participant_id: int) -> int | None:
        """The person's newest conversation still going on, with a counsellor or with their cadre: where words typed
        at the menu go (the newest is the one they last opened)."""
        stmt = select(ReferralRow.id).where(
            ReferralRow.participant_id == participant_id,
            ReferralRow.kind.in_(["counselling", CADRE_CONVERSATION]),  # type: ignore[attr-defined]
            *self._open(),
        )
        stmt = stmt.order_by(ReferralRow.relay_started_at.desc(), ReferralRow.id.desc()).limit(1)  # type: ignore[union-attr]
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def open_with_cadres(
        self, *, participant_id: int | None = None, cadre_id: int | None = None
    ) -> list[tuple[int, int, int]]:
        """Conversations with a cadre still going on, of one person or answered by one cadre: (referral, person,
        cadre), oldest first."""
        stmt = select(ReferralRow.id, ReferralRow.participant_id, ReferralRow.counsellor_id).where(
            ReferralRow.kind == CADRE_CONVERSATION, *self._open()
        )
        if participant_id is not None:
            stmt = stmt.where(ReferralRow.participant_id == participant_id)
        if cadre_id is not None:
            stmt = stmt.where(ReferralRow.counsellor_id == cadre_id)
        rows = (await self._s.execute(stmt.order_by(ReferralRow.id))).all()
        return [(rid, pid, cid) for rid, pid, cid in rows if cid is not None]

    async def end_with_cadre(self, referral_id: int, actor_type: str, actor_id: int | None) -> bool:
        """End and close a conversation with a cadre (one guarded UPDATE: of two sides ending it at once, one does);
        False when it had already ended or is not such a conversation."""
        now = self._clock.now()
        result = await self._s.execute(
            update(ReferralRow)
            .where(ReferralRow.id == referral_id, ReferralRow.kind == CADRE_CONVERSATION, *self._open())
            .values(relay_ended_at=now, status=ReferralStatus.CLOSED.value, outcome=ENDED, closed_at=now)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        for event in (ReferralEvent.RELAY_ENDED, f"{ReferralEvent.CLOSED}:{ENDED}"):
            self._s.add(ReferralEventRow(referral_id=referral_id, status=str(event), actor_type=actor_type,
                                         actor_id=actor_id, at=now))  # fmt: skip
        await self._s.flush()
        return True
