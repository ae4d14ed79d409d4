"""Outgoing Bot API calls with Telegram's rules: honour 429 retry_after, back off on network and 5xx errors,
report a blocked chat, and give up on a bad request without retrying it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, LinkPreviewOptions

from bot.core.ports import DeliveryDeferred, DeliveryRefused
from bot.observability.metrics import platform_error

if TYPE_CHECKING:
    from aiogram.methods import Response, TelegramMethod

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
log = structlog.get_logger(__name__)


NOT_MODIFIED = "message is not modified"
# A message whose links must not be fetched by Telegram's previewer (a one-time sign-in link).
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


_STATUS: tuple[tuple[type[TelegramAPIError], int | None], ...] = (
    (TelegramRetryAfter, 429),
    (TelegramForbiddenError, 403),
    (TelegramUnauthorizedError, 401),
    (TelegramNotFound, 404),
    (TelegramConflictError, 409),
    (TelegramEntityTooLarge, 413),
    (TelegramServerError, 500),
    (TelegramNetworkError, None),
    (TelegramBadRequest, 400),
)


class PlatformErrors(BaseRequestMiddleware):
    """Every Bot API call's error counted by code in the metrics (`aftercare_platform_errors_total`), whoever made
    the call (a reply, the outbox, polling); "message is not modified" is an answer, not an error."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Response[Any]:
        try:
            return await make_request(bot, method)
        except TelegramAPIError as exc:
            if not (isinstance(exc, TelegramBadRequest) and NOT_MODIFIED in exc.message.lower()):
                status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 0)
                platform_error("telegram", status)
            raise


class SendText(SendMessage):
    """sendMessage exactly as `Bot.send_message` makes it, for a message whose answer nobody reads (a reply, an
    outbox text): Telegram's answer is still checked (errors, retry_after) but its `result` is kept as the JSON object
    it is rather than validated into a `Message` with its keyboard, a tenth of a millisecond per message."""

    __returning__ = dict  # type: ignore[assignment]


class ChatUnreachable(Exception):
    """403: the person blocked the bot or deleted their account."""


class DeliveryFailed(Exception):
    """Telegram could not be reached after all retries; the caller decides whether to redeliver."""


class TelegramSender:
    def __init__(self, bot: Bot, sleep: Sleep = asyncio.sleep, attempts: int = 5, max_backoff: float = 30.0) -> None:
        self.bot = bot
        self._sleep = sleep
        self._attempts = attempts
        self._max_backoff = max_backoff

    async def call(self, name: str, request: Callable[[], Awaitable[T]]) -> T | None:
        """Run one Bot API call with retries; None when Telegram refused it as a bad request."""
        for attempt in range(self._attempts):
            try:
                return await request()
            except TelegramRetryAfter as exc:
                log.warning("telegram_rate_limited", method=name, retry_after=exc.retry_after)
                await self._sleep(float(exc.retry_after))
            except (TelegramNetworkError, TelegramServerError) as exc:
                delay = min(self._max_backoff, 0.5 * 2**attempt)
                log.warning("telegram_retry", method=name, error=type(exc).__name__, delay=delay)
                await self._sleep(delay)
            except TelegramForbiddenError as exc:
                raise ChatUnreachable(name) from exc
            except TelegramBadRequest as exc:
                if NOT_MODIFIED not in exc.message.lower():  # already as asked: nothing went wrong
                    log.warning("telegram_bad_request", method=name, description=exc.message)
                return None
        raise DeliveryFailed(name)

    async def push_text(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None, no_preview: bool = False
    ) -> None:
        """One attempt for the outbox, which owns retries: Telegram's answer becomes the core's delivery errors."""
        try:
            await self.bot(_send_text(chat_id, text, markup, no_preview))
        except TelegramRetryAfter as exc:
            raise DeliveryDeferred("rate_limited", float(exc.retry_after)) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise DeliveryDeferred(type(exc).__name__) from exc
        except TelegramForbiddenError as exc:
            raise DeliveryRefused("forbidden", unreachable=True) from exc
        except TelegramBadRequest as exc:
            unreachable = "chat not found" in exc.message.lower()
            raise DeliveryRefused("bad_request", unreachable=unreachable) from exc

    async def push_document(self, chat_id: int, filename: str, content: bytes) -> None:
        """One file for the outbox (sendDocument, multipart), errors as the core's delivery errors like `push_text`."""
        try:
            await self.bot.send_document(chat_id, BufferedInputFile(content, filename=filename))
        except TelegramRetryAfter as exc:
            raise DeliveryDeferred("rate_limited", float(exc.retry_after)) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise DeliveryDeferred(type(exc).__name__) from exc
        except TelegramForbiddenError as exc:
            raise DeliveryRefused("forbidden", unreachable=True) from exc
        except TelegramBadRequest as exc:
            unreachable = "chat not found" in exc.message.lower()
            raise DeliveryRefused("bad_request", unreachable=unreachable) from exc

    async def send_text(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None, no_preview: bool = False
    ) -> None:
        await self.call("sendMessage", lambda: self.bot(_send_text(chat_id, text, markup, no_preview)))

    async def answer_callback(self, callback_id: str) -> None:
        """Always answered, so the button never keeps spinning; an old query's refusal is harmless."""
        try:
            await self.call("answerCallbackQuery", lambda: self.bot.answer_callback_query(callback_id))
        except (ChatUnreachable, DeliveryFailed):
            log.warning("telegram_callback_unanswered")

    async def clear_keyboard(self, chat_id: int, message_id: int) -> None:
        """A pressed keyboard is spent: remove it so old buttons do not linger in the chat. Best effort: the press
        itself is handled whether or not the keyboard could be removed."""
        try:
            await self.call(
                "editMessageReplyMarkup",
                lambda: self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None),
            )
        except (ChatUnreachable, DeliveryFailed):
            log.warning("telegram_keyboard_not_cleared")


def _send_text(chat_id: int, text: str, markup: InlineKeyboardMarkup | None, no_preview: bool) -> SendText:
    """The call `bot.send_message(chat_id, text, reply_markup=markup, link_preview_options=…)` makes, answered
    unvalidated (`SendText`)."""
    return SendText(chat_id=chat_id, text=text, reply_markup=markup, link_preview_options=_preview(no_preview))


def _preview(no_preview: bool) -> LinkPreviewOptions | None:
    """None leaves Telegram's default (a preview for the first link), so other messages' calls are unchanged."""
    return NO_PREVIEW if no_preview else None
