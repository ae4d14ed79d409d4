"""Liveness of the background work `/healthz` cannot see by itself: pollers and scheduler jobs.

Each component is registered when it starts (with how long it may stay silent) and beats, on the injected clock,
whenever it completes a unit of work: a poll that reached the platform, a plan or dispatch run. A component is dead
when its task ended or it has been silent for longer than allowed; a webhook channel has no task of its own and is
alive as long as the web server answers. The registry is created once in the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.clock import Clock


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


class Liveness:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._components: dict[str, _Component] = {}

    def expect(self, name: str, *, within: timedelta, mode: str = "polling", task: Running | None = None) -> None:
        """`name` must beat at least once every `within` (counted from now until its first beat)."""
        self._components[name] = _Component(mode, self._clock.now(), within, task)

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

    def report(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """(all alive, per component: status "ok" or "dead", mode, why and seconds since the last beat)."""
        now = self._clock.now()
        healthy = True
        out: dict[str, dict[str, Any]] = {}
        for name, component in sorted(self._components.items()):
            entry: dict[str, Any] = {"status": "ok", "mode": component.mode}
            if component.last is not None:
                entry["last_beat_seconds_ago"] = round((now - component.last).total_seconds())
            if component.task is not None and component.task.done():
                entry |= {"status": "dead", "reason": "stopped"}
            elif component.silent_for is not None and now - (component.last or component.since) > component.silent_for:
                entry |= {"status": "dead", "reason": "silent"}
            healthy = healthy and entry["status"] == "ok"
            out[name] = entry
        return healthy, out
