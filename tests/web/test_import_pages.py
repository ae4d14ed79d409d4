"""Nhập danh sách over HTTP: the template, a preview that writes nothing and shows every row's problems in
Vietnamese, a confirmation that imports everyone or no one (once), and the refusals: no CSRF token, another commune,
a role without the list, a forged or stale seal, a file too large, a broken workbook."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
from sqlalchemy import select

from bot.app import Application
from bot.db.models import AuditEventRow
from bot.domain.entities import ParticipantStatus
from tests.fakes.clock import FakeClock
from tests.support.console import SignIn
from tests.support.factories import add_person

HEADERS = ["Họ và tên", "Năm sinh", "Số CCCD", "Ngày bắt đầu quản lý", "Thời hạn (tháng)", "Cán bộ đồng hành"]
SEAL = re.compile(r'name="seal" value="([^"]+)"')
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def people(n: int) -> list[list[object]]:
    return [[f"Người Thử {i}", 1980 + i % 20, f"0010890{i:05d}", "15/01/2026", 12, "Trần Thị Bình"] for i in range(n)]


def upload(data: bytes, name: str = "danh-sach.xlsx") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data, XLSX)}


async def listed(app: Application, unit_code: str = "HD") -> list[str]:
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code(unit_code)
        assert unit is not None
        return [p.name for p in await repos.participants.in_unit(unit.id)]


async def audited(app: Application, action: str) -> list[tuple[int | None, dict[str, object] | None]]:
    async with app.store.transaction() as repos:
        rows = (await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == action))).scalars()
        return [(row.actor_id, row.detail) for row in rows]


async def test_an_officer_previews_fixes_and_imports_the_list(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/import")
    assert page.status_code == 200
    assert "Nhập danh sách" in page.text and 'href="/console/import/template.xlsx"' in page.text
    assert 'name="unit"' not in page.text  # an officer imports into their own commune

    template = await officer.client.get("/console/import/template.xlsx")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    assert "attachment" in template.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:4] == ["Họ và tên", "Năm sinh", "Giới tính", "Số CCCD"]

    rows = people(12)
    rows[3][3] = "31/02/2026"  # row 5 of the sheet
    rows[7][5] = "Nguyễn Không Có"  # row 9
    rows[10][2] = rows[0][2]  # row 12: same national ID as row 2
    bad = await officer.post("/console/import/preview", files=upload(workbook(rows)))
    assert bad.status_code == 422
    assert "Số dòng có lỗi: 3" in bad.text
    assert "Ngày bắt đầu quản lý: ngày 31/02/2026 không có trong lịch." in bad.text
    assert "“Nguyễn Không Có”" in bad.text and "Trùng số CCCD với dòng 2." in bad.text
    assert 'name="seal"' not in bad.text  # nothing to confirm
    assert await listed(app) == []
    assert await audited(app, "import_previewed") == [(hanoi["officer"], {"rows": 12, "problems": 3, "elsewhere": 0})]

    async with app.store.transaction() as repos:  # someone on Kiến Hưng's list with row 12's new number
        await add_person(app.enrolment(repos), "Lê Kiến Hưng", unit="KH", national_id="001089099999")
    rows[3][3], rows[7][5], rows[10][2] = "15/01/2026", "Trần Thị Bình", "001089099999"
    theirs = await officer.post("/console/import/preview", files=upload(workbook(rows)))
    assert theirs.status_code == 422 and "Lê Kiến Hưng" not in theirs.text
    assert (hanoi["officer"], {"rows": 12, "problems": 1, "elsewhere": 1}) in await audited(app, "import_previewed")
    async with app.store.transaction() as repos:
        [hung] = await repos.participants.with_national_id("001089099999")
        await repos.participants.update(hung, status=ParticipantStatus.COMPLETED, completed_on=date(2026, 11, 1))

    good = await officer.post("/console/import/preview", files=upload(workbook(rows)))
    assert good.status_code == 200, good.text
    assert "Nhập 12 người" in good.text and "Người Thử 11" in good.text
    assert await listed(app) == []  # a preview writes nothing
    seal = SEAL.search(good.text)
    assert seal is not None and "Người" not in seal.group(1)  # sealed: nothing readable in the page

    done = await officer.post("/console/import/confirm", data={"seal": seal.group(1)})
    assert done.status_code == 200, done.text
    assert "Đã nhập 12 người" in done.text
    names = await listed(app)
    assert sorted(names) == sorted(f"Người Thử {i}" for i in range(12))
    ids = re.search(r'href="/console/cards\?ids=([\d,]+)"', done.text)
    assert ids is not None and len(ids.group(1).split(",")) == 12
    assert (hanoi["officer"], {"count": 12}) in await audited(app, "participants_imported")

    again = await officer.post("/console/import/confirm", data={"seal": seal.group(1)})  # a double click
    assert again.status_code == 400 and "đã hết hạn hoặc đã được dùng" in again.text
    assert len(await listed(app)) == 12


async def test_posts_without_the_csrf_token_are_refused(app: Application, hanoi: dict[str, int], sign_in: SignIn):
    officer = await sign_in(hanoi["officer"])
    good = await officer.post("/console/import/preview", files=upload(workbook(people(2))))
    seal = SEAL.search(good.text)
    assert seal is not None
    officer.csrf = ""
    assert (await officer.post("/console/import/preview", files=upload(workbook(people(2))))).status_code == 403
    assert (await officer.post("/console/import/confirm", data={"seal": seal.group(1)})).status_code == 403
    officer.csrf = "x" * 43
    assert (await officer.post("/console/import/confirm", data={"seal": seal.group(1)})).status_code == 403
    assert await listed(app) == []


async def test_another_commune_and_other_roles_are_refused(app: Application, hanoi: dict[str, int], sign_in: SignIn):
    async with app.store.transaction() as repos:
        here = await repos.units.by_code("HD")
    assert here is not None
    officer = await sign_in(hanoi["officer"])
    good = await officer.post("/console/import/preview", files=upload(workbook(people(2))))
    seal = SEAL.search(good.text)
    assert seal is not None

    other = await sign_in(hanoi["other_officer"])  # the officer of Kiến Hưng
    forged = await other.post("/console/import/preview", data={"unit": str(here.id)}, files=upload(workbook(people(2))))
    assert forged.status_code == 404
    stolen = await other.post("/console/import/confirm", data={"unit": str(here.id), "seal": seal.group(1)})
    assert stolen.status_code == 404
    replayed = await other.post("/console/import/confirm", data={"seal": seal.group(1)})  # into their own commune
    assert replayed.status_code == 400  # the seal belongs to another session and commune
    assert await listed(app) == [] and await listed(app, "KH") == []
    assert any(actor == hanoi["other_officer"] for actor, _ in await audited(app, "denied:manage_list"))

    for role in ("cadre", "counsellor"):
        browser = await sign_in(hanoi[role])
        assert (await browser.client.get("/console/import")).status_code == 403
        assert (await browser.client.get("/console/import/template.xlsx")).status_code == 403
        refused = await browser.post("/console/import/preview", files=upload(workbook(people(2))))
        assert refused.status_code == 403
    assert await listed(app) == []


async def test_an_admin_chooses_one_of_the_provinces_communes(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        ward = await repos.units.by_code("KH")
        province = await repos.units.by_code("HN")
    assert ward is not None and province is not None
    admin = await sign_in(hanoi["admin"])
    page = await admin.client.get("/console/import")
    assert "Phường Hà Đông" in page.text and "Phường Kiến Hưng" in page.text and 'name="unit"' in page.text
    rows = [["Đỗ Văn Một", 1990, "", "01/03/2026", 24, ""]]
    good = await admin.post("/console/import/preview", data={"unit": str(ward.id)}, files=upload(workbook(rows)))
    assert good.status_code == 200, good.text
    seal = SEAL.search(good.text)
    assert seal is not None
    elsewhere = await admin.post("/console/import/confirm", data={"unit": str(province.id), "seal": seal.group(1)})
    assert elsewhere.status_code == 404  # a province has no list of its own
    for crafted in ("abc", "-1", "0", "9" * 30, "１２"):  # typed into the form by hand: a 404, never a 500
        odd = await admin.post("/console/import/confirm", data={"unit": crafted, "seal": seal.group(1)})
        assert odd.status_code == 404, crafted
    done = await admin.post("/console/import/confirm", data={"unit": str(ward.id), "seal": seal.group(1)})
    assert done.status_code == 200 and "Đã nhập 1 người" in done.text
    assert await listed(app, "KH") == ["Đỗ Văn Một"]


async def test_a_seal_that_was_changed_or_has_expired_imports_nobody(
    app: Application, hanoi: dict[str, int], sign_in: SignIn, clock: FakeClock
) -> None:
    officer = await sign_in(hanoi["officer"])
    good = await officer.post("/console/import/preview", files=upload(workbook(people(3))))
    seal = SEAL.search(good.text)
    assert seal is not None
    text = seal.group(1)
    changed = text[:-6] + ("AAAA" if text[-6:-2] != "AAAA" else "BBBB") + text[-2:]
    for forged in (changed, "v2:" + "A" * 80, "", "not a seal"):
        refused = await officer.post("/console/import/confirm", data={"seal": forged})
        assert refused.status_code == 400
    clock.advance(minutes=31)
    officer = await sign_in(hanoi["officer"])  # the old session has idled out meanwhile
    late = await officer.post("/console/import/confirm", data={"seal": text})
    assert late.status_code == 400
    assert await listed(app) == []


async def test_files_that_cannot_be_imported(app: Application, hanoi: dict[str, int], sign_in: SignIn) -> None:
    officer = await sign_in(hanoi["officer"])
    huge = await officer.post("/console/import/preview", files=upload(b"PK\x03\x04" + b"\0" * (11 * 1024 * 1024)))
    assert huge.status_code == 413 and "quá lớn" in huge.text
    just_over = await officer.post("/console/import/preview", files=upload(b"x" * (10 * 1024 * 1024 + 1), "a.csv"))
    assert just_over.status_code in (400, 413)
    broken = await officer.post("/console/import/preview", files=upload(workbook(people(2))[:3000]))
    assert broken.status_code == 400 and "Không mở được tệp" in broken.text
    empty = await officer.post("/console/import/preview", data={})
    assert empty.status_code == 400 and "Vui lòng chọn tệp" in empty.text
    csv_1258 = "Họ và tên,Ngày bắt đầu quản lý,Thời hạn (tháng)\nLê Thị Hương,15/01/2026,12\n"
    cp1258 = await officer.post("/console/import/preview", files={"file": ("ds.csv", _cp1258(csv_1258), "text/csv")})
    assert cp1258.status_code == 200 and "Lê Thị Hương" in cp1258.text
    long_row = [["A" * 10_000, 1990, "", "15/01/2026", 12, ""]]
    long_name = await officer.post("/console/import/preview", files=upload(workbook(long_row)))
    assert long_name.status_code == 422 and "Họ và tên quá dài (10000 ký tự; tối đa 120)." in long_name.text
    assert "A" * 41 not in long_name.text
    script = [["<script>alert(1)</script>", 1990, "", "31/02/2026", 12, ""]]
    shown = await officer.post("/console/import/preview", files=upload(workbook(script)))
    assert shown.status_code == 422 and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "<script>alert" not in shown.text
    assert await listed(app) == []


def _cp1258(text: str) -> bytes:
    """Text as Windows-1258 stores it: letters with a hat or a horn are one byte, tone marks a combining byte."""
    import unicodedata

    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in "\u0302\u0306\u031b"))
            out += head.encode("cp1258") + "".join(m for m in marks if m not in "\u0302\u0306\u031b").encode("cp1258")
    return bytes(out)
