"""Long polling: stopping loses nothing and repeats nothing; failures back off; a deferred update comes again."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import Application
from bot.channels.telegram.polling import TelegramPoller
from bot.flows.engine import ConversationEngine, TransientFailure
from tests.e2e.helpers import telegram_text
from tests.e2e.telegram_client import TelegramChats
from tests.fakes.sleeps import RecordedSleeps
from tests.fakes.telegram_api import FakeTelegram, Fault
from tests.support.factories import Commune
from tests.support.records import audited

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-polling"])


async def poll_until_handled(
    app: Application, fake: FakeTelegram, update_id: int, sleep: RecordedSleeps | None = None
) -> None:
    """Run a poller until the update is handled (confirmed), then stop it; stopping must interrupt the long poll,
    so the poller's 25 s wait is cut short well within the 3 s allowed."""
    assert app.telegram is not None
    stop = asyncio.Event()
    poller = TelegramPoller(app.telegram, timeout=25, sleep=sleep if sleep is not None else asyncio.sleep)
    task = asyncio.create_task(poller.run(stop))
    await fake.wait_confirmed(update_id)
    stop.set()
    await asyncio.wait_for(task, 3)


async def test_polling_stops_without_losing_or_repeating_updates(
    fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    assert app.telegram is not None
    chats = TelegramChats(fake_telegram, webhook=False)
    await app.telegram.prepare()
    first = fake_telegram.enqueue(telegram_text(chats.user_id("an"), commune.an_code, 1))
    await poll_until_handled(app, fake_telegram, first)

    second = fake_telegram.enqueue(telegram_text(chats.user_id("binh"), commune.binh_code, 2))
    await poll_until_handled(app, fake_telegram, second)
    assert await audited(app, "chat_linked") == 2
    assert len(fake_telegram.sent(chat_id=chats.user_id("an"))) == 2  # intro + first consent question, once


async def test_polling_backs_off_when_telegram_fails(
    fake_telegram: FakeTelegram, app: Application, commune: Commune, sleeps: RecordedSleeps
) -> None:
    assert app.telegram is not None
    chats = TelegramChats(fake_telegram, webhook=False)
    fake_telegram.inject("getUpdates", Fault(502, "Bad Gateway"))
    fake_telegram.inject("getUpdates", Fault(429, "Too Many Requests: retry after 5", retry_after=5))
    update = fake_telegram.enqueue(telegram_text(chats.user_id("an"), commune.an_code, 1))
    await poll_until_handled(app, fake_telegram, update, sleeps)
    assert sleeps[:2] == [1.0, 5.0]
    assert "1/3" in fake_telegram.sent(chat_id=chats.user_id("an"))[-1].params["text"]


async def test_polling_refetches_an_update_the_database_could_not_take(
    fake_telegram: FakeTelegram,
    app: Application,
    commune: Commune,
    sleeps: RecordedSleeps,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert app.telegram is not None
    chats = TelegramChats(fake_telegram, webhook=False)
    real = ConversationEngine.handle
    failures = iter([True])

    async def flaky(self: ConversationEngine, msg):  # type: ignore[no-untyped-def]
        if next(failures, False):
            raise TransientFailure("OperationalError")
        return await real(self, msg)

    monkeypatch.setattr(ConversationEngine, "handle", flaky)
    update = fake_telegram.enqueue(telegram_text(chats.user_id("an"), commune.an_code, 1))
    await poll_until_handled(app, fake_telegram, update, sleeps)
    assert "1/3" in fake_telegram.sent(chat_id=chats.user_id("an"))[-1].params["text"]
    assert await audited(app, "chat_linked") == 1
