"""Alerts queued by an earlier version still read the same: the officer's reason for a crisis alert was kept under
"why" (now "officer_why"), the planner's only as "minutes"; the cadre's side said "cadre" or "". A value this version
does not know claims nothing (no "a counsellor was told", no "the cadre was alerted")."""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Application
from bot.domain.planning import MessageKind
from bot.services.crisis import OfficerWhy
from bot.services.escalations import Told, Why
from tests.fakes.clock import FakeClock
from tests.support.at_rest import overwrite, rows
from tests.support.chats import Chats, at_local, commune_without_a_point, link_participant, tick_all
from tests.support.factories import Commune


def test_reasons_are_read_leniently() -> None:
    assert Told.from_payload({"cadre": 3, "officers": [], "why": "cadre"}) == Told(3, (), Why.CADRE)
    assert Told.from_payload({"cadre": None, "officers": [], "why": ""}) == Told(None, (), Why.NONE)
    assert Told.from_payload({"officers": [7]}) == Told(None, (7,), Why.NO_CADRE)  # before "why" was recorded
    assert Told.from_payload({"officers": [7], "why": "from_the_future"}) == Told(None, (7,), Why.NONE)
    assert Told.from_payload({"why": ["cadre"]}) == Told(None, (), Why.NONE)
    assert Told(4, (), Why.CADRE).payload() == {"cadre": 4, "officers": [], "why": "cadre"}
    assert OfficerWhy.of({"officer_why": "no_counsellor"}) is OfficerWhy.NO_COUNSELLOR
    assert OfficerWhy.of({"why": "no_point"}) is OfficerWhy.NO_POINT  # queued before the key was split
    assert OfficerWhy.of({"minutes": 12}) is OfficerWhy.NOT_TAKEN  # the planner's row before the key existed
    assert OfficerWhy.of({"why": "from_the_future"}) is None
    assert OfficerWhy.of({}) is None


async def _rewrite(app: Application, change: dict[str, object], drop: str | None = None) -> None:
    """The queued officer crisis rows as an earlier version (or a later one) would have written them."""
    queued = await rows(app, "outbox", kind=MessageKind.CRISIS_ALERT.value)
    assert queued
    for row in queued:
        payload = {k: v for k, v in row["payload"].items() if k != drop}
        await overwrite(app, "outbox", {"payload": {**payload, **change}}, id=row["id"])


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"], indirect=True)
@pytest.mark.parametrize("legacy", [True, False], ids=["legacy_why", "unknown_why"])
async def test_an_officer_crisis_alert_queued_by_another_version(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, legacy: bool
) -> None:
    cuong, hai, _ = await commune_without_a_point(app, sim)
    clock.set(at_local(date(2026, 11, 24), 23, 0))
    await cuong.say("em muốn chết")
    no_point = "Xã/phường của họ chưa có điểm tư vấn nên không báo được cho tư vấn viên nào."
    no_cadre = "Người này chưa có cán bộ đồng hành."
    if legacy:
        await _rewrite(app, {"why": "no_point"}, drop="officer_why")
        told = await hai.during(app.scheduler.tick)
        told.says(f"Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\n{no_point}\n{no_cadre}\nAnh/chị vui lòng")
    else:
        told_unknown = {"cadre": None, "officers": [], "why": "from_the_future"}
        await _rewrite(app, {"officer_why": "from_the_future"})
        for row in await rows(app, "outbox"):  # the round's record, as an unknown version wrote it
            if "alerted" in row["payload"]:
                alerted = {**row["payload"]["alerted"], **told_unknown}
                await overwrite(app, "outbox", {"payload": {**row["payload"], "alerted": alerted}}, id=row["id"])
        told = await hai.during(app.scheduler.tick)
        told.says(
            "Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\nAnh/chị vui lòng bảo đảm có người đến gặp trực tiếp"
        )
        told.never_says(no_point, no_cadre, "phút")


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"], indirect=True)
async def test_an_officer_reason_another_version_wrote_claims_nothing(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    """The officer's "why it came to you" line: a value this version does not know gives no line at all, never
    the "was alerted … and has not acknowledged it" of rows queued before reasons were recorded."""
    an, cadre, officer = sim.chat("an"), sim.chat("binh"), sim.chat("cuong")
    await link_participant(an, commune.an_code)
    await officer.say(commune.officer_code)
    await cadre.say(commune.cadre_code)
    async with app.store.transaction() as repos:  # the platform refused a message to the cadre's chat earlier
        assert await repos.identities.mark_unreachable(sim.channel, sim.external_id("binh")) is not None
    clock.set(at_local(date(2026, 11, 24), 10, 0))
    await an.say("em không muốn sống nữa")
    changed = [row for row in await rows(app, "outbox") if "why" in row["payload"]]
    assert changed
    for row in changed:
        await overwrite(app, "outbox", {"payload": {**row["payload"], "why": "from_the_future"}}, id=row["id"])
    [to_officer] = await tick_all([officer], app.scheduler.tick)
    to_officer.says("Cần anh/chị quan tâm:", "Anh/chị vui lòng bảo đảm có người đến gặp trực tiếp họ ngay.")
    to_officer.never_says("Trần Thị Bình", "chưa nhận xử lý", "chuyển thẳng")
