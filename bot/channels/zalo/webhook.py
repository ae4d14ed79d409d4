"""The Zalo webhook: secret checked in constant time before the body is read (403 otherwise), the body bounded while
it is read, 200 once the update is durably handled. Zalo retries anything but a 2xx, so an update that can never be
handled (malformed, of the wrong shape) is acknowledged with `ok: false` and logged without its content."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.webhooks import Malformed, TooLarge, read_json, secret_matches
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.client import ZaloError, ZaloServerError
from bot.core.ports import TransientFailure

PATH = "/webhook/zalo"
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
log = structlog.get_logger(__name__)


def routes(channel: ZaloChannel, secret: str) -> list[Route]:
    async def receive(request: Request) -> Response:
        if not secret_matches(request, SECRET_HEADER, secret):
            return Response(status_code=403)
        try:
            payload = await read_json(request)
        except TooLarge:
            log.warning("zalo_webhook_too_large")
            return Response(status_code=413)
        except Malformed:
            log.warning("zalo_webhook_malformed")
            return JSONResponse({"ok": False})
        try:
            await channel.process(payload)
        except (TransientFailure, ZaloServerError):
            return Response(status_code=503)  # Zalo retries; the message id deduplicates
        except ZaloError as exc:  # refused by the platform: sending it again would be refused again
            log.warning("zalo_update_refused", code=exc.code)
            return JSONResponse({"ok": False})
        except Exception:
            log.exception("zalo_update_failed")
            return JSONResponse({"ok": False})  # a bug is not fixed by redelivering the same update forever
        return JSONResponse({"ok": True})

    return [Route(PATH, receive, methods=["POST"])]


async def register(channel: ZaloChannel, public_url: str, secret: str) -> None:
    await channel.client.set_webhook(public_url.rstrip("/") + PATH, secret)
