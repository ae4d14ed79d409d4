"""The Telegram adapter: updates in, replies out, through the same core as every channel. No business rule here."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import Response
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    GetMe,
    GetUpdates,
    SendMessage,
    SetMyCommands,
    SetWebhook,
)
from aiogram.types import BotCommand, Update

from bot.channels.delivery import DeliveryConfirmations
from bot.channels.telegram.mapping import CHANNEL, Inbound, Reachability, to_inbound
from bot.channels.telegram.render import Part, render
from bot.channels.telegram.sender import (
    ChatUnreachable,
    DeliveryFailed,
    PlatformErrors,
    SendText,
    Sleep,
    TelegramSender,
)
from bot.core.i18n import N_, SUPPORTED_LANGUAGES, Catalogs
from bot.core.messages import OutboundMessage
from bot.core.ports import ConversationHandler, SendCounter, TransientFailure
from bot.core.request_ids import request_scope
from bot.db.store import Store
from bot.services import reachability

log = structlog.get_logger(__name__)

COMMANDS = (
    ("start", N_("Start, or link this chat with your invite code")),
    ("menu", N_("Open the main menu")),
)


# aiogram reads every answer of the Bot API through pydantic's generic `Response[T]`, and pydantic keeps the classes
# it builds for generics only weakly: whenever the garbage collector has taken one, the next call builds it again (a
# few milliseconds of CPU for each message sent). Held here, each is built once per process.
ANSWER_MODELS = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        AnswerCallbackQuery, DeleteWebhook, EditMessageReplyMarkup, GetMe, GetUpdates, SendMessage, SendText,
        SetMyCommands, SetWebhook,
    )
)  # fmt: skip


class _Session(AiohttpSession):
    """aiogram's session; closing it waits 250 ms for TLS connections to shut down, which a Bot API server reached
    over plain HTTP (a local `telegram-bot-api`, the tests' fake) does not have: there it closes at once."""

    async def close(self) -> None:
        if self.api.base.startswith("http://"):
            if self._session is not None and not self._session.closed:
                await self._session.close()
            return
        await super().close()


def make_bot(token: str, api_url: str) -> Bot:
    session = _Session(api=TelegramAPIServer.from_base(api_url))
    session.middleware(PlatformErrors())  # every call's error counted in the metrics
    return Bot(token=token, session=session)


class TelegramChannel:
    """Updates in (`process`, from the webhook or `TelegramPoller`), replies out (`deliver`), and the `Messenger`
    port for messages the bot starts (`send`, `push`). The same shape as `ZaloChannel`."""

    channel = CHANNEL

    def __init__(
        self,
        bot: Bot,
        conversation: ConversationHandler,
        store: Store,
        catalogs: Catalogs,
        sleep: Sleep = asyncio.sleep,
        counter: SendCounter | None = None,
    ) -> None:
        self.bot = bot
        self._counter = counter  # direct replies count against the bot's one rate (bot/scheduler/budget.py)
        self.sender = TelegramSender(bot, sleep)
        self.sleep = sleep  # what retries and the poller's back-off wait with
        self._conversation = conversation
        self._store = store
        self._catalogs = catalogs
        self.username: str | None = None
        self._confirmations = DeliveryConfirmations(conversation)

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
        replies = await self._conversation.handle(msg)  # the core resolves the button reference for this chat
        await self.deliver(mapped.chat_id, replies)
        if (key := self._conversation.delivery_key(msg)) is not None:
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
                with request_scope():  # one request id on every log line of this update
                    try:
                        await self.process(update)
                    except (TransientFailure, DeliveryFailed):
                        retry.append(update.update_id)
                        return
                    except Exception:
                        log.exception("telegram_update_failed", update_id=update.update_id)

        await asyncio.gather(*(one_chat(chat_updates) for chat_updates in by_chat.values()))
        return min(retry) if retry else None

    def _render(self, external_id: str, replies: Sequence[OutboundMessage]) -> list[Part]:
        keyring = self._store.keyring
        return render(replies, lambda action: keyring.button_ref(CHANNEL, external_id, action))

    async def deliver(self, chat_id: int, replies: Sequence[OutboundMessage]) -> None:
        """Render and send replies in order, with retries; a chat that blocked the bot is marked unreachable."""
        try:
            for part in self._render(str(chat_id), replies):
                if self._counter is not None:
                    self._counter.count(CHANNEL)
                await self.sender.send_text(chat_id, part.text, part.markup, part.no_preview)
        except ChatUnreachable:
            await self._set_reachable(str(chat_id), False)

    async def send(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port: a message the bot starts itself."""
        await self.deliver(int(external_id), [message])

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port for the outbox: one attempt per part, errors raised for the dispatcher to judge."""
        chat_id = int(external_id)
        # Files first, the text that says what they are last: a deferred file (429, 5xx) retries the message without
        # the person having had its text (or its buttons) already.
        for document in message.documents:
            await self.sender.push_document(chat_id, document.filename, document.content)
        for part in self._render(external_id, [message]):
            await self.sender.push_text(chat_id, part.text, part.markup, part.no_preview)

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
