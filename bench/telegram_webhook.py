"""Benchmark: Telegram webhook updates per second through the whole stack, against a bare aiogram echo bot.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.telegram_webhook [--updates 2000] [--concurrency 16]
With AFTERCARE_TEST_POSTGRES_URL set, PostgreSQL is measured too (a scratch database is created and dropped).

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

import aiohttp

from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url
from tests.fakes.telegram_api import FakeTelegram, running

TOKEN = "123456789:AAE-benchmark-token-for-the-fake-api"
SECRET = "bench-secret-0123456789"
PEOPLE = 200
FIRST_USER = 1_000_000


# ---- the bots (child process) ----------------------------------------------------------------------------------


async def serve_ours(api_url: str, port: int, database_url: str, data_dir: str) -> None:
    import uvicorn

    from bot.app import build_application
    from bot.channels.telegram import webhook
    from bot.config import Settings
    from bot.core.messages import InboundMessage
    from bot.domain.entities import RiskLevel
    from bot.web.app import build_web

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
    config = uvicorn.Config(build_web(app), host="127.0.0.1", port=port, log_config=None, access_log=False)
    await _serve_until_term(uvicorn.Server(config))
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
    if kind == "ours":
        asyncio.run(serve_ours(api_url, port, database_url, data_dir))
    else:
        asyncio.run(serve_echo(api_url, port))


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


async def measure(kind: str, database_url: str, updates: int, concurrency: int) -> dict[str, float]:
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
                latencies, wall, failures = await _load(port, updates, concurrency, first_id=1_000_001, secret=secret)
                delivered = len(fake.sent()) - sent_before
                rss = _peak_rss_mb(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=30)
    ordered = sorted(latencies)
    return {
        "throughput": len(latencies) / wall,
        "p50": ordered[len(ordered) // 2] * 1000,
        "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "mean": statistics.fmean(latencies) * 1000,
        "rss": rss,
        "failures": failures,
        "replies": delivered,
    }


def _print(label: str, figures: dict[str, float]) -> None:
    print(
        f"  {label:<24} {figures['throughput']:7.1f} updates/s  p50 {figures['p50']:6.1f} ms  "
        f"p99 {figures['p99']:6.1f} ms  peak RSS {figures['rss']:4.0f} MB  "
        f"non-200: {figures['failures']:.0f}  replies sent: {figures['replies']:.0f}"
    )


def run_all(updates: int, concurrency: int) -> None:
    """Each measurement in its own event loop; PostgreSQL scratch databases are made outside any loop."""
    print(f"{updates} webhook updates, {concurrency} concurrent, {PEOPLE} linked people, 2-core machine")
    echo = asyncio.run(measure("echo", "", updates, concurrency))
    _print("bare aiogram echo bot", echo)
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(measure("ours", sqlite_url(Path(tmp)), updates, concurrency))
    _print("Đồng Hành on SQLite", ours)
    print(f"  ratio to echo: {ours['throughput'] / echo['throughput']:.2f} (target ≥ 0.5)")

    base = postgres_base_url()
    if base:
        with postgres_database(base) as url:
            pg = asyncio.run(measure("ours", url, updates, concurrency))
        _print("Đồng Hành on PostgreSQL", pg)
        print(f"  ratio to echo: {pg['throughput'] / echo['throughput']:.2f} (target ≥ 0.5)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    run_all(args.updates, args.concurrency)


if __name__ == "__main__":
    main()
