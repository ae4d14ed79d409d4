"""The in-process timer inside `aftercare run`: APScheduler 3 runs *plan* and *dispatch* as short interval jobs.

The database is the source of truth, so the in-memory job store is enough: a restart loses no message. Each job
runs one at a time (`max_instances=1`), missed runs collapse into one (`coalesce`), and a late run still runs
(`misfire_grace_time`; APScheduler's default of 1 s would silently drop it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler.service import Scheduler


def build_jobs(service: Scheduler, plan_every: float, dispatch_every: float) -> AsyncIOScheduler:
    """The jobs run through `service`, whose runs beat the liveness `/healthz` reports."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300, "next_run_time": datetime.now(UTC)}
    scheduler.add_job(service.plan, "interval", seconds=plan_every, id="plan", **common)
    scheduler.add_job(service.dispatch, "interval", seconds=dispatch_every, id="dispatch", **common)
    return scheduler
