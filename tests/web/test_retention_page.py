"""The console's "To be deleted" page (GET /console/retention): the commune's officer sees who of their commune is
purged in the next 30 days, the province's admin sees every commune's, another commune's officer gets the same 404 as
a record that does not exist, cadres and counsellors are refused; every showing is audited with its count only."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.core.clock import local_today
from bot.db.models import ParticipantRow
from bot.domain.entities import ParticipantStatus
from bot.services import retention
from bot.services.access import deactivate_staff
from bot.services.operators import Operator
from tests.support.console import SignIn
from tests.support.factories import add_person
from tests.support.records import audit_trail

DAYS = 365


async def test_who_goes_in_the_next_30_days_for_the_commune_s_officer_only(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    today = local_today(app.clock, ZoneInfo(app.settings.timezone))
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        people = {}
        for name, unit, left_ago in (("Nguyễn Văn Sắp", "HD", DAYS - 10), ("Trần Văn Chưa", "HD", DAYS - 40),
                                     ("Lê Văn Ở", "HD", None), ("Phạm Văn Bên", "KH", DAYS - 5)):  # fmt: skip
            person, _ = await add_person(service, name, unit=unit, start=today - timedelta(days=800), months=12)
            people[name] = person.id
            if left_ago is not None:
                left = today - timedelta(days=left_ago)
                await repos.participants.update(person.id, status=ParticipantStatus.REMOVED, left_on=left,
                                                retain_from=left)  # fmt: skip

    officer = await sign_in(hanoi["officer"])
    assert 'href="/console/retention"' in (await officer.client.get("/console/")).text
    page = await officer.client.get("/console/retention")
    assert page.status_code == 200, page.text
    assert "Nguyễn Văn Sắp" in page.text
    assert (today + timedelta(days=10)).strftime("%d/%m/%Y") in page.text  # the purge's day
    for elsewhere in ("Trần Văn Chưa", "Lê Văn Ở", "Phạm Văn Bên"):  # later, still listed, another commune
        assert elsewhere not in page.text
    assert 'data-count="1"' in page.text
    assert "Hồ sơ sắp bị xoá" in page.text and "Đưa ra khỏi danh sách" in page.text  # Vietnamese by default

    other = await sign_in(hanoi["other_officer"])
    refused = await other.client.get("/console/retention", params={"unit": "HD"})
    assert refused.status_code == 404 and "Nguyễn Văn Sắp" not in refused.text
    own = await other.client.get("/console/retention")
    assert "Phạm Văn Bên" in own.text and "Nguyễn Văn Sắp" not in own.text

    admin = await sign_in(hanoi["admin"])
    province = await admin.client.get("/console/retention", params={"unit": "HN"})
    assert province.status_code == 200 and "Nguyễn Văn Sắp" in province.text and "Phạm Văn Bên" in province.text

    for who in ("cadre", "counsellor"):
        assert (await (await sign_in(hanoi[who])).client.get("/console/retention")).status_code == 403

    shown = await audit_trail(app, "retention_listed")
    assert [e.detail for e in shown] == [{"count": 1}, {"count": 1}, {"count": 2}]
    assert "Sắp" not in str([e.detail for e in shown])
    assert await audit_trail(app, "denied:view_retention")


async def test_a_purged_staff_member_is_shown_as_a_former_one(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    now = app.clock.now()
    async with app.store.transaction() as repos:
        await deactivate_staff(repos, hanoi["cadre"], Operator(os_user="test"), now)
    later = now + timedelta(days=DAYS + 1)
    done = await retention.purge(app.store, now=later, tz=ZoneInfo(app.settings.timezone), days=DAYS,
                                 actor_type="test")  # fmt: skip
    assert done.staff == [hanoi["cadre"]]
    officer = await sign_in(hanoi["officer"])
    staff = await officer.client.get("/console/admin/staff")
    assert staff.status_code == 200
    assert "Cán bộ đã nghỉ" in staff.text and "Trần Thị Bình" not in staff.text


async def test_a_name_that_does_not_open_shows_as_its_number_and_the_page_still_answers(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    today = local_today(app.clock, ZoneInfo(app.settings.timezone))
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        people = {}
        for name in ("Nguyễn Văn Sắp", "Trần Văn Hỏng", "Lê Văn Lệch"):
            person, _ = await add_person(service, name, unit="HD", start=today - timedelta(days=800), months=12)
            left = today - timedelta(days=DAYS - 10)
            await repos.participants.update(person.id, status=ParticipantStatus.REMOVED, left_on=left,
                                            retain_from=left)  # fmt: skip
            people[name] = person.id
        # one name moved from another row (does not open here); another person's phone tampered (not opened at all)
        sap = await repos.session.get(ParticipantRow, people["Nguyễn Văn Sắp"])
        hong = await repos.session.get(ParticipantRow, people["Trần Văn Hỏng"])
        lech = await repos.session.get(ParticipantRow, people["Lê Văn Lệch"])
        assert sap is not None and hong is not None and lech is not None
        hong.name_enc = sap.name_enc
        lech.phone_enc = "tampered"
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/retention")
    assert page.status_code == 200, page.text
    assert "Nguyễn Văn Sắp" in page.text and "Lê Văn Lệch" in page.text
    assert f"⚠ #{people['Trần Văn Hỏng']}" in page.text and page.text.count("Nguyễn Văn Sắp") == 1
