"""The metrics an operator's dashboards and alerts are written against: their names and label names are pinned
here (a rename breaks someone's alerting), and label values come from fixed vocabularies, never a person's data."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.observability import metrics
from bot.observability.telemetry import PrometheusTelemetry

PINNED = {
    "aftercare_messages_sent_total": {"channel", "kind", "outcome"},
    "aftercare_platform_errors_total": {"channel", "code"},
    "aftercare_send_duration_seconds": {"channel"},
    "aftercare_crisis_first_answer_seconds": set(),
    "aftercare_scheduler_job_last_run_timestamp_seconds": {"job"},
    "aftercare_http_request_duration_seconds": {"method", "route", "status"},
    "aftercare_outbox_due_messages": set(),
    "aftercare_outbox_oldest_due_age_seconds": set(),
}


def _exposed() -> dict[str, set[str]]:
    """Each exposed metric (counters with `_total`, histograms by their base name) and the labels of its samples."""
    text = metrics.exposition([metrics.OutboxGauges(2, 31.5)]).decode()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = found.setdefault(name, set())
        for sample in family.samples:
            labels |= set(sample.labels) - {"le"}
    return found


def test_the_names_and_labels_are_pinned() -> None:
    telemetry = PrometheusTelemetry()  # every metric observed once, through the paths the service uses
    telemetry.dispatched([("telegram", "reminder", "sent")])
    with telemetry.sending("telegram"):
        pass
    telemetry.job_ran("plan")
    telemetry.crisis_answered(42.0)
    metrics.platform_error("zalo", 429)
    metrics.HTTP_SECONDS.labels("GET", "/livez", "200").observe(0.001)
    assert _exposed() == PINNED
    assert {name: set(labels) for name, labels in metrics.NAMES.items()} == PINNED
    assert all(name.startswith("aftercare_") for name in PINNED)


def test_platform_error_codes_are_a_closed_set() -> None:
    assert [metrics.error_code(code) for code in (429, 403, 400, 401, 404, 409, 413)] == [
        "429", "403", "400", "401", "404", "409", "413",
    ]  # fmt: skip
    assert [metrics.error_code(code) for code in (500, 502, 599, None, 418, 0)] == [
        "5xx", "5xx", "5xx", "network", "other", "other",
    ]  # fmt: skip


def test_the_outbox_gauges_say_zero_when_nothing_is_due() -> None:
    text = metrics.exposition([metrics.OutboxGauges(0, None)]).decode()
    assert "aftercare_outbox_due_messages 0.0" in text
    assert "aftercare_outbox_oldest_due_age_seconds 0.0" in text
