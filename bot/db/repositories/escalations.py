"""Escalations: problems someone must act on (a missed check-in, an unreachable chat, a crisis, a test result)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.dialect import insert_ignoring
from bot.db.models import ChannelIdentityRow, EscalationRow, ParticipantRow, StaffRow
from bot.domain.entities import ParticipantStatus, Role
from bot.domain.escalations import EscalationKind


@dataclass(frozen=True, slots=True)
class Escalation:
    id: int
    key: str
    participant_id: int
    unit_id: int
    kind: EscalationKind | str  # a word this version does not know (another version wrote it) stays as written
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
        _kind(row.kind),
        row.obligation_id,
        row.cadre_id,
        row.raised_at,
        row.acknowledged_at,
        row.officer_notified_at,
        row.note_enc,
    )


def _kind(stored: str) -> EscalationKind | str:
    try:
        return EscalationKind(stored)
    except ValueError:
        return stored


def _stored(kind: EscalationKind) -> str:
    """The word the database keeps (a plain string from an untyped caller is checked against the enum as well)."""
    return EscalationKind(kind).value


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
        kind: EscalationKind,
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
                kind=_stored(kind),
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

    async def resolve(
        self, *, obligation_id: int | None = None, participant_id: int | None = None, kind: EscalationKind
    ) -> None:
        """The problem went away by itself (a late check-in, the person wrote again): nobody needs to act now."""
        stmt = update(EscalationRow).where(
            EscalationRow.kind == _stored(kind),
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
        )
        if obligation_id is not None:
            stmt = stmt.where(EscalationRow.obligation_id == obligation_id)
        if participant_id is not None:
            stmt = stmt.where(EscalationRow.participant_id == participant_id)
        await self._s.execute(stmt.values(acknowledged_at=self._clock.now()))

    async def has_open(self, participant_id: int, kind: EscalationKind) -> bool:
        stmt = select(EscalationRow.id).where(
            EscalationRow.participant_id == participant_id,
            EscalationRow.kind == _stored(kind),
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
        )
        return (await self._s.execute(stmt.limit(1))).first() is not None

    async def mark_officer_notified(self, escalation_id: int) -> None:
        row = await self._s.get(EscalationRow, escalation_id)
        if row is not None:
            row.officer_notified_at = self._clock.now()
            await self._s.flush()

    async def awaiting_officer(self, raised_before: datetime, kind: EscalationKind | None = None) -> list[Escalation]:
        """Unacknowledged escalations the officer has not heard of: no cadre, or the cadre did not act in time."""
        stmt = select(EscalationRow).where(
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
            EscalationRow.officer_notified_at.is_(None),  # type: ignore[union-attr]
            or_(EscalationRow.cadre_id.is_(None), EscalationRow.raised_at <= raised_before),  # type: ignore[union-attr]
        )
        if kind is not None:
            stmt = stmt.where(EscalationRow.kind == _stored(kind))
        return [_escalation(r) for r in (await self._s.execute(stmt)).scalars()]

    async def waiting_on_cadre(self, cadre_id: int) -> list[int]:
        """Open escalations sent to this cadre that the officers have not heard of (queued or unacknowledged)."""
        stmt = select(EscalationRow.id).where(
            EscalationRow.cadre_id == cadre_id,
            EscalationRow.acknowledged_at.is_(None),  # type: ignore[union-attr]
            EscalationRow.officer_notified_at.is_(None),  # type: ignore[union-attr]
        )
        return list((await self._s.execute(stmt.order_by(EscalationRow.id))).scalars())

    async def latest(self, participant_id: int, kind: EscalationKind) -> Escalation | None:
        """The person's most recent escalation of this kind (their current crisis episode, say)."""
        stmt = (
            select(EscalationRow)
            .where(EscalationRow.participant_id == participant_id, EscalationRow.kind == _stored(kind))
            .order_by(EscalationRow.raised_at.desc(), EscalationRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(1)
        )
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return _escalation(row) if row else None

    async def count_kind(self, participant_id: int, kind: EscalationKind) -> int:
        of_kind = EscalationRow.kind == _stored(kind)
        stmt = select(func.count()).where(EscalationRow.participant_id == participant_id, of_kind)
        return int((await self._s.execute(stmt)).scalar_one())

    async def unreachable_without_escalation(self) -> list[tuple[int, int, int | None]]:
        """Active participants whose every linked chat is unreachable and who have no open "unreachable"
        escalation: (participant id, unit id, cadre id)."""
        reachable = select(ChannelIdentityRow.participant_id).where(ChannelIdentityRow.unreachable.is_(False))  # type: ignore[attr-defined]
        unreachable = select(ChannelIdentityRow.participant_id).where(ChannelIdentityRow.unreachable.is_(True))  # type: ignore[attr-defined]
        open_escalation = select(EscalationRow.participant_id).where(
            and_(EscalationRow.kind == EscalationKind.UNREACHABLE.value, EscalationRow.acknowledged_at.is_(None))  # type: ignore[union-attr]
        )
        stmt = select(ParticipantRow.id, ParticipantRow.unit_id, ParticipantRow.cadre_id).where(
            ParticipantRow.status == ParticipantStatus.ACTIVE.value,
            ParticipantRow.id.in_(unreachable),  # type: ignore[union-attr]
            ParticipantRow.id.not_in(reachable),  # type: ignore[union-attr]
            ParticipantRow.id.not_in(open_escalation),  # type: ignore[union-attr]
        )
        return [(pid, uid, cid) for pid, uid, cid in (await self._s.execute(stmt)).all()]

    async def officers_of(self, unit_id: int) -> list[int]:
        stmt = select(StaffRow.id).where(
            StaffRow.unit_id == unit_id,
            StaffRow.role == Role.OFFICER.value,
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
        )
        return list((await self._s.execute(stmt.order_by(StaffRow.id))).scalars())
