"""Benchmark: a morning peak. 100,000 participants, 10,000 reminders due at once, four `aftercare run` processes on one
PostgreSQL and one Telegram bot that allows 30 messages a second; a crisis message typed in the middle of the burst.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.morning [--participants 100000] [--reminders 10000] [--processes 4]
                                      [--postgres URL] [--keep]
The database in --postgres (default .../bench_morning; never the tests' `test`) is dropped and created again, and
dropped at the end unless --keep. `--reminders 1000 --participants 10000` is a quick run (about a minute of burst).

Why (issue 19): at 07:00 the reminders of everyone whose reminder hour is 7 fall due together. At Telegram's 30/s,
10,000 of them take 10,000 / 30 ≈ 5.6 minutes to leave; a person who writes "tôi muốn chết" during those minutes must
still be answered at once (≤ 2 s: the reply goes straight out, not behind the burst) and the on-duty counsellor
alerted within seconds (≤ 5 s: the alert is urgent and must jump the queue).

Set-up (bench/common.py's bulk seeding, then the real planner): N active participants with a Telegram chat each in
two communes. The `--reminders` people of the first commune have their check-in due today and chose the current
hour for reminders; everyone else's commune has its check-in due in two weeks. The planner runs once here (the month
was planned long before the morning), and what it planned that is already due is the burst: the first commune's
"due today" reminders (plus whatever else the plan makes due now, printed by kind). The first commune has a
counselling point with a counsellor on duty, linked to a Telegram chat. Then `--processes` real `python -m bot run`
processes start, scheduler on, against a fake Telegram (tests/fakes/telegram_api.py, served here) that answers 429
past 30 messages in any second and records every send. The "07:00" is the bench's start: the processes run on the
system clock, with quiet hours off. Until the leadership work of issue 19 lands every process sends on its own
(each at the bot's 30/s): the 429s and the busiest second show it.

Figures: seconds from "07:00" to the last reminder accepted ("07:00" being when every process answers /healthz, or
the first reminder left if that came sooner: in a deployment the processes were running already, so their start-up,
slow on a loaded machine, is printed apart and not counted), the rate from the first reminder to the last, 429s,
duplicates, the busiest second; the crisis message (sent to the webhook a third of the way through the burst by a
participant with no reminder): time to the bot's first reply in that chat, and to the first message in the
counsellor's chat.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import Table, func, insert, select, update

from bench.common import (
    FIRST_STAFF_CHAT,
    analyze,
    drop_postgres,
    ok,
    participant_chat,
    recreate_postgres,
    seed_population,
    settings_for,
    sync_sequences,
)
from bench.dispatch import (
    WindowedTelegram,
    busiest_second,
    start_fleet,
    wait_ready,
    wait_until,
)
from bot.app import build_application
from bot.core.clock import SystemClock
from bot.db.models import ChannelIdentityRow, CounsellingPointRow, OutboxRow, ParticipantRow, StaffRow, UnitRow
from bot.domain.entities import Role
from bot.logging import configure_logging
from tests.fakes.telegram_api import running_in_thread

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_morning"
TOKEN = "123456789:AAE-benchmark-token-for-the-fake-api"
CRISIS_TEXT = "tôi muốn chết"
REPLY_WITHIN, ALERT_WITHIN = 2.0, 5.0
PER_SECOND = 30


@dataclass
class Morning:
    participants: int
    due: dict[str, int]  # outbox rows due at the start, by kind
    reminder_chats: set[int]
    crisis_chat: int
    counsellor_chat: int
    planned_in: float


async def prepare(url: str, data_dir: Path, participants: int, reminders: int) -> Morning:
    now = datetime.now(UTC)
    app = build_application(settings_for(url, data_dir), clock=SystemClock(), sleep=asyncio.sleep)
    tz = ZoneInfo(app.settings.timezone)
    local = now.astimezone(tz)
    try:
        await app.migrate()
        people = await seed_population(app, participants, local.date(), now)
        first, last = people.first_participant, people.last_participant
        burst_last = first + reminders - 1
        async with app.engine.begin() as connection:
            units: Table = UnitRow.__table__  # type: ignore[attr-defined]
            persons: Table = ParticipantRow.__table__  # type: ignore[attr-defined]
            # Everyone else lives in a commune whose check-in is due in two weeks (nothing of theirs is due now).
            later_day = (local.date() + timedelta(days=14)).day
            other = (
                await connection.execute(
                    insert(units)
                    .values(code="C2", name="Xã Khác", level="commune", parent_id=None,
                            checkin_due_day=min(28, later_day), created_at=now)
                    .returning(units.c.id)
                )
            ).scalar_one()  # fmt: skip
            await connection.execute(
                update(units).where(units.c.id == people.unit_id).values(checkin_due_day=local.day)
            )
            await connection.execute(
                update(persons).where(persons.c.id > burst_last)
                .values(unit_id=other, reminder_hour=(local.hour + 1) % 24)
            )  # fmt: skip
            await connection.execute(
                update(persons).where(persons.c.id <= burst_last).values(reminder_hour=local.hour, risk_level="low")
            )
            # The person who writes in crisis: of the first commune (its counselling point answers), no reminder now.
            await connection.execute(
                update(persons).where(persons.c.id == last).values(unit_id=people.unit_id, risk_level="low")
            )
            # The counsellor on duty at the first commune's counselling point, with a Telegram chat.
            points: Table = CounsellingPointRow.__table__  # type: ignore[attr-defined]
            point = (
                await connection.execute(
                    insert(points).values(unit_id=people.unit_id, name="Điểm tư vấn", created_at=now)
                    .returning(points.c.id)
                )
            ).scalar_one()  # fmt: skip
            staff: Table = StaffRow.__table__  # type: ignore[attr-defined]
            counsellor = (
                await connection.execute(
                    insert(staff)
                    .values(name="Tư vấn viên", role=Role.COUNSELLOR.value, unit_id=people.unit_id, point_id=point,
                            language="vi", active=True, on_duty=True, created_at=now)
                    .returning(staff.c.id)
                )
            ).scalar_one()  # fmt: skip
            counsellor_chat = FIRST_STAFF_CHAT + counsellor
            key, sealed = app.store.keyring.seal_chat(
                "telegram", str(counsellor_chat), participant_id=None, staff_id=counsellor
            )
            identities: Table = ChannelIdentityRow.__table__  # type: ignore[attr-defined]
            await connection.execute(
                insert(identities).values(channel="telegram", staff_id=counsellor, chat_key=key, external_id_enc=sealed,
                                          linked_at=now, unreachable=False)
            )  # fmt: skip
            await sync_sequences(connection, ("unit", "counselling_point", "staff_member", "channel_identity"))
        await analyze(app)
        start = time.perf_counter()
        await app.scheduler.planner.run(now)
        planned_in = time.perf_counter() - start
        await analyze(app)
        soon = datetime.now(UTC) + timedelta(seconds=5)
        async with app.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(OutboxRow.kind, func.count())
                    .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= soon)
                    .group_by(OutboxRow.kind)
                )
            ).all()
            chats = (
                await connection.execute(
                    select(OutboxRow.participant_id).where(
                        OutboxRow.status == "pending",
                        OutboxRow.next_attempt_at <= soon,
                        OutboxRow.kind == "reminder",
                    )
                )
            ).scalars()
            reminder_chats = {int(participant_chat(pid)) for pid in chats if pid is not None and pid != last}
    finally:
        await app.aclose()
    return Morning(
        participants=participants,
        due={kind: int(n) for kind, n in rows},
        reminder_chats=reminder_chats,
        crisis_chat=int(participant_chat(last)),
        counsellor_chat=counsellor_chat,
        planned_in=planned_in,
    )


def crisis_update(chat: int, update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "A", "language_code": "vi"},
            "text": CRISIS_TEXT,
        },
    }


async def run(url: str, participants: int, reminders: int, processes: int, give_up: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        prepared_at = time.perf_counter()
        morning = await prepare(url, data_dir, participants, reminders)
        burst = len(morning.reminder_chats)
        print(
            f"  {morning.participants:,} participants seeded and the month planned "
            f"(planner {morning.planned_in:.1f} s; all set-up {time.perf_counter() - prepared_at:.0f} s); due now: "
            + ", ".join(f"{kind} {n:,}" for kind, n in sorted(morning.due.items()))
        )
        with running_in_thread(lambda: WindowedTelegram(token=TOKEN, per_second=PER_SECOND)) as fake:
            started = time.monotonic()
            fleet = start_fleet(processes, url, data_dir, fake.base_url)
            try:

                def reminders_out() -> int:
                    return len(
                        {
                            int(c.params["chat_id"])
                            for c in fake.sent()
                            if int(c.params["chat_id"]) in morning.reminder_chats
                        }
                    )

                # "07:00" is when the processes are up (in a deployment they were running already) or the first
                # reminder left, whichever came first: their start-up under load is not the burst's time.
                ready = await wait_ready(fleet, give_up, lambda: reminders_out() > 0)
                # A third of the way through the burst (at 30/s), the crisis message arrives on the webhook.
                third = max(1, burst // 3)
                await wait_until(lambda: reminders_out() >= third or not fleet.alive(), give_up)
                crisis_at = time.monotonic()
                update = crisis_update(morning.crisis_chat, 900_000_001)
                status = await _post_webhook(fake.webhook_url or fleet.webhook, fake.webhook_secret, update)
                mid_burst = reminders_out()
                replied = await wait_until(lambda: bool(fake.sent(chat_id=morning.crisis_chat)), 60, 0.02)
                alerted = await wait_until(lambda: bool(fake.sent(chat_id=morning.counsellor_chat)), 120, 0.02)
                finished = await wait_until(lambda: reminders_out() >= burst or not fleet.alive(), give_up, 0.5)
                finished = finished and fleet.alive()
                await asyncio.sleep(3)  # late duplicates, if any, arrive now
            finally:
                fleet.stop()
            calls = [c for c in fake.sent() if int(c.params["chat_id"]) in morning.reminder_chats]
            per_chat = collections.Counter(int(c.params["chat_id"]) for c in calls)
            reply = [c for c in fake.sent(chat_id=morning.crisis_chat) if c.at >= crisis_at]
            alert = [c for c in fake.sent(chat_id=morning.counsellor_chat) if c.at >= crisis_at]
            everything = [c.at for c in fake.sent()]
            refused = fake.refused
    first = min((c.at for c in calls), default=started)
    begun = min(ready, first)
    last = max((c.at for c in calls), default=started)
    took = last - begun
    rate = (len(per_chat) - 1) / (last - first) if last > first else 0.0
    reply_s = reply[0].at - crisis_at if replied and reply else float("inf")
    alert_s = alert[0].at - crisis_at if alerted and alert else float("inf")
    ideal = burst / PER_SECOND
    print(
        f"  burst: {len(per_chat):,} of {burst:,} reminders out {took:.0f} s after the {processes} processes were up "
        f"(start-up {begun - started:.0f} s, not counted) "
        f"({took / 60:.1f} min; at exactly {PER_SECOND}/s: {ideal:.0f} s){'' if finished else ' — NOT finished'}; "
        f"first to last reminder {last - first:.0f} s = {rate:.1f}/s; 429s {refused} [0: {ok(refused == 0)}]; "
        f"duplicates {sum(n - 1 for n in per_chat.values())} "
        f"[0: {ok(all(n == 1 for n in per_chat.values()))}]; busiest second {busiest_second(everything)} accepted"
    )
    print(
        f"  crisis message during the burst (webhook answered {status}, {mid_burst:,} reminders out by then): "
        f"reply {reply_s:.2f} s [≤ {REPLY_WITHIN:.0f} s: {ok(reply_s <= REPLY_WITHIN)}], counsellor alerted "
        f"{alert_s:.2f} s [≤ {ALERT_WITHIN:.0f} s: {ok(alert_s <= ALERT_WITHIN)}]"
    )
    FIGURES.update(
        burst_seconds=took if finished else float("inf"), burst=float(burst), reply=reply_s, alert=alert_s,
        refused=float(refused), rate=rate,
    )  # fmt: skip


FIGURES: dict[str, float] = {}  # the last run's figures, for bench/scale.py


async def _post_webhook(url: str, secret: str, update: dict[str, Any]) -> int:
    """As Telegram delivers it: to the webhook the bot registered, with the secret it registered."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as response:
        await response.read()
        return response.status


def measure(url: str, participants: int, reminders: int, processes: int, give_up: float = 1800.0) -> dict[str, float]:
    """The morning on a fresh database at `url` (dropped afterwards); its figures."""
    asyncio.run(recreate_postgres(url))
    try:
        asyncio.run(run(url, participants, reminders, processes, give_up))
    finally:
        asyncio.run(drop_postgres(url))
    return dict(FIGURES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--reminders", type=int, default=10_000, help="people whose reminder is due in the burst")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.postgres.rsplit("/", 1)[-1] == "test":
        parser.error("--postgres must name a scratch database, never the tests' `test`")
    configure_logging(json_logs=False, level=logging.WARNING)
    print(f"Morning peak on PostgreSQL, {args.processes} processes, Telegram at {PER_SECOND}/s:")
    asyncio.run(recreate_postgres(args.postgres))
    try:
        asyncio.run(run(args.postgres, args.participants, args.reminders, args.processes, 1800.0))
    finally:
        if not args.keep:
            asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
