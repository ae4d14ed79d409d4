"""The simulator shows messages the bot starts itself (reminders later) next to the conversation."""

from __future__ import annotations

import httpx
import pytest

from bot.app import Application, build_application
from bot.config import Settings
from bot.core.messages import Button, OutboundMessage
from bot.web.app import build_web
from tests.e2e.simulator_client import Simulator
from tests.fakes.clock import FakeClock
from tests.support.factories import Commune
from tests.support.server import serve


@pytest.fixture
def channel_kind() -> str:
    """These tests are about the simulator itself, not about a chat platform."""
    return "simulator"


async def test_pushed_messages_appear_in_the_chat_history(sim: Simulator, commune: Commune, app: Application) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    await app.simulator.send("an", OutboundMessage("Bạn có lịch hẹn ngày 12/12.", (Button("Xem", "menu:home"),)))
    history = await an.history()
    pushed = [m for m in history if m["pushed"]]
    assert [m["text"] for m in pushed] == ["Bạn có lịch hẹn ngày 12/12."]
    assert pushed[0]["buttons"] == [{"label": "Xem", "action": "menu:home"}]
    assert [m["direction"] for m in history][:2] == ["in", "out"]
    later = await sim.http.get("/simulator/api/chats/an/messages", params={"after": pushed[0]["seq"]})
    assert later.json()["messages"] == []


async def test_linked_simulator_chats_are_listed_without_names(sim: Simulator, commune: Commune) -> None:
    await sim.chat("can-bo").say(commune.cadre_code)
    await sim.chat("an").say(commune.an_code)
    chats = (await sim.http.get("/simulator/api/chats")).json()["chats"]
    labels = {c["id"]: c["label"] for c in chats}
    assert labels["can-bo"].startswith("can-bo · cadre #")
    assert labels["an"].startswith("an · participant #")
    assert not any("Nguyễn" in label or "Trần" in label for label in labels.values())


async def test_simulator_api_refuses_malformed_requests(sim: Simulator) -> None:
    http = sim.http
    assert (await http.post("/simulator/api/chats", json={"id": "Bad Id!"})).status_code == 400
    json_type = {"Content-Type": "application/json"}
    assert (await http.post("/simulator/api/chats", content=b"not json", headers=json_type)).status_code == 400
    assert (await http.post("/simulator/api/chats/an/messages", json={"text": "a", "action": "b"})).status_code == 400
    assert (await http.post("/simulator/api/chats/an/messages", json={"text": 5})).status_code == 400
    assert (await http.post("/simulator/api/chats/an/messages", json={"media": "hologram"})).status_code == 400
    too_long = b"x" * 70000
    assert (await http.post("/simulator/api/chats/an/messages", content=too_long, headers=json_type)).status_code == 400
    assert (await http.post("/simulator/api/chats/UPPER/messages", json={"text": "a"})).status_code == 404
    assert (await http.get("/simulator/api/chats/an/messages", params={"after": "x"})).status_code == 400
    opened = await http.post("/simulator/api/chats", json={"id": "nguoi-moi", "label": "Người mới"})
    assert opened.status_code == 201
    page = await http.get("/simulator")
    assert page.status_code == 200 and "simulator" in page.text
    assert (await http.get("/healthz")).json() == {"status": "ok", "database": "ok", "components": {}}


async def test_production_serves_no_simulator(settings: Settings, clock: FakeClock) -> None:
    production = settings.model_copy(update={"environment": "production", "webhook_secret": None})
    application = build_application(production, clock=clock)
    try:
        await application.migrate()
        async with serve(build_web(application)) as base, httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/simulator")).status_code == 404
            assert (await http.post("/simulator/api/chats/an/messages", json={"text": "hi"})).status_code == 404
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await application.aclose()


async def test_button_presses_show_their_label_in_the_history(sim: Simulator, commune: Commune) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    await an.press("Tôi đồng ý")
    inbound = [m["text"] for m in await an.history() if m["direction"] == "in"]
    assert inbound == [commune.an_code, "[Tôi đồng ý]"]
