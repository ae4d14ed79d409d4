"""Benchmark: conversations with a counsellor through the bot, on SQLite and PostgreSQL.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.relay [--people 200] [--concurrency 20]
Set AFTERCARE_TEST_POSTGRES_URL (an admin URL) to also measure PostgreSQL; a scratch database is created and dropped.

What is measured: a person's message into their conversation through the whole conversation engine (crisis check,
routing, encryption, outbox row, state saved), many people at once; a counsellor's reply (store, first-reply time,
outbox row) in its own transaction; and rendering one queued push (read, checks, decrypt) as the dispatcher does.
Targets: a relayed message ≤ 50 ms p95 (one at a time; with 20 people writing at once the figures show the queueing
on one process), a push rendered ≤ 10 ms p95.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import ok, settings_for
from bench.conversation import _report, _timed
from bot.app import Application, build_application
from bot.core.messages import InboundMessage
from bot.domain.entities import RiskLevel, Role
from bot.scheduler.texts import Renderer
from bot.services import relay
from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url


async def _seed(app: Application, people: int) -> tuple[list[str], int]:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("P", "Tỉnh Thử", None)
        await service.add_unit("C", "Xã Thử", "P")
        point = await service.add_point("C", "Điểm tư vấn", "", "", "")  # no fixed hours: always open
        counsellor, _ = await service.add_staff("Tư vấn viên", Role.COUNSELLOR, "C", point.id, "vi")
        await repos.staff.set_duty(counsellor.id, True)
        codes = []
        for i in range(people):
            _, invite = await service.add_participant(
                name=f"Người {i}", unit_code="C", start=date(2026, 1, 1), term_months=12, cadre_id=None,
                risk=RiskLevel.MEDIUM, language="vi",
            )  # fmt: skip
            codes.append(invite.code)
    return codes, counsellor.id


async def _run(url: str, data_dir: Path, people: int, concurrency: int) -> tuple[float, float]:
    # One person and one counsellor exchange hundreds of messages in seconds: the flood guard is not what is measured.
    app = build_application(settings_for(url, data_dir, inbound_per_minute=0))
    await app.migrate()
    try:
        codes, counsellor_id = await _seed(app, people)
        engine = app.conversation

        def msg(chat: int, text: str | None = None, action: str | None = None) -> InboundMessage:
            return InboundMessage(channel="bench", external_user_id=f"u{chat}", text=text, action=action)

        async def ask(i: int) -> None:
            await engine.handle(msg(i, text=codes[i]))
            for action in ("consent:yes", "consent:yes", "consent:yes", "lang:vi", "help:menu", "help:talk"):
                await engine.handle(msg(i, action=action))

        for batch in range(0, people, concurrency):
            await asyncio.gather(*(ask(i) for i in range(batch, min(people, batch + concurrency))))
        async with app.store.transaction() as repos:
            referrals = [await repos.referrals.relay_of(pid) for pid in range(1, people + 1)]
            for referral in referrals:
                assert referral is not None
                await repos.referrals.accept(referral.id, counsellor_id)

        samples: list[float] = []
        start = time.perf_counter()
        for batch in range(0, people, concurrency):
            await asyncio.gather(
                *(
                    _timed(samples, lambda i=i: engine.handle(msg(i, text="Dạo này em khó ngủ, anh chị ơi.")))
                    for i in range(batch, min(people, batch + concurrency))
                )
            )
        _report(f"person → conversation (x{concurrency})", samples, time.perf_counter() - start)
        samples = []
        start = time.perf_counter()
        for i in range(min(people, 100)):
            await _timed(samples, lambda i=i: engine.handle(msg(i, text="Em cảm ơn anh chị.")))
        _report("person → conversation, one at a time", samples, time.perf_counter() - start)
        relayed = sorted(samples)[int(0.95 * len(samples))] * 1000

        samples = []
        start = time.perf_counter()
        for referral in referrals:
            assert referral is not None

            async def reply(referral_id: int = referral.id) -> None:
                async with app.store.transaction() as repos:
                    live = await repos.referrals.get(referral_id)
                    assert live is not None
                    await relay.from_counsellor(repos, live, counsellor_id, "Mình nghe đây.", app.clock.now())

            await _timed(samples, reply)
        _report("counsellor reply (one transaction)", samples, time.perf_counter() - start)

        renderer = Renderer(app.catalogs, ZoneInfo(app.settings.timezone))
        samples = []
        start = time.perf_counter()
        async with app.store.transaction() as repos:
            claimed = await repos.outbox.claim(app.clock.now() + timedelta(hours=1), 10 * people, timedelta(minutes=5))
            pushes = [item for item in claimed if item.kind.value == "relay"]
            for item in pushes:
                await _timed(samples, lambda item=item: renderer.render(repos, item, app.clock.now()))
        _report(f"render a push ({len(pushes)} rows)", samples, time.perf_counter() - start)
        rendered = sorted(samples)[int(0.95 * len(samples))] * 1000
        return relayed, rendered
    finally:
        await app.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("SQLite", lambda: sqlite_url(Path(tmp)))]
        base = postgres_base_url()
        for name, make_url in runs:
            print(f"{name} ({args.people} people):")
            relayed, rendered = asyncio.run(_run(make_url(), Path(tmp), args.people, args.concurrency))
            print(f"  targets: relayed p95 ≤ 50 ms {ok(relayed <= 50)}, push rendered p95 ≤ 10 ms {ok(rendered <= 10)}")
        if base:
            with postgres_database(base) as url:
                print(f"PostgreSQL ({args.people} people):")
                relayed, rendered = asyncio.run(_run(url, Path(tmp), args.people, args.concurrency))
                print(
                    f"  targets: relayed p95 ≤ 50 ms {ok(relayed <= 50)}, "
                    f"push rendered p95 ≤ 10 ms {ok(rendered <= 10)}"
                )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the benchmark process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
