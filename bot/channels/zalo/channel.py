"""The Zalo adapter: payloads in, numbered-menu texts out, through the same core as every channel."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import structlog

from bot.channels.delivery import DeliveryConfirmations
from bot.channels.zalo.client import (
    Sleep,
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloNotFound,
    ZaloRateLimited,
    ZaloServerError,
)
from bot.channels.zalo.mapping import CHANNEL, to_inbound
from bot.channels.zalo.render import render
from bot.core.i18n import Catalogs
from bot.core.messages import OutboundMessage
from bot.core.ports import ConversationHandler, DeliveryDeferred, DeliveryRefused, SendCounter
from bot.db.store import Store
from bot.services import reachability

log = structlog.get_logger(__name__)


class ZaloTransport(Protocol):
    """How texts reach a Zalo user. The Bot Platform now; an Official Account API transport (template messages,
    for reminders long after the person last wrote) can be added behind the same interface."""

    async def send_message(self, chat_id: str, text: str) -> None: ...


class ZaloChannel:
    """Updates in (`process`, from the webhook or `ZaloPoller`), replies out (`deliver`), and the `Messenger` port
    for messages the bot starts (`send`, `push`). The same shape as `TelegramChannel`."""

    channel = CHANNEL

    def __init__(
        self,
        client: ZaloClient,
        conversation: ConversationHandler,
        store: Store,
        catalogs: Catalogs,
        sleep: Sleep = asyncio.sleep,
        counter: SendCounter | None = None,
    ) -> None:
        self.client = client
        self._counter = counter  # direct replies count against the bot's one rate (bot/scheduler/budget.py)
        self.transport: ZaloTransport = client
        self.sleep = sleep  # what the poller's back-off waits with (the client's retries have their own)
        self._conversation = conversation
        self._store = store
        self._catalogs = catalogs
        self.bot_name: str | None = None
        self._confirmations = DeliveryConfirmations(conversation)

    async def identify(self) -> str | None:
        me = await self.client.get_me()
        self.bot_name = str(me.get("account_name") or me.get("display_name") or me.get("name") or "") or None
        return self.bot_name

    async def process(self, payload: Any) -> None:
        """Handle one update completely; raises TransientFailure (database) or ZaloServerError (sending)."""
        mapped = to_inbound(payload)
        if mapped is None:
            log.info("zalo_update_ignored")
            return
        replies = await self._conversation.handle(mapped.msg)
        await self.deliver(mapped.chat_id, replies)
        if (key := self._conversation.delivery_key(mapped.msg)) is not None:
            self._confirmations.add(key)

    async def deliver(self, chat_id: str, replies: Sequence[OutboundMessage]) -> None:
        """Render and send replies in order, with retries; a chat that blocked the bot is marked unreachable."""
        try:
            for text in render(replies, self._catalogs):
                if self._counter is not None:
                    self._counter.count(CHANNEL)
                await self.transport.send_message(chat_id, text)
        except (ZaloForbidden, ZaloNotFound):  # blocked, left, or no longer a chat the bot may write to
            await self._unreachable(chat_id)

    async def send(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port. Zalo's Bot Platform only talks to people who wrote to the bot; whether it still delivers
        weeks later is an open question, so an undeliverable chat is marked unreachable for the cadre to follow."""
        await self.deliver(external_id, [message])

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port for the outbox: one attempt, the platform's answer raised as the core's delivery errors."""
        for text in render([message], self._catalogs):
            try:
                await self.client.call("sendMessage", {"chat_id": external_id, "text": text})
            except ZaloRateLimited as exc:
                raise DeliveryDeferred("rate_limited", 2.0) from exc
            except ZaloServerError as exc:
                raise DeliveryDeferred("server_error") from exc
            except (ZaloForbidden, ZaloNotFound) as exc:
                raise DeliveryRefused("forbidden", unreachable=True) from exc
            except ZaloError as exc:
                raise DeliveryRefused(type(exc).__name__, unreachable=False) from exc

    async def _unreachable(self, external_id: str) -> None:
        """A send was refused for this chat: marked for the cadre to follow (a message from it marks it reachable)."""
        async with self._store.transaction() as repos:
            await reachability.mark(repos, CHANNEL, external_id, reachable=False)
        log.info("zalo_unreachable")

    async def flush(self) -> None:
        """Write pending delivery confirmations now (tests, shutdown)."""
        await self._confirmations.flush()

    async def close(self) -> None:
        await self._confirmations.flush()
        await self.client.close()
