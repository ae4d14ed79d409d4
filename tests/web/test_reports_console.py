"""Báo cáo, Sổ theo dõi and Sắp đến hạn over HTTP against the real app: an officer's commune and an admin's province
with the numbers the report service counts, a commune's row per commune, refusals that name nothing (another
commune, a forged unit in a form, a cadre, a form without its CSRF token), a period that cannot be read, the
targets and the number handed over, the named lists and their XLSX, and audit entries that never carry a name."""

from __future__ import annotations

import io
import re
from datetime import date

import httpx
import openpyxl
import pytest

from bot.app import Application
from bot.domain.entities import Register, Sex
from bot.services import fieldwork as records
from tests.fakes.clock import FakeClock
from tests.support.console import SignIn
from tests.support.factories import add_person, add_ward
from tests.support.pdfs import text
from tests.support.records import audit_trail
from tests.support.reports import build_communes

NAMES = ("Nguyễn Văn An", "Đỗ Thị Bích", "Trần Minh Châu", "Lê Kiến Hưng")
POLITE = "Không đọc được khoảng thời gian này."


def figure(page: httpx.Response, key: str) -> str:
    """A figure's value as the report shows it."""
    found = re.search(rf'data-figure="{key}">.*?<td>([^<]*)</td>', page.text, re.S)
    assert found is not None, key
    return found.group(1)


def commune_row(page: httpx.Response, code: str) -> str:
    found = re.search(rf'<tr data-commune="{code}">(.*?)</tr>', page.text, re.S)
    assert found is not None, code
    return found.group(1)


def no_names(entries: list[object]) -> bool:
    text = " ".join(str(getattr(e, "detail", "")) for e in entries)
    return not any(name in text or name.split()[-1] in text for name in NAMES)


@pytest.fixture
async def commune(app: Application, hanoi: dict[str, int]) -> dict[str, int]:
    """Hà Đông: An (the cadre's, listed in January, with her register filled in), Bích (her term ends on
    10/12/2026, an unreported absence in progress) and Châu (listed on 05/10/2026, moving to Kiến Hưng); Kiến
    Hưng: Hưng. Ids by first name, and the units' ids."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        an, _ = await add_person(service, "Nguyễn Văn An", cadre_id=hanoi["cadre"], national_id="001090012345")
        await repos.participants.set_register(
            an.id, name=an.name, national_id="001090012345",
            register=Register(birth_year=1990, sex=Sex.FEMALE, address="=12 Quang Trung", decision_no="12/QĐ-UBND",
                              decision_date=date(2026, 1, 5)),
        )  # fmt: skip
        bich, _ = await add_person(service, "Đỗ Thị Bích", start=date(2025, 12, 10))
        chau, _ = await add_person(service, "Trần Minh Châu", start=date(2026, 10, 5))
        hung, _ = await add_person(service, "Lê Kiến Hưng", unit="KH")
        hd, kh, hn = (await repos.units.by_code("HD"), await repos.units.by_code("KH"), await repos.units.by_code("HN"))
        assert hd and kh and hn
        await repos.absences.add(bich.id, date(2026, 11, 20), date(2026, 11, 30), False, None, hanoi["officer"])
        await repos.fieldwork.add_transfer(chau.id, hd.id, kh.id, date(2026, 11, 25), hanoi["officer"])
    return {"an": an.id, "bich": bich.id, "chau": chau.id, "hung": hung.id, "HD": hd.id, "KH": kh.id, "HN": hn.id}


async def test_the_officer_reads_the_commune_report_and_another_commune_is_not_found(
    app: Application, hanoi: dict[str, int], commune: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    home = await officer.client.get("/console/")
    assert 'href="/console/reports"' in home.text and "Báo cáo" in home.text

    page = await officer.client.get("/console/reports")  # the last full month: October 2026
    assert page.status_code == 200, page.text
    assert "Phường Hà Đông" in page.text and "Tháng 10/2026" in page.text
    assert figure(page, "under_management_start") == "2"  # An, Bích
    assert figure(page, "under_management_end") == "3"  # and Châu, listed on 5 October
    assert figure(page, "enrolled") == "1"
    assert "<details><summary>" in page.text  # every figure with its definition
    assert not any(name in page.text for name in NAMES)  # a report names nobody
    assert all(f"report.{kind}?unit=HD&amp;period=2026-10" in page.text for kind in ("xlsx", "pdf"))
    assert 'action="/console/reports/handed-over"' in page.text and 'action="/console/reports/targets"' not in page.text

    year = await officer.client.get("/console/reports", params={"period": "2025"})
    assert year.status_code == 200 and figure(year, "under_management_end") == "1"  # Bích, from 10/12/2025
    span = await officer.client.get("/console/reports", params={"from": "2026-10-01", "to": "2026-10-04"})
    assert figure(span, "under_management_end") == "2" and "Từ 01/10/2026 đến 04/10/2026" in span.text

    other = await officer.client.get("/console/reports", params={"unit": "KH"})
    assert other.status_code == 404 and "Kiến Hưng" not in other.text
    assert (await officer.client.get("/console/reports", params={"unit": "HN"})).status_code == 404
    assert (await officer.client.get("/console/reports", params={"unit": "X" * 10_000})).status_code == 404
    denied = await audit_trail(app, "denied:view_report", actor_id=hanoi["officer"])
    assert [e.subject_id for e in denied[:2]] == [commune["KH"], commune["HN"]] and len(denied) == 3
    viewed = await audit_trail(app, "report_viewed", actor_id=hanoi["officer"])
    assert viewed[0].detail == {"unit": "HD", "period": "2026-10"} and no_names(viewed)


async def test_a_period_that_cannot_be_read_gets_a_polite_message(hanoi: dict[str, int], sign_in: SignIn) -> None:
    officer = await sign_in(hanoi["officer"])
    for period in ("2026-13", "x" * 10_000, "2026-02-30..2026-03-01", "0001", "9999-12", "<script>"):
        page = await officer.client.get("/console/reports", params={"period": period})
        assert page.status_code == 400 and POLITE in page.text and "<script>" not in page.text, period
    backwards = await officer.client.get("/console/reports", params={"from": "2026-10-05", "to": "2026-10-01"})
    assert backwards.status_code == 400 and "Khoảng thời gian kết thúc trước khi bắt đầu." in backwards.text
    half = await officer.client.get("/console/reports", params={"from": "2026-10-05"})
    assert half.status_code == 400 and "ngày đầu và ngày cuối" in half.text


async def test_the_admin_reads_the_province_one_row_per_commune_and_sets_targets(
    app: Application, hanoi: dict[str, int], commune: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        await add_ward(app.enrolment(repos), "PL", "Phường Phú Lương")
    admin = await sign_in(hanoi["admin"])
    page = await admin.client.get("/console/reports", params={"period": "2026-10"})
    assert page.status_code == 200 and "Thành phố Hà Nội" in page.text
    assert figure(page, "under_management_end") == "4"
    assert re.findall(r'<tr data-commune="(\w+)">', page.text) == ["HD", "KH", "PL"]
    assert "<td>3</td>" in commune_row(page, "HD") and "<td>1</td>" in commune_row(page, "KH")
    assert "data-quiet" in commune_row(page, "PL") and "data-quiet" not in commune_row(page, "KH")  # nothing entered
    assert 'action="/console/reports/targets"' in page.text and "handed-over" not in page.text
    assert not any(name in page.text for name in NAMES)
    one = await admin.client.get("/console/reports", params={"unit": "HD", "period": "2026-10"})
    assert one.status_code == 200 and figure(one, "under_management_end") == "3"
    assert 'href="/console/reports/register"' not in one.text  # named lists are the commune officer's

    saved = await admin.post("/console/reports/targets", {"unit": "HN", "period": "2026-10", "target_checkins": "90",
                                                          "target_managed": "100", "target_accessed_services": "80",
                                                          "target_vocational_training": "100",
                                                          "target_job_support": "50,5", "target_reviews": "100 %",
                                                          "target_relapse": ""})  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/console/reports?unit=HN&period=2026-10"
    async with app.store.transaction() as repos:
        assert (await repos.reports.targets(commune["HN"])) == {"checkins": 0.9, "job_support": 0.505}
    entries = await audit_trail(app, "target_set", actor_id=hanoi["admin"])
    assert sorted(e.detail["indicator"] for e in entries) == ["checkins", "job_support"]
    shown = await admin.client.get("/console/reports", params={"period": "2026-10"})
    assert 'name="target_checkins" maxlength="8" value="90"' in shown.text

    for bad in ("101", "-1", "abc", "1e400", "nan"):
        refused = await admin.post("/console/reports/targets", {"unit": "HN", "target_checkins": bad})
        assert refused.status_code == 303  # back to the page with the message; nothing written
    async with app.store.transaction() as repos:
        assert (await repos.reports.targets(commune["HN"]))["checkins"] == 0.9

    forged = await admin.post("/console/reports/targets", {"unit": "HD", "target_checkins": "10"})  # a commune
    assert forged.status_code == 404
    async with app.store.transaction() as repos:
        other = await app.enrolment(repos).add_unit("HP", "Thành phố Hải Phòng", None)
    elsewhere = await admin.post("/console/reports/targets", {"unit": "HP", "target_checkins": "10"})
    assert elsewhere.status_code == 404
    assert (await admin.client.get("/console/reports", params={"unit": "HP"})).status_code == 404
    async with app.store.transaction() as repos:
        assert await repos.reports.targets(other.id) == {} and await repos.reports.targets(commune["KH"]) == {}
    assert len(await audit_trail(app, "denied:set_targets", actor_id=hanoi["admin"])) == 2
    no_csrf = await admin.post("/console/reports/targets", {"unit": "HN", "target_checkins": "10", "csrf": ""})
    assert no_csrf.status_code == 403
    async with app.store.transaction() as repos:
        assert (await repos.reports.targets(commune["HN"]))["checkins"] == 0.9


async def test_the_officer_enters_the_number_handed_over_for_their_commune_only(
    app: Application, hanoi: dict[str, int], commune: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    saved = await officer.post("/console/reports/handed-over", {"unit": "HD", "month": "2026-10", "people": "4",
                                                                "period": "2026-10"})  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/console/reports?unit=HD&period=2026-10"
    page = await officer.client.get(saved.headers["location"])
    managed = re.search(r'data-indicator="managed">.*?</tr>', page.text, re.S)
    assert managed is not None and "75 %" in managed.group(0)  # 3 under management ÷ 4 handed over
    entries = await audit_trail(app, "handed_over_set", actor_id=hanoi["officer"])
    assert [e.detail for e in entries] == [{"month": "2026-10", "people": 4}]

    for form in ({"month": "2026-10", "people": "100001"}, {"month": "2026-13", "people": "1"},
                 {"month": "2026-10", "people": "-1"}, {"month": "2026-10", "people": "١"}):  # fmt: skip
        assert (await officer.post("/console/reports/handed-over", {"unit": "HD", **form})).status_code == 303
    forged = await officer.post("/console/reports/handed-over", {"unit": "KH", "month": "2026-10", "people": "9"})
    assert forged.status_code == 404
    no_csrf = await officer.post("/console/reports/handed-over",
                                 {"unit": "HD", "month": "2026-10", "people": "9", "csrf": "forged"})  # fmt: skip
    assert no_csrf.status_code == 403
    async with app.store.transaction() as repos:
        assert await repos.reports.handed_over([commune["HD"], commune["KH"]], "2026-10") == {commune["HD"]: 4}
    assert len(await audit_trail(app, "denied:enter_handed_over", actor_id=hanoi["officer"])) == 1
    assert len(await audit_trail(app, "console_refused", actor_id=hanoi["officer"])) == 1  # the CSRF


async def test_cadres_and_counsellors_are_refused(hanoi: dict[str, int], sign_in: SignIn) -> None:
    for who in ("cadre", "counsellor"):
        browser = await sign_in(hanoi[who])
        assert 'href="/console/reports"' not in (await browser.client.get("/console/")).text
        for url in ("/console/reports", "/console/reports/register", "/console/reports/due.xlsx",
                    "/console/reports/report.xlsx"):  # fmt: skip
            assert (await browser.client.get(url)).status_code == 403, url
        assert (await browser.post("/console/reports/handed-over", {"unit": "HD"})).status_code == 403


async def test_the_officer_reads_and_exports_the_register_and_the_due_list(
    app: Application, hanoi: dict[str, int], commune: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/reports/register")
    assert page.status_code == 200 and 'data-people="3"' in page.text
    assert all(name in page.text for name in NAMES[:3]) and "Lê Kiến Hưng" not in page.text
    assert "001090012345" in page.text and "12/QĐ-UBND" in page.text and "Trần Thị Bình" in page.text
    assert page.text.index("Nguyễn Văn An") < page.text.index("Đỗ Thị Bích") < page.text.index("Trần Minh Châu")

    file = await officer.client.get("/console/reports/register.xlsx")
    assert file.status_code == 200 and "attachment" in file.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(file.content)).active
    assert sheet is not None
    rows = [[cell for cell in row] for row in sheet.iter_rows(min_row=3, values_only=True)]
    an = next(row for row in rows if row[1] == "Nguyễn Văn An")
    assert an[2] == 1990 and an[3] == "Nữ" and an[4] == "001090012345" and an[5] == "=12 Quang Trung"
    assert an[7].date() == date(2026, 1, 5) and an[10] == "Trần Thị Bình" and len(rows) == 3

    due = await officer.client.get("/console/reports/due")
    assert due.status_code == 200
    ending = due.text.split('id="moves"')[0]
    assert "Đỗ Thị Bích" in ending and "Nguyễn Văn An" not in ending  # her term ends on 10/12/2026
    moves, absences = due.text.split('id="moves"')[1].split('id="absences"')
    assert "Trần Minh Châu" in moves and "Phường Kiến Hưng" in moves and "Đỗ Thị Bích" in absences
    book = openpyxl.load_workbook(io.BytesIO((await officer.client.get("/console/reports/due.xlsx")).content))
    assert [ws.max_row for ws in book.worksheets] == [3, 3, 2, 3]  # a title, the headers, the rows

    other = await sign_in(hanoi["other_officer"])  # Kiến Hưng sees the move coming in
    incoming = await other.client.get("/console/reports/due")
    assert "Trần Minh Châu" in incoming.text.split('id="moves"')[1].split('id="absences"')[0]
    assert (await other.client.get("/console/reports/register", params={"unit": "HD"})).status_code == 404
    assert (await other.client.get("/console/reports/register.xlsx", params={"unit": "HD"})).status_code == 404
    admin = await sign_in(hanoi["admin"])
    assert (await admin.client.get("/console/reports/register", params={"unit": "HD"})).status_code == 403

    listed = await audit_trail(app, "register_listed", actor_id=hanoi["officer"])
    exported = await audit_trail(app, "register_exported", actor_id=hanoi["officer"])
    due_entries = await audit_trail(app, "due_listed") + await audit_trail(app, "due_exported")
    assert listed[0].detail == {"count": 3} and exported[0].detail == {"count": 3}
    assert due_entries[0].detail == {"count": 3, "ending": 1, "moves_out": 1, "moves_in": 0, "absences": 1}
    assert len(await audit_trail(app, "denied:view_named_list", actor_id=hanoi["other_officer"])) == 2
    assert no_names(listed + exported + due_entries)


async def test_the_report_downloads_as_xlsx_and_pdf_and_each_is_audited(
    app: Application, hanoi: dict[str, int], commune: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    xlsx = await officer.client.get("/console/reports/report.xlsx", params={"unit": "HD", "period": "2026-10"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    sheets = {sheet.title: sheet for sheet in openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets}
    about = {row[0]: row[2] for row in sheets["Báo cáo"].iter_rows(min_row=2, values_only=True)}
    assert (about["unit"], about["label"]) == ("HD", "2026-10")  # the unit and the period asked, not another
    figures = {row[0]: row[3] for row in sheets["Số liệu"].iter_rows(min_row=2, values_only=True)}
    page = await officer.client.get("/console/reports", params={"unit": "HD", "period": "2026-10"})
    assert figures["under_management_end"] == 3 == int(figure(page, "under_management_end"))
    pdf = await officer.client.get("/console/reports/report.pdf", params={"period": "2026-Q4"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    printed = " ".join(text(pdf.content).split())
    for words in ("PHƯỜNG HÀ ĐÔNG", "Từ ngày 01/10/2026 đến ngày 31/12/2026", "Lê Văn Phụ Trách"):
        assert words in printed, words  # the officer's commune, the quarter asked, the signer's name
    assert (await officer.client.get("/console/reports/report.pdf", params={"unit": "KH"})).status_code == 404
    assert (await officer.client.get("/console/reports/report.xlsx", params={"period": "2026-13"})).status_code == 400
    entries = await audit_trail(app, "report_exported", actor_id=hanoi["officer"])
    assert [e.detail for e in entries] == [{"unit": "HD", "period": "2026-10", "format": "xlsx"},
                                           {"unit": "HD", "period": "2026-Q4", "format": "pdf"}]  # fmt: skip
    assert no_names(entries)


async def test_the_hand_over_notice_prints_for_either_commune_s_officer_only(
    app: Application, hanoi: dict[str, int], commune: dict[str, int], sign_in: SignIn
) -> None:
    """Châu moves from Hà Đông to Kiến Hưng (not yet accepted): the due list links the notice (Mẫu 53); both
    communes' officers print it, audited; the admin, a cadre and an unknown or forged id get nothing."""
    async with app.store.transaction() as repos:
        transfer = (await repos.fieldwork.transfers_of(commune["chau"]))[0].id
    url = f"/console/transfers/{transfer}/handover.pdf"
    for who in ("officer", "other_officer"):
        browser = await sign_in(hanoi[who])
        if who == "officer":
            assert url in (await browser.client.get("/console/reports/due")).text
            assert url in (await browser.client.get(f"/console/people/{commune['chau']}")).text
        got = await browser.client.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        printed = " ".join(text(got.content).split())
        assert "TRẦN MINH CHÂU" in printed and "PHƯỜNG HÀ ĐÔNG" in printed and "Kiến Hưng" in printed
    assert [e.subject_id for e in await audit_trail(app, "handover_notice_printed")] == [commune["chau"]] * 2
    admin = await sign_in(hanoi["admin"])
    assert (await admin.client.get(url)).status_code == 403  # an officer's paper
    officer = await sign_in(hanoi["officer"])
    for forged in (f"/console/transfers/{transfer + 999}/handover.pdf", "/console/transfers/x/handover.pdf",
                   "/console/transfers/99999999999999999999/handover.pdf"):  # fmt: skip
        assert (await officer.client.get(forged)).status_code == 404, forged
    denied = await audit_trail(app, "denied:accept_transfer")
    assert [e.detail["reason"] for e in denied] == ["no such record"] and no_names(denied)
    async with app.store.transaction() as repos:  # Kiến Hưng declines: nothing was handed over, no notice for anyone
        assert await records.decide_transfer(repos, transfer, False, hanoi["other_officer"])
    for who in ("officer", "other_officer"):
        assert (await (await sign_in(hanoi[who])).client.get(url)).status_code == 404, who


async def test_the_quarterly_review_per_person(app: Application, clock: FakeClock, sign_in: SignIn) -> None:
    """The golden commune's third quarter: six people were under management in Hà Đông on 30/09 (Dũng moved away
    only in November, Bình came in November); An's review says good, Hà's concerning, four are missing — the same
    numbers as the report's reviews_* figures for 2026-Q3."""
    ids = await build_communes(app, clock)
    officer = await sign_in(ids["officer"])
    page = await officer.client.get("/console/reports/reviews")  # the last quarter ended: 2026-Q3
    assert page.status_code == 200, page.text
    assert 'data-reviews="6"' in page.text and "Ngô Văn Em" in page.text and "Đặng Văn Dũng" in page.text
    assert "Lý Thị Bình" not in page.text
    progress = re.findall(r'data-progress="(\w+)"', page.text)
    assert sorted(progress) == ["concerning", "good", "missing", "missing", "missing", "missing"]
    exported = await officer.client.get("/console/reports/reviews.xlsx?quarter=2026-Q3")
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    rows = list(book.worksheets[0].iter_rows(min_row=3, values_only=True))
    assert {(row[1], row[4]) for row in rows} >= {("Nguyễn Văn An", "Tiến bộ tốt"), ("Phan Thị Hà", "Đáng lo ngại")}
    assert len(rows) == 6
    entries = await audit_trail(app, "reviews_exported") + await audit_trail(app, "reviews_listed")
    assert [e.detail["missing"] for e in entries] == [4, 4] and no_names(entries)
    for bad in ("2026-13", "2026-11", "x" * 10_000):
        assert (await officer.client.get(f"/console/reports/reviews?quarter={bad}")).status_code == 400
    other = await sign_in(ids["cg_officer"])
    assert (await other.client.get("/console/reports/reviews?unit=HD")).status_code == 404
    cadre = await sign_in(ids["cadre"])
    assert (await cadre.client.get("/console/reports/reviews")).status_code == 403
