"""Benchmark: messages through the conversation core (linking, consent, menus) on SQLite and PostgreSQL.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.conversation [--people 300] [--concurrency 20]
Set AFTERCARE_TEST_POSTGRES_URL (an admin URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) to also
measure PostgreSQL; a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from bot.app import Application, build_application
from bot.config import Settings
from bot.core.messages import InboundMessage
from bot.domain.entities import RiskLevel, Role
from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url

KEY = base64.urlsafe_b64encode(bytes(32)).decode()


async def _seed(app: Application, people: int) -> list[str]:
    codes: list[str] = []
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("P", "Tỉnh Thử", None)
        await service.add_unit("C", "Xã Thử", "P")
        cadre, _ = await service.add_staff("Cán bộ", Role.CADRE, "C", None, "vi")
        for i in range(people):
            _, invite = await service.add_participant(
                name=f"Người {i}",
                unit_code="C",
                start=date(2026, 1, 1),
                term_months=12,
                cadre_id=cadre.id,
                risk=RiskLevel.MEDIUM,
                language="vi",
            )
            codes.append(invite.code)
    return codes


async def _timed(samples: list[float], call: Callable[[], Awaitable[object]]) -> None:
    start = time.perf_counter()
    await call()
    samples.append(time.perf_counter() - start)


def _report(label: str, samples: list[float], wall: float) -> None:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    print(
        f"  {label:<34} n={len(samples):>5}  p50={p(0.50):6.1f} ms  p95={p(0.95):6.1f} ms  "
        f"p99={p(0.99):6.1f} ms  mean={statistics.fmean(samples) * 1000:6.1f} ms  "
        f"throughput={len(samples) / wall:7.1f} msg/s"
    )


async def _run(url: str, data_dir: Path, people: int, concurrency: int) -> None:
    settings = Settings(_env_file=None, database_url=url, data_dir=data_dir, encryption_key=KEY)  # type: ignore[call-arg,arg-type]
    app = build_application(settings)
    await app.migrate()
    try:
        codes = await _seed(app, people)
        engine = app.conversation

        def msg(chat: int, text: str | None = None, action: str | None = None) -> InboundMessage:
            return InboundMessage(channel="bench", external_user_id=f"u{chat}", text=text, action=action)

        async def onboard(i: int, samples: list[float]) -> None:
            await _timed(samples, lambda: engine.handle(msg(i, text=codes[i])))
            for action in ("consent:yes", "consent:yes", "consent:yes", "lang:vi"):
                await _timed(samples, lambda a=action: engine.handle(msg(i, action=a)))

        async def browse(i: int, samples: list[float]) -> None:
            for action in ("menu:info", "menu:home", "menu:settings", "menu:home"):
                await _timed(samples, lambda a=action: engine.handle(msg(i, action=a)))

        for label, step in (("link + consent + language", onboard), ("menu navigation", browse)):
            samples: list[float] = []
            start = time.perf_counter()
            for batch in range(0, people, concurrency):
                await asyncio.gather(*(step(i, samples) for i in range(batch, min(people, batch + concurrency))))
            _report(f"{label} (x{concurrency} chats)", samples, time.perf_counter() - start)

        samples = []
        start = time.perf_counter()
        for i in range(min(people, 100)):
            await _timed(samples, lambda i=i: engine.handle(msg(i, text="xin chào")))
        _report("free text, one chat at a time", samples, time.perf_counter() - start)
    finally:
        await app.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({args.people} people):")
        asyncio.run(_run(sqlite_url(Path(tmp)), Path(tmp), args.people, args.concurrency))
        base = postgres_base_url()
        if base:
            with postgres_database(base) as url:
                print(f"PostgreSQL ({args.people} people):")
                asyncio.run(_run(url, Path(tmp), args.people, args.concurrency))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the benchmark process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
