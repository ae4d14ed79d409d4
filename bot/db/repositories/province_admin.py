"""What the province's admin pages read and change beyond the single-record repositories: each commune's numbers in
one grouped query each, linked chats of a page of staff at once, a staff member's placement (role, unit, point), and
a page of the audit log scoped to a province.

The audit log has no province column (an entry names an actor and a record by id), so a province's share is defined
here once: entries **by** a staff member of the province (from the console, or as the operator's `--as`), entries
**about** a record of the province (a person listed there now, one of its staff accounts, the province or one of its
communes, a counselling point serving them) whoever the actor (the scheduler, a chat, the operator, a refused
attempt from another province), and the operator's server-wide entries (no record: a staff list, a purge). Entries
by no one about nothing in the province (another province's work, anonymous sign-in attempts) are not its share.
A person who moved in from another province brings their earlier entries with them: they are about that person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AuditEventRow,
    ChannelIdentityRow,
    CounsellingPointRow,
    ParticipantRow,
    StaffRow,
    UnitRow,
)
from bot.db.repositories.overview import FOLLOWED
from bot.domain.entities import Role

RECORD_TYPES = ("participant", "staff", "unit", "point")  # what audit entries name as their record


@dataclass(frozen=True, slots=True)
class CommuneNumbers:
    people: int  # on the list now (enrolled or followed)
    cadres: int  # active cadres
    points: int  # counselling points serving the commune


async def commune_numbers(session: AsyncSession, province_id: int) -> dict[int, CommuneNumbers]:
    """Per commune of the province: people listed, active cadres, counselling points (three grouped queries)."""
    communes = select(UnitRow.id).where(UnitRow.parent_id == province_id)
    people = dict(
        (
            await session.execute(
                select(ParticipantRow.unit_id, func.count())
                .where(ParticipantRow.unit_id.in_(communes), ParticipantRow.status.in_(FOLLOWED))  # type: ignore[attr-defined]
                .group_by(ParticipantRow.unit_id)
            )
        ).all()
    )
    cadres = dict(
        (
            await session.execute(
                select(StaffRow.unit_id, func.count())
                .where(
                    StaffRow.unit_id.in_(communes),  # type: ignore[attr-defined]
                    StaffRow.role == Role.CADRE.value,
                    StaffRow.active.is_(True),  # type: ignore[attr-defined]
                )
                .group_by(StaffRow.unit_id)
            )
        ).all()
    )
    points = dict(
        (
            await session.execute(
                select(CounsellingPointRow.unit_id, func.count())
                .where(CounsellingPointRow.unit_id.in_(communes))  # type: ignore[attr-defined]
                .group_by(CounsellingPointRow.unit_id)
            )
        ).all()
    )
    ids = set(people) | set(cadres) | set(points)
    return {i: CommuneNumbers(people.get(i, 0), cadres.get(i, 0), points.get(i, 0)) for i in ids}


async def linked_chats(session: AsyncSession, staff_ids: Iterable[int]) -> dict[int, int]:
    """How many chats each of these staff members has linked (absent: none), in one query."""
    ids = list(staff_ids)
    if not ids:
        return {}
    stmt = (
        select(ChannelIdentityRow.staff_id, func.count())
        .where(ChannelIdentityRow.staff_id.in_(ids))  # type: ignore[union-attr]
        .group_by(ChannelIdentityRow.staff_id)
    )
    return {int(staff_id): int(n) for staff_id, n in (await session.execute(stmt)).all() if staff_id is not None}


async def set_placement(session: AsyncSession, staff_id: int, role: Role, unit_id: int, point_id: int | None) -> None:
    """A staff member's role, unit and counselling point (bot/services/staff_changes.py decides and does the rest).
    Off duty unless they stay a counsellor at the same point: at a new point they start their duty themselves."""
    row = await session.get(StaffRow, staff_id)
    if row is None:
        raise LookupError(staff_id)
    if role is not Role.COUNSELLOR or point_id != row.point_id:
        row.on_duty = False
    row.role, row.unit_id, row.point_id = role.value, unit_id, point_id
    await session.flush()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the admin narrowed the log to; None: not narrowed."""

    actor_id: int | None = None  # a staff member (from the console, or as the operator's --as)
    subject_type: str | None = None  # one of RECORD_TYPES
    subject_id: int | None = None
    action: str | None = None  # exactly, or every action starting with it when it ends with ":" ("denied:")
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def _province_share(province_id: int) -> object:
    """The WHERE clause of a province's share of the log (see the module's docstring)."""
    units = select(UnitRow.id).where(or_(UnitRow.id == province_id, UnitRow.parent_id == province_id))
    staff = select(StaffRow.id).where(StaffRow.unit_id.in_(units))  # type: ignore[attr-defined]
    people = select(ParticipantRow.id).where(ParticipantRow.unit_id.in_(units))  # type: ignore[attr-defined]
    points = select(CounsellingPointRow.id).where(CounsellingPointRow.unit_id.in_(units))  # type: ignore[attr-defined]
    kind, record = AuditEventRow.subject_type, AuditEventRow.subject_id
    return or_(
        and_(AuditEventRow.actor_type.in_(("staff", "operator")), AuditEventRow.actor_id.in_(staff)),  # type: ignore[attr-defined,union-attr]
        and_(kind == "participant", record.in_(people)),  # type: ignore[union-attr]
        and_(kind == "staff", record.in_(staff)),  # type: ignore[union-attr]
        and_(kind == "unit", record.in_(units)),  # type: ignore[union-attr]
        and_(kind == "point", record.in_(points)),  # type: ignore[union-attr]
        and_(AuditEventRow.actor_type == "operator", kind.is_(None)),  # type: ignore[union-attr]
    )


def _filtered(stmt: Select[tuple[AuditEventRow]], filters: AuditFilter) -> Select[tuple[AuditEventRow]]:
    if filters.actor_id is not None:
        stmt = stmt.where(
            AuditEventRow.actor_type.in_(("staff", "operator")),  # type: ignore[attr-defined]
            AuditEventRow.actor_id == filters.actor_id,
        )
    if filters.subject_type is not None:
        stmt = stmt.where(AuditEventRow.subject_type == filters.subject_type)
    if filters.subject_id is not None:
        stmt = stmt.where(AuditEventRow.subject_id == filters.subject_id)
    if filters.action:
        if filters.action.endswith(":"):
            stmt = stmt.where(AuditEventRow.action.startswith(filters.action, autoescape=True))  # type: ignore[attr-defined]
        else:
            stmt = stmt.where(AuditEventRow.action == filters.action)
    if filters.since is not None:
        stmt = stmt.where(AuditEventRow.at >= filters.since)  # type: ignore[operator]
    if filters.until is not None:
        stmt = stmt.where(AuditEventRow.at < filters.until)  # type: ignore[operator]
    return stmt


async def province_audit(
    session: AsyncSession, province_id: int, filters: AuditFilter, *, before: int | None = None, limit: int = 50
) -> list[AuditEventRow]:
    """Newest first, at most `limit` entries of the province's share with ids below `before` (the next page)."""
    stmt = _filtered(select(AuditEventRow).where(_province_share(province_id)), filters)  # type: ignore[arg-type]
    if before is not None:
        stmt = stmt.where(AuditEventRow.id < before)  # type: ignore[operator]
    stmt = stmt.order_by(AuditEventRow.id.desc()).limit(limit)  # type: ignore[union-attr]
    return list((await session.execute(stmt)).scalars())
