"""Transcripts: hotlines and support requests, and the crisis reply — in Vietnamese, through Telegram and Zalo.

A crisis message gets the safety reply at once, whatever the person was doing (here: in the middle of a check-in,
which then carries on), one urgent referral and alerts that do not wait for the end of quiet hours.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.db.models import AuditEventRow, EscalationRow, ReferralRow
from tests.e2e.conftest import Chat, Chats, Commune
from tests.e2e.helpers import count_rows
from tests.e2e.test_schedule import REVEALING, at_local, link_participant
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

SAFETY = ("Cảm ơn bạn đã nói với mình", "115", "096 306 1414 (+84 96 306 1414)", "13:00–20:30")


@pytest.fixture
async def chats(sim: Chats, commune: Commune) -> dict[str, Chat]:
    people = {"an": sim.chat("an"), "cadre": sim.chat("binh"), "counsellor": sim.chat("dung")}
    await link_participant(people["an"], commune.an_code)
    await people["cadre"].say(commune.cadre_code)
    await people["counsellor"].say(commune.counsellor_code)
    return people


async def test_hotlines_from_the_menu_by_typing_and_by_command(chats: dict[str, Chat]) -> None:
    an = chats["an"]
    await an.say("/menu")
    shown = await an.press("Cần hỗ trợ / Tư vấn")
    shown.says("115", "096 306 1414 (+84 96 306 1414)", "thứ Tư đến Chủ nhật", "111")
    shown.says("Điểm tư vấn của bạn: Điểm tư vấn Hà Đông", "024 3382 0000", "12 Quang Trung", "T2–T6")
    shown.offers("Nói chuyện với tư vấn viên", "Yêu cầu hỗ trợ (học nghề, việc làm, …)").never_says(*REVEALING)
    for typed in ("giúp", "Hỗ trợ!", "help", "/help", "GIUP"):
        (await an.say(typed)).says("096 306 1414", "Điểm tư vấn Hà Đông")
    (await an.send_media("sticker")).says("Mình chỉ đọc được tin nhắn chữ")


async def test_support_request_reaches_the_cadre(app: Application, chats: dict[str, Chat]) -> None:
    an, cadre = chats["an"], chats["cadre"]
    await an.say("giúp")
    (await an.press("Yêu cầu hỗ trợ (học nghề, việc làm, …)")).offers("Học nghề", "Hỗ trợ sinh kế, vay vốn")
    (await an.press("Học nghề")).says("Mình đã chuyển yêu cầu của bạn")
    (await cadre.during(app.scheduler.tick)).says("Nguyễn Văn An (#1) cần hỗ trợ: Học nghề")
    await an.say("giúp")
    (await an.press("Nói chuyện với tư vấn viên")).says("liên hệ với bạn sớm")
    async with app.store.transaction() as repos:
        kinds = (await repos.session.execute(select(ReferralRow.kind, ReferralRow.source))).all()
    assert sorted(kinds) == [("counselling", "help"), ("training", "help")]


async def test_crisis_in_the_middle_of_a_check_in(app: Application, chats: dict[str, Chat], clock: FakeClock) -> None:
    an, cadre, counsellor = chats["an"], chats["cadre"], chats["counsellor"]
    clock.set(at_local(date(2026, 12, 10), 22, 30))  # quiet hours: alerts still go out at once
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    (await an.press("Tốt")).offers("Không")  # second question: cravings
    reply = await an.say("mệt mỏi quá, chỉ muốn chết")
    reply.says(*SAFETY, "Điểm tư vấn Hà Đông", "Mình đã báo cho tư vấn viên và người đồng hành")
    reply.offers("Không")  # the check-in question is asked again: nothing is lost
    alerts: dict[str, object] = {}

    async def tick() -> None:
        alerts["counsellor"] = await counsellor.during(app.scheduler.tick)

    cadre_alert = await cadre.during(tick)
    cadre_alert.says("Nguyễn Văn An (#1)", "khủng hoảng").offers("Tôi sẽ theo dõi việc này")
    alerts["counsellor"].says("Khẩn:", "Nguyễn Văn An (#1)", "Trần Thị Bình")  # type: ignore[attr-defined]
    # A second message: the reply again, no second alert.
    (await an.say("k mun song nua")).says(*SAFETY)
    assert (await cadre.during(app.scheduler.tick)).text == ""
    assert await count_rows(app, EscalationRow, kind="crisis") == 1
    assert await count_rows(app, ReferralRow, urgency="urgent", source="crisis") == 1
    # The check-in carries on where it was.
    await an.press("Không")
    (await an.press("Không")).offers("Đang đi làm")
    (await cadre.press("Tôi sẽ theo dõi việc này")).says("Đã ghi nhận anh/chị đang theo dõi việc này")
    async with app.store.transaction() as repos:
        details = [r.detail for r in (await repos.session.execute(select(AuditEventRow))).scalars()]
    assert not any("muốn chết" in str(d) or "mun song" in str(d) for d in details)  # never the words


async def test_look_alikes_and_a_long_message(app: Application, sim: Chats, chats: dict[str, Chat]) -> None:
    an, cadre = chats["an"], chats["cadre"]
    for everyday in ("mệt muốn chết", "chết cười với ông", "từ từ rồi tính", "đói muốn chết"):
        (await an.say(everyday)).never_says("115", "Cảm ơn bạn đã nói với mình")
    long = "Hôm nay em kể chuyện. " * 600 + "Em không muốn sống nữa."
    (await an.say(long)).says(*SAFETY).never_says("quá dài")  # a crisis is never refused for its length
    # Staff are not screened: a cadre quoting someone is not in crisis.
    await cadre.say("/menu")
    (await cadre.say("An nói muốn chết")).never_says("115")
    # Someone not linked yet still gets the numbers, and can link afterwards.
    stranger = sim.chat("khach")
    (await stranger.say("muon chet")).says(*SAFETY).never_says("Mình đã báo")
    (await stranger.say("giúp")).says("096 306 1414")
    assert await count_rows(app, EscalationRow, kind="crisis") == 1
