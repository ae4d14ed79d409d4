"""Safety checks: "are you safe?" asked after a message the crisis check was unsure about (bot/flows/safety).

One open check per person, kept by the database (`safety_check.open_for` is unique and set only while open): a second
worrying message while one is open finds it, it does not ask anew or restart the wait. Closing is conditional on the
check being open, so an answer, a crisis message and the planner's timeout racing each other close it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.dialect import insert_ignoring
from bot.db.models import SafetyCheckRow


class Outcome(StrEnum):
    """How a check ended (the stored word)."""

    OK = "ok"  # the person said they are safe
    HELP = "help"  # the person asked for help now: escalated like a crisis
    SILENT = "silent"  # no answer in time: escalated like a crisis by the planner
    CRISIS = "crisis"  # a crisis message came while it was open: the crisis reply and alerts took over


@dataclass(frozen=True, slots=True)
class SafetyCheck:
    id: int
    participant_id: int
    asked_at: datetime
    closed_at: datetime | None
    outcome: Outcome | str | None  # a word this version does not know (another version wrote it) stays as written

    @property
    def open(self) -> bool:
        return self.closed_at is None


def _check(row: SafetyCheckRow) -> SafetyCheck:
    assert row.id is not None
    outcome: Outcome | str | None = row.outcome
    if row.outcome in {o.value for o in Outcome}:
        outcome = Outcome(row.outcome)
    return SafetyCheck(row.id, row.participant_id, row.asked_at, row.closed_at, outcome)


class SafetyCheckRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def ask(self, participant_id: int) -> tuple[SafetyCheck, bool]:
        """The person's open check, opened now if they have none (True: opened now).

        The insert does nothing when one is open; if that one is closed before it is read (an answer or the planner's
        timeout, in another transaction), the insert is tried once more, so the person is asked, never answered with
        an error. (Closed again between that second insert and its read — a third transaction in the same instant —
        is a `LookupError`, for the engine's apology.)"""
        for _ in range(2):
            stmt = (
                insert_ignoring(self._s, SafetyCheckRow, unique="open_for")
                .values(participant_id=participant_id, open_for=participant_id, asked_at=self._clock.now())
                .returning(SafetyCheckRow.id)
            )
            new_id = (await self._s.execute(stmt)).scalar_one_or_none()
            found = await self.open_of(participant_id)  # opened now, or already open (the insert did nothing)
            if found is not None:
                return found, new_id is not None
        raise LookupError("the open safety check was closed twice while it was being asked")

    async def open_of(self, participant_id: int) -> SafetyCheck | None:
        stmt = select(SafetyCheckRow).where(SafetyCheckRow.open_for == participant_id)
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return _check(row) if row is not None else None

    async def get(self, check_id: int) -> SafetyCheck | None:
        row = await self._s.get(SafetyCheckRow, check_id)
        return _check(row) if row is not None else None

    async def close(self, check_id: int, outcome: Outcome) -> bool:
        """False when it was no longer open (closed meanwhile by an answer, a crisis or the planner)."""
        stmt = (
            update(SafetyCheckRow)
            .where(SafetyCheckRow.id == check_id, SafetyCheckRow.closed_at.is_(None))  # type: ignore[union-attr]
            .values(closed_at=self._clock.now(), outcome=Outcome(outcome).value, open_for=None)
        )
        result = await self._s.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def close_open(self, participant_id: int, outcome: Outcome) -> SafetyCheck | None:
        """Closes the person's open check, if any; the check as it was (None: there was none open)."""
        found = await self.open_of(participant_id)
        if found is None or not await self.close(found.id, outcome):
            return None
        return found

    async def unanswered(self, asked_before: datetime, limit: int = 500) -> list[SafetyCheck]:
        """Open checks asked at or before that instant, oldest first."""
        stmt = (
            select(SafetyCheckRow)
            .where(SafetyCheckRow.open_for.is_not(None), SafetyCheckRow.asked_at <= asked_before)  # type: ignore[union-attr]
            .order_by(SafetyCheckRow.asked_at, SafetyCheckRow.id)  # type: ignore[arg-type]
            .limit(limit)
        )
        return [_check(row) for row in (await self._s.execute(stmt)).scalars()]

    async def of_participant(self, participant_id: int) -> list[SafetyCheck]:
        """Every check of the person, oldest first."""
        mine = select(SafetyCheckRow).where(SafetyCheckRow.participant_id == participant_id)
        stmt = mine.order_by(SafetyCheckRow.id)  # type: ignore[arg-type]
        return [_check(row) for row in (await self._s.execute(stmt)).scalars()]
