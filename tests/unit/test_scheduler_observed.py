"""A scheduler run as the operator sees it: every log line of one run carries that run's request id (another run,
another id), and a run that returns is the job's last-run time; one that fails is not."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast

import pytest
import structlog

from bot.scheduler.dispatcher import Dispatcher
from bot.scheduler.planner import Planner
from bot.scheduler.service import Scheduler
from tests.fakes.clock import FakeClock


class Recorded:
    def __init__(self) -> None:
        self.jobs: list[str] = []

    def dispatched(self, results: Iterable[tuple[str, str, str]]) -> None:
        pass

    def sending(self, channel: str) -> AbstractContextManager[object]:
        return nullcontext()

    def job_ran(self, job: str) -> None:
        self.jobs.append(job)

    def crisis_answered(self, seconds: float) -> None:
        pass


class Seen:
    """A planner or dispatcher that notes the request id its log lines would carry."""

    def __init__(self) -> None:
        self.ids: list[str | None] = []
        self.fail = False

    async def run(self, at: Any = None, **_options: Any) -> str:
        self.ids.append(structlog.contextvars.get_contextvars().get("request_id"))
        if self.fail:
            raise RuntimeError("the database went away")
        return "done"


async def test_each_run_has_its_own_request_id_and_a_last_run_time() -> None:
    planner, dispatcher, recorded = Seen(), Seen(), Recorded()
    service = Scheduler(cast(Planner, planner), cast(Dispatcher, dispatcher), FakeClock(), telemetry=recorded)
    await service.plan()
    await service.dispatch()
    await service.dispatch()
    await service.tick()
    assert all(planner.ids) and all(dispatcher.ids)
    assert len({*planner.ids, *dispatcher.ids}) == 4  # plan, dispatch, dispatch, and one for the whole tick
    assert planner.ids[1] == dispatcher.ids[2]
    assert "request_id" not in structlog.contextvars.get_contextvars()  # nothing left bound after a run
    assert recorded.jobs == ["plan", "dispatch", "dispatch"]
    planner.fail = True
    with pytest.raises(RuntimeError):
        await service.plan()
    assert recorded.jobs == ["plan", "dispatch", "dispatch"]
