from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Button
from bot.db.models import ConversationStateRow


@dataclass(slots=True)
class ConversationState:
    """Mutable per message; saved back at the end of the same transaction."""

    flow: str = "menu"
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    offered: list[str] = field(default_factory=list)
    offered_labels: list[str] = field(default_factory=list)  # what the buttons said, for menus chosen by typing


_MAX_OFFERED = 24


class ConversationRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock
        self._rows: dict[int, ConversationStateRow] = {}  # loaded in this transaction, saved without a re-read

    def adopt(self, identity_id: int, row: ConversationStateRow | None) -> ConversationState:
        """State already loaded with the identity (see IdentityRepository.find_for_message)."""
        if row is None:
            return ConversationState()
        self._rows[identity_id] = row
        return ConversationState(row.flow, row.step, dict(row.data), list(row.offered), list(row.offered_labels))

    async def offer(self, identity_id: int, buttons: Sequence[Button]) -> None:
        """A message the bot pushed offers these choices too; the flow the chat was in is kept.

        The new choices go first (a typed "1" on a numbered-menu channel means the latest message's first option);
        the earlier ones stay valid, since on a button channel the earlier message's buttons are still on screen."""
        stmt = select(ConversationStateRow).where(ConversationStateRow.identity_id == identity_id)
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        if row is None:
            row = ConversationStateRow(identity_id=identity_id, updated_at=self._clock.now())
            self._s.add(row)
        pairs = [(b.action, b.label) for b in buttons]
        pairs += [
            (a, lb) for a, lb in zip(row.offered or [], row.offered_labels or [], strict=False) if a not in dict(pairs)
        ]
        row.offered = [a for a, _ in pairs[:_MAX_OFFERED]]
        row.offered_labels = [lb for _, lb in pairs[:_MAX_OFFERED]]
        row.updated_at = self._clock.now()
        await self._s.flush()

    async def save(self, identity_id: int, state: ConversationState) -> None:
        row = self._rows.get(identity_id)
        if row is not None and _same(row, state):
            return  # nothing changed: no write
        if row is None:
            stmt = select(ConversationStateRow).where(ConversationStateRow.identity_id == identity_id)
            row = (await self._s.execute(stmt)).scalar_one_or_none()
        if row is None:
            row = ConversationStateRow(identity_id=identity_id, updated_at=self._clock.now())
            self._s.add(row)
        row.flow, row.step = state.flow, state.step
        row.data, row.offered, row.offered_labels = dict(state.data), list(state.offered), list(state.offered_labels)
        row.updated_at = self._clock.now()
        await self._s.flush()


def _same(row: ConversationStateRow, state: ConversationState) -> bool:
    return (row.flow, row.step, row.data, row.offered, row.offered_labels) == (
        state.flow,
        state.step,
        state.data,
        state.offered,
        state.offered_labels,
    )
