"""The app on a real loopback socket, for tests that talk to it over HTTP (the simulator, webhooks, the console)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp


def bound_socket() -> socket.socket:
    """A loopback socket bound to a free port, handed to the server (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, stopped without its fixed waits: its main loop looks at `should_exit` every 0.1 s and its
    shutdown sleeps 0.1 s before waiting for connections, 0.1 s at a time (0.15–0.3 s of every test that serves the
    app). Here `stop()` wakes the main loop at once, and the shutdown still closes the listener, asks each connection
    to finish and waits until every connection and request task is done — only in smaller steps."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self.should_exit = True
        self._stopping.set()

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):  # None, as in uvicorn: no limit
                while self.server_state.connections or self.server_state.tasks:  # noqa: ASYNC110 (uvicorn has no event)
                    await asyncio.sleep(0.005)
                for server in self.servers:
                    await server.wait_closed()
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()  # as uvicorn does (a no-op with lifespan="off", as `serve` runs it)


@asynccontextmanager
async def serve(web: ASGIApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Run the ASGI app on a real loopback socket in this event loop; yield its base URL."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(web, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):  # wait for the server to accept, not for any schedule
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        await task
        sock.close()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def http_client(base_url: str = "", **options: Any) -> httpx.AsyncClient:
    """An httpx client sharing one TLS context per process: a client of its own loads the CA bundle again, 10-50 ms of
    CPU for each test, although over http:// to loopback it never uses it."""
    return httpx.AsyncClient(base_url=base_url, verify=_tls_context(), **options)
