"""Transcripts: a person writes to their cadre through the bot ("Nhắn người đồng hành") — in Vietnamese, through
Telegram and Zalo — and gives the phone number their cadre can call.

The person sees "Người đồng hành", never the cadre's name; the cadre sees the person's name. Only the cadre assigned to
the person now answers: a reassignment or a closed account ends the conversation (the person is told), the old
cadre's buttons are refused, and the next cadre starts afresh. Messages are sealed at rest and go through the outbox by
reference; the person's words reach the cadre within the day's hours, a crisis is answered at once whatever the
conversation. A person without a cadre is told whom to turn to instead.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Application
from bot.db.repositories.referrals import Referral
from bot.domain.entities import Role
from bot.services import fieldwork as records
from bot.services.access import deactivate_staff
from bot.services.operators import Operator
from tests.e2e.zalo_client import ZaloChat
from tests.fakes.clock import FakeClock
from tests.support.at_rest import rows, stored
from tests.support.chats import Chat, Chats, at_local, link_participant, open_card, tick_all, typed_twice
from tests.support.factories import Commune, add_staff
from tests.support.records import audit_trail
from tests.support.texts import REVEALING

BOTH = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

BINH = "Trần Thị Bình"  # An's cadre: her name never reaches An in the conversation
GIANG = "Vũ Văn Giang"  # another cadre of Hà Đông
AN = "Nguyễn Văn An (#1)"
MENU = "Nhắn người đồng hành"


async def words(app: Application, referral_id: int) -> list[str]:
    """The words of a conversation, as both sides read them."""
    async with app.store.transaction() as repos:
        return [message.body for message in await repos.relay.of_referral(referral_id, limit=100)]


async def conversation(app: Application, referral_id: int) -> Referral:
    async with app.store.transaction() as repos:
        referral = await repos.referrals.get(referral_id)
    assert referral is not None
    return referral


async def second_cadre(app: Application, sim: Chats) -> tuple[Chat, int]:
    """Vũ Văn Giang, a second cadre of Hà Đông, linked."""
    member, invite = await add_staff(app, GIANG, Role.CADRE)
    giang = sim.chat("giang")
    await giang.say(invite.code)
    return giang, member.id


@BOTH
async def test_a_person_writes_to_their_cadre_and_the_cadre_answers(
    app: Application, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, binh = chats["an"], chats["cadre"]
    tick = app.scheduler.tick

    opened = await an.press(MENU)
    opened.says("Bạn đang nhắn cho người đồng hành của mình", "từ “Người đồng hành”", "096 306 1414")
    opened.says("Bạn có tin nhắn mới").offers("Kết thúc trò chuyện", "Về menu chính").never_says(BINH, *REVEALING)
    (await an.say("Chào chị, em muốn hỏi về giấy xác nhận cư trú")).says("✓ Đã gửi cho người đồng hành.")
    pushed = await binh.during(tick)
    pushed.says(f"💬 Tin nhắn mới:\n{AN}: Chào chị, em muốn hỏi về giấy xác nhận cư trú").offers("Trả lời")
    opening = await binh.press("Trả lời")
    opening.says(f"Trò chuyện với {AN}:", f"{AN} (23/11 09:00): Chào chị, em muốn hỏi về giấy xác nhận cư trú")
    opening.says("Người này thấy anh/chị dưới tên “Người đồng hành”").offers("Mở hồ sơ", "Kết thúc trò chuyện")

    clock.advance(minutes=4)
    (await binh.say("Chào An, thứ Hai em qua Ủy ban phường nhé.")).says(f"✓ Đã gửi cho {AN}.")
    reply = await an.during(tick)  # neutral wording: the push says only that there is a message
    reply.says("💬 Bạn có tin nhắn mới.").offers("Xem tin nhắn", "Kết thúc trò chuyện")
    reply.never_says("Ủy ban", BINH, *REVEALING)
    read = await an.press("Xem tin nhắn")
    read.says("Bạn (09:00): Chào chị, em muốn hỏi", "Người đồng hành (09:04): Chào An, thứ Hai em qua Ủy ban phường")
    read.never_says(BINH)
    (await an.say("Dạ em cảm ơn chị")).says("✓ Đã gửi cho người đồng hành.")
    (await an.say("giúp")).says("✓ Đã gửi cho người đồng hành.")  # in a conversation: words, not the help menu
    (await binh.during(tick)).says(f"{AN}: Dạ em cảm ơn chị", f"{AN}: giúp")

    # Leaving for the menu keeps the conversation: words typed at the menu still go to it; the menu opens it again.
    await an.say("/menu")
    (await an.say("Em gửi thêm một câu")).says("✓ Đã gửi cho người đồng hành.")
    await an.say("/menu")
    (await an.press(MENU)).says("Cuộc trò chuyện với người đồng hành của bạn vẫn đang mở")

    # At 22:30 the person writes: a cadre is not on duty, so it reaches them in the morning.
    clock.set(at_local(date(2026, 11, 23), 22, 30))
    (await an.say("Tối nay em hơi buồn")).says("✓ Đã gửi cho người đồng hành.")
    assert "Tối nay em hơi buồn" not in (await binh.during(tick)).text
    clock.set(at_local(date(2026, 11, 24), 7, 1))
    (await binh.during(tick)).says(f"{AN}: Tối nay em hơi buồn")

    # The cadre's card shows the conversation and opens it; an officer's card of the same person does not.
    card = await open_card(binh, AN)
    card.says("💬 Người này đang nhắn cho anh/chị qua trợ lý.", "Số điện thoại: chưa có").offers("Mở cuộc trò chuyện")
    card.never_says("Yêu cầu hỗ trợ")  # a talk with one's cadre is not a request for help
    (await binh.press("Mở cuộc trò chuyện")).says(f"{AN} (23/11 22:30): Tối nay em hơi buồn")

    # The person ends it; the cadre is told, and what they type afterwards goes nowhere.
    (await an.press("Kết thúc trò chuyện")).says("Bạn muốn kết thúc cuộc trò chuyện với người đồng hành?").offers(
        "Có, kết thúc", "Không, tiếp tục trò chuyện"
    )
    (await an.press("Có, kết thúc")).says("Cuộc trò chuyện với người đồng hành đã kết thúc", f"“{MENU}”")
    (await binh.say("An còn đó không?")).says("Cuộc trò chuyện này đã kết thúc.").never_says("✓ Đã gửi")
    (await binh.during(tick)).says(f"{AN} đã kết thúc cuộc trò chuyện với anh/chị.").offers("Mở hồ sơ")
    (await an.say("alo")).never_says("✓ Đã gửi")

    ended = await conversation(app, 1)
    assert (ended.kind, ended.status, ended.outcome, ended.counsellor_id, ended.point_id) == (
        "cadre", "closed", "ended", commune.cadre_id, None
    )  # fmt: skip
    said = await words(app, 1)
    assert said[0] == "Chào chị, em muốn hỏi về giấy xác nhận cư trú" and len(said) == 6
    bodies = await stored(app, "relay_message", "body_enc")
    assert len(bodies) == 6 and not any("Ủy ban" in body or "buồn" in body for body in bodies)  # sealed at rest
    pushes = [r["payload"] for r in await rows(app, "outbox", kind="relay")]
    assert pushes and all(set(payload) == {"relay_id", "referral_id"} for payload in pushes)  # references only
    assert not any("buồn" in str(entry.detail) for entry in await audit_trail(app))  # who and when, never what
    async with app.store.transaction() as repos:
        assert await repos.referrals.of_participant(commune.an_id) == []  # not a referral for reports or the card
        unit = await repos.units.by_code("HD")
        assert unit is not None
        year = (at_local(date(2026, 1, 1)), at_local(date(2027, 1, 1)))
        assert await repos.referrals.in_period([unit.id], *year) == []


@BOTH
async def test_only_the_assigned_cadre_answers_and_nobody_else_reaches_the_conversation(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, binh = chats["an"], chats["cadre"]
    giang, giang_id = await second_cadre(app, sim)
    bich, officer = sim.chat("bich"), sim.chat("cuong")
    await link_participant(bich, commune.binh_code)
    await officer.say(commune.officer_code)
    tick = app.scheduler.tick

    await an.press(MENU)
    (await an.say("Em gửi chị Bình")).says("✓ Đã gửi cho người đồng hành.")
    await binh.during(tick)
    assert (await giang.during(tick)).text == ""  # another cadre of the commune hears nothing
    # Bích has no cadre: told whom to turn to, with the numbers to call now — and the help menu answers.
    alone = await bich.press(MENU)
    alone.says(
        "Hiện bạn chưa có người đồng hành", "cán bộ phụ trách xã/phường", "“Cần hỗ trợ / Tư vấn”", "096 306 1414"
    )
    alone.offers("Cần hỗ trợ / Tư vấn", "Về menu chính").never_says("Kết thúc trò chuyện")
    (await bich.press("Cần hỗ trợ / Tư vấn")).offers("Yêu cầu hỗ trợ (học nghề, việc làm, …)")
    (await bich.say("Cho em hỏi")).never_says("✓ Đã gửi", "Em gửi chị Bình")
    # Once assigned a cadre who has not linked a chat yet: told so, the same way out.
    hoa, _ = await add_staff(app, "Lê Thị Hoa", Role.CADRE)
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.binh_id)
        assert person is not None
        await records.assign_cadre(repos, person, hoa.id, None, clock.now())
    await bich.say("/menu")
    unlinked = await bich.press(MENU)
    unlinked.says("Người đồng hành của bạn chưa nhận được tin nhắn qua trợ lý").offers("Cần hỗ trợ / Tư vấn")
    unlinked.never_says("Lê Thị Hoa")
    # Giang cannot open An's card, and neither he nor the officer is in the conversation.
    await giang.say("/menu")
    (await giang.press("Người tôi đồng hành")).never_says(AN)
    (await open_card(officer, AN, "Danh sách xã/phường")).never_says("đang nhắn cho anh/chị", "Em gửi chị Bình")
    if not isinstance(an, ZaloChat):  # forged buttons: never offered to that chat, refused before any flow
        forged = ((giang, "cchat:open:1"), (officer, "cchat:endok:1"), (bich, "relay:read:1"), (bich, "relay:end:1"))
        for chat, action in forged:
            (await chat.press_action(action)).says("Nút này đã hết hiệu lực").never_says("Em gửi chị Bình")
    assert await words(app, 1) == ["Em gửi chị Bình"]

    # The officer gives An to Giang: the conversation with Bình ends, An is told; Bình's buttons are refused.
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None
        await records.assign_cadre(repos, person, giang_id, None, clock.now())
    (await an.during(tick)).says("Người đồng hành của bạn đã thay đổi nên cuộc trò chuyện này đã kết thúc")
    (await binh.press("Trả lời")).says("Cuộc trò chuyện này không mở cho anh/chị.").never_says("Em gửi chị Bình")
    assert await audit_trail(app, "denied:message_participant", outcome="denied")
    (await an.say("Chị ơi?")).says("Cuộc trò chuyện này đã kết thúc").never_says("✓ Đã gửi")
    # A new conversation with Giang starts afresh: what was said to Bình is never shown to him.
    await an.press(MENU)
    (await an.say("Chào anh ạ")).says("✓ Đã gửi cho người đồng hành.")
    await giang.during(tick)
    (await giang.press("Trả lời")).says(f"{AN} (23/11 09:00): Chào anh ạ").never_says("Em gửi chị Bình")
    assert (await binh.during(tick)).text == ""

    # Giang's account is closed: his conversations end, An is told; Giang's chat is no longer his.
    async with app.store.transaction() as repos:
        await deactivate_staff(repos, giang_id, Operator(), clock.now())
    (await an.during(tick)).says("Người đồng hành của bạn đã thay đổi")
    (await an.say("Anh ơi?")).never_says("✓ Đã gửi")
    first, second = await conversation(app, 1), await conversation(app, 2)
    assert (first.counsellor_id, first.outcome, second.counsellor_id, second.outcome) == (
        commune.cadre_id, "ended", giang_id, "ended"
    )  # fmt: skip
    # With the account closed, the cadre An still has on record cannot be written to: guidance, no dead end.
    (await an.press(MENU)).says("Hiện bạn chưa có người đồng hành").offers("Cần hỗ trợ / Tư vấn")


@BOTH
async def test_bad_input_and_a_crisis_in_the_middle_of_the_conversation(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, binh, dung = chats["an"], chats["cadre"], chats["counsellor"]
    tick = app.scheduler.tick
    await an.press(MENU)
    (await an.send_media("sticker")).says("Mình chỉ đọc được tin nhắn chữ", "Bạn đang trò chuyện với người đồng hành")
    (await an.say("a" * 10_000)).says("quá dài").never_says("✓ Đã gửi")
    first, second = await typed_twice(an, "Em gửi một lần thôi")
    first.says("✓ Đã gửi cho người đồng hành.")
    assert second.text == ""  # the replayed update is not relayed again
    # A number typed in the conversation is words for the cadre (on Zalo the choices are typed by name).
    (await an.say("1")).says("✓ Đã gửi cho người đồng hành.").never_says("Bạn muốn kết thúc")
    await binh.during(tick)
    await binh.press("Trả lời")
    (await binh.say("x" * 10_000)).says("quá dài").never_says("✓ Đã gửi")
    (await binh.say("2")).says(f"✓ Đã gửi cho {AN}.")
    assert await words(app, 1) == ["Em gửi một lần thôi", "1", "2"]

    # Crisis words in the conversation: the crisis reply at once, the counsellor and the cadre alerted now (even at
    # night), and the cadre reads the words in the conversation too.
    clock.set(at_local(date(2026, 11, 23), 23, 0))
    crisis = await an.say("em không muốn sống nữa")
    crisis.says("Cảm ơn bạn đã nói với mình", "115", "Bạn đang trò chuyện với người đồng hành")
    to_binh, to_dung = await tick_all([binh, dung], tick)
    to_binh.says("có thể đang gặp khủng hoảng", f"{AN}: em không muốn sống nữa")
    to_dung.says("Khẩn:")
    (await an.say("Em vẫn ở đây")).says("✓ Đã gửi cho người đồng hành.")  # the conversation carries on
    assert await words(app, 1) == ["Em gửi một lần thôi", "1", "2", "em không muốn sống nữa", "Em vẫn ở đây"]


@BOTH
async def test_the_person_gives_their_phone_and_the_cadre_can_call(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, binh = chats["an"], chats["cadre"]
    mine = await an.press("Thông tin của tôi")
    mine.says("Số điện thoại: chưa có").offers("Thêm số điện thoại của tôi", "Về menu chính")
    asked = await an.press("Thêm số điện thoại của tôi")
    asked.says(
        "chỉ người đồng hành, cán bộ phụ trách xã/phường của bạn và quản trị viên cấp tỉnh xem được",
        "ví dụ 0912 345 678",
    )
    for wrong in ("số em là abc", "024 3382 0000", "12345", "0912 345 67"):
        (await an.say(wrong)).says("Số này có vẻ chưa đúng", "10 chữ số")
    (await an.say("9" * 10_000)).says("quá dài")
    (await an.say("+84 912 345 678")).says("Đã lưu: người đồng hành có thể gọi cho bạn theo số 0912 345 678")
    (await an.press("Thông tin của tôi")).says("Số điện thoại: 0912 345 678 (+84 91 234 5678)").offers(
        "Sửa số điện thoại của tôi"
    )
    (await an.say("0987654321")).says("chưa hiểu ý bạn")  # the question was answered: a number is no longer one
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.register.phone == "0912345678"
    sealed = await stored(app, "participant", "phone_enc", id=commune.an_id)
    assert sealed[0] and "912" not in sealed[0]
    changes = await audit_trail(app, "setting_changed", subject_id=commune.an_id)
    assert changes and not any("912" in str(entry.detail) for entry in changes)  # that it changed, never the number

    # The cadre's card, and a crisis alert, give the number to call.
    (await open_card(binh, AN)).says("Số điện thoại: 0912 345 678 (+84 91 234 5678)")
    await an.say("em muốn chết")
    alert = await binh.during(app.scheduler.tick)
    alert.says("có thể đang gặp khủng hoảng", "Số điện thoại: 0912 345 678 (+84 91 234 5678)", "gọi điện cho họ ngay")

    # Removing it: asked again, then gone.
    await an.say("/menu")
    await an.press("Thông tin của tôi")
    await an.press("Sửa số điện thoại của tôi")
    (await an.press("Xóa số điện thoại của tôi")).says("Xong: số điện thoại của bạn đã được xóa.")
    (await an.press("Thông tin của tôi")).says("Số điện thoại: chưa có")
