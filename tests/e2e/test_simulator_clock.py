"""The simulator's time control, through its HTTP API as the chat page uses it (and `:time` in `aftercare chat`): a
trainer jumps to a day and the simulator's chats show that day's reminders, digests and alerts; messages typed then
are handled at the simulated time. Development only: refused where the simulator is off, and production has no such
clock at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.app import Application, build_application
from bot.channels.simulator import web as simulator_web
from bot.channels.simulator.console import run_console
from bot.channels.simulator.hub import SimulatorHub
from bot.config import Settings
from bot.core.clock import ShiftedClock
from bot.domain.planning import ObligationKind, ObligationStatus
from bot.web.app import build_web
from tests.e2e.simulator_client import Simulator
from tests.fakes.clock import FakeClock
from tests.support.chats import HANOI, answer_checkin, link_participant
from tests.support.config import TEST_KEY
from tests.support.factories import Commune
from tests.support.server import serve


@pytest.fixture
def channel_kind() -> str:
    """The simulator alone: its time control is its own."""
    return "simulator"


DUE_DAY = "Hôm nay, 10/12/2026, là ngày hẹn của bạn."
DIGEST = "Chào buổi sáng. Danh sách của anh/chị ngày 10/12/2026:\n\nĐến hạn hôm nay:\n• Nguyễn Văn An (#1)"
MISSED = "Nguyễn Văn An (#1) chưa điểm danh tháng này (hạn 10/12/2026)."


@pytest.fixture
async def people(app: Application, sim: Simulator, commune: Commune) -> Simulator:
    """Phường Hà Đông's check-ins are due on the 10th; An (linked, consenting) and her cadre Bình linked on
    23/11/2026."""
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code("HD")
        assert unit is not None
        await repos.units.configure(unit.id, due_day=10, test_place="Trạm y tế phường Hà Đông", test_hours="7:30–10:30")
    await link_participant(sim.chat("an"), commune.an_code)
    await sim.chat("binh").say(commune.cadre_code)
    return sim


async def _pushed_since(http: httpx.AsyncClient, chat: str, after: int) -> list[dict[str, Any]]:
    response = await http.get(f"/simulator/api/chats/{chat}/messages", params={"after": after})
    return [m for m in response.json()["messages"] if m["pushed"]]


async def _last(http: httpx.AsyncClient, chat: str) -> int:
    messages = (await http.get(f"/simulator/api/chats/{chat}/messages")).json()["messages"]
    return messages[-1]["seq"] if messages else 0


async def test_a_trainer_jumps_to_the_due_day_and_then_past_it(
    app: Application, people: Simulator, commune: Commune
) -> None:
    http = people.http
    clock = (await http.get("/simulator/api/clock")).json()
    assert (clock["shown"], clock["shifted"]) == ("23/11/2026 09:00", False)
    seen = {chat: await _last(http, chat) for chat in ("an", "binh")}

    jumped = await http.post("/simulator/api/clock", json={"at": "2026-12-10 08:00"})  # the commune's time
    assert jumped.status_code == 200, jumped.text
    state = jumped.json()
    assert (state["shown"], state["shifted"], state["local"]) == ("10/12/2026 08:00", True, "2026-12-10T08:00:00+07:00")
    assert state["tick"]["plan"]["digests"] == 1 and state["tick"]["dispatch"]["sent"] >= 2
    [reminder] = await _pushed_since(http, "an", seen["an"])
    assert reminder["text"].startswith(DUE_DAY) and reminder["at"].startswith("2026-12-10T01:00")
    assert [b["label"] for b in reminder["buttons"]] == ["Điểm danh tháng này", "Lịch hẹn của tôi"]
    [digest] = await _pushed_since(http, "binh", seen["binh"])
    assert digest["text"].startswith(DIGEST)
    assert (await http.get("/simulator/api/clock")).json()["shown"] == "10/12/2026 08:00"

    # An lets the day pass; four days later her cadre hears that she has not checked in.
    seen = {chat: await _last(http, chat) for chat in ("an", "binh")}
    assert (await http.post("/simulator/api/clock", json={"at": "2026-12-14T09:00"})).status_code == 200
    alerts = await _pushed_since(http, "binh", seen["binh"])
    assert any(MISSED in m["text"] for m in alerts), alerts
    assert all(m["at"] >= "2026-12-14" for m in alerts)

    # What she types now is handled at the simulated time: her late check-in is December's, done on 14/12.
    an = people.chat("an")
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    (await answer_checkin(an)).says("Cảm ơn bạn")
    async with app.store.transaction() as repos:
        december = await repos.obligations.of_participant(
            commune.an_id, date(2026, 12, 1), date(2026, 12, 31), [ObligationKind.CHECKIN]
        )
    [row] = december
    assert row.status is ObligationStatus.DONE and row.done_at is not None
    assert row.done_at.astimezone(HANOI).date() == date(2026, 12, 14)


async def test_time_only_moves_forward_and_bad_instants_are_refused(app: Application, people: Simulator) -> None:
    http = people.http
    assert (await http.post("/simulator/api/clock", json={"at": "2026-12-10"})).json()["shown"] == "10/12/2026 08:00"
    before = await _last(http, "an")
    refusals = {
        "2026-12-01 08:00": "time only moves forward",
        "2026-12-10 07:59": "time only moves forward",
        "ngày mai": "not a date and time",
        "2026-13-01 08:00": "not a date and time",
        "2031-01-01 08:00": "more than three years ahead",
        "9" * 10_000: "give a date and time",
        "": "give a date and time",
    }
    for at, why in refusals.items():
        response = await http.post("/simulator/api/clock", json={"at": at})
        assert response.status_code == 400 and why in response.json()["error"], (at[:20], response.text)
    for body in ({"at": 20261210}, {"when": "2026-12-11"}, [1, 2]):
        assert (await http.post("/simulator/api/clock", json=body)).status_code == 400
    plain = await http.post("/simulator/api/clock", content=b'{"at": "2026-12-11"}')  # not application/json
    assert plain.status_code == 415
    forged = await http.post("/simulator/api/clock", json={"at": "2026-12-11"}, headers={"Origin": "http://evil.test"})
    assert forged.status_code == 403  # a page on another site cannot move the clock
    elsewhere = await http.post("/simulator/api/clock", json={"at": "2026-12-11"}, headers={"Host": "sim.example"})
    assert elsewhere.status_code == 403
    assert (await http.get("/simulator/api/clock")).json()["shown"] == "10/12/2026 08:00"  # nothing moved
    assert await _last(http, "an") == before
    # An ISO instant with its own offset is taken as given.
    moved = await http.post("/simulator/api/clock", json={"at": "2026-12-11T01:30:00Z"})
    assert moved.json()["shown"] == "11/12/2026 08:30"


async def test_the_page_shows_the_control(people: Simulator) -> None:
    page = (await people.http.get("/simulator")).text
    assert 'id="clock"' in page and "/clock" in page and 'type="datetime-local"' in page


async def test_the_console_simulator_has_a_time_command(app: Application, people: Simulator) -> None:
    """`aftercare chat`: `:time` shows the simulated time, `:time 2026-12-10 08:00` jumps and prints what each
    chat was sent; a number then presses one of the pushed message's buttons."""
    lines = iter([":time", ":time 2026-12-10 08:00", ":chat an", "1", ":time 2026-12-01", ":time nonsense", ":quit"])
    out: list[str] = []
    await run_console(app.simulator, read=lambda _prompt: next(lines), write=out.append)
    text = "\n".join(out)
    assert "Simulated time: 23/11/2026 09:00" in text
    assert "Simulated time: 10/12/2026 08:00\n" in text
    assert f"[an]\nbot> {DUE_DAY}" in text and "[binh]\nbot> Chào buổi sáng." in text
    assert "Điểm danh hằng tháng: sáu câu hỏi ngắn." in text  # "1": the reminder's first button, in An's chat
    assert "time only moves forward" in text and "not a date and time" in text


@pytest.fixture
async def off_app(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Application]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path / "off",
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        simulator_enabled=False,
    )
    application = build_application(settings, clock=clock)
    try:
        await application.migrate()
        yield application
    finally:
        await application.aclose()


async def test_refused_when_the_simulator_is_off(off_app: Application, clock: FakeClock) -> None:
    assert off_app.rehearsal is None and off_app.simulator.time_machine is None
    assert off_app.clock is clock  # the clock it was given, unshifted
    async with serve(build_web(off_app)) as base, httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/simulator/api/clock")).status_code == 404
        assert (await http.post("/simulator/api/clock", json={"at": "2026-12-10 08:00"})).status_code == 404
    out: list[str] = []
    lines = iter([":time 2026-12-10 08:00", ":quit"])
    await run_console(off_app.simulator, read=lambda _prompt: next(lines), write=out.append)
    assert "only in development" in "\n".join(out)
    assert off_app.clock.now() == clock.now()


async def test_production_runs_on_the_real_clock(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="production",
        database_url=database_url,
        data_dir=tmp_path / "prod",
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
    )
    app = build_application(settings)
    try:
        assert app.rehearsal is None and app.simulator.time_machine is None
        assert not isinstance(app.clock, ShiftedClock)
        assert abs(app.clock.now() - datetime.now(HANOI)) < timedelta(minutes=1)
        # Even a simulator page wired by hand to a hub without a time control refuses to move anything.
        hub = SimulatorHub(app.conversation, app.clock)
        web = Starlette(routes=simulator_web.routes(hub, _no_chats))
        async with serve(web) as base, httpx.AsyncClient(base_url=base) as http:
            for response in (
                await http.get("/simulator/api/clock"),
                await http.post("/simulator/api/clock", json={"at": "2026-12-10 08:00"}),
            ):
                assert response.status_code == 403 and "only in development" in response.json()["error"]
    finally:
        await app.aclose()


async def _no_chats() -> dict[str, str]:
    return {}


def test_a_shifted_clock_moves_only_forward() -> None:
    base = FakeClock()
    shifted = ShiftedClock(base)
    assert shifted.now() == base.now() and shifted.offset == timedelta(0)
    target = datetime(2026, 12, 10, 8, 0, tzinfo=HANOI)
    shifted.jump_to(target)
    assert shifted.now() == target
    base.advance(minutes=5)  # time keeps flowing from the instant jumped to
    assert shifted.now() == target + timedelta(minutes=5)
    with pytest.raises(ValueError, match="forward"):
        shifted.jump_to(target)
    with pytest.raises(ValueError, match="time zone"):
        shifted.jump_to(datetime(2027, 1, 1, 8, 0))
    assert date(2026, 12, 10) == shifted.now().astimezone(HANOI).date()
