"""Batch reads for the planner and dispatcher: plain columns, a page of people at a time; nothing decrypted but the
chats written to (the platform id is stored sealed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.crypto import Keyring, SealBroken
from bot.db.models import ChannelIdentityRow, ParticipantRow, StaffRow, UnitRow
from bot.domain.entities import RiskLevel

_CHUNK = 5000
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PlanFacts:
    participant_id: int
    unit_id: int
    term_start: date
    term_end: date
    risk: RiskLevel
    cadre_id: int | None
    reminder_hour: int
    due_day: int
    active: bool  # linked and consented to chat reminders; others have obligations (for the cadre) but no reminders
    listed_on: date  # the day the person was put on the list (UTC date of the record; obligations start there)


@dataclass(frozen=True, slots=True)
class Chat:
    """Where to reach a person: the chat most recently linked that the platform has not refused."""

    identity_id: int
    channel: str
    external_id: str


class PlanningRepository:
    def __init__(self, session: AsyncSession, keyring: Keyring) -> None:
        self._s = session
        self._keyring = keyring

    async def active_page(self, after_id: int, limit: int) -> list[PlanFacts]:
        stmt = (
            select(
                ParticipantRow.id,
                ParticipantRow.unit_id,
                ParticipantRow.term_start,
                ParticipantRow.expected_end,
                ParticipantRow.risk_level,
                ParticipantRow.cadre_id,
                ParticipantRow.reminder_hour,
                UnitRow.checkin_due_day,
                ParticipantRow.status,
                ParticipantRow.created_at,
            )
            .join(UnitRow, UnitRow.id == ParticipantRow.unit_id)  # type: ignore[arg-type]
            .where(
                ParticipantRow.status.in_(["active", "enrolled"]),  # type: ignore[attr-defined]
                ParticipantRow.id > after_id,  # type: ignore[operator]
            )
            .order_by(ParticipantRow.id)
            .limit(limit)
        )
        return [
            PlanFacts(pid, uid, start, end, RiskLevel(risk), cadre, hour, due_day, status == "active", created.date())
            for pid, uid, start, end, risk, cadre, hour, due_day, status, created in (await self._s.execute(stmt)).all()
        ]

    async def term_ended(self, today: date) -> list[tuple[int, int, date]]:
        """People still on the list whose expected end is behind them, linked or not: (id, unit id, end)."""
        stmt = select(ParticipantRow.id, ParticipantRow.unit_id, ParticipantRow.expected_end).where(
            ParticipantRow.status.in_(["active", "enrolled"]),  # type: ignore[attr-defined]
            ParticipantRow.expected_end < today,
        )
        return [(pid, uid, end) for pid, uid, end in (await self._s.execute(stmt)).all()]

    async def cadres_with_people(self) -> list[int]:
        """Active cadres who have a linked chat and at least one person on their list."""
        followed = select(ParticipantRow.cadre_id).where(ParticipantRow.status.in_(["active", "enrolled"]))  # type: ignore[attr-defined]
        return await self._staff_with_chat("cadre", StaffRow.id.in_(followed))  # type: ignore[union-attr]

    async def officers_with_people(self) -> list[int]:
        """Active officers with a linked chat whose commune has people on the list."""
        units = select(ParticipantRow.unit_id).where(ParticipantRow.status.in_(["active", "enrolled"]))  # type: ignore[attr-defined]
        return await self._staff_with_chat("officer", StaffRow.unit_id.in_(units))  # type: ignore[attr-defined]

    async def _staff_with_chat(self, role: str, condition: ColumnElement[bool]) -> list[int]:
        has_chat = select(ChannelIdentityRow.staff_id).where(ChannelIdentityRow.staff_id.is_not(None))  # type: ignore[union-attr]
        stmt = select(StaffRow.id).where(
            StaffRow.role == role,
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
            condition,
            StaffRow.id.in_(has_chat),  # type: ignore[union-attr]
        )
        return list((await self._s.execute(stmt.order_by(StaffRow.id))).scalars())

    async def chats(
        self, participant_ids: Sequence[int], staff_ids: Sequence[int]
    ) -> tuple[dict[int, Chat], dict[int, Chat]]:
        """The chat to write to for each person (participants, staff); people with no reachable chat are absent, and
        so is a chat whose sealed id does not open (altered or re-pointed at another person: logged, never used)."""
        stmt = (
            select(ChannelIdentityRow)
            .where(
                ChannelIdentityRow.unreachable.is_(False),  # type: ignore[attr-defined]
                ChannelIdentityRow.participant_id.in_(list(participant_ids))  # type: ignore[union-attr]
                | ChannelIdentityRow.staff_id.in_(list(staff_ids)),  # type: ignore[union-attr]
            )
            .order_by(ChannelIdentityRow.linked_at, ChannelIdentityRow.id)
        )
        by_participant: dict[int, Chat] = {}
        by_staff: dict[int, Chat] = {}
        for row in (await self._s.execute(stmt)).scalars():
            assert row.id is not None
            try:
                external_id = self._keyring.open_chat(
                    row.external_id_enc, row.chat_key, row.participant_id, row.staff_id
                )
            except SealBroken as exc:
                log.warning("sealed_value_rejected", column=exc.column, row_id=row.id)
                continue
            chat = Chat(row.id, row.channel, external_id)
            if row.participant_id is not None:
                by_participant[row.participant_id] = chat  # the latest linked wins
            elif row.staff_id is not None:
                by_staff[row.staff_id] = chat
        return by_participant, by_staff

    async def participant_facts(self, participant_ids: Sequence[int]) -> dict[int, tuple[str, str, int, int | None]]:
        """(status, wording, unit id, cadre id) per participant, without decrypting names; any number of ids (asked
        in chunks: PostgreSQL takes at most 32,767 parameters per statement)."""
        ids = sorted(set(participant_ids))
        found: dict[int, tuple[str, str, int, int | None]] = {}
        for start in range(0, len(ids), _CHUNK):
            stmt = select(
                ParticipantRow.id,
                ParticipantRow.status,
                ParticipantRow.wording,
                ParticipantRow.unit_id,
                ParticipantRow.cadre_id,
            ).where(ParticipantRow.id.in_(ids[start : start + _CHUNK]))  # type: ignore[union-attr]
            found |= {pid: (st, w, uid, cid) for pid, st, w, uid, cid in (await self._s.execute(stmt)).all()}
        return found
