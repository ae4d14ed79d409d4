"""A stand-in for asyncio.sleep: retries and rate-limit waits are recorded, not waited for."""

from __future__ import annotations

import asyncio


class RecordedSleeps(list[float]):
    """Stands in for asyncio.sleep in retries and rate-limit waits: records the delay, does not wait."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)
        await asyncio.sleep(0)
