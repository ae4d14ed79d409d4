"""Referral requests: help asked for, routed to a counselling point, taken by a counsellor, talked about through the
bot and closed with an outcome; every change of status is kept (ReferralEventRow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Subquery, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.models import ParticipantRow, ReferralEventRow, ReferralRow
from bot.domain.referrals import CADRE_CONVERSATION, ReferralEvent, ReferralStatus


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    participant_id: int
    kind: str
    urgency: str
    status: ReferralStatus
    source: str
    created_at: datetime
    point_id: int | None
    counsellor_id: int | None
    accepted_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    first_reply_at: datetime | None = None
    relay_started_at: datetime | None = None
    relay_ended_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status != ReferralStatus.CLOSED

    @property
    def relaying(self) -> bool:
        """A talk with a counsellor through the bot, started and not ended by either side (waiting or going on)."""
        return self.open and self.relay_started_at is not None and self.relay_ended_at is None


def _referral(row: ReferralRow) -> Referral:
    assert row.id is not None
    return Referral(
        row.id, row.participant_id, row.kind, row.urgency, ReferralStatus(row.status), row.source, row.created_at,
        row.point_id, row.counsellor_id, row.accepted_at, row.closed_at, row.outcome, row.first_reply_at,
        row.relay_started_at, row.relay_ended_at,
    )  # fmt: skip


class ReferralRepository:
    """Requests for help, routed to a counselling point; every change of status is kept (ReferralEventRow)."""

    _NOTE = "referral.note"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def request(
        self, participant_id: int, kind: str, source: str, urgency: str = "normal", point_id: int | None = None
    ) -> int:
        row = ReferralRow(
            participant_id=participant_id,
            kind=kind,
            urgency=urgency,
            status=ReferralStatus.REQUESTED.value,
            source=source,
            point_id=point_id,
            created_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        await self._event(row.id, ReferralEvent.REQUESTED, "participant", participant_id)
        return row.id

    async def _event(
        self, referral_id: int, status: ReferralEvent | str, actor_type: str, actor_id: int | None
    ) -> datetime:
        at = self._clock.now()
        self._s.add(
            ReferralEventRow(
                referral_id=referral_id, status=str(status), actor_type=actor_type, actor_id=actor_id, at=at
            )
        )
        await self._s.flush()
        return at

    async def get(self, referral_id: int) -> Referral | None:
        row = await self._s.get(ReferralRow, referral_id)
        return _referral(row) if row else None

    async def open_for_point(self, point_id: int) -> list[Referral]:
        """Not yet closed, urgent first, then the oldest."""
        stmt = select(ReferralRow).where(
            ReferralRow.point_id == point_id, ReferralRow.status != ReferralStatus.CLOSED.value
        )
        rows = (await self._s.execute(stmt.order_by(ReferralRow.created_at, ReferralRow.id))).scalars()
        found = [_referral(r) for r in rows]
        return sorted(found, key=lambda r: r.urgency != "urgent")

    async def urgent_waiting(self, urgent_before: datetime) -> list[tuple[Referral, datetime]]:
        """Urgent referrals nobody has taken, urgent since before that instant: (referral, urgent since). A request
        that became urgent later (a crisis typed while waiting for a counsellor) counts from that moment."""
        became = _became_urgent()
        since = func.coalesce(became.c.at, ReferralRow.created_at)
        stmt = (
            select(ReferralRow, since)
            .outerjoin(became, became.c.referral_id == ReferralRow.id)
            .where(
                ReferralRow.urgency == "urgent",
                ReferralRow.status == ReferralStatus.REQUESTED.value,
                since <= urgent_before,
            )
            .order_by(ReferralRow.id)
        )
        return [(_referral(row), _aware(at)) for row, at in (await self._s.execute(stmt)).all()]

    async def urgent_in_relay(self) -> list[tuple[Referral, datetime]]:
        """Urgent referrals a counsellor has taken, conversation still open: (referral, since), since = when it became
        urgent or was taken, whichever is later — from then on an answer is expected."""
        became = _became_urgent()
        stmt = (
            select(ReferralRow, became.c.at)
            .outerjoin(became, became.c.referral_id == ReferralRow.id)
            .where(
                ReferralRow.urgency == "urgent",
                ReferralRow.status == ReferralStatus.ACCEPTED.value,
                ReferralRow.relay_started_at.is_not(None),  # type: ignore[union-attr]
                ReferralRow.relay_ended_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(ReferralRow.id)
        )
        found = []
        for row, urgent_at in (await self._s.execute(stmt)).all():
            referral = _referral(row)
            start = _aware(urgent_at) if urgent_at is not None else referral.created_at
            found.append((referral, max(start, referral.accepted_at or start)))
        return found

    async def of_participant(self, participant_id: int, limit: int = 5) -> list[Referral]:
        """The person's requests for help, newest first (their conversations with their cadre are not among them)."""
        stmt = (
            select(ReferralRow)
            .where(ReferralRow.participant_id == participant_id, ReferralRow.kind != CADRE_CONVERSATION)
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
        return [_referral(r) for r in (await self._s.execute(stmt)).scalars()]

    async def open_kinds_of(self, participant_id: int) -> set[str]:
        """The kinds of the person's requests not yet closed (a request of one of them is not made twice)."""
        stmt = select(ReferralRow.kind).where(
            ReferralRow.participant_id == participant_id, ReferralRow.status != ReferralStatus.CLOSED.value
        )
        return set((await self._s.execute(stmt)).scalars())

    async def accept(self, referral_id: int, counsellor_id: int) -> bool:
        """One counsellor takes it; False when someone else already did (the others see it taken)."""
        return await self._transition(
            referral_id,
            [ReferralRow.status == ReferralStatus.REQUESTED.value],
            {"status": ReferralStatus.ACCEPTED.value, "counsellor_id": counsellor_id, "accepted_at": self._clock.now()},
            (ReferralEvent.ACCEPTED, "staff", counsellor_id),
        )

    async def close(self, referral_id: int, counsellor_id: int, outcome: str) -> bool:
        closed = await self._transition(
            referral_id,
            [ReferralRow.status == ReferralStatus.ACCEPTED.value, ReferralRow.counsellor_id == counsellor_id],
            {"status": ReferralStatus.CLOSED.value, "outcome": outcome, "closed_at": self._clock.now()},
            (f"{ReferralEvent.CLOSED}:{outcome}", "staff", counsellor_id),
        )
        if closed:
            await self.end_relay(referral_id, "staff", counsellor_id)
        return closed

    async def _transition(
        self,
        referral_id: int,
        conditions: list[Any],
        values: dict[str, Any],
        event: tuple[ReferralEvent | str, str, int | None],
    ) -> bool:
        """One guarded change of a referral (an UPDATE … WHERE, so two people cannot both make it) and its history
        entry; False when the guard did not hold (someone else was first)."""
        result = await self._s.execute(
            update(ReferralRow).where(ReferralRow.id == referral_id, *conditions).values(**values)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        await self._event(referral_id, *event)
        return True

    async def make_urgent(self, referral_id: int) -> datetime:
        """A crisis in this request: urgent from now (each new episode restarts the clock the planner reads)."""
        await self._s.execute(update(ReferralRow).where(ReferralRow.id == referral_id).values(urgency="urgent"))
        return await self._event(referral_id, ReferralEvent.URGENT, "participant", None)

    async def hand_over(self, participant_id: int, point_id: int | None) -> None:
        """The person moved: their open referrals wait again, at the new commune's point; what was said to the old
        point's counsellor stays with that conversation, which ends."""
        rows = (
            await self._s.execute(
                select(ReferralRow).where(
                    ReferralRow.participant_id == participant_id,
                    ReferralRow.status != ReferralStatus.CLOSED.value,
                    ReferralRow.kind != CADRE_CONVERSATION,  # ended with the cadre (services/relay.cadre_changed)
                )
            )
        ).scalars()
        now = self._clock.now()
        for row in rows:
            assert row.id is not None
            if row.relay_started_at is not None and row.relay_ended_at is None:
                row.relay_ended_at = now
            row.point_id, row.status, row.counsellor_id = point_id, ReferralStatus.REQUESTED.value, None
            await self._event(row.id, ReferralEvent.HANDED_OVER, "staff", None)
            if row.urgency == "urgent":  # the new point's round of alerts starts now, not from the old crisis
                await self._event(row.id, ReferralEvent.URGENT, "staff", None)
        await self._s.flush()

    async def withdraw(self, referral_id: int, participant_id: int) -> bool:
        """The person no longer wants it and nobody had taken it: closed as "withdrawn" (counted apart in reports)."""
        return await self._transition(
            referral_id,
            [ReferralRow.status == ReferralStatus.REQUESTED.value],
            {"status": ReferralStatus.CLOSED.value, "outcome": "withdrawn", "closed_at": self._clock.now()},
            (f"{ReferralEvent.CLOSED}:withdrawn", "participant", participant_id),
        )

    async def relay_of(self, participant_id: int) -> Referral | None:
        """The person's talk with a counsellor that is still going on or waiting, the newest."""
        return await self._open_counselling(participant_id, started=True)

    async def open_counselling_of(self, participant_id: int) -> Referral | None:
        """The person's newest open counselling referral, talked in or not (a crisis referral nobody took yet)."""
        return await self._open_counselling(participant_id, started=False)

    async def _open_counselling(self, participant_id: int, started: bool) -> Referral | None:
        stmt = (
            select(ReferralRow)
            .where(
                ReferralRow.participant_id == participant_id,
                ReferralRow.kind == "counselling",
                ReferralRow.status != ReferralStatus.CLOSED.value,
                ReferralRow.relay_ended_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(1)
        )
        if started:
            stmt = stmt.where(ReferralRow.relay_started_at.is_not(None))  # type: ignore[union-attr]
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return _referral(row) if row else None

    async def start_relay(self, referral_id: int, actor_type: str, actor_id: int | None) -> None:
        """From now on what the person types goes to this referral's counsellor (once; an ended one stays ended)."""
        await self._transition(
            referral_id,
            [ReferralRow.relay_started_at.is_(None)],  # type: ignore[union-attr]
            {"relay_started_at": self._clock.now()},
            (ReferralEvent.RELAY_STARTED, actor_type, actor_id),
        )

    async def end_relay(self, referral_id: int, actor_type: str, actor_id: int | None) -> bool:
        """False when it had already ended (the other side ended it first)."""
        return await self._transition(
            referral_id,
            [ReferralRow.relay_ended_at.is_(None)],  # type: ignore[union-attr]
            {"relay_ended_at": self._clock.now()},
            (ReferralEvent.RELAY_ENDED, actor_type, actor_id),
        )

    async def replied(self, referral_id: int, counsellor_id: int) -> None:
        """The first human reply is what reports measure (median time to first reply); later ones change nothing."""
        await self._transition(
            referral_id,
            [ReferralRow.first_reply_at.is_(None)],  # type: ignore[union-attr]
            {"first_reply_at": self._clock.now()},
            (ReferralEvent.FIRST_REPLY, "staff", counsellor_id),
        )

    async def staff_answers_since(self, participant_id: int, since: datetime) -> int:
        """How many times staff took or first answered one of the person's urgent referrals since `since`: what the
        reports count as a human answer to a crisis (bot/db/repositories/reports.py `_crises`)."""
        stmt = (
            select(func.count())
            .select_from(ReferralEventRow)
            .join(ReferralRow, ReferralRow.id == ReferralEventRow.referral_id)
            .where(
                ReferralRow.participant_id == participant_id,
                ReferralRow.urgency == "urgent",
                ReferralEventRow.status.in_([ReferralEvent.ACCEPTED.value, ReferralEvent.FIRST_REPLY.value]),  # type: ignore[attr-defined]
                ReferralEventRow.actor_type == "staff",
                ReferralEventRow.at >= since,
            )
        )
        return int((await self._s.execute(stmt)).scalar_one())

    async def in_period(self, unit_ids: Sequence[int], since: datetime, until: datetime) -> list[Referral]:
        """Referrals of people of these communes asked for in [since, until): the counts of a report."""
        stmt = (
            select(ReferralRow)
            .join(ParticipantRow, ParticipantRow.id == ReferralRow.participant_id)
            .where(
                ParticipantRow.unit_id.in_(list(unit_ids)),  # type: ignore[attr-defined]
                ReferralRow.kind != CADRE_CONVERSATION,  # a talk with one's cadre is not a referral
                ReferralRow.created_at >= since,
                ReferralRow.created_at < until,
            )
            .order_by(ReferralRow.id)
        )
        return [_referral(r) for r in (await self._s.execute(stmt)).scalars()]

    async def release(self, counsellor_id: int) -> list[Referral]:
        """The counsellor's account was closed: what they had taken waits again at its point, conversations included
        (what the person writes meanwhile is kept for whoever takes it); an urgent one restarts its round of alerts."""
        stmt = select(ReferralRow).where(
            ReferralRow.counsellor_id == counsellor_id,
            ReferralRow.status == ReferralStatus.ACCEPTED.value,
            ReferralRow.kind != CADRE_CONVERSATION,
        )
        rows = list((await self._s.execute(stmt.order_by(ReferralRow.id))).scalars())
        for row in rows:
            assert row.id is not None
            row.status, row.counsellor_id = ReferralStatus.REQUESTED.value, None
            await self._event(row.id, ReferralEvent.RELEASED, "operator", None)
            if row.urgency == "urgent":
                await self._event(row.id, ReferralEvent.URGENT, "operator", None)
        await self._s.flush()
        return [_referral(row) for row in rows]

    async def add_note(self, referral_id: int, text: str) -> None:
        row = await self._s.get(ReferralRow, referral_id)
        if row is not None:
            ref = row_ref(id=row.id, participant=row.participant_id)
            earlier = self._cipher.decrypt_optional(row.note_enc, self._NOTE, ref)
            row.note_enc = self._cipher.encrypt(f"{earlier}\n{text}" if earlier else text, self._NOTE, ref)
            await self._s.flush()

    async def note_of(self, referral_id: int) -> str | None:
        row = await self._s.get(ReferralRow, referral_id)
        if row is None:
            return None
        ref = row_ref(id=row.id, participant=row.participant_id)
        return self._cipher.decrypt_optional(row.note_enc, self._NOTE, ref)


def _aware(value: datetime | str) -> datetime:
    """A computed timestamp comes back naive (SQLite: even as text); stored instants are UTC."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _became_urgent() -> Subquery:
    """referral_id → the last time it became urgent (a crisis episode), from the status history."""
    return (
        select(ReferralEventRow.referral_id, func.max(ReferralEventRow.at).label("at"))
        .where(ReferralEventRow.status == ReferralEvent.URGENT.value)
        .group_by(ReferralEventRow.referral_id)
        .subquery()
    )
