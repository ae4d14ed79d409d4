"""Platform errors in the metrics (`aftercare_platform_errors_total`), by code: what Zalo answered, through our
client against the fake platform; a long poll's "nothing arrived" is an answer, not an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.zalo.client import ZaloClient, ZaloForbidden, ZaloNoUpdates
from bot.observability.metrics import PLATFORM_ERRORS
from tests.fakes.sleeps import RecordedSleeps
from tests.fakes.zalo_api import FakeZalo, Fault, running

TOKEN = "999:zalo-metrics-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with running(FakeZalo(token=TOKEN)) as server:
        yield server


def _counts() -> dict[str, float]:
    return {
        sample.labels["code"]: sample.value
        for family in PLATFORM_ERRORS.collect()
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["channel"] == "zalo"
    }


async def test_zalo_errors_are_counted_by_code(fake: FakeZalo, sleeps: RecordedSleeps) -> None:
    client = ZaloClient(TOKEN, fake.base_url, http=httpx.AsyncClient(timeout=0.5), sleep=sleeps)
    before = _counts()
    try:
        fake.inject("sendMessage", Fault(429, "Too many requests"))
        fake.inject("sendMessage", Fault(502, shape="html"))
        fake.inject("sendMessage", Fault(500, "Internal error", shape="ok-false-200"))
        await client.send_message("u1", "vẫn tới nơi")
        fake.inject("sendMessage", Fault(403, "User has blocked the bot", shape="ok-false-200"))
        with pytest.raises(ZaloForbidden):
            await client.send_message("u1", "x")
        with pytest.raises(ZaloNoUpdates):
            await client.get_updates(0)
    finally:
        await client.close()
    after = _counts()
    grown = {code: after[code] - before.get(code, 0.0) for code in after if after[code] != before.get(code, 0.0)}
    assert grown == {"429": 1, "5xx": 2, "403": 1}
