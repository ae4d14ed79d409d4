"""`aftercare unit seed` (a province's communes from the official 2025 list), `staff list` and `point list`, against a
real database; the same seeding as the console's admins call it, with a staff actor."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from bot.app import Application
from bot.domain.authz import Actor, ActorKind
from bot.domain.entities import Role, UnitLevel
from bot.services.access import Refused
from bot.services.operators import Operator
from bot.services.seeding import SeedError, official_communes, seed_province
from tests.support.cli import call, ok_json
from tests.support.factories import add_hanoi

HANOI_COMMUNES = 126


def _units(env: dict[str, str]) -> list[dict[str, Any]]:
    return list(ok_json(env, "unit", "list")["units"])


def test_seeding_hanoi_twice_adds_it_once(env: dict[str, str]) -> None:
    first = ok_json(env, "unit", "seed", "--province", "ha noi")
    assert first == {
        "province": "01", "name": "Thành phố Hà Nội", "created": HANOI_COMMUNES, "existing": 0,
        "province_created": True,
    }  # fmt: skip
    units = {u["code"]: u for u in _units(env)}
    assert len(units) == HANOI_COMMUNES + 1
    province = units["01"]
    assert (province["name"], province["level"], province["parent_id"]) == ("Thành phố Hà Nội", "province", None)
    ha_dong = next(u for u in units.values() if u["name"] == "Phường Hà Đông")
    assert ha_dong["level"] == "commune" and ha_dong["parent_id"] == province["id"]
    assert len(ha_dong["code"]) == 5 and ha_dong["code"].isdigit()

    again = ok_json(env, "unit", "seed", "--province", "Thành phố Hà Nội")
    assert again == {
        "province": "01", "name": "Thành phố Hà Nội", "created": 0, "existing": HANOI_COMMUNES,
        "province_created": False,
    }  # fmt: skip
    assert len(_units(env)) == HANOI_COMMUNES + 1
    human = call(env, "unit", "seed", "--province", "01")
    assert human.exit_code == 0 and "01 Thành phố Hà Nội: 0 commune(s) added, 126 already there" in human.stdout

    # a commune of the new list is ready for everything a commune gets: staff, participants
    officer = ok_json(env, "staff", "add", "--name", "Vũ Thị Hoa", "--role", "officer", "--unit", ha_dong["code"])
    assert officer["role"] == "officer"


def test_dry_run_counts_and_writes_nothing(env: dict[str, str]) -> None:
    plan = ok_json(env, "unit", "seed", "--province", "Tỉnh Cao Bằng", "--dry-run")
    assert plan["province"] == "04" and plan["created"] == len(official_communes("04")) and plan["dry_run"] is True
    assert plan["province_created"] is True
    assert _units(env) == []


async def test_units_set_up_by_hand_are_kept_not_renamed(app: Application, env: dict[str, str]) -> None:
    """Hà Nội entered by hand as HN with Phường Hà Đông as HD, and a commune under an official code with a name of the
    office's own: seeding by HN's code adds only what is missing, under HN; nothing is renamed or moved."""
    hoan_kiem = official_communes("01")[0]
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        await service.add_unit(hoan_kiem.code, "P. Ba Đình (cũ)", "HN")

    out = await asyncio.to_thread(ok_json, env, "unit", "seed", "--province", "HN")
    assert out == {
        "province": "HN", "name": "Thành phố Hà Nội", "created": HANOI_COMMUNES - 2, "existing": 2,
        "province_created": False,
    }  # fmt: skip
    async with app.store.transaction() as repos:
        units = await repos.units.all()
        by_code = {u.code: u for u in units}
        assert "01" not in by_code  # Hà Nội stays HN
        assert by_code[hoan_kiem.code].name == "P. Ba Đình (cũ)"
        assert [u.code for u in units if u.name == "Phường Hà Đông"] == ["HD"]
        hn = by_code["HN"]
        assert all(u.parent_id == hn.id for u in units if u.level is UnitLevel.COMMUNE)
        assert len(units) == HANOI_COMMUNES + 1
        entry = next(e for e in await repos.audit.recent(5) if e.action == "units_seeded")
        assert (entry.actor_type, entry.subject_type, entry.subject_id) == ("operator", "unit", hn.id)
        detail = entry.detail
        assert {k: detail[k] for k in ("province", "created", "existing", "province_created")} == {
            "province": "01", "created": HANOI_COMMUNES - 2, "existing": 2, "province_created": False,
        }  # fmt: skip
        assert detail["source"].startswith("vietnam-provinces 2025.")
        assert "Phường" not in json.dumps(detail, ensure_ascii=False)  # counts, never the names


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("ha", "'ha' matches several provinces: 01 Thành phố Hà Nội, 31 Thành phố Hải Phòng, 42 Tỉnh Hà Tĩnh"),
        ("Bình Dương", "no longer a province: it is part of 79 Thành phố Hồ Chí Minh"),
        ("Atlantis", "no province matches 'Atlantis'"),
        ("", "name a province by its code or name"),
        ("x" * 10_000, "no province matches 'xxxxxxxx"),
    ],
)
def test_refusals_are_one_json_object_and_write_nothing(env: dict[str, str], typed: str, message: str) -> None:
    result = call(env, "unit", "seed", "--province", typed, "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert message in error and len(error) < 300
    assert _units(env) == []


def test_a_unit_holding_an_official_code_elsewhere_stops_the_seeding(env: dict[str, str]) -> None:
    ba_dinh = official_communes("01")[0]
    ok_json(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    ok_json(env, "unit", "add", "--code", ba_dinh.code, "--name", "Phường Hạ Long", "--parent", "QN")
    result = call(env, "unit", "seed", "--province", "Hà Nội", "--json")
    assert result.exit_code == 1
    assert f"units {ba_dinh.code} hold official codes of Thành phố Hà Nội" in json.loads(result.stdout)["error"]
    assert len(_units(env)) == 2  # nothing created: not the province, not one commune


async def test_seeding_is_fast(app: Application) -> None:
    """The largest province (Thành phố Hồ Chí Minh, 168 communes) in well under a second, and a second run too."""
    for _ in range(2):
        started = time.perf_counter()
        async with app.store.transaction() as repos:
            result = await seed_province(repos, Operator(None, "tester"), "79")
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"seeding took {elapsed:.2f}s"
    assert (result.created, result.existing) == (0, 168)


def _admin(staff_id: int, province_id: int) -> Actor:
    return Actor(ActorKind.STAFF, staff_id, Role.ADMIN, province_id, province_id)


async def test_the_console_admin_seeds_their_own_province_only(app: Application) -> None:
    """The admin of Hà Nội seeds Hà Nội (audited as that staff member); an admin of another province, an officer of
    Hà Nội and an admin naming a province not set up are refused, the refusal recorded, nothing created."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        hanoi, ha_dong = await add_hanoi(service)
        await service.add_unit("QN", "Tỉnh Quảng Ninh", None)
        quang_ninh = await repos.units.by_code("QN")
        assert quang_ninh is not None
        admin, _ = await service.add_staff("Trần Văn Quản", Role.ADMIN, "HN", None, "vi")
        other, _ = await service.add_staff("Lê Thị Ninh", Role.ADMIN, "QN", None, "vi")
        officer, _ = await service.add_staff("Vũ Thị Hoa", Role.OFFICER, "HD", None, "vi")

    refused = [
        (_admin(other.id, quang_ninh.id), "Hà Nội"),
        (Actor(ActorKind.STAFF, officer.id, Role.OFFICER, ha_dong.id, hanoi.id), "Hà Nội"),
        (_admin(admin.id, hanoi.id), "Cao Bằng"),  # not set up: an admin creates no province
        (Actor(ActorKind.PARTICIPANT, 1), "Hà Nội"),
    ]
    for actor, typed in refused:
        async with app.store.transaction() as repos:
            with pytest.raises(Refused):
                await seed_province(repos, actor, typed)
    async with app.store.transaction() as repos:
        assert len(await repos.units.all()) == 3
        denials = [e for e in await repos.audit.recent(20) if e.action == "denied:manage_units"]
        assert len(denials) == 4 and all(e.outcome == "denied" for e in denials)
        assert {e.actor_id for e in denials} == {other.id, officer.id, admin.id, 1}

    async with app.store.transaction() as repos:
        done = await seed_province(repos, _admin(admin.id, hanoi.id), "thanh pho ha noi")
    assert (done.province_code, done.created, done.existing) == ("HN", HANOI_COMMUNES - 1, 1)
    async with app.store.transaction() as repos:
        entry = next(e for e in await repos.audit.recent(5) if e.action == "units_seeded")
        assert (entry.actor_type, entry.actor_id, entry.subject_id) == ("staff", admin.id, hanoi.id)
        with pytest.raises(SeedError) as unknown:  # refusals of the name come before any permission question
            await seed_province(repos, _admin(admin.id, hanoi.id), "Quảng")
        assert unknown.value.kind == "ambiguous"


async def test_staff_and_point_lists(app: Application, env: dict[str, str]) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service, ("CG", "Phường Cầu Giấy"))
        await service.add_unit("QN", "Tỉnh Quảng Ninh", None)
        await service.add_unit("HL", "Phường Hạ Long", "QN")
        hours = "T2-T6 8:00-17:00"
        point = await service.add_point("HD", "Điểm tư vấn Hà Đông", "12 Quang Trung", "024 3382 0000", hours)
        other_point = await service.add_point("HL", "Điểm tư vấn Hạ Long", "", "", "")
        admin, _ = await service.add_staff("Trần Văn Quản", Role.ADMIN, "HN", None, "vi")
        cadre, _ = await service.add_staff("Vũ Thị Hoa", Role.CADRE, "HD", None, "vi")
        closed, _ = await service.add_staff("Phạm Văn Cũ", Role.CADRE, "HD", None, "vi")
        counsellor, _ = await service.add_staff("Ngô Văn Tư", Role.COUNSELLOR, "HD", point.id, "en")
        far, _ = await service.add_staff("Đỗ Thị Xa", Role.OFFICER, "HL", None, "vi")
        await repos.staff.set_active(closed.id, False)
        await repos.identities.link("telegram", "4711", staff_id=cadre.id)
        await repos.identities.link("zalo", "z-4711", staff_id=cadre.id)

    everyone = (await asyncio.to_thread(ok_json, env, "staff", "list"))["staff"]
    assert {m["id"] for m in everyone} == {admin.id, cadre.id, closed.id, counsellor.id, far.id}
    by_id = {m["id"]: m for m in everyone}
    assert by_id[cadre.id] == {
        "id": cadre.id, "name": "Vũ Thị Hoa", "role": "cadre", "unit": "HD", "point": None, "active": True,
        "linked_chats": 2,
    }  # fmt: skip
    assert by_id[closed.id]["active"] is False
    assert by_id[counsellor.id]["point"] == point.id and by_id[counsellor.id]["unit"] == "HD"

    hanoi = (await asyncio.to_thread(ok_json, env, "staff", "list", "--unit", "HN"))["staff"]
    assert {m["id"] for m in hanoi} == {admin.id, cadre.id, closed.id, counsellor.id}  # the province and its communes
    cadres = (await asyncio.to_thread(ok_json, env, "staff", "list", "--unit", "HD", "--role", "cadre"))["staff"]
    assert [m["name"] for m in cadres] == ["Phạm Văn Cũ", "Vũ Thị Hoa"]
    assert (await asyncio.to_thread(ok_json, env, "staff", "list", "--unit", "CG"))["staff"] == []
    human = await asyncio.to_thread(call, env, "staff", "list", "--unit", "HD")
    assert human.exit_code == 0 and "Phạm Văn Cũ\t(closed)" in human.stdout and "2 chat(s)" in human.stdout
    unknown = await asyncio.to_thread(call, env, "staff", "list", "--unit", "NOPE", "--json")
    assert unknown.exit_code == 1 and json.loads(unknown.stdout) == {"error": "no unit with code NOPE"}
    bad_role = await asyncio.to_thread(call, env, "staff", "list", "--role", "boss", "--json")
    assert bad_role.exit_code == 2

    points = (await asyncio.to_thread(ok_json, env, "point", "list"))["points"]
    assert [p["id"] for p in points] == [point.id, other_point.id]
    assert points[0] == {
        "id": point.id, "name": "Điểm tư vấn Hà Đông", "unit": "HD", "address": "12 Quang Trung",
        "phone": "024 3382 0000", "hours": "T2-T6 8:00-17:00", "counsellors": 1,
    }  # fmt: skip
    assert [p["id"] for p in (await asyncio.to_thread(ok_json, env, "point", "list", "--unit", "QN"))["points"]] == [
        other_point.id
    ]
    assert (await asyncio.to_thread(ok_json, env, "point", "list", "--unit", "CG"))["points"] == []
    human = await asyncio.to_thread(call, env, "point", "list")
    assert "Điểm tư vấn Hạ Long\t(no fixed hours)\t0 counsellor(s)" in human.stdout

    async with app.store.transaction() as repos:
        listed = [e for e in await repos.audit.recent(50) if e.action == "staff_listed"]
        assert listed and all(set(e.detail) <= {"os_user", "count"} for e in listed)
