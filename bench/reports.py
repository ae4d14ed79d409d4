"""Benchmark: the monthly reports of a province of 100,000 people over a year of records (issue 17).

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.reports [--communes 100] [--people 1000] [--postgres URL | --postgres ''] [--sqlite]

Why: names stay sealed, but two things a report needs are sealed too — test results and the quarterly reviews'
ratings — so the report opens each of the period's results (and a quarter's reviews) one by one; everything else is
clear columns gathered by a few set queries and tallied in Python by the commune the person was on that day.
Targets: the monthly province report ≤ 5 s on PostgreSQL, a commune's ≤ 300 ms.

What is seeded (bulk Core inserts, each sealed value for its row with the app's own keys): province "P" with
`--communes` communes of `--people` people (terms started over the last two years, some completed, one in fifty moved
between communes), for every month of 2026 a check-in (most done, some missed), an in-person check for most, tests by
risk level (high monthly, medium quarterly) with a sealed result (a few positive, refused, no-show), unannounced tests
for a few high-risk people, requests for support (one in ten people a year), crises (one in a thousand a month) and
the quarterly reviews (sealed). Measured: November 2026 for the province (with and without its 12-month trend) and
for one commune; the quarter Q3 for the province (reviews opened). The trend is measured twice: the first report
counts the settled months and keeps them, the next ones read them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from bench.common import bulk_insert, drop_postgres, ok, recreate_postgres, rss_window, settings_for, sync_sequences
from bot.app import Application, build_application
from bot.core.clock import FixedClock
from bot.db.crypto import row_ref
from bot.db.models import (
    EscalationRow,
    InPersonCheckRow,
    ObligationRow,
    ParticipantRow,
    QuarterlyReviewRow,
    ReferralRow,
    StaffRow,
    TestResultRow,
    TransferRow,
    UnitRow,
)
from bot.domain.reports.period import parse_period
from bot.domain.terms import add_months
from bot.services import reports

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCE_TARGET_S = 5.0
COMMUNE_TARGET_MS = 300.0
MONTHS = [date(2026, month, 10) for month in range(1, 13)]


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


async def seed(app: Application, communes: int, people: int) -> None:
    rng = random.Random(17)
    cipher = app.store.keyring.cipher
    seal = cipher.encrypt
    async with app.engine.begin() as c:
        await bulk_insert(c, table(UnitRow), [{"id": 1, "code": "P", "name": "Tỉnh Thử", "level": "province",
                                               "parent_id": None, "created_at": NOW}])  # fmt: skip
        units = [{"id": 2 + i, "code": f"C{i:03d}", "name": f"Xã Thử {i}", "level": "commune", "parent_id": 1,
                  "created_at": NOW} for i in range(communes)]  # fmt: skip
        await bulk_insert(c, table(UnitRow), units)
        staff = [{"id": 1 + i, "name": f"Cán bộ {i}", "role": "cadre", "unit_id": 2 + i % communes, "language": "vi",
                  "active": True, "created_at": NOW} for i in range(communes * 4)]  # fmt: skip
        await bulk_insert(c, table(StaffRow), staff)
        total = communes * people
        persons, moves = [], []
        for pid in range(1, total + 1):
            unit = 2 + (pid - 1) // people
            start = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
            months = rng.choice((12, 24))
            end = add_months(start, months)
            completed = end if end < date(2026, 12, 1) and rng.random() < 0.9 else None
            persons.append({"id": pid, "unit_id": unit, "name_enc": seal("Nguyễn Văn Thử", "participant.name",
                            row_ref(id=pid)), "term_start": start, "term_months": months, "expected_end": end,
                            "risk_level": rng.choices(("low", "medium", "high"), (5, 3, 2))[0],
                            "status": "completed" if completed else "active", "completed_on": completed,
                            "language": "vi", "wording": "neutral", "created_at": NOW, "updated_at": NOW})  # fmt: skip
            if rng.random() < 0.02 and communes > 1:
                to = 2 + (unit - 2 + 1 + rng.randrange(communes - 1)) % communes
                persons[-1]["unit_id"] = to
                moves.append({"participant_id": pid, "from_unit_id": unit, "to_unit_id": to,
                              "moved_on": date(2026, rng.randrange(1, 12), 15), "status": "accepted",
                              "created_by": 1, "created_at": NOW})  # fmt: skip
        await bulk_insert(c, table(ParticipantRow), persons)
        await bulk_insert(c, table(TransferRow), moves)
        print(f"  seeded {total:,} people, {len(moves):,} moves", flush=True)
        duties, checks, results, reviews, requests, crises = [], [], [], [], [], []
        obligation_id = result_id = 0
        for person in persons:
            pid, risk = person["id"], person["risk_level"]
            for month in MONTHS:
                if not person["term_start"] <= month <= (person["completed_on"] or person["expected_end"]):
                    continue
                obligation_id += 1
                status = rng.choices(("done", "missed", "pending"), (85, 10, 5))[0]
                duties.append({"id": obligation_id, "key": f"c:{pid}:{month}", "participant_id": pid,
                               "kind": "checkin", "due_on": month, "status": status, "created_at": NOW})  # fmt: skip
                if rng.random() < 0.8:
                    checks.append({"participant_id": pid, "month": f"{month:%Y-%m}", "outcome": "present",
                                   "checked_on": month + timedelta(days=2), "recorded_by": 1,
                                   "recorded_at": NOW})  # fmt: skip
                tested = risk == "high" or (risk == "medium" and month.month % 3 == 0)
                unannounced = risk == "high" and rng.random() < 0.1
                for kind in ("test",) * tested + ("random_test",) * unannounced:
                    obligation_id += 1
                    day = month + timedelta(days=5 if kind == "test" else rng.randrange(1, 15))
                    duties.append({"id": obligation_id, "key": f"{kind}:{pid}:{day}", "participant_id": pid,
                                   "kind": kind, "due_on": day, "status": "done", "created_at": NOW})  # fmt: skip
                    result_id += 1
                    outcome = rng.choices(("negative", "positive", "refused", "no_show"), (90, 5, 2, 3))[0]
                    sealed = seal(json.dumps({"outcome": outcome, "place": "Trạm y tế"}), "test_result.result",
                                  row_ref(id=result_id, participant=pid))
                    results.append({"id": result_id, "participant_id": pid, "obligation_id": obligation_id,
                                    "result_enc": sealed, "taken_on": day, "recorded_by": 1,
                                    "recorded_at": NOW})  # fmt: skip
                if month.month % 3 == 0 and rng.random() < 0.8:
                    quarter = f"2026-Q{month.month // 3}"
                    sealed = seal(json.dumps({"progress": rng.choice(("good", "fair", "concerning")), "comment": ""}),
                                  "quarterly_review.assessment", row_ref(participant=pid, quarter=quarter))
                    reviews.append({"participant_id": pid, "quarter": quarter, "cadre_id": 1,
                                    "assessment_enc": sealed, "written_at": NOW})  # fmt: skip
                if rng.random() < 0.01:
                    asked = datetime.combine(month, datetime.min.time(), tzinfo=UTC) + timedelta(days=rng.randrange(20))
                    taken = rng.random() < 0.7
                    requests.append({"participant_id": pid, "kind": rng.choice(("counselling", "training", "job",
                                     "livelihood", "health", "papers")), "urgency": "normal",
                                     "status": "closed" if taken else "requested", "source": "bench",
                                     "created_at": asked, "accepted_at": asked + timedelta(hours=5) if taken else None,
                                     "outcome": rng.choice(("advised", "referred", "declined")) if taken else None,
                                     "closed_at": asked + timedelta(days=3) if taken else None})  # fmt: skip
                if rng.random() < 0.001:
                    at = datetime.combine(month, datetime.min.time(), tzinfo=UTC) + timedelta(hours=rng.randrange(400))
                    crises.append({"key": f"crisis:{pid}:{month}", "participant_id": pid, "unit_id": person["unit_id"],
                                   "kind": "crisis", "raised_at": at,
                                   "acknowledged_at": at + timedelta(minutes=rng.randrange(2, 90))})  # fmt: skip
        tables = (("obligations", ObligationRow, duties), ("in-person checks", InPersonCheckRow, checks),
                  ("results", TestResultRow, results), ("reviews", QuarterlyReviewRow, reviews),
                  ("requests", ReferralRow, requests), ("crises", EscalationRow, crises))  # fmt: skip
        for name, model, rows in tables:
            await bulk_insert(c, table(model), rows)
            print(f"  seeded {len(rows):,} {name}", flush=True)
        await sync_sequences(c, ["unit", "staff_member", "participant", "obligation", "test_result"])
        if c.dialect.name == "postgresql":
            from sqlalchemy import text

            await c.execute(text("ANALYZE"))


async def timed(app: Application, code: str, label: str, *, trend: bool = False, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        async with app.store.transaction() as repos:
            unit = await repos.units.by_code(code)
            assert unit is not None
            made = await reports.build(repos, unit, parse_period(label), TZ, NOW, trend=trend)
        times.append(time.perf_counter() - started)
    assert made.counts["under_management_end"] > 0
    return statistics.median(times)


async def run(url: str, data_dir: Path, communes: int, people: int, *, seeded: bool = False) -> None:
    app = build_application(settings_for(url, data_dir), clock=FixedClock(NOW))
    try:
        await app.migrate()
        started = time.perf_counter()
        if not seeded:
            await seed(app, communes, people)
        print(f"{app.engine.dialect.name}: a province of {communes * people:,} people "
              f"({communes} communes), seeded in {time.perf_counter() - started:.0f} s; median of 3 runs")  # fmt: skip
        with rss_window() as window:
            province = await timed(app, "P", "2026-11")
        print(f"  province, November            {province:6.2f} s   (target ≤ {PROVINCE_TARGET_S:.0f} s: "
              f"{ok(province <= PROVINCE_TARGET_S)}; peak RSS {window.peak_mb:.0f} MB)")  # fmt: skip
        cold = await timed(app, "P", "2026-11", trend=True, runs=1)
        print(f"  province, November + 12-month trend, first time {cold:6.2f} s   (settled months counted and kept)")
        warm = await timed(app, "P", "2026-11", trend=True)
        print(f"  province, November + 12-month trend, then   {warm:6.2f} s   (the console's and the PDF's; no target)")
        quarter = await timed(app, "P", "2026-Q3", runs=1)
        print(f"  province, Q3 (reviews opened)  {quarter:6.2f} s   (no target)")
        commune = await timed(app, "C000", "2026-11", runs=5) * 1000
        print(f"  one commune, November          {commune:6.0f} ms  (target ≤ {COMMUNE_TARGET_MS:.0f} ms: "
              f"{ok(commune <= COMMUNE_TARGET_MS)})")  # fmt: skip
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        await app.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--people", type=int, default=1000, help="people per commune")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_reports")
    parser.add_argument("--sqlite", action="store_true", help="also on SQLite (slow to seed)")
    parser.add_argument("--reuse", action="store_true", help="measure the PostgreSQL database a --keep run left")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database for --reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp) / "sqlite", args.communes, args.people))
        if args.postgres:
            if not args.reuse:
                asyncio.run(recreate_postgres(args.postgres))
            try:
                asyncio.run(run(args.postgres, Path(tmp) / "pg", args.communes, args.people, seeded=args.reuse))
            finally:
                if not args.keep:
                    asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
