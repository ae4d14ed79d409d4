"""What the core tells the operator while it works: a port the composition root fills with Prometheus metrics
(bot/observability), and a no-op for tests and short commands that build their own pieces.

Labels the core passes are fixed vocabularies (a channel name, a message kind, an outcome, a job name): never an id,
a name or anything else about a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol


class Telemetry(Protocol):
    def dispatched(self, results: Iterable[tuple[str, str, str]]) -> None:
        """Outbox messages handled by one batch, each as (channel, kind, outcome)."""

    def sending(self, channel: str) -> AbstractContextManager[object]:
        """Times one call to the platform that sends a message (the block it wraps)."""

    def job_ran(self, job: str) -> None:
        """A scheduler job finished a run now."""

    def crisis_answered(self, seconds: float) -> None:
        """A crisis message got its first human answer, `seconds` after it was raised."""


class NoTelemetry:
    """Records nothing."""

    def dispatched(self, results: Iterable[tuple[str, str, str]]) -> None:
        pass

    def sending(self, channel: str) -> AbstractContextManager[object]:
        return nullcontext()

    def job_ran(self, job: str) -> None:
        pass

    def crisis_answered(self, seconds: float) -> None:
        pass
