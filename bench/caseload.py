"""Benchmark: the cadre's and the officer's list and card, through the conversation engine, on SQLite and PostgreSQL.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.caseload [--participants 2000] [--postgres URL | --postgres ''] [--no-sqlite]

Why: "Người tôi phụ trách" is what a cadre opens most, on a cheap phone, between visits; an officer's commune list
is the same screen over the whole commune. Each press is one message: identity, state, the scoped list (every name
decrypted, then ranked from six grouped queries: overdue, next due, last check-in, risk flags, open alerts), the
reply. Targets: a cadre's list of 250 people ≤ 300 ms at p95, an officer's list of 2,000 ≤ 1.5 s at p95, a card
≤ 150 ms at p95 (the platform's own round trip is on top of these).

What is seeded (bench/common.py): N active people in one commune with chats, one cadre per 250 and an officer, all
with chats; one planner run materialises their obligations (check-ins, tests, random draws) so the status queries
have real rows to group.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    FIRST_STAFF_CHAT,
    drop_postgres,
    ok,
    recreate_postgres,
    rss_window,
    seed_population,
    settings_for,
)
from bot.app import build_application
from bot.core.clock import FixedClock
from bot.core.messages import InboundMessage, OutboundMessage
from bot.flows import caseload

NOW = datetime(2026, 12, 12, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
ROUNDS = 20


async def _timed(
    handle: Callable[[InboundMessage], Awaitable[list[OutboundMessage]]],
    message: InboundMessage,
    rounds: int,
    before: InboundMessage | None = None,
) -> list[float]:
    """Wall time of handling `message`, `rounds` times; `before` (untimed) brings the chat back to where the button
    is offered (the engine accepts only the buttons it last showed)."""
    took = []
    for _ in range(rounds):
        if before is not None:
            await handle(before)
        started = time.perf_counter()
        replies = await handle(message)
        took.append((time.perf_counter() - started) * 1000)
        assert replies and replies[0].buttons, replies
    return took


def _line(name: str, took: list[float], target_ms: float) -> str:
    p50 = statistics.median(took)
    p95 = sorted(took)[max(0, int(len(took) * 0.95) - 1)]
    return f"  {name:<34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (target ≤ {target_ms:.0f} ms: {ok(p95 <= target_ms)})"


async def run(url: str, data_dir: Path, participants: int) -> None:
    # One cadre's chat sends hundreds of messages at one instant here: the per-chat flood guard is not what is measured.
    app = build_application(settings_for(url, data_dir, inbound_per_minute=0), clock=FixedClock(NOW))
    try:
        await app.migrate()
        population = await seed_population(app, participants, NOW.date(), NOW)
        await app.scheduler.planner.run(NOW)
        assert population.officer is not None
        cadre_chat = str(FIRST_STAFF_CHAT + population.cadres[0])
        officer_chat = str(FIRST_STAFF_CHAT + population.officer)
        handle = app.conversation.handle
        menu = {chat: InboundMessage("telegram", chat, text="/menu") for chat in (cadre_chat, officer_chat)}
        chats = (cadre_chat, officer_chat)
        listing = {chat: InboundMessage("telegram", chat, action=caseload.Verbs.LIST) for chat in chats}
        print(f"{app.engine.dialect.name}: {participants} people, {len(population.cadres)} cadres")
        with rss_window() as memory:
            cadre_list = await _timed(handle, listing[cadre_chat], ROUNDS, menu[cadre_chat])
            officer_list = await _timed(handle, listing[officer_chat], ROUNDS, menu[officer_chat])
            card = InboundMessage("telegram", cadre_chat, action=caseload.Verbs.OPEN(population.first_participant))
            cards = await _timed(handle, card, ROUNDS, listing[cadre_chat])
            search = await _timed(
                handle, InboundMessage("telegram", cadre_chat, text="nvt"), ROUNDS, listing[cadre_chat]
            )
        print(_line(f"cadre list ({participants // len(population.cadres)} people)", cadre_list, 300))
        print(_line(f"officer list ({participants} people)", officer_list, 1500))
        print(_line("card", cards, 150))
        print(_line("search by initials", search, 300))
        print(f"  peak RSS {memory.peak_mb:.0f} MB (at start {memory.start_mb:.0f} MB)")
    finally:
        await app.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_caseload")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp) / "sqlite", args.participants))
        if args.postgres:
            asyncio.run(recreate_postgres(args.postgres))
            try:
                asyncio.run(run(args.postgres, Path(tmp) / "pg", args.participants))
            finally:
                asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
