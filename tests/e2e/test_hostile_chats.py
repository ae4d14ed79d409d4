"""Transcripts of hostile or unlucky input through the real webhooks: platform keys that collide across chats,
forged button data of every shape, floods of messages, and messages far longer than the bot reads."""

from __future__ import annotations

import pytest

from bot.app import Application
from tests.e2e.helpers import telegram_text
from tests.e2e.simulator_client import Said
from tests.e2e.telegram_client import TelegramChats
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import Fault as TelegramFault
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import Fault as ZaloFault
from tests.support.at_rest import overwrite, rows
from tests.support.chats import Chats, linked_participant
from tests.support.factories import Commune
from tests.support.records import audited
from tests.support.texts import AN, SAFETY

STALE = "Nút này đã hết hiệu lực"
SLOW_DOWN = "Bạn đang gửi tin nhắn hơi nhanh"
STAFF_SLOW_DOWN = "Anh/chị đang gửi tin nhắn hơi nhanh"  # staff are addressed anh/chị
UNREADABLE = "Vui lòng báo cho Ủy ban nhân dân xã/phường"


def _texts(calls: list, chat_id: object) -> list[str]:
    return [c.params["text"] for c in calls if str(c.params["chat_id"]) == str(chat_id)]


@pytest.mark.parametrize("channel_kind", ["zalo-webhook"])
async def test_zalo_a_message_id_seen_in_another_chat_is_that_chats_own_message(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application, commune: Commune
) -> None:
    """An's replies are kept unsent (Zalo is down); Bích's message arrives with the same message id."""
    for _ in range(5):
        fake_zalo.inject("sendMessage", ZaloFault(503, shape="html"))
    an_update = sim.chat("an").update("message.text.received", text=commune.an_code)
    an_update["message"]["message_id"] = "same-id"
    assert await fake_zalo.deliver(an_update) == 503  # An's replies are stored, not delivered
    bich_update = sim.chat("bich").update("message.text.received", text="xin chào")
    bich_update["message"]["message_id"] = "same-id"
    assert await fake_zalo.deliver(bich_update) == 200
    bich = _texts(fake_zalo.sent(), sim.user_id("bich"))
    assert bich and any("hãy gửi mã mời" in text for text in bich)  # her own message was read and answered
    assert not any("1/3" in text for text in bich)  # never An's replies
    assert await fake_zalo.deliver(an_update) == 200  # Zalo retries An's: An gets hers
    assert any("1/3" in text for text in _texts(fake_zalo.sent(), sim.user_id("an")))
    assert await audited(app, "chat_linked") == 1


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
async def test_telegram_update_ids_restarted_are_scoped_to_their_chat(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    """After a quiet week Telegram numbers updates afresh: an update_id another chat used is a new update here."""
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    stranger = sim.user_id("bich")
    for _ in range(5):
        fake_telegram.inject("sendMessage", TelegramFault(502, "Bad Gateway"))
    assert await fake_telegram.deliver(telegram_text(sim.user_id("an"), "/menu", 7001)) == 503
    assert await fake_telegram.deliver(telegram_text(stranger, "xin chào", 7001, name="Bich")) == 200
    said = _texts(fake_telegram.sent(), stranger)
    assert said and any("hãy gửi mã mời" in text for text in said)
    assert not any("Menu chính" in text for text in said)  # An's menu stays An's
    before = len(fake_telegram.sent())
    assert await fake_telegram.deliver(telegram_text(sim.user_id("an"), "/menu", 7001)) == 200
    assert any("Menu chính" in text for text in _texts(fake_telegram.sent()[before:], an.user_id))
    # Both delivered: a third chat reusing the number is still read, not taken for a replay.
    assert await fake_telegram.deliver(telegram_text(sim.user_id("cuong"), "xin chào", 7001, name="C")) == 200
    assert any("hãy gửi mã mời" in text for text in _texts(fake_telegram.sent(), sim.user_id("cuong")))
    kept = await rows(app, "inbound_update")
    sevens = [row for row in kept if row["key"].endswith(":telegram:7001")]
    assert len(sevens) == 3 and len({row["chat_key"] for row in sevens}) == 3
    assert all(str(sim.user_id("an")) not in row["key"] for row in kept)  # no chat id in clear


FORGED = {
    "emoji": "😀🙏🏽👨‍👩‍👧",
    "vietnamese": "Tôi đồng ý – đăng ký",
    "control": "\x00\x01\x1b[2J\x7f",
    "mixed": "menu:settings\u200b",
    "long": "đ" * 5000,
    "very long ascii": "x" * 100_000,
}


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
@pytest.mark.parametrize("data", list(FORGED.values()), ids=list(FORGED))
async def test_forged_callback_data_of_any_text_is_a_stale_button(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune, data: str
) -> None:
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    said = await an.press_action(data)  # type: ignore[attr-defined]
    said.says(STALE).offers("Thông tin của tôi").never_says("có lỗi")
    assert await audited(app, "stale_button", outcome="denied") == 1
    (await an.say("/menu")).says("Menu chính")  # the chat goes on


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
async def test_a_flood_is_asked_once_to_slow_down_and_a_crisis_still_gets_through(
    sim: Chats, app: Application, commune: Commune, clock: FakeClock
) -> None:
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    clock.advance(minutes=5)  # linking's own messages are out of the window
    limit = app.conversation.policies.inbound_per_minute
    for _ in range(limit):
        (await an.say("👍")).says("mình chưa hiểu ý bạn")
    (await an.say("👍")).says(SLOW_DOWN).never_says("mình chưa hiểu ý bạn")
    for _ in range(3):
        assert await an.say("👍") == []  # not read, not answered again
    (await an.say("mình không muốn sống nữa")).says(*SAFETY)  # a crisis is never held back
    assert await an.say("👍") == []
    assert await audited(app, "inbound_limited", outcome="denied") == 1
    clock.advance(minutes=2)
    (await an.say("👍")).says("mình chưa hiểu ý bạn")


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
async def test_an_overlong_message_is_screened_on_its_start_only(
    sim: Chats, app: Application, commune: Commune
) -> None:
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    longest = app.conversation.policies.max_text_length
    (await an.say("mình muốn chết " + "a " * 50_000)).says(*SAFETY, "quá dài").offers("Thông tin của tôi")
    (await an.say("a " * (longest // 2 + 10) + "mình muốn chết")).says(*SAFETY, "quá dài")
    # Only a bounded start is read (four times the longest message): a phrase beyond it is not seen.
    (await an.say("a " * (longest * 2 + 10) + "mình muốn chết")).says("quá dài").never_says(SAFETY[0])


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
async def test_a_cadre_pressing_quickly_is_not_cut_off_and_a_cadre_flood_still_is(
    sim: Chats, app: Application, commune: Commune, clock: FakeClock
) -> None:
    """Entering results takes several presses each: staff chats get three times the limit (Policies.inbound_limit)."""
    cadre = sim.chat("binh")
    (await cadre.say(commune.cadre_code)).says("Xin chào Trần Thị Bình")
    clock.advance(minutes=5)
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).says(AN)
    rounds = app.conversation.policies.inbound_limit(staff=False) // 2 + 3
    for _ in range(rounds):  # more presses in one minute than a participant may send: all answered
        (await cadre.press(AN)).says("Xét nghiệm và kết quả:").never_says(STAFF_SLOW_DOWN)
        (await cadre.press("Về danh sách")).says(AN).never_says(STAFF_SLOW_DOWN)
    sent = 2 * rounds + 2
    limit = app.conversation.policies.inbound_limit(staff=True)
    assert limit > sent > app.conversation.policies.inbound_limit(staff=False)
    for _ in range(limit - sent):
        (await cadre.say("/menu")).offers("Người tôi đồng hành")
    (await cadre.say("/menu")).says(STAFF_SLOW_DOWN).never_says("Người tôi đồng hành")
    assert await cadre.say("/menu") == []
    assert await audited(app, "inbound_limited", outcome="denied") == 1


@pytest.mark.parametrize("channel_kind", ["zalo-webhook"])
async def test_zalo_messages_without_a_message_id_are_counted_too(
    sim: ZaloChats, app: Application, commune: Commune
) -> None:
    """A forged-webhook flood leaves the id out: each such message is recorded under a key of its own and counted."""
    stranger = sim.chat("lan")

    def bare() -> dict:
        raw = stranger.update("message.text.received", text="xin chào")
        del raw["message"]["message_id"]
        return raw

    limit = app.conversation.policies.inbound_per_minute
    for _ in range(limit):
        (await stranger.send_update(bare())).says("hãy gửi mã mời")
    (await stranger.send_update(bare())).says(SLOW_DOWN).never_says("hãy gửi mã mời")
    for _ in range(3):
        assert await stranger.send_update(bare()) == []
    assert await audited(app, "inbound_limited", outcome="denied") == 1
    kept = await rows(app, "inbound_update")
    assert len(kept) == limit + 4 and len({row["key"] for row in kept}) == limit + 4
    assert all(row["replies_enc"] is None for row in kept)  # nothing can redeliver them: no reply text is kept
    # Another chat is not held back by it.
    (await sim.chat("cuong").say("xin chào")).says("hãy gửi mã mời")


def _replayable(sim: Chats, fake_telegram: FakeTelegram | None, text: str) -> dict:
    """An update the test can deliver twice, as a platform retrying it would."""
    if isinstance(sim, ZaloChats):
        return sim.chat("an").update("message.text.received", text=text)
    assert fake_telegram is not None
    return telegram_text(sim.user_id("an"), text, fake_telegram.next_update_id())  # type: ignore[attr-defined]


def _unreadable(said: Said) -> bool:
    return UNREADABLE in said.text


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
async def test_a_tampered_chat_is_deduplicated_limited_and_audited_once_an_hour(
    sim: Chats,
    app: Application,
    commune: Commune,
    clock: FakeClock,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
) -> None:
    """An's chat row is re-pointed at Bích in SQL: every message of An's fails to open it (SealBroken). It used to be
    rolled back unrecorded: replays handled again, never counted, one audit entry per message without end."""
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    clock.advance(minutes=5)
    await overwrite(app, "channel_identity", {"participant_id": commune.binh_id}, participant_id=commune.an_id)
    said = await an.say("/menu")
    assert _unreadable(said), said.text
    said.never_says("Menu chính", "Đỗ Thị Bích")
    deliver = fake_telegram.deliver if fake_telegram is not None else fake_zalo.deliver  # type: ignore[union-attr]
    sent = fake_telegram.sent if fake_telegram is not None else fake_zalo.sent  # type: ignore[union-attr]
    replay = _replayable(sim, fake_telegram, "xin chào")
    before = len(sent())
    assert await deliver(replay) == 200
    assert await deliver(replay) == 200  # the platform delivers it again: deduplicated, not answered twice
    assert len(_texts(sent()[before:], an.user_id)) == 1  # type: ignore[attr-defined]
    assert await audited(app, "sealed_value_rejected") == 1

    # A flood of new messages is counted like any: answered up to the limit, then not read; one audit entry.
    limit = app.conversation.policies.inbound_per_minute
    answered = [_unreadable(await an.say("xin chào")) for _ in range(limit + 3)]
    assert answered == [True] * (limit - 2) + [False] * 5  # two were sent before the flood
    crisis = await an.say("mình không muốn sống nữa")  # never held back: the safety reply and its hotlines
    crisis.says(*SAFETY)
    assert _unreadable(crisis)
    assert await audited(app, "sealed_value_rejected") == 1
    assert len(await rows(app, "inbound_update", replies_enc=None)) >= limit

    clock.advance(hours=1)  # the next hour: audited again, once
    for _ in range(3):
        assert _unreadable(await an.say("xin chào"))
    assert await audited(app, "sealed_value_rejected", outcome="denied") == 2
