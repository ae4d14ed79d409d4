"""Benchmark: Telegram webhook updates per second through the whole stack, against a bare aiogram echo bot.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.telegram_webhook [--updates 2000] [--concurrency 16] [--paced 1000 --rate 100]
With AFTERCARE_TEST_POSTGRES_URL set (or --postgres URL), PostgreSQL is measured too (a scratch database is created on
that server and dropped). For each database the echo bot and ours are measured one right after the other (the machine
may be shared: the load average is printed with them), each with `concurrency` updates in flight (throughput; latency
then includes the queue: at 16 in flight, p99 ≥ 16 / throughput), then `paced` updates at a steady rate (latency of an
update when the bot keeps up). Other benchmarks call `measure(database, …)` for the same figures as a dict.

The bot under test runs in its own process (as in production); this process plays Telegram: it serves the fake Bot
API the bot replies to, and POSTs updates to the bot's webhook with the secret header. Ours does for every update:
secret check → dedupe claim → identity → conversation state → handler → reply with fresh button tokens → sendMessage.
The echo bot does: aiogram Dispatcher → handler → sendMessage.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url
from tests.fakes.telegram_api import FakeTelegram, running

TOKEN = "123456789:AAE-benchmark-token-for-the-fake-api"
SECRET = "bench-secret-0123456789"
PEOPLE = 200
FIRST_USER = 1_000_000


# ---- the bots (child process) ----------------------------------------------------------------------------------


async def build_ours(api_url: str, port: int, database_url: str, data_dir: str) -> Any:
    """The application with PEOPLE linked chats and its webhook registered with the fake (which must be running)."""
    from bot.app import build_application
    from bot.channels.telegram import webhook
    from bot.config import Settings
    from bot.core.messages import InboundMessage
    from bot.domain.entities import RiskLevel

    key = base64.urlsafe_b64encode(bytes(32)).decode()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=Path(data_dir),
        encryption_key=key,  # type: ignore[arg-type]
        telegram_token=TOKEN,
        telegram_api_url=api_url,  # type: ignore[arg-type]
        public_url=f"http://127.0.0.1:{port}",
        webhook_secret=SECRET,  # type: ignore[arg-type]
        http_port=port,
    )
    app = build_application(settings)
    await app.migrate()
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("P", "Tỉnh", None)
        await service.add_unit("C", "Xã", "P")
        codes = []
        for i in range(PEOPLE):
            _, invite = await service.add_participant(
                name=f"Người {i}",
                unit_code="C",
                start=__import__("datetime").date(2026, 1, 1),
                term_months=12,
                cadre_id=None,
                risk=RiskLevel.LOW,
                language="vi",
            )
            codes.append(invite.code)
    for i, code in enumerate(codes):  # link every person through the core, as if they had onboarded
        user = str(FIRST_USER + i)
        await app.conversation.handle(InboundMessage("telegram", user, text=code, external_chat_id=user))
        for action in ("consent:yes", "consent:yes", "consent:yes", "lang:vi"):
            await app.conversation.handle(InboundMessage("telegram", user, action=action, external_chat_id=user))
    assert app.telegram is not None
    await app.telegram.prepare()
    await webhook.register(app.telegram, settings.public_url or "", app.secrets.webhook_secret_for("telegram"))
    return app


async def serve_ours(api_url: str, port: int, database_url: str, data_dir: str, profiler: Any = None) -> None:
    import uvicorn

    from bot.web.app import build_web

    app = await build_ours(api_url, port, database_url, data_dir)
    config = uvicorn.Config(build_web(app), host="127.0.0.1", port=port, log_config=None, access_log=False)
    if profiler is not None:
        profiler.enable()
    await _serve_until_term(uvicorn.Server(config))
    if profiler is not None:
        profiler.disable()
    await app.aclose()


async def serve_echo(api_url: str, port: int) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=SECRET, handle_in_background=False).register(
        app, path="/webhook/telegram"
    )
    app.router.add_get("/healthz", lambda _r: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await bot.session.close()


async def _serve_until_term(server: object) -> None:
    await server.serve()  # type: ignore[attr-defined]  # uvicorn exits on SIGTERM


def child_main(kind: str, api_url: str, port: int, database_url: str, data_dir: str) -> None:
    """With BENCH_PROFILE=<path> set, ours is run under cProfile while it serves, the stats written to <path>.ours."""
    profile_to = os.environ.get("BENCH_PROFILE")
    profiler: Any = None
    if profile_to and kind == "ours":
        import cProfile

        profiler = cProfile.Profile()
        signal.signal(signal.SIGTERM, lambda *_: None)  # uvicorn re-raises SIGTERM after its shutdown: survive it
    # Both on the loop `aftercare run` uses (uvloop), so the ratio compares the stacks, not the loops (ours is served
    # by uvicorn, with httptools; the echo bot by aiohttp's own server); BENCH_LOOP=asyncio: the standard loop.
    from bot.runner import run_serving

    run = asyncio.run if os.environ.get("BENCH_LOOP") == "asyncio" else run_serving
    if kind == "ours":
        run(serve_ours(api_url, port, database_url, data_dir, profiler))
    else:
        run(serve_echo(api_url, port))
    if profiler is not None:
        profiler.dump_stats(f"{profile_to}.{kind}")


# ---- Telegram's side (this process) -----------------------------------------------------------------------------


def text_update(n: int, text: str) -> dict[str, object]:
    """Update `n`: a private text message from one of the linked people (chosen by `n`)."""
    user = FIRST_USER + n % PEOPLE
    return {
        "update_id": n,
        "message": {
            "message_id": n,
            "date": 1_790_000_000,
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_healthy(port: int, process: subprocess.Popen[str], within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the bot process exited early")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)  # waiting for a process to start
    raise RuntimeError("the bot did not become healthy")


async def _load(
    port: int, updates: int, concurrency: int, first_id: int, secret: str = SECRET
) -> tuple[list[float], float, int]:
    """POST `updates` distinct updates (ids from `first_id`: a repeated id would be a deduplicated redelivery)."""
    ids = itertools.count(first_id)
    last = first_id + updates - 1
    latencies: list[float] = []
    failures = 0
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        while (n := next(ids)) <= last:
            update = text_update(n, "/menu")
            start = time.perf_counter()
            async with http.post(url, json=update, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return latencies, time.perf_counter() - start, failures


async def _paced(port: int, updates: int, rate: float, first_id: int, secret: str) -> tuple[list[float], int]:
    """POST `updates` updates at a steady `rate` per second, each at its appointed time whatever the others are
    doing (open loop, as Telegram delivers): latency from that time to the answer, so a bot that falls behind is
    charged the wait too."""
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    latencies: list[float] = []
    failures = 0

    async def one(http: aiohttp.ClientSession, n: int, due: float) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, due - time.perf_counter()))  # the update's arrival time (the load's schedule)
        async with http.post(url, json=text_update(n, "/menu"), headers=headers) as response:
            await response.read()
            if response.status != 200:
                failures += 1
        latencies.append(time.perf_counter() - due)

    start = time.perf_counter() + 0.1
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
        await asyncio.gather(*(one(http, first_id + i, start + i / rate) for i in range(updates)))
    return latencies, failures


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


async def measure_bot(
    kind: str, database_url: str, updates: int, concurrency: int, paced: int = 0, rate: float = 100.0
) -> dict[str, float]:
    """One bot ("ours" on `database_url`, an empty database; or "echo") in its own process: `updates` updates with
    `concurrency` in flight (throughput, latency), the bot process's CPU per update, and then, with `paced`, that
    many more at a steady `rate` per second (latency when the bot is not saturated)."""
    async with running(FakeTelegram(token=TOKEN)) as fake:
        port = _free_port()
        with tempfile.TemporaryDirectory() as data_dir:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.telegram_webhook",
                    "--child",
                    kind,
                    fake.base_url,
                    str(port),
                    database_url,
                    data_dir,
                ],
                stdout=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "AFTERCARE_LOG_FORMAT": "json"},
            )
            try:
                await _wait_healthy(port, process)
                secret = fake.webhook_secret or SECRET  # ours registers a secret derived for Telegram; echo uses SECRET
                await _load(port, min(200, updates), concurrency, first_id=1, secret=secret)  # warm-up
                sent_before = len(fake.sent())
                cpu_before = _cpu_seconds(process.pid)
                latencies, wall, failures = await _load(port, updates, concurrency, first_id=1_000_001, secret=secret)
                cpu = _cpu_seconds(process.pid) - cpu_before
                delivered = len(fake.sent()) - sent_before
                steady, steady_failures = (
                    await _paced(port, paced, rate, first_id=2_000_001, secret=secret) if paced else ([], 0)
                )
                rss = _peak_rss_mb(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=30)
    ordered = sorted(latencies)
    figures = {
        "throughput": len(latencies) / wall,
        "p50": _percentile(ordered, 0.50),
        "p99": _percentile(ordered, 0.99),
        "mean": statistics.fmean(latencies) * 1000,
        "cpu_ms": cpu / len(latencies) * 1000,
        "rss": rss,
        "failures": failures + steady_failures,
        "replies": delivered,
    }
    if steady:
        ordered = sorted(steady)
        figures |= {
            "paced_rate": rate,
            "paced_p50": _percentile(ordered, 0.50),
            "paced_p99": _percentile(ordered, 0.99),
        }
    return figures


async def measure(
    database: str, updates: int = 2000, concurrency: int = 16, paced: int = 1000, rate: float = 50.0
) -> dict[str, object]:
    """The speed target's figures side by side: the bare aiogram echo bot, then ours on `database` (the URL of an
    empty scratch database, which is filled; never a database that matters), measured the same way one after the
    other on the same fake. Returns {"database", "updates", "concurrency", "load" (1-minute load average before and
    after), "echo": figures, "ours": figures, "ratio": ours' throughput / the echo bot's}; figures as `measure_bot`:
    throughput (updates/s), p50, p99, mean (ms), cpu_ms (the bot process's CPU per update), rss (MB), failures,
    replies, and with `paced`: paced_rate, paced_p50, paced_p99 (ms)."""
    load_before = os.getloadavg()[0]
    echo = await measure_bot("echo", "", updates, concurrency, paced, rate)
    ours = await measure_bot("ours", database, updates, concurrency, paced, rate)
    return {
        "database": "sqlite" if database.startswith("sqlite") else "postgresql",
        "updates": updates,
        "concurrency": concurrency,
        "load": (load_before, os.getloadavg()[0]),
        "echo": echo,
        "ours": ours,
        "ratio": ours["throughput"] / echo["throughput"],
    }


def _print(label: str, figures: dict[str, float]) -> None:
    paced = (
        f"  at {figures['paced_rate']:.0f}/s: p50 {figures['paced_p50']:5.1f} ms p99 {figures['paced_p99']:6.1f} ms"
        if "paced_p99" in figures
        else ""
    )
    print(
        f"  {label:<24} {figures['throughput']:7.1f} updates/s  p50 {figures['p50']:6.1f} ms  "
        f"p99 {figures['p99']:6.1f} ms  CPU {figures['cpu_ms']:4.1f} ms/update  peak RSS {figures['rss']:4.0f} MB  "
        f"non-200: {figures['failures']:.0f}  replies sent: {figures['replies']:.0f}{paced}"
    )


def _report(name: str, figures: dict[str, object]) -> None:
    echo, ours = figures["echo"], figures["ours"]
    assert isinstance(echo, dict) and isinstance(ours, dict)
    load = figures["load"]
    print(f" {name} (load average {load[0]:.2f} → {load[1]:.2f}):")  # type: ignore[index]
    _print("bare aiogram echo bot", echo)
    _print(f"Đồng Hành on {name}", ours)
    print(f"  ratio to echo: {figures['ratio']:.2f} (target ≥ 0.5)")


def run_all(updates: int, concurrency: int, paced: int, rate: float, postgres: str | None) -> None:
    """Each database's pair in its own event loop; PostgreSQL scratch databases are made outside any loop."""
    print(
        f"{updates} webhook updates, {concurrency} concurrent, then {paced} at {rate:.0f}/s; {PEOPLE} linked people; "
        f"{os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        _report("SQLite", asyncio.run(measure(sqlite_url(Path(tmp)), updates, concurrency, paced, rate)))
    if postgres:
        with postgres_database(postgres) as url:
            _report("PostgreSQL", asyncio.run(measure(url, updates, concurrency, paced, rate)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--paced", type=int, default=1000, help="updates sent at a steady rate after (0: none)")
    parser.add_argument("--rate", type=float, default=50.0, help="the steady rate, updates per second")
    parser.add_argument(
        "--postgres",
        default=postgres_base_url(),
        help="a PostgreSQL server URL to make (and drop) a scratch database on; default $AFTERCARE_TEST_POSTGRES_URL",
    )
    args = parser.parse_args()
    run_all(args.updates, args.concurrency, args.paced, args.rate, args.postgres)


if __name__ == "__main__":
    main()
