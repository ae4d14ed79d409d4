"""Stopping the process while a timer job runs: `drain` waits for the batch in hand, then cancels what is still
going (a long planning run, a dispatch run not yet sending), and such a run ends quietly, with one log line and no
traceback, so a rolling deploy does not page anyone. A cancellation that is not a stop still propagates."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
from structlog.testing import capture_logs

from bot.scheduler.budget import SendBudget
from bot.scheduler.dispatcher import Dispatcher, DispatchReport
from bot.scheduler.jobs import build_jobs, stop_jobs
from bot.scheduler.planner import Planner, PlanReport
from bot.scheduler.service import Scheduler
from tests.fakes.clock import FakeClock


class Stuck:
    """A planner, dispatcher or send budget whose work never ends by itself (a query on a slow database)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.runs = 0

    async def run(self, at: Any = None, **_options: Any) -> Any:
        self.runs += 1
        self.entered.set()
        await asyncio.Event().wait()

    async def refresh(self) -> None:
        await self.run()


class Quick:
    def __init__(self) -> None:
        self.runs = 0

    async def run(self, at: Any = None, **_options: Any) -> DispatchReport:
        self.runs += 1
        return DispatchReport(sent=1)


async def test_a_planning_run_cut_by_the_stop_ends_quietly() -> None:
    planner = Stuck()
    service = Scheduler(cast(Planner, planner), cast(Dispatcher, Quick()), FakeClock())
    job = asyncio.create_task(service.plan())
    await asyncio.wait_for(planner.entered.wait(), 5)
    with capture_logs() as logged:
        assert await service.drain(within=1) is True  # no batch was in hand
    assert job.done() and not job.cancelled()
    assert job.result() == PlanReport()
    assert [e for e in logged if e["event"] == "scheduler_job_stopped"] == [
        {"event": "scheduler_job_stopped", "job": "scheduler_plan", "log_level": "info"}
    ]


async def test_a_dispatch_run_waiting_on_the_budget_is_cancelled_before_it_sends() -> None:
    budget, dispatcher = Stuck(), Quick()
    service = Scheduler(
        cast(Planner, Quick()), cast(Dispatcher, dispatcher), FakeClock(), budget=cast(SendBudget, budget)
    )
    job = asyncio.create_task(service.dispatch())
    await asyncio.wait_for(budget.entered.wait(), 5)
    assert await service.drain(within=1) is True
    assert job.result() == DispatchReport() and dispatcher.runs == 0


async def test_a_batch_in_hand_is_waited_for_and_a_cancel_without_a_stop_still_propagates() -> None:
    release, sending = asyncio.Event(), asyncio.Event()

    class Sending:
        async def run(self, at: Any = None, **_options: Any) -> DispatchReport:
            sending.set()
            await release.wait()
            return DispatchReport(sent=3)

    dispatcher = Sending()
    service = Scheduler(cast(Planner, Quick()), cast(Dispatcher, dispatcher), FakeClock())
    job = asyncio.create_task(service.dispatch())
    await asyncio.wait_for(sending.wait(), 5)
    asyncio.get_running_loop().call_soon(release.set)
    assert await service.drain(within=5) is True
    assert job.result() == DispatchReport(sent=3)  # finished and closed, not cut

    planner = Stuck()
    other = Scheduler(cast(Planner, planner), cast(Dispatcher, Quick()), FakeClock())
    running = asyncio.create_task(other.plan())
    await asyncio.wait_for(planner.entered.wait(), 5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_a_batch_that_outlasts_the_drain_is_cut_and_reported() -> None:
    dispatcher = Stuck()
    service = Scheduler(cast(Planner, Quick()), cast(Dispatcher, dispatcher), FakeClock())
    job = asyncio.create_task(service.dispatch())
    await asyncio.wait_for(dispatcher.entered.wait(), 5)
    with capture_logs() as logged:
        assert await service.drain(within=0.05) is False
    assert job.result() == DispatchReport()
    assert [e["event"] for e in logged] == ["outbox_drain_timed_out", "scheduler_job_stopped"]


async def test_stopping_the_timer_lets_the_batch_in_hand_finish(caplog: pytest.LogCaptureFixture) -> None:
    """Through APScheduler itself, whose shutdown cancels the runs in progress: the stop pauses it, drains, and only
    then shuts it down, so a batch being sent is finished and closed, and nothing is logged as an error."""
    release, sending, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    class Sending:
        async def run(self, at: Any = None, **_options: Any) -> DispatchReport:
            sending.set()
            await release.wait()
            finished.set()
            return DispatchReport(sent=3)

    service = Scheduler(cast(Planner, Quick()), cast(Dispatcher, Sending()), FakeClock())
    jobs = build_jobs(service, plan_every=3600, dispatch_every=3600)  # both run once, at once
    jobs.start()
    await asyncio.wait_for(sending.wait(), 5)
    asyncio.get_running_loop().call_later(0.05, release.set)
    with caplog.at_level(logging.WARNING):
        await stop_jobs(jobs, service, within=5)
        await asyncio.sleep(0)  # APScheduler's shutdown runs on the loop's next turn
    assert finished.is_set()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
