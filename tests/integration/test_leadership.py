"""Many `aftercare run` processes on one PostgreSQL: one plans, one sends, within the bot's one rate; a killed sender
is replaced within seconds and loses nothing; an urgent row jumps a burst and wakes the sender at once (NOTIFY).

Real processes against the fake Bot API, each given its own path prefix (`…/p0`, `…/p1`) so the fake can tell who
sent what. Their clock is the real one: the rows are due a minute ago."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from bot.app import Application
from bot.config import Settings
from bot.db.models import OutboxRow, ParticipantRow
from bot.db.repositories.outbox import NewMessage
from bot.domain.planning import MessageKind
from bot.scheduler.budget import DirectSends, SendBudget
from bot.scheduler.dispatcher import DispatchPolicy
from bot.scheduler.leader import PLAN_LOCK, SEND_LOCK
from bot.scheduler.limits import RateLimits
from tests.fakes.telegram_api import FakeTelegram, running_in_thread
from tests.support.config import TEST_KEY
from tests.support.outbox import TOKEN, commune, count_rows, seed_due_messages, until

postgres_only = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Fleet:
    """`aftercare run` processes, each with its own HTTP port, log file and path prefix at the fake Bot API."""

    def __init__(self, settings: Settings, fake: FakeTelegram, tmp_path: Path, **env: str) -> None:
        self._base = {
            **os.environ,
            "AFTERCARE_DATABASE_URL": settings.database_url,
            "AFTERCARE_ENCRYPTION_KEY": TEST_KEY,
            "AFTERCARE_DATA_DIR": str(tmp_path / "data"),
            "AFTERCARE_TELEGRAM_TOKEN": TOKEN,
            "AFTERCARE_SCHEDULER_ENABLED": "true",
            "AFTERCARE_QUIET_HOURS": "off",
            "AFTERCARE_DISPATCH_INTERVAL_SECONDS": "1",
            "AFTERCARE_PLAN_INTERVAL_SECONDS": "5",
            "AFTERCARE_LOG_FORMAT": "json",
            **env,
        }
        self.fake = fake
        self._tmp = tmp_path
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, n: int) -> None:
        for i in range(len(self.processes), len(self.processes) + n):
            via = f"p{i}"
            env = {**self._base, "AFTERCARE_HTTP_PORT": str(_free_port())}
            env["AFTERCARE_TELEGRAM_API_URL"] = f"{self.fake.base_url}/{via}"
            with (self._tmp / f"{via}.log").open("wb") as log:  # the child keeps its own descriptor
                self.processes[via] = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
                )

    async def wait_running(self, within: float = 180.0) -> None:
        """Until every process serves (imports and migrations done: seconds, or a minute on a busy machine)."""
        await until(lambda: all('"event": "running"' in self.log(via) for via in self.processes), within=within)
        assert all('"event": "running"' in self.log(via) for via in self.processes), "a process did not start"

    def log(self, via: str) -> str:
        return (self._tmp / f"{via}.log").read_text(errors="replace")

    def kill(self, via: str) -> None:
        self.processes[via].send_signal(signal.SIGKILL)
        self.processes[via].wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def _fleet(settings: Settings, tmp_path: Path, limit: int | None = None, **env: str) -> Iterator[Fleet]:
    """A fake Bot API (answering 429 past `limit` messages a second) and processes pointed at it."""
    with running_in_thread(lambda: FakeTelegram(token=TOKEN, max_per_second=limit)) as fake:
        fleet = Fleet(settings, fake, tmp_path, **env)
        try:
            yield fleet
        finally:
            fleet.stop()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def _senders(fake: FakeTelegram) -> Counter[str]:
    return Counter(call.via for call in fake.sent())


def _delivered(fake: FakeTelegram) -> Counter[str]:
    return Counter(str(call.params["chat_id"]) for call in fake.sent())


async def _lock_holders(app: Application, key: int) -> int:
    """How many sessions hold the advisory lock `key` in this test's database."""
    async with app.store.transaction() as repos:
        stmt = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = :high AND objid = :low"
        )
        high, low = key >> 32, key & 0xFFFFFFFF
        return int((await repos.session.execute(stmt, {"high": high, "low": low})).scalar_one())


@pytest.mark.slow
@postgres_only
async def test_four_processes_send_within_the_bots_one_rate_each_message_once_from_one_sender(
    app: Application, settings: Settings, tmp_path: Path
) -> None:
    await commune(app)
    messages, rate = 900, 60
    await seed_due_messages(app, messages, "telegram", _now())
    with _fleet(settings, tmp_path, rate, AFTERCARE_TELEGRAM_RATE_LIMIT=str(rate)) as fleet:
        fake = fleet.fake
        fleet.start(4)
        await fleet.wait_running()
        await until(lambda: len(_delivered(fake)) >= messages, within=120)
        await asyncio.sleep(1)  # anything sent twice would arrive now
        assert all(p.poll() is None for p in fleet.processes.values()), "every process keeps running"
    delivered = _delivered(fake)
    assert len(delivered) == messages and set(delivered.values()) == {1}  # each message exactly once
    assert len(_senders(fake)) == 1, _senders(fake)  # one sender for the bot, whatever the number of processes
    assert fake.busiest_second() <= rate
    assert fake.rate_limited() == []  # never past the platform's limit: no 429
    sends = sorted(call.at for call in fake.sent())
    # and not far below it: paced at 96 %; a loaded test machine (jitter, the processes' start) costs some more
    assert (messages - 1) / (sends[-1] - sends[0]) >= 0.8 * rate
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == messages


@pytest.mark.slow
@postgres_only
async def test_killing_the_sender_mid_burst_hands_over_within_seconds_and_loses_nothing(
    app: Application, settings: Settings, tmp_path: Path
) -> None:
    await commune(app)
    messages, rate = 900, 60
    await seed_due_messages(app, messages, "telegram", _now())
    with _fleet(settings, tmp_path, rate, AFTERCARE_TELEGRAM_RATE_LIMIT=str(rate)) as fleet:
        fake = fleet.fake
        fleet.start(3)
        await fleet.wait_running()
        await until(lambda: len(fake.sent()) >= 200, within=120)
        (sender,) = _senders(fake)
        fleet.kill(sender)
        killed_at, before = time.monotonic(), len(fake.sent())
        assert before < messages, "the kill must land mid-burst"
        await until(lambda: any(c.via != sender for c in fake.sent()), within=30)
        took_over = min(c.at for c in fake.sent() if c.via != sender)
        await until(lambda: len(_delivered(fake)) >= messages, within=120)

        async def all_sent() -> bool:  # what the killed one had in flight is sent again after the takeover grace
            return await count_rows(app, OutboxRow, OutboxRow.status == "sent") == messages

        await until(all_sent, within=60)
        await asyncio.sleep(1)
    assert took_over - killed_at < 10  # the next process took the send lock at its next try (every second here)
    senders = _senders(fake)
    assert len(senders) == 2, senders  # the killed one, then exactly one successor
    delivered = _delivered(fake)
    assert len(delivered) == messages  # nothing lost
    resent = sum(n - 1 for n in delivered.values())
    assert resent <= DispatchPolicy().concurrency  # only what was in flight at the kill
    assert fake.busiest_second() <= rate
    assert await count_rows(app, OutboxRow, OutboxRow.status == "sent") == messages


@pytest.mark.slow
@postgres_only
async def test_one_of_two_processes_plans_and_sends_and_the_other_takes_over_when_it_dies(
    app: Application, settings: Settings, tmp_path: Path
) -> None:
    await commune(app)
    with _fleet(settings, tmp_path) as fleet:
        fleet.start(2)
        await fleet.wait_running()
        await until(lambda: any("planner_took_over" in fleet.log(v) for v in fleet.processes), within=60)
        await asyncio.sleep(6)  # more than a plan interval: the other process has tried too
        planners = [via for via in fleet.processes if "planner_took_over" in fleet.log(via)]
        assert len(planners) == 1, planners
        assert await _lock_holders(app, PLAN_LOCK) == 1
        assert await _lock_holders(app, SEND_LOCK) == 1
        (planner,) = planners
        (other,) = set(fleet.processes) - {planner}
        fleet.kill(planner)
        await until(lambda: "planner_took_over" in fleet.log(other), within=20)
        assert "planner_took_over" in fleet.log(other)
        assert await _lock_holders(app, PLAN_LOCK) == 1


@pytest.mark.slow
@postgres_only
async def test_an_urgent_row_jumps_the_burst_and_a_notify_wakes_the_sender_at_once(
    app: Application, settings: Settings, tmp_path: Path
) -> None:
    await commune(app)
    messages, rate = 450, 30
    await seed_due_messages(app, messages + 2, "telegram", _now())
    async with app.store.transaction() as repos:  # the last two people's rows kept back: queued urgent below
        newest = select(ParticipantRow.id).order_by(ParticipantRow.id.desc()).limit(2)  # type: ignore[union-attr]
        urgent_pids = sorted((await repos.session.execute(newest)).scalars())
        await repos.session.execute(
            update(OutboxRow)
            .where(OutboxRow.participant_id.in_(urgent_pids))  # type: ignore[union-attr]
            .values(status="cancelled")
        )

    async def queue_urgent(pid: int) -> float:
        async with app.store.transaction() as repos:
            await repos.outbox.add(
                [NewMessage(f"urgent:{pid}", MessageKind.COMPLETION, _now(), participant_id=pid, urgent=True)]
            )
        return time.monotonic()

    def sent_at(pid: int) -> float | None:
        return next((c.at for c in fake.sent() if str(c.params["chat_id"]) == str(1000 + pid)), None)

    # The dispatch poll every two minutes: only the burst's first run and the NOTIFYs can send within the test.
    with _fleet(settings, tmp_path, rate, AFTERCARE_TELEGRAM_RATE_LIMIT=str(rate),
                AFTERCARE_DISPATCH_INTERVAL_SECONDS="120") as fleet:  # fmt: skip
        fake = fleet.fake
        fleet.start(2)
        await fleet.wait_running()
        await until(lambda: len(fake.sent()) >= 60, within=120)  # the burst is going (15 s at 30/s)
        queued = await queue_urgent(urgent_pids[0])
        await until(lambda: sent_at(urgent_pids[0]) is not None, within=10)
        during_burst = sent_at(urgent_pids[0])
        await until(lambda: len(_delivered(fake)) >= messages + 1, within=120)  # the burst is over
        left_behind = sum(1 for c in fake.sent() if during_burst is not None and c.at > during_burst)
        await asyncio.sleep(1)
        idle_queued = await queue_urgent(urgent_pids[1])  # the next dispatch poll is minutes away
        await until(lambda: sent_at(urgent_pids[1]) is not None, within=10)
        idle = sent_at(urgent_pids[1])
    assert during_burst is not None and during_burst - queued < 5  # the crisis alert's target: out within 5 s
    assert left_behind >= 100  # ahead of the reminders due before it
    assert idle is not None and idle - idle_queued < 2  # woken by the NOTIFY, not by a poll
    assert fake.rate_limited() == []
    assert len(_delivered(fake)) == messages + 2 and set(_delivered(fake).values()) == {1}


async def test_direct_sends_of_every_process_are_counted_together(app: Application) -> None:
    """Two processes' counts (flushed to `direct_send`) leave the sender what neither could see alone."""
    wall = time.time
    limits = RateLimits({"telegram": 30, "zalo": 10})
    first, second = DirectSends(wall), DirectSends(wall)
    shared = app.store if app.store.engine.dialect.name == "postgresql" else None
    for _ in range(8):
        first.count("telegram")
        second.count("telegram")
    second.count("zalo", 3)
    budget = SendBudget(shared, limits, first, wall=wall)
    if shared is None:  # SQLite: one process, its own counts
        assert await budget.refresh() == {"telegram": 22, "zalo": 10}
        return
    await budget.flush()
    await SendBudget(shared, limits, second, wall=wall).flush()
    assert await budget.refresh() == {"telegram": 14, "zalo": 7}
    assert limits.rate("telegram") == 14


async def test_a_sender_that_lost_the_lead_never_writes_back_a_row_the_new_sender_took(app: Application) -> None:
    """The old sender's late write-backs (a refund, a close) name its own claim: the new sender's claim of the same
    row is untouched, so the row is not made claimable again (and sent a second time). The new sender takes a dead
    one's rows after the grace, not at once and not after the five-minute lease."""
    await commune(app)
    now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    await seed_due_messages(app, 1, "simulator", now)
    lease, grace = timedelta(minutes=5), timedelta(seconds=20)
    async with app.store.transaction() as repos:
        (old,) = await repos.outbox.claim(now, 10, lease)
    async with app.store.transaction() as repos:  # a new sender took the lock
        assert await repos.outbox.release_leases(now, grace) == 1
        assert await repos.outbox.claim(now + grace / 2, 10, lease) == []  # the old one may still be finishing
    async with app.store.transaction() as repos:
        (new,) = await repos.outbox.claim(now + grace, 10, lease)
    assert (new.id, new.attempts) == (old.id, old.attempts + 1)
    async with app.store.transaction() as repos:  # the old sender, late: a refund and a close of its claim
        await repos.outbox.retry_at(old, now + grace, "channel_paused", refund=True)
        await repos.outbox.hold(old, now + timedelta(days=1))
        await repos.outbox.finish([old], "dead", "late")
        assert await repos.outbox.claim(now + grace * 2, 10, lease) == []  # still the new sender's
        await repos.outbox.finish([new], "sent")
    async with app.store.transaction() as repos:
        row = (await repos.session.execute(select(OutboxRow).where(OutboxRow.id == new.id))).scalar_one()
    assert (row.status, row.attempts, row.last_error) == ("sent", new.attempts, None)
