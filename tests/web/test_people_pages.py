"""Danh sách and Thêm người over HTTP against the real app: whose list each role gets, the filters and the home page's
numbers they must agree with, search without diacritics, by initials or by record number, pages that keep the
filters, assigning a cadre to many (a forged id of another commune changes nothing), the XLSX export (a name that
looks like a formula stays text) and adding one person with bad inputs."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from urllib.parse import unquote

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from bot.app import Application
from bot.db.models import OutboxRow
from bot.domain.entities import ParticipantStatus, RiskLevel, Role
from bot.domain.escalations import EscalationKind
from bot.domain.planning import MessageKind, ObligationKind, ObligationStatus, WantedObligation, obligation_key
from tests.support.console import SignIn
from tests.support.factories import add_person
from tests.support.records import audit_trail

TODAY = date(2026, 11, 23)  # the test clock's day in Hà Nội
PEOPLE = re.compile(r'data-people="(\d+)"')
ALERTS = re.compile(r'data-alerts="(\d+)"')
TILE = re.compile(r'<a class="tile" href="/console/people([^"]*)">[^<]*<strong>(\d+)</strong>')
# Crafted ids: Unicode digits ("²".isdigit() but int("²") fails; int("٣") is 3), an id of nobody, ids beyond
# PostgreSQL's integer (11 digits, 2**31), and 0. Each is the page's answer for a bad id, never a server error.
BAD_IDS = ["²", "٣", "9999999", "99999999999", "2147483648", "0"]
NO_LONGER_LISTED = "Người này không còn trong danh sách (đã hoàn thành hoặc đã chuyển đi)."


def count(page: httpx.Response) -> int:
    assert page.status_code == 200, page.text
    found = PEOPLE.search(page.text)
    assert found is not None, page.text
    return int(found.group(1))


def flash(response: httpx.Response) -> str:
    cookie = response.headers.get("set-cookie", "")
    assert cookie.startswith("console_flash="), cookie
    return unquote(cookie.split(";", 1)[0].split("=", 1)[1].strip('"'))


@pytest.fixture
async def people(app: Application, hanoi: dict[str, int]) -> dict[str, int]:
    """Hà Đông: An and Cường followed by Bình (the cadre), Bích with no cadre (high risk), Dũng who completed his
    term; Kiến Hưng: Hưng. Their ids by first name, and a second cadre of Hà Đông (Hoa) and one of Kiến Hưng."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        cadre = hanoi["cadre"]
        an, _ = await add_person(service, "Nguyễn Văn An", cadre_id=cadre, national_id="001090012345")
        bich, _ = await add_person(service, "Đỗ Thị Bích", risk=RiskLevel.HIGH)
        cuong, _ = await add_person(service, "Trần Quốc Cường", cadre_id=cadre, risk=RiskLevel.LOW)
        dung, _ = await add_person(service, "Phạm Văn Dũng", start=date(2020, 1, 1))
        await repos.participants.update(dung.id, status=ParticipantStatus.COMPLETED, completed_on=date(2021, 1, 1))
        hung, _ = await add_person(service, "Lê Kiến Hưng", unit="KH", national_id="001090077777")
        hoa = (await service.add_staff("Vũ Thị Hoa", Role.CADRE, "HD", None, "vi"))[0].id
        kh_cadre = (await service.add_staff("Ngô Kiến Cán", Role.CADRE, "KH", None, "vi"))[0].id
    return {"an": an.id, "bich": bich.id, "cuong": cuong.id, "dung": dung.id, "hung": hung.id, "hoa": hoa,
            "kh_cadre": kh_cadre}  # fmt: skip


async def test_the_officer_sees_the_commune_searches_without_accents_and_filters(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/people")
    assert count(page) == 3 and "Danh sách" in page.text and "Phường Hà Đông" in page.text
    assert all(name in page.text for name in ("Nguyễn Văn An", "Đỗ Thị Bích", "Trần Quốc Cường"))
    assert "Phạm Văn Dũng" not in page.text and "Lê Kiến Hưng" not in page.text  # left the list; another commune
    assert f'href="/console/people/{people["an"]}"' in page.text and "Trần Thị Bình" in page.text
    # register order: by given name (An, Bích, Cường), whatever the family name
    assert page.text.index("Nguyễn Văn An") < page.text.index("Đỗ Thị Bích") < page.text.index("Trần Quốc Cường")
    assert 'name="csrf"' in page.text and 'type="checkbox" name="id"' in page.text

    async def found(query: str) -> list[str]:
        shown = await officer.client.get("/console/people", params={"q": query})
        assert shown.status_code == 200
        return [n for n in ("Nguyễn Văn An", "Đỗ Thị Bích", "Trần Quốc Cường", "Lê Kiến Hưng") if n in shown.text]

    assert await found("nguyen van an") == ["Nguyễn Văn An"]
    assert await found("NVA") == ["Nguyễn Văn An"]
    assert await found("bich") == ["Đỗ Thị Bích"]
    assert await found("do thi") == ["Đỗ Thị Bích"]
    assert await found(f"#{people['cuong']}") == ["Trần Quốc Cường"]
    assert await found(str(people["cuong"])) == ["Trần Quốc Cường"]
    assert await found(f"#{people['hung']}") == []  # another commune's code finds nobody
    assert await found("x" * 10_000) == []
    nobody = await officer.client.get("/console/people", params={"q": "zzz"})
    assert count(nobody) == 0 and "Không có ai khớp với bộ lọc này." in nobody.text

    assert count(await officer.client.get("/console/people?status=completed")) == 1
    assert count(await officer.client.get("/console/people?status=all")) == 4
    assert count(await officer.client.get(f"/console/people?cadre={hanoi['cadre']}")) == 2
    assert count(await officer.client.get("/console/people?cadre=0")) == 1
    high = await officer.client.get("/console/people?risk=high")
    assert count(high) == 1 and "Đỗ Thị Bích" in high.text
    junk = await officer.client.get("/console/people?status=%3Cx%3E&risk=nope&cadre=-1&page=abc")
    assert count(junk) == 3  # a mangled link is a wider list of one's own commune, never an error

    entries = await audit_trail(app, "people_listed", actor_id=hanoi["officer"])
    searched = [e for e in entries if "search" in e.detail["filters"]]
    assert {e.detail["filters"]["search"] for e in searched} == {"text", "initials", "code"}
    assert all("Nguyễn" not in str(e.detail) and "nguyen" not in str(e.detail) for e in entries)


async def test_pages_keep_the_filters_and_htmx_gets_the_table_alone(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        for i in range(52):
            await add_person(service, f"Hoàng Thử {i:02d}", risk=RiskLevel.HIGH)
    officer = await sign_in(hanoi["officer"])
    first = await officer.client.get("/console/people?q=thu&risk=high")
    assert count(first) == 52 and first.text.count('type="checkbox" name="id"') == 50
    assert "q=thu&amp;risk=high&amp;page=2" in first.text and "đang xem 1–50" in first.text
    second = await officer.client.get("/console/people?q=thu&risk=high&page=2")
    assert second.text.count('type="checkbox" name="id"') == 2 and "Hoàng Thử 51" in second.text
    assert "Đỗ Thị Bích" not in second.text  # the search is kept on page 2
    beyond = await officer.client.get("/console/people?q=thu&risk=high&page=99")
    assert "Hoàng Thử 51" in beyond.text  # the last page
    ticked = await officer.client.get("/console/people?q=thu&risk=high&page=2&tick=page")
    assert ticked.text.count("checked>") == 2

    partial = await officer.client.get("/console/people?q=nva", headers={"hx-request": "true", "hx-target": "results"})
    assert partial.status_code == 200 and partial.text.lstrip().startswith('<section id="results"')
    assert "<html" not in partial.text and "Nguyễn Văn An" in partial.text and "Đỗ Thị Bích" not in partial.text
    restore = await officer.client.get(
        "/console/people?q=nva", headers={"hx-request": "true", "hx-history-restore-request": "true"}
    )
    assert "<html" in restore.text


async def test_each_role_gets_its_own_list_and_nothing_else(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    cadre = await sign_in(hanoi["cadre"])
    mine = await cadre.client.get("/console/people")
    assert count(mine) == 2 and "Người tôi đồng hành" in mine.text and "Đỗ Thị Bích" not in mine.text
    assert 'name="id"' not in mine.text and "people.xlsx" not in mine.text  # no assigning, no export
    assert count(await cadre.client.get(f"/console/people?cadre={people['hoa']}&status=all")) == 2  # still theirs
    async with app.store.transaction() as repos:
        hd, kh = await repos.units.by_code("HD"), await repos.units.by_code("KH")
    assert hd is not None and kh is not None
    assert (await cadre.client.get(f"/console/people?unit={kh.id}")).status_code == 404
    assert count(await cadre.client.get(f"/console/people?unit={hd.id}")) == 2
    assert (await cadre.client.get("/console/people.xlsx")).status_code == 403
    assert (await cadre.post("/console/people/assign", {"id": str(people["bich"]), "cadre": str(hanoi["cadre"])})
            ).status_code == 403  # fmt: skip

    counsellor = await sign_in(hanoi["counsellor"])
    assert (await counsellor.client.get("/console/people")).status_code == 403
    assert (await counsellor.client.get("/console/people/new")).status_code == 403

    other = await sign_in(hanoi["other_officer"])
    theirs = await other.client.get("/console/people")
    assert count(theirs) == 1 and "Lê Kiến Hưng" in theirs.text and "Nguyễn Văn An" not in theirs.text
    assert (await other.client.get(f"/console/people?unit={hd.id}")).status_code == 404
    assert (await other.client.get(f"/console/people.xlsx?unit={hd.id}")).status_code == 404
    denied = await audit_trail(app, "denied:list_commune", actor_id=hanoi["other_officer"])
    assert denied and denied[-1].subject_id == hd.id

    admin = await sign_in(hanoi["admin"])
    province = await admin.client.get("/console/people")
    assert count(province) == 4 and "Lê Kiến Hưng" in province.text and "Tất cả xã/phường trong tỉnh" in province.text
    one = await admin.client.get(f"/console/people?unit={hd.id}")
    assert count(one) == 3 and "Lê Kiến Hưng" not in one.text
    assert (await admin.client.get("/console/people/new")).status_code == 403  # an officer adds to their commune


async def test_home_numbers_match_the_lists_they_link_to(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    an, bich, cuong, dung = people["an"], people["bich"], people["cuong"], people["dung"]
    async with app.store.transaction() as repos:
        hd = await repos.units.by_code("HD")
        assert hd is not None

        async def checkin(pid: int, day: date, status: ObligationStatus) -> None:
            key = obligation_key(ObligationKind.CHECKIN, pid, day)
            await repos.obligations.ensure(pid, [WantedObligation(key, ObligationKind.CHECKIN, day)])
            obligation = await repos.obligations.by_key(key)
            assert obligation is not None
            if status is not ObligationStatus.PENDING:
                await repos.obligations.set_status(obligation.id, status)

        await checkin(an, date(2026, 11, 10), ObligationStatus.MISSED)  # overdue
        await checkin(bich, date(2026, 11, 10), ObligationStatus.PENDING)  # overdue
        await checkin(cuong, date(2026, 11, 28), ObligationStatus.PENDING)  # due
        await checkin(dung, date(2026, 11, 28), ObligationStatus.PENDING)  # completed: not counted
        for key, pid in (("a1", an), ("a2", an), ("a3", dung)):  # two alerts for An, one for Dũng (completed)
            await repos.escalations.add(key, participant_id=pid, unit_id=hd.id, kind=EscalationKind.RISKY_CHECKIN,
                                        cadre_id=None)  # fmt: skip
        await repos.identities.link("telegram", "555", participant_id=bich)
        await repos.identities.mark_unreachable("telegram", "555")
        await repos.referrals.request(cuong, "counselling", "participant", urgency="urgent")
        await repos.referrals.request(dung, "counselling", "participant", urgency="urgent")
    officer = await sign_in(hanoi["officer"])
    home = await officer.client.get("/console/")
    tiles = dict(TILE.findall(home.text))
    assert set(tiles) == {"", "?due=month", "?overdue=1", "?alerts=1", "?unreachable=1", "?urgent=1"}, home.text
    for link, number in tiles.items():
        shown = await officer.client.get("/console/people" + link)
        if link == "?alerts=1":
            found = ALERTS.search(shown.text)
            assert found is not None and found.group(1) == number == "3"
            assert count(shown) == 2  # An (two) and Dũng, who completed his term
        elif link == "?urgent=1":
            assert count(shown) == int(number) == 2 and "Phạm Văn Dũng" in shown.text
        else:
            assert count(shown) == int(number), link
    overdue = await officer.client.get("/console/people?overdue=1")
    assert "Quá hạn từ 10/11/2026" in overdue.text and "Trần Quốc Cường" not in overdue.text
    due = await officer.client.get("/console/people?due=month")
    assert "Hạn 28/11/2026" in due.text and "Trần Quốc Cường" in due.text
    unreachable = await officer.client.get("/console/people?unreachable=1")
    assert count(unreachable) == 1 and "Không liên lạc được qua chat" in unreachable.text


async def test_assigning_many_tells_the_new_cadre_and_a_forged_id_changes_nothing(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    an, bich, hoa = people["an"], people["bich"], people["hoa"]
    officer = await sign_in(hanoi["officer"])
    done = await officer.post("/console/people/assign", {"id": [str(an), str(bich)], "cadre": str(hoa),
                                                         "back": "q=&risk=high&page=2&evil=https://x"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/console/people?risk=high&page=2"
    assert flash(done) == "Đã phân công Vũ Thị Hoa đồng hành với 2 người; cán bộ đã nhận được thông báo."
    async with app.store.transaction() as repos:
        assert [(await repos.participants.get(i)).cadre_id for i in (an, bich)] == [hoa, hoa]  # type: ignore[union-attr]
        told = (await repos.session.execute(select(OutboxRow).where(OutboxRow.staff_id == hoa))).scalars().all()
    assert sorted(row.payload["participant_id"] for row in told if row.kind == MessageKind.ASSIGNMENT.value) == [
        an, bich]  # fmt: skip
    assigned = await audit_trail(app, "cadre_assigned", actor_type="staff", actor_id=hanoi["officer"])
    assert sorted(e.subject_id for e in assigned) == [an, bich]
    cadre = await sign_in(hanoi["cadre"])  # Bình lost An at once
    theirs = await cadre.client.get("/console/people")
    assert count(theirs) == 1 and "Nguyễn Văn An" not in theirs.text

    async def cadres() -> list[int | None]:
        async with app.store.transaction() as repos:
            return [(await repos.participants.get(i)).cadre_id for i in (an, bich, people["hung"])]  # type: ignore[union-attr]

    before = await cadres()
    forged = await officer.post("/console/people/assign", {"id": [str(an), str(people["hung"])], "cadre": "0"})
    assert forged.status_code == 404 and await cadres() == before
    denied = await audit_trail(app, "denied:assign_cadre", actor_id=hanoi["officer"])
    assert [e.subject_id for e in denied] == [people["hung"]]
    unknown = await officer.post("/console/people/assign", {"id": [str(an), "999999"], "cadre": "0"})
    assert unknown.status_code == 404 and await cadres() == before
    mangled = await officer.post("/console/people/assign", {"id": ["1 OR 1=1"], "cadre": "0"})
    assert mangled.status_code == 404
    elsewhere = await officer.post("/console/people/assign", {"id": [str(an)], "cadre": str(people["kh_cadre"])})
    assert elsewhere.status_code == 303 and "chỉ theo dõi người ở xã/phường của mình" in flash(elsewhere)
    assert await cadres() == before
    nobody = await officer.post("/console/people/assign", {"cadre": str(hoa)})
    assert nobody.status_code == 303 and flash(nobody) == "Anh/chị vui lòng chọn ít nhất một người."
    no_cadre = await officer.post("/console/people/assign", {"id": [str(an)], "cadre": ""})
    assert flash(no_cadre) == "Anh/chị vui lòng chọn cán bộ đồng hành để giao."
    no_csrf = await officer.client.post("/console/people/assign", data={"id": str(an), "cadre": "0"},
                                        headers={"origin": "http://127.0.0.1:8080"})  # fmt: skip
    assert no_csrf.status_code == 403 and await cadres() == before
    taken = await officer.post("/console/people/assign", {"id": [str(an)], "cadre": "0"})
    assert flash(taken) == "1 người hiện không còn cán bộ đồng hành."

    admin = await sign_in(hanoi["admin"])  # the province's admin may assign in any of its communes
    across = await admin.post("/console/people/assign", {"id": [str(people["hung"])], "cadre": str(people["kh_cadre"])})
    assert across.status_code == 303
    async with app.store.transaction() as repos:
        assert (await repos.participants.get(people["hung"])).cadre_id == people["kh_cadre"]  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_crafted_id_in_the_list_or_the_assign_form_is_never_a_server_error(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn, bad: str
) -> None:
    officer = await sign_in(hanoi["officer"])
    a_commune = bad in ("9999999", "0")  # a number a commune could have: none has it, so the same 404 as another's
    for url in ("/console/people", "/console/people.xlsx"):
        shown = await officer.client.get(url, params={"unit": bad})
        assert shown.status_code == (404 if a_commune else 200), (url, shown.text[:300])
    for key in ("cadre", "page"):
        shown = await officer.client.get("/console/people", params={key: bad})
        assert shown.status_code == 200, (key, shown.text[:300])
        if bad not in ("9999999", "0"):  # no id: read as not given, the officer's whole list
            assert count(shown) == 3, key
    assert (await officer.client.get("/console/people.xlsx", params={"cadre": bad})).status_code == 200

    async def cadres() -> list[int | None]:
        async with app.store.transaction() as repos:
            return [(await repos.participants.get(i)).cadre_id for i in (people["an"], people["bich"])]  # type: ignore[union-attr]

    before = await cadres()
    ticked = await officer.post("/console/people/assign", {"id": [str(people["an"]), bad], "cadre": str(people["hoa"])})
    assert ticked.status_code == 404 and await cadres() == before
    if bad != "0":  # "0" is the form's "nobody"
        chosen = await officer.post("/console/people/assign", {"id": str(people["bich"]), "cadre": bad})
        if bad == "9999999":  # a number: no cadre of the commune has it
            assert chosen.status_code == 303 and "chỉ theo dõi người ở xã/phường của mình" in flash(chosen)
        else:
            assert chosen.status_code == 404
        assert await cadres() == before


async def test_assigning_many_refuses_someone_no_longer_on_the_list_as_the_record_page_does(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    an, dung, hoa = people["an"], people["dung"], people["hoa"]
    officer = await sign_in(hanoi["officer"])
    everyone = await officer.client.get("/console/people?status=all")
    assert count(everyone) == 4 and "Phạm Văn Dũng" in everyone.text  # shown, with his box, under ?status=all

    async def cadres() -> list[int | None]:
        async with app.store.transaction() as repos:
            return [(await repos.participants.get(i)).cadre_id for i in (an, dung)]  # type: ignore[union-attr]

    before = await cadres()
    for chosen in ([str(an), str(dung)], [str(dung)]):
        for cadre in (str(hoa), "0"):
            refused = await officer.post("/console/people/assign", {"id": chosen, "cadre": cadre, "back": "status=all"})
            assert refused.status_code == 303 and refused.headers["location"] == "/console/people?status=all"
            assert flash(refused) == NO_LONGER_LISTED
            assert await cadres() == before  # nothing changed, An included
    assert not await audit_trail(app, "cadre_assigned", actor_type="staff", actor_id=hanoi["officer"])
    async with app.store.transaction() as repos:
        told = (await repos.session.execute(select(OutboxRow).where(OutboxRow.staff_id == hoa))).scalars().all()
    assert not [row for row in told if row.kind == MessageKind.ASSIGNMENT.value]
    record = await officer.post(f"/console/people/{dung}/cadre", {"cadre": str(hoa)})  # the record page's own answer
    assert flash(record) == NO_LONGER_LISTED and await cadres() == before


async def test_the_export_is_the_list_as_shown_with_text_kept_as_text(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        formula, _ = await add_person(app.enrolment(repos), "=1+1", risk=RiskLevel.HIGH)
    officer = await sign_in(hanoi["officer"])
    response = await officer.client.get("/console/people.xlsx?risk=high")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["content-disposition"] == 'attachment; filename="danh-sach-20261123.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Mã hồ sơ", "Họ và tên", "Năm sinh")
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"Đỗ Thị Bích", "=1+1"}
    assert by_name["Đỗ Thị Bích"][0] == people["bich"]  # a number
    assert by_name["Đỗ Thị Bích"][9] == datetime(2027, 1, 15)  # expected end: a date
    cell = next(c for c in sheet["B"] if c.value == "=1+1")
    assert cell.data_type == "s"  # text, never a formula
    assert not any(isinstance(c.value, str) and c.data_type == "f" for row in sheet.iter_rows() for c in row)
    [entry] = await audit_trail(app, "people_exported", actor_id=hanoi["officer"])
    assert entry.detail["count"] == 2 and entry.detail["filters"] == {"risk": "high"}
    assert formula.id and "=1+1" not in str(entry.detail)


async def test_adding_a_person_shows_every_problem_by_its_field_then_the_code(
    app: Application, hanoi: dict[str, int], people: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    form = await officer.client.get("/console/people/new")
    assert form.status_code == 200 and "Thêm người" in form.text
    for label in ('for="name"', 'for="birth_year"', 'for="sex"', 'for="national_id"', 'for="address"',
                  'for="decision_no"', 'for="decision_date"', 'for="start"', 'for="term_months"', 'for="cadre"',
                  'for="risk"', 'for="phone"', 'for="language"'):  # fmt: skip
        assert label in form.text
    assert "Trần Thị Bình" in form.text and "Ngô Kiến Cán" not in form.text  # the commune's cadres only

    good = {
        "name": "Bùi Thị Lan", "birth_year": "1995", "sex": "female", "national_id": "001195012345",
        "address": "Tổ 5, phường Hà Đông", "decision_no": "12/QĐ-UBND", "decision_date": "2026-11-01",
        "start": "2026-11-15", "term_months": "24", "cadre": str(hanoi["cadre"]), "risk": "high",
        "phone": "0912 345 678", "language": "vi",
    }  # fmt: skip
    bad = await officer.post("/console/people/new", good | {
        "name": "L" * 10_000, "birth_year": "1800", "decision_date": "31/02/2026", "national_id": "001090012345",
        "cadre": str(people["kh_cadre"]), "term_months": "18", "phone": "gọi tôi",
    })  # fmt: skip
    assert bad.status_code == 422
    text = bad.text
    assert "Chưa thêm người này. Anh/chị vui lòng sửa:" in text
    assert re.search(r'id="name-error"[^>]*>[^<]*Họ và tên quá dài \(10000 ký tự', text), text[:3000]
    assert re.search(r'id="birth_year-error"[^>]*>[^<]*1800', text)
    assert re.search(r'id="decision_date-error"[^>]*>[^<]*31/02/2026', text)
    assert re.search(r'id="term_months-error"', text) and re.search(r'id="cadre-error"', text)
    assert re.search(r'id="phone-error"', text)
    assert re.search(rf'id="national_id-error"[^>]*>[^<]*\(#{people["an"]}\)', text)
    assert "L" * 200 not in text.replace("L" * 10_000, "")  # the long name is only given back in its field
    async with app.store.transaction() as repos:
        assert await repos.participants.count((await repos.units.by_code("HD")).id) == 4  # type: ignore[union-attr]

    duplicate = await officer.post("/console/people/new", good | {"national_id": "001 090 012 345"})
    assert duplicate.status_code == 422
    assert re.search(rf'id="national_id-error"[^>]*>[^<]*\(#{people["an"]}\)', duplicate.text), duplicate.text[:3000]
    elsewhere = await officer.post(
        "/console/people/new", good | {"national_id": "001090099999", "name": "Lê Kiến Hưng"}
    )
    assert elsewhere.status_code == 200  # another commune's person of that name is not this commune's duplicate
    their_number = await officer.post("/console/people/new", good | {"national_id": "001090077777"})
    assert (
        their_number.status_code == 422 and "Số CCCD này đã có trong danh sách của một người khác" in their_number.text
    )
    assert f"#{people['hung']}" not in their_number.text and "Kiến Hưng" not in their_number.text
    [asked] = await audit_trail(app, "national_id_elsewhere", actor_id=hanoi["officer"])  # who learnt it is kept
    assert (asked.actor_type, asked.subject_type) == ("staff", "unit") and "001090077777" not in str(asked.detail)

    saved = await officer.post("/console/people/new", good)
    assert saved.status_code == 200, saved.text
    assert "Bùi Thị Lan" in saved.text and "Mã kết nối" in saved.text
    code = re.search(r'<p class="code"><strong>([A-Z0-9-]+)</strong>', saved.text)
    assert code is not None
    async with app.store.transaction() as repos:
        ids = await repos.participants.with_national_id("001195012345")
        assert len(ids) == 1
        lan = await repos.participants.get(ids[0])
    assert lan is not None and f'href="/console/cards?ids={lan.id}"' in saved.text
    assert (lan.term_months, lan.cadre_id, lan.risk_level, lan.term_start) == (24, hanoi["cadre"], RiskLevel.HIGH,
                                                                              date(2026, 11, 15))  # fmt: skip
    register = lan.register
    assert (register.birth_year, register.sex.value if register.sex else None, register.address) == (
        1995, "female", "Tổ 5, phường Hà Đông")  # fmt: skip
    assert (register.decision_no, register.decision_date, register.phone) == ("12/QĐ-UBND", date(2026, 11, 1),
                                                                              "0912 345 678")  # fmt: skip
    [enrolled] = await audit_trail(app, "participant_enrolled", subject_id=lan.id)
    assert (enrolled.actor_type, enrolled.actor_id) == ("staff", hanoi["officer"])
    again = await officer.post("/console/people/new", good)  # the form sent twice (back button, refresh)
    assert again.status_code == 422

    no_csrf = await officer.client.post("/console/people/new", data=good, headers={"origin": "http://127.0.0.1:8080"})
    assert no_csrf.status_code == 403
    cadre = await sign_in(hanoi["cadre"])
    assert (await cadre.post("/console/people/new", good | {"national_id": ""})).status_code == 403
    admin = await sign_in(hanoi["admin"])
    assert (await admin.post("/console/people/new", good | {"national_id": ""})).status_code == 403
