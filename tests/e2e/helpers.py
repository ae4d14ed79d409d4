"""Small helpers the channel-specific transcript tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol


def telegram_text(user_id: int, text: str, update_id: int, name: str = "An") -> dict[str, Any]:
    """A raw Telegram update: a private text message."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "text": text,
        },
    }


class _FakeWithCalls(Protocol):
    calls: list[Any]


class PushedMessages:
    """For chat clients over an HTTP fake: what the bot sends a chat on its own while some work runs."""

    fake: _FakeWithCalls
    user_id: Any

    def _collect(self, before: int, chat_id: Any) -> Any:
        raise NotImplementedError

    async def during(self, work: Callable[[], Awaitable[object]]) -> Any:
        before = len(self.fake.calls)
        await work()
        return self._collect(before, self.user_id)
