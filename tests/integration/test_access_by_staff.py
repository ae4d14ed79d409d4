"""The revocation services with a staff member acting (the console's path; the CLI acts as an operator): what the
authorisation table allows goes through, what it refuses changes nothing and leaves an audited denial behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.db.models import AuditEventRow
from bot.domain.authz import Actor, ActorKind
from bot.domain.entities import Role, StaffMember
from bot.services.access import Refused, activate_staff, deactivate_staff, unlink_chats
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi


async def _seed(app: Application) -> dict[str, StaffMember]:
    """A province with two communes: in Hà Đông a cadre, a counsellor and two officers; in Long Biên a cadre; the
    province's admin."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service, ("LB", "Phường Long Biên"))
        point = await service.add_point("HD", "Điểm tư vấn Hà Đông", "12 Quang Trung", "024 3382 0000", "T2 7:30-11:30")
        staff = {
            "cadre": (await service.add_staff("Bình", Role.CADRE, "HD", None, "vi"))[0],
            "counsellor": (await service.add_staff("Dung", Role.COUNSELLOR, "HD", point.id, "vi"))[0],
            "officer": (await service.add_staff("Cường", Role.OFFICER, "HD", None, "vi"))[0],
            "fellow_officer": (await service.add_staff("Đức", Role.OFFICER, "HD", None, "vi"))[0],
            "cadre_next_door": (await service.add_staff("Hải", Role.CADRE, "LB", None, "vi"))[0],
            "admin": (await service.add_staff("Em", Role.ADMIN, "HN", None, "vi"))[0],
        }
        for n, member in enumerate(staff.values()):
            await repos.identities.link("telegram", str(8000 + n), staff_id=member.id)
    return staff


def _actor(member: StaffMember) -> Actor:
    return Actor(ActorKind.STAFF, member.id, member.role, member.unit_id)


async def _denials(app: Application) -> list[AuditEventRow]:
    async with app.store.transaction() as repos:
        stmt = select(AuditEventRow).where(AuditEventRow.outcome == "denied").order_by(AuditEventRow.id)
        return list((await repos.session.execute(stmt)).scalars())


async def _as_console(app: Application, work: Any) -> Refused | None:
    """What a console request does: the service in one transaction; a refusal is caught inside it, so the recorded
    denial is committed, and answered afterwards."""
    async with app.store.transaction() as repos:
        try:
            await work(repos)
        except Refused as refused:
            return refused
    return None


async def test_an_officer_manages_their_communes_cadres_and_counsellors_only(
    app: Application, clock: FakeClock
) -> None:
    staff = await _seed(app)
    officer = _actor(staff["officer"])
    op = Operator(staff_id=officer.id, os_user="console")

    for name in ("fellow_officer", "admin", "officer", "cadre_next_door"):  # a peer, a superior, self, next door
        target = staff[name].id
        refused = await _as_console(app, lambda repos, t=target: deactivate_staff(repos, t, op, clock.now(), officer))
        assert refused is not None, name
    async with app.store.transaction() as repos:
        for name in ("fellow_officer", "admin", "officer", "cadre_next_door"):
            member = await repos.staff.get(staff[name].id)
            assert member is not None and member.active, name  # nothing changed
            assert await repos.identities.count_of(staff_id=member.id) == 1, name
    denials = await _denials(app)
    assert [(d.action, d.subject_id, d.actor_id, d.detail["reason"]) for d in denials] == [
        ("denied:manage_staff", staff["fellow_officer"].id, officer.id, "rank"),
        ("denied:manage_staff", staff["admin"].id, officer.id, "rank"),
        ("denied:manage_staff", staff["officer"].id, officer.id, "own account"),
        ("denied:manage_staff", staff["cadre_next_door"].id, officer.id, "other commune"),
    ]
    assert {d.actor_type for d in denials} == {"operator"} and all(d.detail["os_user"] == "console" for d in denials)

    # A guessed id is a denial too, and unlinking a staff member's chat is asked the same way.
    assert await _as_console(app, lambda repos: deactivate_staff(repos, 9999, op, clock.now(), officer))
    assert await _as_console(app, lambda repos: unlink_chats(repos, op, staff_id=staff["admin"].id, by=officer))
    assert [d.detail["reason"] for d in (await _denials(app))[4:]] == ["no such record", "rank"]

    # Allowed: the commune's cadre and counsellor, closed and reopened.
    async with app.store.transaction() as repos:
        done = await deactivate_staff(repos, staff["cadre"].id, op, clock.now(), by=officer)
        assert done.unlinked == 1
        await deactivate_staff(repos, staff["counsellor"].id, op, clock.now(), by=officer)
        assert await activate_staff(repos, staff["cadre"].id, op, by=officer) == 0
        cadre = await repos.staff.get(staff["cadre"].id)
        counsellor = await repos.staff.get(staff["counsellor"].id)
    assert cadre is not None and cadre.active and counsellor is not None and not counsellor.active


async def test_an_admin_manages_any_staff_of_the_province_but_not_themselves(
    app: Application, clock: FakeClock
) -> None:
    staff = await _seed(app)
    admin = _actor(staff["admin"])
    op = Operator(staff_id=admin.id, os_user="console")
    refused = await _as_console(app, lambda repos: deactivate_staff(repos, admin.id or 0, op, clock.now(), admin))
    assert refused is not None
    assert [d.detail["reason"] for d in await _denials(app)] == ["own account"]
    async with app.store.transaction() as repos:
        for name in ("officer", "cadre_next_door"):
            await deactivate_staff(repos, staff[name].id, op, clock.now(), by=admin)
        # An officer cannot reopen what the admin closed for an officer; the admin can.
        with pytest.raises(Refused):
            await activate_staff(repos, staff["officer"].id, op, by=_actor(staff["fellow_officer"]))
        await activate_staff(repos, staff["officer"].id, op, by=admin)
        officer = await repos.staff.get(staff["officer"].id)
    assert officer is not None and officer.active
