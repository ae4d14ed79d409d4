"""Transcripts: input the bot cannot use gets a polite reply in the person's language, and nothing breaks."""

from __future__ import annotations

from bot.app import Application
from tests.support.chats import Chats as Simulator
from tests.support.chats import linked_participant
from tests.support.factories import Commune
from tests.support.records import audit_trail, audited, chat_state

LONG = "Tôi muốn hỏi " + "rất " * 2500  # about 10,000 characters


async def test_unlinked_chat_bad_inputs(sim: Simulator, app: Application) -> None:
    stranger = sim.chat("la")
    (await stranger.say("")).says("Tin nhắn của bạn đang trống")
    (await stranger.say("   \n ")).says("Tin nhắn của bạn đang trống")
    (await stranger.say(LONG)).says("quá dài (hơn 4000 ký tự)")
    (await stranger.say("😀🙏")).says("hãy gửi mã mời")
    (await stranger.send_media("sticker")).says("Mình chỉ đọc được tin nhắn chữ")
    (await stranger.send_media("voice")).says("Mình chỉ đọc được tin nhắn chữ")
    (await stranger.press_action("consent:yes")).says("Nút này đã hết hiệu lực")
    (await stranger.say("/xoa_het")).says("hãy gửi mã mời")
    (await stranger.say("/start")).says("hãy gửi mã mời")
    # None of these counted as a wrong code, and nothing was linked.
    async with app.store.transaction() as repos:
        assert await repos.chats.failure_count() == 0
        assert await repos.identities.for_channel(sim.channel) == []


async def test_linked_participant_bad_inputs(sim: Simulator, commune: Commune, app: Application) -> None:
    an = await linked_participant(sim, commune.an_code)
    (await an.say("")).says("Tin nhắn của bạn đang trống").offers("Thông tin của tôi")
    (await an.say(LONG)).says("quá dài").offers("Thông tin của tôi")
    (await an.say("👍")).says("mình chưa hiểu ý bạn").offers("Thông tin của tôi", "Cài đặt")
    (await an.send_media("photo")).says("Mình chỉ đọc được tin nhắn chữ").offers("Cài đặt")
    (await an.say("/lenh_la")).says("Mình không hiểu lệnh này").offers("Cài đặt")
    (await an.say(f"/start {commune.binh_code}")).says("đã được kết nối rồi")
    (await an.say("/menu")).says("Menu chính")
    # Bích's code was not spent by An's attempt above.
    (await sim.chat("binh").say(commune.binh_code)).says("1/3")

    details = [str(entry.detail) for entry in await audit_trail(app)]
    states = [await chat_state(app, sim.channel, sim.external_id(name)) for name in ("an", "binh")]
    stored = details + [str(state.data) for state in states if state is not None]
    assert None not in states and not any("rất rất" in text for text in stored), "message content is never stored"


async def test_forged_and_stale_buttons_are_refused_and_audited(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    an = await linked_participant(sim, commune.an_code)
    # A payload the bot never offered (withdrawing consent straight away) is refused.
    said = await an.press_action("withdraw:confirm")
    said.says("Nút này đã hết hiệu lực").offers("Thông tin của tôi")
    # A button from an earlier message is stale once the person has moved on.
    await an.press("Cài đặt")
    await an.press("Cách viết lời nhắc")
    (await an.press_action("menu:settings")).says("Nút này đã hết hiệu lực")
    # Garbage of any size is handled the same way.
    (await an.press_action("x" * 5000)).says("Nút này đã hết hiệu lực")
    async with app.store.transaction() as repos:
        assert await repos.identities.find(sim.channel, sim.external_id("an")) is not None
    assert await audited(app, "stale_button") == 3


async def test_staff_cannot_use_participant_actions(sim: Simulator, commune: Commune, app: Application) -> None:
    cadre = sim.chat("can-bo")
    await cadre.say(commune.cadre_code)
    for forged in ("menu:info", "consent:toggle:reminders", "lang:en", "wording:explicit"):
        (await cadre.press_action(forged)).says("Nút này đã hết hiệu lực").never_says("Thời gian quản lý")
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.language == "vi"


async def test_group_chat_is_told_once_and_nothing_is_stored(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    member = sim.chat("nhom")
    said = await member.say_in_group(commune.an_code)
    said.says("chỉ hoạt động trong cuộc trò chuyện riêng", "only works in private chats")
    assert await member.say_in_group("xin chào mọi người") == []  # told once: the group is remembered
    async with app.store.transaction() as repos:
        assert await repos.identities.for_channel(sim.channel) == []
        assert await repos.chats.failure_count() == 0
    # The code shown in the group was not redeemed.
    (await sim.chat("an").say(commune.an_code)).says("1/3")


async def test_full_width_and_spaced_codes_are_accepted(sim: Simulator, commune: Commune) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else " " for c in commune.an_code)
    (await sim.chat("an").say(full_width)).says("1/3")


async def test_onboarding_answers_must_use_buttons(sim: Simulator, commune: Commune) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    (await an.say("đồng ý")).says("hãy chọn một trong các lựa chọn", "1/3").offers("Tôi đồng ý")
    (await an.send_media("sticker")).says("chỉ đọc được tin nhắn chữ", "1/3")
