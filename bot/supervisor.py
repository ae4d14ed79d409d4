"""`aftercare run --workers N`: the parent binds the port and migrates once, then keeps N worker processes serving
that one socket, restarting any that dies, until SIGTERM or SIGINT stops them all gracefully.

Workers are started with multiprocessing's "spawn" context, as uvicorn's own `--workers` does: a fresh interpreter
(nothing of the parent's event loop, engine or threads leaks into it) that receives the listening socket's
descriptor while it is started. Each worker runs the whole `serve` (web app, webhooks, scheduler); the kernel hands
each new connection to one of them. uvicorn's supervisor itself is not used: it only runs a bare uvicorn server,
and ours also starts the channels and the scheduler around it."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import structlog

from bot.app import build_application
from bot.config import Settings
from bot.db.engine import is_sqlite
from bot.logging import configure_logging
from bot.runner import Worker, announce, listen, run_serving, serve

log = structlog.get_logger(__name__)

SPAWN = multiprocessing.get_context("spawn")
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
GRACE_SECONDS = 25.0  # a stopping worker finishes its requests and the pollers' batch; then it is killed
BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # before restarting a worker that died; longer while it keeps dying
STEADY_SECONDS = 60.0  # a worker that ran this long before dying is restarted after the shortest wait again


def worker_count(settings: Settings, requested: int | None) -> int:
    """How many processes to run: `--workers`, else AFTERCARE_WORKERS; one on SQLite (one writer per file), said in
    one line."""
    count = requested if requested is not None else settings.workers
    if count > 1 and is_sqlite(settings.database_url):
        log.warning("workers_forced_to_one", requested=count, reason="SQLite allows one process; use PostgreSQL")
        return 1
    return count


@dataclass(slots=True)
class Slot:
    """One worker's place: its current process, and how often it died young (for the backoff)."""

    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None


@dataclass(slots=True)
class Supervisor:
    settings: Settings
    listener: socket.socket
    count: int
    metrics: Path
    slots: list[Slot] = field(default_factory=list)
    stopping: bool = False

    def run(self) -> None:
        """Until a signal: start the workers, restart the ones that die; then stop them all."""
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        wake_write.setblocking(False)
        previous_wakeup = signal.set_wakeup_fd(wake_write.fileno())
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.slots = [Slot(index) for index in range(self.count)]
            for slot in self.slots:
                self._start(slot)
            announce(self.settings)
            while not self.stopping:
                self._wait(wake_read)
                self._reap()
                self._restart_due()
            self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_wakeup)
            wake_read.close()
            wake_write.close()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self, slot: Slot) -> None:
        worker = Worker(slot.index, self.count)
        process = SPAWN.Process(
            target=work,
            args=(self.settings, self.listener, worker, os.getpid()),
            name=f"aftercare-worker-{slot.index}",
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), None

    def _wait(self, wake: socket.socket) -> None:
        """Until a worker exits, a signal arrives, or a restart is due."""
        sentinels: list[object] = [s.process.sentinel for s in self.slots if s.process is not None]
        due = [s.restart_at for s in self.slots if s.restart_at is not None]
        timeout = max(0.0, min(due) - time.monotonic()) if due else None
        wait([*sentinels, wake], timeout)  # type: ignore[list-item]
        try:
            while wake.recv(64):
                pass
        except BlockingIOError:
            pass

    def _reap(self) -> None:
        for slot in self.slots:
            process = slot.process
            if process is None or process.is_alive() or self.stopping:
                continue
            process.join()
            self._forget(process)
            ran = time.monotonic() - slot.started
            slot.failures = 0 if ran >= STEADY_SECONDS else slot.failures + 1
            delay = BACKOFF_SECONDS[min(max(slot.failures - 1, 0), len(BACKOFF_SECONDS) - 1)]
            slot.process, slot.restart_at = None, time.monotonic() + delay
            log.warning("worker_died", worker=slot.index, pid=process.pid, exitcode=process.exitcode, restart_in=delay)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if not self.stopping and slot.restart_at is not None and slot.restart_at <= now:
                self._start(slot)
                log.info("worker_restarted", worker=slot.index)

    def _stop_all(self) -> None:
        """SIGTERM to each: uvicorn stops accepting, finishes the requests in flight, then the worker stops its
        pollers and scheduler; killed if it has not ended within the grace period."""
        running = [s.process for s in self.slots if s.process is not None]
        log.info("workers_stopping", workers=len(running))
        for process in running:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker_killed", pid=process.pid)
                process.kill()
                process.join()
            self._forget(process)

    def _forget(self, process: BaseProcess) -> None:
        """Its live gauges leave the metrics directory (prometheus-client's multiprocess bookkeeping)."""
        from prometheus_client.multiprocess import mark_process_dead

        if process.pid is not None:
            mark_process_dead(process.pid, str(self.metrics))


def _interrupt_once(_signum: int, _frame: FrameType | None) -> None:
    """The first SIGTERM or SIGINT stops the worker like Ctrl-C; later ones (Ctrl-C in a terminal reaches the worker,
    then the parent's SIGTERM follows) are ignored, so they cannot cut its clean-up short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _orphan_watch(parent: int) -> None:
    """A worker whose parent is gone (killed with SIGKILL, so it could not stop them) stops itself: nothing would
    restart it or clean its metrics, and a new `run` could not start its own while it holds the port."""
    while os.getppid() == parent:
        time.sleep(1.0)
    log.warning("worker_orphaned", pid=os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)


def work(settings: Settings, listener: socket.socket, worker: Worker, parent: int) -> None:
    """A worker process's body. uvicorn takes the signals while it serves (it stops accepting and finishes the
    requests in flight), then raises the one it caught again: here, that ends `serve`, which stops the pollers and
    the scheduler and closes the database."""
    signal.signal(signal.SIGTERM, _interrupt_once)
    signal.signal(signal.SIGINT, _interrupt_once)
    configure_logging(json_logs=settings.json_logs)
    threading.Thread(target=_orphan_watch, args=(parent,), name="orphan-watch", daemon=True).start()
    with suppress(KeyboardInterrupt):
        run_serving(serve(settings, listener, worker))


async def prepare(settings: Settings) -> None:
    """Once, before any worker: secrets generated (locally), migrations applied, the crisis data checked; the workers
    then find the database at head and migrate nothing."""
    app = build_application(settings)
    try:
        if app.policies.crisis is not None:
            app.policies.crisis.ready()
        await app.migrate()
    finally:
        await app.aclose()


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """Where the workers' metrics files go (prometheus-client's multiprocess mode): the operator's
    PROMETHEUS_MULTIPROC_DIR, emptied of an earlier run's files, or a private one (0700) removed at the end."""
    given = os.environ.get(METRICS_DIR)
    if given:
        path = Path(given)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="aftercare-metrics-"))
    os.environ[METRICS_DIR] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(METRICS_DIR, None)
        shutil.rmtree(path, ignore_errors=True)


def run_workers(settings: Settings, count: int) -> None:
    """The parent of `run --workers N` (N > 1, PostgreSQL). Raises `PortBusy` or `ConfigError` before any worker
    starts."""
    listener = listen(settings.http_host, settings.http_port)
    try:
        asyncio.run(prepare(settings))
        if not settings.public_url and (settings.telegram_token or settings.zalo_token):
            log.info("polling_in_first_worker_only", workers=count)
        if settings.simulator_on:
            log.warning("simulator_per_worker", hint="each worker keeps its own simulator chats; use --workers 1")
        with metrics_directory() as metrics:
            Supervisor(settings, listener, count, metrics).run()
    finally:
        listener.close()
