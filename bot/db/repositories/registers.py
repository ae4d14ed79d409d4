"""A commune's named lists for its own officer: the register as kept (Mẫu 52) and what comes due (terms ending soon,
moves not yet accepted, unreported absences). Whole records are opened here through `ParticipantRepository`
(names, national ID numbers and addresses are sealed at rest); what may be shown is the service's business
(`bot.services.register_lists`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AbsenceRow, ParticipantRow, TransferRow
from bot.db.repositories.people import ParticipantRepository
from bot.domain.entities import Participant, ParticipantStatus
from bot.domain.fieldwork import TransferStatus

FOLLOWED = (ParticipantStatus.ENROLLED.value, ParticipantStatus.ACTIVE.value)


@dataclass(frozen=True, slots=True)
class PendingMove:
    """A move the receiving commune has not answered yet (its hand-over notice, Mẫu 53, is with them)."""

    transfer_id: int
    person: Participant
    from_unit_id: int
    to_unit_id: int
    moved_on: date


@dataclass(frozen=True, slots=True)
class OpenAbsence:
    """An unreported absence of someone on the list (its reason stays sealed: a list never shows it)."""

    person: Participant
    starts_on: date
    ends_on: date


async def followed(session: AsyncSession, participants: ParticipantRepository, unit_id: int) -> list[Participant]:
    """Everyone on the commune's list now (not completed, not moved away), whole records opened."""
    stmt = select(ParticipantRow).where(
        ParticipantRow.unit_id == unit_id,
        ParticipantRow.status.in_(FOLLOWED),  # type: ignore[attr-defined]
    )
    rows = (await session.execute(stmt.order_by(ParticipantRow.id))).scalars()
    return [participants.from_row(row) for row in rows]


async def pending_moves(session: AsyncSession, participants: ParticipantRepository, unit_id: int) -> list[PendingMove]:
    """Moves out of or into the commune still waiting for the receiving officer, oldest first."""
    stmt = (
        select(TransferRow, ParticipantRow)
        .join(ParticipantRow, ParticipantRow.id == TransferRow.participant_id)  # type: ignore[arg-type]
        .where(
            TransferRow.status == TransferStatus.PENDING.value,
            or_(TransferRow.from_unit_id == unit_id, TransferRow.to_unit_id == unit_id),
        )
        .order_by(TransferRow.moved_on, TransferRow.id)
    )
    out = []
    for transfer, row in (await session.execute(stmt)).all():
        assert transfer.id is not None
        out.append(
            PendingMove(
                transfer.id, participants.from_row(row), transfer.from_unit_id, transfer.to_unit_id, transfer.moved_on
            ),
        )
    return out


async def unreported_absences(
    session: AsyncSession, participants: ParticipantRepository, unit_id: int, since: date
) -> list[OpenAbsence]:
    """Unreported absences of people on the commune's list that had not ended before `since`, newest first."""
    stmt = (
        select(AbsenceRow.starts_on, AbsenceRow.ends_on, ParticipantRow)
        .join(ParticipantRow, ParticipantRow.id == AbsenceRow.participant_id)  # type: ignore[arg-type]
        .where(
            ParticipantRow.unit_id == unit_id,
            ParticipantRow.status.in_(FOLLOWED),  # type: ignore[attr-defined]
            AbsenceRow.reported.is_(False),  # type: ignore[attr-defined]
            AbsenceRow.ends_on >= since,
        )
        .order_by(AbsenceRow.starts_on.desc(), AbsenceRow.id)  # type: ignore[attr-defined]
    )
    return [
        OpenAbsence(participants.from_row(row), first, last) for first, last, row in (await session.execute(stmt)).all()
    ]


async def people(session: AsyncSession, participants: ParticipantRepository, ids: Sequence[int]) -> list[Participant]:
    """These people's whole records, opened (a named list of people chosen by the report's rules)."""
    if not ids:
        return []
    stmt = select(ParticipantRow).where(ParticipantRow.id.in_(list(ids)))  # type: ignore[attr-defined]
    return [participants.from_row(row) for row in (await session.execute(stmt.order_by(ParticipantRow.id))).scalars()]
