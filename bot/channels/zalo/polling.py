"""Long polling for local use: one update per getUpdates, and one that fails to be handled cannot be fetched again
(it is logged without its content and dropped).

Nothing ends the loop but `stop`: a refused or failed poll is waited out. Each poll that reached Zalo is a beat for
`/healthz`. The same shape as `TelegramPoller`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.client import Sleep, ZaloNoUpdates
from bot.core.request_ids import request_scope

log = structlog.get_logger(__name__)


class ZaloPoller:
    def __init__(
        self,
        channel: ZaloChannel,
        timeout: int = 30,
        sleep: Sleep | None = None,
        beat: Callable[[], None] = lambda: None,
    ) -> None:
        self._channel = channel
        self._timeout = timeout
        self._sleep = sleep or channel.sleep
        self._beat = beat

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set. Stopping interrupts only the wait for an update, never its handling."""
        client = self._channel.client
        with contextlib.suppress(Exception):
            await client.delete_webhook()
        failures = 0
        while not stop.is_set():
            fetch = asyncio.ensure_future(client.get_updates(self._timeout))
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if fetch not in done:
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            stopper.cancel()
            try:
                payload = fetch.result()
            except ZaloNoUpdates:
                failures = 0
                self._beat()
                continue
            except Exception as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("zalo_poll_failed", code=getattr(exc, "code", None), error=type(exc).__name__, delay=delay)
                await self._sleep(delay)
                continue
            failures = 0
            self._beat()
            with request_scope():  # one request id on every log line of this update
                try:
                    await self._channel.process(payload)
                except Exception:  # the database, a refused send, a bug: logged, and polling goes on for everyone
                    log.exception("zalo_update_failed")  # polling cannot ask Zalo to send it again
