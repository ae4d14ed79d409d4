"""Thẻ mời and Mẫu 54 in the console, over HTTP against the real app (Telegram faked, so cards carry QR codes): who may
choose and print whose cards, that each card's QR links its own person with a new code, and the completion of a
term with its certificate — every route × role × own / other commune, missing CSRF, forged ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from urllib.parse import unquote

import httpx
import pytest
from pydantic import SecretStr

from bot.app import Application
from bot.config import Settings
from bot.domain.entities import ParticipantStatus
from bot.domain.invites import hash_code, normalize_code
from bot.services.absences import record_absence
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram, running
from tests.support.console import BASE, SignIn
from tests.support.factories import add_person
from tests.support.pdfs import qr_codes, reader, text
from tests.support.records import audit_trail

TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"
HD_NAMES = ["Nguyễn Văn An", "Đỗ Thị Bích", "Trần Quốc Cường"]
# Crafted ids: Unicode digits ("²".isdigit() but int("²") fails; int("٣") is 3), an id of nobody, ids beyond
# PostgreSQL's integer (11 digits, 2**31), and 0: the same 404 as a person out of reach, never a server error.
BAD_IDS = ["²", "٣", "9999999", "99999999999", "2147483648", "0"]


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with running(FakeTelegram(token=TOKEN)) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_telegram: FakeTelegram) -> Settings:
    return settings.model_copy(update={"telegram_token": SecretStr(TOKEN), "telegram_api_url": fake_telegram.base_url})


@pytest.fixture
async def people(app: Application, hanoi: dict[str, int]) -> dict[str, object]:
    """Three people of Hà Đông (An's term ended on 2026-06-01 but ten unreported days move it to 2026-06-11), one of
    Kiến Hưng, one of Hà Đông who completed long ago; their first codes."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        hd = [await add_person(service, name, start=date(2025, 6, 1)) for name in HD_NAMES]
        kh, kh_invite = await add_person(service, "Lê Kiến Hưng", unit="KH")
        gone, _ = await add_person(service, "Phạm Đã Xong", start=date(2020, 1, 1))
        await repos.participants.update(gone.id, status=ParticipantStatus.COMPLETED, completed_on=date(2021, 1, 1))
        an = hd[0][0]
        away = (date(2025, 9, 1), date(2025, 9, 10))
        await record_absence(repos, an.id, *away, reported=False, reason=None, by_staff=None)
    return {
        "hd": [p.id for p, _ in hd],
        "codes": {p.id: i.code for p, i in hd},
        "kh": kh.id,
        "kh_code": kh_invite.code,
        "gone": gone.id,
    }


async def _owner(app: Application, code: str) -> int | None:
    """Whom a code links when a person sends it to the bot (spending it); None when it does not work."""
    compact = normalize_code(code)
    assert compact is not None
    async with app.store.transaction() as repos:
        target = await repos.invites.redeem(hash_code(app.store.keyring.code_key, compact))
    return target.participant_id if target else None


def _flash(response: httpx.Response) -> str:
    cookie = response.headers.get("set-cookie", "")
    assert cookie.startswith("console_flash="), cookie
    return unquote(cookie.split(";", 1)[0].split("=", 1)[1])


async def test_an_officer_chooses_prints_and_each_qr_links_its_own_person_with_a_new_code(
    app: Application, hanoi: dict[str, int], people: dict[str, object], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/cards")
    assert page.status_code == 200 and "Thẻ mời" in page.text and "Phường Hà Đông" in page.text
    assert all(name in page.text for name in HD_NAMES)
    assert "Lê Kiến Hưng" not in page.text and "Phạm Đã Xong" not in page.text  # another commune; left the list
    assert "mã cũ chưa dùng sẽ hết hiệu lực" in page.text and 'type="checkbox" name="id"' in page.text
    hd: list[int] = people["hd"]  # type: ignore[assignment]
    # From an import: only the people it listed, ticked already.
    chosen = await officer.client.get(f"/console/cards?ids={hd[0]},{hd[2]}")
    assert chosen.status_code == 200 and chosen.text.count("checked") == 2 and HD_NAMES[1] not in chosen.text

    printed = await officer.post("/console/cards.pdf", {"id": [str(i) for i in hd]})
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.headers["content-disposition"].startswith('attachment; filename="the-moi-')
    assert printed.headers["cache-control"] == "no-store"
    pdf = printed.content
    assert len(reader(pdf).pages) == 1
    content = text(pdf)
    assert all(name in content for name in HD_NAMES) and "Mã kết nối" in content
    for word in ("cai nghiện", "ma túy", "xét nghiệm", "rehab", "drug"):
        assert word not in content.lower()
    links = qr_codes(pdf)
    assert len(links) == 3 and all(link.startswith(f"https://t.me/{BOT_USERNAME}?start=") for link in links)
    codes: dict[int, str] = people["codes"]  # type: ignore[assignment]
    assert [await _owner(app, code) for code in codes.values()] == [None, None, None]  # old codes revoked
    assert sorted([await _owner(app, link.rsplit("=", 1)[1]) for link in links]) == sorted(hd)
    [entry] = await audit_trail(app, "invite_cards_printed")
    assert (entry.actor_type, entry.actor_id) == ("staff", hanoi["officer"]) and entry.detail["count"] == 3
    issued = await audit_trail(app, "invite_issued", actor_type="staff", actor_id=hanoi["officer"])
    assert sorted(e.subject_id for e in issued) == sorted(hd)
    assert await audit_trail(app, "card_list_viewed", actor_id=hanoi["officer"])

    everyone = await officer.post("/console/cards.pdf", {"everyone": "1", "unit": ""})
    assert everyone.status_code == 200 and len(qr_codes(everyone.content)) == 3


async def test_other_communes_forged_ids_missing_csrf_and_other_roles_are_refused(
    app: Application, hanoi: dict[str, int], people: dict[str, object], sign_in: SignIn
) -> None:
    hd: list[int] = people["hd"]  # type: ignore[assignment]
    kh = people["kh"]
    officer = await sign_in(hanoi["officer"])
    for url in (f"/console/cards?ids={hd[0]},{kh}", "/console/cards?ids=1;2", "/console/cards?ids=99999"):
        assert (await officer.client.get(url)).status_code == 404, url
    kh_unit = (await officer.client.get("/console/cards")).status_code
    assert kh_unit == 200
    async with app.store.transaction() as repos:
        kh_commune = await repos.units.by_code("KH")
    assert kh_commune is not None
    assert (await officer.client.get(f"/console/cards?unit={kh_commune.id}")).status_code == 404
    # One person of another commune in the request: nobody gets a new code (the whole request is refused).
    mixed = await officer.post("/console/cards.pdf", {"id": [str(hd[0]), str(kh)]})
    assert mixed.status_code == 404 and "Không tìm thấy" in mixed.text
    assert (await officer.post("/console/cards.pdf", {"id": ["1 OR 1=1"]})).status_code == 404
    assert (await officer.post("/console/cards.pdf", {"everyone": "1", "unit": str(kh_commune.id)})).status_code == 404
    no_csrf = await officer.client.post("/console/cards.pdf", data={"id": str(hd[0])}, headers={"origin": BASE})
    assert no_csrf.status_code == 403
    elsewhere = await officer.post("/console/cards.pdf", {"id": str(hd[0])}, headers={"origin": "https://evil.test"})
    assert elsewhere.status_code == 403
    codes: dict[int, str] = people["codes"]  # type: ignore[assignment]
    assert await _owner(app, codes[hd[0]]) == hd[0]  # still the first code: nothing was issued
    assert await audit_trail(app, "denied:manage_list", actor_id=hanoi["officer"], outcome="denied")
    assert not await audit_trail(app, "invite_cards_printed")

    # The other commune's officer, for Hà Đông's people: the same "not found" as for no one.
    other = await sign_in(hanoi["other_officer"])
    assert (await other.client.get(f"/console/cards?ids={hd[1]}")).status_code == 404
    assert (await other.post("/console/cards.pdf", {"id": str(hd[1])})).status_code == 404
    assert "Lê Kiến Hưng" in (await other.client.get("/console/cards")).text
    for role in ("cadre", "counsellor"):
        browser = await sign_in(hanoi[role])
        assert (await browser.client.get("/console/cards")).status_code == 403
        assert (await browser.post("/console/cards.pdf", {"id": str(hd[1])})).status_code == 403
    assert await _owner(app, codes[hd[1]]) == hd[1]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_crafted_id_is_the_same_404_as_a_person_out_of_reach(
    app: Application, hanoi: dict[str, int], people: dict[str, object], sign_in: SignIn, bad: str
) -> None:
    hd: list[int] = people["hd"]  # type: ignore[assignment]
    officer = await sign_in(hanoi["officer"])
    for query in ({"ids": bad}, {"ids": f"{hd[0]},{bad}"}, {"unit": bad}):
        shown = await officer.client.get("/console/cards", params=query)
        assert shown.status_code == 404, (query, shown.text[:300])
    for form in ({"id": bad}, {"id": [str(hd[0]), bad]}, {"everyone": "1", "unit": bad}):
        printed = await officer.post("/console/cards.pdf", form)
        assert printed.status_code == 404, (form, printed.text[:300])
    completed = await officer.post(f"/console/people/{bad}/complete", {"on": "2026-06-11"})
    assert completed.status_code == 404, completed.text[:300]
    certificate = await officer.client.get(f"/console/people/{bad}/certificate.pdf")
    assert certificate.status_code == 404, certificate.text[:300]
    admin = await sign_in(hanoi["admin"])  # an admin chooses among the province's communes: none is this
    assert (await admin.post("/console/cards.pdf", {"everyone": "1", "unit": bad})).status_code == 404
    codes: dict[int, str] = people["codes"]  # type: ignore[assignment]
    assert await _owner(app, codes[hd[0]]) == hd[0]  # nothing was issued
    assert not await audit_trail(app, "invite_cards_printed")


async def test_what_cannot_be_printed_is_said_in_words(
    hanoi: dict[str, int], people: dict[str, object], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    nobody = await officer.post("/console/cards.pdf", {})
    assert nobody.status_code == 400 and "vui lòng chọn ít nhất một người" in nobody.text
    gone = await officer.post("/console/cards.pdf", {"id": str(people["gone"])})
    assert gone.status_code == 400 and "không còn trong danh sách" in gone.text
    too_many = await officer.post("/console/cards.pdf", {"id": [str(i) for i in range(1, 1102)]})
    assert too_many.status_code == 400 and "tối đa 1000 thẻ" in too_many.text


async def test_an_admin_chooses_a_commune_of_the_province(
    app: Application, hanoi: dict[str, int], people: dict[str, object], sign_in: SignIn
) -> None:
    admin = await sign_in(hanoi["admin"])
    first = await admin.client.get("/console/cards")
    assert first.status_code == 200 and "Phường Kiến Hưng" in first.text and 'name="unit"' in first.text
    async with app.store.transaction() as repos:
        hd = await repos.units.by_code("HD")
    assert hd is not None
    listed = await admin.client.get(f"/console/cards?unit={hd.id}")
    assert listed.status_code == 200 and HD_NAMES[0] in listed.text
    printed = await admin.post("/console/cards.pdf", {"everyone": "1", "unit": str(hd.id)})
    assert printed.status_code == 200 and len(qr_codes(printed.content)) == 3


async def test_an_officer_completes_a_term_after_its_moved_end_and_prints_the_certificate(
    app: Application, hanoi: dict[str, int], people: dict[str, object], sign_in: SignIn
) -> None:
    an, binh = people["hd"][:2]  # type: ignore[index]
    officer = await sign_in(hanoi["officer"])
    url = f"/console/people/{an}/complete"

    early = await officer.post(url, {"on": "2026-06-05"})  # the term's end moved to 11/06/2026 by the absence
    assert early.status_code == 303 and early.headers["location"] == f"/console/people/{an}"
    assert "11/06/2026" in _flash(early) and "chưa thể ghi nhận hoàn thành" in _flash(early)
    future = await officer.post(url, {"on": "2027-01-01"})
    assert "không ghi trước" in _flash(future)
    typo = await officer.post(url, {"on": "32/13/2026"})
    assert "ngày/tháng/năm" in _flash(typo)
    assert (await officer.client.get(f"/console/people/{an}/certificate.pdf")).status_code == 409

    assert (await officer.client.post(url, data={"on": "2026-06-11"}, headers={"origin": BASE})).status_code == 403
    other = await sign_in(hanoi["other_officer"])
    assert (await other.post(url, {"on": "2026-06-11"})).status_code == 404
    admin = await sign_in(hanoi["admin"])
    assert (await admin.post(url, {"on": "2026-06-11"})).status_code == 403  # the officer's to record
    cadre = await sign_in(hanoi["cadre"])
    assert (await cadre.post(url, {"on": "2026-06-11"})).status_code == 403
    assert (await officer.post("/console/people/99999/complete", {"on": "2026-06-11"})).status_code == 404
    async with app.store.transaction() as repos:
        person = await repos.participants.get(an)
    assert person is not None and person.status is not ParticipantStatus.COMPLETED

    done = await officer.post(url, {"on": "11/06/2026"})
    assert done.status_code == 303 and "11/06/2026" in _flash(done) and "Mẫu 54" in _flash(done)
    async with app.store.transaction() as repos:
        person = await repos.participants.get(an)
    assert person is not None and person.status is ParticipantStatus.COMPLETED
    assert person.completed_on == date(2026, 6, 11)
    again = await officer.post(url, {"on": "2026-06-12"})
    assert "không còn trong danh sách" in _flash(again)

    paper = await officer.client.get(f"/console/people/{an}/certificate.pdf")
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    assert paper.headers["content-disposition"] == f'attachment; filename="giay-chung-nhan-{an}.pdf"'
    certificate = " ".join(text(paper.content).split())
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in certificate and "NGUYỄN VĂN AN" in certificate
    assert "từ ngày 01/06/2025 đến ngày 11/06/2026" in certificate
    assert (await admin.client.get(f"/console/people/{an}/certificate.pdf")).status_code == 200  # the province's
    assert (await other.client.get(f"/console/people/{an}/certificate.pdf")).status_code == 404
    assert (await cadre.client.get(f"/console/people/{an}/certificate.pdf")).status_code == 403
    assert (await officer.client.get(f"/console/people/{binh}/certificate.pdf")).status_code == 409
    [completed] = await audit_trail(app, "term_completed", subject_id=an)
    assert (completed.actor_type, completed.actor_id) == ("staff", hanoi["officer"])
    printed = await audit_trail(app, "certificate_printed", subject_id=an)
    assert [(e.actor_type, e.actor_id) for e in printed] == [("staff", hanoi["officer"]), ("staff", hanoi["admin"])]
    assert await audit_trail(app, "denied:manage_list", actor_id=hanoi["other_officer"], subject_id=an)
