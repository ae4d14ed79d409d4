"""The one ASGI app: health, and the simulator when enabled (webhooks join it with the channel issues)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.simulator import web as simulator_web
from bot.web import console, downloads

if TYPE_CHECKING:
    from bot.app import Application


def build_web(app: Application) -> Starlette:
    async def health(_request: Request) -> Response:
        """The database, and each running channel and scheduler job: 503 naming what is down (see Liveness)."""
        healthy, components = app.liveness.report() if app.liveness is not None else (True, {})
        database = "ok"
        try:  # its own connection on a server database: a pool busy with a flood does not make it queue
            async with asyncio.timeout(5), (app.probe or app.engine).connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            database, healthy = "down", False
        body = {"status": "ok" if healthy else "unavailable", "database": database, "components": components}
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def root(_request: Request) -> Response:
        if app.settings.simulator_on:
            return RedirectResponse("/simulator")
        return JSONResponse({"service": "aftercare-bot"})

    routes: list[BaseRoute] = [Route("/", root), Route("/healthz", health), console.mount(app), *downloads.routes(app)]
    if app.settings.simulator_on:
        routes += simulator_web.routes(app.simulator, app.simulator_labels, app.settings.http_host)
    if app.telegram is not None and app.settings.public_url:  # platform modules imported only when configured
        from bot.channels.telegram import webhook as telegram_webhook

        routes += telegram_webhook.routes(app.telegram, app.secrets.webhook_secret_for("telegram"))
    if app.zalo is not None and app.settings.public_url:
        from bot.channels.zalo import webhook as zalo_webhook

        routes += zalo_webhook.routes(app.zalo, app.secrets.webhook_secret_for("zalo"))
    return Starlette(routes=routes)
