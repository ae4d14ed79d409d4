"""Yêu cầu tư vấn in the console, over HTTP against the real app, with the person on the simulator's chat: the same
rows as the chat's desk — urgent first, taken once, a sealed private note, closed with an outcome (the person hears
it in the chat exactly as when closed from the chat), the duty switch — and every refusal: another point's
counsellor, other roles, missing CSRF, forged ids and forms, a 10,000-character note. The counsellor's and the
cadre's home pages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote

import httpx
import pytest

from bot.app import Application
from bot.db.repositories.referrals import Referral
from bot.domain.consent import Purpose
from bot.domain.entities import Role
from bot.domain.planning import ObligationKind, WantedObligation
from bot.services.relay import answerers
from tests.e2e.simulator_client import Simulator
from tests.fakes.clock import FakeClock
from tests.support.at_rest import stored
from tests.support.chats import link_participant
from tests.support.console import BASE, Browser, SignIn
from tests.support.factories import add_person
from tests.support.records import audit_trail

TAKEN_ELSEWHERE = "Yêu cầu này đã có tư vấn viên khác nhận."
NOT_FOUND = "Không tìm thấy nội dung này."
# Crafted ids: Unicode digits ("²".isdigit() but int("²") fails; int("٣") is 3), an id of nobody, ids beyond
# PostgreSQL's integer (11 digits, 2**31), and 0: the same 404 as another point's referral, never a server error.
BAD_IDS = ["²", "٣", "9999999", "99999999999", "2147483648", "0"]


@dataclass(frozen=True)
class Desk:
    referrals: dict[str, int]  # by name: job, training, crisis (Hà Đông's point), kh (Kiến Hưng's)
    an: int
    an_code: str
    bich: int
    kh_person: int
    giao: int
    kh_counsellor: int
    point: int


@pytest.fixture
async def desk(app: Application, hanoi: dict[str, int], clock: FakeClock) -> Desk:
    """Hà Đông's point gets a second counsellor (Giao); Kiến Hưng a point and a counsellor of its own. People of Hà
    Đông: An (the cadre's; consented to referrals, so counsellors see his name) and Bích (no consent: her code);
    Lê Kiến Hưng of Kiến Hưng. Referrals, oldest first: Bích asks for job help (09:00), An for vocational training
    (09:10), Bích's crisis (urgent, 09:20); Kiến Hưng's person asks his own point (09:30)."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        hd, kh = await repos.units.by_code("HD"), await repos.units.by_code("KH")
        assert hd is not None and kh is not None
        point = await repos.points.first_in(hd.id)
        assert point is not None
        kh_point = await service.add_point("KH", "Điểm tư vấn Kiến Hưng", "", "", "T2-T6 7:30-11:30")
        giao, _ = await service.add_staff("Vũ Minh Giao", Role.COUNSELLOR, "HD", point, "vi")
        kh_counsellor, _ = await service.add_staff("Hồ Kiến Tư", Role.COUNSELLOR, "KH", kh_point.id, "vi")
        an, an_invite = await add_person(service, "Nguyễn Văn An", cadre_id=hanoi["cadre"])
        bich, _ = await add_person(service, "Đỗ Thị Bích")
        kh_person, _ = await add_person(service, "Lê Kiến Hưng", unit="KH")
        await repos.consents.record(an.id, Purpose.REFERRALS, True, "v1")
        await repos.consents.record(bich.id, Purpose.REFERRALS, False, "v1")
    ids: dict[str, int] = {}
    for name, person, kind, urgency, at in (
        ("job", bich.id, "job", "normal", point),
        ("training", an.id, "training", "normal", point),
        ("crisis", bich.id, "counselling", "urgent", point),
        ("kh", kh_person.id, "counselling", "normal", kh_point.id),
    ):
        async with app.store.transaction() as repos:
            ids[name] = await repos.referrals.request(person, kind, "participant", urgency, at)
        clock.advance(minutes=10)
    return Desk(ids, an.id, an_invite.code, bich.id, kh_person.id, giao.id, kh_counsellor.id, point)


def _flash(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    cookie = response.headers.get("set-cookie", "")
    assert cookie.startswith("console_flash="), cookie
    return unquote(cookie.split(";", 1)[0].split("=", 1)[1].strip('"'))


async def _referral(app: Application, referral_id: int) -> Referral:
    async with app.store.transaction() as repos:
        referral = await repos.referrals.get(referral_id)
    assert referral is not None
    return referral


async def test_urgent_first_taken_once_noted_and_closed(
    app: Application, hanoi: dict[str, int], desk: Desk, sign_in: SignIn
) -> None:
    dung = await sign_in(hanoi["counsellor"])
    page = await dung.client.get("/console/desk")
    assert page.status_code == 200 and "Yêu cầu tư vấn — Điểm tư vấn Hà Đông" in page.text
    at = [page.text.index(f'href="/console/desk/{desk.referrals[name]}"') for name in ("crisis", "job", "training")]
    assert at == sorted(at)  # urgent first, then the oldest
    assert page.text.index("KHẨN") < at[0] and page.text.count("KHẨN") == 1
    assert f"một người trong danh sách (#{desk.bich})" in page.text and "Tìm việc làm" in page.text
    assert f"Nguyễn Văn An (#{desk.an})" in page.text and "Học nghề" in page.text
    assert "Đỗ Thị Bích" not in page.text  # no consent to referrals: her code, as the chat's desk shows
    assert "Lê Kiến Hưng" not in page.text and "đã chờ 30 phút" in page.text and "đang chờ" in page.text
    crisis = desk.referrals["crisis"]
    card = await dung.client.get(f"/console/desk/{crisis}")
    assert card.status_code == 200 and "Tôi nhận" in card.text and "Gửi ngày" not in card.text

    # Giao of the same point, at the same moment: one of the two takes it.
    giao = await sign_in(desk.giao)
    first, second = await asyncio.gather(
        dung.post(f"/console/desk/{crisis}/take"), giao.post(f"/console/desk/{crisis}/take")
    )
    flashes = [_flash(first), _flash(second)]
    assert TAKEN_ELSEWHERE in flashes
    assert next(f for f in flashes if f != TAKEN_ELSEWHERE).startswith("Đã nhận. Cuộc trò chuyện với người này đã mở")
    winner = hanoi["counsellor"] if _flash(first).startswith("Đã nhận") else desk.giao
    taken = await _referral(app, crisis)
    assert taken.status == "accepted" and taken.counsellor_id == winner and taken.relay_started_at is not None
    assert len(await audit_trail(app, "referral_accepted", subject_id=desk.bich)) == 1
    taker, other = (dung, giao) if winner == hanoi["counsellor"] else (giao, dung)
    again = await taker.post(f"/console/desk/{crisis}/take")
    assert _flash(again) == "Anh/chị đã nhận yêu cầu này rồi."

    mine = await taker.client.get(f"/console/desk/{crisis}")
    assert "cuộc trò chuyện đang mở" in mine.text and "Mở cuộc trò chuyện" in mine.text
    assert "Đóng yêu cầu" in mine.text and "Chưa có tin nhắn nào." in mine.text
    theirs = await other.client.get(f"/console/desk/{crisis}")
    assert "Một tư vấn viên khác đã nhận yêu cầu này." in theirs.text and "Đóng yêu cầu" not in theirs.text
    assert f'/console/desk/{crisis}"' not in (await other.client.get("/console/desk")).text  # not theirs to list

    # A private note: sealed at rest; 10,000 characters are refused politely and nothing is saved.
    long = await taker.post(f"/console/desk/{crisis}/note", {"note": "x" * 10_000})
    assert long.status_code == 400 and "Ghi chú quá dài (tối đa 2000 ký tự)" in long.text
    empty = await taker.post(f"/console/desk/{crisis}/note", {"note": " \u0000 "})
    assert empty.status_code == 400 and "vui lòng nhập ghi chú" in empty.text
    saved = await taker.post(f"/console/desk/{crisis}/note", {"note": "Đã gọi điện, hẹn gặp thứ Hai."})
    assert _flash(saved) == "Đã lưu ghi chú."
    assert "hẹn gặp thứ Hai" in (await taker.client.get(f"/console/desk/{crisis}")).text
    assert "hẹn gặp thứ Hai" in (await other.client.get(f"/console/desk/{crisis}")).text  # the point's counsellors
    sealed = [value for value in await stored(app, "referral", "note_enc", id=crisis)]
    assert sealed and "thứ Hai" not in str(sealed[0])

    # Closing: only the one who took it, with one of the chat's outcomes.
    assert _flash(await other.post(f"/console/desk/{crisis}/close", {"outcome": "advised"})) == (
        "Chỉ tư vấn viên đã nhận mới đóng được yêu cầu này."
    )
    assert (await taker.post(f"/console/desk/{crisis}/close", {"outcome": "cured"})).status_code == 400
    assert (await _referral(app, crisis)).status == "accepted"
    closed = await taker.post(f"/console/desk/{crisis}/close", {"outcome": "advised"})
    assert _flash(closed) == "Đã đóng: Đã tư vấn." and closed.headers["location"] == "/console/desk"
    done = await _referral(app, crisis)
    assert done.status == "closed" and done.outcome == "advised" and done.relay_ended_at is not None
    assert "KHẨN" not in (await taker.client.get("/console/desk")).text
    details = [str(entry.detail) for entry in await audit_trail(app, actor_type="staff")]
    assert not any("thứ Hai" in detail or "Bích" in detail for detail in details)  # ids, never content
    assert await audit_trail(app, "referral_noted", actor_id=winner)
    assert await audit_trail(app, "referral_closed", actor_id=winner)
    assert await audit_trail(app, "referral_viewed", actor_id=hanoi["counsellor"])
    assert await audit_trail(app, "list_opened", actor_id=hanoi["counsellor"], subject_type="point")


async def test_the_person_hears_it_in_the_chat_as_when_the_chat_does_it(
    app: Application, hanoi: dict[str, int], desk: Desk, sign_in: SignIn,
    browsers: Callable[[], httpx.AsyncClient],
) -> None:  # fmt: skip
    an = Simulator(browsers()).chat("an")
    await link_participant(an, desk.an_code)
    await an.say("giúp")
    (await an.press("Nói chuyện với tư vấn viên")).says("Các tư vấn viên của điểm tư vấn đã được báo")
    (await an.say("Dạo này em khó ngủ")).says("Mình đã giữ lời nhắn cho tư vấn viên")
    async with app.store.transaction() as repos:
        asked = await repos.referrals.relay_of(desk.an)
    assert asked is not None
    talk = asked.id

    dung, giao = await sign_in(hanoi["counsellor"]), await sign_in(desk.giao)
    waiting = await dung.client.get(f"/console/desk/{talk}")
    assert "cuộc trò chuyện đang mở" in waiting.text and "khó ngủ" not in waiting.text  # not theirs yet
    await dung.post(f"/console/desk/{talk}/take")
    (await an.during(app.scheduler.tick)).says("Tư vấn viên đã vào cuộc trò chuyện").never_says("Phạm Tư Vấn")
    home = await giao.client.get("/console/")  # no chat linked: "someone would like to talk" is kept for Giao
    assert home.status_code == 200 and "Đang chờ tại điểm tư vấn<strong>3</strong>" in home.text
    assert "Có người muốn trò chuyện, 23/11/2026" in home.text and "khó ngủ" not in home.text  # the kind, not words
    card = await dung.client.get(f"/console/desk/{talk}")  # the chat shows its counsellor the words; so does this
    assert f"Nguyễn Văn An (#{desk.an})</strong> <small>(23/11/2026 " in card.text
    assert "Dạo này em khó ngủ" in card.text
    assert "Yêu cầu tư vấn → Nguyễn Văn An" in card.text and "→ Mở cuộc trò chuyện" in card.text
    assert await audit_trail(app, "relay_opened", actor_id=hanoi["counsellor"], subject_id=desk.an)
    assert "khó ngủ" not in (await giao.client.get(f"/console/desk/{talk}")).text

    closed = await dung.post(f"/console/desk/{talk}/close", {"outcome": "no_contact"})
    assert _flash(closed) == "Đã đóng: Không liên lạc được."
    ended = await an.during(app.scheduler.tick)
    ended.says("Tư vấn viên đã kết thúc cuộc trò chuyện").never_says("Phạm Tư Vấn")
    (await an.say("Cảm ơn ạ")).never_says("✓ Đã gửi.", "Mình đã giữ lời nhắn")  # nothing is relayed any more
    async with app.store.transaction() as repos:  # the rows the chat's desk queues, to the person
        accepted = await repos.outbox.by_key(f"referral_accepted:{talk}:{hanoi['counsellor']}")
        ended_row = await repos.outbox.by_key(f"relay_end:{talk}")
    assert accepted is not None and accepted.participant_id == desk.an and accepted.payload == {"referral_id": talk}
    assert ended_row is not None and ended_row.participant_id == desk.an and ended_row.urgent
    assert ended_row.payload == {"referral_id": talk, "participant_id": desk.an, "by": "counsellor"}


async def test_the_duty_switch_is_the_chats(
    app: Application, hanoi: dict[str, int], desk: Desk, sign_in: SignIn
) -> None:
    dung = await sign_in(hanoi["counsellor"])
    page = await dung.client.get("/console/desk")
    assert "Anh/chị đang ngoài ca trực" in page.text and "Bắt đầu ca trực" in page.text
    assert "Không có giờ làm việc cố định" in page.text and "quản trị viên" in page.text  # hours: view only
    no_csrf = await dung.client.post("/console/desk/duty", data={"on": "1"}, headers={"origin": BASE})
    assert no_csrf.status_code == 403
    on = await dung.post("/console/desk/duty", {"on": "1"})
    assert _flash(on) == "Anh/chị đang trong ca trực: các yêu cầu khẩn sẽ được gửi đến anh/chị."
    async with app.store.transaction() as repos:
        on_duty, _ = await answerers(repos, desk.point)
    assert [m.id for m in on_duty] == [hanoi["counsellor"]]  # the chat's routing reads the same flag
    assert "Kết thúc ca trực" in (await dung.client.get("/console/desk")).text
    assert (await dung.post("/console/desk/duty", {"on": "yes"})).status_code == 400
    off = await dung.post("/console/desk/duty", {"on": "0"})
    assert _flash(off) == "Anh/chị đã kết thúc ca trực."
    async with app.store.transaction() as repos:
        on_duty, _ = await answerers(repos, desk.point)
    assert on_duty == []
    changes = await audit_trail(app, "duty_changed", actor_id=hanoi["counsellor"])
    assert [entry.detail["on_duty"] for entry in changes] == [True, False]

    kh = await sign_in(desk.kh_counsellor)
    hours = await kh.client.get("/console/desk")
    assert "Giờ làm việc: T2–T6 07:30–11:30 — đang mở cửa" in hours.text


async def test_other_points_other_roles_forged_ids_and_missing_csrf(
    app: Application, hanoi: dict[str, int], desk: Desk, sign_in: SignIn
) -> None:
    hd, kh = desk.referrals["job"], desk.referrals["kh"]
    # Kiến Hưng's counsellor, for Hà Đông's referral: the same "not found" as for no referral at all.
    other = await sign_in(desk.kh_counsellor)
    listed = (await other.client.get("/console/desk")).text
    assert f"một người trong danh sách (#{desk.kh_person})" in listed and f"(#{desk.bich})" not in listed
    assert (await other.client.get(f"/console/desk/{hd}")).status_code == 404
    for action, form in (("take", {}), ("note", {"note": "Ghi chú lạ"}), ("close", {"outcome": "advised"})):
        refused = await other.post(f"/console/desk/{hd}/{action}", form)
        assert refused.status_code == 404 and NOT_FOUND in refused.text, action
    untouched = await _referral(app, hd)
    assert untouched.status == "requested" and untouched.counsellor_id is None
    async with app.store.transaction() as repos:
        assert await repos.referrals.note_of(hd) is None
        assert await repos.outbox.by_key(f"referral_accepted:{hd}:{desk.kh_counsellor}") is None
    assert await audit_trail(app, "denied:handle_referral", actor_id=desk.kh_counsellor, outcome="denied")

    # Forged ids: not a number, someone else's, none at all.
    dung = await sign_in(hanoi["counsellor"])
    for forged in ("abc", "1;2", "-1", "1e3", "99999", str(kh), "9" * 40):
        assert (await dung.client.get(f"/console/desk/{forged}")).status_code == 404, forged
        assert (await dung.post(f"/console/desk/{forged}/take")).status_code == 404, forged
    assert (await _referral(app, kh)).status == "requested"

    # No CSRF token, another session's, another site: refused before anything is read or changed.
    no_csrf = await dung.client.post(f"/console/desk/{hd}/take", data={}, headers={"origin": BASE})
    assert no_csrf.status_code == 403
    assert (await dung.post(f"/console/desk/{hd}/take", {"csrf": other.csrf})).status_code == 403
    assert (await dung.post(f"/console/desk/{hd}/take", headers={"origin": "https://evil.example"})).status_code == 403
    assert (await _referral(app, hd)).status == "requested"

    # Officers, cadres and admins have no desk: 403 on every page and action.
    for role in ("officer", "cadre", "admin", "other_officer"):
        browser: Browser = await sign_in(hanoi[role])
        assert (await browser.client.get("/console/desk")).status_code == 403, role
        assert (await browser.client.get(f"/console/desk/{hd}")).status_code == 403, role
        assert (await browser.post(f"/console/desk/{hd}/take")).status_code == 403, role
        assert (await browser.post("/console/desk/duty", {"on": "1"})).status_code == 403, role
    assert (await _referral(app, hd)).status == "requested"


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_crafted_referral_id_is_the_same_404_as_another_points(
    app: Application, hanoi: dict[str, int], desk: Desk, sign_in: SignIn, bad: str
) -> None:
    dung = await sign_in(hanoi["counsellor"])
    shown = await dung.client.get(f"/console/desk/{bad}")
    assert shown.status_code == 404 and NOT_FOUND in shown.text, shown.text[:300]
    for action, form in (("take", {}), ("note", {"note": "Ghi chú lạ"}), ("close", {"outcome": "advised"})):
        refused = await dung.post(f"/console/desk/{bad}/{action}", form)
        assert refused.status_code == 404 and NOT_FOUND in refused.text, (action, refused.text[:300])
    assert all([(await _referral(app, r)).status == "requested" for r in desk.referrals.values()])
    assert await audit_trail(app, "denied:handle_referral", actor_id=hanoi["counsellor"], outcome="denied")


async def test_a_counsellors_home_counts_the_desk_and_a_cadres_lists_whats_due(
    app: Application, hanoi: dict[str, int], desk: Desk, sign_in: SignIn, clock: FakeClock
) -> None:
    dung = await sign_in(hanoi["counsellor"])
    home = await dung.client.get("/console/")
    assert "Đang chờ tại điểm tư vấn<strong>3</strong>" in home.text and "Trong đó khẩn<strong>1</strong>" in home.text
    assert 'href="/console/desk"' in home.text
    await dung.post(f"/console/desk/{desk.referrals['job']}/take")
    home = await dung.client.get("/console/")
    assert "Đang chờ tại điểm tư vấn<strong>2</strong>" in home.text and "Tôi đã nhận<strong>1</strong>" in home.text
    officer = await sign_in(hanoi["officer"])
    assert "Đang chờ tại điểm tư vấn" not in (await officer.client.get("/console/")).text

    # The cadre: their people's open obligations, late first (the chat's morning digest reads the same rows); an
    # unannounced check is not shown before its day; nobody else's people.
    async with app.store.transaction() as repos:
        await repos.obligations.ensure(desk.an, [
            WantedObligation(f"checkin:{desk.an}:2026-11", ObligationKind.CHECKIN, date(2026, 11, 10)),
            WantedObligation(f"test:{desk.an}:2026-11", ObligationKind.TEST, date(2026, 11, 28)),
            WantedObligation(f"random:{desk.an}:2026-11", ObligationKind.RANDOM_TEST, date(2026, 11, 26)),
            WantedObligation(f"checkin:{desk.an}:2026-12", ObligationKind.CHECKIN, date(2026, 12, 10)),
        ])  # fmt: skip
        await repos.obligations.ensure(desk.bich, [
            WantedObligation(f"checkin:{desk.bich}:2026-11", ObligationKind.CHECKIN, date(2026, 11, 10)),
        ])  # fmt: skip
    cadre = await sign_in(hanoi["cadre"])
    page = (await cadre.client.get("/console/")).text
    an = f'<a href="/console/people/{desk.an}">Nguyễn Văn An</a> <small>#{desk.an}</small>'
    overdue = f"<mark>Quá hạn</mark> {an}: điểm danh hằng tháng, 10/11/2026"
    assert "Đến hạn và quá hạn trong tháng" in page and overdue in page
    assert page.index(overdue) < page.index(f"{an}: kiểm tra định kỳ, 28/11/2026")
    assert "kiểm tra đột xuất" not in page and "10/12/2026" not in page and "Đỗ Thị Bích" not in page
    assert await audit_trail(app, "list_opened", actor_id=hanoi["cadre"])
    clock.advance(days=4)
    later = (await (await sign_in(hanoi["cadre"])).client.get("/console/")).text
    assert f"<mark>Quá hạn</mark> {an}: kiểm tra đột xuất, 26/11/2026" in later
    officer_home = (await (await sign_in(hanoi["officer"])).client.get("/console/")).text
    assert "Đến hạn và quá hạn trong tháng" not in officer_home
