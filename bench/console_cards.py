"""Benchmark: printing 200 invite cards as one PDF, as the console's "Thẻ mời" and `participant cards` do it.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.console_cards [--cards 200] [--listed 500] [--postgres URL | --postgres ''] [--no-sqlite]

Why: after an import the officer prints the new people's cards (the import page links them 200 at a time) and waits
on the page for the PDF. Each card is a new code (the old one revoked, an audit entry), the person's name decrypted,
a QR code of the Telegram deep link drawn, and WeasyPrint lays out ⌈n/8⌉ A4 pages. Target (issue 16): 200 invite
cards as PDF ≤ 15 s.

What is seeded (bench/common.py): commune "C" with `--listed` people followed; the first `--cards` of them get cards.
The deep link is built as the Telegram channel builds it, without asking a Bot API for the bot's name.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import StatementTimer, drop_postgres, ok, recreate_postgres, rss_window, seed_population, settings_for
from bot.app import build_application
from bot.core.clock import FixedClock
from bot.services import invite_cards
from bot.services.operators import Operator

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
TODAY = date(2026, 12, 1)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TARGET_S = 15.0


def deep_link(code: str) -> str:
    return f"https://t.me/dong_hanh_bench_bot?start={code.replace('-', '')}"


async def run(url: str, data_dir: Path, cards: int, listed: int) -> None:
    app = build_application(settings_for(url, data_dir), clock=FixedClock(NOW))
    try:
        await app.migrate()
        await seed_population(app, listed, TODAY, NOW)
        async with app.store.transaction() as repos:
            unit = await repos.units.by_code("C")
            assert unit is not None
            ids = [p.id for p in await repos.participants.followed(unit.id)][:cards]
        print(f"{app.engine.dialect.name}: {len(ids)} cards for a commune of {listed}")
        operator = Operator(None, "bench")
        with rss_window() as memory, StatementTimer(app.engine) as timer:
            started = time.perf_counter()
            async with app.store.transaction() as repos:
                made = await invite_cards.issue_cards(
                    repos, app.enrolment(repos, operator), app.catalogs, ids, operator=operator, deep_link=deep_link
                )
            issued_s = time.perf_counter() - started
            printed = await invite_cards.render(made, ZONE, ids)
            total_s = time.perf_counter() - started
        assert printed.cards == len(ids) and printed.pages == -(-len(ids) // 8)
        print(f"  {'new codes, names, audit':<30}{issued_s:6.2f} s  (SQL {timer.statements} statements)")
        print(f"  {'QR codes and PDF layout':<30}{total_s - issued_s:6.2f} s")
        target = f"target ≤ {TARGET_S:.0f} s: {ok(total_s <= TARGET_S)}"
        print(f"  {f'{printed.cards} cards as PDF, in all':<30}{total_s:6.2f} s  ({target})")
        size = len(printed.pdf) / 1024
        print(f"  {printed.pages} A4 pages, {size:.0f} KB; per card {total_s / len(ids) * 1000:.0f} ms")
        print(f"  peak RSS {memory.peak_mb:.0f} MB (at start {memory.start_mb:.0f} MB)")
    finally:
        await app.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--listed", type=int, default=500)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_console_cards")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp) / "sqlite", args.cards, args.listed))
        if args.postgres:
            asyncio.run(recreate_postgres(args.postgres))
            try:
                asyncio.run(run(args.postgres, Path(tmp) / "pg", args.cards, args.listed))
            finally:
                asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
