"""Long polling that loses nothing: an update is confirmed (offset) only after it was handled."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.mapping import ALLOWED_UPDATES
from bot.channels.telegram.sender import Sleep

log = structlog.get_logger(__name__)


class TelegramPoller:
    def __init__(self, channel: TelegramChannel, timeout: int = 25, sleep: Sleep = asyncio.sleep) -> None:
        self._channel = channel
        self._timeout = timeout
        self._sleep = sleep
        self.offset: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set. Stopping interrupts only the wait for new updates, never their handling."""
        bot = self._channel.bot
        await self._channel.sender.call("deleteWebhook", lambda: bot.delete_webhook(drop_pending_updates=False))
        failures = 0
        while not stop.is_set():
            updates = await self._fetch(stop)
            if updates is None:
                break
            if isinstance(updates, BaseException):
                failures += 1
                await self._pause(updates, failures)
                continue
            failures = 0
            if not updates:
                continue
            retry_from = await self._channel.process_batch(updates)
            if retry_from is not None:
                self.offset = retry_from
                failures += 1
                await self._sleep(min(30.0, 0.5 * 2**failures))
            else:
                self.offset = updates[-1].update_id + 1
        await self._confirm()

    async def _fetch(self, stop: asyncio.Event) -> list[Update] | BaseException | None:
        bot = self._channel.bot
        fetch = asyncio.ensure_future(
            bot.get_updates(
                offset=self.offset,
                timeout=self._timeout,
                allowed_updates=ALLOWED_UPDATES,
                request_timeout=self._timeout + 10,
            )
        )
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()  # nothing fetched is lost: unconfirmed updates come again on the next start
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            return None
        stopper.cancel()
        try:
            return list(fetch.result())
        except (TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as exc:
            return exc

    async def _pause(self, error: BaseException, failures: int) -> None:
        if isinstance(error, TelegramRetryAfter):
            await self._sleep(float(error.retry_after))
            return
        delay = min(30.0, 0.5 * 2**failures)
        log.warning("telegram_poll_failed", error=type(error).__name__, delay=delay)
        await self._sleep(delay)

    async def _confirm(self) -> None:
        """Tell Telegram what was handled, so a restart does not receive it again."""
        if self.offset is None:
            return
        with contextlib.suppress(Exception):
            await self._channel.bot.get_updates(offset=self.offset, timeout=0, limit=1)
