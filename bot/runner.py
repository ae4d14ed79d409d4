"""`aftercare run`: migrations first, then the web server and the enabled channels, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
import uvloop

from bot.app import Application, build_application
from bot.config import Settings
from bot.core.liveness import Liveness
from bot.scheduler.jobs import background, build_jobs, counting, stop_jobs
from bot.scheduler.service import DISPATCH, PLAN
from bot.web.app import build_web

log = structlog.get_logger(__name__)


if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

# How long a poller may go without a poll that reached its platform: a few long polls (25 s Telegram, 30 s Zalo,
# plus their request timeouts) and a backoff or two.
# How long a stopping process waits for its outbox batch in hand (at 30/s, 100 messages take about 3.5 s; the
# supervisor and compose give a worker 25 s before they kill it).
DRAIN_SECONDS = 15.0
TELEGRAM_SILENCE = timedelta(minutes=2)
ZALO_SILENCE = timedelta(minutes=3)


@dataclass(frozen=True, slots=True)
class Worker:
    """Which of the `run --workers N` processes this one is. Only the first registers the channels' webhooks and
    command menus, and only it long-polls (two getUpdates on one bot conflict); every one serves the web app and
    the webhooks on the shared socket."""

    index: int = 0
    count: int = 1

    @property
    def first(self) -> bool:
        return self.index == 0


def liveness(app: Application) -> Liveness:
    if app.liveness is None:
        app.liveness = Liveness(app.clock)
    return app.liveness


async def start_channels(
    app: Application, stop: asyncio.Event, worker: Worker | None = None
) -> list[asyncio.Task[None]]:
    """Webhooks when a public URL is set, long polling otherwise. Returns the background tasks to await.

    Each channel has its own webhook secret (derived from AFTERCARE_WEBHOOK_SECRET) and registers its liveness:
    a webhook is alive while the web server answers, a poller while its task runs and its polls reach the platform.
    A worker other than the first only learns the bots' names (for invite links) and serves their webhooks."""
    worker = worker or Worker()
    tasks: list[asyncio.Task[None]] = []
    alive = liveness(app)
    if not worker.first:
        if app.telegram is not None:
            await app.telegram.identify()
        if app.zalo is not None:
            await app.zalo.identify()
        for name, channel in (("telegram", app.telegram), ("zalo", app.zalo)):
            if channel is not None and app.settings.public_url:
                alive.passive(name)
        return tasks
    if app.telegram is not None:  # the platform modules are imported only when their channel is configured
        from bot.channels.telegram import webhook as telegram_webhook
        from bot.channels.telegram.polling import TelegramPoller

        await app.telegram.prepare()
        if app.settings.public_url:
            secret = app.secrets.webhook_secret_for("telegram")
            await telegram_webhook.register(app.telegram, app.settings.public_url, secret)
            alive.passive("telegram")
            log.info("telegram_webhook_registered")
        else:
            alive.expect("telegram", within=TELEGRAM_SILENCE)
            poller = TelegramPoller(app.telegram, beat=lambda: alive.beat("telegram"))
            tasks.append(asyncio.create_task(poller.run(stop)))
            alive.watch("telegram", tasks[-1])
            log.info("telegram_polling")
    if app.zalo is not None:
        from bot.channels.zalo import webhook as zalo_webhook
        from bot.channels.zalo.polling import ZaloPoller

        await app.zalo.identify()
        if app.settings.public_url:
            await zalo_webhook.register(app.zalo, app.settings.public_url, app.secrets.webhook_secret_for("zalo"))
            alive.passive("zalo")
            log.info("zalo_webhook_registered")
        else:
            alive.expect("zalo", within=ZALO_SILENCE)
            zalo_poller = ZaloPoller(app.zalo, beat=lambda: alive.beat("zalo"))
            tasks.append(asyncio.create_task(zalo_poller.run(stop)))
            alive.watch("zalo", tasks[-1])
            log.info("zalo_polling")
    return tasks


def start_scheduler(app: Application) -> AsyncIOScheduler:
    """The plan and dispatch jobs on their timers. Between runs, each must complete one within a few of its intervals
    (at least two minutes, as a dispatch run may wait on rate limits), or `/healthz` reports it dead ("silent"); a run
    in progress is alive until it has taken `RUN_LIMIT` (then "stuck"). In a process that another one leads (many
    processes on PostgreSQL), a run is a quick "standing by" and beats all the same: a follower is not dead."""
    plan_every, dispatch_every = app.settings.plan_interval_seconds, app.settings.dispatch_interval_seconds
    alive = liveness(app)
    alive.expect(PLAN, within=timedelta(seconds=max(3 * plan_every, 120)), mode="timer")
    alive.expect(DISPATCH, within=timedelta(seconds=max(3 * dispatch_every, 120)), mode="timer")
    jobs = build_jobs(app.scheduler, plan_every, dispatch_every)
    jobs.start()
    return jobs


class PortBusy(RuntimeError):
    """The HTTP port cannot be bound (in use, or not allowed): said in one line, before anything claims to run."""


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the app is built: a busy port fails at once with `PortBusy`."""
    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise PortBusy(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def announce(settings: Settings) -> None:
    """The one line saying where the bot runs (a log event when logs are JSON)."""
    base = f"http://{settings.http_host}:{settings.http_port}"
    if settings.json_logs:  # every line a log collector reads is JSON
        log.info("running", url=base, simulator=f"{base}/simulator" if settings.simulator_on else None)
    elif settings.simulator_on:
        print(f"Đồng Hành is running. Chat simulator: {base}/simulator · console: {base}/console/", flush=True)
    else:
        print(f"Đồng Hành is running at {base} (simulator disabled).", flush=True)


def run_serving(main: Coroutine[Any, Any, None]) -> None:
    """`serve` on uvloop: asyncpg's statements, uvicorn's connections and the channels' HTTP calls all run on the
    loop, and uvloop's costs less CPU per request than the standard one (the webhooks' throughput)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


async def serve(settings: Settings, listener: socket.socket | None = None, worker: Worker | None = None) -> None:
    """Migrate (a no-op when the parent of `run --workers` already did), then serve until stopped. `listener`: a
    socket bound by that parent and shared by its workers; bound here when None."""
    worker = worker or Worker()
    listener = listener or listen(settings.http_host, settings.http_port)
    try:
        app = build_application(settings)
        if app.policies.crisis is not None:
            app.policies.crisis.ready()  # a malformed crisis data file stops the bot here, not at a person's message
    except BaseException:
        listener.close()
        raise
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    jobs = None
    try:
        await app.migrate()
        web = build_web(app)
        tasks = await start_channels(app, stop, worker)
        if settings.scheduler_enabled:
            tasks += await background(app.scheduler, stop)  # the urgent lane, the per-second pacing
            jobs = start_scheduler(app)
            log.info("scheduler_started")
        else:  # the replies this process sends still count against the bot's one rate, wherever the sender runs
            tasks.append(asyncio.create_task(counting(app.scheduler, stop)))
        if worker.count == 1:
            announce(settings)
        else:
            log.info("worker_started", worker=worker.index, pid=os.getpid())
        config = uvicorn.Config(
            web, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False
        )
        await uvicorn.Server(config).serve(sockets=[listener])
    finally:
        listener.close()
        if jobs is not None:
            await stop_jobs(jobs, app.scheduler, DRAIN_SECONDS)  # the batch in hand sent and closed first
        stop.set()  # pollers finish the batch in hand, confirm it, then return
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
        await app.aclose()
