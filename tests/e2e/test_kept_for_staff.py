"""Transcript: an alert raised for a cadre who has not linked a chat yet is kept for her, not thrown away. The officer
hears at once (someone must act today); when Bình links her chat with her code two days later, the next tick brings
her the alert, its buttons working. In Vietnamese, through Telegram (buttons) and Zalo (typed numbers). (Which kinds
are kept how long, and quiet hours: tests/integration/test_held_staff_messages.py.)
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Application
from bot.db.repositories.outbox import OutboxStatus
from bot.domain.planning import MessageKind
from tests.fakes.clock import FakeClock
from tests.support.chats import Chats, at_local, link_participant
from tests.support.factories import Commune
from tests.support.texts import AN

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

CRISIS_AT_10 = f"Lúc 10:00 ngày 24/11/2026, {AN} đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng."


async def test_an_alert_waits_for_the_cadre_who_links_two_days_later(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    an, officer, binh = sim.chat("an"), sim.chat("cuong"), sim.chat("binh")
    await link_participant(an, commune.an_code)
    await officer.say(commune.officer_code)
    clock.set(at_local(date(2026, 11, 24), 10, 0))
    (await an.say("em không muốn sống nữa")).says("Mình đã báo cho").never_says("cán bộ đồng hành")
    told = await officer.during(app.scheduler.tick)
    told.says(CRISIS_AT_10, "Không liên lạc được với cán bộ đồng hành (Trần Thị Bình) qua trợ lý")
    async with app.store.transaction() as repos:  # kept for her meanwhile, listed on her console home
        waiting = await repos.outbox.waiting_for_staff(commune.cadre_id)
    assert [(w.kind, w.participant_id) for w in waiting] == [(MessageKind.ESCALATION, commune.an_id)]

    clock.set(at_local(date(2026, 11, 26), 9, 0))  # two days later Bình links her chat
    (await binh.say(commune.cadre_code)).says("Xin chào Trần Thị Bình").offers("Mở trang quản lý")
    kept = await binh.during(app.scheduler.tick)
    kept.says(
        "Cần anh/chị quan tâm:\n"
        f"{CRISIS_AT_10} Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\n"
        "Anh/chị vui lòng đến gặp trực tiếp họ ngay"
    ).offers("Tôi nhận xử lý", "Mở hồ sơ")
    (await binh.press("Tôi nhận xử lý")).never_says("Nút này đã hết hiệu lực")
    assert (await binh.during(app.scheduler.tick)).text == ""  # delivered once
    async with app.store.transaction() as repos:
        assert await repos.outbox.waiting_for_staff(commune.cadre_id) == []
        row = await repos.outbox.by_key("esc:1:cadre")
        assert row is not None and (row.status, row.attempts) == (OutboxStatus.SENT, 1)
        escalation = await repos.escalations.get(1)
        assert escalation is not None and escalation.acknowledged_at is not None
