"""The outbox on a real database: planning is idempotent and recomputed, dispatch is exactly once under
parallel dispatchers, and a dispatcher killed mid-send loses nothing when the next one takes over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import Application, build_application
from bot.config import Settings
from bot.core.messages import OutboundMessage
from bot.db.models import (
    AuditEventRow,
    ObligationRow,
    OutboxRow,
    ParticipantRow,
)
from bot.domain.entities import ParticipantStatus, RiskLevel
from bot.scheduler.dispatcher import Dispatcher, DispatchPolicy
from bot.scheduler.limits import RateLimits
from bot.scheduler.texts import Renderer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram, Fault, running_in_thread
from tests.support.config import TEST_KEY
from tests.support.factories import add_person
from tests.support.outbox import TOKEN, commune, count_rows, seed_due_messages, until

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def _active_person(app: Application, start: date, risk: RiskLevel = RiskLevel.HIGH, chat: str = "p1") -> int:
    async with app.store.transaction() as repos:
        person, _ = await add_person(app.enrolment(repos), "Vũ Thị Hạnh", start=start, months=24, risk=risk)
        await repos.identities.link("simulator", chat, participant_id=person.id)
        await repos.participants.update(person.id, status=ParticipantStatus.ACTIVE)
    return person.id


async def test_planning_twice_or_in_parallel_queues_everything_once(app: Application, clock: FakeClock) -> None:
    await commune(app)
    pid = await _active_person(app, date(2026, 10, 1))
    now = clock.now()
    await app.scheduler.planner.run(now)
    obligations = await count_rows(app, ObligationRow)
    reminders = await count_rows(app, OutboxRow, OutboxRow.kind == "reminder")
    draws = await count_rows(app, AuditEventRow, AuditEventRow.action == "random_test_drawn")
    assert obligations >= 3 and reminders >= 3 and draws == 1
    await asyncio.gather(*(app.scheduler.planner.run(now) for _ in range(3)))
    assert await count_rows(app, ObligationRow) == obligations
    assert await count_rows(app, OutboxRow, OutboxRow.kind == "reminder") == reminders
    assert await count_rows(app, AuditEventRow, AuditEventRow.action == "random_test_drawn") == 1
    async with app.store.transaction() as repos:
        keys = (await repos.session.execute(select(OutboxRow.key).where(OutboxRow.participant_id == pid))).scalars()
        assert len(set(keys)) == reminders


async def test_a_changed_schedule_is_recomputed_not_patched(app: Application, clock: FakeClock) -> None:
    await commune(app)
    pid = await _active_person(app, date(2026, 10, 1), risk=RiskLevel.LOW)
    await app.scheduler.planner.run(clock.now())
    async with app.store.transaction() as repos:
        before = {r.key: r.due_at for r in (await repos.session.execute(select(OutboxRow))).scalars()}
        # The officer corrects the start date (the 20th of the month): December's check-in stays, the reminder hour
        # changes to 19:00, so pending rows move; nothing is patched by hand.
        await repos.participants.update(pid, reminder_hour=19)
    report = await app.scheduler.planner.run(clock.now())
    assert report.reminders_moved == len(before) and report.reminders_added == 0
    async with app.store.transaction() as repos:
        after = {r.key: r.due_at for r in (await repos.session.execute(select(OutboxRow))).scalars()}
    assert after.keys() == before.keys()
    assert all(due.astimezone(HANOI).hour == 19 for due in after.values())
    # Consent withdrawn (the chat is unlinked and the record goes back to "enrolled"): every pending reminder goes.
    async with app.store.transaction() as repos:
        await repos.identities.unlink_person(participant_id=pid)
        await repos.participants.update(pid, status=ParticipantStatus.ENROLLED)
    await app.scheduler.planner.run(clock.now())
    assert await count_rows(app, OutboxRow, OutboxRow.status == "pending") == 0
    assert await count_rows(app, OutboxRow, OutboxRow.last_error == "inactive") == len(before)


async def test_a_new_start_date_cancels_the_old_months(app: Application, clock: FakeClock) -> None:
    await commune(app)
    pid = await _active_person(app, date(2026, 10, 1), risk=RiskLevel.LOW)
    await app.scheduler.planner.run(clock.now())
    async with app.store.transaction() as repos:
        await repos.session.execute(
            update(ParticipantRow)
            .where(ParticipantRow.id == pid)
            .values(term_start=date(2027, 3, 1), expected_end=date(2029, 3, 1))
        )
    await app.scheduler.planner.run(clock.now())
    async with app.store.transaction() as repos:
        open_ = (
            await repos.session.execute(select(ObligationRow.due_on).where(ObligationRow.status == "pending"))
        ).scalars()
        assert list(open_) == []
    assert await count_rows(app, OutboxRow, OutboxRow.status == "pending") == 0


class Recorder:
    """A messenger one layer below the HTTP fakes: counts what each dispatcher pushed."""

    channel = "test"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, external_id: str, message: OutboundMessage) -> None:
        self.sent.append(external_id)

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        await asyncio.sleep(0)
        self.sent.append(external_id)


def _dispatcher(app: Application, messenger: Recorder, clock: FakeClock) -> Dispatcher:
    return Dispatcher(
        app.store,
        Renderer(app.catalogs, HANOI),
        {"test": messenger},
        RateLimits({}),
        clock,
        HANOI,
        DispatchPolicy(batch=50),
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_four_parallel_dispatchers_send_ten_thousand_messages_exactly_once(
    app: Application, settings: Settings, clock: FakeClock
) -> None:
    await commune(app)
    await seed_due_messages(app, 10_000, "test", clock.now())
    others = [build_application(settings, clock=clock) for _ in range(3)]  # own engines: separate connections
    try:
        apps = [app, *others]
        recorders = [Recorder() for _ in apps]
        dispatchers = [_dispatcher(a, r, clock) for a, r in zip(apps, recorders, strict=True)]
        await asyncio.gather(*(d.run() for d in dispatchers))
    finally:
        for other in others:
            await other.aclose()
    everything = Counter(chat for recorder in recorders for chat in recorder.sent)
    assert len(everything) == 10_000 and set(everything.values()) == {1}
    assert all(recorder.sent for recorder in recorders), [len(r.sent) for r in recorders]  # all four took a share
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == 10_000


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_parallel_dispatchers_on_sqlite_share_the_single_writer_safely(
    app: Application, settings: Settings, clock: FakeClock
) -> None:
    await commune(app)
    await seed_due_messages(app, 600, "test", clock.now())
    other = build_application(settings, clock=clock)
    try:
        recorders = [Recorder(), Recorder()]
        await asyncio.gather(_dispatcher(app, recorders[0], clock).run(), _dispatcher(other, recorders[1], clock).run())
    finally:
        await other.aclose()
    everything = Counter(chat for recorder in recorders for chat in recorder.sent)
    assert len(everything) == 600 and set(everything.values()) == {1}


def _aftercare(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.slow
async def test_a_dispatcher_killed_mid_send_loses_nothing_and_resends_only_what_was_in_flight(
    app: Application, settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    await commune(app)
    now = clock.now()
    await seed_due_messages(app, 300, "telegram", now)
    with running_in_thread(lambda: FakeTelegram(token=TOKEN)) as fake:
        for _ in range(300):
            fake.inject("sendMessage", Fault(0, "", delay=0.02))  # a slow platform, so the kill lands mid-dispatch
        env = {
            **os.environ,
            "AFTERCARE_DATABASE_URL": settings.database_url,
            "AFTERCARE_ENCRYPTION_KEY": TEST_KEY,
            "AFTERCARE_DATA_DIR": str(tmp_path / "data"),
            "AFTERCARE_TELEGRAM_TOKEN": TOKEN,
            "AFTERCARE_TELEGRAM_API_URL": fake.base_url,
            "AFTERCARE_TELEGRAM_RATE_LIMIT": "100000",
        }
        first = _aftercare(env, "tick", "--at", now.isoformat())
        await until(lambda: len(fake.sent()) >= 60)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        before_restart = len(fake.sent())
        assert 60 <= before_restart < 300, "the kill must land mid-dispatch"
        # The next run, after the dead run's leases ran out, sends everything that is left.
        later = (now + timedelta(minutes=6)).isoformat()
        second = _aftercare(env, "tick", "--at", later)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()
        assert TOKEN not in out.decode() + err.decode()
    delivered = Counter(str(call.params["chat_id"]) for call in fake.sent())
    assert len(delivered) == 300  # nothing lost
    resent = sum(n - 1 for n in delivered.values())
    policy = DispatchPolicy()
    # Only what was in flight at the kill: sends at the platform, and accepted ones whose group was not yet closed.
    assert resent <= policy.concurrency + 2 * policy.close_group
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == 300


async def test_accepted_messages_are_closed_in_groups_and_a_lost_close_resends_only_its_group(
    app: Application, clock: FakeClock
) -> None:
    """One transaction per group of accepted messages, not per message: a group that was accepted but never closed
    (the process died first) stays leased, and once the lease runs out exactly that group goes out again."""
    await commune(app)
    now = clock.now()
    await seed_due_messages(app, 100, "test", now)
    policy = DispatchPolicy(batch=50, close_group=8)
    recorder = Recorder()
    dispatcher = Dispatcher(
        app.store, Renderer(app.catalogs, HANOI), {"test": recorder}, RateLimits({}), clock, HANOI, policy
    )
    close, groups = dispatcher._mark_sent, []

    async def dies_before_the_third(group: list) -> None:  # type: ignore[type-arg]
        groups.append([job.item.id for send in group for job in send.jobs])
        if len(groups) == 3:
            raise RuntimeError("killed between the platform's answer and the close")
        await close(group)

    dispatcher._mark_sent = dies_before_the_third  # type: ignore[method-assign]
    await dispatcher.run()
    assert len(recorder.sent) == 100 and len(groups) < 100 and all(len(g) <= 8 for g in groups)
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sending") == len(groups[2])
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == 100 - len(groups[2])
    dispatcher._mark_sent = close  # type: ignore[method-assign]
    clock.set(now + policy.lease - timedelta(seconds=1))
    assert (await dispatcher.run()).sent == 0  # still leased
    clock.set(now + policy.lease + timedelta(seconds=1))
    assert (await dispatcher.run()).sent == len(groups[2])
    resent = [chat for chat, n in Counter(recorder.sent).items() if n > 1]
    assert len(resent) == len(groups[2]) and len(recorder.sent) == 100 + len(groups[2])
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == 100


async def test_an_urgent_row_left_by_a_dead_dispatcher_goes_out_after_seconds_a_normal_one_after_its_lease(
    app: Application, clock: FakeClock
) -> None:
    """A crisis alert claimed by a dispatcher that then died must not wait out the 5-minute lease."""
    await commune(app)
    now = clock.now()
    await seed_due_messages(app, 2, "test", now)
    async with app.store.transaction() as repos:
        await repos.session.execute(update(OutboxRow).where(OutboxRow.key == "completion:1").values(urgent=True))
    policy = DispatchPolicy()
    async with app.store.transaction() as repos:  # a dispatcher claims both, then dies before sending anything
        died = await repos.outbox.claim(now, 10, policy.lease, urgent_lease=policy.urgent_lease)
    assert sorted(c.key for c in died) == ["completion:1", "completion:2"]
    recorder = Recorder()
    dispatcher = _dispatcher(app, recorder, clock)
    clock.set(now + policy.urgent_lease - timedelta(seconds=1))
    assert (await dispatcher.run()).sent == 0  # still leased
    clock.set(now + policy.urgent_lease + timedelta(seconds=1))
    assert (await dispatcher.run()).sent == 1 and recorder.sent == ["1001"]  # the urgent one, within seconds
    clock.set(now + policy.lease - timedelta(seconds=1))
    assert (await dispatcher.run()).sent == 0  # the normal one keeps its full lease
    clock.set(now + policy.lease + timedelta(seconds=1))
    assert (await dispatcher.run()).sent == 1 and recorder.sent == ["1001", "1002"]
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == 2


class _Waiting(RateLimits):
    """A send that waits (the rate limit, the chat's gap, a slow batch) past the urgent lease before it goes out:
    the clock moves on by `seconds` and `meanwhile` runs (another dispatcher's turn)."""

    def __init__(self, clock: FakeClock, seconds: float, meanwhile: Callable[[], Awaitable[object]]) -> None:
        super().__init__({})
        self._clock, self._seconds, self._meanwhile = clock, seconds, meanwhile

    @asynccontextmanager
    async def slot(self, channel: str, chat: str) -> AsyncIterator[None]:
        self._clock.advance(seconds=self._seconds)
        await self._meanwhile()
        yield


class _Slow(Recorder):
    """A messenger during whose call another dispatcher runs."""

    def __init__(self, meanwhile: Callable[[], Awaitable[object]]) -> None:
        super().__init__()
        self._meanwhile = meanwhile

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        await self._meanwhile()
        await super().push(external_id, message)


@pytest.mark.parametrize("reclaimed_while", ["waiting", "sending"])
async def test_an_urgent_row_that_waited_past_its_lease_is_sent_once(
    app: Application, clock: FakeClock, reclaimed_while: str
) -> None:
    """Two dispatchers: the first claims an urgent row (30-second lease), then waits 40 s before sending. If the
    second reclaimed it meanwhile, the first does not send it; if not, the first renews the lease right before
    sending, so the second, running during that send, finds nothing to take."""
    await commune(app)
    await seed_due_messages(app, 1, "test", clock.now())
    async with app.store.transaction() as repos:
        await repos.session.execute(update(OutboxRow).values(urgent=True))
    second = Recorder()
    other = _dispatcher(app, second, clock)
    first = Recorder() if reclaimed_while == "waiting" else _Slow(other.run)

    async def idle() -> None:
        return None

    dispatcher = Dispatcher(
        app.store,
        Renderer(app.catalogs, HANOI),
        {"test": first},
        _Waiting(clock, 40, other.run if reclaimed_while == "waiting" else idle),
        clock,
        HANOI,
        DispatchPolicy(batch=50),
    )
    report = await dispatcher.run(max_batches=1)
    assert len(first.sent) + len(second.sent) == 1, (first.sent, second.sent)
    assert report.sent == (1 if reclaimed_while == "sending" else 0)
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == 1
