"""One scheduler tick: plan, then dispatch. `aftercare tick` runs it once; `aftercare run` runs it on a timer.

Each part runs only in the process that leads it (bot/scheduler/leader.py): one plans and one sends at a time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from bot.core.clock import Clock
from bot.core.liveness import Liveness
from bot.core.request_ids import request_scope
from bot.core.telemetry import NoTelemetry, Telemetry
from bot.db.store import Store
from bot.scheduler.budget import SendBudget
from bot.scheduler.dispatcher import Dispatcher, DispatchReport
from bot.scheduler.leader import PLAN_LOCK, SEND_LOCK, Locks, SoleProcess
from bot.scheduler.planner import Planner, PlanReport

log = structlog.get_logger(__name__)

# How long a new sender leaves the rows the one before it had leased: a live one that lost its lock connection finds
# out within the lock check's period and timeout (1 s + 5 s) and may be inside one platform call meanwhile.
TAKEOVER_GRACE = timedelta(seconds=20)

PLAN = "scheduler_plan"
DISPATCH = "scheduler_dispatch"


@dataclass
class TickReport:
    at: datetime
    plan: PlanReport
    dispatch: DispatchReport
    # parts another process leads, left to it (`aftercare tick` beside running processes): "plan", "send"
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        plan = {k: v for k, v in asdict(self.plan).items() if k != "extra"}
        out = {"at": self.at.isoformat(), "plan": plan, "dispatch": asdict(self.dispatch)}
        if self.skipped:
            out["skipped"] = {part: "another process leads it" for part in self.skipped}
        return out


class Scheduler:
    def __init__(
        self,
        planner: Planner,
        dispatcher: Dispatcher,
        clock: Clock,
        liveness: Liveness | None = None,
        locks: Locks | None = None,
        budget: SendBudget | None = None,
        store: Store | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.planner = planner
        self.dispatcher = dispatcher
        self._clock = clock
        self._liveness = liveness or Liveness(clock)
        self._telemetry = telemetry or NoTelemetry()
        self.locks: Locks = locks or SoleProcess()
        self.budget = budget
        self._store = store  # to take over a dead sender's leases (with `locks` on PostgreSQL)
        self._planning = False
        self._sending = False  # held the send lock at the last try (a new holder takes over what was in flight)
        self._stopping = False  # the process is stopping: no new batch, the one in hand is finished and closed
        self._runs = 0  # dispatch runs (timer, lane, tick) in progress here
        self._idle = asyncio.Event()
        self._idle.set()
        self._jobs: set[asyncio.Task[Any]] = set()  # the timer's plan and dispatch runs in progress here

    def may_send(self) -> bool:
        """False from the moment this process, having led sending, lost the send lock (its connection), until it
        tries again: a send still waiting for its turn is given back, not made."""
        return not self._sending or self.locks.holds(SEND_LOCK)

    async def plan(self) -> PlanReport:
        """The timer's *plan* job: `/healthz` (`PLAN`) sees it running from its start and a beat when it returns;
        in a process that does not lead planning, the run is a quick "standing by" (alive, not dead). Its log lines
        share one request id; a run that planned is the job's last-run time in the metrics (standing by is not)."""
        report = None
        with request_scope(), self._job(PLAN), self._liveness.run(PLAN):
            if not await self.locks.try_hold(PLAN_LOCK):
                self._planning = False
                return PlanReport()
            if not self._planning:
                self._planning = True
                log.info("planner_took_over")
            report = await self.planner.run()
        if report is None:  # stopped
            return PlanReport()
        self._telemetry.job_ran("plan")
        return report

    async def dispatch(self) -> DispatchReport:
        """The timer's *dispatch* job: `/healthz` (`DISPATCH`) sees it running from its start and a beat when it
        returns (a process that does not lead sending beats too: it stands by); like `plan`, one request id and a
        last-run time when it sent."""
        report = None
        with request_scope(), self._job(DISPATCH), self._liveness.run(DISPATCH):
            report = await self._send()
        if report is None:
            return DispatchReport()
        self._telemetry.job_ran("dispatch")
        return report

    @contextlib.contextmanager
    def _job(self, name: str) -> Iterator[None]:
        """A timer job's run, which `drain` cancels when the process stops and it has not finished: it then ends
        quietly (one log line, no traceback). Nothing is lost: a page of planning is one transaction, rolled back,
        and a batch cut short is leased, sent again by the next sender after the takeover grace."""
        task = asyncio.current_task()
        if task is not None:
            self._jobs.add(task)
        try:
            yield
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            if task is not None:
                task.uncancel()  # handled: the task ends normally
            log.info("scheduler_job_stopped", job=name)
        finally:
            self._jobs.discard(task)  # type: ignore[arg-type]

    async def urgent(self) -> DispatchReport | None:
        """The urgent lane's pass (woken by a NOTIFY): crisis alerts and conversations only, now, in the process
        that sends; elsewhere nothing."""
        if not self.locks.holds(SEND_LOCK):
            return None
        async with self._running():
            return await self.dispatcher.run(urgent_only=True, keep_going=self._leading)

    async def every_second(self) -> None:
        """This process's direct sends go to the shared counts; the process that sends checks its connection (a lost
        one drops its locks at once) and paces the outbox at what direct replies leave."""
        if self.budget is not None:
            await self.budget.flush()
        if not (self.locks.holds(SEND_LOCK) or self.locks.holds(PLAN_LOCK)):
            return
        if await self.locks.alive() and self.locks.holds(SEND_LOCK) and self.budget is not None:
            await self.budget.refresh()

    async def _send(self) -> DispatchReport | None:
        """None when another process sends, or this one is stopping."""
        if self._stopping:
            return None
        if not await self.locks.try_hold(SEND_LOCK):
            if self._sending:
                log.warning("outbox_sender_stepped_down")
            self._sending = False
            return None
        if not self._sending:
            self._sending = True
            if self.locks.exclusive and self._store is not None:  # no one else sends: leases left were a dead one's
                async with self._store.transaction() as repos:
                    released = await repos.outbox.release_leases(self._clock.now(), TAKEOVER_GRACE)
                log.info("outbox_sender_took_over", released=released)
        if self.budget is not None:
            await self.budget.refresh()
        async with self._running():
            return await self.dispatcher.run(keep_going=self._leading)

    def _leading(self) -> bool:
        """Asked before each batch: still the sender, and not stopping."""
        return not self._stopping and self.locks.holds(SEND_LOCK)

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        self._runs += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._runs -= 1
            if not self._runs:
                self._idle.set()

    async def drain(self, within: float) -> bool:
        """On stopping (SIGTERM, a rolling deploy), with the timer paused: no new batch; wait up to `within` seconds
        in all for the batches in hand to be sent and closed, so the next sender does not send them again; then
        cancel the timer's runs still going (a long planning run, a dispatch run not yet sending) before the
        database closes under them. True when every batch finished."""
        self._stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        finished = True
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            log.warning("outbox_drain_timed_out", runs=self._runs)
            finished = False
        jobs = [task for task in self._jobs if task is not asyncio.current_task()]
        for task in jobs:
            if not task.cancelling():  # one cancel: a second would cut the first one's rollback
                task.cancel()
        if jobs:  # the cancelled runs unwind (roll back) within what is left, and at least a second
            await asyncio.wait(jobs, timeout=max(deadline - loop.time(), 1.0))
        return finished

    async def tick(self, at: datetime | None = None) -> TickReport:
        """Everything due at `at` (default now): plan, then send; safe to run again or in parallel. Sending reads
        the clock for every batch, so leases and quiet hours follow real time during a long morning run. A part
        another process leads is skipped (and named in the report): never two senders at once."""
        at = at or self._clock.now()
        skipped = []
        with request_scope():
            if await self.locks.try_hold(PLAN_LOCK):
                plan = await self.planner.run(at)
            else:
                plan, skipped = PlanReport(), ["plan"]
            dispatch = await self._send()
        if dispatch is None:
            dispatch, skipped = DispatchReport(), [*skipped, "send"]
        return TickReport(at, plan, dispatch, skipped)
