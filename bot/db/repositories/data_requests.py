"""A person's requests about their own data: a copy or a correction (bot/domain/data_requests.py). A correction's
words are sealed for their row; a copy's download link is kept only as the hash of its token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.models import ChannelIdentityRow, DataRequestRow, ParticipantRow, StaffRow
from bot.domain.data_requests import RequestKind, RequestStatus
from bot.domain.entities import Role


@dataclass(frozen=True, slots=True)
class DataRequest:
    id: int
    participant_id: int
    kind: RequestKind
    status: RequestStatus
    requested_at: datetime
    due_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None
    reason: str | None = None
    overdue_at: datetime | None = None
    delivered_at: datetime | None = None
    link_until: datetime | None = None
    link_used_at: datetime | None = None


def _request(row: DataRequestRow) -> DataRequest:
    assert row.id is not None
    return DataRequest(
        row.id, row.participant_id, RequestKind(row.kind), RequestStatus(row.status), row.requested_at, row.due_at,
        row.decided_at, row.decided_by, row.reason, row.overdue_at, row.delivered_at, row.link_until,
        row.link_used_at,
    )  # fmt: skip


class DataRequestRepository:
    _TEXT = "data_request.text"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def add(self, participant_id: int, kind: RequestKind, due_at: datetime, text: str | None = None) -> int:
        row = DataRequestRow(
            participant_id=participant_id, kind=kind.value, requested_at=self._clock.now(), due_at=due_at
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        if text is not None:  # sealed for the row once it has its id
            row.text_enc = self._cipher.encrypt(text, self._TEXT, row_ref(id=row.id, participant=participant_id))
            await self._s.flush()
        return row.id

    async def get(self, request_id: int) -> DataRequest | None:
        row = await self._s.get(DataRequestRow, request_id)
        return _request(row) if row is not None else None

    async def text_of(self, request_id: int) -> str | None:
        """A correction's words (sealed at rest; only the officer deciding it and the person see them)."""
        row = await self._s.get(DataRequestRow, request_id)
        if row is None or row.text_enc is None:
            return None
        return self._cipher.decrypt(row.text_enc, self._TEXT, row_ref(id=row.id, participant=row.participant_id))

    async def of_participant(self, participant_id: int, limit: int = 50) -> list[DataRequest]:
        stmt = (
            select(DataRequestRow)
            .where(DataRequestRow.participant_id == participant_id)
            .order_by(DataRequestRow.id.desc())  # type: ignore[union-attr]
            .limit(limit)
        )
        return [_request(r) for r in (await self._s.execute(stmt)).scalars()]

    async def open_of(self, participant_id: int, kind: RequestKind) -> DataRequest | None:
        stmt = select(DataRequestRow).where(
            DataRequestRow.participant_id == participant_id,
            DataRequestRow.kind == kind.value,
            DataRequestRow.status == RequestStatus.PENDING.value,
        )
        row = (await self._s.execute(stmt.limit(1))).scalars().first()
        return _request(row) if row is not None else None

    async def of_unit(self, unit_id: int, *, pending: bool, limit: int = 200) -> list[DataRequest]:
        """The requests of the people listed in this commune now: the pending ones (oldest deadline first), or the
        decided ones (newest first)."""
        stmt = (
            select(DataRequestRow)
            .join(ParticipantRow, ParticipantRow.id == DataRequestRow.participant_id)
            .where(ParticipantRow.unit_id == unit_id)
        )
        if pending:
            stmt = stmt.where(DataRequestRow.status == RequestStatus.PENDING.value).order_by(
                DataRequestRow.due_at, DataRequestRow.id
            )
        else:
            stmt = stmt.where(DataRequestRow.status != RequestStatus.PENDING.value).order_by(
                DataRequestRow.decided_at.desc(),
                DataRequestRow.id.desc(),  # type: ignore[union-attr]
            )
        return [_request(r) for r in (await self._s.execute(stmt.limit(limit))).scalars()]

    async def decide(self, request_id: int, status: RequestStatus, by: int | None, reason: str | None) -> bool:
        """Decided once: False when it was decided meanwhile (two officers, a double click)."""
        stmt = (
            update(DataRequestRow)
            .where(DataRequestRow.id == request_id, DataRequestRow.status == RequestStatus.PENDING.value)
            .values(status=status.value, decided_by=by, decided_at=self._clock.now(), reason=reason)
        )
        return (await self._s.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def overdue_unflagged(self, now: datetime, limit: int = 500) -> list[DataRequest]:
        """Pending past their deadline, the officers and admins not yet told."""
        stmt = (
            select(DataRequestRow)
            .where(
                DataRequestRow.status == RequestStatus.PENDING.value,
                DataRequestRow.due_at < now,
                DataRequestRow.overdue_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(DataRequestRow.id)
            .limit(limit)
        )
        return [_request(r) for r in (await self._s.execute(stmt)).scalars()]

    async def flag_overdue(self, request_id: int) -> bool:
        stmt = (
            update(DataRequestRow)
            .where(DataRequestRow.id == request_id, DataRequestRow.overdue_at.is_(None))  # type: ignore[union-attr]
            .values(overdue_at=self._clock.now())
        )
        return (await self._s.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def delivered(self, request_id: int) -> None:
        await self._s.execute(
            update(DataRequestRow).where(DataRequestRow.id == request_id).values(delivered_at=self._clock.now())
        )

    async def set_link(self, request_id: int, link_hash: str, until: datetime) -> None:
        """A new one-time link for this copy; any earlier one stops working (only one hash is kept)."""
        await self._s.execute(
            update(DataRequestRow)
            .where(DataRequestRow.id == request_id)
            .values(link_hash=link_hash, link_until=until, link_used_at=None)
        )

    def _usable(self, link_hash: str, now: datetime) -> list[ColumnElement[bool]]:
        """An unused, unexpired link of an approved copy whose person is still on a linked chat (unlinking clears
        the link too; this holds for a chat deleted in any other way). Leaving the list does not end the right to
        one's copy: the purge does, with the request itself."""
        return [
            DataRequestRow.link_hash == link_hash,
            DataRequestRow.link_used_at.is_(None),  # type: ignore[union-attr]
            DataRequestRow.link_until > now,  # type: ignore[operator]
            DataRequestRow.status == RequestStatus.APPROVED.value,
            exists().where(ChannelIdentityRow.participant_id == DataRequestRow.participant_id),
        ]

    async def usable_link(self, link_hash: str, now: datetime) -> DataRequest | None:
        """The approved copy behind a link that would be spent now, without spending it (the copy is made first)."""
        stmt = select(DataRequestRow).where(*self._usable(link_hash, now))
        found = (await self._s.execute(stmt)).scalars().first()
        return _request(found) if found is not None else None

    async def spend_link(self, link_hash: str, now: datetime) -> DataRequest | None:
        """The approved copy behind a usable link, the link spent now (once: a replay, or a second request racing
        this one, finds nothing)."""
        stmt = update(DataRequestRow).where(*self._usable(link_hash, now)).values(link_used_at=now)
        if (await self._s.execute(stmt)).rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = (await self._s.execute(select(DataRequestRow).where(DataRequestRow.link_hash == link_hash))).scalars()
        found = row.first()
        return _request(found) if found is not None else None

    async def admins_of(self, province_id: int) -> list[int]:
        """The active admins of a province (told once when a request is overdue)."""
        stmt = select(StaffRow.id).where(
            StaffRow.unit_id == province_id,
            StaffRow.role == Role.ADMIN.value,
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
        )
        return list((await self._s.execute(stmt.order_by(StaffRow.id))).scalars())

    async def chats_of(self, participant_id: int) -> list[tuple[str, datetime]]:
        """The person's linked chats: which platform, since when (never the platform's id)."""
        stmt = (
            select(ChannelIdentityRow.channel, ChannelIdentityRow.linked_at)
            .where(ChannelIdentityRow.participant_id == participant_id)
            .order_by(ChannelIdentityRow.id)
        )
        return [(channel, at) for channel, at in (await self._s.execute(stmt)).all()]
