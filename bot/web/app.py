"""The one ASGI app: health, and the simulator when enabled (webhooks join it with the channel issues)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.channels.simulator import web as simulator_web
from bot.channels.telegram import webhook as telegram_webhook
from bot.channels.zalo import webhook as zalo_webhook

if TYPE_CHECKING:
    from bot.app import Application


def build_web(app: Application) -> Starlette:
    async def health(_request: Request) -> Response:
        try:
            async with app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def root(_request: Request) -> Response:
        if app.settings.simulator_on:
            return RedirectResponse("/simulator")
        return JSONResponse({"service": "aftercare-bot"})

    routes = [Route("/", root), Route("/healthz", health)]
    if app.settings.simulator_on:
        routes += simulator_web.routes(app.simulator, app.simulator_labels)
    if app.telegram is not None and app.settings.public_url:
        routes += telegram_webhook.routes(app.telegram, app.secrets.webhook_secret)
    if app.zalo is not None and app.settings.public_url:
        routes += zalo_webhook.routes(app.zalo, app.secrets.webhook_secret)
    return Starlette(routes=routes)
