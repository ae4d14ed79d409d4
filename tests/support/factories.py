"""One place where tests build people and places: units, counselling points, staff, participants and their invite
codes. Every factory goes through the enrolment service that `aftercare unit add`, `staff add` and `participant add`
call, so a test builds what an operator would; the defaults are the commune most tests share (Phường Hà Đông)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from bot.app import Application, build_application
from bot.config import Settings
from bot.domain.entities import CounsellingPoint, Participant, RiskLevel, Role, StaffMember, Unit
from bot.domain.invites import InvitePolicy
from bot.services.enrolment import Enrolment, IssuedInvite
from tests.fakes.clock import FakeClock
from tests.support.config import TEST_KEY

PROVINCE = ("HN", "Thành phố Hà Nội")
WARD = ("HD", "Phường Hà Đông")


async def add_hanoi(service: Enrolment, *wards: tuple[str, str]) -> list[Unit]:
    """Thành phố Hà Nội with Phường Hà Đông under it, then any further ward given as (code, name)."""
    units = [await service.add_unit(*PROVINCE, None)]
    for code, name in (WARD, *wards):
        units.append(await service.add_unit(code, name, PROVINCE[0]))
    return units


async def add_ward(service: Enrolment, code: str, name: str) -> Unit:
    """Another ward of Hà Nội (after add_hanoi)."""
    return await service.add_unit(code, name, PROVINCE[0])


async def add_point(
    service: Enrolment,
    unit: str = WARD[0],
    name: str = "Điểm tư vấn Hà Đông",
    hours: str = "T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00",
) -> CounsellingPoint:
    return await service.add_point(unit, name, "12 Quang Trung", "024 3382 0000", hours)


async def add_person(
    service: Enrolment,
    name: str,
    *,
    unit: str = WARD[0],
    start: date = date(2026, 1, 15),
    months: int = 12,
    cadre_id: int | None = None,
    risk: RiskLevel = RiskLevel.MEDIUM,
    language: str = "vi",
    national_id: str | None = None,
) -> tuple[Participant, IssuedInvite]:
    """A participant and their first invite code."""
    return await service.add_participant(
        name=name,
        unit_code=unit,
        start=start,
        term_months=months,
        cadre_id=cadre_id,
        risk=risk,
        language=language,
        national_id=national_id,
    )


async def add_staff(
    app: Application, name: str, role: Role, unit: str = WARD[0], point_id: int | None = None
) -> tuple[StaffMember, IssuedInvite]:
    """A staff member (Vietnamese) and their invite code, in a transaction of its own."""
    async with app.store.transaction() as repos:
        return await app.enrolment(repos).add_staff(name, role, unit, point_id, "vi")


@dataclass
class Commune:
    """The commune the end-to-end transcripts share: Thành phố Hà Nội and Phường Hà Đông with its counselling point,
    a cadre (Bình), an officer (Cường), a counsellor (Dung), the province's admin (Em) and two participants: An
    (Bình's, medium risk) and Bích (no cadre, high risk). Codes are their invite codes."""

    cadre_id: int
    cadre_code: str
    officer_code: str
    counsellor_code: str
    admin_code: str
    an_id: int
    an_code: str
    binh_id: int
    binh_code: str


async def seed_commune(app: Application) -> Commune:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        point = await add_point(service)
        cadre, cadre_invite = await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        _officer, officer_invite = await service.add_staff("Lê Văn Cường", Role.OFFICER, "HD", None, "vi")
        _counsellor, counsellor_invite = await service.add_staff("Phạm Thu Dung", Role.COUNSELLOR, "HD", point.id, "vi")
        _admin, admin_invite = await service.add_staff("Hoàng Minh Em", Role.ADMIN, "HN", None, "vi")
        an, an_invite = await add_person(service, "Nguyễn Văn An", cadre_id=cadre.id)
        binh, binh_invite = await add_person(
            service, "Đỗ Thị Bích", start=date(2025, 8, 31), months=24, risk=RiskLevel.HIGH
        )
    return Commune(
        cadre_id=cadre.id,
        cadre_code=cadre_invite.code,
        officer_code=officer_invite.code,
        counsellor_code=counsellor_invite.code,
        admin_code=admin_invite.code,
        an_id=an.id,
        an_code=an_invite.code,
        binh_id=binh.id,
        binh_code=binh_invite.code,
    )


@dataclass(frozen=True)
class SeededCommune:
    """What `seed_commune` returned in a template database, and the moment and invite policy it ran under: a copy of
    that database holds the same rows as seeding it again would only for a test whose clock and policy are the same."""

    commune: Commune
    at: datetime
    invites: InvitePolicy

    def for_test(self, app: Application) -> Commune:
        assert app.clock.now() == self.at and app.policies.invites == self.invites, (
            "this test's database was copied from the seeded commune template, made at another time or invite policy"
        )
        return replace(self.commune)  # the test's own copy


def seed_commune_once(database_url: str, data_dir: Path) -> SeededCommune:
    """`seed_commune` through the services, in an application of its own at the tests' starting time (FakeClock's),
    on a template database: each worker does it once and the transcripts get copies (tests/conftest.py)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=data_dir,
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        environment="development",
    )

    async def seed() -> SeededCommune:
        app = build_application(settings, clock=FakeClock())
        try:
            at = app.clock.now()
            return SeededCommune(await seed_commune(app), at, app.policies.invites)
        finally:
            await app.aclose()  # a template must have no connection left when it is copied

    return asyncio.run(seed())


@dataclass
class Person:
    id: int
    code: str


async def enrol_hanh(app: Application, start: date, months: int = 24, risk: RiskLevel = RiskLevel.HIGH) -> Person:
    """Vũ Thị Hạnh, An's cadre's, in a Hà Đông that has a due day (the 10th) and a place and hours for tests."""
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code("HD")
        assert unit is not None
        await repos.units.configure(unit.id, due_day=10, test_place="Trạm y tế phường Hà Đông", test_hours="7:30–10:30")
        cadre = (await repos.participants.get(1)).cadre_id  # type: ignore[union-attr]
        person, invite = await add_person(
            app.enrolment(repos), "Vũ Thị Hạnh", start=start, months=months, cadre_id=cadre, risk=risk
        )
    return Person(person.id, invite.code)


@dataclass
class Outpost:
    """Phường Cầu Giấy: no counselling point, an officer (Hải) and Lý Văn Cường (no cadre)."""

    officer_code: str
    person_id: int
    person_code: str


async def add_cau_giay(app: Application) -> Outpost:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_ward(service, "CG", "Phường Cầu Giấy")
        _, officer_invite = await service.add_staff("Đinh Văn Hải", Role.OFFICER, "CG", None, "vi")
        person, invite = await add_person(
            service, "Lý Văn Cường", unit="CG", start=date(2026, 3, 1), risk=RiskLevel.LOW
        )
    return Outpost(officer_invite.code, person.id, invite.code)
