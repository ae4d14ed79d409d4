"""Telegram-specific behaviour against the fake Bot API: webhook security and durability, retries, buttons."""

from __future__ import annotations

import json
import unicodedata

import pytest

from bot.app import Application
from bot.core.messages import OutboundMessage
from tests.e2e.helpers import telegram_text
from tests.e2e.telegram_client import TelegramChats
from tests.fakes.sleeps import RecordedSleeps
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram, Fault
from tests.support.at_rest import rows
from tests.support.chats import linked_participant
from tests.support.factories import Commune
from tests.support.records import audited, updates_of

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook"])


async def test_webhook_refuses_a_wrong_or_missing_secret(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    update = telegram_text(sim.user_id("an"), commune.an_code, 900)
    assert await fake_telegram.deliver(dict(update), secret="wrong-secret") == 401
    assert await fake_telegram.deliver(dict(update), secret="") == 401
    assert fake_telegram.sent() == []
    assert await updates_of(app, "telegram", sim.external_id("an")) == 0
    assert await fake_telegram.deliver(dict(update)) == 200
    assert "1/3" in fake_telegram.sent()[-1].params["text"]


async def test_a_replayed_webhook_is_handled_once(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    update = telegram_text(sim.user_id("an"), f"/start {commune.an_code}", 901)
    assert await fake_telegram.deliver(dict(update)) == 200
    first = len(fake_telegram.sent())
    assert await fake_telegram.deliver(dict(update)) == 200
    assert len(fake_telegram.sent()) == first
    assert await audited(app, "chat_linked") == 1
    assert app.telegram is not None
    await app.telegram.flush()
    kept = await rows(app, "inbound_update")
    assert [(r["key"][-13:], r["replies_enc"]) for r in kept] == [(":telegram:901", None)]  # no text once delivered
    assert kept[0]["chat_key"] == app.store.keyring.chat_key("telegram", sim.external_id("an"))  # scoped to the chat


async def test_replies_lost_to_an_outage_are_sent_on_redelivery(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune, sleeps: RecordedSleeps
) -> None:
    for _ in range(5):
        fake_telegram.inject("sendMessage", Fault(502, "Bad Gateway"))
    update = telegram_text(sim.user_id("an"), commune.an_code, 902)
    assert await fake_telegram.deliver(dict(update)) == 503  # Telegram will redeliver
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert fake_telegram.sent() == []
    assert await fake_telegram.deliver(dict(update)) == 200
    texts = [c.params["text"] for c in fake_telegram.sent()]
    assert any("Trợ lý này do tổ hỗ trợ" in t for t in texts) and any("1/3" in t for t in texts)
    assert await audited(app, "chat_linked") == 1  # linked once, replies sent once


async def test_rate_limit_waits_as_long_as_telegram_asks(
    sim: TelegramChats, fake_telegram: FakeTelegram, commune: Commune, sleeps: RecordedSleeps
) -> None:
    fake_telegram.inject("sendMessage", Fault(429, "Too Many Requests: retry after 7", retry_after=7))
    said = await sim.chat("an").say(commune.an_code)
    said.says("1/3")
    assert 7.0 in sleeps


async def test_a_blocked_bot_marks_the_chat_unreachable(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    fake_telegram.inject("sendMessage", Fault(403, "Forbidden: bot was blocked by the user"))
    await an.press("Tôi đồng ý")
    async with app.store.transaction() as repos:
        assert await repos.identities.is_unreachable("telegram", sim.external_id("an"))
    assert await audited(app, "chat_reachability", outcome="unreachable") == 1


async def test_blocking_and_unblocking_updates_reachability(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    bot_user = {"id": 1, "is_bot": True, "first_name": "bot"}
    for status, expected in (("kicked", True), ("member", False)):
        member = {"status": status, "user": bot_user, **({"until_date": 0} if status == "kicked" else {})}
        update = {
            "my_chat_member": {
                "chat": {"id": an.user_id, "type": "private"},
                "from": an.user,
                "date": 1_790_000_000,
                "old_chat_member": {"status": "member", "user": bot_user},
                "new_chat_member": member,
            }
        }
        assert await fake_telegram.deliver(update) == 200
        async with app.store.transaction() as repos:
            assert await repos.identities.is_unreachable("telegram", sim.external_id("an")) is expected


async def test_every_press_is_answered_and_its_keyboard_removed(
    sim: TelegramChats, fake_telegram: FakeTelegram, commune: Commune
) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    pressed_message = an.button_message["Tôi đồng ý"]
    await an.press("Tôi đồng ý")
    await an.press_action("forged-data")
    answered = fake_telegram.sent("answerCallbackQuery")
    assert [c.params["callback_query_id"] for c in answered] == ["cq1", "cq2"]
    cleared = fake_telegram.sent("editMessageReplyMarkup")
    assert str(pressed_message) in [str(c.params["message_id"]) for c in cleared]


async def test_callback_data_is_short_and_opaque(
    sim: TelegramChats, fake_telegram: FakeTelegram, commune: Commune
) -> None:
    an = await linked_participant(sim, commune.an_code)
    await an.press("Cài đặt")
    datas = [
        button["callback_data"]
        for call in fake_telegram.sent()
        if "reply_markup" in call.params
        for row in json.loads(call.params["reply_markup"])["inline_keyboard"]
        for button in row
    ]
    assert len(datas) >= 10
    assert all(len(d.encode()) <= 64 and ":" not in d for d in datas)
    offered = {"consent:yes", "consent:no", "lang:vi", "lang:en", "menu:info", "menu:settings", "menu:home"}
    assert not set(datas) & offered  # nothing readable to edit
    binh = sim.chat("binh")
    await binh.say(commune.binh_code)
    assert not set(binh.buttons.values()) & set(datas)  # the same buttons are other references in another chat


async def test_another_persons_button_is_refused(sim: TelegramChats, commune: Commune, app: Application) -> None:
    an, binh = sim.chat("an"), sim.chat("binh")
    await an.say(commune.an_code)
    await binh.say(commune.binh_code)
    stolen = an.buttons["Tôi không đồng ý"]
    (await binh.press_action(stolen)).says("Nút này đã hết hiệu lực")
    async with app.store.transaction() as repos:
        assert await repos.consents.current(commune.binh_id) == {}
        assert await repos.consents.current(commune.an_id) == {}


async def test_command_menu_is_set_in_each_language(sim: TelegramChats, fake_telegram: FakeTelegram) -> None:
    def descriptions(language: str) -> dict[str, str]:
        return {c["command"]: c["description"] for c in fake_telegram.commands[language]}

    assert (
        descriptions("vi")
        == descriptions("")
        == {
            "start": "Bắt đầu, hoặc kết nối bằng mã mời",
            "menu": "Mở menu chính",
        }
    )
    assert descriptions("en")["menu"] == "Open the main menu"


async def test_deep_link_links_the_chat(sim: TelegramChats, app: Application, commune: Commune) -> None:
    assert app.telegram is not None
    link = app.telegram.deep_link(commune.an_code)
    compact = commune.an_code.replace("-", "")
    assert link == f"https://t.me/{BOT_USERNAME}?start={compact}"
    (await sim.chat("an").say(f"/start {compact}")).says("1/3. Nhắc lịch")


async def test_long_messages_are_split_and_sent_as_nfc(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application
) -> None:
    assert app.telegram is not None
    lines = [
        unicodedata.normalize("NFD", f"Dòng {i}: Bạn có lịch hẹn ngày 12/12 tại Phường Hà Đông.") for i in range(200)
    ]
    await app.telegram.send(sim.external_id("an"), OutboundMessage("\n".join(lines)))
    parts = [c.params["text"] for c in fake_telegram.sent(chat_id=sim.user_id("an"))]
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "\n".join(parts) == unicodedata.normalize("NFC", "\n".join(lines))
