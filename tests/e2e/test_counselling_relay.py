"""Transcripts: a person talks with a counsellor through the bot — in Vietnamese, through Telegram and Zalo.

The person sees only "Tư vấn viên"; the counsellor sees the person's name (they consented to referrals). Messages are
stored encrypted and pushed through the outbox, also in the night (the person started the conversation); either side
ends it. Outside the point's hours the person is told when someone will answer, and given the numbers to call now.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app import Application
from bot.domain.entities import RiskLevel, Wording
from bot.services import fieldwork as records
from tests.e2e.zalo_client import ZaloChat
from tests.fakes.clock import FakeClock
from tests.support.at_rest import rows, stored
from tests.support.chats import (
    Chat,
    Chats,
    at_local,
    link_participant,
    on_duty,
    second_counsellor,
    talking,
    tick_all,
    typed_twice,
)
from tests.support.factories import Commune, add_person, add_ward
from tests.support.records import audit_trail
from tests.support.texts import REVEALING

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

DUNG = "Phạm Thu Dung"  # the counsellor's own name never reaches the person


async def relayed(app: Application, referral_id: int = 1) -> list[str]:
    """The words of a conversation, as the counsellor and the person read them."""
    async with app.store.transaction() as repos:
        return [message.body for message in await repos.relay.of_referral(referral_id, limit=100)]


async def test_a_conversation_both_sides_day_and_night(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, dung = chats["an"], chats["counsellor"]
    giao = await second_counsellor(app, sim)  # off duty
    await on_duty(dung)
    tick = app.scheduler.tick

    await an.say("giúp")
    opened = await an.press("Nói chuyện với tư vấn viên")
    opened.says("Mình đã báo cho tư vấn viên đang trực", "từ “Tư vấn viên”", "Bạn có tin nhắn mới")
    opened.offers("Kết thúc trò chuyện", "Về menu chính").never_says(*REVEALING)
    (await an.say("Chào anh chị, dạo này em khó ngủ")).says("Mình đã giữ lời nhắn cho tư vấn viên")
    (await dung.during(tick)).says("Nguyễn Văn An (#1) muốn trò chuyện với tư vấn viên").offers("Xem yêu cầu")
    assert (await giao.during(tick)).text == ""  # off duty: not woken

    await dung.press("Xem yêu cầu")
    taken = await dung.press("Tôi nhận")
    taken.says("họ thấy anh/chị là “Tư vấn viên”", "Nguyễn Văn An (#1) (23/11 09:00): Chào anh chị, dạo này em khó ngủ")
    taken.offers("Chào hỏi", "Hỏi về an toàn", "Kết thúc trò chuyện")
    (await an.during(tick)).says("Tư vấn viên đã vào cuộc trò chuyện").never_says(DUNG)

    clock.advance(minutes=3)
    (await dung.say("Chào bạn, mình nghe đây. Bạn khó ngủ bao lâu rồi?")).says("✓ Đã gửi cho Nguyễn Văn An (#1).")
    pushed = await an.during(tick)  # neutral wording: the push says only that there is a message
    pushed.says("💬 Bạn có tin nhắn mới.").offers("Xem tin nhắn", "Kết thúc trò chuyện")
    pushed.never_says("khó ngủ", DUNG, *REVEALING)
    read = await an.press("Xem tin nhắn")
    read.says("Bạn (09:00): Chào anh chị, dạo này em khó ngủ", "Tư vấn viên (09:03): Chào bạn, mình nghe đây.")
    read.never_says(DUNG)
    (await an.say("Khoảng hai tuần rồi ạ")).says("✓ Đã gửi.")
    (await an.say("giúp")).says("✓ Đã gửi.").never_says("Bạn có thể gọi")  # in a conversation: words, not the menu
    (await dung.during(tick)).says("💬 Tin nhắn mới:\nNguyễn Văn An (#1): Khoảng hai tuần rồi ạ", "(#1): giúp")
    (await dung.press("Trả lời")).says("Khoảng hai tuần rồi ạ").offers("Đề nghị gọi điện")
    (await dung.press("Đề nghị gọi điện")).says(
        "✓ Đã gửi cho Nguyễn Văn An (#1)."
    )  # a ready reply, in the person's language
    await an.during(tick)
    (await an.press("Xem tin nhắn")).says("Tư vấn viên (09:03): Nếu bạn muốn, mình có thể gọi điện cho bạn.")

    # At 22:30 the conversation goes on: the person started it, quiet hours do not hold it.
    clock.set(at_local(date(2026, 11, 23), 22, 30))
    (await an.say("Giờ này em vẫn chưa ngủ được")).says("✓ Đã gửi.")
    (await dung.during(tick)).says("Giờ này em vẫn chưa ngủ được")
    await dung.press("Trả lời")
    await dung.say("Mình vẫn ở đây. Bạn thử hít thở chậm cùng mình nhé.")
    (await an.during(tick)).says("Bạn có tin nhắn mới")

    # The person ends it; the counsellor is told and closes the referral with its outcome.
    (await an.press("Kết thúc trò chuyện")).says("Bạn muốn kết thúc").offers(
        "Có, kết thúc", "Không, tiếp tục trò chuyện"
    )
    (await an.press("Có, kết thúc")).says("Cuộc trò chuyện đã kết thúc", "Cần hỗ trợ / Tư vấn")
    # Dung, still in the conversation, types on: the record says it has ended (her chat's state did not).
    (await dung.say("Bạn còn đó không?")).says("Cuộc trò chuyện này đã kết thúc.")
    (await dung.during(tick)).says("Nguyễn Văn An (#1) đã kết thúc cuộc trò chuyện").offers("Xem yêu cầu")
    (await dung.press("Xem yêu cầu")).says("Cuộc trò chuyện đã kết thúc.").offers("Đã tư vấn")
    (await dung.press("Đã tư vấn")).says("Đã đóng: Đã tư vấn.")
    (await an.say("alo")).never_says("✓ Đã gửi.")  # nothing is relayed any more

    async with app.store.transaction() as repos:
        [referral] = await repos.referrals.of_participant(commune.an_id)
    start = at_local(date(2026, 11, 23), 9, 0)
    assert referral.first_reply_at is not None and referral.first_reply_at - start == timedelta(minutes=3)
    assert referral.status == "closed" and referral.outcome == "advised"
    assert None not in (referral.accepted_at, referral.relay_started_at, referral.relay_ended_at, referral.closed_at)
    assert len(await relayed(app)) == 7 and "Khoảng hai tuần rồi ạ" in await relayed(app)
    bodies = await stored(app, "relay_message", "body_enc")
    assert len(bodies) == 7 and not any("ngủ" in body or "tuần" in body for body in bodies)  # encrypted at rest
    pushes = [row["payload"] for row in await rows(app, "outbox", kind="relay")]
    assert pushes and all(set(payload) == {"relay_id", "referral_id"} for payload in pushes)  # references only
    details = [str(entry.detail) for entry in await audit_trail(app)]
    assert not any("ngủ" in detail for detail in details)  # the audit says who and when, never what


async def test_the_counsellor_ends_it_and_waiting_messages_are_kept(
    app: Application, chats: dict[str, Chat], clock: FakeClock
) -> None:
    an, dung = chats["an"], chats["counsellor"]
    await on_duty(dung)
    await an.say("giúp")
    await an.press("Nói chuyện với tư vấn viên")
    for text in ("Em muốn hỏi về việc làm", "Và về giấy tờ nữa"):
        (await an.say(text)).says("Mình đã giữ lời nhắn")
    await an.say("/menu")  # leaving for the menu does not end the conversation: typed words still go there
    (await an.say("Em đợi được ạ")).says("Mình đã giữ lời nhắn")
    await dung.during(app.scheduler.tick)
    await dung.press("Xem yêu cầu")
    (await dung.press("Tôi nhận")).says("Em muốn hỏi về việc làm", "Và về giấy tờ nữa", "Em đợi được ạ")
    await an.during(app.scheduler.tick)
    (await dung.press("Chào hỏi")).says("✓ Đã gửi cho Nguyễn Văn An (#1).")
    (await dung.press("Kết thúc trò chuyện")).says("Kết thúc cuộc trò chuyện? Người đó sẽ được báo.")
    (await dung.press("Có, kết thúc")).says("Cuộc trò chuyện đã kết thúc; người đó đã được báo")
    ended = await an.during(app.scheduler.tick)  # the last word before the end is delivered, then the end
    ended.says("Bạn có tin nhắn mới", "Tư vấn viên đã kết thúc cuộc trò chuyện").offers("Xem tin nhắn")
    (await an.press("Xem tin nhắn")).says("Chào bạn, mình là tư vấn viên", "Cuộc trò chuyện này đã kết thúc")
    (await an.say("Cảm ơn ạ")).says("Cuộc trò chuyện này đã kết thúc").never_says("✓ Đã gửi.", "Mình đã giữ lời nhắn")
    # Asking again opens a new conversation.
    await an.say("giúp")
    (await an.press("Nói chuyện với tư vấn viên")).says("Mình đã báo cho tư vấn viên đang trực")
    async with app.store.transaction() as repos:
        statuses = sorted(r.status for r in await repos.referrals.of_participant(1))
    assert statuses == ["accepted", "requested"]


async def test_outside_the_points_hours_and_with_nobody_on_duty(
    app: Application, sim: Chats, chats: dict[str, Chat], clock: FakeClock
) -> None:
    an, dung = chats["an"], chats["counsellor"]
    giao = await second_counsellor(app, sim)
    await on_duty(dung)
    clock.set(at_local(date(2026, 11, 28), 14, 0))  # Saturday afternoon: the point opens 8:00–11:00 on Saturdays
    await an.say("giúp")
    closed = await an.press("Nói chuyện với tư vấn viên")
    closed.says(
        "Điểm tư vấn đang ngoài giờ làm việc (giờ làm việc: T2–T6 07:30–11:30, 13:30–17:00; T7 08:00–11:00)",
        "Các tư vấn viên sẽ được báo khi điểm tư vấn mở cửa, lúc 07:30 ngày 30/11/2026.",  # not when one will answer
        "096 306 1414 (+84 96 306 1414)",
        "13:00–20:30",
    ).never_says("113")
    (await an.say("Em sẽ đợi")).says("Mình đã giữ lời nhắn")
    assert (await dung.during(app.scheduler.tick)).text == ""  # on duty, but the point is closed: nobody is asked
    clock.set(at_local(date(2026, 11, 30), 7, 31))
    to_dung, to_giao = await tick_all([dung, giao], app.scheduler.tick)  # at opening time, the whole point
    to_dung.says("Nguyễn Văn An (#1) muốn trò chuyện với tư vấn viên")
    to_giao.says("Nguyễn Văn An (#1) muốn trò chuyện với tư vấn viên")
    # Opening hours, nobody on duty: the person is told so, and every counsellor of the point hears of it.
    await an.press("Kết thúc trò chuyện")
    await an.press("Có, kết thúc")
    await dung.say("/menu")
    await dung.press("Kết thúc ca trực")
    clock.set(at_local(date(2026, 11, 30), 9, 0))
    await an.say("giúp")
    (await an.press("Nói chuyện với tư vấn viên")).says(
        "Lúc này chưa có tư vấn viên trực. Các tư vấn viên của điểm tư vấn đã được báo;", "096 306 1414"
    )
    (await giao.during(app.scheduler.tick)).says("muốn trò chuyện")
    async with app.store.transaction() as repos:
        outcomes = sorted(str(r.outcome) for r in await repos.referrals.of_participant(1))
    assert outcomes == ["None", "withdrawn"]  # the first, ended before anyone took it, is withdrawn


async def test_bad_inputs_in_a_conversation_and_nobody_else_reads_it(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, dung, cadre = chats["an"], chats["counsellor"], chats["cadre"]
    bich = sim.chat("bich")
    await link_participant(bich, commune.binh_code)
    giao = await second_counsellor(app, sim)
    await on_duty(dung)
    await talking(app, an, dung)

    (await an.send_media("sticker")).says("Mình chỉ đọc được tin nhắn chữ", "Bạn đang trò chuyện với tư vấn viên")
    (await an.say("a" * 10_000)).says("quá dài").never_says("✓ Đã gửi.")
    first, second = await typed_twice(an, "Em gửi một lần thôi")
    first.says("✓ Đã gửi.")
    assert second.text == ""  # the replayed update is not relayed again
    assert len(await relayed(app)) == 1
    (await dung.say("x" * 10_000)).says("quá dài")
    assert len(await relayed(app)) == 1
    # A number typed in a conversation is an answer, not a menu choice (on Zalo the choices are typed by name);
    # ending is asked twice, so a stray tap does not end it.
    (await an.say("7")).says("✓ Đã gửi.")
    (await an.say("1")).says("✓ Đã gửi.").never_says("Bạn muốn kết thúc")
    (await dung.say("3")).says("✓ Đã gửi cho Nguyễn Văn An (#1).")
    (await an.press("Kết thúc trò chuyện")).says("Bạn muốn kết thúc cuộc trò chuyện với tư vấn viên?")
    (await an.press("Không, tiếp tục trò chuyện")).says("Bạn (09:00): Em gửi một lần thôi", "Bạn (09:00): 7")
    (await an.say("2")).says("✓ Đã gửi.")  # answered the question: numbers are words again
    async with app.store.transaction() as repos:
        words = [m.body for m in await repos.relay.of_referral(1)]
    assert words == ["Em gửi một lần thôi", "7", "1", "3", "2"]  # "3" went as "3", not as a ready reply

    # Giao, of the same point, sees that it is taken, not what is said; typed text goes nowhere.
    await giao.say("/menu")
    await giao.press("Yêu cầu tư vấn")
    (await giao.press("Nguyễn Văn An (#1) · tư vấn · đã có người nhận")).says("tư vấn viên khác").never_says(
        "Em gửi một lần"
    )
    (await giao.say("Chào bạn")).never_says("✓ Đã gửi.")
    # Bích, another participant, writes: nothing of An's conversation, and hers goes nowhere.
    (await bich.say("Cho em hỏi")).never_says("✓ Đã gửi.", "Em gửi một lần")
    # The cadre sees the status on the card, never the words.
    await cadre.say("/menu")
    await cadre.press("Người tôi đồng hành")
    (await cadre.press("Nguyễn Văn An (#1)")).says("tư vấn — tư vấn viên đã nhận").never_says("Em gửi một lần")
    if not isinstance(an, ZaloChat):  # forged buttons: someone else's conversation, a reply, a read
        forged = ((giao, "ref:chat:1"), (giao, "ref:canned:hello"), (cadre, "ref:end:1"), (bich, "relay:read"))
        for chat, action in forged:
            (await chat.press_action(action)).says("Nút này đã hết hiệu lực").never_says("Em gửi một lần")
        assert len(await relayed(app)) == 5

    # With explicit wording, the words themselves come in the push.
    async with app.store.transaction() as repos:
        await repos.participants.update(commune.an_id, wording=Wording.EXPLICIT)
    await dung.say("Mình đọc được rồi, cảm ơn bạn.")
    (await an.during(app.scheduler.tick)).says("💬 Tư vấn viên: Mình đọc được rồi, cảm ơn bạn.").never_says(DUNG)


async def test_a_reply_reaches_the_person_it_is_meant_for(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    """Dung talks with Bích and with An. An writes while Dung is answering Bích: her next words wait for a
    confirmation that names the recipient; a ready reply under Bích's view goes to Bích."""
    an, dung = chats["an"], chats["counsellor"]
    bich = sim.chat("bich")
    await link_participant(bich, commune.binh_code)
    await on_duty(dung)
    for person in (an, bich):
        await person.say("giúp")
        await person.press("Nói chuyện với tư vấn viên")
    await dung.say("/menu")
    await dung.press("Yêu cầu tư vấn")
    await dung.press("Nguyễn Văn An (#1) · tư vấn · đang chờ")
    await dung.press("Tôi nhận")
    await dung.press("Về danh sách yêu cầu")
    await dung.press("Đỗ Thị Bích (#2) · tư vấn · đang chờ")
    await dung.press("Tôi nhận")
    (await dung.say("Chào chị Bích")).says("✓ Đã gửi cho Đỗ Thị Bích (#2).")
    clock.advance(minutes=1)
    await an.say("Em là An, anh chị còn đó không?")
    await dung.during(app.scheduler.tick)  # An's words arrive; Dung is still in Bích's conversation
    asked = await dung.say("Chị cứ kể tiếp nhé")
    asked.says("Trong lúc đó Nguyễn Văn An (#1) đã nhắn cho anh/chị. Gửi tin này cho Đỗ Thị Bích (#2)?")
    asked.offers("Gửi cho Đỗ Thị Bích (#2)", "Trả lời Nguyễn Văn An (#1)")
    (await dung.press("Gửi cho Đỗ Thị Bích (#2)")).says("✓ Đã gửi cho Đỗ Thị Bích (#2).")
    (await dung.press("Cảm ơn đã chia sẻ")).says("✓ Đã gửi cho Đỗ Thị Bích (#2).")  # the view it was shown in
    (await dung.say("Chị còn điều gì muốn chia sẻ không?")).says("✓ Đã gửi cho Đỗ Thị Bích (#2).")  # seen: no question
    # Opening An's card leaves Bích's conversation: words typed there go to nobody until the conversation is opened.
    await dung.press("Về danh sách yêu cầu")
    (await dung.press("Nguyễn Văn An (#1) · tư vấn · đã có người nhận")).offers("Mở cuộc trò chuyện")
    (await dung.say("An ơi, bạn ổn chứ?")).never_says("✓ Đã gửi")
    async with app.store.transaction() as repos:
        to_an = await repos.relay.of_referral(1, sender="counsellor")
        to_bich = [m.body for m in await repos.relay.of_referral(2, sender="counsellor")]
    assert to_an == [] and to_bich[0] == "Chào chị Bích" and to_bich[1] == "Chị cứ kể tiếp nhé" and len(to_bich) == 4


async def test_after_a_crisis_words_reach_a_counsellor_only_once_one_takes_it(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, dung = chats["an"], chats["counsellor"]
    officer = sim.chat("cuong")
    await officer.say(commune.officer_code)
    await on_duty(dung)
    await an.say("em không muốn sống nữa")
    # The person did not ask to talk: what they write next is not captured for anyone.
    (await an.say("hôm nay em cãi nhau với mẹ")).says("chưa hiểu ý bạn").never_says("Mình đã giữ lời nhắn")
    await dung.during(app.scheduler.tick)
    await dung.press("Xem yêu cầu")
    taken = await dung.press("Tôi nhận")  # taking a crisis referral opens the conversation, with the crisis words
    taken.says("em không muốn sống nữa").never_says("cãi nhau")
    (await an.during(app.scheduler.tick)).says("Tư vấn viên đã vào cuộc trò chuyện").offers("Kết thúc trò chuyện")
    (await dung.say("Mình ở đây với bạn. Bạn có an toàn không?")).says("✓ Đã gửi cho Nguyễn Văn An (#1).")
    await an.during(app.scheduler.tick)
    # Later, in the middle of the monthly check-in, the crisis comes back: the counsellor who took the conversation
    # gets the alert and the words; not answered within 10 minutes, the officers hear of it, once.
    async with app.store.transaction() as repos:
        (crisis,) = await repos.escalations.open_for(participant_ids=[commune.an_id])
        await repos.escalations.acknowledge(crisis.id, 1)
    clock.advance(hours=2)
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    (await an.say("lại muốn chết rồi")).says("Cảm ơn bạn đã nói với mình").offers("Bình thường")  # the check-in waits
    (await dung.during(app.scheduler.tick)).says("Khẩn:", "lại muốn chết rồi")
    clock.advance(minutes=11)
    (await officer.during(app.scheduler.tick)).says("Khẩn:", "chưa có câu trả lời")
    assert (await officer.during(app.scheduler.tick)).text == ""
    await dung.press("Trả lời")
    (await dung.say("Mình gọi cho bạn ngay nhé.")).says("✓ Đã gửi")


async def test_no_counselling_point_no_conversation_and_a_move_hands_it_over(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_ward(service, "CG", "Phường Cầu Giấy")  # no counselling point yet
        _, invite = await add_person(service, "Lý Văn Cường", unit="CG", start=date(2026, 3, 1), risk=RiskLevel.LOW)
    cuong = sim.chat("lvc")
    await link_participant(cuong, invite.code)
    await cuong.say("giúp")
    (await cuong.press("Nói chuyện với tư vấn viên")).says(
        "Xã/phường của bạn chưa có điểm tư vấn nên mình chưa thể kết nối bạn với tư vấn viên ở đây."
    ).never_says("Kết thúc trò chuyện")
    (await cuong.say("em muốn nói chuyện")).says("chưa hiểu ý bạn").never_says("Mình đã giữ lời nhắn")  # not trapped

    # An's conversation with Dung, then An moves to Cầu Giấy: the request waits there, the conversation ends.
    an, dung = chats["an"], chats["counsellor"]
    await on_duty(dung)
    await talking(app, an, dung)
    (await an.say("Em sắp chuyển nhà ạ")).says("✓ Đã gửi.")  # queued for Dung when the move is accepted
    async with app.store.transaction() as repos:
        hd, cg = await repos.units.by_code("HD"), await repos.units.by_code("CG")
        assert hd is not None and cg is not None
        officer = (await repos.escalations.officers_of(hd.id))[0]
        transfer = await records.start_transfer(repos, commune.an_id, cg.id, date(2026, 11, 20), officer, clock.now())
        assert await records.decide_transfer(repos, transfer, True, officer)
    (await an.say("địa chỉ mới của em là 5 Lê Lợi")).says("Cuộc trò chuyện này đã kết thúc").never_says("✓ Đã gửi")
    assert (await dung.during(app.scheduler.tick)).text == ""  # nothing of An reaches Hà Đông's counsellor any more
    (await dung.say("An ơi?")).says("Cuộc trò chuyện này không mở cho anh/chị").never_says("✓ Đã gửi")
    async with app.store.transaction() as repos:
        referral = (await repos.referrals.of_participant(commune.an_id))[0]
    assert referral.point_id is None and referral.status == "requested" and referral.relay_ended_at is not None


async def test_a_message_arriving_mid_check_in_does_not_shift_the_answers(
    app: Application, chats: dict[str, Chat], commune: Commune
) -> None:
    """On Zalo a check-in answer is a number; a counsellor's message pushed in the middle must not renumber it."""
    an, dung = chats["an"], chats["counsellor"]
    await on_duty(dung)
    await talking(app, an, dung)
    await an.say("/menu")
    await an.press("Điểm danh tháng này")  # on Zalo a typed number: after /menu numbers choose again
    mood = an.buttons["Tốt"]  # what "Tốt" is on this channel before anything arrives (a number on Zalo)
    await dung.say("Bạn cứ điểm danh xong rồi mình nói tiếp nhé.")
    (await an.during(app.scheduler.tick)).says("Bạn có tin nhắn mới")
    an.buttons["Tốt"] = mood  # the check-in's buttons are still on screen (on Zalo: the number it showed)
    (await an.press("Tốt")).offers("Không")  # the next question: cravings
    async with app.store.transaction() as repos:
        started = await repos.obligations.by_key(f"checkin:{commune.an_id}:2026-11")
        assert started is not None
        answers = await repos.checkins.for_obligation(started.id)
    assert answers is not None and answers.answers["mood"] == "4"  # "Tốt", not the option two places away
