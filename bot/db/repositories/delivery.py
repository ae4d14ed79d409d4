"""Exactly-once handling of platform updates, and opaque button tokens."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Button, OutboundMessage
from bot.db.crypto import FieldCipher
from bot.db.models import ButtonTokenRow, InboundUpdateRow

_REPLIES = "inbound_update.replies"
TOKEN_LIFETIME = timedelta(days=30)


def _dump(replies: Sequence[OutboundMessage]) -> str:
    return json.dumps([{"text": r.text, "buttons": [[b.label, b.action] for b in r.buttons]} for r in replies])


def _load(raw: str) -> list[OutboundMessage]:
    return [
        OutboundMessage(item["text"], tuple(Button(label, action) for label, action in item["buttons"]))
        for item in json.loads(raw)
    ]


class InboundRepository:
    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def claim(self, key: str) -> bool:
        """Record an update as being handled; False when it was seen before (a redelivery).

        INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a concurrent delivery waits for the first transaction and then
        sees the conflict, so two workers never both process one update.
        """
        values = {"key": key, "received_at": self._clock.now()}
        dialect = self._s.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(InboundUpdateRow).values(**values).on_conflict_do_nothing(index_elements=["key"])
        result = await self._s.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def keep_replies(self, key: str, replies: Sequence[OutboundMessage]) -> None:
        if not replies:
            return
        sealed = self._cipher.encrypt(_dump(replies), _REPLIES)
        await self._s.execute(update(InboundUpdateRow).where(InboundUpdateRow.key == key).values(replies_enc=sealed))

    async def undelivered(self, key: str) -> list[OutboundMessage]:
        """Replies committed for an update but never confirmed as delivered (the process died in between)."""
        row = (await self._s.execute(select(InboundUpdateRow).where(InboundUpdateRow.key == key))).scalar_one_or_none()
        if row is None or row.replies_enc is None or row.replied_at is not None:
            return []
        return _load(self._cipher.decrypt(row.replies_enc, _REPLIES))

    async def delivered(self, key: str) -> None:
        """Replies are out: forget their text (no message content is kept longer than needed)."""
        await self._s.execute(
            update(InboundUpdateRow)
            .where(InboundUpdateRow.key == key)
            .values(replied_at=self._clock.now(), replies_enc=None)
        )

    async def forget_before(self, days: int) -> None:
        cutoff = self._clock.now() - timedelta(days=days)
        await self._s.execute(delete(InboundUpdateRow).where(InboundUpdateRow.received_at < cutoff))


class ButtonTokenRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def issue(self, chat_key: str, actions: Sequence[str]) -> list[str]:
        """One fresh random token per action; old tokens of this chat are pruned."""
        now = self._clock.now()
        await self._s.execute(
            delete(ButtonTokenRow).where(
                ButtonTokenRow.chat_key == chat_key, ButtonTokenRow.created_at < now - TOKEN_LIFETIME
            )
        )
        tokens = [secrets.token_urlsafe(12) for _ in actions]
        self._s.add_all(
            ButtonTokenRow(chat_key=chat_key, token=token, action=action, created_at=now)
            for token, action in zip(tokens, actions, strict=True)
        )
        await self._s.flush()
        return tokens

    async def resolve(self, chat_key: str, token: str) -> str | None:
        """The action behind a token, only for the chat it was issued to."""
        if not token or len(token) > 24:
            return None
        stmt = select(ButtonTokenRow.action).where(ButtonTokenRow.token == token, ButtonTokenRow.chat_key == chat_key)
        return (await self._s.execute(stmt)).scalar_one_or_none()
