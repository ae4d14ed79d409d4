"""Liveness of the background work `/healthz` cannot see by itself: pollers and scheduler jobs.

Each component is registered when it starts (with how long it may stay silent) and beats, on the injected clock,
whenever it completes a unit of work: a poll that reached the platform, a plan or dispatch run. A component is dead
when its task ended or it has been silent for longer than allowed; a webhook channel has no task of its own and is
alive as long as the web server answers. The registry is created once in the composition root.

A scheduler job says when a run starts and when it ends (`run`): a run in progress is not silence (a big seal, a
daily purge or a large commune can take minutes), so it is reported "ok" with how long it has been running, and dead
("stuck") only past a much larger bound. A run that fails does not beat: failing runs end up "silent".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.clock import Clock

# How long one run may take before it counts as stuck (a hung query, a lock never released): far above any normal
# run, so a slow but working job is never reported dead.
RUN_LIMIT = timedelta(minutes=15)


class Running(Protocol):
    """What the registry needs of a task (an asyncio.Task fits)."""

    def done(self) -> bool: ...


@dataclass
class _Component:
    mode: str
    since: datetime
    silent_for: timedelta | None = None  # None: nothing to wait for (webhook mode)
    task: Running | None = None
    last: datetime | None = None
    run_limit: timedelta = RUN_LIMIT
    running_since: datetime | None = None  # a run started and has not ended yet
    failed_at: datetime | None = None  # the last run that raised


class Liveness:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._components: dict[str, _Component] = {}

    def expect(
        self,
        name: str,
        *,
        within: timedelta,
        mode: str = "polling",
        task: Running | None = None,
        run_limit: timedelta = RUN_LIMIT,
    ) -> None:
        """`name` must beat at least once every `within` (counted from now until its first beat); a run it reports
        through `run` may last up to `run_limit` however long it has been since the last beat."""
        self._components[name] = _Component(mode, self._clock.now(), within, task, run_limit=run_limit)

    def watch(self, name: str, task: Running) -> None:
        """The task doing `name`'s work: once it has ended, the component is dead whatever its last beat."""
        self._components[name].task = task

    def passive(self, name: str, mode: str = "webhook") -> None:
        """A component the platform drives (webhooks): alive while the web server answers."""
        self._components[name] = _Component(mode, self._clock.now())

    def beat(self, name: str) -> None:
        component = self._components.get(name)
        if component is not None:
            component.last = self._clock.now()

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        """One run of `name`'s work: "running since" from the start, a beat when it returns, none when it raises."""
        component = self._components.get(name)
        if component is None:
            yield
            return
        component.running_since = self._clock.now()
        try:
            yield
        except BaseException:
            component.failed_at = self._clock.now()
            raise
        else:
            component.last = self._clock.now()
        finally:
            component.running_since = None

    def report(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """(all alive, per component: status "ok" or "dead", mode, why, seconds since the last beat, and for a run
        in progress how long it has been running)."""
        now = self._clock.now()
        healthy = True
        out: dict[str, dict[str, Any]] = {}
        for name, component in sorted(self._components.items()):
            entry: dict[str, Any] = {"status": "ok", "mode": component.mode}
            if component.last is not None:
                entry["last_beat_seconds_ago"] = round((now - component.last).total_seconds())
            if component.failed_at is not None and (component.last is None or component.failed_at > component.last):
                entry["last_run_failed_seconds_ago"] = round((now - component.failed_at).total_seconds())
            if component.running_since is not None:
                entry["running_seconds"] = round((now - component.running_since).total_seconds())
            if component.task is not None and component.task.done():
                entry |= {"status": "dead", "reason": "stopped"}
            elif component.running_since is not None:
                if now - component.running_since > component.run_limit:
                    entry |= {"status": "dead", "reason": "stuck"}
            elif component.silent_for is not None and now - (component.last or component.since) > component.silent_for:
                entry |= {"status": "dead", "reason": "silent"}
            healthy = healthy and entry["status"] == "ok"
            out[name] = entry
        return healthy, out
