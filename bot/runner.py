"""`aftercare run`: migrations first, then the web server and the enabled channels, until stopped."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
import uvicorn

from bot.app import Application, build_application
from bot.channels.telegram import webhook as telegram_webhook
from bot.channels.telegram.polling import TelegramPoller
from bot.channels.zalo import webhook as zalo_webhook
from bot.config import Settings
from bot.scheduler.jobs import build_jobs
from bot.web.app import build_web

log = structlog.get_logger(__name__)


async def start_channels(app: Application, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Webhooks when a public URL is set, long polling otherwise. Returns the background tasks to await."""
    tasks: list[asyncio.Task[None]] = []
    if app.telegram is not None:
        await app.telegram.prepare()
        if app.settings.public_url:
            await telegram_webhook.register(app.telegram, app.settings.public_url, app.secrets.webhook_secret)
            log.info("telegram_webhook_registered")
        else:
            tasks.append(asyncio.create_task(TelegramPoller(app.telegram).run(stop)))
            log.info("telegram_polling")
    if app.zalo is not None:
        await app.zalo.identify()
        if app.settings.public_url:
            await zalo_webhook.register(app.zalo, app.settings.public_url, app.secrets.webhook_secret)
            log.info("zalo_webhook_registered")
        else:
            tasks.append(asyncio.create_task(app.zalo.poll(stop)))
            log.info("zalo_polling")
    return tasks


async def serve(settings: Settings) -> None:
    app = build_application(settings)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    jobs = None
    try:
        await app.migrate()
        web = build_web(app)
        tasks = await start_channels(app, stop)
        if settings.scheduler_enabled:
            jobs = build_jobs(
                app.scheduler.planner,
                app.scheduler.dispatcher,
                settings.plan_interval_seconds,
                settings.dispatch_interval_seconds,
            )
            jobs.start()
            log.info("scheduler_started")
        base = f"http://{settings.http_host}:{settings.http_port}"
        if settings.simulator_on:
            print(f"Đồng Hành is running. Open the chat simulator at {base}/simulator", flush=True)
        else:
            print(f"Đồng Hành is running at {base} (simulator disabled).", flush=True)
        config = uvicorn.Config(
            web, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False
        )
        await uvicorn.Server(config).serve()
    finally:
        if jobs is not None:
            jobs.shutdown(wait=False)
        stop.set()  # pollers finish the batch in hand, confirm it, then return
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
        await app.aclose()
