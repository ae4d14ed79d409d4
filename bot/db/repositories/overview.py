"""Today's numbers for a commune, one query each: what the officer's home page shows, each a link to the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ChannelIdentityRow, EscalationRow, ObligationRow, ParticipantRow, ReferralRow
from bot.domain.entities import FOLLOWED
from bot.domain.planning import ObligationKind, ObligationStatus
from bot.domain.referrals import ReferralStatus

FOLLOWED_VALUES = tuple(status.value for status in FOLLOWED)


@dataclass(frozen=True, slots=True)
class CommuneToday:
    managed: int  # on the list now
    due: int  # this month's check-ins still open, not yet late
    overdue: int  # this month's check-ins past their day
    open_alerts: int
    unreachable: int  # people whose every linked chat is unreachable
    urgent_referrals: int  # urgent, not closed


async def commune_today(session: AsyncSession, unit_id: int, today: date) -> CommuneToday:
    listed = (ParticipantRow.unit_id == unit_id) & ParticipantRow.status.in_(FOLLOWED_VALUES)  # type: ignore[attr-defined]
    month_start = today.replace(day=1)
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)

    async def count(stmt: object) -> int:
        return int((await session.execute(stmt)).scalar_one())  # type: ignore[call-overload]

    managed = await count(select(func.count()).select_from(ParticipantRow).where(listed))
    month_checkins = (
        select(func.count())
        .select_from(ObligationRow)
        .join(ParticipantRow, ParticipantRow.id == ObligationRow.participant_id)
        .where(
            listed,
            ObligationRow.kind == ObligationKind.CHECKIN.value,
            ObligationRow.due_on >= month_start,
            ObligationRow.due_on < next_month,
        )
    )
    due = await count(
        month_checkins.where(ObligationRow.status == ObligationStatus.PENDING.value, ObligationRow.due_on >= today)
    )
    overdue = await count(
        month_checkins.where(
            ObligationRow.status.in_([ObligationStatus.PENDING.value, ObligationStatus.MISSED.value]),  # type: ignore[attr-defined]
            ObligationRow.due_on < today,
        )
    )
    open_alerts = await count(
        select(func.count())
        .select_from(EscalationRow)
        .where(EscalationRow.unit_id == unit_id, EscalationRow.acknowledged_at.is_(None))  # type: ignore[union-attr]
    )
    unreachable = await count(
        select(func.count(func.distinct(ChannelIdentityRow.participant_id)))
        .join(ParticipantRow, ParticipantRow.id == ChannelIdentityRow.participant_id)
        .where(listed, ChannelIdentityRow.unreachable.is_(True))  # type: ignore[attr-defined]
    )
    urgent = await count(
        select(func.count())
        .select_from(ReferralRow)
        .join(ParticipantRow, ParticipantRow.id == ReferralRow.participant_id)
        .where(
            ParticipantRow.unit_id == unit_id,
            ReferralRow.urgency == "urgent",
            ReferralRow.status != ReferralStatus.CLOSED.value,
        )
    )
    return CommuneToday(managed, due, overdue, open_alerts, unreachable, urgent)
