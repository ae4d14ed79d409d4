"""The webhook endpoint: secret checked in constant time, 200 only once the update is durably handled."""

from __future__ import annotations

import json

import structlog
from aiogram.types import Update
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.mapping import ALLOWED_UPDATES
from bot.channels.telegram.sender import DeliveryFailed
from bot.channels.webhooks import secret_matches
from bot.handlers.engine import TransientFailure

PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
log = structlog.get_logger(__name__)


def routes(channel: TelegramChannel, secret: str) -> list[Route]:
    async def receive(request: Request) -> Response:
        if not secret_matches(request, SECRET_HEADER, secret):
            return Response(status_code=401)
        try:
            update = Update.model_validate(json.loads(await request.body()), context={"bot": channel.bot})
        except (ValueError, ValidationError):
            log.warning("telegram_webhook_malformed")
            return JSONResponse({"ok": False}, status_code=200)  # retrying would not make it readable
        try:
            await channel.process(update)
        except (TransientFailure, DeliveryFailed):
            return Response(status_code=503)  # Telegram redelivers; the update is deduplicated
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
