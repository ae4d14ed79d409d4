"""compose.yaml and deploy/: what an operator copies must name real settings and expose nothing beyond the host.
(No YAML parser is a dependency and `docker compose` is not on every machine: these read the text.)"""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "compose.yaml").read_text()


def _uncommented(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_every_setting_compose_passes_exists() -> None:
    named = {name.lower() for name in re.findall(r"\bAFTERCARE_([A-Z_]+)\b", _uncommented(COMPOSE))}
    assert {"database_url", "encryption_key", "workers", "database_pooler"} <= named
    assert named <= set(Settings.model_fields)


def test_compose_runs_several_workers_postgres_sized_for_them_and_prometheus() -> None:
    text = _uncommented(COMPOSE)
    assert re.search(r"AFTERCARE_WORKERS: \$\{AFTERCARE_WORKERS:-\d+\}", text)
    assert "max_connections=" in text
    assert re.search(r"^  prometheus:\n    image: prom/prometheus$", text, re.MULTILINE)
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in text


def test_published_ports_are_bound_to_the_host_only() -> None:
    ports = re.findall(r'^\s+- "([^"]+)"$', _uncommented(COMPOSE), re.MULTILINE)
    published = [port for port in ports if re.fullmatch(r"[\d.]*:?\d+:\d+", port)]
    assert published and all(port.startswith("127.0.0.1:") for port in published)


def test_prometheus_scrapes_the_bots_metrics() -> None:
    scrape = (ROOT / "deploy" / "prometheus.yml").read_text()
    assert "metrics_path: /metrics" in scrape and '"bot:8080"' in scrape


def test_pgbouncer_example_is_in_transaction_mode() -> None:
    ini = (ROOT / "deploy" / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", ini, re.MULTILINE)
