"""Transcripts of a staff member's new role, unit or counselling point (the console's admin and officers change it
through bot/services/staff_changes.py), in Vietnamese through Telegram (buttons) and Zalo (typed numbers): a cadre
moved to another commune leaves their people for the officers to give a new cadre, and a counsellor moved to another
point hands back the conversation they had taken to the point's other counsellor."""

from __future__ import annotations

import pytest

from bot.app import Application
from bot.domain.authz import Actor, ActorKind
from bot.domain.entities import Role
from bot.services.operators import StaffOperator
from bot.services.staff_changes import Placement, change_placement
from tests.fakes.clock import FakeClock
from tests.support.chats import Chat, Chats, on_duty, second_counsellor, talking
from tests.support.factories import Commune, add_ward
from tests.support.texts import AN

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)


async def province_admin(app: Application) -> Actor:
    """The province's admin (Hoàng Minh Em) as the console resolves them."""
    async with app.store.transaction() as repos:
        province = await repos.units.by_code("HN")
        assert province is not None
        [admin] = await repos.staff.in_unit(province.id, Role.ADMIN)
    return Actor(ActorKind.STAFF, admin.id, Role.ADMIN, province.id, province.id)


async def test_a_cadre_moved_to_another_commune_leaves_their_people_to_the_officers(
    app: Application, linked: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    async with app.store.transaction() as repos:
        long_bien = await add_ward(app.enrolment(repos), "LB", "Phường Long Biên")
    admin = await province_admin(app)
    async with app.store.transaction() as repos:
        done = await change_placement(
            repos, commune.cadre_id, Placement(Role.CADRE, long_bien.id), StaffOperator(admin.id), clock.now(), admin
        )
    assert done.people_without_cadre == [commune.an_id]

    told = await officer.during(app.scheduler.tick)
    told.says("Trần Thị Bình không còn đồng hành với ai ở xã/phường này", "Số người chưa có cán bộ đồng hành: 1")
    told.offers(AN)
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).never_says(AN)  # An is not theirs any more
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
    assert person is not None and person.cadre_id is None
    assert (await officer.during(app.scheduler.tick)).text == ""  # said once


async def test_a_counsellor_moved_to_another_point_hands_back_the_conversation_they_had_taken(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    person, dung = chats["an"], chats["counsellor"]
    await on_duty(dung)
    await talking(app, person, dung)
    giao = await second_counsellor(app, sim)
    async with app.store.transaction() as repos:
        ha_dong = await repos.units.by_code("HD")
        assert ha_dong is not None
        other = await app.enrolment(repos).add_point("HD", "Điểm tư vấn số 2", "1 Tô Hiệu", "024 2", "")
        taken = await repos.referrals.open_counselling_of(commune.an_id)
    assert taken is not None and taken.counsellor_id is not None
    admin = await province_admin(app)
    async with app.store.transaction() as repos:
        done = await change_placement(
            repos, taken.counsellor_id, Placement(Role.COUNSELLOR, ha_dong.id, other.id), StaffOperator(admin.id),
            clock.now(), admin,
        )  # fmt: skip
    assert done.referrals_released == [taken.id]
    (await giao.during(app.scheduler.tick)).says(AN)  # Giao, still at the point, is asked to take it
    async with app.store.transaction() as repos:
        referral = await repos.referrals.get(taken.id)
        moved = await repos.staff.get(taken.counsellor_id)
    assert referral is not None and referral.counsellor_id is None and referral.status == "requested"
    assert moved is not None and moved.point_id == other.id and not moved.on_duty
