"""The core's `Telemetry` port, filled with this process's Prometheus metrics.

prometheus_client costs ~0.1 s to import; a short command (`aftercare unit list`, a cron `tick` with nothing to do)
never pays it: the metrics module is imported at the first observation."""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from types import ModuleType


def _metrics() -> ModuleType:
    from bot.observability import metrics

    return metrics


class PrometheusTelemetry:
    def dispatched(self, results: Iterable[tuple[str, str, str]]) -> None:
        counter = _metrics().MESSAGES
        for channel, kind, outcome in results:
            counter.labels(channel, kind, outcome).inc()

    def sending(self, channel: str) -> AbstractContextManager[object]:
        return _metrics().SEND_SECONDS.labels(channel).time()  # type: ignore[no-any-return]

    def job_ran(self, job: str) -> None:
        _metrics().JOB_LAST_RUN.labels(job).set(time.time())

    def crisis_answered(self, seconds: float) -> None:
        _metrics().CRISIS_ANSWER_SECONDS.observe(max(0.0, seconds))
