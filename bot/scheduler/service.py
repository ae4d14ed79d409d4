"""One scheduler tick: plan, then dispatch. `aftercare tick` runs it once; `aftercare run` runs it on a timer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import Clock
from bot.core.liveness import Liveness
from bot.core.request_ids import request_scope
from bot.core.telemetry import NoTelemetry, Telemetry
from bot.scheduler.dispatcher import Dispatcher, DispatchReport
from bot.scheduler.planner import Planner, PlanReport

PLAN = "scheduler_plan"
DISPATCH = "scheduler_dispatch"


@dataclass
class TickReport:
    at: datetime
    plan: PlanReport
    dispatch: DispatchReport

    def as_dict(self) -> dict[str, Any]:
        plan = {k: v for k, v in asdict(self.plan).items() if k != "extra"}
        return {"at": self.at.isoformat(), "plan": plan, "dispatch": asdict(self.dispatch)}


class Scheduler:
    def __init__(
        self,
        planner: Planner,
        dispatcher: Dispatcher,
        clock: Clock,
        liveness: Liveness | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.planner = planner
        self.dispatcher = dispatcher
        self._clock = clock
        self._liveness = liveness or Liveness(clock)
        self._telemetry = telemetry or NoTelemetry()

    async def plan(self) -> PlanReport:
        """The timer's *plan* job: `/healthz` (`PLAN`) sees it running from its start and a beat when it returns;
        its log lines share one request id; a run that returns is the job's last-run time in the metrics."""
        with request_scope(), self._liveness.run(PLAN):
            report = await self.planner.run()
        self._telemetry.job_ran("plan")
        return report

    async def dispatch(self) -> DispatchReport:
        """The timer's *dispatch* job: `/healthz` (`DISPATCH`) sees it running from its start and a beat when it
        returns; like `plan`, one request id and a last-run time."""
        with request_scope(), self._liveness.run(DISPATCH):
            report = await self.dispatcher.run()
        self._telemetry.job_ran("dispatch")
        return report

    async def tick(self, at: datetime | None = None) -> TickReport:
        """Everything due at `at` (default now): plan, then send; safe to run again or in parallel. Sending reads
        the clock for every batch, so leases and quiet hours follow real time during a long morning run."""
        at = at or self._clock.now()
        with request_scope():
            plan = await self.planner.run(at)
            dispatch = await self.dispatcher.run()
        return TickReport(at, plan, dispatch)
