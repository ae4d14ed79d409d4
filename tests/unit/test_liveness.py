"""/healthz liveness of the scheduler jobs on the injected clock: a run in progress is not silence (a slow plan run is
"ok" with its duration until the much larger stuck bound), a stopped job is silent, a failing run never beats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest

from bot.core.liveness import RUN_LIMIT, Liveness
from bot.scheduler.dispatcher import Dispatcher
from bot.scheduler.planner import Planner
from bot.scheduler.service import DISPATCH, PLAN, Scheduler
from tests.fakes.clock import FakeClock


class SlowPlanner:
    """A plan run that lasts until the test lets it end (a big seal, a daily purge, a large commune)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.finish = asyncio.Event()
        self.fail = False

    async def run(self, at: Any = None) -> str:
        self.started.set()
        await self.finish.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        return "planned"


class QuickDispatcher:
    async def run(self, **_: object) -> str:
        return "sent"


def _scheduler(clock: FakeClock) -> tuple[Scheduler, SlowPlanner, Liveness]:
    alive = Liveness(clock)
    alive.expect(PLAN, within=timedelta(minutes=3), mode="timer")  # the runner's max(3 × 60 s, 120 s)
    alive.expect(DISPATCH, within=timedelta(minutes=2), mode="timer")
    planner = SlowPlanner()
    service = Scheduler(cast(Planner, planner), cast(Dispatcher, QuickDispatcher()), clock, alive)
    return service, planner, alive


async def test_a_plan_run_longer_than_the_silence_limit_is_alive_with_its_duration() -> None:
    clock = FakeClock()
    service, planner, alive = _scheduler(clock)
    run = asyncio.create_task(service.plan())
    await planner.started.wait()
    clock.advance(minutes=10)  # more than three times the interval: the old registry said "silent" (503)
    healthy, components = alive.report()
    assert components[PLAN] == {"status": "ok", "mode": "timer", "running_seconds": 600}
    assert not healthy and components[DISPATCH]["reason"] == "silent"  # the dispatch job never ran: still watched

    assert await service.dispatch() == "sent"
    clock.advance(minutes=4)  # 14 minutes into the plan run: still within the stuck bound
    assert alive.report()[1][PLAN] == {"status": "ok", "mode": "timer", "running_seconds": 840}
    planner.finish.set()
    assert await run == "planned"
    components = alive.report()[1]
    assert components[PLAN] == {"status": "ok", "mode": "timer", "last_beat_seconds_ago": 0}  # the end beat
    clock.advance(minutes=3, seconds=1)  # then silence counts from the end of the run
    assert alive.report()[1][PLAN]["reason"] == "silent"


async def test_a_run_past_the_stuck_bound_is_dead() -> None:
    clock = FakeClock()
    service, planner, alive = _scheduler(clock)
    run = asyncio.create_task(service.plan())
    await planner.started.wait()
    clock.advance(seconds=RUN_LIMIT.total_seconds())
    assert alive.report()[1][PLAN]["status"] == "ok"
    clock.advance(seconds=1)
    healthy, components = alive.report()
    assert not healthy
    assert components[PLAN] == {"status": "dead", "mode": "timer", "reason": "stuck", "running_seconds": 901}
    planner.finish.set()
    await run
    assert alive.report()[1][PLAN] == {"status": "ok", "mode": "timer", "last_beat_seconds_ago": 0}


async def test_a_failing_run_does_not_beat() -> None:
    clock = FakeClock()
    service, planner, alive = _scheduler(clock)
    planner.finish.set()
    await service.plan()  # one good run
    clock.advance(minutes=1)
    planner.fail = True
    with pytest.raises(RuntimeError):
        await service.plan()
    components = alive.report()[1]
    assert components[PLAN] == {
        "status": "ok",
        "mode": "timer",
        "last_beat_seconds_ago": 60,
        "last_run_failed_seconds_ago": 0,
    }
    clock.advance(minutes=2, seconds=1)  # runs keep failing: three minutes without a completed run
    assert alive.report()[1][PLAN]["reason"] == "silent"


def test_an_unregistered_run_is_ignored() -> None:
    alive = Liveness(FakeClock())
    with alive.run("nobody"):
        pass
    assert alive.report() == (True, {})
