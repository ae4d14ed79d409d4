"""What a load balancer and Prometheus ask the web app: /livez (the process), /readyz (the database and its
schema), /metrics (the outbox as the database has it now, requests by route template), and the request id every
response carries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Application
from bot.db.engine import make_session_factory
from bot.db.repositories.outbox import NewMessage
from bot.domain.planning import MessageKind
from bot.web.app import build_web
from tests.fakes.clock import FakeClock
from tests.support.console import BASE


@pytest.fixture
async def client(app: Application) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as http:
        yield http


def _values(scrape: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
    }


async def test_live_and_ready(client: httpx.AsyncClient) -> None:
    live = await client.get("/livez")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
    assert (await client.get("/healthz")).json()["database"] == "ok"  # unchanged beside them


async def test_not_ready_while_the_schema_is_behind_but_ready_beside_a_newer_one(
    app: Application, client: httpx.AsyncClient
) -> None:
    async with app.engine.begin() as connection:
        head = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f13b2c3d4e51'"))  # 0015: older
    try:
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            503, {"status": "unavailable", "reason": "migrations_not_at_head"},
        )  # fmt: skip
        assert (await client.get("/livez")).status_code == 200  # alive: restarting it would not help
        async with app.engine.begin() as connection:  # a newer release migrated first (a rolling deploy)
            await connection.execute(text("UPDATE alembic_version SET version_num = 'f99newer0000'"))
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})  # this worker stays in service meanwhile
    finally:
        async with app.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert (await client.get("/readyz")).status_code == 200


async def test_not_ready_without_the_database(app: Application, client: httpx.AsyncClient) -> None:
    probe = app.probe
    app.probe = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")  # nothing listens there
    try:
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "reason": "database_unreachable"})
        assert (await client.get("/livez")).status_code == 200
    finally:
        await app.probe.dispose()
        app.probe = probe


async def test_the_request_id_is_returned_and_a_sane_one_kept(client: httpx.AsyncClient) -> None:
    kept = await client.get("/livez", headers={"X-Request-ID": "lb-5f2c9e"})
    assert kept.headers["x-request-id"] == "lb-5f2c9e"
    fresh = [(await client.get("/livez", headers={"X-Request-ID": "<script>"})).headers["x-request-id"] for _ in "ab"]
    assert fresh[0] != fresh[1] and "<" not in fresh[0]
    assert (await client.get("/console/nowhere")).headers["x-request-id"]  # on a 404 too


async def test_metrics_read_the_outbox_and_label_routes_by_template(
    app: Application, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    now = clock.now()
    async with app.store.transaction() as repos:
        await repos.outbox.add(
            [
                NewMessage("m:old", MessageKind.DIGEST, now - timedelta(minutes=10)),
                NewMessage("m:recent", MessageKind.DIGEST, now - timedelta(seconds=30)),
                NewMessage("m:later", MessageKind.DIGEST, now + timedelta(hours=1)),  # not due: not counted
                NewMessage("m:gone", MessageKind.DIGEST, now - timedelta(hours=5)),
            ]
        )
        gone = await repos.outbox.by_key("m:gone")
        assert gone is not None and gone.id is not None
        await repos.outbox.cancel([gone.id], "test")  # closed: not waiting any more
        assert await repos.outbox.due(now) == (2, 600.0)
    await client.get("/livez")  # this test's own requests, whatever ran before it in the process
    await client.get("/console/people/987654")  # signed out: redirected, by a route with the id in its path
    await client.get("/console/static/app.css")
    await client.get("/webhook/nowhere/987654")
    scrape = await client.get("/metrics")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    values = _values(scrape.text)
    assert values[("aftercare_outbox_due_messages", ())] == 2
    assert values[("aftercare_outbox_oldest_due_age_seconds", ())] == 600
    counted = "aftercare_http_request_duration_seconds_count"
    routes = {dict(labels)["route"] for name, labels in values if name == counted}
    assert {"/livez", "/console/people/{participant_id}", "/console/static/{path}", "unmatched"} <= routes
    assert "987654" not in scrape.text


async def test_metrics_without_a_database_still_answer(app: Application, client: httpx.AsyncClient) -> None:
    broken = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    original = app.store._sessions  # a server nobody runs stands for an outage
    app.store._sessions = make_session_factory(broken)
    try:
        scrape = await client.get("/metrics")
    finally:
        app.store._sessions = original
        await broken.dispose()
    assert scrape.status_code == 200
    assert "aftercare_messages_sent_total" in scrape.text and "aftercare_outbox_due_messages" not in scrape.text


async def test_with_a_token_metrics_answer_only_its_bearer(
    app: Application, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "k7Rr-metrics-4f9a2c1e8b"
    monkeypatch.setattr(app.settings, "metrics_token", SecretStr(token))
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-of-some-length"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": "Bearer " + "a" * 10_000},
    ):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        assert "aftercare_" not in refused.text
    scrape = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scrape.status_code == 200 and "aftercare_outbox_due_messages" in scrape.text
    assert (await client.get("/livez")).status_code == 200  # probes stay open: they tell nothing
