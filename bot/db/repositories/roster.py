"""A commune's list as the console's *Danh sách* and `aftercare participant list` show it, in a handful of queries.

`entries` reads the columns a list shows (never the whole sealed register) and opens only the names: 2,000 people
are one query and 2,000 decryptions. `facts` gathers, per person, what the officer's home page counts
(`overview.commune_today`), counted the same way so a number on the home page and the list it links to agree: this
month's check-in and its day, open alerts (by the alert's commune), urgent support requests not closed, an
unreachable chat. Which of these narrow the list is the service's business (`bot.services.people_list`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ChannelIdentityRow, EscalationRow, ObligationRow, ParticipantRow, ReferralRow
from bot.db.repositories.people import ParticipantRepository
from bot.domain.entities import ParticipantStatus, RiskLevel
from bot.domain.planning import ObligationKind, ObligationStatus
from bot.domain.referrals import ReferralStatus

_STATUS = {s.value: s for s in ParticipantStatus}  # a dictionary, not the enum's call: 2,000 rows a request
_RISK = {r.value: r for r in RiskLevel}
_OBLIGATION = {s.value: s for s in ObligationStatus}


@dataclass(frozen=True, slots=True)
class Entry:
    """One person as a list shows them."""

    id: int
    unit_id: int
    name: str
    birth_year: int | None
    status: ParticipantStatus
    cadre_id: int | None
    risk: RiskLevel
    term_start: date
    expected_end: date


@dataclass(frozen=True, slots=True)
class MonthCheckin:
    due_on: date
    status: ObligationStatus


@dataclass(frozen=True, slots=True)
class Facts:
    checkins: dict[int, MonthCheckin]  # this month's check-in, by person
    open_alerts: dict[int, int]  # alerts of these communes not acknowledged, by person
    urgent: dict[int, int]  # urgent support requests not closed, by person
    unreachable: set[int]  # people with a chat the platform says cannot be reached


async def entries(
    session: AsyncSession,
    participants: ParticipantRepository,
    unit_ids: Sequence[int],
    statuses: Sequence[ParticipantStatus],
    *,
    cadre_id: int | None = None,
    without_cadre: bool = False,
    risk: RiskLevel | None = None,
) -> list[Entry]:
    """The people of these communes with these statuses (and this cadre, or none, and this risk), by id."""
    if not unit_ids or not statuses:
        return []
    stmt = select(
        ParticipantRow.id,
        ParticipantRow.unit_id,
        ParticipantRow.name_enc,
        ParticipantRow.birth_year,
        ParticipantRow.status,
        ParticipantRow.cadre_id,
        ParticipantRow.risk_level,
        ParticipantRow.term_start,
        ParticipantRow.expected_end,
    ).where(
        ParticipantRow.unit_id.in_(list(unit_ids)),  # type: ignore[attr-defined]
        ParticipantRow.status.in_([s.value for s in statuses]),  # type: ignore[attr-defined]
    )
    if cadre_id is not None:
        stmt = stmt.where(ParticipantRow.cadre_id == cadre_id)
    if without_cadre:
        stmt = stmt.where(ParticipantRow.cadre_id.is_(None))  # type: ignore[union-attr]
    if risk is not None:
        stmt = stmt.where(ParticipantRow.risk_level == risk.value)
    rows = (await session.execute(stmt.order_by(ParticipantRow.id))).all()
    opened = participants.open_name
    return [
        Entry(pid, unit, opened(pid, name), year, _STATUS[status], cadre, _RISK[risk], start, end)
        for pid, unit, name, year, status, cadre, risk, start, end in rows
    ]


async def facts(session: AsyncSession, unit_ids: Sequence[int], today: date) -> Facts:
    """What the home page counts, per person of these communes (every status: the list narrows by status)."""
    units = list(unit_ids)
    if not units:
        return Facts({}, {}, {}, set())
    in_units = ParticipantRow.unit_id.in_(units)  # type: ignore[attr-defined]
    month_start = today.replace(day=1)
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    checkin_stmt = (
        select(ObligationRow.participant_id, ObligationRow.due_on, ObligationRow.status)
        .join(ParticipantRow, ParticipantRow.id == ObligationRow.participant_id)  # type: ignore[arg-type]
        .where(
            in_units,
            ObligationRow.kind == ObligationKind.CHECKIN.value,
            ObligationRow.due_on >= month_start,
            ObligationRow.due_on < next_month,
        )
        .order_by(ObligationRow.due_on)
    )
    checkins: dict[int, MonthCheckin] = {}
    for pid, due_on, status in (await session.execute(checkin_stmt)).all():
        if pid not in checkins:
            checkins[pid] = MonthCheckin(due_on, _OBLIGATION[status])
    alerts_stmt = (
        select(EscalationRow.participant_id, func.count())
        .where(EscalationRow.unit_id.in_(units), EscalationRow.acknowledged_at.is_(None))  # type: ignore[attr-defined,union-attr]
        .group_by(EscalationRow.participant_id)
    )
    urgent_stmt = (
        select(ReferralRow.participant_id, func.count())
        .join(ParticipantRow, ParticipantRow.id == ReferralRow.participant_id)  # type: ignore[arg-type]
        .where(in_units, ReferralRow.urgency == "urgent", ReferralRow.status != ReferralStatus.CLOSED.value)
        .group_by(ReferralRow.participant_id)
    )
    unreachable_stmt = (
        select(ChannelIdentityRow.participant_id)
        .join(ParticipantRow, ParticipantRow.id == ChannelIdentityRow.participant_id)  # type: ignore[arg-type]
        .where(in_units, ChannelIdentityRow.unreachable.is_(True))  # type: ignore[attr-defined]
        .distinct()
    )
    return Facts(
        checkins,
        {pid: int(n) for pid, n in (await session.execute(alerts_stmt)).all()},
        {pid: int(n) for pid, n in (await session.execute(urgent_stmt)).all()},
        set((await session.execute(unreachable_stmt)).scalars()),
    )
