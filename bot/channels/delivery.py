"""What every chat channel shares about delivery."""

from __future__ import annotations

import asyncio

import structlog

from bot.core.ports import ConversationHandler

log = structlog.get_logger(__name__)


class DeliveryConfirmations:
    """Marks updates' replies as delivered in batches, off the request path.

    A confirmation only matters if the platform redelivers an update we already answered, which it does only when
    we died before acknowledging it; then, at worst, the replies go out twice. In exchange the busy path saves a
    transaction per update. Stored reply text is dropped when confirmed.
    """

    def __init__(self, conversation: ConversationHandler) -> None:
        self._conversation = conversation
        self._pending: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, key: str) -> None:
        self._pending.append(key)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            keys, self._pending = self._pending, []
            try:
                await self._conversation.confirm_delivered(*keys)
            except Exception:
                log.warning("delivery_confirmation_failed", count=len(keys))

    async def flush(self) -> None:
        if self._task is not None:
            await self._task
        await self._drain()
