"""The webhook endpoint: secret checked in constant time before the body is read, the body bounded while it is read,
200 only once the update is durably handled. Telegram retries anything but a 2xx, so an update that can never be
handled (malformed, of the wrong shape) is acknowledged with `ok: false` and logged without its content."""

from __future__ import annotations

import structlog
from aiogram.types import Update
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.mapping import ALLOWED_UPDATES
from bot.channels.telegram.sender import DeliveryFailed
from bot.channels.webhooks import Malformed, TooLarge, read_json, secret_matches
from bot.core.ports import TransientFailure

PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
log = structlog.get_logger(__name__)


def routes(channel: TelegramChannel, secret: str) -> list[Route]:
    async def receive(request: Request) -> Response:
        if not secret_matches(request, SECRET_HEADER, secret):
            return Response(status_code=401)
        try:
            update = Update.model_validate(await read_json(request), context={"bot": channel.bot})
        except TooLarge:
            log.warning("telegram_webhook_too_large")
            return Response(status_code=413)
        except (Malformed, ValidationError, ValueError, RecursionError):
            log.warning("telegram_webhook_malformed")
            return JSONResponse({"ok": False}, status_code=200)  # retrying would not make it readable
        try:
            await channel.process(update)
        except (TransientFailure, DeliveryFailed):
            return Response(status_code=503)  # Telegram redelivers; the update is deduplicated
        except Exception:
            log.exception("telegram_update_failed", update_id=update.update_id)
            return JSONResponse({"ok": False})  # a bug is not fixed by redelivering the same update forever
        return JSONResponse({"ok": True})

    return [Route(PATH, receive, methods=["POST"])]


async def register(channel: TelegramChannel, public_url: str, secret: str) -> None:
    """Pending updates are kept (drop_pending_updates=False): what arrived while the bot was down is still handled."""
    url = public_url.rstrip("/") + PATH
    await channel.sender.call(
        "setWebhook",
        lambda: channel.bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        ),
    )
