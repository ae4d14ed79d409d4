"""Transcripts of the schedule engine: a fake clock drives `tick` day by day, people answer through a real channel.

The long one follows one person through a whole 24-month term: every monthly reminder, check-ins (one skipped, one
risky, one early), random tests announced on their day, escalations to the cadre and on to the officer, an
unreported absence that moves the end of the term, and completion, after which nothing more is sent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.app import Application
from bot.domain.consent import Purpose
from bot.domain.entities import ParticipantStatus, RiskLevel, Role
from tests.e2e.simulator_client import Said
from tests.fakes.clock import FakeClock
from tests.support.chats import HANOI, Chats, answer_checkin, at_local, link_participant, open_card, tick_all
from tests.support.factories import Commune, add_staff, enrol_hanh
from tests.support.records import audit_trail, audited
from tests.support.texts import REVEALING


@pytest.mark.slow
# One channel: 790 days of ticks cost 80 s a run, and what a channel does with these messages (numbered menus on
# Zalo, buttons on Telegram) is shown by the shorter schedule transcripts below, which run through every channel.
@pytest.mark.parametrize("channel_kind", ["telegram-webhook"], indirect=True)
# And on SQLite only (140 s on PostgreSQL, the suite's longest test): the planner's and the outbox's statements it
# runs are run on PostgreSQL by the shorter schedule transcripts and tests/integration/test_outbox.py.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_whole_24_month_term(app: Application, sim: Chats, commune: Commune, clock: FakeClock) -> None:
    hanh = await enrol_hanh(app, date(2026, 12, 1))
    person_chat, cadre_chat, officer_chat = sim.chat("hanh"), sim.chat("binh"), sim.chat("cuong")
    await link_participant(person_chat, hanh.code)
    (await cadre_chat.say(commune.cadre_code)).says("Xin chào Trần Thị Bình")
    (await officer_chat.say(commune.officer_code)).says("Xin chào Lê Văn Cường")

    received: dict[date, list[Said]] = {}
    day = date(2026, 11, 24)
    last_day = date(2029, 1, 15)
    while day <= last_day:
        clock.set(at_local(day))
        said = await tick_all([person_chat, cadre_chat, officer_chat], app.scheduler.tick)
        received[day] = said
        mine = said[0]
        # The person's side of the transcript, by the calendar.
        if "Đã nhận" in [label for reply in mine for label in reply.labels]:
            (await person_chat.press("Đã nhận")).says("Cảm ơn bạn", "Trạm y tế phường Hà Đông")
        if day == date(2027, 1, 15) and "Tôi nhận xử lý" in [lb for r in said[2] for lb in r.labels]:
            (await officer_chat.press("Tôi nhận xử lý")).says("Đã ghi nhận anh/chị nhận xử lý việc này")
        if day.day == 10 and day not in (date(2027, 1, 10), date(2027, 3, 10)) and day <= date(2028, 12, 10):
            mine.says("là ngày hẹn của bạn")
            await person_chat.press("Điểm danh tháng này")
            if day == date(2027, 2, 10):
                (await answer_checkin(person_chat, cravings="Nhiều, khó kiềm chế")).says(
                    "Cảm ơn bạn đã chia sẻ thật lòng. Mình đã báo cho người đồng hành của bạn.", "tư vấn viên"
                ).offers("Có, kết nối tôi với tư vấn viên")
                (await person_chat.press("Có, kết nối tôi với tư vấn viên")).says("tư vấn viên sẽ trả lời")
            else:
                (await answer_checkin(person_chat)).says("đã ghi nhận điểm danh tháng")
        if day == date(2027, 3, 8):
            await person_chat.press("Điểm danh tháng này")
            (await answer_checkin(person_chat)).says("đã ghi nhận điểm danh tháng 03/2027")
            (await person_chat.press("Điểm danh tháng này")).says("Bạn đã điểm danh tháng này rồi")
        if day == date(2027, 2, 11):
            (await cadre_chat.press("Tôi nhận xử lý")).says("Đã ghi nhận anh/chị nhận xử lý việc này")
        if day == date(2027, 6, 20):  # the officer records an unreported absence from the chat
            await officer_chat.say("/menu")
            (await officer_chat.press("Ghi nhận vắng mặt")).says("chọn người vắng mặt")
            await officer_chat.press(f"Vũ Thị Hạnh (#{hanh.id})")
            await officer_chat.say("01/06/2027 - 10/06/2027")
            (await officer_chat.press("Không báo trước")).says(
                "Đã ghi nhận: vắng mặt 10 ngày", "Dự kiến kết thúc thời gian quản lý: 11/12/2028"
            )
            (await person_chat.say("/menu")).offers("Lịch hẹn của tôi")
            (await person_chat.press("Lịch hẹn của tôi")).says(
                "Dự kiến kết thúc thời gian quản lý: 11/12/2028", "10/07/2027"
            )
        day += timedelta(days=1)

    def texts(index: int, when: date) -> str:
        return received[when][index].text

    # December 2026, the first month: reminder three days ahead, on the day, nothing after the check-in.
    assert "Nhắc nhẹ: bạn có lịch hẹn ngày 10/12/2026" in texts(0, date(2026, 12, 7))
    assert "Hôm nay, 10/12/2026, là ngày hẹn của bạn" in texts(0, date(2026, 12, 10))
    assert "Hôm qua" not in texts(0, date(2026, 12, 11))
    # January 2027, skipped: follow-up, then the cadre on day 3, then the officer two days later.
    assert "Hôm qua, 10/01/2027, là ngày hẹn của bạn" in texts(0, date(2027, 1, 11))
    assert "Vũ Thị Hạnh" in texts(1, date(2027, 1, 13)) and "chưa điểm danh tháng này" in texts(1, date(2027, 1, 13))
    assert "Cần anh/chị quan tâm" in texts(1, date(2027, 1, 13))
    assert "chưa điểm danh" in texts(2, date(2027, 1, 15)) and "chưa nhận xử lý" in texts(2, date(2027, 1, 15))
    assert "Lỡ hẹn:" in texts(1, date(2027, 1, 13))
    # February 2027, risky answers: the cadre hears of it (answers shared by consent) and of the referral request.
    feb = texts(1, date(2027, 2, 11))
    assert "thèm dùng lại nhiều" in feb and "muốn nói chuyện với tư vấn viên" in feb
    assert "chưa nhận xử lý" not in texts(2, date(2027, 2, 13))  # acknowledged in time: the officer is not told
    # March 2027, checked in early: no check-in reminder on the day, only the visit's own reminder remains.
    assert "là ngày hẹn của bạn" not in texts(0, date(2027, 3, 10))
    assert "Hôm nay, 10/03/2027, bạn có lịch hẹn" in texts(0, date(2027, 3, 10))
    # The cadre's morning digest lists what is due today.
    assert "Chào buổi sáng" in texts(1, date(2027, 4, 10)) and "Đến hạn hôm nay:" in texts(1, date(2027, 4, 10))
    # Completion after the extended end (11/12/2028): a last message, the officer's notice, then silence.
    assert "đã kết thúc ngày 11/12/2028" in texts(0, date(2028, 12, 12))
    assert "Mẫu 54" in texts(2, date(2028, 12, 12))
    assert all(texts(0, date(2028, 12, 13) + timedelta(days=n)) == "" for n in range(30))

    all_person = [reply.text for said in received.values() for reply in said[0]]
    for text in all_person:
        assert not any(word in text.lower() for word in REVEALING), text
    duplicates = Counter((d, r.text) for d, said in received.items() for r in said[0])
    assert max(duplicates.values()) == 1

    async with app.store.transaction() as repos:
        obligations = await repos.obligations.of_participant(hanh.id, date(2026, 1, 1), date(2030, 1, 1))
        person = await repos.participants.get(hanh.id)
    rows = [(o.kind, o.due_on, o.status) for o in obligations]
    assert person is not None and person.status is ParticipantStatus.COMPLETED
    per_month: dict[tuple[int, int], int] = defaultdict(int)
    for kind, due, status in rows:
        if kind == "checkin" and status != "cancelled":
            per_month[(due.year, due.month)] += 1
    months = {(2026 + (11 + n) // 12, (11 + n) % 12 + 1) for n in range(25)}  # Dec 2026 … Dec 2028
    assert set(per_month) == months and set(per_month.values()) == {1}
    random_tests = [due for kind, due, _ in rows if kind == "random_test"]
    assert len(random_tests) >= 7  # high risk: one unannounced test per quarter of the term
    announced = [d for d, said in received.items() if "Đã nhận" in _labels(said[0])]
    assert sorted(announced) == sorted(d for d in random_tests if d <= date(2028, 12, 11))


def _labels(said: Said) -> list[str]:
    return [label for reply in said for label in reply.labels]


async def test_quiet_hours_hold_a_message_until_morning(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    """A risky check-in late at night: the cadre's alert waits for 07:00, then goes out first thing."""
    hanh = await enrol_hanh(app, date(2026, 11, 1), months=12, risk=RiskLevel.MEDIUM)
    person_chat, cadre_chat = sim.chat("hanh"), sim.chat("binh")
    await link_participant(person_chat, hanh.code)
    await cadre_chat.say(commune.cadre_code)
    clock.set(at_local(date(2026, 11, 23), 22, 30))
    await person_chat.say("/menu")
    await person_chat.press("Điểm danh tháng này")
    await answer_checkin(person_chat, call="Có, hãy gọi cho tôi")
    night = await tick_all([cadre_chat], app.scheduler.tick)
    assert night[0].text == ""
    clock.set(at_local(date(2026, 11, 24), 6, 59))
    assert (await tick_all([cadre_chat], app.scheduler.tick))[0].text == ""
    clock.set(at_local(date(2026, 11, 24), 7, 0))
    morning = await tick_all([cadre_chat], app.scheduler.tick)
    morning[0].says("Cần anh/chị quan tâm", "Vũ Thị Hạnh", "muốn được gọi điện")


async def test_checkin_is_resumable_one_per_month_and_rejects_bad_input(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    hanh = await enrol_hanh(app, date(2026, 11, 1), months=12, risk=RiskLevel.MEDIUM)
    chat = sim.chat("hanh")
    await link_participant(chat, hanh.code)
    (await chat.press("Điểm danh tháng này")).says("Câu 1/6", "Tháng này bạn cảm thấy thế nào?").offers("Bỏ qua")
    await chat.press("Bình thường")
    (await chat.say("x" * 10_000)).says("quá dài", "Câu 2/6")
    (await chat.send_media("sticker")).says("Câu 2/6")
    (await chat.say("mình không biết")).says("Bạn hãy chọn một trong các lựa chọn", "Câu 2/6")
    await chat.press("Bỏ qua")
    (await chat.press("Để sau")).says("đã được lưu")
    # Interrupted by another menu, then resumed exactly where it stopped.
    await chat.press("Lịch hẹn của tôi")
    (await chat.say("/menu")).offers("Điểm danh tháng này")
    (await chat.press("Điểm danh tháng này")).says("tiếp tục từ chỗ bạn dừng", "Câu 3/6")
    await chat.press("Tôi không muốn trả lời")
    await chat.press("Đang tìm việc")
    await chat.press("Học nghề")
    (await chat.press("Giấy tờ")).offers("✓ Học nghề", "✓ Giấy tờ")
    (await chat.press("✓ Học nghề")).offers("Học nghề", "✓ Giấy tờ")
    await chat.press("Xong")
    # With the consent to referrals, a stated need becomes a request of its kind at once.
    (await chat.press("Không, cảm ơn")).says(
        "đã ghi nhận điểm danh tháng 11/2026", "Lần điểm danh tới: 10/12/2026",
        "Mình đã chuyển nhu cầu hỗ trợ của bạn (Giấy tờ) đến điểm tư vấn.",
    ).offers("Điểm danh tháng này")  # fmt: skip
    (await chat.press("Điểm danh tháng này")).says("Bạn đã điểm danh tháng này rồi", "10/12/2026")
    async with app.store.transaction() as repos:
        obligation = await repos.obligations.by_key(f"checkin:{hanh.id}:2026-11")
        assert obligation is not None
        saved = await repos.checkins.for_obligation(obligation.id)
    assert saved is not None and saved.answers == {
        "mood": "3",
        "cravings": "skipped",
        "use": "private",
        "work": "looking",
        "needs": ["papers"],
        "call": "no",
        "needs_fate": "consented",
    }
    assert not saved.risky
    # Next month the same need, still open, is not asked for twice; a new one is.
    clock.set(at_local(date(2026, 12, 10)))
    await chat.press("Điểm danh tháng này")
    for answer in ("Tốt", "Không", "Không", "Đang tìm việc", "Giấy tờ", "Hỗ trợ sinh kế, vay vốn", "Xong"):
        await chat.press(answer)
    (await chat.press("Không, cảm ơn")).says(
        "Mình đã chuyển nhu cầu hỗ trợ của bạn (Hỗ trợ sinh kế, vay vốn) đến điểm tư vấn.",
        "Yêu cầu hỗ trợ trước đây của bạn (Giấy tờ) vẫn đang được xử lý",
    )
    async with app.store.transaction() as repos:
        requests = await repos.referrals.of_participant(hanh.id)
    assert sorted((r.kind, r.source, r.status) for r in requests) == [
        ("livelihood", "checkin_needs", "requested"),
        ("papers", "checkin_needs", "requested"),
    ]
    assert await audited(app, "checkin_needs_passed_on") == 2


async def test_forged_test_acknowledgement_and_escalation_by_the_wrong_cadre(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    """Payloads name records; the server checks whose they are, at the moment of the press."""
    hanh = await enrol_hanh(app, date(2026, 11, 1), months=12, risk=RiskLevel.MEDIUM)
    chat = sim.chat("hanh")
    await link_participant(chat, hanh.code)
    async with app.store.transaction() as repos:
        other_test = await repos.obligations.add_drawn(commune.binh_id, "random_test:x:2026-10:0", date(2026, 11, 23))
    (await chat.press_action(f"test:ack:{other_test}")).says("Nút này đã hết hiệu lực")
    async with app.store.transaction() as repos:
        assert (await repos.obligations.get(other_test or 0)).acknowledged_at is None  # type: ignore[union-attr]

    # A risky check-in alerts the cadre; the person is then reassigned, and the old cadre's button stops working.
    cadre = sim.chat("binh")
    await cadre.say(commune.cadre_code)
    await chat.say("/menu")
    await chat.press("Điểm danh tháng này")
    await answer_checkin(chat, cravings="Nhiều, khó kiềm chế")
    (await tick_all([cadre], app.scheduler.tick))[0].says("Cần anh/chị quan tâm", "Vũ Thị Hạnh").offers(
        "Tôi nhận xử lý"
    )
    other, _ = await add_staff(app, "Ngô Văn Khánh", Role.CADRE)
    async with app.store.transaction() as repos:  # reassigned behind the cadre's back (no notice, no audit)
        await repos.participants.assign(hanh.id, other.id)
    (await cadre.press("Tôi nhận xử lý")).says("không thuộc phạm vi của anh/chị")
    async with app.store.transaction() as repos:
        escalations = await repos.escalations.recent_of(hanh.id)
    denied = await audited(app, "denied:acknowledge_escalation")
    assert [e.acknowledged_at for e in escalations] == [None]
    assert denied == 1


async def test_reminder_hour_and_wording_are_the_participants_choice(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    hanh = await enrol_hanh(app, date(2026, 11, 1), months=12, risk=RiskLevel.HIGH)
    app.scheduler.planner.policy = replace(app.scheduler.planner.policy, random_tests_per_quarter={})
    chat = sim.chat("hanh")
    await link_participant(chat, hanh.code)
    await chat.press("Cài đặt")
    (await chat.press("Giờ nhắc lịch")).says("Hiện tại: 08:00").offers("19:00")
    (await chat.press("19:00")).says("khoảng 19:00")
    await chat.press("Cài đặt")
    await chat.press("Cách viết lời nhắc")
    await chat.press("Ghi rõ nội dung")
    clock.set(at_local(date(2026, 12, 7), 8))
    morning = await tick_all([chat], app.scheduler.tick)
    assert morning[0].text == ""
    clock.set(at_local(date(2026, 12, 7), 19))
    evening = await tick_all([chat], app.scheduler.tick)
    evening[0].says("điểm danh hằng tháng", "10/12/2026", "xét nghiệm ma túy")
    async with app.store.transaction() as repos:  # what is still to come is planned for 19:00 as well
        planned = await repos.outbox.pending_reminders([hanh.id])
    assert planned and {p.due_at.astimezone(HANOI).hour for p in planned.values()} == {19}


async def test_an_officer_records_an_absence_and_the_term_moves(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    hanh = await enrol_hanh(app, date(2026, 12, 1), months=12, risk=RiskLevel.LOW)
    officer, cadre, person = sim.chat("cuong"), sim.chat("binh"), sim.chat("hanh")
    await link_participant(person, hanh.code)
    (await officer.say(commune.officer_code)).offers("Ghi nhận vắng mặt")
    said = await officer.press("Ghi nhận vắng mặt")
    said.says("Ghi nhận vắng mặt: anh/chị chọn người vắng mặt.").offers(
        f"Vũ Thị Hạnh (#{hanh.id})", "Nguyễn Văn An (#1)", "Hủy"
    )
    await officer.press(f"Vũ Thị Hạnh (#{hanh.id})")
    (await officer.say("ngày mai")).says("Chưa đọc được ngày", "ví dụ: 01/06/2027 - 10/06/2027")
    (await officer.say("10/03/2027 - 01/03/2027")).says("Chưa đọc được ngày")
    (await officer.say("31/02/2027 - 01/03/2027")).says("Chưa đọc được ngày")
    (await officer.say("x" * 10_000)).says("quá dài", "ví dụ: 01/06/2027")
    (await officer.send_media("sticker")).says("ví dụ: 01/06/2027")
    (await officer.say("01/03/2027 – 05/03/2027")).says("có báo trước không?").offers("Có báo trước")
    (await officer.press("Có báo trước")).says(
        "Đã ghi nhận: vắng mặt 5 ngày", "Dự kiến kết thúc thời gian quản lý: 01/12/2027"
    ).offers("Ghi nhận vắng mặt")
    await officer.press("Ghi nhận vắng mặt")
    await officer.press(f"Vũ Thị Hạnh (#{hanh.id})")
    await officer.say("01.04.2027 đến 03.04.2027")
    (await officer.press("Không báo trước")).says("vắng mặt 3 ngày", "Dự kiến kết thúc thời gian quản lý: 04/12/2027")
    async with app.store.transaction() as repos:
        record = await repos.participants.get(hanh.id)
        absences = await repos.absences.of(hanh.id)
    assert record is not None and record.expected_end == date(2027, 12, 4)
    assert [(a.reported, (a.ends_on - a.starts_on).days + 1) for a in absences] == [(True, 5), (False, 3)]
    (await person.say("/menu")).offers("Lịch hẹn của tôi")
    (await person.press("Lịch hẹn của tôi")).says("Dự kiến kết thúc thời gian quản lý: 04/12/2027")
    # A cadre has no such tool, and a pasted payload is refused before any rule runs.
    (await cadre.say(commune.cadre_code)).never_says("Ghi nhận vắng mặt")
    (await cadre.press_action("absence:start")).says("Nút này đã hết hiệu lực")
    (await officer.press("Ghi nhận vắng mặt")).offers("Hủy")
    (await officer.press("Hủy")).says("Đã hủy. Chưa ghi nhận gì.")


async def test_without_consent_answers_stay_private_and_a_referral_needs_consent(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    hanh = await enrol_hanh(app, date(2026, 11, 1), months=12, risk=RiskLevel.MEDIUM)
    chat, cadre = sim.chat("hanh"), sim.chat("binh")
    await link_participant(chat, hanh.code)
    await cadre.say(commune.cadre_code)
    await chat.press("Cài đặt")
    await chat.press("Quyền đồng ý")
    await chat.press("Chia sẻ câu trả lời điểm danh với người đồng hành")
    await chat.press("Có, rút lại")  # after its effects are shown
    await chat.press("Kết nối tư vấn")
    await chat.press("Có, rút lại")
    await chat.say("/menu")
    await chat.press("Điểm danh tháng này")
    said = await answer_checkin(chat, cravings="Nhiều, khó kiềm chế")
    # One question at a time, safety first: the counsellor offered at once, whether to pass the stated need on
    # (no standing consent) asked after its answer.
    said.says("Cảm ơn bạn đã chia sẻ thật lòng", "tư vấn viên không?").offers("Có, kết nối tôi với tư vấn viên")
    said.never_says("đã báo", "người đồng hành", "Bạn cho biết bạn cần hỗ trợ")  # nobody told: not claimed
    again = await chat.say("ừm")  # the offer again
    again.says("Bạn hãy chọn một trong các lựa chọn", "tư vấn viên").offers("Để lúc khác")
    # "Yes" to the counsellor: refused without consent to referrals, and the needs question still follows.
    (await chat.press("Có, kết nối tôi với tư vấn viên")).says(
        "mình cần bạn đồng ý mục “Kết nối tư vấn”", "Bạn cho biết bạn cần hỗ trợ: Việc làm."
    ).offers("Có, hãy chuyển giúp tôi", "Không, cảm ơn")
    async with app.store.transaction() as repos:
        november = await repos.obligations.by_key(f"checkin:{hanh.id}:2026-11")
    assert november is not None
    (await chat.press_action(f"checkin:needs:{november.id + 1}:yes")).says("Nút này đã hết hiệu lực")  # forged
    (await chat.press("Không, cảm ơn")).says("mình chưa chuyển gì đi cả").offers("Điểm danh tháng này")
    (await chat.press_action(f"checkin:needs:{november.id}:yes")).says("Nút này đã hết hiệu lực")  # no longer asked
    assert (await tick_all([cadre], app.scheduler.tick))[0].text == ""  # nothing about the answers reaches the cadre
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(hanh.id, "risky_checkin") == 0
        assert await repos.referrals.of_participant(hanh.id) == []  # "no": nothing passed on
    # Next month "yes": a permission for these requests only (audited), the consent itself unchanged.
    clock.set(at_local(date(2026, 12, 10)))
    await chat.say("/menu")
    await chat.press("Điểm danh tháng này")
    # A risky one again: "not now" to the counsellor, then the needs question.
    (await answer_checkin(chat, cravings="Nhiều, khó kiềm chế")).offers("Để lúc khác")
    (await chat.press("Để lúc khác")).offers("Có, hãy chuyển giúp tôi")
    yes = chat.buttons["Có, hãy chuyển giúp tôi"]  # type: ignore[attr-defined]
    (await chat.press("Có, hãy chuyển giúp tôi")).says(
        "Mình đã chuyển nhu cầu hỗ trợ của bạn (Việc làm) đến điểm tư vấn và người đồng hành của bạn."
    ).offers("Điểm danh tháng này")
    chat.buttons["Có, hãy chuyển giúp tôi"] = yes  # type: ignore[attr-defined]  # pressed again, still on screen
    (await chat.press("Có, hãy chuyển giúp tôi")).never_says("Mình đã chuyển")
    (await tick_all([cadre], app.scheduler.tick))[0].says(
        "Trong lần điểm danh hằng tháng, Vũ Thị Hạnh", "cho biết cần hỗ trợ: Việc làm"
    ).never_says("thèm", "dùng lại")
    async with app.store.transaction() as repos:
        requests = await repos.referrals.of_participant(hanh.id)
        consents = await repos.consents.current(hanh.id)
    assert [(r.kind, r.source) for r in requests] == [("job", "checkin_needs")]
    assert not consents.get(Purpose.REFERRALS)
    (passed,) = await audit_trail(app, "checkin_needs_passed_on")
    assert passed.detail["permission"] == "once" and passed.detail["referrals"] == [requests[0].id]
    card = await open_card(cadre, f"Vũ Thị Hạnh (#{hanh.id})")
    card.says("Tìm việc làm (nêu khi điểm danh) — đang chờ tư vấn viên")
