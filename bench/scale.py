"""Benchmark: issue 19's speed targets, measured in one run and printed side by side.

Not part of the test suite; it prints one table (figure | measured | target | met?). Run:
    .venv/bin/python -m bench.scale [--quick] [--postgres-base URL] [--only webhook,planning,dispatch,morning]
Each part gets a scratch PostgreSQL database named after the base URL's server (bench_scale_*), created fresh and
dropped afterwards; never the tests' `test` database. `--quick` scales every part down (a few minutes in all); the
default sizes are the issue's (100,000 participants, 10,000 reminders: the morning alone takes over five minutes).

The parts call the other benchmarks' functions (run those for the details behind a figure):
- webhook: bench/telegram_webhook.py `measure` — a bare aiogram echo bot and ours on PostgreSQL, same fake Telegram;
- planning: bench/planning.py `measure` — the first (cold) run of a month for the population, on PostgreSQL;
- dispatch: bench/dispatch.py — one dispatcher with no rate limit (`dispatch_all`), then four `aftercare run`
  processes with no limit and at Telegram's 30/s (`fleet_scenario`);
- morning: bench/morning.py `measure`.
Figures depend on the machine and its load: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import dispatch, morning, planning, telegram_webhook
from bench.common import drop_postgres, recreate_postgres
from bot.logging import configure_logging
from tests.fakes.telegram_api import running_in_thread

DEFAULT_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PARTS = ("webhook", "planning", "dispatch", "morning")


@dataclass
class Row:
    figure: str
    measured: str
    target: str
    met: bool | None  # None: not measured


ROWS: list[Row] = []


def add(figure: str, value: float, fmt: str, target: str, met: bool) -> None:
    ROWS.append(Row(figure, "∞" if value == float("inf") else format(value, fmt), target, met))


def scratch(base: str, name: str) -> str:
    url = make_url(base).set(database=f"bench_scale_{name}")
    if url.database == "test":  # cannot happen with the prefix; kept as the rule's guard
        raise ValueError("never the tests' database")
    return url.render_as_string(hide_password=False)


def webhook(base: str, updates: int, concurrency: int) -> None:
    """bench/telegram_webhook.py's `measure`: the bare aiogram echo bot, then ours on a scratch PostgreSQL database."""
    url = scratch(base, "webhook")
    asyncio.run(recreate_postgres(url))
    try:
        figures = asyncio.run(telegram_webhook.measure(url, updates, concurrency))
    finally:
        asyncio.run(drop_postgres(url))
    ours: Any = figures["ours"]
    ratio = float(figures["ratio"])  # type: ignore[arg-type]
    add("webhook: ours ÷ bare aiogram echo (PostgreSQL)", ratio, ".2f", "≥ 0.5", ratio >= 0.5)
    add(
        f"webhook: p99 per update, {concurrency} in flight (PostgreSQL), ms",
        ours["p99"],
        ".0f",
        "≤ 50",
        ours["p99"] <= 50,
    )
    if "paced_p99" in ours:
        add(
            f"webhook: p99 per update at a steady {ours['paced_rate']:.0f}/s (PostgreSQL), ms",
            ours["paced_p99"],
            ".0f",
            "≤ 50",
            ours["paced_p99"] <= 50,
        )


def plan(base: str, participants: int) -> None:
    """bench/planning.py's own measurement (its seeding, instant and target), on a scratch PostgreSQL database."""
    figures = asyncio.run(planning.measure(scratch(base, "planning"), participants))
    seconds = figures["cold_s"]
    add(
        f"planning a month, {participants:,} people, first run (PostgreSQL), s",
        seconds,
        ".1f",
        f"≤ {planning.TARGET_SECONDS:.0f}",
        seconds <= planning.TARGET_SECONDS,
    )


def dispatching(base: str, rows: int, limited_rows: int, processes: int) -> None:
    url = scratch(base, "dispatch")
    asyncio.run(recreate_postgres(url))
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            running_in_thread(lambda: dispatch.WindowedTelegram(token=dispatch.TOKEN)) as fake,
        ):
            one = asyncio.run(dispatch.dispatch_all(url, Path(tmp), fake, dispatch.UNLIMITED, rows, "reminder"))
        rate = one.sent / one.wall
        add("dispatch, 1 process, no rate limit, messages/s", rate, ".0f", "≥ 500", rate >= 500 and one.finished)
        sends, _, finished = asyncio.run(dispatch.fleet_scenario(url, rows, processes, None))
        add(
            f"dispatch, {processes} processes, no rate limit, messages/s",
            sends.rate,
            ".0f",
            "≥ 500",
            sends.rate >= 500 and finished,
        )
        limit = 30
        sends, _, finished = asyncio.run(dispatch.fleet_scenario(url, limited_rows, processes, limit))
        share = sends.rate / limit
        add(f"dispatch, {processes} processes, Telegram at 30/s: share of 30/s", share * 100, ".0f", "≥ 95 %",
            share >= 0.95 and finished)  # fmt: skip
        add(f"dispatch, {processes} processes, 30/s: 429s", sends.refused, "d", "0", sends.refused == 0)
        add(f"dispatch, {processes} processes: duplicates", sends.duplicates, "d", "0", sends.duplicates == 0)
    finally:
        asyncio.run(drop_postgres(url))


def morning_peak(base: str, participants: int, reminders: int, processes: int) -> None:
    figures = morning.measure(scratch(base, "morning"), participants, reminders, processes)
    burst = figures.get("burst_seconds", float("inf"))
    due = int(figures.get("burst", reminders))
    ideal = due / morning.PER_SECOND
    add(f"morning: {due:,} reminders, {processes} processes: last one out, s", burst, ".0f",
        f"≈ {ideal:.0f} (at 30/s)", burst <= ideal * 1.1)  # fmt: skip
    add("morning: 429s during the burst", figures.get("refused", float("inf")), ".0f", "0",
        figures.get("refused") == 0)  # fmt: skip
    reply, alert = figures.get("reply", float("inf")), figures.get("alert", float("inf"))
    add("morning: crisis message answered, s", reply, ".2f", "≤ 2", reply <= morning.REPLY_WITHIN)
    add("morning: crisis alert at the counsellor, s", alert, ".2f", "≤ 5", alert <= morning.ALERT_WITHIN)


def print_table() -> None:
    width = max(len(row.figure) for row in ROWS)
    print()
    print(f"{'figure':<{width}} | {'measured':>9} | {'target':<16} | met?")
    print(f"{'-' * width}-+-{'-' * 9}-+-{'-' * 16}-+-------")
    for row in ROWS:
        met = "—" if row.met is None else ("met" if row.met else "NOT met")
        print(f"{row.figure:<{width}} | {row.measured:>9} | {row.target:<16} | {met}")
    load = os.getloadavg()
    print(f"\nload average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every part scaled down (a few minutes)")
    parser.add_argument("--postgres-base", default=DEFAULT_BASE, help="any URL of the server; databases are made")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    configure_logging(json_logs=False, level=logging.WARNING)
    quick = args.quick
    people = 10_000 if quick else 100_000
    started = time.perf_counter()
    for part in parts:
        print(f"== {part}", flush=True)
        try:
            if part == "webhook":
                webhook(args.postgres_base, 500 if quick else 2000, 16)
            elif part == "planning":
                plan(args.postgres_base, people)
            elif part == "dispatch":
                dispatching(args.postgres_base, 2000 if quick else 10_000, 300 if quick else 600, args.processes)
            elif part == "morning":
                morning_peak(args.postgres_base, people, 1000 if quick else 10_000, args.processes)
        except Exception as exc:  # one part failing still prints the others
            ROWS.append(Row(f"{part}: failed ({type(exc).__name__}: {str(exc)[:60]})", "—", "", None))
    print_table()
    print(f"({time.perf_counter() - started:.0f} s in all{', --quick sizes' if quick else ''})")


if __name__ == "__main__":
    main()
