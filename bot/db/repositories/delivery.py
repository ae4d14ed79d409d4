"""Exactly-once handling of platform updates."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Button, OutboundMessage
from bot.db.crypto import FieldCipher, SealBroken, row_ref
from bot.db.dialect import dialect_name, insert_ignoring
from bot.db.models import InboundUpdateRow

_REPLIES = "inbound_update.replies"

# Every update of every chat runs the statements below: each is built once per process (with bound parameters) and
# run as Core statements, not rebuilt and re-coerced per update (about half a millisecond of CPU each) and not
# through the ORM's bulk paths (which look for loaded rows to synchronise: none are ever loaded here).
_TABLE = InboundUpdateRow.__table__  # type: ignore[attr-defined]


@functools.cache
def _record_statement(dialect: str) -> Any:
    return insert_ignoring(dialect, _TABLE).values(
        key=bindparam("key"),
        chat_key=bindparam("chat_key"),
        received_at=bindparam("received_at"),
        replies_enc=bindparam("replies_enc"),
    )


_COUNT_SINCE = select(func.count()).where(
    _TABLE.c.chat_key == bindparam("chat_key"), _TABLE.c.received_at >= bindparam("since")
)
_RECORDED = select(_TABLE.c.key).where(_TABLE.c.key == bindparam("key"))
# Keys confirmed per statement at most; a batch is padded (with its last key again) to a power of two, so there are
# a few statements, each compiled once, rather than an expanding IN whose SQL is rendered on every execution.
_DELIVERED_AT_ONCE = 64


@functools.cache
def _delivered_statement(keys: int) -> Any:
    return (
        update(_TABLE)
        .where(_TABLE.c.key.in_([bindparam(f"key{i}") for i in range(keys)]))
        .values(replied_at=bindparam("now"), replies_enc=None)
    )


def _dump(replies: Sequence[OutboundMessage]) -> str:
    # "no_preview" only when set: a redelivered sign-in link goes out without a preview too.
    return json.dumps(
        [
            {"text": r.text, "buttons": [[b.label, b.action] for b in r.buttons]}
            | ({"no_preview": True} if r.no_preview else {})
            for r in replies
        ]
    )


def _load(raw: str) -> list[OutboundMessage]:
    return [
        OutboundMessage(
            item["text"],
            tuple(Button(label, action) for label, action in item["buttons"]),
            no_preview=bool(item.get("no_preview")),
        )
        for item in json.loads(raw)
    ]


class InboundRepository:
    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def record(self, key: str, chat_key: str, replies: Sequence[OutboundMessage]) -> bool:
        """Record an update of a chat (its keyed hash) as handled, with its replies until they are delivered; False
        if it was seen before.

        INSERT … ON CONFLICT DO NOTHING at the end of the handling transaction: a redelivery (or a concurrent
        duplicate, which PostgreSQL makes wait for the first) finds the key taken and its transaction is rolled back.
        """
        sealed = self._cipher.encrypt(_dump(replies), _REPLIES, row_ref(key=key)) if replies else None
        values = {"key": key, "chat_key": chat_key, "received_at": self._clock.now(), "replies_enc": sealed}
        result = await self._s.execute(_record_statement(dialect_name(self._s)), values)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def recorded(self, key: str) -> bool:
        """An update with this key was handled (the dedupe check under an older key, during a key rotation)."""
        return (await self._s.execute(_RECORDED, {"key": key})).first() is not None

    async def undelivered(self, key: str, chat_key: str) -> list[OutboundMessage]:
        """Replies committed for an update but never confirmed as delivered (the process died in between), only to
        the chat the update came from: never another chat's replies, whatever the key."""
        row = (await self._s.execute(select(InboundUpdateRow).where(InboundUpdateRow.key == key))).scalar_one_or_none()
        if row is None or row.chat_key != chat_key or row.replies_enc is None or row.replied_at is not None:
            return []
        try:
            return _load(self._cipher.decrypt(row.replies_enc, _REPLIES, row_ref(key=row.key)))
        except SealBroken:  # copied from another update's row or altered: nothing is resent
            return []

    async def delivered(self, *keys: str) -> None:
        """Replies are out: forget their text (no message content is kept longer than needed)."""
        now = self._clock.now()
        for start in range(0, len(keys), _DELIVERED_AT_ONCE):
            batch = keys[start : start + _DELIVERED_AT_ONCE]
            size = 1 << (len(batch) - 1).bit_length()
            padded = [*batch, *[batch[-1]] * (size - len(batch))]
            params = {"now": now} | {f"key{i}": key for i, key in enumerate(padded)}
            await self._s.execute(_delivered_statement(size), params)

    async def count_since(self, chat_key: str, since: datetime) -> int:
        """Updates recorded for a chat since a moment (the per-chat inbound limit)."""
        return int((await self._s.execute(_COUNT_SINCE, {"chat_key": chat_key, "since": since})).scalar_one())

    async def claim(self, mark: str) -> bool:
        """Take a one-off mark (e.g. "this chat's unreadable record was audited this hour"); False if already taken.

        Kept as a row of no chat under a key no update has (marks start with "!", update keys with a chat's hash):
        counted for no chat's limit, never redelivered, and forgotten by the daily purge like any update. The unique
        key makes it once only even when two workers race."""
        values = {"key": mark, "chat_key": None, "received_at": self._clock.now(), "replies_enc": None}
        result = await self._s.execute(insert_ignoring(self._s, InboundUpdateRow).values(**values))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def forget_before(self, cutoff: datetime) -> int:
        """Forget updates received before `cutoff` (they can no longer be redelivered); how many went."""
        result = await self._s.execute(delete(InboundUpdateRow).where(InboundUpdateRow.received_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]
