"""`aftercare participant list`, `participant show` and `participant edit`, against a real database: the same list,
search and filters as the console's Danh sách (one service), the register as Mẫu 52 keeps it, corrections checked by
the import's rules (in Vietnamese), a national ID already on a list refused, and what each leaves in the audit."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import pytest

from bot.app import Application
from bot.domain.entities import ParticipantStatus, RiskLevel, Role, Sex
from tests.support.cli import call, ok_json
from tests.support.factories import add_hanoi, add_person, add_ward
from tests.support.records import audit_trail


async def _json(env: dict[str, str], *args: str) -> dict[str, Any]:  # the CLI runs its own event loop
    return await asyncio.to_thread(ok_json, env, *args)


async def _refused(env: dict[str, str], *args: str) -> str:
    result = await asyncio.to_thread(call, env, *args, "--json")
    assert result.exit_code == 1, result.output
    return str(json.loads(result.stdout.strip().splitlines()[-1])["error"])


@pytest.fixture
async def commune(app: Application) -> dict[str, int]:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        await add_ward(service, "KH", "Phường Kiến Hưng")
        cadre = (await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi"))[0].id
        an, _ = await add_person(service, "Nguyễn Văn An", cadre_id=cadre, national_id="001090012345")
        bich, _ = await add_person(service, "Đỗ Thị Bích", risk=RiskLevel.HIGH)
        dung, _ = await add_person(service, "Phạm Văn Dũng", start=date(2020, 1, 1))
        await repos.participants.update(dung.id, status=ParticipantStatus.COMPLETED, completed_on=date(2021, 1, 1))
        hung, _ = await add_person(service, "Lê Kiến Hưng", unit="KH", national_id="001090054321")
    return {"cadre": cadre, "an": an.id, "bich": bich.id, "dung": dung.id, "hung": hung.id}


async def test_list_searches_and_filters_like_the_console_and_show_prints_the_register(
    app: Application, env: dict[str, str], commune: dict[str, int]
) -> None:
    listed = (await _json(env, "participant", "list", "--unit", "hd"))["participants"]
    assert [p["name"] for p in listed] == ["Nguyễn Văn An", "Đỗ Thị Bích"]  # by given name; the commune's, followed
    assert listed[0] == {"id": commune["an"], "name": "Nguyễn Văn An", "status": "enrolled",
                         "cadre_id": commune["cadre"], "risk": "medium", "expected_end": "2027-01-15"}  # fmt: skip
    found = await _json(env, "participant", "list", "--unit", "HD", "--q", "nva")
    assert [p["id"] for p in found["participants"]] == [commune["an"]]
    by_code = await _json(env, "participant", "list", "--unit", "HD", "--q", f"#{commune['bich']}")
    assert [p["id"] for p in by_code["participants"]] == [commune["bich"]]
    done = await _json(env, "participant", "list", "--unit", "HD", "--status", "completed")
    assert [p["name"] for p in done["participants"]] == ["Phạm Văn Dũng"]
    nobody = await _json(env, "participant", "list", "--unit", "HD", "--cadre", "0", "--q", "do thi bich")
    assert [p["id"] for p in nobody["participants"]] == [commune["bich"]]
    assert "Lê Kiến Hưng" not in str(await _json(env, "participant", "list", "--unit", "HD", "--status", "all"))
    assert "province" in await _refused(env, "participant", "list", "--unit", "HN")
    assert "no unit" in await _refused(env, "participant", "list", "--unit", "XX")
    listings = await audit_trail(app, "participants_listed")
    assert len(listings) == 6 and listings[1].detail["filters"] == {"search": "initials", "length": 3}
    assert all("Nguyễn" not in str(e.detail) for e in listings)

    shown = await _json(env, "participant", "show", "--id", str(commune["an"]))
    assert shown["name"] == "Nguyễn Văn An" and shown["unit"] == "HD" and shown["national_id"] == "001090012345"
    assert (shown["term_start"], shown["term_months"], shown["expected_end"]) == ("2026-01-15", 12, "2027-01-15")
    assert set(shown) >= {"birth_year", "sex", "address", "phone", "decision_no", "decision_date", "risk", "language"}
    [viewed] = await audit_trail(app, "participant_viewed", subject_id=commune["an"])
    assert viewed.actor_type == "operator" and viewed.detail["view"] == "register"
    assert "no participant" in await _refused(env, "participant", "show", "--id", "999999")


async def test_edit_checks_every_value_refuses_a_listed_national_id_and_saves_all_or_nothing(
    app: Application, env: dict[str, str], commune: dict[str, int]
) -> None:
    bich = str(commune["bich"])
    edited = await _json(
        env, "participant", "edit", "--id", bich, "--birth-year", "1990", "--sex", "nữ", "--address", "Tổ 5",
        "--decision-no", "12/QĐ-UBND", "--decision-date", "01/11/2026", "--phone", "0912 345 678", "--risk", "thấp",
        "--language", "en", "--national-id", "001 190 012 345",
    )  # fmt: skip
    assert (edited["birth_year"], edited["sex"], edited["address"], edited["decision_date"]) == (
        1990, "female", "Tổ 5", "2026-11-01")  # fmt: skip
    assert (edited["national_id"], edited["risk"], edited["language"]) == ("001190012345", "low", "en")
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune["bich"])
    assert person is not None and person.register.sex is Sex.FEMALE and person.risk_level is RiskLevel.LOW
    fields = sorted(f for e in await audit_trail(app, "register_edited", subject_id=commune["bich"])
                    for f in e.detail["fields"])  # fmt: skip
    assert fields == sorted(["birth_year", "sex", "address", "decision_no", "decision_date", "phone", "national_id",
                             "risk", "language"])  # fmt: skip

    before = await _json(env, "participant", "show", "--id", bich)
    bad = await _refused(env, "participant", "edit", "--id", bich, "--birth-year", "1800", "--decision-date",
                         "31/02/2026", "--address", "Tổ 6")  # fmt: skip
    assert "Năm sinh: 1800" in bad and "31/02/2026" in bad
    too_long = await _refused(env, "participant", "edit", "--id", bich, "--name", "B" * 10_000)
    assert "Họ và tên quá dài (10000 ký tự" in too_long
    taken = await _refused(env, "participant", "edit", "--id", bich, "--national-id", "001090012345")
    assert f"#{commune['an']}" in taken  # An is on this commune's list
    elsewhere = await _refused(env, "participant", "edit", "--id", bich, "--national-id", "001090054321")
    assert "Lê Kiến Hưng" not in elsewhere and str(commune["hung"]) not in elsewhere
    assert "mức nguy cơ" in (await _refused(env, "participant", "edit", "--id", bich, "--risk", "very")).lower()
    assert "nothing to change" in await _refused(env, "participant", "edit", "--id", bich)
    assert await _json(env, "participant", "show", "--id", bich) == before  # nothing of the refused edits stayed

    cleared = await _json(env, "participant", "edit", "--id", bich, "--address", "", "--name", "Đỗ  Thị   Bích Ngọc")
    assert cleared["address"] is None and cleared["name"] == "Đỗ Thị Bích Ngọc"
