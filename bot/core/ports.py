"""Interfaces the core needs from the outside world; adapters implement them."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import InboundMessage, OutboundMessage


class DeliveryDeferred(Exception):
    """Not now: rate limited (`retry_after` seconds, when the platform said) or the platform is having trouble."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class DeliveryRefused(Exception):
    """Never: the chat blocked the bot or is gone (`unreachable`), or the platform rejected the message itself."""

    def __init__(self, reason: str, unreachable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


class Messenger(Protocol):
    """Sends a message the bot starts itself (reminders, escalations, relays) to one chat of one channel."""

    channel: str

    async def send(self, external_id: str, message: OutboundMessage) -> None: ...

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        """One attempt, no retries of its own: raises DeliveryDeferred or DeliveryRefused; the outbox decides."""
        ...


class TransientFailure(RuntimeError):
    """The message could not be handled now (the database is unreachable); nothing was committed. A channel leaves
    the update for its platform to deliver again (a webhook answers 503, a poller fetches it again)."""


class ConversationHandler(Protocol):
    """The core as channels see it: one inbound message in, the direct replies out. Channels depend on this, never
    on the engine that implements it (`bot.flows.engine.ConversationEngine`)."""

    async def handle(self, msg: InboundMessage) -> list[OutboundMessage]:
        """The replies to send, in order. Raises only `TransientFailure`: a bug is answered with an apology."""
        ...

    def delivery_key(self, msg: InboundMessage) -> str | None:
        """The key this update's replies are kept under until `confirm_delivered` (None: the platform gave no key)."""
        ...

    async def confirm_delivered(self, *delivery_keys: str) -> None:
        """The replies of these updates are out: a redelivery of one of them gets nothing."""
        ...


class SendCounter(Protocol):
    """Told of every message a channel sends straight to a person (a reply, outside the outbox): the platform's rate
    is per bot, so the outbox's sender, in whichever process, leaves room for them (bot/scheduler/budget.py)."""

    def count(self, channel: str, messages: int = 1) -> None: ...
