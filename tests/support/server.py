"""The app on a real loopback socket, for tests that talk to it over HTTP (the simulator, webhooks, the console)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


def bound_socket() -> socket.socket:
    """A loopback socket bound to a free port, handed to the server (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@asynccontextmanager
async def serve(web: ASGIApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Run the ASGI app on a real loopback socket in this event loop; yield its base URL."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):  # wait for the server to accept, not for any schedule
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
