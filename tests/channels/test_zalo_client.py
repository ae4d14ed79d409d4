"""Our Zalo client against the fake platform: every way it can fail becomes a typed error or a retry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.zalo.client import (
    ZaloBadRequest,
    ZaloClient,
    ZaloForbidden,
    ZaloNoUpdates,
    ZaloServerError,
    ZaloUnauthorized,
)
from tests.fakes.sleeps import RecordedSleeps
from tests.fakes.zalo_api import FakeZalo, Fault, running

TOKEN = "999:zalo-client-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with running(FakeZalo(token=TOKEN)) as server:
        yield server


@pytest.fixture
async def client(fake: FakeZalo, sleeps: RecordedSleeps) -> AsyncIterator[ZaloClient]:
    zalo = ZaloClient(TOKEN, fake.base_url, http=httpx.AsyncClient(timeout=0.5), sleep=sleeps)
    yield zalo
    await zalo.close()


async def test_send_message_is_validated_like_the_platform(client: ZaloClient, fake: FakeZalo) -> None:
    await client.send_message("u1", "Xin chào")
    assert fake.sent("u1")[0].params == {"chat_id": "u1", "text": "Xin chào"}
    with pytest.raises(ZaloBadRequest):
        await client.send_message("u1", "x" * 2001)
    with pytest.raises(ZaloBadRequest):
        await client.send_message("u1", "")


async def test_wrong_token_is_unauthorized(fake: FakeZalo, sleeps: RecordedSleeps) -> None:
    wrong = ZaloClient("1:wrong", fake.base_url, sleep=sleeps)
    with pytest.raises(ZaloUnauthorized):
        await wrong.get_me()
    await wrong.close()


async def test_rate_limits_and_outages_are_retried_with_back_off(
    client: ZaloClient, fake: FakeZalo, sleeps: RecordedSleeps
) -> None:
    fake.inject("sendMessage", Fault(429, "Too many requests"))
    fake.inject("sendMessage", Fault(502, shape="html"))
    fake.inject("sendMessage", Fault(500, "Internal error", shape="ok-false-200"))
    await client.send_message("u1", "vẫn tới nơi")
    assert [c.params["text"] for c in fake.sent("u1")] == ["vẫn tới nơi"]
    assert sleeps == [2.0, 1.0, 2.0]


async def test_ok_false_with_http_200_is_still_an_error(client: ZaloClient, fake: FakeZalo) -> None:
    fake.inject("sendMessage", Fault(403, "User has blocked the bot", shape="ok-false-200"))
    with pytest.raises(ZaloForbidden):
        await client.send_message("u1", "x")


async def test_slow_replies_time_out_and_are_retried(
    client: ZaloClient, fake: FakeZalo, sleeps: RecordedSleeps
) -> None:
    fake.inject("sendMessage", Fault(delay=1.0))
    await client.send_message("u1", "sau một lần chờ")
    assert sleeps == [0.5]
    assert len(fake.sent("u1")) == 1


async def test_gives_up_after_the_last_attempt(client: ZaloClient, fake: FakeZalo, sleeps: RecordedSleeps) -> None:
    for _ in range(5):
        fake.inject("sendMessage", Fault(503, shape="html"))
    with pytest.raises(ZaloServerError):
        await client.send_message("u1", "x")
    assert len(sleeps) == 5


async def test_get_updates_answers_408_when_nothing_arrived(client: ZaloClient, fake: FakeZalo) -> None:
    with pytest.raises(ZaloNoUpdates):
        await client.get_updates(0)
    await client.set_webhook("https://example.org/hook", "secret-123")
    with pytest.raises(ZaloBadRequest):  # 409: polling is refused while a webhook is set
        await client.get_updates(0)
    with pytest.raises(ZaloBadRequest):
        await client.set_webhook("https://example.org/hook", "short")
