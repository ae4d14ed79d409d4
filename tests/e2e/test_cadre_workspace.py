"""Transcripts of the cadre's workspace, in Vietnamese, through Telegram (buttons) and Zalo (numbered menus):
the cadre's list and a person's card, in-person checks, test results, observations, the alerts inbox, quarterly
reviews, absences and moves reported in the community, and the officer's side of each.

Bad input is part of every flow: another cadre's person, a reassignment in the middle of a flow, a forged button,
a replayed webhook, 5,000 and 10,000 characters, a sticker, a note typed while buttons are open.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Application
from bot.domain.entities import RiskLevel, Role
from bot.domain.escalations import EscalationKind
from bot.domain.planning import ObligationKind
from tests.e2e.simulator_client import Said
from tests.e2e.zalo_client import ZaloChat
from tests.fakes.clock import FakeClock
from tests.support.at_rest import stored
from tests.support.chats import Chat, Chats, at_local, open_card, replayed
from tests.support.factories import Commune, add_person, add_staff, add_ward
from tests.support.records import audit_trail, audited, chat_state
from tests.support.texts import AN, REVEALING

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)


async def test_list_card_search_and_in_person_check(
    app: Application, linked: dict[str, Chat], commune: Commune
) -> None:
    cadre = linked["cadre"]
    await cadre.say("/menu")
    listing = await cadre.press("Người tôi đồng hành")
    listing.says("Danh sách của anh/chị:", AN, "1 việc quá hạn", "chưa điểm danh").never_says("Đỗ Thị Bích")
    card = await cadre.press(AN)
    card.says(AN, "15/01/2026", "Xét nghiệm và kết quả:", "12/2026").offers(
        "Kiểm diện", "Kết quả xét nghiệm", "Ghi chú"
    )
    assert await audited(app, "participant_card_viewed", subject_id=1) == 1

    await cadre.press("Kiểm diện")
    (await cadre.say("có mặt ạ")).says("nội dung vừa gõ chưa được lưu").offers("Có mặt")  # text where a tap is asked
    (await cadre.send_media("sticker")).says("Trợ lý chỉ đọc được tin nhắn chữ. Anh/chị").offers("Có mặt")
    saved = await cadre.press("Có mặt")
    saved.says("Đã ghi nhận kiểm diện tháng 12/2026 của Nguyễn Văn An (#1): có mặt", "Điểm danh tháng này đã hoàn tất")
    async with app.store.transaction() as repos:
        december = await repos.obligations.by_key("checkin:1:2026-12")
        [check] = await repos.fieldwork.in_person_of(1)
    assert december is not None and december.status == "done" and check.outcome == "present"
    [recorded] = await audit_trail(app, "in_person_check_recorded", subject_id=1)
    assert recorded.actor_id == commune.cadre_id

    # Absent, with a reason typed in Vietnamese; the reason is stored encrypted.
    await cadre.press("Kiểm diện")
    await cadre.press("Vắng mặt, có lý do")
    (await cadre.say("Đi làm xa ở Bắc Ninh")).says("vắng mặt", "Đi làm xa ở Bắc Ninh")
    async with app.store.transaction() as repos:
        [check] = await repos.fieldwork.in_person_of(1)
    assert check.outcome == "absent" and check.reason == "Đi làm xa ở Bắc Ninh"
    assert not any("Bắc Ninh" in (sealed or "") for sealed in await stored(app, "in_person_check", "reason_enc"))

    # Search by initials (without diacritics), by code, and a search that finds nobody.
    await cadre.press("Về danh sách")
    (await cadre.say("nva")).says("Kết quả tìm “nva”:", AN)
    (await cadre.say("#1")).says(AN)
    (await cadre.say("#2")).says("Không có ai trong danh sách khớp với “#2”").never_says("Đỗ Thị Bích")
    (await cadre.say("x" * 10_000)).says("quá dài")
    (await cadre.press("Hiện tất cả")).says(AN)


async def test_another_cadres_person_and_forged_buttons(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune
) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    # Bích (#2) has no cadre: this cadre cannot find her by any search...
    await cadre.say("/menu")
    await cadre.press("Người tôi đồng hành")
    (await cadre.say("Bích")).says("Không có ai").never_says("Đỗ Thị Bích")
    (await cadre.say("dtb")).never_says("Đỗ Thị Bích")
    # ...while the officer sees the whole commune.
    (await open_card(officer, "Đỗ Thị Bích (#2)", "Danh sách xã/phường")).says("Đỗ Thị Bích (#2)")
    # A forged or guessed button for her card, her test result, an observation: refused, audited, nothing written.
    if isinstance(cadre, ZaloChat):
        (await cadre.say("case:open:2")).says("Không có ai").never_says("Đỗ Thị Bích")  # typed: only a search
    else:
        for forged in ("case:open:2", "case:test:2", "fw:save", "off:tra:1", "inbox:open:1"):
            (await cadre.press_action(forged)).says("Nút này đã hết hiệu lực").never_says("Đỗ Thị Bích")
        assert await audited(app, "stale_button") >= 5
    async with app.store.transaction() as repos:
        assert await repos.fieldwork.test_results_of(2) == [] and await repos.fieldwork.test_results_of(1) == []
    assert await audited(app, "participant_card_viewed", subject_id=2, actor_id=1) == 0


async def test_a_counsellor_has_no_list(sim: Chats, commune: Commune) -> None:
    counsellor = sim.chat("dung")
    (await counsellor.say(commune.counsellor_code)).says("tư vấn viên")
    menu = await counsellor.say("/menu")
    assert not {"Người tôi đồng hành", "Danh sách xã/phường", "Việc cần xử lý"} & {
        label for reply in menu for label in reply.labels
    }


async def test_officer_reassigns_mid_conversation(app: Application, sim: Chats, linked: dict[str, Chat]) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    _, giang_invite = await add_staff(app, "Phạm Văn Giang", Role.CADRE)
    giang = sim.chat("giang")
    await giang.say(giang_invite.code)

    (await open_card(cadre)).says(AN)
    await cadre.press("Ghi chú")  # the cadre starts a note...
    await cadre.press("Gia đình")

    card = await open_card(officer, AN, "Danh sách xã/phường")  # ...while the officer reassigns An
    card.offers("Phân công cán bộ đồng hành")
    (await officer.press("Phân công cán bộ đồng hành")).says("Hiện tại: Trần Thị Bình").offers("Phạm Văn Giang")
    (await officer.press("Phạm Văn Giang")).says("Xong: từ nay Phạm Văn Giang đồng hành với Nguyễn Văn An (#1)")
    (await giang.during(app.scheduler.tick)).says("Anh/chị được phân công đồng hành với Nguyễn Văn An (#1)")
    (await giang.press("Mở hồ sơ")).says(AN, "Xét nghiệm và kết quả:")

    # The old cadre finishes typing: nothing is written, and she is told it is out of her scope.
    typed = await cadre.say("Gia đình An rất ủng hộ việc đi làm lại.")
    typed.says("Việc này không thuộc phạm vi của anh/chị").never_says("Đã lưu ghi chú", "Gia đình An")
    async with app.store.transaction() as repos:
        assert await repos.fieldwork.observations_of(1) == []
    # Her list: An is gone at once.
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).says("Anh/chị chưa được phân công ai").never_says(AN)
    assert await audited(app, "denied:log_observation") == 1
    assert await audited(app, "cadre_assigned", subject_id=1) == 1


async def test_positive_result_one_escalation_one_neutral_offer(
    app: Application, linked: dict[str, Chat], clock: FakeClock
) -> None:
    an, cadre, officer = linked["an"], linked["cadre"], linked["officer"]
    await open_card(cadre)
    (await cadre.press("Kết quả xét nghiệm")).offers("Xét nghiệm ngoài lịch")
    await cadre.press("Xét nghiệm ngoài lịch")
    (await cadre.press("Dương tính")).offers("Không rõ / bỏ qua")
    await cadre.press("Không rõ / bỏ qua")
    (await cadre.say("31/12/2026")).says("trong tương lai")  # a date in the future is refused
    await cadre.press("Hôm nay (12/12/2026)")
    await cadre.say("Trạm y tế phường Hà Đông")
    first, second = await replayed(cadre, "Lưu kết quả")
    first.says("Đã lưu kết quả.", "Đã báo cán bộ phụ trách xã/phường")
    assert second.text == ""  # the replayed update is not handled again
    async with app.store.transaction() as repos:
        assert len(await repos.fieldwork.test_results_of(1)) == 1
        assert await repos.escalations.count_kind(1, EscalationKind.TEST_RESULT) == 1

    pushed: dict[str, Said] = {}

    async def tick() -> None:
        pushed["officer"] = await officer.during(app.scheduler.tick)

    pushed["an"] = await an.during(tick)
    officer_alert = pushed["officer"]
    assert len(officer_alert) == 1, officer_alert.text
    officer_alert.says("Có việc cần anh/chị theo dõi về Nguyễn Văn An (#1)").never_says("dương tính", *REVEALING)
    offer = pushed["an"]
    assert len(offer) == 1, offer.text
    offer.offers("Có, kết nối tôi với tư vấn viên").never_says(*REVEALING, "dương tính", "kết quả")
    # Nothing more on the next ticks: exactly one escalation and one offer.
    assert (await officer.during(app.scheduler.tick)).text == ""
    assert (await an.during(app.scheduler.tick)).text == ""

    await cadre.say("/menu")  # the result's alert is the officer's: the cadre can neither see nor close it
    (await cadre.press("Việc cần xử lý")).says("Hiện không có việc nào cần anh/chị xử lý")
    (await officer.press("Xem chi tiết")).says("dương tính", "Chủ tịch Ủy ban nhân dân", "12/12/2026")
    (await officer.press("Tôi nhận xử lý")).says("Đã ghi nhận anh/chị nhận xử lý việc này")
    (await an.press("Có, kết nối tôi với tư vấn viên")).says("tư vấn viên sẽ trả lời")
    async with app.store.transaction() as repos:
        [result] = await repos.fieldwork.test_results_of(1)
    [sealed] = await stored(app, "test_result", "result_enc", id=result.id)
    assert "positive" not in sealed and "Hà Đông" not in sealed  # sealed at rest
    assert result is not None and result.outcome.value == "positive" and result.place == "Trạm y tế phường Hà Đông"
    assert await audited(app, "test_result_recorded", subject_id=1) == 1


async def test_negative_result_closes_a_due_test_quietly(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    """Bích (high risk) has a monthly test; the officer records it as negative: the test closes, nobody is alerted."""
    officer = linked["officer"]
    await open_card(officer, "Đỗ Thị Bích (#2)", "Danh sách xã/phường")
    due = await officer.press("Kết quả xét nghiệm")
    labels = [label for reply in due for label in reply.labels]
    scheduled = [label for label in labels if label.startswith("Lịch ngày")]
    assert scheduled, labels
    await officer.press(scheduled[0])
    await officer.press("Âm tính")
    await officer.press("Hôm qua (11/12/2026)")
    await officer.say("Trạm y tế")
    (await officer.press("Lưu kết quả")).says("Đã lưu kết quả.").never_says("Đã báo")
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(2, EscalationKind.TEST_RESULT) == 0
        tests = await repos.obligations.of_participant(2, date(2025, 1, 1), date(2028, 1, 1), [ObligationKind.TEST])
    assert "done" in [test.status for test in tests]
    (await officer.say("/menu")).offers("Danh sách xã/phường")


async def test_observations_typed_in_a_button_flow_and_too_long(
    app: Application, sim: Chats, linked: dict[str, Chat]
) -> None:
    cadre = linked["cadre"]
    await open_card(cadre)
    (await cadre.press("Ghi chú")).offers("Gia đình", "Dấu hiệu nguy cơ tái sử dụng")
    # Typed while the category buttons are open: kept, and only the category is asked.
    kept = await cadre.say("Gia đình đã đồng ý cho An đi học nghề sửa xe máy.")
    kept.says("Đã giữ lại nội dung anh/chị vừa gõ").offers("Gia đình")
    states = [await chat_state(app, sim.channel, sim.external_id(name)) for name in ("an", "binh", "cuong")]
    at_rest = " ".join(f"{s.data} {s.offered_labels}" for s in states if s is not None)  # as stored: sealed
    assert "học nghề" not in at_rest and "Nguyễn Văn An" not in at_rest and "Gia đình" not in at_rest
    await cadre.press("Gia đình")
    (await cadre.press("Không")).says("Đã lưu ghi chú.", "Gia đình đã đồng ý cho An đi học nghề")

    # 5,000 characters: refused politely, the flow waits for a shorter text; then a flagged note.
    await cadre.press("Ghi chú")
    await cadre.press("Sức khỏe")
    (await cadre.say("Ho nhiều. " * 500)).says("quá dài (hơn 4000 ký tự)")
    (await cadre.say("Ho kéo dài, đã khuyên đi khám ở trạm y tế.")).offers("Có, đánh dấu nguy cơ")
    (await cadre.press("Có, đánh dấu nguy cơ")).says("Đã lưu ghi chú.")

    # Typed straight onto an open card: it becomes a note about that person.
    (await cadre.say("Đã gặp mẹ của An, gia đình ổn định.")).says("Đã giữ lại nội dung")
    await cadre.press("Gia đình")
    (await cadre.press("Không")).says("Đã lưu ghi chú.")

    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).says("cần chú ý")  # the flagged note ranks An
    bodies = await stored(app, "observation", "body_enc")
    async with app.store.transaction() as repos:
        notes = await repos.fieldwork.observations_of(1, limit=5)
    assert len(bodies) == 3 and not any("học nghề" in body or "Ho kéo dài" in body for body in bodies)
    assert [n.category.value for n in notes] == ["family", "health", "family"]
    assert await audited(app, "observation_logged", subject_id=1) == 3


async def test_alerts_inbox_note_stops_the_escalation(
    app: Application, linked: dict[str, Chat], clock: FakeClock
) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    (await cadre.say("/menu"))
    (await cadre.press("Việc cần xử lý")).says("Hiện không có việc nào cần anh/chị xử lý")
    clock.set(at_local(date(2026, 12, 13)))  # December's check-in is missed: the cadre is alerted
    (await cadre.during(app.scheduler.tick)).says("Cần anh/chị quan tâm:", "chưa điểm danh tháng này")
    await cadre.say("/menu")
    (await cadre.press("Việc cần xử lý")).says("1 cảnh báo", "bỏ lỡ điểm danh", AN)
    (await cadre.press(f"{AN}: bỏ lỡ điểm danh")).says("Phát sinh ngày 13/12/2026")
    (await cadre.press("Ghi lại việc đã làm")).offers("Hủy")
    (await cadre.say("Đã gọi điện, An bị ốm, sẽ điểm danh khi khỏe.")).says("Đã lưu. Cảnh báo đã đóng")
    clock.set(at_local(date(2026, 12, 16)))  # past the officer's deadline: he hears nothing of it
    assert "chưa điểm danh" not in (await officer.during(app.scheduler.tick)).text
    async with app.store.transaction() as repos:
        [alert] = await repos.escalations.recent_of(1)
        note = repos.escalations.note_of(alert)
    assert alert.acknowledged_at is not None and note is not None and "An bị ốm" in note
    assert alert.note_enc and "ốm" not in alert.note_enc  # the note as stored: sealed
    await officer.say("/menu")
    (await officer.press("Việc cần xử lý")).says("Hiện không có việc nào")


async def test_quarterly_review(app: Application, sim: Chats, linked: dict[str, Chat], clock: FakeClock) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    await cadre.say("/menu")
    (await cadre.press("Kiểm điểm cuối quý")).says("kiểm điểm").never_says(AN)  # not review time yet
    async with app.store.transaction() as repos:
        await repos.participants.assign(2, 1)  # Bích too, so one review stays missing
    clock.set(at_local(date(2026, 12, 28)))
    (await cadre.during(app.scheduler.tick)).says("quý 4/2026", "2 người").offers("Kiểm điểm cuối quý")
    (await cadre.press("Kiểm điểm cuối quý")).says("hạn 07/01/2027", "2").offers(AN)
    await cadre.press(AN)
    (await cadre.press("Tiến bộ tốt")).offers("Lưu, không nhận xét")
    saved = await cadre.say("Đi làm đều, gia đình hỗ trợ tốt.")
    saved.says("Đã lưu đánh giá cho Nguyễn Văn An (#1)").offers("Đỗ Thị Bích (#2)").never_says(AN + "\n")
    await officer.say("/menu")
    (await officer.press("Kiểm điểm cuối quý")).says("1", "Trần Thị Bình: Đỗ Thị Bích (#2)").never_says(
        "Trần Thị Bình: Nguyễn Văn An"
    )
    clock.set(at_local(date(2026, 12, 31)))
    (await cadre.during(app.scheduler.tick)).says("1 người")  # the reminder counts what is left
    clock.set(at_local(date(2027, 1, 8), 9))  # the day after the deadline, past every staff member's morning minute
    (await officer.during(app.scheduler.tick)).says("quá hạn", "1").offers("Kiểm điểm cuối quý")
    async with app.store.transaction() as repos:
        review = await repos.fieldwork.review_of(1, "2026-Q4")
    [sealed] = await stored(app, "quarterly_review", "assessment_enc")
    assert review is not None and review.progress.value == "good" and "gia đình" not in sealed


async def test_absence_and_move_reported_confirmed_and_transferred(
    app: Application, sim: Chats, linked: dict[str, Chat], clock: FakeClock
) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    async with app.store.transaction() as repos:
        await add_ward(app.enrolment(repos), "CG", "Phường Cầu Giấy")
    hung, other_invite = await add_staff(app, "Đặng Văn Hùng", Role.OFFICER, "CG")
    receiving = sim.chat("hung")
    await receiving.say(other_invite.code)

    # An absence seen in the community: the officer confirms it, the term end moves by its days.
    await open_card(cadre)
    await cadre.press("Báo vắng mặt / chuyển đi")
    await cadre.press("Vắng mặt ở địa phương")
    (await cadre.say("05/12 - 01/12")).says("Chưa đọc được ngày")
    (await cadre.say("01/12/2026 - 05/12/2026")).says("Cán bộ phụ trách sẽ xác nhận")
    async with app.store.transaction() as repos:
        ha_dong = await repos.units.by_code("HD")
        assert ha_dong is not None and len(await repos.fieldwork.pending_reports(ha_dong.id)) == 1
    (await officer.during(app.scheduler.tick)).offers("Xem và xác nhận").never_says(AN)
    (await officer.press("Xem và xác nhận")).says("Trần Thị Bình", "01/12/2026", "05/12/2026")
    (await officer.press("Xác nhận")).says("Đã xác nhận. Dự kiến kết thúc thời gian quản lý của", "20/01/2027")

    # A move: confirmed with the receiving commune, which gets the hand-over notice and accepts the record.
    await open_card(cadre)
    await cadre.press("Báo vắng mặt / chuyển đi")
    await cadre.press("Chuyển đi nơi khác")
    await cadre.say("10/12/2026")
    (await cadre.say("Phường Cầu Giấy, ngõ 12 Trần Duy Hưng")).says("Cán bộ phụ trách sẽ xác nhận")
    await officer.during(app.scheduler.tick)
    await officer.say("/menu")
    (await officer.press("Chờ xác nhận")).says("1").offers(f"{AN}: chuyển đi")
    (await officer.press(f"{AN}: chuyển đi")).says("Trần Duy Hưng").offers("Phường Cầu Giấy", "Không đúng")
    (await officer.press("Phường Cầu Giấy")).says("Đã xác nhận")
    (await receiving.during(app.scheduler.tick)).offers("Xem thông báo bàn giao").never_says(AN)
    notice = await receiving.press("Xem thông báo bàn giao")
    notice.says("Mẫu 53", AN, "Phường Hà Đông", "10/12/2026", "20/01/2027", "5 ngày")
    (await receiving.press("Tiếp nhận hồ sơ")).says("đã có trong danh sách của anh/chị")

    async with app.store.transaction() as repos:
        moved = await repos.participants.get(1)
    assert moved is not None and moved.cadre_id is None and moved.unit_id != 2
    # The sending commune's staff lose access at once.
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).never_says(AN)
    await officer.say("/menu")
    (await officer.press("Danh sách xã/phường")).never_says(AN)
    async with app.store.transaction() as repos:
        assert await repos.outbox.staff_keyed("transfer:") == {hung.id}  # the receiving officer, told once


async def test_paging_and_picking_by_number_with_many_people(
    app: Application, linked: dict[str, Chat], commune: Commune
) -> None:
    """Twelve people: two pages of eight; on Zalo a person is picked by typing their number in the menu."""
    names = [
        "Lê Văn Hòa", "Trịnh Thị Lan", "Bùi Văn Minh", "Hồ Thị Ngọc", "Đinh Văn Phúc", "Mai Thị Quế",
        "Tạ Văn Sơn", "Lý Thị Thu", "Vương Văn Tú", "Chu Thị Uyên", "Kiều Văn Vinh",
    ]  # fmt: skip
    async with app.store.transaction() as repos:
        for name in names:
            await add_person(
                app.enrolment(repos), name, start=date(2026, 6, 1), cadre_id=commune.cadre_id, risk=RiskLevel.LOW
            )
    cadre = linked["cadre"]
    await cadre.say("/menu")
    first = await cadre.press("Người tôi đồng hành")
    first.says("trang 1/2", "• Nguyễn Văn An (#1)").offers("Trang sau").never_says("Trang trước")
    assert AN in first.text.split("\n")[1]  # overdue: first on the list
    second = await cadre.press("Trang sau")
    second.says("trang 2/2", "• Lý Thị Thu (#10)").offers("Trang trước").never_says("Trang sau", AN)
    shown = [label for reply in second for label in reply.labels if "(#" in label]
    assert len(shown) == 4
    (await cadre.press(shown[0])).says(shown[0], "Xét nghiệm và kết quả:")
    await cadre.press("Về danh sách")
    (await cadre.say("ltt")).says("Lý Thị Thu").never_says("Lê Văn Hòa")  # initials, no diacritics
    (await cadre.say("Thị")).says("Trịnh Thị Lan", "Hồ Thị Ngọc").never_says("Lê Văn Hòa")
