"""Zalo polling (local use): one update at a time, 408 when idle, faults of the platform survived."""

from __future__ import annotations

import pytest

from tests.e2e.zalo_client import ZaloChats
from tests.fakes.zalo_api import FakeZalo, Fault
from tests.support.factories import Commune

pytestmark = pytest.mark.parametrize("channel_kind", ["zalo-polling"])


async def test_polling_survives_platform_faults(sim: ZaloChats, fake_zalo: FakeZalo, commune: Commune) -> None:
    fake_zalo.inject("getUpdates", Fault(502, shape="html"))
    fake_zalo.inject("getUpdates", Fault(429, "Too many requests"))
    an = sim.chat("an")
    (await an.say(commune.an_code)).says("1/3")
    (await an.say("1")).says("2/3")  # handled after both faults were served
    statuses = [c.status for c in fake_zalo.calls if c.method == "getUpdates"]
    assert {502, 429} <= set(statuses) and fake_zalo.faults["getUpdates"] == []


async def test_polling_deletes_a_leftover_webhook_first(sim: ZaloChats, fake_zalo: FakeZalo, commune: Commune) -> None:
    (await sim.chat("binh").say(commune.binh_code)).says("1/3")  # answered: the poller is past its first calls
    assert [c.method for c in fake_zalo.calls][:2] == ["getMe", "deleteWebhook"]
