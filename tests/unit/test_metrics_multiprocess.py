"""Several worker processes, one scrape: with PROMETHEUS_MULTIPROC_DIR set (as `aftercare run --workers N` sets it
for its children), each process writes its metrics to files there and any process's /metrics sums them.

prometheus_client chooses how it stores values when it is first imported, from that variable: so each side runs in
its own Python process here, as in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys
from bot.observability import metrics
from bot.observability.telemetry import PrometheusTelemetry
telemetry = PrometheusTelemetry()
count, stamp = int(sys.argv[1]), float(sys.argv[2])
telemetry.dispatched([("telegram", "reminder", "sent")] * count)
telemetry.crisis_answered(90.0)
metrics.platform_error("telegram", 429)
metrics.JOB_LAST_RUN.labels("dispatch").set(stamp)
"""

SCRAPE = """
import sys
from bot.observability import metrics
sys.stdout.write(metrics.exposition([metrics.OutboxGauges(5, 12.0)]).decode())
"""


def _python(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_one_scrape_sums_every_worker(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(WORKER, env, "3", "1700000000")
    _python(WORKER, env, "4", "1700000600")
    assert len(list(tmp_path.glob("*.db"))) >= 2  # each process its own files
    samples = _samples(_python(SCRAPE, env))
    sent = (("channel", "telegram"), ("kind", "reminder"), ("outcome", "sent"))
    assert samples[("aftercare_messages_sent_total", sent)] == 7
    assert samples[("aftercare_platform_errors_total", (("channel", "telegram"), ("code", "429")))] == 2
    assert samples[("aftercare_crisis_first_answer_seconds_count", ())] == 2
    assert samples[("aftercare_crisis_first_answer_seconds_sum", ())] == 180
    # The newest run of any process (multiprocess_mode="max"), one series: no per-process `pid` label.
    assert samples[("aftercare_scheduler_job_last_run_timestamp_seconds", (("job", "dispatch"),))] == 1700000600
    assert samples[("aftercare_outbox_due_messages", ())] == 5  # read at scrape time, registered per scrape
    assert not any("pid" in dict(labels) for _, labels in samples)


def test_without_the_directory_a_process_reports_its_own(tmp_path: Path) -> None:
    env = {**os.environ}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    samples = _samples(_python(WORKER + SCRAPE, env, "2", "1700000000"))
    sent = (("channel", "telegram"), ("kind", "reminder"), ("outcome", "sent"))
    assert samples[("aftercare_messages_sent_total", sent)] == 2
    assert list(tmp_path.iterdir()) == []
