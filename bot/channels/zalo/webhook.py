"""The Zalo webhook: secret checked in constant time (403 otherwise), 200 once the update is durably handled."""

from __future__ import annotations

import json

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.webhooks import secret_matches
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.client import ZaloServerError
from bot.handlers.engine import TransientFailure

PATH = "/webhook/zalo"
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
log = structlog.get_logger(__name__)


def routes(channel: ZaloChannel, secret: str) -> list[Route]:
    async def receive(request: Request) -> Response:
        if not secret_matches(request, SECRET_HEADER, secret):
            return Response(status_code=403)
        try:
            payload = json.loads(await request.body())
        except ValueError:
            log.warning("zalo_webhook_malformed")
            return JSONResponse({"ok": False})
        try:
            await channel.process(payload)
        except (TransientFailure, ZaloServerError):
            return Response(status_code=503)  # Zalo retries; the message id deduplicates
        return JSONResponse({"ok": True})

    return [Route(PATH, receive, methods=["POST"])]


async def register(channel: ZaloChannel, public_url: str, secret: str) -> None:
    await channel.client.set_webhook(public_url.rstrip("/") + PATH, secret)
