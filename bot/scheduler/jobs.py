"""The in-process timer inside `aftercare run`: APScheduler 3 runs *plan* and *dispatch* as short interval jobs.

The database is the source of truth, so the in-memory job store is enough: a restart loses no message. Each job
runs one at a time (`max_instances=1`), missed runs collapse into one (`coalesce`), and a late run still runs
(`misfire_grace_time`; APScheduler's default of 1 s would silently drop it).

Beside them, two tasks (`background`): the urgent lane, woken by a NOTIFY when a crisis alert or a conversation
message is queued, and a once-a-second loop that shares this process's direct-send counts, checks the leader's
connection and re-paces the outbox (bot/scheduler/leader.py, bot/scheduler/budget.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler.leader import URGENT_NOTIFY, UrgentLane
from bot.scheduler.service import Scheduler

log = structlog.get_logger(__name__)


def build_jobs(service: Scheduler, plan_every: float, dispatch_every: float) -> AsyncIOScheduler:
    """The jobs run through `service`, whose runs beat the liveness `/healthz` reports."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300, "next_run_time": datetime.now(UTC)}
    scheduler.add_job(service.plan, "interval", seconds=plan_every, id="plan", **common)
    scheduler.add_job(service.dispatch, "interval", seconds=dispatch_every, id="dispatch", **common)
    return scheduler


async def stop_jobs(jobs: AsyncIOScheduler, service: Scheduler, within: float) -> None:
    """Stop the timer without cutting a batch in hand: APScheduler's shutdown cancels the runs in progress, so first
    no new run (pause), then the service drains (batches sent and closed, runs still going ended quietly), and only
    then the shutdown."""
    jobs.pause()
    await service.drain(within)
    jobs.shutdown(wait=False)


async def background(service: Scheduler, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Start the urgent lane (listening now, so no NOTIFY after this returns is missed) and the per-second loop."""
    lane = UrgentLane(service.urgent)
    await service.locks.listen(URGENT_NOTIFY, lane.wake.set)
    return [asyncio.create_task(lane.run(stop)), asyncio.create_task(_every_second(service, stop))]


async def counting(service: Scheduler, stop: asyncio.Event) -> None:
    """In a process without the scheduler: only its direct sends go to the shared counts, once a second."""
    while not stop.is_set():
        try:
            if service.budget is not None:
                await service.budget.flush()
        except Exception as exc:  # the database away for a moment: the counts wait for the next second
            log.warning("direct_send_flush_failed", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _every_second(service: Scheduler, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await service.every_second()
        except Exception as exc:  # the database away for a moment: the counts wait for the next second
            log.warning("scheduler_every_second_failed", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
