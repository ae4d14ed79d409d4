"""Counts of replies sent straight to people, per channel and second, shared by every process (`direct_send`)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import upsert
from bot.db.models import DirectSendRow


async def add(session: AsyncSession, counts: Mapping[tuple[str, int], int]) -> None:
    """Add this process's counts ((channel, epoch second) → sends) to everyone's."""
    if not counts:
        return
    stmt = upsert(session, DirectSendRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "second"], set_={"sent": DirectSendRow.sent + stmt.excluded.sent}
    )
    rows = [{"channel": channel, "second": second, "sent": n} for (channel, second), n in sorted(counts.items())]
    await session.execute(stmt, rows)


async def busiest_since(session: AsyncSession, first_second: int) -> dict[str, int]:
    """Per channel, the most sends any one second ≥ `first_second` counted, all processes together."""
    stmt = (
        select(DirectSendRow.channel, func.max(DirectSendRow.sent))
        .where(DirectSendRow.second >= first_second)
        .group_by(DirectSendRow.channel)
    )
    return {channel: int(total or 0) for channel, total in (await session.execute(stmt)).all()}


async def forget_before(session: AsyncSession, second: int) -> None:
    await session.execute(delete(DirectSendRow).where(DirectSendRow.second < second))  # type: ignore[arg-type]
