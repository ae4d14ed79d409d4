"""The per-chat gap and the platform's pause; the global rate itself is measured in bench/dispatch.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.scheduler.limits import RateLimits


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_one_message_per_second_per_chat_and_none_between_chats() -> None:
    ticker = Ticker()
    limits = RateLimits({"telegram": None}, per_chat_interval=1.0, sleep=ticker.sleep, monotonic=ticker.monotonic)
    async with limits.slot("telegram", "a"):
        pass
    ticker.now += 0.25
    async with limits.slot("telegram", "b"):  # another chat: no wait
        pass
    async with limits.slot("telegram", "a"):  # the same chat 0.25 s later: waits the rest of the second
        pass
    assert ticker.slept == [0.75]


async def test_a_pause_lasts_as_long_as_the_platform_asked_on_the_schedulers_clock() -> None:
    limits = RateLimits({"telegram": 30})
    now = datetime(2026, 12, 7, 1, tzinfo=UTC)
    assert limits.paused_until("telegram", now) is None
    limits.pause("telegram", now, 7)
    limits.pause("telegram", now, 2)  # a shorter pause does not shorten the longer one
    assert limits.paused_until("telegram", now + timedelta(seconds=6)) == now + timedelta(seconds=7)
    assert limits.paused_until("telegram", now + timedelta(seconds=7)) is None
    assert limits.paused_until("zalo", now) is None
