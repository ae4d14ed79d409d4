"""Zalo-specific behaviour: webhook secret and retries, numbered menus typed back, faults that lose nothing."""

from __future__ import annotations

import unicodedata

import pytest

from bot.app import Application
from bot.core.messages import OutboundMessage
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.sleeps import RecordedSleeps
from tests.fakes.zalo_api import FakeZalo, Fault
from tests.support.at_rest import rows
from tests.support.chats import linked_participant
from tests.support.factories import Commune
from tests.support.records import audited, updates_of

pytestmark = pytest.mark.parametrize("channel_kind", ["zalo-webhook"])


async def test_webhook_refuses_a_wrong_or_missing_secret(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application, commune: Commune
) -> None:
    update = sim.chat("an").update("message.text.received", text=commune.an_code)
    assert await fake_zalo.deliver(update, secret="not-the-secret") == 403
    assert await fake_zalo.deliver(update, secret="") == 403
    assert fake_zalo.sent() == [] and await updates_of(app, "zalo", sim.external_id("an")) == 0
    assert await fake_zalo.deliver(update) == 200
    assert "1/3" in fake_zalo.sent()[-1].params["text"]


async def test_a_retried_webhook_is_handled_once(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application, commune: Commune
) -> None:
    update = sim.chat("an").update("message.text.received", text=commune.an_code)
    assert await fake_zalo.deliver(update) == 200
    sent = len(fake_zalo.sent())
    assert await fake_zalo.deliver(update, wrapped=True) == 200  # the same message id, the other envelope
    assert len(fake_zalo.sent()) == sent
    assert await audited(app, "chat_linked") == 1
    assert app.zalo is not None
    await app.zalo.flush()
    kept = await rows(app, "inbound_update")
    assert [(r["key"].split(":", 1)[1], r["replies_enc"], r["replied_at"] is not None) for r in kept] == [
        (f"zalo:{update['message']['message_id']}", None, True)
    ]
    assert kept[0]["chat_key"] == app.store.keyring.chat_key("zalo", sim.external_id("an"))  # scoped to the chat


async def test_the_wrapped_envelope_is_understood(sim: ZaloChats, commune: Commune) -> None:
    an = sim.chat("an")
    said = await an.send_update(an.update("message.text.received", text=commune.an_code), wrapped=True)
    said.says("1/3", "1. Tôi đồng ý", "2. Tôi không đồng ý", "Trả lời bằng một số từ 1 đến 2.")


async def test_menus_are_answered_by_number_or_by_words(sim: ZaloChats, commune: Commune) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    (await an.say(" 1 ")).says("2/3")
    (await an.say("２")).says("3/3")  # a full-width digit from a Vietnamese keyboard
    (await an.say("tôi đồng ý")).says("Bạn muốn mình dùng ngôn ngữ nào?")  # the option's words
    (await an.say("Tiếng Việt")).says(
        "Menu chính", "1. Điểm danh tháng này", "2. Lịch hẹn của tôi", "3. Cần hỗ trợ / Tư vấn",
        "4. Thông tin của tôi", "5. Cài đặt",
    )  # fmt: skip
    (await an.say("4")).says("Thời gian quản lý: 12 tháng")


async def test_a_number_not_on_the_menu_shows_the_same_menu_again(sim: ZaloChats, commune: Commune) -> None:
    an = await linked_participant(sim, commune.an_code)
    await an.say("5")  # Cài đặt
    said = await an.say("9")
    said.says(
        "Không có lựa chọn này",
        "1. Ngôn ngữ",
        "2. Quyền đồng ý",
        "3. Cách viết lời nhắc",
        "4. Giờ nhắc lịch",
        "5. Về menu chính",
    )
    (await an.say("3")).says("màn hình khóa")  # the settings menu is still the one that counts


async def test_a_late_number_answers_the_menu_that_was_shown(sim: ZaloChats, commune: Commune) -> None:
    an = await linked_participant(sim, commune.an_code)
    await an.say("5")  # the settings menu
    (await an.send_media("sticker")).says("chỉ đọc được tin nhắn chữ")
    # The sticker reply re-showed the main menu; a "5" now means that menu's fifth option again.
    (await an.say("5")).says("Cài đặt. Bạn muốn thay đổi gì?")


async def test_failed_sends_are_retried_and_nothing_is_lost(
    sim: ZaloChats, fake_zalo: FakeZalo, commune: Commune, sleeps: RecordedSleeps
) -> None:
    fake_zalo.inject("sendMessage", Fault(429, "Too many requests"))
    fake_zalo.inject("sendMessage", Fault(502, shape="html"))
    fake_zalo.inject("sendMessage", Fault(500, "busy", shape="ok-false-200"))
    fake_zalo.inject("sendMessage", Fault(delay=0.05))
    said = await sim.chat("an").say(commune.an_code)
    said.says("Trợ lý này do tổ hỗ trợ", "1/3")
    assert sleeps[:3] == [2.0, 1.0, 2.0]


async def test_an_outage_answers_503_and_the_retry_sends_the_kept_replies(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application, commune: Commune
) -> None:
    for _ in range(5):
        fake_zalo.inject("sendMessage", Fault(503, shape="html"))
    update = sim.chat("an").update("message.text.received", text=commune.an_code)
    assert await fake_zalo.deliver(update) == 503
    assert fake_zalo.sent() == []
    assert await fake_zalo.deliver(update) == 200
    assert any("1/3" in c.params["text"] for c in fake_zalo.sent())
    assert await audited(app, "chat_linked") == 1


async def test_a_chat_that_cannot_be_reached_is_marked_for_the_cadre(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application, commune: Commune
) -> None:
    an = await linked_participant(sim, commune.an_code)
    fake_zalo.inject("sendMessage", Fault(403, "User has blocked the bot", shape="ok-false-200"))
    await an.say("1")
    async with app.store.transaction() as repos:
        assert await repos.identities.is_unreachable("zalo", sim.external_id("an"))
    assert await audited(app, "chat_reachability", outcome="unreachable") == 1


async def test_long_messages_are_split_at_2000_characters_as_nfc(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application
) -> None:
    assert app.zalo is not None
    lines = [unicodedata.normalize("NFD", f"Dòng {i}: Bạn có lịch hẹn ngày 12/12.") for i in range(150)]
    await app.zalo.send(sim.external_id("an"), OutboundMessage("\n".join(lines)))
    parts = [c.params["text"] for c in fake_zalo.sent(sim.external_id("an"))]
    assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == unicodedata.normalize("NFC", "\n".join(lines))
