from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import IDENTITY_COLUMN, Keyring, SealBroken
from bot.db.models import ChannelIdentityRow, ConversationStateRow, DataRequestRow, ParticipantRow, StaffRow
from bot.domain.entities import Identity


@dataclass(frozen=True, slots=True)
class LinkedChat:
    identity: Identity
    participant: ParticipantRow | None
    staff: StaffRow | None
    state: ConversationStateRow | None


@functools.cache
def _find_for_message(keys: int) -> Any:
    """Built once per process and number of chat keys (one, or a few during a key rotation): every inbound message
    runs it (rebuilding it cost about a millisecond of CPU). One bound parameter per key rather than an expanding
    IN: an expanding parameter has its SQL rendered again on every execution (about a tenth of a message's CPU)."""
    return (
        select(ChannelIdentityRow, ParticipantRow, StaffRow, ConversationStateRow)
        .outerjoin(ParticipantRow, ParticipantRow.id == ChannelIdentityRow.participant_id)  # type: ignore[arg-type]
        .outerjoin(StaffRow, StaffRow.id == ChannelIdentityRow.staff_id)  # type: ignore[arg-type]
        .outerjoin(ConversationStateRow, ConversationStateRow.identity_id == ChannelIdentityRow.id)  # type: ignore[arg-type]
        .where(
            ChannelIdentityRow.channel == bindparam("channel"),
            ChannelIdentityRow.chat_key.in_([bindparam(f"key{i}") for i in range(keys)]),  # type: ignore[attr-defined]
        )
        .with_for_update(of=ChannelIdentityRow)
    )


def _identity(row: ChannelIdentityRow) -> Identity:
    assert row.id is not None
    return Identity(row.id, row.channel, row.participant_id, row.staff_id, row.linked_at, row.unreachable)


class IdentityRepository:
    """Chats are found by the keyed hash of (channel, platform id); the id itself is stored only sealed (crypto.py)."""

    def __init__(self, session: AsyncSession, clock: Clock, keyring: Keyring) -> None:
        self._s = session
        self._clock = clock
        self._keyring = keyring

    def _is(self, channel: str, external_id: str) -> ColumnElement[bool]:
        return and_(
            ChannelIdentityRow.channel == channel,
            ChannelIdentityRow.chat_key.in_(self._keyring.chat_keys(channel, external_id)),  # type: ignore[attr-defined]
        )

    def external_id(self, row: ChannelIdentityRow) -> str:
        """The platform id of a linked chat (`SealBroken` if the row was altered or re-pointed at someone else)."""
        return self._keyring.open_chat(row.external_id_enc, row.chat_key, row.participant_id, row.staff_id)

    async def find(self, channel: str, external_id: str) -> Identity | None:
        stmt = select(ChannelIdentityRow).where(self._is(channel, external_id))
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return _identity(row) if row else None

    async def find_for_message(self, channel: str, external_id: str) -> LinkedChat | None:
        """Everything a message needs about its chat in one round trip: the identity, the person behind it and the
        conversation state. The identity row is locked (PostgreSQL), so one person's messages never interleave."""
        keys = self._keyring.chat_keys(channel, external_id)
        params = {"channel": channel} | {f"key{i}": key for i, key in enumerate(keys)}
        found = (await self._s.execute(_find_for_message(len(keys)), params)).one_or_none()
        if found is None:
            return None
        identity_row, participant_row, staff_row, state_row = found
        if self.external_id(identity_row) != external_id:  # a row whose seal opens is this chat's; belt and braces
            raise SealBroken(IDENTITY_COLUMN, f"id={identity_row.id}")
        return LinkedChat(_identity(identity_row), participant_row, staff_row, state_row)

    async def link(
        self, channel: str, external_id: str, *, participant_id: int | None = None, staff_id: int | None = None
    ) -> Identity:
        if (participant_id is None) == (staff_id is None):
            raise ValueError("an identity links exactly one participant or one staff member")
        keyring = self._keyring
        chat_key, sealed = keyring.seal_chat(channel, external_id, participant_id=participant_id, staff_id=staff_id)
        row = ChannelIdentityRow(
            channel=channel,
            chat_key=chat_key,
            external_id_enc=sealed,
            participant_id=participant_id,
            staff_id=staff_id,
            linked_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        return _identity(row)

    async def unlink(self, identity_id: int) -> None:
        """The chat and its conversation state gone. A participant's download link for their copy of their data
        stops working too: it was sent to a chat that may now be someone else's (a lost phone, consent withdrawn, an
        officer's or the command line's unlink); the person asks again from their new chat."""
        owner = await self._s.execute(
            select(ChannelIdentityRow.participant_id).where(ChannelIdentityRow.id == identity_id)
        )
        participant_id = owner.scalar_one_or_none()
        await self._s.execute(delete(ConversationStateRow).where(ConversationStateRow.identity_id == identity_id))
        await self._s.execute(delete(ChannelIdentityRow).where(ChannelIdentityRow.id == identity_id))
        if participant_id is not None:
            await self._s.execute(
                update(DataRequestRow)
                .where(
                    DataRequestRow.participant_id == participant_id,
                    DataRequestRow.link_hash.is_not(None),  # type: ignore[union-attr]
                )
                .values(link_hash=None, link_until=None)
            )

    async def mark_unreachable(self, channel: str, external_id: str, unreachable: bool = True) -> Identity | None:
        """The platform says this chat cannot be reached (blocked the bot); later issues escalate it."""
        stmt = select(ChannelIdentityRow).where(self._is(channel, external_id))
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        if row is None:
            return None
        row.unreachable = unreachable
        await self._s.flush()
        return _identity(row)

    async def is_unreachable(self, channel: str, external_id: str) -> bool:
        stmt = select(ChannelIdentityRow.unreachable).where(self._is(channel, external_id))
        return bool((await self._s.execute(stmt)).scalar_one_or_none())

    async def for_channel(self, channel: str) -> list[tuple[str, Identity]]:
        """(external id, identity) pairs of one channel: the simulator lists its chats with this (rows whose seal does
        not open are left out)."""
        stmt = select(ChannelIdentityRow).where(ChannelIdentityRow.channel == channel).order_by(ChannelIdentityRow.id)
        pairs = []
        for row in (await self._s.execute(stmt)).scalars():
            try:
                pairs.append((self.external_id(row), _identity(row)))
            except SealBroken:
                continue
        return pairs

    async def unlink_person(
        self, *, participant_id: int | None = None, staff_id: int | None = None, channel: str | None = None
    ) -> list[str]:
        """Unlink one person's chats (all, or the one on `channel`) with their conversation state; the channels that
        were unlinked. The next message from such a chat is an unlinked chat's."""
        stmt = select(ChannelIdentityRow.id, ChannelIdentityRow.channel).where(_owner(participant_id, staff_id))
        if channel is not None:
            stmt = stmt.where(ChannelIdentityRow.channel == channel)
        found = (await self._s.execute(stmt.order_by(ChannelIdentityRow.id))).all()
        for identity_id, _ in found:
            await self.unlink(identity_id)
        return [name for _, name in found]

    async def count_of(self, *, participant_id: int | None = None, staff_id: int | None = None) -> int:
        """How many chats one person has linked."""
        stmt = select(func.count()).select_from(ChannelIdentityRow).where(_owner(participant_id, staff_id))
        return int((await self._s.execute(stmt)).scalar_one())


def _owner(participant_id: int | None, staff_id: int | None) -> ColumnElement[bool]:
    """The chats of exactly one participant or one staff member."""
    if (participant_id is None) == (staff_id is None):
        raise ValueError("name exactly one participant or one staff member")
    if participant_id is not None:
        return ChannelIdentityRow.participant_id == participant_id  # type: ignore[return-value]
    return ChannelIdentityRow.staff_id == staff_id  # type: ignore[return-value]
