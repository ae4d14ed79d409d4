from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.models import ConsentRow
from bot.domain.consent import Purpose


class ConsentRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def record(self, participant_id: int, purpose: Purpose, granted: bool, text_version: str) -> None:
        self._s.add(
            ConsentRow(
                participant_id=participant_id,
                purpose=purpose.value,
                granted=granted,
                text_version=text_version,
                recorded_at=self._clock.now(),
            )
        )
        await self._s.flush()

    async def current(self, participant_id: int) -> dict[Purpose, bool]:
        """The decision in force per purpose; a purpose never answered is absent (silence is not consent)."""
        stmt = (
            select(ConsentRow)
            .where(ConsentRow.participant_id == participant_id)
            .order_by(ConsentRow.recorded_at, ConsentRow.id)  # type: ignore[arg-type]
        )
        state: dict[Purpose, bool] = {}
        for row in (await self._s.execute(stmt)).scalars():
            state[Purpose(row.purpose)] = row.granted
        return state

    async def history(self, participant_id: int) -> list[ConsentRow]:
        stmt = select(ConsentRow).where(ConsentRow.participant_id == participant_id).order_by(ConsentRow.id)  # type: ignore[arg-type]
        return list((await self._s.execute(stmt)).scalars())
