"""Benchmark: outbox dispatch to Telegram (Dispatcher.run) on SQLite and PostgreSQL, unlimited and at 30 messages/s.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.dispatch [--rows 10000] [--limited-rows 600] [--kind reminder|completion]
                                       [--postgres URL | --postgres ''] [--no-sqlite]
The PostgreSQL database in --postgres (default .../bench_dispatch) is dropped and created again, and dropped at the
end unless --keep.

Why: when a morning's reminders fall due together, the dispatcher must (a) not be the bottleneck: with the rate limit
out of the way (telegram_rate_limit 1e9) it should push ≥ 500 messages/s through claim → render → send → close; and
(b) with the default telegram_rate_limit (30/s) against a Telegram that allows 30 messages in any second, go as fast
as that allows (≥ 95 % of 30/s) without ever being answered 429, because a 429 means the bot broke the limit.

Set-up: due outbox rows, one per participant, each participant with a Telegram chat of their own (so the per-chat gap
never applies). By default they are real check-in reminders (the obligation is seeded open and due today: rendering
reads the person, the obligation and the unit, and the message's buttons become the chat's offered choices when it
is sent); `--kind completion` uses "your term ended" messages instead, which render from the person alone and have
no buttons. The dispatcher is the one `build_application` wires, with the system clock and asyncio.sleep, and quiet
hours off (so the figures do not depend on the time of day). It is called the way `aftercare run` calls it: again
every `dispatch_interval_seconds` (5 s) after a run that returned, until every row is closed.

Telegram is `tests.fakes.telegram_api.FakeTelegram` (real HTTP over loopback, spec-checked calls), served from its
own thread and event loop by `running_in_thread`; it shares this process's GIL, so the CPU its thread used is
printed. For (b) it is wrapped here (not changed) to count the messages it accepted in the last second and answer the
31st with 429 and `parameters.retry_after` (whole seconds until the window has room), like Telegram's flood control.

Figures: messages/s, or the delivery rate from the start of dispatching to the last accepted message and the 429s;
how often the rows were put back for later (retries and refunds); SQL statements per message sent; process CPU
against wall time (CPU ≈ wall means the dispatcher is CPU-bound in Python, not waiting for the database or HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import logging
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import Table, func, select, update

from bench.common import (
    KEY,
    StatementTimer,
    bulk_insert,
    drop_postgres,
    ok,
    participant_chat,
    recreate_postgres,
    seed_population,
    settings_for,
    sync_sequences,
)
from bot.app import Application, build_application
from bot.config import Settings
from bot.core.clock import SystemClock
from bot.db.models import ObligationRow, OutboxRow
from bot.domain.planning import MessageKind, ObligationKind, ObligationStatus
from bot.logging import configure_logging
from tests.fakes.telegram_api import ApiError, FakeTelegram, running_in_thread

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_dispatch"
TOKEN = "123456789:AAE-benchmark-token-for-the-fake-api"
UNLIMITED = 1e9
TARGET_RATE = 500.0
TARGET_SHARE = 0.95
GIVE_UP_AFTER = 120.0  # seconds of dispatching before a scenario is reported as unfinished


@dataclass
class WindowedTelegram(FakeTelegram):
    """FakeTelegram with flood control: at most `per_second` sendMessage calls accepted in any sliding second.

    Only accepted messages count toward the window (a refused call sends nothing). The arrival time of every
    accepted message is kept, for the rate and the busiest second afterwards."""

    per_second: int | None = None
    window: collections.deque[float] = field(default_factory=collections.deque)
    accepted: list[float] = field(default_factory=list)
    refused: int = 0
    thread_id: int | None = None

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        self.thread_id = self.thread_id or threading.get_native_id()
        now = time.monotonic()
        if self.per_second is not None:
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.per_second:
                self.refused += 1
                wait = max(1, math.ceil(self.window[0] + 1.0 - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            self.window.append(now)
        message = await super()._m_sendMessage(p)
        self.accepted.append(now)
        return message

    def cpu_seconds(self) -> float:
        """CPU time of the fake's thread (it shares the GIL with the dispatcher)."""
        if self.thread_id is None:
            return 0.0
        fields = Path(f"/proc/self/task/{self.thread_id}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busiest_second(times: list[float]) -> int:
    """The most instants in any half-open window [t, t + 1 s)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


# ---- seeding -------------------------------------------------------------------------------------------------------


async def seed_due_rows(app: Application, rows: int, kind: str) -> None:
    """`rows` people, each with a chat and one due outbox row (due a minute ago)."""
    now = datetime.now(UTC)
    tz = ZoneInfo(app.settings.timezone)
    today = now.astimezone(tz).date()
    status = "active" if kind == "reminder" else "completed"
    people = await seed_population(app, rows, today, now, status=status, with_cadres=False)
    obligation_table: Table = ObligationRow.__table__  # type: ignore[attr-defined]
    outbox_table: Table = OutboxRow.__table__  # type: ignore[attr-defined]
    due = now - timedelta(minutes=1)
    stale = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    async with app.engine.begin() as connection:
        first_obligation = int(
            (await connection.execute(select(func.coalesce(func.max(obligation_table.c.id), 0)))).scalar_one()
        )
        pids = range(people.first_participant, people.last_participant + 1)
        messages: list[dict[str, Any]] = []
        if kind == "reminder":
            obligations = [
                {"id": first_obligation + n + 1, "key": f"checkin:{pid}:{today:%Y-%m}", "participant_id": pid,
                 "kind": ObligationKind.CHECKIN.value, "due_on": today, "status": ObligationStatus.PENDING.value,
                 "created_at": now}
                for n, pid in enumerate(pids)
            ]  # fmt: skip
            await bulk_insert(connection, obligation_table, obligations)
            for obligation in obligations:
                payload = {"obligation_id": obligation["id"], "stage": "due_day", "stale_at": stale.isoformat()}
                messages.append(
                    {"key": f"r:{obligation['key']}:due_day:0", "kind": MessageKind.REMINDER.value,
                     "participant_id": obligation["participant_id"], "payload": payload}
                )  # fmt: skip
        else:
            messages = [
                {"key": f"completion:{pid}", "kind": MessageKind.COMPLETION.value, "participant_id": pid, "payload": {}}
                for pid in pids
            ]
        for message in messages:
            message |= {"urgent": False, "due_at": due, "next_attempt_at": due, "status": "pending", "attempts": 0,
                        "created_at": now}  # fmt: skip
        await bulk_insert(connection, outbox_table, messages)
        await sync_sequences(connection, ("obligation",))


# ---- one scenario --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    wall: float
    sent: int
    retried: int
    other: int
    runs: int
    finished: bool
    statements: int
    cpu: float
    delivered: list[float]
    dispatch_started: float
    refused: int
    busiest: int
    fake_cpu: float
    statuses: dict[str, int]


async def dispatch_all(
    url: str, data_dir: Path, fake: WindowedTelegram, rate: float | None, rows: int, kind: str
) -> Outcome:
    """`rate`: the bot's `telegram_rate_limit` (None: the default setting)."""
    extra: dict[str, Any] = {} if rate is None else {"telegram_rate_limit": rate}
    settings = settings_for(
        url,
        data_dir,
        telegram_token=TOKEN,
        telegram_api_url=fake.base_url,
        quiet_hours="off",
        simulator_enabled=False,
        **extra,
    )
    app = build_application(settings, clock=SystemClock(), sleep=asyncio.sleep)
    try:
        await app.migrate()
        await seed_due_rows(app, rows, kind)
        dispatcher = app.scheduler.dispatcher
        sent = retried = other = runs = 0
        cpu_before, fake_before = _process_cpu(), fake.cpu_seconds()
        with StatementTimer(app.engine) as sql:
            started = time.monotonic()
            start = time.perf_counter()
            while time.monotonic() - started < GIVE_UP_AFTER:
                tick = time.monotonic()
                report = await dispatcher.run()
                runs += 1
                sent += report.sent
                retried += report.retried
                other += report.cancelled + report.dead + report.undeliverable
                if sent + other >= rows:
                    break
                await asyncio.sleep(max(0.0, settings.dispatch_interval_seconds - (time.monotonic() - tick)))
            wall = time.perf_counter() - start
        async with app.store.transaction() as repos:
            statuses = await repos.outbox.counts()
        return Outcome(
            wall=wall,
            sent=sent,
            retried=retried,
            other=other,
            runs=runs,
            finished=sent + other >= rows,
            statements=sql.statements,
            cpu=_process_cpu() - cpu_before,
            delivered=sorted(fake.accepted),
            dispatch_started=started,
            refused=fake.refused,
            busiest=busiest_second(fake.accepted),
            fake_cpu=fake.cpu_seconds() - fake_before,
            statuses=statuses,
        )
    finally:
        await app.aclose()


# ---- several `aftercare run` processes on one database --------------------------------------------------------------


WEBHOOK_SECRET = "bench-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Fleet:
    """N `python -m bot run` processes with the scheduler enabled, as a deployment runs them: each its own HTTP port,
    all on one database and one Telegram bot. The first one's address is the webhook's (a load balancer in front
    would pick one too)."""

    processes: list[subprocess.Popen[bytes]]
    ports: list[int]
    logs: list[Path]

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}/webhook/telegram"

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)


def start_fleet(n: int, url: str, data_dir: Path, api_url: str, **settings: str) -> Fleet:
    """`settings`: more AFTERCARE_* settings by their lowercase name (e.g. telegram_rate_limit="1e9")."""
    ports = [free_port() for _ in range(n)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("AFTERCARE_")}
    env |= {
        "AFTERCARE_DATABASE_URL": url,
        "AFTERCARE_ENCRYPTION_KEY": KEY,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_TELEGRAM_TOKEN": TOKEN,
        "AFTERCARE_TELEGRAM_API_URL": api_url,
        "AFTERCARE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "AFTERCARE_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
        "AFTERCARE_SCHEDULER_ENABLED": "true",
        "AFTERCARE_SIMULATOR_ENABLED": "false",
        "AFTERCARE_QUIET_HOURS": "off",
        "AFTERCARE_LOG_FORMAT": "json",
        **{f"AFTERCARE_{name.upper()}": value for name, value in settings.items()},
    }
    processes, logs = [], []
    for i, port in enumerate(ports):
        log_path = data_dir / f"process-{i}.log"
        with log_path.open("wb") as log_file:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    env={**env, "AFTERCARE_HTTP_PORT": str(port)},
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=Path(__file__).resolve().parents[1],
                )
            )
        logs.append(log_path)
    return Fleet(processes, ports, logs)


@dataclass
class Sends:
    """What the fake Telegram accepted from the fleet: per chat, and when."""

    accepted: int
    chats: int
    duplicates: int  # messages to a chat beyond the first (each seeded chat is owed exactly one)
    refused: int  # 429s
    busiest: int  # most accepted in any one second
    span: float  # first to last accepted, seconds
    rate: float  # accepted per second over that span


def count_sends(fake: WindowedTelegram, chats: set[int] | None = None) -> Sends:
    """`chats`: only messages to these chats count (None: every sendMessage)."""
    calls = [c for c in fake.sent() if chats is None or int(c.params["chat_id"]) in chats]
    per_chat = collections.Counter(int(c.params["chat_id"]) for c in calls)
    times = sorted(c.at for c in calls)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return Sends(
        accepted=len(calls),
        chats=len(per_chat),
        duplicates=sum(n - 1 for n in per_chat.values()),
        refused=fake.refused,
        busiest=busiest_second(times),
        span=span,
        rate=(len(calls) - 1) / span if span else 0.0,
    )


async def wait_until(condition: Any, within: float, step: float = 0.2) -> bool:
    """Polls `condition()` (the processes are real: there is no event to wait on) until true or `within` passed."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(step)
    return bool(condition())


async def _seed_for_fleet(url: str, data_dir: Path, rows: int) -> set[int]:
    """ "Your term ended" messages (their people are no longer active: the planners have nothing to plan), not due
    until `_make_due`: every process is up by then, so all of them find the rows at once."""
    app = build_application(settings_for(url, data_dir), clock=SystemClock(), sleep=asyncio.sleep)
    try:
        await app.migrate()
        await seed_due_rows(app, rows, "completion")
        async with app.engine.begin() as connection:
            first = int((await connection.execute(select(func.min(OutboxRow.participant_id)))).scalar_one())
            later = datetime.now(UTC) + timedelta(days=1)
            await connection.execute(update(OutboxRow).values(next_attempt_at=later))
    finally:
        await app.aclose()
    return {int(participant_chat(pid)) for pid in range(first, first + rows)}


async def _make_due(url: str, data_dir: Path) -> None:
    app = build_application(settings_for(url, data_dir), clock=SystemClock(), sleep=asyncio.sleep)
    try:
        async with app.engine.begin() as connection:
            await connection.execute(update(OutboxRow).values(next_attempt_at=datetime.now(UTC)))
    finally:
        await app.aclose()


async def wait_ready(fleet: Fleet, within: float, begun: Any = None) -> float:
    """When every process answered /healthz (or `begun()` said dispatching started already), polled: the processes
    are real and announce nothing."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline and not (begun is not None and begun()):
            healthy = 0
            for port in fleet.ports:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        healthy += response.status == 200
                except aiohttp.ClientError:
                    pass
            if healthy == len(fleet.ports) or not fleet.alive():
                break
            await asyncio.sleep(0.2)
    return time.monotonic()


async def fleet_scenario(url: str, rows: int, processes: int, per_second: int | None) -> tuple[Sends, float, bool]:
    """(what was accepted, seconds from the rows falling due, every process up, to the last accepted, finished)."""
    await recreate_postgres(url)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        chats = await _seed_for_fleet(url, data_dir, rows)
        rate = {} if per_second is not None else {"telegram_rate_limit": str(UNLIMITED)}
        with running_in_thread(lambda: WindowedTelegram(token=TOKEN, per_second=per_second)) as fake:
            fleet = start_fleet(processes, url, data_dir, fake.base_url, **rate)
            try:
                await wait_ready(fleet, 300)
                await _make_due(url, data_dir)
                started = time.monotonic()
                finished = await wait_until(
                    lambda: len({int(c.params["chat_id"]) for c in fake.sent()}) >= rows or not fleet.alive(),
                    GIVE_UP_AFTER + 60,
                    0.5,
                )
                finished = finished and fleet.alive()
                await asyncio.sleep(3)  # late duplicates, if any, arrive now
            finally:
                fleet.stop()
            sends = count_sends(fake, chats)
            last = max((c.at for c in fake.sent()), default=started)
    return sends, last - started, finished


def fleet(url: str, rows: int, processes: int, per_second: int | None) -> Sends:
    sends, took, finished = asyncio.run(fleet_scenario(url, rows, processes, per_second))
    label = "no rate limit" if per_second is None else f"limit {per_second}/s"
    if per_second is None:
        verdict = f"[≥ {TARGET_RATE:.0f}/s: {ok(sends.rate >= TARGET_RATE and finished)}]"
    else:
        share = sends.rate / per_second
        verdict = (
            f"= {share:.0%} of {per_second}/s [≥ {TARGET_SHARE:.0%}: {ok(share >= TARGET_SHARE and finished)}]; "
            f"429s {sends.refused} [0: {ok(sends.refused == 0)}]"
        )
    print(
        f"  (c) {processes} processes, {label}: {sends.chats:,} of {rows:,} chats reached, first to last accepted "
        f"{sends.rate:,.1f}/s {verdict}; duplicates {sends.duplicates} [0: {ok(sends.duplicates == 0)}]"
    )
    print(
        f"      busiest second at the fake: {sends.busiest} accepted; {took:.1f} s from the rows falling due (every "
        f"process up) to the last message{'' if finished else ' (NOT finished)'}"
    )
    return sends


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _detail_lines(outcome: Outcome) -> str:
    per_message = outcome.statements / max(1, outcome.sent)
    return (
        f"      dispatcher: {outcome.runs} run(s), rows put back for later {outcome.retried:,}, "
        f"closed unsent {outcome.other:,}; outbox now {outcome.statuses}\n"
        f"      cost: {outcome.statements:,} SQL statements ({per_message:.1f} per message sent); process CPU "
        f"{outcome.cpu:.1f} s in {outcome.wall:.1f} s wall (fake Telegram's thread: {outcome.fake_cpu:.1f} s)"
    )


def unlimited(url: str, data_dir: Path, rows: int, kind: str) -> None:
    with running_in_thread(lambda: WindowedTelegram(token=TOKEN)) as fake:
        outcome = asyncio.run(dispatch_all(url, data_dir, fake, UNLIMITED, rows, kind))
    rate = outcome.sent / outcome.wall
    print(
        f"  (a) no rate limit: {outcome.sent:,} of {rows:,} {kind} messages sent in {outcome.wall:.1f} s = "
        f"{rate:,.0f} messages/s  [≥ {TARGET_RATE:.0f}/s: {ok(rate >= TARGET_RATE and outcome.finished)}]"
    )
    print(f"      accepted by the fake: {len(outcome.delivered):,}")
    print(_detail_lines(outcome))


def limited(url: str, data_dir: Path, rows: int, kind: str, per_second: int) -> None:
    with running_in_thread(lambda: WindowedTelegram(token=TOKEN, per_second=per_second)) as fake:
        outcome = asyncio.run(dispatch_all(url, data_dir, fake, None, rows, kind))
    delivered = outcome.delivered
    span = (delivered[-1] - outcome.dispatch_started) if delivered else math.inf
    rate = len(delivered) / span
    steady = (len(delivered) - 1) / (delivered[-1] - delivered[0]) if len(delivered) > 1 else 0.0
    share = rate / per_second
    print(
        f"  (b) limit {per_second}/s: {len(delivered):,} of {rows:,} delivered {span:.1f} s after dispatch began = "
        f"{rate:.1f}/s, {share:.0%} of {per_second}/s [≥ {TARGET_SHARE:.0%}: {ok(share >= TARGET_SHARE)}]; "
        f"429s {outcome.refused} [0: {ok(outcome.refused == 0)}]"
    )
    print(f"      first to last delivery {steady:.1f}/s; busiest second at the fake: {outcome.busiest} accepted")
    print(_detail_lines(outcome))


def run_database(label: str, url: str, data_dir: Path, args: argparse.Namespace) -> None:
    print(f"{label} (bot's telegram_rate_limit in (b): {Settings.model_fields['telegram_rate_limit'].default}/s):")
    unlimited(url, data_dir, args.rows, args.kind)
    limited(url, data_dir, args.limited_rows, args.kind, args.limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="due rows for the unlimited run (a)")
    parser.add_argument("--limited-rows", type=int, default=600, help="due rows for the rate-limited run (b)")
    parser.add_argument(
        "--limit",
        type=int,
        default=30,
        help="messages per second the fake Telegram accepts in (b); the bot keeps its default telegram_rate_limit",
    )
    parser.add_argument(
        "--processes", type=int, default=4, help="(c): this many `aftercare run` processes on PostgreSQL (0: skip)"
    )
    parser.add_argument("--kind", choices=("reminder", "completion"), default="reminder")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args()
    configure_logging(json_logs=False, level=logging.INFO)
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run_database("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args)
    if args.postgres:
        asyncio.run(recreate_postgres(args.postgres))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run_database("PostgreSQL", args.postgres, Path(tmp), args)
            if args.processes:
                print(f"PostgreSQL, {args.processes} `aftercare run` processes with the scheduler on, one bot:")
                fleet(args.postgres, args.rows, args.processes, None)
                fleet(args.postgres, args.limited_rows, args.processes, args.limit)
        finally:
            if not args.keep:
                asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
