"""A person's record in the console, over HTTP against the real app: the term, the register and the timeline with
the chat card's visibility (answers only with the person's consent, a counsellor's words never), who may open whose
record (another commune, an unassigned cadre, a counsellor, an id of nobody: the same 404 or a 403), and each action
(assign a cadre, an absence, a cadre's report of a move and the hand-over, a new code, the register) with a missing
CSRF token, a forged id of another commune, and text too long."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote

import httpx
import pytest

from bot.app import Application
from bot.domain.consent import Purpose
from bot.domain.entities import Participant, ParticipantStatus, Role
from bot.domain.fieldwork import InPersonOutcome, ObservationCategory, ReportKind, ReviewProgress, SubstanceGroup
from bot.domain.fieldwork import TestOutcome as Outcome
from bot.domain.invites import hash_code, normalize_code
from bot.domain.planning import ObligationKind, ObligationStatus, WantedObligation, obligation_key
from bot.services import fieldwork
from bot.services.absences import record_absence
from tests.support.console import BASE, SignIn
from tests.support.factories import add_person
from tests.support.records import audit_trail

COUNSELLOR_NOTE = "Ghi chú riêng của tư vấn viên về gia cảnh"
RELAYED = "Em đang rất buồn, anh chị giúp em với"
NOTE = "Gia đình hỗ trợ tốt, đã đi làm phụ hồ"
REVIEW = "Chấp hành tốt, tiến bộ rõ"
REASON = "Đi làm ăn xa ở Bình Dương"
# Crafted ids: Unicode digits ("²".isdigit() but int("²") fails; int("٣") is 3), an id of nobody, ids beyond
# PostgreSQL's integer (11 digits, 2**31), and 0: the same 404 as a record out of reach, never a server error.
BAD_IDS = ["²", "٣", "9999999", "99999999999", "2147483648", "0"]


@pytest.fixture
async def people(app: Application, hanoi: dict[str, int]) -> dict[str, int]:
    """Nguyễn Văn An of Hà Đông, accompanied by Bình, with a term's worth of records (check-ins answered and missed, an
    in-person check, a positive test, a note, a review, a request for help with a counsellor's private note and a
    conversation, an unreported absence); Lê Kiến Hưng of Kiến Hưng; a second cadre of Hà Đông with nobody."""
    cadre = hanoi["cadre"]
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        an, _ = await add_person(service, "Nguyễn Văn An", cadre_id=cadre, national_id="001089012345")
        kh, _ = await add_person(service, "Lê Kiến Hưng", unit="KH", national_id="001089099999")
        other_cadre, _ = await service.add_staff("Hoàng Văn Hai", Role.CADRE, "HD", None, "vi")
        answered, missed = date(2026, 10, 10), date(2026, 8, 10)
        await repos.obligations.ensure(
            an.id, [WantedObligation(obligation_key(ObligationKind.CHECKIN, an.id, d), ObligationKind.CHECKIN, d)
                    for d in (answered, missed)],
        )  # fmt: skip
        october = await repos.obligations.by_key(obligation_key(ObligationKind.CHECKIN, an.id, answered))
        august = await repos.obligations.by_key(obligation_key(ObligationKind.CHECKIN, an.id, missed))
        assert october is not None and august is not None
        answers = {"mood": "2", "cravings": "strong", "use": "yes"}
        await repos.checkins.save(october.id, an.id, answers, complete=True, risky=True)
        await repos.obligations.set_done(october.id)
        await repos.obligations.set_status(august.id, ObligationStatus.MISSED)
        await fieldwork.record_in_person(repos, an, date(2026, 11, 12), InPersonOutcome.PRESENT, None, cadre)
        await fieldwork.record_test_result(
            repos, an, None, Outcome.POSITIVE, SubstanceGroup.STIMULANTS, "Trạm y tế phường", date(2026, 11, 20),
            cadre, app.clock.now(),
        )  # fmt: skip
        await fieldwork.log_observation(repos, an, ObservationCategory.FAMILY, NOTE, False, cadre)
        await fieldwork.write_review(repos, an, "2026-Q3", ReviewProgress.GOOD, REVIEW, cadre)
        point = await repos.points.first_in(an.unit_id)
        referral = await repos.referrals.request(an.id, "counselling", "participant", point_id=point)
        await repos.referrals.accept(referral, hanoi["counsellor"])
        await repos.referrals.add_note(referral, COUNSELLOR_NOTE)
        await repos.relay.add(referral, an.id, "participant", RELAYED)
        await record_absence(repos, an.id, date(2026, 9, 1), date(2026, 9, 10), reported=False, reason=REASON,
                             by_staff=hanoi["officer"])  # fmt: skip
        hd = await repos.units.by_code("HD")
        knh = await repos.units.by_code("KH")
        province = await repos.units.by_code("HN")
        assert hd is not None and knh is not None and province is not None
    return {"an": an.id, "kh": kh.id, "other_cadre": other_cadre.id, "HD": hd.id, "KH": knh.id, "HN": province.id}


def _flash(response: httpx.Response) -> str:
    cookie = response.headers.get("set-cookie", "")
    assert cookie.startswith("console_flash="), (response.status_code, cookie)
    return unquote(cookie.split(";", 1)[0].split("=", 1)[1])


async def _person(app: Application, participant_id: int) -> Participant:
    async with app.store.transaction() as repos:
        person = await repos.participants.get(participant_id)
    assert person is not None
    return person


async def _absences(app: Application, participant_id: int) -> int:
    async with app.store.transaction() as repos:
        return len(await repos.absences.of(participant_id))


async def test_the_officer_reads_the_term_register_and_timeline_and_the_opening_is_audited(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get(f"/console/people/{people['an']}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Nguyễn Văn An" in text and "#1" in text and "Phường Hà Đông" in text
    # The term: started 15/01/2026 for 12 months, ten unreported days move the end to 25/01/2027.
    assert "15/01/2026" in text and "25/01/2027" in text and "Trần Thị Bình" in text and "001089012345" in text
    # The timeline, newest first: the test, the in-person check, the missed and the answered check-in, the review,
    # the absence (with its reason), the start.
    for shown in ("20/11/2026", "dương tính", "ma túy tổng hợp", "12/11/2026", "Kiểm diện", "có mặt", "bỏ lỡ",
                  "10/10/2026", REVIEW, "Tiến bộ tốt", NOTE, REASON, "01/09/2026", "10/09/2026"):  # fmt: skip
        assert shown in text, shown
    assert text.index("20/11/2026") < text.index("12/11/2026") < text.index("10/10/2026") < text.index("01/09/2026")
    assert "Yêu cầu tư vấn/hỗ trợ" in text and "tư vấn viên đã nhận" in text  # the request's status…
    assert COUNSELLOR_NOTE not in text and RELAYED not in text  # …never the counsellor's note or the conversation
    assert "Cảnh báo" in text  # the positive result raised an alert to the officers
    # No consent to share the answers: the check-in is there, its answers are not.
    assert "tâm trạng 2/5" not in text and "thèm dùng lại nhiều" not in text
    assert "Câu trả lời chỉ hiển thị nếu người này đồng ý chia sẻ" in text
    # The officer's actions, each a form with this session's token; the completion is the cards module's.
    for action in ("/cadre", "/absence", "/invite", "/register", "/complete"):
        assert f"/console/people/{people['an']}{action}" in text, action
    [opened] = await audit_trail(app, "participant_viewed", actor_id=hanoi["officer"])
    assert (opened.actor_type, opened.subject_type, opened.subject_id) == ("staff", "participant", people["an"])
    assert "Nguyễn" not in str(opened.detail) and REASON not in str(opened.detail)


async def test_answers_are_shown_once_the_person_agreed_to_share_them(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        await repos.consents.record(people["an"], Purpose.SHARE_WITH_CADRE, True, "v1")
    cadre = await sign_in(hanoi["cadre"])  # the assigned cadre, on a phone: the same page
    page = await cadre.client.get(f"/console/people/{people['an']}")
    assert page.status_code == 200
    assert "tâm trạng 2/5" in page.text and "thèm dùng lại nhiều" in page.text and "cho biết đã dùng lại" in page.text
    assert "Câu trả lời chỉ hiển thị" not in page.text
    assert 'name="viewport" content="width=device-width' in page.text
    # A cadre records from the chat: no officer's forms here (and each would be refused anyway).
    assert f"/console/people/{people['an']}/cadre" not in page.text and "/absence" not in page.text
    # The person withdraws their consent in the chat: the next opening shows the answers no more.
    async with app.store.transaction() as repos:
        await repos.consents.record(people["an"], Purpose.SHARE_WITH_CADRE, False, "v1")
    withdrawn = await cadre.client.get(f"/console/people/{people['an']}")
    assert "tâm trạng 2/5" not in withdrawn.text and "Câu trả lời chỉ hiển thị" in withdrawn.text
    assert len(await audit_trail(app, "participant_viewed", actor_id=hanoi["cadre"], subject_id=people["an"])) == 2


async def test_out_of_reach_and_unknown_are_the_same_404_and_a_counsellor_is_refused(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    other = await sign_in(hanoi["other_officer"])
    foreign = await other.client.get(f"/console/people/{people['an']}")
    unknown = await other.client.get("/console/people/999999")
    huge = await other.client.get("/console/people/99999999999999999999")
    assert foreign.status_code == unknown.status_code == huge.status_code == 404
    assert foreign.text == unknown.text == huge.text and "Nguyễn Văn An" not in foreign.text
    assert (await other.client.get(f"/console/people/{people['kh']}")).status_code == 200  # their own

    unassigned = await sign_in(people["other_cadre"])
    refused = await unassigned.client.get(f"/console/people/{people['an']}")
    assert refused.status_code == 404 and "Nguyễn Văn An" not in refused.text
    counsellor = await sign_in(hanoi["counsellor"])
    assert (await counsellor.client.get(f"/console/people/{people['an']}")).status_code == 403
    admin = await sign_in(hanoi["admin"])  # the province's admin sees every commune's records
    assert (await admin.client.get(f"/console/people/{people['an']}")).status_code == 200

    denied = await audit_trail(app, "denied:view_participant", outcome="denied")
    assert {(e.actor_id, e.subject_id) for e in denied} >= {
        (hanoi["other_officer"], people["an"]), (hanoi["other_officer"], 999999), (people["other_cadre"], people["an"])
    }  # fmt: skip
    assert not await audit_trail(app, "participant_viewed", actor_id=hanoi["other_officer"], subject_id=people["an"])


async def test_each_action_needs_the_csrf_token_and_a_record_in_reach(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    an, kh = people["an"], people["kh"]
    forms = {
        "cadre": {"cadre": str(people["other_cadre"])},
        "absence": {"first": "2026-11-01", "last": "2026-11-05", "reported": "no", "reason": "Về quê"},
        "invite": {},
        "register": {"name": "Tên Khác", "national_id": "001089011111"},
    }
    before = await _person(app, an)
    for action, form in forms.items():
        without = await officer.client.post(f"/console/people/{an}/{action}", data=form, headers={"origin": BASE})
        assert without.status_code == 403, action
        forged = await officer.post(f"/console/people/{kh}/{action}", form)  # another commune's person
        assert forged.status_code == 404 and "Lê Kiến Hưng" not in forged.text, action
        nobody = await officer.post(f"/console/people/999999/{action}", form)
        assert nobody.status_code == 404 and nobody.text == forged.text, action
    assert await _person(app, an) == before and await _absences(app, an) == 1 and await _absences(app, kh) == 0
    kh_person = await _person(app, kh)
    assert kh_person.name == "Lê Kiến Hưng" and kh_person.national_id == "001089099999"
    assert not await audit_trail(app, "invite_issued", actor_type="staff")
    denied = await audit_trail(app, "denied:manage_list", actor_id=hanoi["officer"], subject_id=kh)
    assert len(denied) == 3  # absence, invite, register: each refusal on record
    assert await audit_trail(app, "denied:assign_cadre", actor_id=hanoi["officer"], subject_id=kh)
    # Other roles: a cadre and a counsellor may do none of it, even for the cadre's own person.
    for role in ("cadre", "counsellor"):
        browser = await sign_in(hanoi[role])
        for action, form in forms.items():
            assert (await browser.post(f"/console/people/{an}/{action}", form)).status_code == 403, (role, action)
    assert await _person(app, an) == before


async def test_the_officer_assigns_a_cadre_of_the_commune_only(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    an = people["an"]
    done = await officer.post(f"/console/people/{an}/cadre", {"cadre": str(people["other_cadre"])})
    assert done.status_code == 303 and done.headers["location"] == f"/console/people/{an}"
    assert "Hoàng Văn Hai" in _flash(done) and (await _person(app, an)).cadre_id == people["other_cadre"]
    # Bình no longer sees An; Hai does.
    assert (await (await sign_in(hanoi["cadre"])).client.get(f"/console/people/{an}")).status_code == 404
    assert (await (await sign_in(people["other_cadre"])).client.get(f"/console/people/{an}")).status_code == 200
    for wrong in (str(hanoi["counsellor"]), str(hanoi["officer"]), "999999"):  # not a cadre of Hà Đông
        refused = await officer.post(f"/console/people/{an}/cadre", {"cadre": wrong})
        assert "Không thể phân công" in _flash(refused)
    assert (await officer.post(f"/console/people/{an}/cadre", {"cadre": "1 OR 1=1"})).status_code == 404
    assert (await _person(app, an)).cadre_id == people["other_cadre"]
    nobody = await officer.post(f"/console/people/{an}/cadre", {"cadre": "0"})
    assert "tạm thời chưa có cán bộ đồng hành" in _flash(nobody) and (await _person(app, an)).cadre_id is None


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_crafted_id_is_the_same_404_as_a_record_out_of_reach(
    app: Application, hanoi: dict[str, int], sign_in: SignIn, bad: str
) -> None:
    async with app.store.transaction() as repos:
        an, _ = await add_person(app.enrolment(repos), "Nguyễn Văn An", cadre_id=hanoi["cadre"])
    officer = await sign_in(hanoi["officer"])
    for url in (f"/console/people/{bad}", f"/console/people/{bad}/register"):
        shown = await officer.client.get(url)
        assert shown.status_code == 404, (url, shown.text[:300])
    for url, form in (
        (f"/console/people/{bad}/cadre", {"cadre": str(hanoi["cadre"])}),
        (f"/console/people/{bad}/absence", {"first": "2026-11-01", "last": "2026-11-05", "reported": "no"}),
        (f"/console/people/{bad}/invite", {}),
        (f"/console/people/{bad}/register", {"name": "Tên Khác"}),
        (f"/console/people/{an.id}/reports/{bad}", {"decision": "confirm"}),
        (f"/console/people/{an.id}/transfer/{bad}", {"decision": "accept"}),
        (f"/console/people/{bad}/transfer/1", {"decision": "accept"}),
    ):
        refused = await officer.post(url, form)
        assert refused.status_code == 404, (url, refused.text[:300])
    if bad != "0":  # "0" is the form's "nobody for now"
        chosen = await officer.post(f"/console/people/{an.id}/cadre", {"cadre": bad})
        if bad == "9999999":  # a number: no cadre of the commune has it
            assert chosen.status_code == 303 and "Không thể phân công" in _flash(chosen)
        else:
            assert chosen.status_code == 404, chosen.text[:300]
    person = await _person(app, an.id)
    assert person.cadre_id == hanoi["cadre"] and person.name == "Nguyễn Văn An" and await _absences(app, an.id) == 0
    assert not await audit_trail(app, "invite_issued", actor_type="staff")


async def test_an_absence_moves_the_end_and_bad_dates_or_a_page_long_reason_record_nothing(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    an, url = people["an"], f"/console/people/{people['an']}/absence"
    long = await officer.post(
        url, {"first": "2026-11-01", "last": "2026-11-05", "reported": "no", "reason": "x" * 10_000}
    )
    assert long.status_code == 303 and "quá dài" in _flash(long) and "10000" in _flash(long)
    for first, last in (
        ("2026-11-05", "2026-11-01"),
        ("31/02/2026", "2026-11-01"),
        ("", ""),
        ("2026-01-01", "2027-06-01"),
    ):
        bad = await officer.post(url, {"first": first, "last": last, "reported": "no"})
        assert bad.status_code == 303 and "ngày" in _flash(bad).lower(), (first, last)
    unsaid = await officer.post(url, {"first": "2026-11-01", "last": "2026-11-05", "reported": "maybe"})
    assert "báo trước" in _flash(unsaid)
    assert await _absences(app, an) == 1 and (await _person(app, an)).expected_end == date(2027, 1, 25)

    done = await officer.post(url, {"first": "01/11/2026", "last": "05/11/2026", "reported": "no", "reason": "Về quê"})
    assert "vắng mặt 5 ngày" in _flash(done) and "30/01/2027" in _flash(done)
    assert (await _person(app, an)).expected_end == date(2027, 1, 30)
    told = await officer.post(url, {"first": "2026-12-01", "last": "2026-12-03", "reported": "yes"})
    assert "30/01/2027" in _flash(told)  # reported in advance: the end stays
    page = await officer.client.get(f"/console/people/{an}")
    assert "Về quê" in page.text and "01/12/2026" in page.text


async def test_a_cadres_report_of_a_move_is_confirmed_and_the_receiving_officer_accepts_the_record(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    an = people["an"]
    async with app.store.transaction() as repos:
        person = await repos.participants.get(an)
        assert person is not None
        report = await fieldwork.report_absence_or_move(
            repos, person, ReportKind.MOVE, {"moved_on": "2026-11-21", "where": "Kiến Hưng"}, hanoi["cadre"],
            app.clock.now(),
        )  # fmt: skip
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get(f"/console/people/{an}")
    assert "Trần Thị Bình báo rằng #1" in page.text and "Phường Kiến Hưng" in page.text
    url = f"/console/people/{an}/reports/{report.id}"
    assert (await officer.client.post(url, data={"decision": "confirm", "to_unit": str(people["KH"])},
                                      headers={"origin": BASE})).status_code == 403  # fmt: skip
    for forged in (str(people["HN"]), str(people["HD"]), "999999"):  # the province, its own commune, nothing
        refused = await officer.post(url, {"decision": "confirm", "to_unit": forged})
        assert "chọn xã/phường nơi đến" in _flash(refused)
    assert (
        await officer.post(f"/console/people/{people['kh']}/reports/{report.id}", {"decision": "confirm"})
    ).status_code == 404
    async with app.store.transaction() as repos:
        assert (await repos.fieldwork.report(report.id)).status.value == "pending"  # type: ignore[union-attr]
        assert not await repos.fieldwork.has_pending_transfer(an)

    confirmed = await officer.post(url, {"decision": "confirm", "to_unit": str(people["KH"])})
    assert "xã/phường nơi đến đã nhận thông báo bàn giao" in _flash(confirmed).lower()
    again = await officer.post(url, {"decision": "reject"})
    assert "đã được một cán bộ phụ trách khác quyết định" in _flash(again)
    assert "đang chờ cán bộ phụ trách ở đó tiếp nhận" in (await officer.client.get(f"/console/people/{an}")).text

    receiving = await sign_in(hanoi["other_officer"])
    notice = await receiving.client.get(f"/console/people/{an}")
    assert notice.status_code == 200 and "Mẫu 53" in notice.text and "Nguyễn Văn An" in notice.text
    assert "001089012345" in notice.text and "Phường Hà Đông" in notice.text and REASON not in notice.text
    async with app.store.transaction() as repos:
        [transfer] = await repos.fieldwork.transfers_of(an)
    accept = f"/console/people/{an}/transfer/{transfer.id}"
    assert (await officer.post(accept, {"decision": "accept"})).status_code == 404  # the sending commune cannot
    assert (
        await receiving.client.post(accept, data={"decision": "accept"}, headers={"origin": BASE})
    ).status_code == 403
    accepted = await receiving.post(accept, {"decision": "accept"})
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/console/people/{an}"
    moved = await _person(app, an)
    assert moved.unit_id == people["KH"] and moved.cadre_id is None
    assert (await receiving.client.get(f"/console/people/{an}")).status_code == 200
    assert (await officer.client.get(f"/console/people/{an}")).status_code == 404  # Hà Đông lost access at once
    assert await audit_trail(app, "transfer_viewed", actor_id=hanoi["other_officer"], subject_id=an)


async def test_a_new_code_is_shown_once_and_links_to_its_card(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    issued = await officer.post(f"/console/people/{people['an']}/invite", {})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    assert f"/console/cards?ids={people['an']}" in issued.text
    code = issued.text.split('<p class="code"><strong>', 1)[1].split("</strong>", 1)[0]
    compact = normalize_code(code)
    assert compact is not None
    async with app.store.transaction() as repos:
        target = await repos.invites.redeem(hash_code(app.store.keyring.code_key, compact))
    assert target is not None and target.participant_id == people["an"]
    [entry] = await audit_trail(app, "invite_issued", actor_type="staff", actor_id=hanoi["officer"])
    assert entry.subject_id == people["an"] and code not in str(entry.detail)


async def test_the_register_is_corrected_with_the_imports_rules_and_a_duplicate_id_is_refused(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    url = f"/console/people/{people['an']}/register"
    form = await officer.client.get(url)
    assert form.status_code == 200 and 'value="001089012345"' in form.text
    fields = {"name": "Nguyễn Văn An", "birth_year": "1990", "sex": "male", "national_id": "001 089 012 346",
              "address": "Tổ 5, phường Hà Đông", "phone": "0912 345 678", "decision_no": "12/QĐ-UBND",
              "decision_date": "2025-12-20"}  # fmt: skip
    saved = await officer.post(url, fields)
    assert saved.status_code == 303 and "đã lưu" in _flash(saved).lower()
    person = await _person(app, people["an"])
    assert person.national_id == "001089012346" and person.register.birth_year == 1990
    assert person.register.address == "Tổ 5, phường Hà Đông" and person.register.decision_date == date(2025, 12, 20)
    [edited] = await audit_trail(app, "register_edited", actor_id=hanoi["officer"])
    assert "national_id" in edited.detail["fields"] and "001089012346" not in str(edited.detail)

    duplicate = await officer.post(url, {**fields, "national_id": "001089099999"})  # Kiến Hưng's person
    assert duplicate.status_code == 400 and "Chưa lưu" in duplicate.text
    assert "#2" not in duplicate.text and "Lê Kiến Hưng" not in duplicate.text  # nothing of another commune
    [asked] = await audit_trail(app, "national_id_elsewhere", actor_id=hanoi["officer"])  # who learnt it is kept
    assert (asked.subject_type, asked.subject_id) == ("participant", people["an"])
    assert "001089099999" not in str(asked.detail)
    async with app.store.transaction() as repos:  # a finished term holds no number: as when someone is added
        await repos.participants.update(
            people["kh"], status=ParticipantStatus.COMPLETED, completed_on=date(2026, 11, 1)
        )
    again = await officer.post(url, {**fields, "national_id": "001089099999"})
    assert again.status_code == 303 and (await _person(app, people["an"])).national_id == "001089099999"
    saved_back = await officer.post(url, fields)
    assert saved_back.status_code == 303
    bad = await officer.post(url, {**fields, "address": "a" * 10_000, "birth_year": "1850", "name": ""})
    assert bad.status_code == 400 and "Thiếu họ và tên" in bad.text and "Năm sinh" in bad.text
    assert "300" in bad.text  # the address's limit, said in words
    assert (await _person(app, people["an"])) == person
