"""Escalations (problems someone must act on) and referral requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Subquery, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.dialect import insert_ignoring
from bot.db.models import ChannelIdentityRow, EscalationRow, ParticipantRow, ReferralEventRow, ReferralRow, StaffRow


@dataclass(frozen=True, slots=True)
class Escalation:
    id: int
    key: str
    participant_id: int
    unit_id: int
    kind: str
    obligation_id: int | None
    cadre_id: int | None
    raised_at: datetime
    acknowledged_at: datetime | None
    officer_notified_at: datetime | None
    note_enc: str | None = None


def _escalation(row: EscalationRow) -> Escalation:
    assert row.id is not None
    return Escalation(
        row.id,
        row.key,
        row.participant_id,
        row.unit_id,
        row.kind,
        row.obligation_id,
        row.cadre_id,
        row.raised_at,
        row.acknowledged_at,
        row.officer_notified_at,
        row.note_enc,
    )


class EscalationRepository:
    _NOTE = "escalation.note"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def add(
        self,
        key: str,
        *,
        participant_id: int,
        unit_id: int,
        kind: str,
        cadre_id: int | None,
        obligation_id: int | None = None,
    ) -> Escalation | None:
        """None when this escalation was already raised (same key)."""
        stmt = (
            insert_ignoring(self._s, EscalationRow)
            .values(
                key=key,
                participant_id=participant_id,
                unit_id=unit_id,
                kind=kind,
                obligation_id=obligation_id,
                cadre_id=cadre_id,
                raised_at=self._clock.now(),
            )
            .returning(EscalationRow.id)
        )
        new_id = (await self._s.execute(stmt)).scalar_one_or_none()
        if new_id is None:
            return None
        return await self.get(new_id)

    async def get(self, escalation_id: int) -> Escalation | None:
        row = await self._s.get(EscalationRow, escalation_id)
        return _escalation(row) if row else None

    async def acknowledge(self, escalation_id: int, staff_id: int, note: str | None = None) -> bool:
        """False when it was already acknowledged; a note of what was done can still be added then (`add_note`)."""
        row = await self._s.get(EscalationRow, escalation_id)
        if row is None or row.acknowledged_at is not None:
            return False
        row.acknowledged_at, row.acknowledged_by = self._clock.now(), staff_id
        if note is not None:
            row.note_enc = self._cipher.encrypt(note, self._NOTE, row_ref(id=row.id, participant=row.participant_id))
        await self._s.flush()
        return True

    async def add_note(self, escalation_id: int, staff_id: int, note: str) -> None:
        """What was done: acknowledges it if still open (the re-escalation stops), and keeps the note encrypted."""
        row = await self._s.get(EscalationRow, escalation_id)
        if row is None:
            return
        if row.acknowledged_at is None:
            row.acknowledged_at, row.acknowledged_by = self._clock.now(), staff_id
        ref = row_ref(id=row.id, participant=row.participant_id)
        earlier = self._cipher.decrypt_optional(row.note_enc, self._NOTE, ref)
        row.note_enc = self._cipher.encrypt(f"{earlier}\n{note}" if earlier else note, self._NOTE, ref)  # kept
        await self._s.flush()

    def note_of(self, escalation: Escalation) -> str | None:
        ref = row_ref(id=escalation.id, participant=escalation.participant_id)
        return self._cipher.decrypt_optional(escalation.note_enc, self._NOTE, ref)

    async def open_for(
        self, participant_ids: Sequence[int] | None = None, unit_id: int | None = None
    ) -> list[Escalation]:
        """Unacknowledged escalations of these people (a cadre's) or of a commune (an officer's), oldest first."""
        stmt = select(EscalationRow).where(EscalationRow.acknowledged_at.is_(None))  # type: ignore[union-attr]
        if participant_ids is not None:
            stmt = stmt.where(EscalationRow.participant_id.in_(list(participant_ids)))  # type: ignore[attr-defined]
        if unit_id is not None:
            stmt = stmt.where(EscalationRow.unit_id == unit_id)
        rows = (await self._s.execute(stmt.order_by(EscalationRow.raised_at, EscalationRow.id))).scalars()
        return [_escalation(r) for r in rows]

    async def recent_of(self, participant_id: int, limit: int = 5) -> list[Escalation]:
        stmt = (
            select(EscalationRow)
            .where(EscalationRow.participant_id == participant_id)
            .order_by(EscalationRow.raised_at.desc(), EscalationRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
        return [_escalation(r) for r in (await self._s.execute(stmt)).scalars()]

    async def move_unit(self, participant_id: int, unit_id: int) -> None:
        """A transferred person's open escalations go with them to the receiving commune."""
        await self._s.execute(
            update(EscalationRow)
            .where(EscalationRow.participant_id == participant_id, EscalationRow.acknowledged_at.is_(None))  # type: ignore[union-attr]
            .values(unit_id=unit_id, cadre_id=None)
        )

    async def resolve(self, *, obligation_id: int | None = None, participant_id: int | None = None, kind: str) -> None:
        """The problem went away by itself (a late check-in, the person wrote again): nobody needs to act now."""
        stmt = update(EscalationRow).where(
            EscalationRow.kind == kind,
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
        )
        if obligation_id is not None:
            stmt = stmt.where(EscalationRow.obligation_id == obligation_id)
        if participant_id is not None:
            stmt = stmt.where(EscalationRow.participant_id == participant_id)
        await self._s.execute(stmt.values(acknowledged_at=self._clock.now()))

    async def has_open(self, participant_id: int, kind: str) -> bool:
        stmt = select(EscalationRow.id).where(
            EscalationRow.participant_id == participant_id,
            EscalationRow.kind == kind,
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
        )
        return (await self._s.execute(stmt.limit(1))).first() is not None

    async def mark_officer_notified(self, escalation_id: int) -> None:
        row = await self._s.get(EscalationRow, escalation_id)
        if row is not None:
            row.officer_notified_at = self._clock.now()
            await self._s.flush()

    async def awaiting_officer(self, raised_before: datetime, kind: str | None = None) -> list[Escalation]:
        """Unacknowledged escalations the officer has not heard of: no cadre, or the cadre did not act in time."""
        stmt = select(EscalationRow).where(
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
            EscalationRow.officer_notified_at.is_(None),  # type: ignore[union-attr]
            or_(EscalationRow.cadre_id.is_(None), EscalationRow.raised_at <= raised_before),  # type: ignore[union-attr]
        )
        if kind is not None:
            stmt = stmt.where(EscalationRow.kind == kind)
        return [_escalation(r) for r in (await self._s.execute(stmt)).scalars()]

    async def waiting_on_cadre(self, cadre_id: int) -> list[int]:
        """Open escalations sent to this cadre that the officers have not heard of (queued or unacknowledged)."""
        stmt = select(EscalationRow.id).where(
            EscalationRow.cadre_id == cadre_id,
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
            EscalationRow.officer_notified_at.is_(None),  # type: ignore[union-attr]
        )
        return list((await self._s.execute(stmt.order_by(EscalationRow.id))).scalars())

    async def count_kind(self, participant_id: int, kind: str) -> int:
        stmt = select(func.count()).where(EscalationRow.participant_id == participant_id, EscalationRow.kind == kind)
        return int((await self._s.execute(stmt)).scalar_one())

    async def unreachable_without_escalation(self) -> list[tuple[int, int, int | None]]:
        """Active participants whose every linked chat is unreachable and who have no open "unreachable"
        escalation: (participant id, unit id, cadre id)."""
        reachable = select(ChannelIdentityRow.participant_id).where(ChannelIdentityRow.unreachable.is_(False))  # type: ignore[attr-defined]
        unreachable = select(ChannelIdentityRow.participant_id).where(ChannelIdentityRow.unreachable.is_(True))  # type: ignore[attr-defined]
        open_escalation = select(EscalationRow.participant_id).where(
            and_(EscalationRow.kind == "unreachable", EscalationRow.acknowledged_at.is_(None))  # type: ignore[union-attr]
        )
        stmt = select(ParticipantRow.id, ParticipantRow.unit_id, ParticipantRow.cadre_id).where(
            ParticipantRow.status == "active",
            ParticipantRow.id.in_(unreachable),  # type: ignore[union-attr]
            ParticipantRow.id.not_in(reachable),  # type: ignore[union-attr]
            ParticipantRow.id.not_in(open_escalation),  # type: ignore[union-attr]
        )
        return [(pid, uid, cid) for pid, uid, cid in (await self._s.execute(stmt)).all()]

    async def officers_of(self, unit_id: int) -> list[int]:
        stmt = select(StaffRow.id).where(
            StaffRow.unit_id == unit_id,
            StaffRow.role == "officer",
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
        )
        return list((await self._s.execute(stmt.order_by(StaffRow.id))).scalars())


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    participant_id: int
    kind: str
    urgency: str
    status: str  # requested, accepted, closed
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
        return self.status != "closed"

    @property
    def conversation(self) -> bool:
        """A talk with a counsellor through the bot, started and not ended by either side (waiting or going on)."""
        return self.open and self.relay_started_at is not None and self.relay_ended_at is None


def _referral(row: ReferralRow) -> Referral:
    assert row.id is not None
    return Referral(
        row.id, row.participant_id, row.kind, row.urgency, row.status, row.source, row.created_at, row.point_id,
        row.counsellor_id, row.accepted_at, row.closed_at, row.outcome, row.first_reply_at, row.relay_started_at,
        row.relay_ended_at,
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
            source=source,
            point_id=point_id,
            created_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        await self._event(row.id, "requested", "participant", participant_id)
        return row.id

    async def _event(self, referral_id: int, status: str, actor_type: str, actor_id: int | None) -> datetime:
        at = self._clock.now()
        self._s.add(
            ReferralEventRow(referral_id=referral_id, status=status, actor_type=actor_type, actor_id=actor_id, at=at)
        )
        await self._s.flush()
        return at

    async def get(self, referral_id: int) -> Referral | None:
        row = await self._s.get(ReferralRow, referral_id)
        return _referral(row) if row else None

    async def open_for_point(self, point_id: int) -> list[Referral]:
        """Not yet closed, urgent first, then the oldest."""
        stmt = select(ReferralRow).where(ReferralRow.point_id == point_id, ReferralRow.status != "closed")
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
            .where(ReferralRow.urgency == "urgent", ReferralRow.status == "requested", since <= urgent_before)
            .order_by(ReferralRow.id)
        )
        return [(_referral(row), _aware(at)) for row, at in (await self._s.execute(stmt)).all()]

    async def urgent_in_conversation(self) -> list[tuple[Referral, datetime]]:
        """Urgent referrals a counsellor has taken, conversation still open: (referral, since), since = when it became
        urgent or was taken, whichever is later — from then on an answer is expected."""
        became = _became_urgent()
        stmt = (
            select(ReferralRow, became.c.at)
            .outerjoin(became, became.c.referral_id == ReferralRow.id)
            .where(
                ReferralRow.urgency == "urgent",
                ReferralRow.status == "accepted",
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
        stmt = (
            select(ReferralRow)
            .where(ReferralRow.participant_id == participant_id)
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
        return [_referral(r) for r in (await self._s.execute(stmt)).scalars()]

    async def accept(self, referral_id: int, counsellor_id: int) -> bool:
        """One counsellor takes it; False when someone else already did (the others see it taken)."""
        return await self._transition(
            referral_id,
            [ReferralRow.status == "requested"],
            {"status": "accepted", "counsellor_id": counsellor_id, "accepted_at": self._clock.now()},
            ("accepted", "staff", counsellor_id),
        )

    async def close(self, referral_id: int, counsellor_id: int, outcome: str) -> bool:
        closed = await self._transition(
            referral_id,
            [ReferralRow.status == "accepted", ReferralRow.counsellor_id == counsellor_id],
            {"status": "closed", "outcome": outcome, "closed_at": self._clock.now()},
            (f"closed:{outcome}", "staff", counsellor_id),
        )
        if closed:
            await self.end_conversation(referral_id, "staff", counsellor_id)
        return closed

    async def _transition(
        self,
        referral_id: int,
        conditions: list[Any],
        values: dict[str, Any],
        event: tuple[str, str, int | None],
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
        return await self._event(referral_id, "urgent", "participant", None)

    async def hand_over(self, participant_id: int, point_id: int | None) -> None:
        """The person moved: their open referrals wait again, at the new commune's point; what was said to the old
        point's counsellor stays with that conversation, which ends."""
        rows = (
            await self._s.execute(
                select(ReferralRow).where(ReferralRow.participant_id == participant_id, ReferralRow.status != "closed")
            )
        ).scalars()
        now = self._clock.now()
        for row in rows:
            assert row.id is not None
            if row.relay_started_at is not None and row.relay_ended_at is None:
                row.relay_ended_at = now
            row.point_id, row.status, row.counsellor_id = point_id, "requested", None
            await self._event(row.id, "handed_over", "staff", None)
            if row.urgency == "urgent":  # the new point's round of alerts starts now, not from the old crisis
                await self._event(row.id, "urgent", "staff", None)
        await self._s.flush()

    async def withdraw(self, referral_id: int, participant_id: int) -> bool:
        """The person no longer wants it and nobody had taken it: closed as "withdrawn" (counted apart in reports)."""
        return await self._transition(
            referral_id,
            [ReferralRow.status == "requested"],
            {"status": "closed", "outcome": "withdrawn", "closed_at": self._clock.now()},
            ("closed:withdrawn", "participant", participant_id),
        )

    async def conversation_of(self, participant_id: int) -> Referral | None:
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
                ReferralRow.status != "closed",
                ReferralRow.relay_ended_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(1)
        )
        if started:
            stmt = stmt.where(ReferralRow.relay_started_at.is_not(None))  # type: ignore[union-attr]
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return _referral(row) if row else None

    async def start_conversation(self, referral_id: int, actor_type: str, actor_id: int | None) -> None:
        """From now on what the person types goes to this referral's counsellor (once; an ended one stays ended)."""
        await self._transition(
            referral_id,
            [ReferralRow.relay_started_at.is_(None)],  # type: ignore[union-attr]
            {"relay_started_at": self._clock.now()},
            ("relay_started", actor_type, actor_id),
        )

    async def end_conversation(self, referral_id: int, actor_type: str, actor_id: int | None) -> bool:
        """False when it had already ended (the other side ended it first)."""
        return await self._transition(
            referral_id,
            [ReferralRow.relay_ended_at.is_(None)],  # type: ignore[union-attr]
            {"relay_ended_at": self._clock.now()},
            ("relay_ended", actor_type, actor_id),
        )

    async def replied(self, referral_id: int, counsellor_id: int) -> None:
        """The first human reply is what reports measure (median time to first reply); later ones change nothing."""
        await self._transition(
            referral_id,
            [ReferralRow.first_reply_at.is_(None)],  # type: ignore[union-attr]
            {"first_reply_at": self._clock.now()},
            ("first_reply", "staff", counsellor_id),
        )

    async def in_period(self, unit_ids: Sequence[int], since: datetime, until: datetime) -> list[Referral]:
        """Referrals of people of these communes asked for in [since, until): the counts of a report."""
        stmt = (
            select(ReferralRow)
            .join(ParticipantRow, ParticipantRow.id == ReferralRow.participant_id)
            .where(
                ParticipantRow.unit_id.in_(list(unit_ids)),  # type: ignore[attr-defined]
                ReferralRow.created_at >= since,
                ReferralRow.created_at < until,
            )
            .order_by(ReferralRow.id)
        )
        return [_referral(r) for r in (await self._s.execute(stmt)).scalars()]

    async def release(self, counsellor_id: int) -> list[Referral]:
        """The counsellor's account was closed: what they had taken waits again at its point, conversations included
        (what the person writes meanwhile is kept for whoever takes it); an urgent one restarts its round of alerts."""
        stmt = select(ReferralRow).where(ReferralRow.counsellor_id == counsellor_id, ReferralRow.status == "accepted")
        rows = list((await self._s.execute(stmt.order_by(ReferralRow.id))).scalars())
        for row in rows:
            assert row.id is not None
            row.status, row.counsellor_id = "requested", None
            await self._event(row.id, "released", "operator", None)
            if row.urgency == "urgent":
                await self._event(row.id, "urgent", "operator", None)
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
        .where(ReferralEventRow.status == "urgent")
        .group_by(ReferralEventRow.referral_id)
        .subquery()
    )
