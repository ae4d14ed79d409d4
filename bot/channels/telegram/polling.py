"""Long polling that loses nothing: an update is confirmed (offset) only after it was handled.

Nothing in an update can end the loop: a batch that does not validate is split into the updates that do (handled)
and those that do not (logged by id, skipped), and any other failure is logged and waited out. Each poll that
reached Telegram is a beat for `/healthz`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update
from pydantic import ValidationError

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.mapping import ALLOWED_UPDATES
from bot.channels.telegram.sender import Sleep

log = structlog.get_logger(__name__)


class TelegramPoller:
    """The same shape as `ZaloPoller`: `sleep` defaults to the channel's."""

    def __init__(
        self,
        channel: TelegramChannel,
        timeout: int = 25,
        sleep: Sleep | None = None,
        beat: Callable[[], None] = lambda: None,
    ) -> None:
        self._channel = channel
        self._timeout = timeout
        self._sleep = sleep or channel.sleep
        self._beat = beat
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
            self._beat()
            if not updates:
                continue
            try:
                retry_from = await self._channel.process_batch(updates)
            except Exception:  # process_batch handles each update's errors; this is a last guard for the loop
                log.exception("telegram_batch_failed")
                retry_from = None
            if retry_from is not None:
                self.offset = retry_from
                failures += 1
                await self._sleep(min(30.0, 0.5 * 2**failures))
            else:  # past this batch, and past any unreadable update skipped after it
                self.offset = max(self.offset or 0, updates[-1].update_id + 1)
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
        except ClientDecodeError as exc:
            return self._valid_part(exc.data, exc)
        except Exception as exc:
            return exc

    def _valid_part(self, data: Any, error: ClientDecodeError) -> list[Update] | BaseException:
        """A batch with an update aiogram cannot read: the readable ones are handled, the others skipped by moving
        the offset past them (Telegram would send them again forever). Unreadable as a whole: a failed poll."""
        result = data.get("result") if isinstance(data, dict) and data.get("ok") is True else None
        if not isinstance(result, list):
            return error
        updates: list[Update] = []
        for raw in result:
            try:
                updates.append(Update.model_validate(raw, context={"bot": self._channel.bot}))
            except (ValidationError, ValueError, RecursionError):
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if not isinstance(update_id, int) or isinstance(update_id, bool):
                    return error  # no id to skip it by: keep asking (Telegram itself always sends one)
                log.warning("telegram_update_unreadable", update_id=update_id)
                self.offset = max(self.offset or 0, update_id + 1)
        return updates

    async def _pause(self, error: BaseException, failures: int) -> None:
        if isinstance(error, TelegramRetryAfter):
            await self._sleep(float(error.retry_after))
            return
        if not isinstance(error, TelegramNetworkError | TelegramServerError):
            log.error("telegram_poll_error", error=type(error).__name__)
        delay = min(30.0, 0.5 * 2**failures)
        log.warning("telegram_poll_failed", error=type(error).__name__, delay=delay)
        await self._sleep(delay)

    async def _confirm(self) -> None:
        """Tell Telegram what was handled, so a restart does not receive it again."""
        if self.offset is None:
            return
        with contextlib.suppress(Exception):
            await self._channel.bot.get_updates(offset=self.offset, timeout=0, limit=1)
