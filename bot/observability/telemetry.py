"""The core's `Telemetry` port, filled with this process's Prometheus metrics.

prometheus_client costs ~0.1 s to import; a short command (`aftercare unit list`, a cron `tick` with nothing to do)
never pays it: the metrics module is imported at the first observation.

A metric that cannot be written (in multiprocess mode, a PROMETHEUS_MULTIPROC_DIR missing or not writable) must never
stop a message or a reply: every observation is guarded, and the failure is logged once per process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from functools import wraps
from types import ModuleType
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_warned: set[str] = set()


def _guarded(fallback: Callable[[], Any] = lambda: None) -> Callable[[F], F]:
    def decorate(method: F) -> F:
        @wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                if method.__name__ not in _warned:
                    _warned.add(method.__name__)
                    log.warning("metrics_unwritable", observation=method.__name__, error=type(exc).__name__)
                return fallback()

        return guarded  # type: ignore[return-value]

    return decorate


def _metrics() -> ModuleType:
    from bot.observability import metrics

    return metrics


class PrometheusTelemetry:
    @_guarded()
    def dispatched(self, results: Iterable[tuple[str, str, str]]) -> None:
        counter = _metrics().MESSAGES
        for channel, kind, outcome in results:
            counter.labels(channel, kind, outcome).inc()

    @_guarded(nullcontext)
    def sending(self, channel: str) -> AbstractContextManager[object]:
        return _metrics().SEND_SECONDS.labels(channel).time()  # type: ignore[no-any-return]

    @_guarded()
    def job_ran(self, job: str) -> None:
        _metrics().JOB_LAST_RUN.labels(job).set(time.time())

    @_guarded()
    def crisis_answered(self, seconds: float) -> None:
        _metrics().CRISIS_ANSWER_SECONDS.observe(max(0.0, seconds))
