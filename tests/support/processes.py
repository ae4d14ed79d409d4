"""Child processes for tests: a real `aftercare run` that never outlives its test (a left-over server would hold its
port and the database for the next one), and polling for it to start or answer (never for a schedule)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    port: int
    process: subprocess.Popen[str]
    stdout: str = ""  # once stopped
    stderr: str = ""

    @property
    def output(self) -> str:
        """stdout and stderr together, once stopped."""
        return self.stdout + self.stderr


@contextmanager
def bot_process(env: dict[str, str], cwd: Path, args: Sequence[str] = (), **settings: str) -> Iterator[BotProcess]:
    """A real `aftercare run` (`python -m bot run`, then `args`) on a free port, `settings` as AFTERCARE_* variables;
    stopped with SIGINT like Ctrl-C whatever the test did (killed if it does not stop), its output kept for
    assertions."""
    port = free_port()
    extra = {f"AFTERCARE_{name.upper()}": value for name, value in settings.items()}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", *args],
        env={**os.environ, **env, "AFTERCARE_HTTP_PORT": str(port), **extra},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = BotProcess(port, process)
    try:
        yield running
    finally:
        running.stdout, running.stderr = stop(process)


def stop(process: subprocess.Popen[str], within: float = 20) -> tuple[str, str]:
    """Ctrl-C, then kill if it does not stop in time. Returns its stdout and stderr."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def until(condition: Callable[[], object], within: float = 30.0) -> None:
    """Poll for a process to start or answer (not for a schedule)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
