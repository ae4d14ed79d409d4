"""Serving a fake platform (an aiohttp app) on a loopback port, in the test's loop or in a thread of its own."""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import TypeVar

from aiohttp import web

F = TypeVar("F")


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Yield the base URL. A client that drops a long poll has its handler cancelled, not awaited."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextmanager
def in_thread(make: Callable[[], F], running: Callable[[F], AbstractAsyncContextManager[F]]) -> Iterator[F]:
    """For synchronous callers (the CLI, a real `aftercare run` process): the fake serves from its own loop."""
    ready: queue.Queue[F] = queue.Queue()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with running(make()) as fake:
            ready.put(fake)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield ready.get(timeout=10)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
