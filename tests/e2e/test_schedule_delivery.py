"""The outbox against a platform that misbehaves: rate limits and outages delay a reminder but never lose or
double it; a blocked chat becomes an escalation; a message that never gets through is given up and reported."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.app import Application
from bot.domain.entities import RiskLevel
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import Fault as TelegramFault
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import Fault as ZaloFault
from tests.support.chats import Chats, at_local, link_participant, tick_all
from tests.support.factories import Commune, enrol_hanh

CHANNELS = ["telegram-webhook", "zalo-webhook"]


def inject(fake_telegram: FakeTelegram | None, fake_zalo: FakeZalo | None, status: int, retry_after: int = 0) -> None:
    if fake_telegram is not None:
        fault = TelegramFault(status, "Too Many Requests" if status == 429 else "Bad Gateway", retry_after or None)
        fake_telegram.inject("sendMessage", fault)
    if fake_zalo is not None:
        fake_zalo.inject("sendMessage", ZaloFault(status, "busy"))


def platform_calls(fake_telegram: FakeTelegram | None, fake_zalo: FakeZalo | None) -> list[Any]:
    return fake_telegram.calls if fake_telegram is not None else fake_zalo.calls  # type: ignore[union-attr]


def send_attempts(calls: list[Any], chat_id: str) -> list[int]:
    """What the platform answered each attempt to send to one chat, in order."""
    return [c.status for c in calls if c.method == "sendMessage" and str(c.params.get("chat_id")) == chat_id]


async def given_up(app: Application) -> list[dict[str, object]]:
    """What `aftercare outbox dead` lists: messages given up (dead) or to chats that cannot be reached."""
    async with app.store.transaction() as repos:
        return await repos.outbox.dead()


@pytest.mark.parametrize("channel_kind", CHANNELS, indirect=True)
async def test_rate_limits_and_outages_delay_but_lose_nothing(
    app: Application,
    sim: Chats,
    commune: Commune,
    clock: FakeClock,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
) -> None:
    hanh = await enrol_hanh(app, date(2026, 12, 1), months=12, risk=RiskLevel.LOW)
    chat = sim.chat("hanh")
    await link_participant(chat, hanh.code)
    linked = len(platform_calls(fake_telegram, fake_zalo))
    inject(fake_telegram, fake_zalo, 429, retry_after=7)
    inject(fake_telegram, fake_zalo, 502)
    inject(fake_telegram, fake_zalo, 500)
    clock.set(at_local(date(2026, 12, 7)))
    received = [await tick_all([chat], app.scheduler.tick)]
    assert received[0][0].text == ""  # 429: held, and the channel paused for what the platform asked
    for _ in range(12):
        clock.advance(minutes=1)
        received.append(await tick_all([chat], app.scheduler.tick))
    delivered = [said for [said] in received if said.text]
    assert len(delivered) == 1 and len(delivered[0]) == 1
    delivered[0].says("Nhắc nhẹ: bạn có lịch hẹn ngày 10/12/2026").offers("Điểm danh tháng này")
    since_linked = platform_calls(fake_telegram, fake_zalo)[linked:]
    assert send_attempts(since_linked, sim.external_id("hanh")) == [429, 502, 500, 200]  # one reminder, 4 attempts
    assert await given_up(app) == []


@pytest.mark.parametrize("channel_kind", CHANNELS, indirect=True)
async def test_a_blocked_chat_is_escalated_to_the_cadre_at_once(
    app: Application,
    sim: Chats,
    commune: Commune,
    clock: FakeClock,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
) -> None:
    hanh = await enrol_hanh(app, date(2026, 12, 1), months=12, risk=RiskLevel.LOW)
    chat, cadre = sim.chat("hanh"), sim.chat("binh")
    await link_participant(chat, hanh.code)
    await cadre.say(commune.cadre_code)
    clock.set(at_local(date(2026, 12, 7), 7, 35))
    await tick_all([cadre], app.scheduler.tick)  # the cadre's digest (if any) goes before the fault is injected
    inject(fake_telegram, fake_zalo, 403)
    clock.set(at_local(date(2026, 12, 7)))
    person, staff = await tick_all([chat, cadre], app.scheduler.tick)
    assert person.text == ""
    staff.says("Cần anh/chị quan tâm", "Tin nhắn không còn gửi được đến Vũ Thị Hạnh", "liên hệ trực tiếp")
    async with app.store.transaction() as repos:
        assert await repos.identities.is_unreachable(sim.channel, sim.external_id("hanh"))
    assert "undeliverable" in {m["status"] for m in await given_up(app) if m["participant_id"] == hanh.id}
    # Later ticks neither retry the blocked chat nor raise the same escalation twice.
    clock.advance(days=1)
    person, staff = await tick_all([chat, cadre], app.scheduler.tick)
    assert person.text == "" and "không còn gửi được" not in staff.text
    # The person writes again: the chat is reachable once more, and reminders resume.
    await chat.say("/menu")
    async with app.store.transaction() as repos:
        assert not await repos.identities.is_unreachable(sim.channel, sim.external_id("hanh"))
    clock.set(at_local(date(2026, 12, 10)))
    person, _ = await tick_all([chat, cadre], app.scheduler.tick)
    person.says("Hôm nay, 10/12/2026, là ngày hẹn của bạn")


@pytest.mark.parametrize("channel_kind", CHANNELS, indirect=True)
async def test_a_message_that_never_gets_through_is_given_up_and_the_officer_told(
    app: Application,
    sim: Chats,
    commune: Commune,
    clock: FakeClock,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
) -> None:
    app.scheduler.dispatcher.policy = replace(app.scheduler.dispatcher.policy, max_attempts=3)
    hanh = await enrol_hanh(app, date(2026, 12, 1), months=12, risk=RiskLevel.LOW)
    chat, officer = sim.chat("hanh"), sim.chat("cuong")
    await link_participant(chat, hanh.code)
    await officer.say(commune.officer_code)
    for _ in range(3):
        inject(fake_telegram, fake_zalo, 502)
    clock.set(at_local(date(2026, 12, 7)))
    notices = []
    for _ in range(4):
        person, staff = await tick_all([chat, officer], app.scheduler.tick)
        assert person.text == ""
        notices.append(staff.text)
        clock.advance(minutes=5)
    assert sum("không đến được sau 3 lần thử" in text for text in notices) == 1
    listed = await given_up(app)  # what `aftercare outbox dead` shows the officer
    assert [(m["status"], m["attempts"], m["participant_id"]) for m in listed] == [("dead", 3, hanh.id)]
