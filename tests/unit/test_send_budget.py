"""One rate per bot: the outbox is paced at what the bot's direct replies leave of the platform's limit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.scheduler.budget import DirectSends, SendBudget
from bot.scheduler.limits import HEADROOM, RateLimits


class Ticker:
    """Monotonic and wall time that move only when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def _sends_in(limits: RateLimits, ticker: Ticker, seconds: float) -> int:
    """How many messages (to different chats) the pace lets out in `seconds` of the ticker's time."""
    end, n = ticker.now + seconds, 0
    while True:
        async with limits.slot("telegram", f"chat{n}"):
            if ticker.now >= end:
                return n
            n += 1


def _limits(ticker: Ticker, rate: float = 30) -> RateLimits:
    return RateLimits({"telegram": rate, "zalo": None}, sleep=ticker.sleep, monotonic=ticker.monotonic,
                      pace_sleep=ticker.sleep)  # fmt: skip


async def test_the_pace_spends_the_limit_with_a_little_headroom_and_no_burst() -> None:
    ticker = Ticker()
    limits = _limits(ticker)
    sent = await _sends_in(limits, ticker, 10.0)
    assert 30 * HEADROOM * 10 - 1 <= sent <= 30 * 10 * HEADROOM + 1  # ≥ 95 % of the limit, never above it
    first_second = await _sends_in(limits, ticker, 1.0)
    assert first_second <= 30


async def test_direct_replies_of_every_process_leave_less_for_the_outbox() -> None:
    ticker = Ticker()
    limits = _limits(ticker)
    counter = DirectSends(wall=ticker.wall)
    budget = SendBudget(None, limits, counter, window=3, floor=0.2, wall=ticker.wall)
    assert await budget.refresh() == {"telegram": 30}
    for _ in range(12):  # twelve replies went straight out this second (people writing to the bot)
        counter.count("telegram")
    assert await budget.refresh() == {"telegram": 18}
    # Together, in the next second: the outbox at its new pace plus as many replies stays within 30.
    outbox = await _sends_in(limits, ticker, 1.0)
    assert outbox + 12 <= 30
    ticker.now += 5  # the replies stopped a few seconds ago: the outbox gets the whole limit back
    assert await budget.refresh() == {"telegram": 30}
    for _ in range(40):  # more replies than the limit: the outbox still moves (a crisis alert must go out)
        counter.count("telegram")
    assert await budget.refresh() == {"telegram": 6}


async def test_a_process_that_lost_the_send_lock_sends_nothing_more() -> None:
    ticker = Ticker()
    limits = _limits(ticker)
    leading = True
    limits.gate = lambda: leading
    now = datetime(2026, 12, 7, 1, tzinfo=UTC)
    assert limits.paused_until("telegram", now) is None
    async with limits.slot("telegram", "a"):
        pass
    leading = False
    assert limits.paused_until("telegram", now) is not None  # not started: given back untried
    async with limits.slot("telegram", "b"):  # already waiting for its turn: the dispatcher asks again once it came
        assert limits.paused_until("telegram", now) is not None  # and gives it back untried
