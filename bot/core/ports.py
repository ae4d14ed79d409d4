"""Interfaces the core needs from the outside world; adapters implement them."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import InboundMessage, OutboundMessage


class Messenger(Protocol):
    """Sends a message the bot starts itself (reminders, escalations, relays) to one chat of one channel."""

    channel: str

    async def send(self, external_id: str, message: OutboundMessage) -> None: ...


class ConversationHandler(Protocol):
    """The core as adapters see it: one inbound message in, the direct replies out. Never raises."""

    async def handle(self, msg: InboundMessage) -> list[OutboundMessage]: ...
