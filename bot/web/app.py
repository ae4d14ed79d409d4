"""The one ASGI app: health (`/healthz`, `/livez`, `/readyz`), metrics, the console, the simulator when enabled and
the webhooks of the configured platforms; every request through `Observe` (request id, duration by route)."""

from __future__ import annotations

import asyncio
import hmac
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.simulator import web as simulator_web
from bot.db.revision import behind
from bot.observability import metrics as prometheus
from bot.web import console, downloads
from bot.web.observe import Observe

if TYPE_CHECKING:
    from pydantic import SecretStr

    from bot.app import Application

log = structlog.get_logger(__name__)
READY_TIMEOUT = 3.0  # seconds for /readyz's database checks: a load balancer's probe must not hang


def metrics_allowed(authorization: str | None, token: SecretStr | None) -> bool:
    """No token configured: open (the operator keeps `/metrics` off the public proxy). Otherwise the exact bearer
    token, compared in constant time."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


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

    async def live(_request: Request) -> Response:
        """The process answers: nothing else is checked (a database outage must not get every worker restarted)."""
        return JSONResponse({"status": "ok"})

    async def ready(_request: Request) -> Response:
        """Fit to take traffic: the database answers within `READY_TIMEOUT` and its schema is not behind this
        build's newest migration (a worker of a newer release waits until the migration has run; an older worker
        beside a newer schema stays in service during a rolling deploy). 503 with the reason otherwise."""
        try:
            async with asyncio.timeout(READY_TIMEOUT), (app.probe or app.engine).connect() as connection:
                await connection.execute(text("SELECT 1"))
                old = await behind(connection)
        except Exception:
            return JSONResponse({"status": "unavailable", "reason": "database_unreachable"}, status_code=503)
        if old:
            return JSONResponse({"status": "unavailable", "reason": "migrations_not_at_head"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        """Prometheus text: every worker's counters (multiprocess mode) and the outbox as the database has it now.
        With a metrics token set, only for its bearer: asked before the database is, so a stranger costs no query."""
        if not metrics_allowed(request.headers.get("authorization"), app.settings.metrics_token):
            return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        extra = []
        try:
            async with asyncio.timeout(READY_TIMEOUT), app.store.transaction() as repos:
                due, oldest = await app.outbox_due(repos)
            extra.append(prometheus.OutboxGauges(due, oldest))
        except Exception as exc:  # the database is down: the rest still tells the operator something
            log.warning("metrics_outbox_unreadable", error=type(exc).__name__)
        return Response(prometheus.exposition(extra), media_type=prometheus.CONTENT_TYPE)

    async def root(_request: Request) -> Response:
        if app.settings.simulator_on:
            return RedirectResponse("/simulator")
        return JSONResponse({"service": "aftercare-bot"})

    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/healthz", health),
        Route("/livez", live),
        Route("/readyz", ready),
        Route("/metrics", metrics),
        console.mount(app),
        *downloads.routes(app),
    ]
    if app.settings.simulator_on:
        routes += simulator_web.routes(app.simulator, app.simulator_labels, app.settings.http_host)
    if app.telegram is not None and app.settings.public_url:  # platform modules imported only when configured
        from bot.channels.telegram import webhook as telegram_webhook

        routes += telegram_webhook.routes(app.telegram, app.secrets.webhook_secret_for("telegram"))
    if app.zalo is not None and app.settings.public_url:
        from bot.channels.zalo import webhook as zalo_webhook

        routes += zalo_webhook.routes(app.zalo, app.secrets.webhook_secret_for("zalo"))
    return Starlette(routes=routes, middleware=[Middleware(Observe)])
