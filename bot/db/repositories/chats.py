from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.models import ChatLockoutRow, GroupNoticeRow, LinkFailureRow


class ChatGuardRepository:
    """Facts about unlinked chats, keyed by a keyed hash of the chat: wrong codes, lockouts, group notices."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def locked_until(self, chat_key: str | Sequence[str]) -> datetime | None:
        """Several keys: the chat's hash under each configured key (a lock from before a key rotation holds)."""
        stmt = select(func.max(ChatLockoutRow.until)).where(ChatLockoutRow.chat_key.in_(_keys(chat_key)))  # type: ignore[attr-defined]
        until = (await self._s.execute(stmt)).scalar_one_or_none()
        if until is None or until <= self._clock.now():
            return None
        return until

    async def add_failure(self, chat_key: str) -> None:
        self._s.add(LinkFailureRow(chat_key=chat_key, at=self._clock.now()))
        await self._s.flush()

    async def failures_since(self, chat_key: str | Sequence[str], since: datetime) -> list[datetime]:
        """Several keys: failures counted before a key rotation still count."""
        stmt = select(LinkFailureRow.at).where(
            LinkFailureRow.chat_key.in_(_keys(chat_key)),  # type: ignore[attr-defined]
            LinkFailureRow.at > since,
        )
        return list((await self._s.execute(stmt)).scalars())

    async def lock(self, chat_key: str, until: datetime) -> None:
        row = await self._s.get(ChatLockoutRow, chat_key)
        if row is None:
            self._s.add(ChatLockoutRow(chat_key=chat_key, until=until))
        else:
            row.until = until
        await self._s.execute(delete(LinkFailureRow).where(LinkFailureRow.chat_key == chat_key))
        await self._s.flush()

    async def clear_failures(self, chat_key: str | Sequence[str]) -> None:
        keys = _keys(chat_key)
        await self._s.execute(delete(LinkFailureRow).where(LinkFailureRow.chat_key.in_(keys)))  # type: ignore[attr-defined]

    async def note_group(self, chat_key: str) -> bool:
        """True the first time a group is seen (so it is told once), False afterwards."""
        if await self._s.get(GroupNoticeRow, chat_key) is not None:
            return False
        self._s.add(GroupNoticeRow(chat_key=chat_key, at=self._clock.now()))
        await self._s.flush()
        return True

    async def failure_count(self) -> int:
        return int((await self._s.execute(select(func.count()).select_from(LinkFailureRow))).scalar_one())


def _keys(chat_key: str | Sequence[str]) -> list[str]:
    return [chat_key] if isinstance(chat_key, str) else list(chat_key)
