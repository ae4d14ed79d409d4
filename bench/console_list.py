"""Benchmark: the officer's list of 2,000 people in the console (Danh sách), over HTTP against the real app.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.console_list [--people 2000] [--runs 40] [--postgres URL | --postgres ''] [--no-sqlite]

Why: names are sealed in the database, so the list cannot be searched, sorted or paged by a query: every request reads
the commune's rows, opens 2,000 names, gathers this month's check-ins, open alerts, urgent requests and unreachable
chats in a few grouped queries, then filters, searches and sorts in Python before rendering one page of 50. Target
(issue 16): the officer's list of 2,000 people, p95 ≤ 300 ms on PostgreSQL.

Each request goes through everything a browser's would: the session looked up, the role checked, the audit entry
written, the page rendered by Jinja2 (httpx's ASGI transport, no socket). Measured: the first page; a search typed
without diacritics; a search by initials; the "overdue" filter the home page links to; the last page; the XLSX
export of the whole list (for information, no target).

What is seeded (bench/common.py, then here): commune "C" with `--people` people followed, their cadres (one per 250)
and the officer; names drawn from common Vietnamese family, middle and given names, each sealed for its row; this
month's check-in for everyone (a third done, a third due, a third overdue), an open alert for one in twenty.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert, update

from bench.common import StatementTimer, drop_postgres, ok, recreate_postgres, seed_population, settings_for
from bot.app import Application, build_application
from bot.core.clock import FixedClock
from bot.db.crypto import row_ref
from bot.db.models import EscalationRow, ObligationRow, ParticipantRow
from bot.domain.planning import ObligationKind, ObligationStatus, obligation_key
from bot.services import signin
from bot.web.app import build_web

NOW = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
TODAY = date(2026, 12, 15)
TARGET_MS = 300.0
BASE = "http://127.0.0.1:8080"
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Ngọc", "Xuân", "Công")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Hùng", "Khánh", "Lan", "Long", "Mai", "Nam", "Phúc",
         "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Tuấn", "Việt")  # fmt: skip


async def seed(app: Application, people: int) -> int:
    """The population, varied names, this month's check-ins and some alerts; the officer's id."""
    population = await seed_population(app, people, TODAY, NOW)
    assert population.officer is not None
    rng = random.Random(16)
    cipher = app.store.keyring.cipher
    async with app.engine.begin() as connection:
        for pid in range(population.first_participant, population.last_participant + 1):
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            sealed = cipher.encrypt(name, "participant.name", row_ref(id=pid))
            await connection.execute(update(ParticipantRow).where(ParticipantRow.id == pid).values(name_enc=sealed))
        obligations = []
        for i, pid in enumerate(range(population.first_participant, population.last_participant + 1)):
            due = TODAY.replace(day=10) if i % 3 else TODAY.replace(day=25)
            status = ObligationStatus.DONE if i % 3 == 1 else ObligationStatus.PENDING
            obligations.append({"key": obligation_key(ObligationKind.CHECKIN, pid, due), "participant_id": pid,
                                "kind": ObligationKind.CHECKIN.value, "due_on": due, "status": status.value,
                                "created_at": NOW})  # fmt: skip
        await connection.execute(insert(ObligationRow), obligations)
        alerts = [
            {"key": f"bench:{pid}", "participant_id": pid, "unit_id": population.unit_id, "kind": "risky_checkin",
             "raised_at": NOW}
            for pid in range(population.first_participant, population.last_participant + 1, 20)
        ]  # fmt: skip
        await connection.execute(insert(EscalationRow), alerts)
    return population.officer


async def run(url: str, data_dir: Path, people: int, runs: int) -> None:
    app = build_application(settings_for(url, data_dir), clock=FixedClock(NOW))
    try:
        await app.migrate()
        officer = await seed(app, people)
        async with app.store.transaction() as repos:
            link = await signin.issue_link(repos, app.store.keyring.token_key, app.clock, officer, BASE)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as client:
            signed = await client.post(link.url.removeprefix(BASE), headers={"origin": BASE})
            assert signed.status_code == 303, signed.text
            print(f"{app.engine.dialect.name}: the officer's list of a commune of {people}, {runs} requests each")
            cases = [
                ("first page", "/console/people"),
                ("search without diacritics", "/console/people?q=nguyen+van+an"),
                ("search by initials", "/console/people?q=tvh"),
                ("overdue (home page link)", "/console/people?overdue=1"),
                ("last page", f"/console/people?page={-(-people // 50)}"),
            ]
            worst = 0.0
            for label, path in cases:
                page = await client.get(path)  # once to warm the templates and the statement cache
                assert page.status_code == 200, page.text
                times, cpu = [], []
                with StatementTimer(app.engine) as timer:
                    for _ in range(runs):
                        started, used = time.perf_counter(), time.process_time()
                        page = await client.get(path)
                        times.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - used) * 1000)
                        assert page.status_code == 200
                p50, p95 = statistics.median(times), _p95(times)
                worst = max(worst, p95)
                statements = timer.statements // runs
                print(f"  {label:<28} p50 {p50:6.0f} ms   p95 {p95:6.0f} ms   CPU p50 {statistics.median(cpu):4.0f} ms"
                      f"   ({statements} SQL statements)")  # fmt: skip
            target = f"target p95 ≤ {TARGET_MS:.0f} ms: {ok(worst <= TARGET_MS)}"
            print(f"  {'worst p95':<28} {worst:18.0f} ms   ({target})")
            print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include waiting)")
            started = time.perf_counter()
            export = await client.get("/console/people.xlsx")
            assert export.status_code == 200
            took = (time.perf_counter() - started) * 1000
            print(f"  {'XLSX export, every row':<28} {took:6.0f} ms   ({len(export.content) / 1024:.0f} KB, no target)")
    finally:
        await app.aclose()


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_console_list")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp) / "sqlite", args.people, args.runs))
        if args.postgres:
            asyncio.run(recreate_postgres(args.postgres))
            try:
                asyncio.run(run(args.postgres, Path(tmp) / "pg", args.people, args.runs))
            finally:
                asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
