"""Every Prometheus metric the service exposes, in this one module, and how a scrape is built.

Metric objects are module-level by nature: prometheus_client keeps their values in the process (in multiprocess
mode, in files under PROMETHEUS_MULTIPROC_DIR, one set per process), and two objects of one name would count apart.
So they are created once here, registered nowhere, and each scrape builds its own registry (`registry`):

- one process (no PROMETHEUS_MULTIPROC_DIR): the metric objects below, plus the collectors the caller passes;
- several (`aftercare run --workers N` sets PROMETHEUS_MULTIPROC_DIR for its children, before they import
  prometheus_client, which chooses how to store values at import time): a `MultiProcessCollector` that sums the files
  of every worker, plus the caller's collectors. Collectors that read the database (`OutboxGauges`) are registered
  on that per-scrape registry, never globally: in multiprocess mode a custom collector only works there.

Labels are fixed vocabularies: channels, message kinds, outcomes, error codes, job names, route templates. Never an
id, a name, a chat id or a raw path. `NAMES` pins the set; tests/unit/test_metrics_names.py checks it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# No `*_created` series: multiprocess mode has none, so one process and many expose the same names.
disable_created_metrics()

MESSAGES = Counter(
    "aftercare_messages_sent_total",
    "Outbox messages the dispatcher handled, by channel, kind and outcome (sent, retry, refund, held, cancelled, "
    "unreachable, dead).",
    ["channel", "kind", "outcome"],
    registry=None,
)
PLATFORM_ERRORS = Counter(
    "aftercare_platform_errors_total",
    "Errors answered by a messaging platform (or the network to it), by channel and code "
    "(400, 401, 403, 404, 409, 413, 429, 5xx, network, other).",
    ["channel", "code"],
    registry=None,
)
SEND_SECONDS = Histogram(
    "aftercare_send_duration_seconds",
    "How long one platform call sending an outbox message took, by channel (failures included).",
    ["channel"],
    registry=None,
)
CRISIS_ANSWER_SECONDS = Histogram(
    "aftercare_crisis_first_answer_seconds",
    "From a crisis alert being raised to its first human answer (a counsellor taking or answering the urgent "
    "referral, or staff acknowledging the alert).",
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, float("inf")),
    registry=None,
)
JOB_LAST_RUN = Gauge(
    "aftercare_scheduler_job_last_run_timestamp_seconds",
    "When a scheduler job last finished a run (Unix time), by job; the newest of all processes.",
    ["job"],
    multiprocess_mode="max",
    registry=None,
)
HTTP_SECONDS = Histogram(
    "aftercare_http_request_duration_seconds",
    "HTTP requests by method, route template (never the raw path) and status code.",
    ["method", "route", "status"],
    registry=None,
)
OUTBOX_DUE = "aftercare_outbox_due_messages"
OUTBOX_OLDEST = "aftercare_outbox_oldest_due_age_seconds"

# Every metric name (as exposed; counters add `_total`, histograms their series) and its labels: pinned by a test.
NAMES: dict[str, tuple[str, ...]] = {
    "aftercare_messages_sent_total": ("channel", "kind", "outcome"),
    "aftercare_platform_errors_total": ("channel", "code"),
    "aftercare_send_duration_seconds": ("channel",),
    "aftercare_crisis_first_answer_seconds": (),
    "aftercare_scheduler_job_last_run_timestamp_seconds": ("job",),
    "aftercare_http_request_duration_seconds": ("method", "route", "status"),
    OUTBOX_DUE: (),
    OUTBOX_OLDEST: (),
}
_OWN = (MESSAGES, PLATFORM_ERRORS, SEND_SECONDS, CRISIS_ANSWER_SECONDS, JOB_LAST_RUN, HTTP_SECONDS)

# Platform error codes kept as they are; any other 4xx is "other", any 5xx "5xx" (a bounded label set).
_CODES = frozenset({400, 401, 403, 404, 409, 413, 429})


def error_code(status: int | None) -> str:
    """The label for a platform's answer: a known 4xx as its number, 5xx, `network` (no answer: None), `other`."""
    if status is None:
        return "network"
    if status >= 500:
        return "5xx"
    return str(status) if status in _CODES else "other"


def platform_error(channel: str, status: int | None) -> None:
    PLATFORM_ERRORS.labels(channel, error_code(status)).inc()


@dataclass(frozen=True, slots=True)
class OutboxGauges(Collector):
    """The outbox's backlog as read from the database for this scrape: messages due and not yet sent, and how long
    the oldest of them has waited (0 when none). Absent from a scrape whose query failed."""

    due: int
    oldest_seconds: float | None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(OUTBOX_DUE, "Outbox messages due now and not yet sent (pending).", value=self.due)
        yield GaugeMetricFamily(
            OUTBOX_OLDEST,
            "How long the oldest outbox message due now has been waiting, in seconds (0 when none).",
            value=self.oldest_seconds or 0.0,
        )


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A registry for one scrape: every worker's metrics in multiprocess mode (summed), this process's otherwise,
    and `extra` (collectors that read the database now)."""
    built = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is not None:
        MultiProcessCollector(built, directory)
    else:
        for metric in _OWN:
            built.register(metric)
    for collector in extra:
        built.register(collector)
    return built


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text a scrape returns."""
    return generate_latest(registry(extra))
