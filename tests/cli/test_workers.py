"""`aftercare run --workers N` as real processes: N workers answer on one port, one that dies comes back, SIGTERM
stops them all with exit 0; on SQLite it stays one process and says so."""

from __future__ import annotations

import os
import signal
import stat
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import telegram_text
from tests.fakes.telegram_api import FakeTelegram, running_in_thread
from tests.support.processes import bot_process, healthy, until

TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"
CHECKOUT = str(Path(__file__).resolve().parents[2])  # the workers import the code under test, from any directory


def _workers(parent: int) -> set[int]:
    """The parent's worker processes, from /proc: children started by multiprocessing's spawn (not its resource
    tracker; not a dead child not yet reaped, whose command line is empty)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(status.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def _answers(port: int) -> bool:
    """/healthz answers 200; a generous timeout, as a worker that has just started answers its first requests slowly
    on a busy machine."""
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.slow
def test_workers_share_one_port_come_back_when_killed_and_stop_on_sigterm(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several workers need PostgreSQL (SQLite's case is the next test)")
    with running_in_thread(lambda: FakeTelegram(token=TOKEN)) as fake:
        fake.updates.append(telegram_text(77, "xin chào", 1))
        settings = {"telegram_token": TOKEN, "telegram_api_url": fake.base_url}
        with bot_process({**env, "PYTHONPATH": CHECKOUT}, tmp_path, ("--workers", "2"), **settings) as bot:
            parent = bot.process.pid
            until(lambda: len(_workers(parent)) == 2 and healthy(bot.port), within=60)
            first = _workers(parent)
            assert len(first) == 2
            assert all(_answers(bot.port) for _ in range(10))
            # The parent set up one private metrics directory for its workers.
            directories = {_environment(pid)["PROMETHEUS_MULTIPROC_DIR"] for pid in first}
            assert len(directories) == 1
            metrics = Path(directories.pop())
            assert stat.S_IMODE(metrics.stat().st_mode) == 0o700
            # Long polling from the first worker only: the message is answered once.
            until(lambda: fake.sent(chat_id=77))
            assert len(fake.sent(chat_id=77)) == 1
            calls = Counter(call.method for call in fake.calls)
            assert calls["deleteWebhook"] == 1  # one poller
            assert calls["getMe"] >= 2  # every worker learns the bot's name (for invite links)

            killed = min(first)
            os.kill(killed, signal.SIGKILL)
            until(lambda: len(_workers(parent) - first) == 1, within=20)
            second = _workers(parent)
            assert killed not in second and len(second) == 2
            assert _answers(bot.port)  # the other worker answers meanwhile

            bot.process.send_signal(signal.SIGTERM)
            assert bot.process.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in first | second)
        assert not metrics.exists()
    assert "worker_died" in bot.output and "worker_restarted" in bot.output


def test_sqlite_runs_one_worker_and_says_so(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite case")
    with bot_process({**env, "PYTHONPATH": CHECKOUT}, tmp_path, ("--workers", "2")) as bot:
        until(lambda: healthy(bot.port), within=60)
        assert _answers(bot.port)
        assert _workers(bot.process.pid) == set()
        bot.process.send_signal(signal.SIGTERM)  # like `docker stop`: a clean exit, not death by signal
        assert bot.process.wait(timeout=20) == 0
    assert "workers_forced_to_one" in bot.output
    assert sum("workers_forced_to_one" in line for line in bot.output.splitlines()) == 1
