"""Benchmark: a flood of maximum-length messages through the Telegram webhook, and /healthz while it lasts.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.flood [--messages 200] [--concurrency 50] [--length 4096]
With AFTERCARE_TEST_POSTGRES_URL set, PostgreSQL is measured too (a scratch database is created and dropped).

The bot runs in its own process (as in production, see bench.telegram_webhook, whose child it reuses); this process
plays Telegram and an uptime monitor at once: `--messages` updates of `--length` characters (4,096 is the longest text
Telegram delivers) from distinct linked chats, `--concurrency` at a time, while /healthz is asked every 100 ms.
Reference (before issue 13, same machine): 200 messages of 4,096 characters gave a p95 of 16 s per update and a
/healthz p95 of 2.8 s, because the crisis matcher ran quadratic work inside the one SQLite write transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.telegram_webhook import TOKEN, _free_port, _wait_healthy, text_update
from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url
from tests.fakes.telegram_api import FakeTelegram, running

TARGET_P95_S = 2.0  # per update, under the flood
TARGET_HEALTH_P95_S = 0.25  # an uptime monitor must not think the process is dead
SENTENCE = (
    "hôm nay mình đi làm về muộn, trời mưa to, đường ngập nước nhưng mọi việc vẫn ổn; cảm ơn cán bộ đã hỏi thăm. "
)


def _text(length: int, seed: int) -> str:
    """Ordinary words (no crisis phrase), a different start per update."""
    offset = seed % len(SENTENCE)
    return (SENTENCE * (length // len(SENTENCE) + 2))[offset : offset + length]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] if ordered else float("nan")


async def _flood(port: int, secret: str, messages: int, concurrency: int, length: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    ids = itertools.count(5_000_000)
    latencies: list[float] = []
    health: list[float] = []
    failures = 0
    done = asyncio.Event()

    async def sender(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        while (n := next(ids)) < 5_000_000 + messages:
            update = text_update(n, _text(length, n))
            start = time.perf_counter()
            async with http.post(url, json=update, headers=headers) as response:
                await response.read()
                failures += response.status != 200
            latencies.append(time.perf_counter() - start)

    async def monitor(http: aiohttp.ClientSession) -> None:
        while not done.is_set():
            start = time.perf_counter()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                await response.read()
            health.append(time.perf_counter() - start)
            await asyncio.sleep(0.1)  # an uptime monitor's polling interval, not a wait for a schedule

    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency + 1)) as http:
        watching = asyncio.create_task(monitor(http))
        await asyncio.gather(*(sender(http) for _ in range(concurrency)))
        done.set()
        await watching
    wall = time.perf_counter() - start
    return {
        "p95": _p95(latencies),
        "max": max(latencies),
        "health_p95": _p95(health),
        "health_max": max(health) if health else float("nan"),
        "wall": wall,
        "failures": failures,
    }


async def measure(database_url: str, messages: int, concurrency: int, length: int) -> dict[str, float]:
    async with running(FakeTelegram(token=TOKEN)) as fake:
        port = _free_port()
        with tempfile.TemporaryDirectory() as data_dir:
            command = ["-m", "bench.telegram_webhook", "--child", "ours", fake.base_url, str(port), database_url]
            process = subprocess.Popen(
                [sys.executable, *command, data_dir],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "AFTERCARE_LOG_FORMAT": "json"},
            )
            try:
                await _wait_healthy(port, process)
                return await _flood(port, fake.webhook_secret, messages, concurrency, length)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()


def _print(label: str, f: dict[str, float]) -> None:
    print(
        f"  {label:<22} update p95 {f['p95']:6.2f} s (target ≤ {TARGET_P95_S} s, before 16 s)  max {f['max']:6.2f} s"
        f"  |  /healthz p95 {f['health_p95'] * 1000:6.0f} ms (target ≤ {TARGET_HEALTH_P95_S * 1000:.0f} ms, "
        f"before 2,800 ms)  max {f['health_max'] * 1000:6.0f} ms  |  {f['wall']:5.1f} s in all, non-200: "
        f"{f['failures']:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--length", type=int, default=4096)
    args = parser.parse_args()
    print(f"{args.messages} updates of {args.length} characters, {args.concurrency} at once, 2-core machine")
    with tempfile.TemporaryDirectory() as tmp:
        _print("SQLite", asyncio.run(measure(sqlite_url(Path(tmp)), args.messages, args.concurrency, args.length)))
    base = postgres_base_url()
    if base:
        with postgres_database(base) as url:
            _print("PostgreSQL", asyncio.run(measure(url, args.messages, args.concurrency, args.length)))


if __name__ == "__main__":
    main()
