"""Benchmark: plan a month for 100,000 participants (Planner.run) on SQLite and PostgreSQL.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.planning [--participants 100000] [--postgres URL | --postgres ''] [--no-sqlite]
The PostgreSQL database in --postgres (default .../bench_plan) is dropped and created again, and dropped at the end
unless --keep.

Why: the planner runs every minute (`plan_interval_seconds`) over every active participant, page by page. It must
finish well inside the interval at the size of a province (targets: ≤ 30 s and ≤ 300 MB peak RSS for 100,000
people), both the first time, when every obligation and reminder of the horizon is inserted ("cold"), and on the
runs after, when nothing changes and it only reads ("warm").

What is seeded (bulk inserts, see bench/common.py): N active participants in one commune with a Telegram chat each,
terms of 12 or 24 months that started over the last two years and are still running (plus the ~N/365 whose term
ended yesterday, which the planner completes one by one, as it would each morning), mixed risk (half low, 30 % medium,
20 % high: periodic tests for medium and high, one random draw per quarter for high), one cadre per 250 people, an
officer. The cold run materialises the horizon (from the start of last month to 35 days ahead). Between the cold and
the warm run, everything due before today is marked done, as the people would have done it; --missed-percent leaves
that share of people's past obligations open, and the run after then marks them missed and escalates each one
(timed separately as "missed"; --missed-percent 100 is the first run after deploying with an existing caseload).
On PostgreSQL, ANALYZE runs after the seeding and after that step, standing in for autovacuum.

Figures per phase: wall time; time inside SQL statements (cursor execute, waits for the server included) against the
rest, which is Python; rows created; what the planner reported. Memory: the peak RSS of each phase is this process's
high-water mark, reset at the start of the phase (so the seeding does not count), next to the RSS at its start; the
interpreter and its libraries are in both (importing the application alone takes ~220 MB, aiogram most of it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.common import (
    RssWindow,
    StatementTimer,
    analyze,
    count_rows,
    drop_postgres,
    lifetime_peak_mb,
    ok,
    recreate_postgres,
    rss_window,
    seed_population,
    settings_for,
)
from bot.app import Application, build_application
from bot.core.clock import FixedClock
from bot.logging import configure_logging
from bot.scheduler.planner import PlanReport

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_plan"
DEFAULT_AT = "2026-11-23T09:00:00+07:00"  # a Monday morning in Hà Nội; check-ins are due on the 10th
TABLES = ("obligation", "outbox", "escalation", "audit_event")
TARGET_SECONDS = 30.0
TARGET_MB = 300.0


def _print_phase(
    label: str,
    seconds: float,
    created: dict[str, int],
    report: PlanReport,
    rss: RssWindow,
    sql: StatementTimer,
    *,
    targets: bool,
    top: int,
) -> None:
    verdict = (
        f"  [≤ {TARGET_SECONDS:.0f} s: {ok(seconds <= TARGET_SECONDS)}; ≤ {TARGET_MB:.0f} MB: "
        f"{ok(rss.peak_mb <= TARGET_MB)}]"
        if targets
        else ""
    )
    print(
        f"  {label:<6} {seconds:6.1f} s  peak RSS {rss.peak_mb:4.0f} MB (at start {rss.start_mb:4.0f} MB, "
        f"+{rss.peak_mb - rss.start_mb:.0f} MB){verdict}"
    )
    print(
        f"         in SQL {sql.seconds:5.1f} s over {sql.statements:,} statements, "
        f"in Python {seconds - sql.seconds:5.1f} s"
    )
    print("         rows created: " + ", ".join(f"{name} +{n:,}" for name, n in created.items()))
    figures = {k: v for k, v in asdict(report).items() if v and k != "extra"}
    print(f"         planner report: {figures or 'nothing to do'}")
    for shape, count, took in sql.top(top):
        print(f"           {took:6.2f} s {count:7,}x  {shape}")


async def _phase(
    app: Application,
    label: str,
    run: Callable[[], Awaitable[PlanReport]],
    *,
    targets: bool = True,
    top: int = 0,
    quiet: bool = False,
) -> dict[str, float]:
    before = await count_rows(app, TABLES)
    gc.collect()
    with rss_window() as rss, StatementTimer(app.engine) as sql:
        start, cpu_start = time.perf_counter(), time.process_time()
        report = await run()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    after = await count_rows(app, TABLES)
    created = {name: after[name] - before[name] for name in TABLES}
    if not quiet:
        _print_phase(label, seconds, created, report, rss, sql, targets=targets, top=top)
        print(f"         CPU of this process {cpu:5.1f} s (on a busy machine, the wall time is longer than the work)")
    return {
        f"{label}_s": seconds,
        f"{label}_cpu_s": cpu,
        f"{label}_sql_s": sql.seconds,
        f"{label}_peak_mb": rss.peak_mb,
    }


async def _history(app: Application, now: datetime, missed_percent: int) -> tuple[int, float]:
    """What the people did since the cold run: everything due before today is done, except the obligations of the
    participants whose id mod 100 is below `missed_percent`, which stay open (and become missed on the next run)."""
    today = now.astimezone(ZoneInfo(app.settings.timezone)).date()
    start = time.perf_counter()
    async with app.engine.begin() as connection:
        result = await connection.execute(
            text(
                "UPDATE obligation SET status = 'done', done_at = :now "
                "WHERE status = 'pending' AND due_on < :today AND participant_id % 100 >= :missed"
            ),
            {"now": now, "today": today, "missed": missed_percent},
        )
    return int(result.rowcount or 0), time.perf_counter() - start


async def _run(label: str, url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    now = datetime.fromisoformat(args.at)
    settings = settings_for(url, data_dir)
    app = build_application(settings, clock=FixedClock(now))
    planner = app.scheduler.planner
    try:
        await app.migrate()
        today = now.astimezone(ZoneInfo(settings.timezone)).date()
        ended = args.participants // 365 if args.ended_yesterday is None else args.ended_yesterday
        start = time.perf_counter()
        population = await seed_population(app, args.participants, today, now, ended_yesterday=ended)
        seeded = time.perf_counter() - start
        postgres = app.engine.dialect.name == "postgresql"
        if postgres:
            await analyze(app)
        quiet = getattr(args, "quiet", False)
        figures: dict[str, float] = {"participants": args.participants, "seeded_s": seeded}
        if not quiet:
            print(
                f"{label}: {args.participants:,} active participants ({ended:,} whose term ended yesterday), "
                f"{len(population.cadres)} cadres, planning at {now.isoformat()}; seeded in {seeded:.1f} s"
            )
        figures |= await _phase(app, "cold", lambda: planner.run(now), top=args.statements, quiet=quiet)
        done, took = await _history(app, now, args.missed_percent)
        if postgres:
            await analyze(app)
        if not quiet:
            print(f"  (bench step: {done:,} obligations due before today marked done in {took:.1f} s)")
        if args.missed_percent:
            missed = await _phase(
                app, "missed", lambda: planner.run(now), targets=False, top=args.statements, quiet=quiet
            )
            figures |= missed
        figures |= await _phase(app, "warm", lambda: planner.run(now), top=args.statements, quiet=quiet)
        return figures
    finally:
        await app.aclose()


async def measure(
    database_url: str | None = None, participants: int = 100_000, *, at: str = DEFAULT_AT, missed_percent: int = 0
) -> dict[str, float]:
    """The figures of one database, for other benchmarks (bench/scale.py): seconds of the cold and the warm run
    (`cold_s`, `warm_s`; and `missed_s` with `missed_percent`), the part of each inside SQL (`cold_sql_s`, …), the
    CPU this process used (`cold_cpu_s`, …: the server's is not in it), each phase's peak RSS in MB
    (`cold_peak_mb`, …), `seeded_s` and `participants`. Prints nothing.

    `database_url`: None (or a SQLite URL: its file is not used) plans on SQLite in a temporary directory; a
    PostgreSQL URL names a scratch database, which is DROPPED and created again, and dropped afterwards."""
    args = argparse.Namespace(
        participants=participants, at=at, ended_yesterday=None, missed_percent=missed_percent, statements=0,
        quiet=True,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        if database_url is None or database_url.startswith("sqlite"):
            return await _run("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args)
        await recreate_postgres(database_url)
        try:
            return await _run("PostgreSQL", database_url, Path(tmp), args)
        finally:
            await drop_postgres(database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--at", default=DEFAULT_AT, help="the planning instant (ISO 8601 with offset)")
    parser.add_argument(
        "--ended-yesterday", type=int, default=None, help="participants whose term ended yesterday (default N/365)"
    )
    parser.add_argument(
        "--missed-percent",
        type=int,
        default=0,
        help="share of people who left last weeks' obligations open (escalated one by one in a timed extra run)",
    )
    parser.add_argument("--statements", type=int, default=0, help="list the N statements that took longest")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args()
    configure_logging(json_logs=False, level=logging.INFO)
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_run("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args))
    if args.postgres:
        asyncio.run(recreate_postgres(args.postgres))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                asyncio.run(_run("PostgreSQL", args.postgres, Path(tmp), args))
        finally:
            if not args.keep:
                asyncio.run(drop_postgres(args.postgres))
    print(f"peak RSS of the whole benchmark process (seeding included): {lifetime_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
