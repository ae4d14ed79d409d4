"""Staff's morning digests are spread over 07:00–09:00 by staff member (issue 19): each cadre at their own minute,
the same every day, and what a digest lists is read when it goes out, not when it was planned at midnight.

On a real database (SQLite and PostgreSQL), the injected clock, the simulator as the cadres' channel.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.db.repositories.outbox import OutboxStatus
from bot.domain.entities import Role
from bot.domain.planning import ObligationStatus, PlanPolicy, digest_instant, staff_minute
from bot.domain.schedule import QuietHours
from tests.fakes.clock import FakeClock
from tests.support.chats import at_local
from tests.support.factories import add_staff, seed_commune

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 12, 10)  # the commune's check-in day: An (Bình's) and Bích are due


def _local(moment: datetime) -> datetime:
    return moment.astimezone(HANOI)


def _minute(day: date, minute: int) -> datetime:
    """07:00 + `minute` on `day`, Hà Nội time, as the fake clock takes it."""
    return at_local(day, 7) + timedelta(minutes=minute)


def _pushed(app: Application, chat: str) -> list[str]:
    return [entry.text for entry in app.simulator.history(chat) if entry.pushed]


async def _digest_due(app: Application, staff_id: int, day: date) -> datetime:
    async with app.store.transaction() as repos:
        row = await repos.outbox.by_key(f"digest:{staff_id}:{day.isoformat()}")
    assert row is not None
    return row.due_at


def test_a_staff_members_minute_is_stable_and_inside_the_window() -> None:
    policy = PlanPolicy()
    minutes = [staff_minute(staff_id, 120) for staff_id in range(1, 2001)]
    assert minutes == [staff_minute(staff_id, 120) for staff_id in range(1, 2001)]  # no hidden state
    assert min(minutes) == 0 and max(minutes) == 119
    assert max(minutes.count(m) for m in range(120)) < 2000 / 120 * 2  # spread, not bunched
    for staff_id in range(1, 200):
        local = _local(digest_instant(DAY, HANOI, policy, staff_id))
        assert time(7, 0) <= local.time() < time(9, 0) and local.date() == DAY
        assert local.time() == _local(digest_instant(DAY + timedelta(days=40), HANOI, policy, staff_id)).time()


async def test_two_cadres_get_their_digest_at_their_own_minute_with_what_is_open_then(
    app: Application, clock: FakeClock
) -> None:
    commune = await seed_commune(app)
    giang, _ = await add_staff(app, "Đỗ Văn Giang", Role.CADRE)
    async with app.store.transaction() as repos:
        await repos.participants.assign(commune.binh_id, giang.id)  # Bích becomes Giang's
        await repos.identities.link("simulator", "binh", staff_id=commune.cadre_id)
        await repos.identities.link("simulator", "giang", staff_id=giang.id)
    minutes = {"binh": staff_minute(commune.cadre_id, 120), "giang": staff_minute(giang.id, 120)}
    assert minutes["binh"] != minutes["giang"]

    # Planned just after midnight, each at their own minute; the next day at the same minute again.
    for day in (DAY - timedelta(days=1), DAY):
        clock.set(at_local(day, 0, 30))
        await app.scheduler.planner.run()
        for chat, staff_id in (("binh", commune.cadre_id), ("giang", giang.id)):
            due = _local(await _digest_due(app, staff_id, day))
            assert (due.date(), due.hour * 60 + due.minute) == (day, 7 * 60 + minutes[chat]), chat
            assert due.second == 0

    first, last = sorted(minutes.values())
    first_chat = "binh" if minutes["binh"] == first else "giang"
    last_chat = "giang" if first_chat == "binh" else "binh"
    last_id = giang.id if last_chat == "giang" else commune.cadre_id
    last_person = commune.binh_id if last_chat == "giang" else commune.an_id
    # A minute before the first one: nobody's digest yet.
    clock.set(_minute(DAY, first - 1))
    await app.scheduler.dispatcher.run()
    assert _pushed(app, "binh") == [] and _pushed(app, "giang") == []
    # The first cadre's minute: theirs goes, listing their person due today; the other's waits.
    clock.set(_minute(DAY, first))
    await app.scheduler.dispatcher.run()
    [digest] = _pushed(app, first_chat)
    assert "Đến hạn hôm nay:" in digest
    assert _pushed(app, last_chat) == []
    # Meanwhile the other cadre's person does what was due today: at that cadre's minute the digest is read again,
    # finds nothing open, and is not sent (planned at midnight, it did not keep a stale list).
    async with app.store.transaction() as repos:
        for obligation in await repos.obligations.of_participant(last_person, DAY, DAY):
            assert await repos.obligations.set_status(obligation.id, ObligationStatus.DONE)
    clock.set(_minute(DAY, last))
    await app.scheduler.dispatcher.run()
    assert _pushed(app, last_chat) == []
    async with app.store.transaction() as repos:
        row = await repos.outbox.by_key(f"digest:{last_id}:{DAY.isoformat()}")
    assert row is not None and row.status == OutboxStatus.CANCELLED
    assert row.due_at == _minute(DAY, last)


def test_quiet_hours_ending_after_seven_move_the_window_instead_of_bunching_it() -> None:
    """An operator's quiet hours until 08:00: the morning messages spread over 08:00–10:00, not all at 08:00."""
    later = PlanPolicy(reminders=replace(PlanPolicy().reminders, quiet=QuietHours(time(22), time(8))))
    day = date(2026, 12, 3)
    minutes = [digest_instant(day, HANOI, later, staff).astimezone(HANOI) for staff in range(1, 300)]
    assert min(minutes).time() >= time(8) and max(minutes).time() < time(10)
    assert max(Counter(m.time() for m in minutes).values()) < 20  # spread (bunched: half of them at 08:00)
