"""Transcripts: hotlines and support requests, and the crisis reply — in Vietnamese, through Telegram and Zalo.

A crisis message gets the safety reply at once, whatever the person was doing (here: in the middle of a check-in,
which then carries on), one urgent referral and alerts that do not wait for the end of quiet hours.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app import Application
from bot.domain.escalations import EscalationKind
from tests.e2e.zalo_client import ZaloChat
from tests.fakes.clock import FakeClock
from tests.support.at_rest import stored
from tests.support.chats import Chat, Chats, at_local, second_counsellor, tick_all
from tests.support.factories import Commune
from tests.support.records import audit_trail
from tests.support.texts import REVEALING, SAFETY

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)


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
    menu = await an.press("Yêu cầu hỗ trợ (học nghề, việc làm, …)")
    menu.says("Bạn cần hỗ trợ gì?\nYêu cầu của bạn sẽ được chuyển đến điểm tư vấn và người đồng hành của bạn.")
    menu.offers("Học nghề", "Hỗ trợ sinh kế, vay vốn")
    sent = await an.press("Học nghề")
    sent.says("Xong. Yêu cầu của bạn đã được chuyển đến điểm tư vấn và người đồng hành của bạn.")
    (await cadre.during(app.scheduler.tick)).says("Nguyễn Văn An (#1) cần hỗ trợ: Học nghề")
    await an.say("giúp")
    talk = await an.press("Nói chuyện với tư vấn viên")
    talk.says("Các tư vấn viên của điểm tư vấn đã được báo").offers("Kết thúc trò chuyện")
    async with app.store.transaction() as repos:
        kinds = [(r.kind, r.source) for r in await repos.referrals.of_participant(1)]
    assert sorted(kinds) == [("counselling", "help"), ("training", "help")]


async def test_crisis_in_the_middle_of_a_check_in(app: Application, chats: dict[str, Chat], clock: FakeClock) -> None:
    an, cadre, counsellor = chats["an"], chats["cadre"], chats["counsellor"]
    clock.set(at_local(date(2026, 12, 10), 22, 30))  # quiet hours: alerts still go out at once
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    (await an.press("Tốt")).offers("Không")  # second question: cravings
    reply = await an.say("mệt mỏi quá, chỉ muốn chết")
    reply.says(*SAFETY, "Điểm tư vấn Hà Đông")
    reply.says("\nMình đã báo cho tư vấn viên và người đồng hành của bạn để họ liên hệ với bạn sớm nhất.\n")
    reply.offers("Không")  # the check-in question is asked again: nothing is lost
    alerts: dict[str, object] = {}

    async def tick() -> None:
        alerts["counsellor"] = await counsellor.during(app.scheduler.tick)

    cadre_alert = await cadre.during(tick)
    cadre_alert.says(
        "Lúc 22:30 ngày 10/12/2026, Nguyễn Văn An (#1) đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng.",
        # The bot has no phone number for them: what the cadre can do.
        "Anh/chị vui lòng đến gặp trực tiếp họ ngay, hoặc nhờ người thân của họ đến xem tình hình. "
        "Nếu không thể, hãy báo cán bộ phụ trách xã/phường.",
    ).offers("Tôi nhận xử lý", "Mở hồ sơ")
    alerts["counsellor"].says(  # type: ignore[attr-defined]
        "Khẩn:\n", "Nguyễn Văn An (#1)", "\nCán bộ đồng hành (Trần Thị Bình) cũng đã được báo."
    )
    # A second message: the reply again (saying who was told then), no second alert.
    (await an.say("k mun song nua")).says(*SAFETY, "Mình đã báo cho tư vấn viên và người đồng hành của bạn")
    assert (await cadre.during(app.scheduler.tick)).text == ""
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(1, EscalationKind.CRISIS) == 1
        referrals = await repos.referrals.of_participant(1)
    assert [(r.urgency, r.source) for r in referrals] == [("urgent", "crisis")]
    # The check-in carries on where it was.
    await an.press("Không")
    (await an.press("Không")).offers("Đang đi làm")
    (await cadre.press("Tôi nhận xử lý")).says("Đã ghi nhận anh/chị nhận xử lý việc này")
    details = [entry.detail for entry in await audit_trail(app)]
    assert not any("muốn chết" in str(d) or "mun song" in str(d) for d in details)  # never the words


async def test_look_alikes_and_a_long_message(app: Application, sim: Chats, chats: dict[str, Chat]) -> None:
    an, cadre = chats["an"], chats["cadre"]
    for everyday in ("mệt muốn chết", "chết cười với ông", "từ từ rồi tính", "đói muốn chết"):
        (await an.say(everyday)).never_says("115", "Cảm ơn bạn đã nói với mình")
    long = "Hôm nay em kể chuyện. " * 600 + "Em không muốn sống nữa."
    (await an.say(long)).says(*SAFETY, "quá dài")  # a crisis is never refused for its length (then: too long)
    # Staff are not screened: a cadre quoting someone is not in crisis.
    await cadre.say("/menu")
    (await cadre.say("An nói muốn chết")).never_says("115")
    # Someone not linked yet still gets the numbers, and can link afterwards.
    stranger = sim.chat("khach")
    (await stranger.say("muon chet")).says(*SAFETY).never_says("Mình đã báo")
    (await stranger.say("giúp")).says("096 306 1414")
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(1, EscalationKind.CRISIS) == 1


async def test_counsellor_desk_urgent_first_taken_once_noted_and_closed(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune
) -> None:
    an, cadre, dung = chats["an"], chats["cadre"], chats["counsellor"]
    giao = await second_counsellor(app, sim)
    # Giao is on duty: a crisis alert goes to her only, Dung (off duty) is not woken.
    await giao.say("/menu")
    (await giao.press("Bắt đầu ca trực")).says("đang trong ca trực").offers("Kết thúc ca trực")
    await an.say("giúp")
    await an.press("Yêu cầu hỗ trợ (học nghề, việc làm, …)")
    await an.press("Học nghề")
    (await an.say("em không muốn sống nữa")).says(*SAFETY)
    pushed: dict[str, object] = {}

    async def tick() -> None:
        pushed["dung"] = await dung.during(app.scheduler.tick)

    (await giao.during(tick)).says("Khẩn:", "Nguyễn Văn An (#1)").offers("Xem yêu cầu")
    assert pushed["dung"].text == ""  # type: ignore[attr-defined]

    await dung.say("/menu")
    listing = await dung.press("Yêu cầu tư vấn")
    listing.says("2 yêu cầu tư vấn đang mở")
    urgent = "KHẨN · Nguyễn Văn An (#1) · tư vấn · đang chờ"
    assert listing.text.index(urgent) < listing.text.index("• Nguyễn Văn An (#1) · Học nghề · đang chờ")
    (await dung.press(urgent)).says("Gửi ngày").offers("Tôi nhận")
    (await giao.press("Xem yêu cầu")).offers("Tôi nhận")
    taken = await dung.press("Tôi nhận")  # a counselling request: straight into the conversation, with what was said
    taken.says("Đã nhận. Anh/chị có thể trò chuyện", "Nguyễn Văn An (#1) (23/11 09:00): em không muốn sống nữa")
    taken.offers("Chào hỏi", "Kết thúc trò chuyện")
    (await giao.press("Tôi nhận")).says("Yêu cầu này đã có tư vấn viên khác nhận")  # taken once
    (await an.during(app.scheduler.tick)).says("Tư vấn viên đã vào cuộc trò chuyện").never_says(*REVEALING)

    await dung.press("Về danh sách yêu cầu")
    await dung.press(urgent.replace("đang chờ", "đã có người nhận"))
    await dung.press("Ghi chú riêng")
    (await dung.say("Đã gọi điện 20 phút, hẹn gặp thứ Hai.")).says("Đã lưu ghi chú.", "hẹn gặp thứ Hai")
    (await dung.press("Đã tư vấn")).says("Đã đóng: Đã tư vấn.")
    (await an.during(app.scheduler.tick)).says("Tư vấn viên đã kết thúc cuộc trò chuyện")
    async with app.store.transaction() as repos:
        referrals = {r.kind: r for r in await repos.referrals.of_participant(1)}
        note = await repos.referrals.note_of(referrals["counselling"].id)
    talked, asked = referrals["counselling"], referrals["training"]
    assert talked.status == "closed" and talked.outcome == "advised" and talked.urgency == "urgent"
    assert None not in (talked.accepted_at, talked.relay_started_at, talked.relay_ended_at, talked.closed_at)
    assert asked.status == "requested" and (asked.accepted_at, asked.relay_started_at) == (None, None)
    assert note is not None and "hẹn gặp thứ Hai" in note
    assert not any(sealed and "thứ Hai" in sealed for sealed in await stored(app, "referral", "note_enc"))
    # The cadre sees the status on the person's card, not what was said.
    await cadre.say("/menu")
    await cadre.press("Người tôi đồng hành")
    (await cadre.press("Nguyễn Văn An (#1)")).says("Yêu cầu tư vấn/hỗ trợ:", "tư vấn — đã đóng", "Học nghề — đang chờ")
    if not isinstance(cadre, ZaloChat):  # a cadre forging a counsellor's button gets nothing
        (await cadre.press_action("ref:ok:1")).says("Nút này đã hết hiệu lực")


async def test_an_urgent_referral_nobody_takes_goes_to_the_next_on_duty_then_to_the_officer(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, dung = chats["an"], chats["counsellor"]
    officer = sim.chat("cuong")
    await officer.say(commune.officer_code)
    giao = await second_counsellor(app, sim)
    for counsellor in (dung, giao):  # both on duty: Dung is first in line, Giao next
        await counsellor.say("/menu")
        await counsellor.press("Bắt đầu ca trực")
    start = at_local(date(2026, 11, 24), 23, 0)  # in the night: nothing waits for the morning
    clock.set(start)
    (await an.say("I want to end my life")).says(*SAFETY)
    (await dung.during(app.scheduler.tick)).says("Khẩn:")
    assert (await giao.during(app.scheduler.tick)).text == ""  # the next one, only if Dung does not take it

    clock.set(start + timedelta(minutes=11))
    (await giao.during(app.scheduler.tick)).says("Khẩn:", "Nguyễn Văn An (#1)")  # nobody took it: the next on duty
    assert (await officer.during(app.scheduler.tick)).text == ""
    assert (await dung.during(app.scheduler.tick)).text == ""  # not woken twice
    clock.set(start + timedelta(minutes=21))
    (await officer.during(app.scheduler.tick)).says(
        "Khẩn:\nLúc 23:00 ngày 24/11/2026, Nguyễn Văn An (#1) đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng.\n"
        "Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\n"
        "Đã 21 phút chưa có tư vấn viên nào nhận yêu cầu tư vấn khẩn.\n"
        "Cán bộ đồng hành (Trần Thị Bình) cũng đã được báo.\n"
        "Anh/chị vui lòng bảo đảm có người đến gặp trực tiếp họ ngay."
    )
    assert (await officer.during(app.scheduler.tick)).text == ""  # once

    # Once someone takes it, nothing more goes out about it.
    await giao.press("Xem yêu cầu")
    (await giao.press("Tôi nhận")).says("Đã nhận")
    clock.set(start + timedelta(minutes=40))
    assert (await dung.during(app.scheduler.tick)).text == ""


async def test_a_second_crisis_on_a_referral_nobody_took_starts_a_new_round(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    an, dung = chats["an"], chats["counsellor"]
    giao = await second_counsellor(app, sim)
    for counsellor in (dung, giao):
        await counsellor.say("/menu")
        await counsellor.press("Bắt đầu ca trực")
    start = at_local(date(2026, 11, 24), 10, 0)
    clock.set(start)
    await an.say("em muốn chết")
    first = await tick_all([dung, giao], app.scheduler.tick)
    first[0].says("Khẩn:")
    assert first[1].text == ""
    async with app.store.transaction() as repos:  # the cadre dealt with it; the referral is still not taken
        (crisis,) = await repos.escalations.open_for(participant_ids=[commune.an_id])
        await repos.escalations.acknowledge(crisis.id, commune.cadre_id)
    clock.set(start + timedelta(hours=3))
    await an.say("lại muốn chết")
    again = await tick_all([dung, giao], app.scheduler.tick)
    again[0].says("Khẩn:")  # a new episode: the first on duty again
    assert again[1].text == ""
    clock.set(start + timedelta(hours=3, minutes=11))
    (await giao.during(app.scheduler.tick)).says("Khẩn:")  # then the next one, as for the first episode
    async with app.store.transaction() as repos:
        referrals = await repos.referrals.of_participant(commune.an_id)
    assert len(referrals) == 1  # one request, urgent twice
