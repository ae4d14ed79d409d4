"""The province's administration over HTTP: the admin seeds Hà Nội's communes (a dry run first), sets a commune's
due day, adds a counselling point (hours read as `aftercare point add` reads them, refused in Vietnamese), adds an
officer (the invite code shown once), moves a cadre to another commune (their console session ends, their people
wait for a new cadre) and closes an account; an officer manages their own commune's cadres and counsellors only;
another province's admin finds nothing (404); cadres and counsellors are refused (403); a POST without the CSRF token
is refused; the access log filters by staff, record, action and date and names no one on the list."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.app import Application
from bot.db.models import AuditEventRow, ConsoleSessionRow, OutboxRow, UnitRow
from bot.domain.entities import Role, UnitLevel
from tests.support.console import SignIn
from tests.support.factories import add_person

HANOI_COMMUNES = 126  # the official list after the 2025 reform (vietnam-provinces)
CODE = re.compile(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>")
NOT_YOURS = "Không tìm thấy nội dung này."
# Crafted ids: Unicode digits ("²".isdigit() but int("²") fails; int("٣") is 3), an id of nobody, ids beyond
# PostgreSQL's integer (11 digits, 2**31), and 0: the same 404 as a record out of reach (or the form's own 400),
# never a server error.
BAD_IDS = ["²", "٣", "9999999", "99999999999", "2147483648", "0"]
BAD_DATE = "ngày/tháng/năm"


async def unit_id(app: Application, code: str) -> int:
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code(code)
        assert unit is not None
        return unit.id


async def communes_of(app: Application, province: str) -> int:
    province_id = await unit_id(app, province)
    async with app.store.transaction() as repos:
        stmt = select(func.count()).select_from(UnitRow).where(UnitRow.parent_id == province_id)
        return int((await repos.session.execute(stmt)).scalar_one())


async def audited(app: Application, action: str) -> list[AuditEventRow]:
    async with app.store.transaction() as repos:
        rows = (await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == action))).scalars()
        return list(rows)


async def other_province(app: Application) -> dict[str, int]:
    """Tỉnh Quảng Ninh with Phường Hạ Long, its admin and a cadre there."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("QN", "Tỉnh Quảng Ninh", None)
        await service.add_unit("HL", "Phường Hạ Long", "QN")
        admin, _ = await service.add_staff("Lê Thị Ninh", Role.ADMIN, "QN", None, "vi")
        cadre, _ = await service.add_staff("Vũ Hạ Long", Role.CADRE, "HL", None, "vi")
    return {"admin": admin.id, "cadre": cadre.id}


async def test_the_admin_seeds_the_province_after_a_dry_run_and_sets_a_communes_schedule(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    admin = await sign_in(hanoi["admin"])
    page = await admin.client.get("/console/admin/units")
    assert page.status_code == 200
    assert "Thêm xã/phường theo danh mục chính thức" in page.text and "Phường Kiến Hưng" in page.text

    preview = await admin.post("/console/admin/units/seed", {"province": "Hà Nội"})
    assert preview.status_code == 200
    assert "Sẽ thêm 124 xã/phường của Thành phố Hà Nội" in preview.text and 'name="confirm" value="1"' in preview.text
    assert await communes_of(app, "HN") == 2  # the dry run wrote nothing

    done = await admin.post("/console/admin/units/seed", {"province": "Hà Nội", "confirm": "1"})
    assert done.status_code == 303 and done.headers["location"] == "/console/admin/units"
    assert await communes_of(app, "HN") == HANOI_COMMUNES  # 124 created, Hà Đông and Kiến Hưng kept
    listed = await admin.client.get("/console/admin/units")
    assert "Thành phố Hà Nội: đã thêm 124 xã/phường, 2 xã/phường đã có từ trước." in listed.text
    assert "Số xã/phường: 126" in listed.text and "Phường Hoàn Kiếm" in listed.text
    [entry] = await audited(app, "units_seeded")
    assert (entry.actor_type, entry.actor_id, entry.detail["created"]) == ("staff", hanoi["admin"], 124)

    again = await admin.post("/console/admin/units/seed", {"province": "01"})
    assert "Không có gì cần thêm" in again.text
    unknown = await admin.post("/console/admin/units/seed", {"province": "Bình Dương"})
    assert unknown.status_code == 400 and "không còn là đơn vị hành chính cấp tỉnh" in unknown.text
    foreign = await admin.post("/console/admin/units/seed", {"province": "Cao Bằng", "confirm": "1"})
    assert foreign.status_code == 403 and "chỉ có thể thêm xã/phường cho tỉnh/thành phố của mình" in foreign.text
    assert len(await audited(app, "denied:manage_units")) == 1

    ha_dong = await unit_id(app, "HD")
    form = await admin.client.get(f"/console/admin/units/{ha_dong}")
    assert form.status_code == 200 and 'name="due_day"' in form.text
    for bad in ("31", "0", "abc", "9" * 10_000):
        refused = await admin.post(f"/console/admin/units/{ha_dong}", {"due_day": bad, "test_place": "Trạm y tế"})
        assert refused.status_code == 400 and "từ 1 đến 28" in refused.text
    too_long = await admin.post(f"/console/admin/units/{ha_dong}", {"due_day": "5", "test_place": "x" * 10_000})
    assert too_long.status_code == 400 and "quá dài (tối đa 300 ký tự)" in too_long.text
    saved = await admin.post(
        f"/console/admin/units/{ha_dong}",
        {"due_day": "5", "test_place": "Trạm y tế phường Hà Đông", "test_hours": "7:30-10:30"},
    )
    assert saved.status_code == 303
    async with app.store.transaction() as repos:
        unit = await repos.units.get(ha_dong)
    assert unit is not None
    assert (unit.checkin_due_day, unit.test_place, unit.test_hours) == (5, "Trạm y tế phường Hà Đông", "7:30-10:30")
    flashed = await admin.client.get(saved.headers["location"])
    assert "điểm danh ở Phường Hà Đông đến hạn vào ngày 5 hằng tháng" in flashed.text
    province = await unit_id(app, "HN")
    assert (await admin.client.get(f"/console/admin/units/{province}")).status_code == 404  # a province has no due day


async def test_the_admin_adds_a_counselling_point_with_hours_read_as_the_cli_reads_them(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    admin = await sign_in(hanoi["admin"])
    kien_hung = await unit_id(app, "KH")
    point = {"unit": str(kien_hung), "name": "Điểm tư vấn Kiến Hưng", "address": "5 Lê Trọng Tấn", "phone": "024 1"}
    bad = await admin.post("/console/admin/points", {**point, "hours": "thứ hai 8h"})
    assert bad.status_code == 400 and "Không đọc được giờ mở cửa “thứ hai 8h”" in bad.text
    backwards = await admin.post("/console/admin/points", {**point, "hours": "T2-T6 17:00-8:00"})
    assert backwards.status_code == 400 and "Không đọc được giờ mở cửa" in backwards.text
    long_name = await admin.post("/console/admin/points", {**point, "name": "Đ" * 10_000, "hours": ""})
    assert long_name.status_code == 400 and "quá dài" in long_name.text
    async with app.store.transaction() as repos:
        assert await repos.points.in_unit(kien_hung) == []
    good = await admin.post("/console/admin/points", {**point, "hours": "T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00"})
    assert good.status_code == 303
    listed = await admin.client.get("/console/admin/points")
    assert "Đã thêm điểm tư vấn: Điểm tư vấn Kiến Hưng." in listed.text
    async with app.store.transaction() as repos:
        [added] = await repos.points.in_unit(kien_hung)
    assert added.hours == "T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00"
    refused = await admin.post(f"/console/admin/points/{added.id}/hours", {"hours": "T9 8:00-9:00"})
    assert refused.status_code == 400 and "Không đọc được giờ mở cửa “T9 8:00-9:00”" in refused.text
    changed = await admin.post(f"/console/admin/points/{added.id}/hours", {"hours": "hằng ngày 7:00-21:00"})
    assert changed.status_code == 303
    async with app.store.transaction() as repos:
        assert (await repos.points.get(added.id)).hours == "hằng ngày 7:00-21:00"  # type: ignore[union-attr]
    assert [e.subject_id for e in await audited(app, "point_hours_changed")] == [added.id]

    others = await other_province(app)
    neighbour = await sign_in(others["admin"])
    assert (await neighbour.post(f"/console/admin/points/{added.id}/hours", {"hours": ""})).status_code == 404
    forged = await neighbour.post("/console/admin/points", {**point, "hours": ""})  # a Hà Nội commune, typed in
    assert forged.status_code == 404
    denied = await audited(app, "denied:manage_units")
    assert {e.actor_id for e in denied} == {others["admin"]} and len(denied) == 2


async def test_the_admin_adds_an_officer_moves_a_cadre_and_closes_an_account(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        person, _ = await add_person(app.enrolment(repos), "Nguyễn Văn An", cadre_id=hanoi["cadre"])
    admin = await sign_in(hanoi["admin"])
    ha_dong, kien_hung = await unit_id(app, "HD"), await unit_id(app, "KH")
    listed = await admin.client.get("/console/admin/staff")
    assert listed.status_code == 200 and "Trần Thị Bình" in listed.text and "Đỗ Kiến Hưng" in listed.text
    officers = await admin.client.get("/console/admin/staff", params={"role": "officer", "unit": str(kien_hung)})
    assert "Đỗ Kiến Hưng" in officers.text and "Lê Văn Phụ Trách" not in officers.text
    assert "Số tài khoản: 1" in officers.text

    nameless = await admin.post("/console/admin/staff", {"name": " ", "role": "officer", "unit": str(kien_hung)})
    assert nameless.status_code == 400 and "Anh/chị vui lòng điền: Họ và tên." in nameless.text
    wrong_place = await admin.post(
        "/console/admin/staff", {"name": "Vũ Văn Sai", "role": "officer", "unit": str(await unit_id(app, "HN"))}
    )
    assert wrong_place.status_code == 400 and "thuộc xã/phường, không thuộc tỉnh/thành phố" in wrong_place.text
    added = await admin.post(
        "/console/admin/staff", {"name": "Hà Thị Mới", "role": "officer", "unit": str(kien_hung), "language": "vi"}
    )
    assert added.status_code == 200 and "Đã thêm: Hà Thị Mới" in added.text
    found = CODE.search(added.text)
    assert found is not None  # the invite code, shown this once
    assert found.group(1) not in (await admin.client.get("/console/admin/staff")).text

    cadre = await sign_in(hanoi["cadre"])
    assert (await cadre.client.get("/console/")).status_code == 200
    move = {"role": "cadre", "unit": str(kien_hung), "point": ""}
    no_csrf = await admin.client.post(
        f"/console/admin/staff/{hanoi['cadre']}/placement", data=move, headers={"origin": "http://127.0.0.1:8080"}
    )
    assert no_csrf.status_code == 403
    moved = await admin.post(f"/console/admin/staff/{hanoi['cadre']}/placement", move)
    assert moved.status_code == 303
    after = await admin.client.get(moved.headers["location"])
    assert "Các phiên đăng nhập trang quản lý của cán bộ này đã kết thúc" in after.text
    assert "Số người chưa có cán bộ đồng hành (đã báo cho cán bộ phụ trách): 1." in after.text
    signed_out = await cadre.client.get("/console/")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/console/signin"
    async with app.store.transaction() as repos:
        member = await repos.staff.get(hanoi["cadre"])
        an = await repos.participants.get(person.id)
        reasons = (await repos.session.execute(select(ConsoleSessionRow.ended_reason))).scalars().all()
        notices = (
            (await repos.session.execute(select(OutboxRow).where(OutboxRow.kind == "cadre_needed"))).scalars().all()
        )
    assert member is not None and (member.role, member.unit_id) == (Role.CADRE, kien_hung)
    assert an is not None and an.cadre_id is None  # An waits for a new cadre in Hà Đông
    assert "role_changed" in reasons
    assert [(n.staff_id, n.payload["people"]) for n in notices] == [(hanoi["officer"], [person.id])]
    [change] = await audited(app, "staff_changed")
    assert change.detail["from_unit"] == ha_dong and change.detail["to_unit"] == kien_hung
    same = await admin.post(f"/console/admin/staff/{hanoi['cadre']}/placement", move)
    assert same.status_code == 400 and "Chưa có gì thay đổi" in same.text

    counsellor = await admin.post(
        f"/console/admin/staff/{hanoi['cadre']}/placement", {"role": "counsellor", "unit": str(kien_hung), "point": ""}
    )
    assert counsellor.status_code == 400 and "Tư vấn viên cần được gắn với điểm tư vấn" in counsellor.text

    closed = await admin.post(f"/console/admin/staff/{hanoi['counsellor']}/deactivate")
    assert closed.status_code == 303
    async with app.store.transaction() as repos:
        assert not (await repos.staff.get(hanoi["counsellor"])).active  # type: ignore[union-attr]
    invite = await admin.post(f"/console/admin/staff/{hanoi['counsellor']}/invite")
    assert invite.status_code == 303  # a closed account gets no code
    assert "Tài khoản này đã đóng" in (await admin.client.get(invite.headers["location"])).text
    reopened = await admin.post(f"/console/admin/staff/{hanoi['counsellor']}/activate")
    assert reopened.status_code == 303
    fresh = await admin.post(f"/console/admin/staff/{hanoi['counsellor']}/invite")
    assert fresh.status_code == 200 and CODE.search(fresh.text) and "Mã mời mới: Phạm Tư Vấn" in fresh.text
    own = await admin.client.get(f"/console/admin/staff/{hanoi['admin']}")
    assert own.status_code == 404  # nobody manages their own account


async def test_an_officer_manages_their_own_communes_cadres_and_counsellors_only(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    home = await officer.client.get("/console/")
    assert 'href="/console/admin/staff"' in home.text and "/console/admin/units" not in home.text
    listed = await officer.client.get("/console/admin/staff")
    assert listed.status_code == 200 and "Trần Thị Bình" in listed.text and "Phạm Tư Vấn" in listed.text
    assert "Đỗ Kiến Hưng" not in listed.text and "Nguyễn Quản Trị" not in listed.text
    assert f'href="/console/admin/staff/{hanoi["cadre"]}"' in listed.text
    assert f'href="/console/admin/staff/{hanoi["officer"]}"' not in listed.text  # themselves: listed, not managed
    assert 'value="officer"' not in listed.text.split('id="add"')[1]  # the add form offers cadres and counsellors

    ha_dong, kien_hung = await unit_id(app, "HD"), await unit_id(app, "KH")
    assert (await officer.client.get(f"/console/admin/staff/{hanoi['cadre']}")).status_code == 200
    for out_of_reach in ("other_officer", "admin", "officer"):
        assert (await officer.client.get(f"/console/admin/staff/{hanoi[out_of_reach]}")).status_code == 404
    assert (await officer.client.get("/console/admin/staff", params={"unit": str(kien_hung)})).status_code == 404
    assert (await officer.post(f"/console/admin/staff/{hanoi['other_officer']}/deactivate")).status_code == 404
    promote = {"role": "officer", "unit": str(ha_dong), "point": ""}
    assert (await officer.post(f"/console/admin/staff/{hanoi['cadre']}/placement", promote)).status_code == 404
    away = {"role": "cadre", "unit": str(kien_hung), "point": ""}
    assert (await officer.post(f"/console/admin/staff/{hanoi['cadre']}/placement", away)).status_code == 404
    new_officer = {"name": "Vũ Văn Thêm", "role": "officer", "unit": str(ha_dong)}
    assert (await officer.post("/console/admin/staff", new_officer)).status_code == 404
    elsewhere = {"name": "Vũ Văn Thêm", "role": "cadre", "unit": str(kien_hung)}
    assert (await officer.post("/console/admin/staff", elsewhere)).status_code == 404
    async with app.store.transaction() as repos:
        cadre = await repos.staff.get(hanoi["cadre"])
    assert cadre is not None and (cadre.role, cadre.unit_id) == (Role.CADRE, ha_dong)  # nothing changed
    assert len(await audited(app, "denied:manage_staff")) == 8  # every refused attempt but the filtered list

    added = await officer.post("/console/admin/staff", {"name": "Vũ Văn Thêm", "role": "cadre", "unit": str(ha_dong)})
    assert added.status_code == 200 and CODE.search(added.text)
    async with app.store.transaction() as repos:
        point = (await repos.points.in_unit(ha_dong))[0]
        next_door = await app.enrolment(repos).add_point("KH", "Điểm tư vấn Kiến Hưng", "", "", "")
    forged = {"role": "counsellor", "unit": str(ha_dong), "point": str(next_door.id)}  # not offered to them
    refused = await officer.post(f"/console/admin/staff/{hanoi['cadre']}/placement", forged)
    assert refused.status_code == 400 and "Không thể chọn điểm tư vấn này ở đây." in refused.text
    to_desk = {"role": "counsellor", "unit": str(ha_dong), "point": str(point.id)}
    assert (await officer.post(f"/console/admin/staff/{hanoi['cadre']}/placement", to_desk)).status_code == 303
    assert (await officer.post(f"/console/admin/staff/{hanoi['cadre']}/deactivate")).status_code == 303
    for page in ("/console/admin/units", "/console/admin/points", "/console/admin/audit"):
        assert (await officer.client.get(page)).status_code == 403


async def test_another_provinces_admin_finds_nothing_and_cadres_and_counsellors_are_refused(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    others = await other_province(app)
    neighbour = await sign_in(others["admin"])
    ha_dong = await unit_id(app, "HD")
    assert "Trần Thị Bình" not in (await neighbour.client.get("/console/admin/staff")).text
    assert "Phường Hà Đông" not in (await neighbour.client.get("/console/admin/units")).text
    assert (await neighbour.client.get(f"/console/admin/staff/{hanoi['cadre']}")).status_code == 404
    assert (await neighbour.client.get(f"/console/admin/units/{ha_dong}")).status_code == 404
    assert (await neighbour.post(f"/console/admin/units/{ha_dong}", {"due_day": "3"})).status_code == 404
    assert (await neighbour.post(f"/console/admin/staff/{hanoi['cadre']}/deactivate")).status_code == 404
    assert (await neighbour.post(f"/console/admin/staff/{hanoi['officer']}/invite")).status_code == 404
    take = {"role": "cadre", "unit": str(await unit_id(app, "HL")), "point": ""}
    assert (await neighbour.post(f"/console/admin/staff/{hanoi['cadre']}/placement", take)).status_code == 404
    assert (await neighbour.client.get("/console/admin/staff", params={"unit": str(ha_dong)})).status_code == 404
    assert (await neighbour.client.get("/console/admin/staff/999999999")).status_code == 404
    assert (await neighbour.client.get("/console/admin/staff/abc")).status_code == 404
    async with app.store.transaction() as repos:
        assert (await repos.staff.get(hanoi["cadre"])).active  # type: ignore[union-attr]
        assert (await repos.units.get(ha_dong)).checkin_due_day == 10  # type: ignore[union-attr]

    for role in ("cadre", "counsellor"):
        browser = await sign_in(hanoi[role])
        for page in ("/console/admin/units", "/console/admin/points", "/console/admin/staff", "/console/admin/audit"):
            assert (await browser.client.get(page)).status_code == 403
        refused = await browser.post("/console/admin/staff", {"name": "X", "role": "cadre", "unit": str(ha_dong)})
        assert refused.status_code == 403 and "Trang hoặc thao tác này không dành cho anh/chị" in refused.text
    admin = await sign_in(hanoi["admin"])
    no_csrf = await admin.post("/console/admin/units/seed", {"province": "Hà Nội", "confirm": "1", "csrf": ""})
    assert no_csrf.status_code == 403
    assert await communes_of(app, "HN") == 2


async def test_the_access_log_filters_by_staff_record_action_and_date_and_names_no_one_listed(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    async with app.store.transaction() as repos:
        person, _ = await add_person(app.enrolment(repos), "Nguyễn Văn An", cadre_id=hanoi["cadre"])
    others = await other_province(app)
    neighbour = await sign_in(others["admin"])
    await neighbour.post(f"/console/admin/staff/{others['cadre']}/deactivate")  # another province's business
    officer = await sign_in(hanoi["officer"])
    await officer.post(f"/console/admin/staff/{hanoi['counsellor']}/deactivate")
    async with app.store.transaction() as repos:
        await repos.audit.record(
            actor_type="staff", actor_id=hanoi["cadre"], action="participant_card_viewed", outcome="ok",
            subject_type="participant", subject_id=person.id, detail={"view": "card", "note": "Nguyễn Văn An nói…"},
        )  # fmt: skip
        await repos.audit.record(
            actor_type="operator", actor_id=None, action="staff_listed", outcome="ok", detail={"os_user": "root",
            "count": 9},
        )  # fmt: skip

    admin = await sign_in(hanoi["admin"])
    log = await admin.client.get("/console/admin/audit")
    assert log.status_code == 200 and "Nhật ký truy cập" in log.text
    assert "participant_card_viewed" in log.text and "staff_deactivated" in log.text and "staff_listed" in log.text
    assert f"Người trong danh sách #{person.id}" in log.text and "view=card" in log.text
    assert "Nguyễn Văn An" not in log.text and "os_user" not in log.text and "root" not in log.text
    assert "Người vận hành máy chủ (dòng lệnh)" in log.text and "count=9" in log.text and "Thành công" in log.text
    assert f'href="/console/admin/staff/{others["cadre"]}"' not in log.text  # Quảng Ninh's entries are its own
    assert f'href="/console/admin/staff/{hanoi["counsellor"]}"' in log.text

    by_officer = await admin.client.get("/console/admin/audit", params={"staff": str(hanoi["officer"])})
    assert "staff_deactivated" in by_officer.text and "participant_card_viewed" not in by_officer.text
    about_an = await admin.client.get("/console/admin/audit", params={"type": "participant", "record": str(person.id)})
    assert "participant_card_viewed" in about_an.text and "staff_deactivated" not in about_an.text
    denied = await admin.client.get("/console/admin/audit", params={"action": "staff_deactivated"})
    assert "staff_deactivated" in denied.text and "participant_card_viewed" not in denied.text
    today = date(2026, 11, 23)  # the fake clock's day in Hà Nội
    dated = await admin.client.get("/console/admin/audit", params={"from": today.isoformat(), "to": "23/11/2026"})
    assert "participant_card_viewed" in dated.text
    tomorrow = await admin.client.get("/console/admin/audit", params={"from": "2026-11-24"})
    assert "Không có mục nào phù hợp." in tomorrow.text
    bad = await admin.client.get("/console/admin/audit", params={"from": "31/02/2026", "action": "<script>"})
    assert bad.status_code == 200 and "ngày/tháng/năm" in bad.text and "<script>" not in bad.text
    viewed = await audited(app, "audit_viewed")
    assert len(viewed) == 7 and {e.actor_id for e in viewed} == {hanoi["admin"]}
    province = await unit_id(app, "HN")
    assert {(e.subject_type, e.subject_id) for e in viewed} == {("unit", province)}


async def test_the_access_log_pages_back_through_older_entries(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    ha_dong = await unit_id(app, "HD")
    async with app.store.transaction() as repos:
        for i in range(120):
            await repos.audit.record(
                actor_type="staff", actor_id=hanoi["officer"], action="list_opened", outcome="ok",
                subject_type="unit", subject_id=ha_dong, detail={"page": i},
            )  # fmt: skip
    admin = await sign_in(hanoi["admin"])
    seen: list[int] = []
    url, params = "/console/admin/audit", {"action": "list_opened"}
    for _ in range(4):
        page = await admin.client.get(url, params=params)
        seen += [int(n) for n in re.findall(r"page=(\d+)</code>", page.text)]
        older = re.search(r'before=(\d+)">', page.text)
        if older is None:
            break
        params = {"action": "list_opened", "before": older.group(1)}
    assert seen == list(range(119, -1, -1))  # every entry once, newest first
    async with app.store.transaction() as repos:
        assert (await repos.units.get(ha_dong)).level is UnitLevel.COMMUNE  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_crafted_id_is_the_same_404_as_a_record_out_of_reach(
    app: Application, hanoi: dict[str, int], sign_in: SignIn, bad: str
) -> None:
    admin = await sign_in(hanoi["admin"])
    ha_dong = await unit_id(app, "HD")
    for url in (f"/console/admin/units/{bad}", f"/console/admin/staff/{bad}", "/console/admin/staff?unit=" + bad):
        shown = await admin.client.get(url)
        assert shown.status_code == 404 and NOT_YOURS in shown.text, (url, shown.text[:300])
    for url, form in (
        (f"/console/admin/units/{bad}", {"due_day": "5"}),
        (f"/console/admin/points/{bad}/hours", {"hours": ""}),
        ("/console/admin/points", {"unit": bad, "name": "Điểm lạ"}),
        ("/console/admin/staff", {"name": "Vũ Văn Lạ", "role": "cadre", "unit": bad, "language": "vi"}),
        (f"/console/admin/staff/{bad}/placement", {"role": "cadre", "unit": str(ha_dong), "point": ""}),
        (f"/console/admin/staff/{hanoi['cadre']}/placement", {"role": "cadre", "unit": bad, "point": ""}),
        (f"/console/admin/staff/{bad}/deactivate", {}),
        (f"/console/admin/staff/{bad}/activate", {}),
        (f"/console/admin/staff/{bad}/invite", {}),
    ):
        refused = await admin.post(url, form)
        assert refused.status_code == 404 and NOT_YOURS in refused.text, (url, form, refused.text[:300])
    point = await admin.post(
        f"/console/admin/staff/{hanoi['cadre']}/placement", {"role": "cadre", "unit": str(ha_dong), "point": bad}
    )  # a number is the service's to refuse (no such point for a cadre), in words; anything else is a forged form
    assert point.status_code == (400 if bad == "9999999" else 404), point.text[:300]
    due_day = await admin.post(f"/console/admin/units/{ha_dong}", {"due_day": bad})
    assert due_day.status_code == 400 and "từ 1 đến 28" in due_day.text
    seeded = await admin.post("/console/admin/units/seed", {"province": bad})  # a province's code: none is this
    assert seeded.status_code == 400
    for key in ("staff", "record", "before", "page"):
        log = await admin.client.get("/console/admin/audit", params={key: bad})
        assert log.status_code == 200 and "Nhật ký truy cập" in log.text, (key, log.text[:300])
    listed = await admin.client.get("/console/admin/staff", params={"page": bad})
    assert listed.status_code == 200
    async with app.store.transaction() as repos:
        cadre = await repos.staff.get(hanoi["cadre"])
        points = await repos.points.listed([ha_dong])
    assert cadre is not None and cadre.active and cadre.unit_id == ha_dong and cadre.point_id is None
    assert [p.name for p in points] == ["Điểm tư vấn Hà Đông"]  # nothing added, nothing moved
    assert await communes_of(app, "HN") == 2


@pytest.mark.parametrize("day", ["9999-12-31", "31/12/9999", "0001-01-01", "01/01/0001", "1999-12-31", "2101-01-01"])
async def test_an_access_log_date_out_of_this_century_is_unreadable_not_a_server_error(
    app: Application, hanoi: dict[str, int], sign_in: SignIn, day: str
) -> None:
    admin = await sign_in(hanoi["admin"])
    for params in ({"from": day}, {"to": day}, {"from": day, "to": day}):
        log = await admin.client.get("/console/admin/audit", params=params)
        assert log.status_code == 200 and BAD_DATE in log.text, (params, log.text[:300])
    edges = await admin.client.get("/console/admin/audit", params={"from": "2000-01-01", "to": "31/12/2100"})
    assert edges.status_code == 200 and BAD_DATE not in edges.text
