"""The Telegram adapter: updates in, replies out, through the same core as every channel. No business rule here."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, Update

from bot.channels.delivery import DeliveryConfirmations
from bot.channels.telegram.mapping import CHANNEL, Inbound, Reachability, to_inbound
from bot.channels.telegram.render import keyboard, split_text
from bot.channels.telegram.sender import ChatUnreachable, DeliveryFailed, Sleep, TelegramSender
from bot.core.i18n import N_, SUPPORTED_LANGUAGES, Catalogs
from bot.core.messages import OutboundMessage
from bot.db.store import Store
from bot.flows.engine import ConversationEngine, TransientFailure
from bot.services import reachability

log = structlog.get_logger(__name__)

COMMANDS = (
    ("start", N_("Start, or link this chat with your invite code")),
    ("menu", N_("Open the main menu")),
)


def make_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(token=token, session=session)


class TelegramChannel:
    channel = CHANNEL

    def __init__(
        self, bot: Bot, engine: ConversationEngine, store: Store, catalogs: Catalogs, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.bot = bot
        self.sender = TelegramSender(bot, sleep)
        self._engine = engine
        self._store = store
        self._catalogs = catalogs
        self.username: str | None = None
        self._confirmations = DeliveryConfirmations(engine)

    async def identify(self) -> str | None:
        """Check the token and learn the bot's username (for t.me deep links)."""
        me = await self.sender.call("getMe", self.bot.get_me)
        self.username = me.username if me is not None else None
        return self.username

    async def prepare(self) -> None:
        """Check the token and set the command menu in each language (Vietnamese is also the default)."""
        await self.identify()
        for language in SUPPORTED_LANGUAGES:
            t = self._catalogs.translator(language)
            commands = [BotCommand(command=name, description=t._(text)) for name, text in COMMANDS]
            await self.sender.call(
                "setMyCommands", lambda c=commands, lang=language: self.bot.set_my_commands(c, language_code=lang)
            )
            if language == "vi":
                await self.sender.call("setMyCommands", lambda c=commands: self.bot.set_my_commands(c))
        log.info("telegram_ready", username=self.username)

    def deep_link(self, code: str) -> str | None:
        if not self.username:
            return None
        return f"https://t.me/{self.username}?start={code.replace('-', '')}"

    async def process(self, update: Update) -> None:
        """Handle one update completely: raises `TransientFailure`/`DeliveryFailed` when it should be redelivered."""
        mapped = to_inbound(update)
        if mapped is None:
            return
        if isinstance(mapped, Reachability):
            await self._set_reachable(mapped.external_id, mapped.reachable)
            return
        msg = mapped.msg
        if mapped.callback_id is not None:
            await self.sender.answer_callback(mapped.callback_id)
        if mapped.callback_message_id is not None:
            await self.sender.clear_keyboard(mapped.chat_id, mapped.callback_message_id)
        replies = await self._engine.handle(msg)  # the engine resolves the button reference for this chat
        await self.deliver(mapped.chat_id, replies)
        if (key := self._engine.delivery_key(msg)) is not None:
            self._confirmations.add(key)

    async def process_batch(self, updates: Sequence[Update]) -> int | None:
        """Updates of one chat in order, different chats side by side; returns when all are handled.

        Returns the first update id that must be fetched again (database or Telegram unreachable), or None.
        A chat stops at its first such update so its order is kept; redelivered updates are deduplicated.
        """
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            try:
                mapped = to_inbound(update)
            except Exception:  # mapping is total; should it ever fail, process() logs it for that update alone
                mapped = None
            key = mapped.chat_id if isinstance(mapped, Inbound) else 0
            by_chat[key].append(update)
        retry: list[int] = []

        async def one_chat(chat_updates: list[Update]) -> None:
            for update in chat_updates:
                try:
                    await self.process(update)
                except (TransientFailure, DeliveryFailed):
                    retry.append(update.update_id)
                    return
                except Exception:
                    log.exception("telegram_update_failed", update_id=update.update_id)

        await asyncio.gather(*(one_chat(chat_updates) for chat_updates in by_chat.values()))
        return min(retry) if retry else None

    async def deliver(self, chat_id: int, replies: Sequence[OutboundMessage]) -> None:
        """Send replies in order; each button carries an opaque reference valid only in this chat."""
        keyring = self._store.keyring
        try:
            for reply in replies:
                parts = split_text(reply.text) or ["…"]
                refs = [keyring.button_ref(CHANNEL, str(chat_id), action) for action in reply.actions]
                markup = keyboard([b.label for b in reply.buttons], refs)
                for index, part in enumerate(parts):
                    await self.sender.send_text(chat_id, part, markup if index == len(parts) - 1 else None)
        except ChatUnreachable:
            await self._set_reachable(str(chat_id), False)

    async def send(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port: a message the bot starts itself."""
        await self.deliver(int(external_id), [message])

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port for the outbox: one attempt per part, errors raised for the dispatcher to judge."""
        chat_id = int(external_id)
        refs = [self._store.keyring.button_ref(CHANNEL, external_id, action) for action in message.actions]
        markup = keyboard([b.label for b in message.buttons], refs)
        parts = split_text(message.text) or ["…"]
        for index, part in enumerate(parts):
            await self.sender.push_text(chat_id, part, markup if index == len(parts) - 1 else None)

    async def _set_reachable(self, external_id: str, reachable: bool) -> None:
        async with self._store.transaction() as repos:
            await reachability.mark(repos, CHANNEL, external_id, reachable=reachable)
        log.info("telegram_reachability", reachable=reachable)

    async def flush(self) -> None:
        """Write pending delivery confirmations now (tests, shutdown)."""
        await self._confirmations.flush()

    async def close(self) -> None:
        await self._confirmations.flush()
        await self.bot.session.close()
