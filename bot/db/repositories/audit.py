from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db import audit_mac
from bot.db.dialect import insert_ignoring, insert_many
from bot.db.models import AuditChainHeadRow, AuditEventRow, EncryptionKeyRow
from bot.domain.entities import Identity


class AuditRepository:
    """Writes entries with their MAC; the sealing and verification primitives for bot/services/audit_chain.py."""

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        key: bytes,
        previous: Sequence[bytes] = (),
        writing_key_id: str | None = None,
    ) -> None:
        self._s = session
        self._clock = clock
        self._key = key
        self._previous = tuple(previous)  # a key rotation under way: entries MACed or linked under these still hold
        self._writing_key_id = writing_key_id
        self._previous_until: datetime | None = None  # entries written up to then may carry a previous key's MAC

    async def load_key_window(self) -> None:
        """Read when the writing key was registered (encryption_key.added_at): a previous key's entry MAC holds only
        for an entry written up to then, so whoever still has an old key cannot add entries that pass. Until this
        is called (or when the writing key is not registered), only the writing key's MACs hold."""
        if not self._previous or self._writing_key_id is None:
            return
        stmt = select(EncryptionKeyRow.added_at).where(EncryptionKeyRow.key_id == self._writing_key_id)
        self._previous_until = (await self._s.execute(stmt)).scalar_one_or_none()

    async def record(
        self,
        *,
        actor_type: str,
        actor_id: int | None,
        action: str,
        outcome: str,
        subject_type: str | None = None,
        subject_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        row = AuditEventRow(
            at=self._clock.now(),
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            outcome=outcome,
            detail=audit_mac.plain_detail(detail),  # stored exactly as MACed: never a TypeError, never a false alarm
        )
        row.entry_mac = self.entry_mac(row)
        self._s.add(row)
        await self._s.flush()

    async def by_scheduler_many(self, action: str, entries: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Bulk form of `by_scheduler`: (participant id, detail) each, written in order in one statement."""
        if not entries:
            return
        at = self._clock.now()
        values = []
        for participant_id, detail in entries:
            entry = {"at": at, "actor_type": "scheduler", "actor_id": None, "action": action,
                     "subject_type": "participant", "subject_id": participant_id, "outcome": "ok",
                     "detail": audit_mac.plain_detail(detail)}  # fmt: skip
            values.append(entry | {"entry_mac": audit_mac.entry_mac(self._key, audit_mac.canonical(**entry))})
        # plain rows, not ORM objects: building and flushing thousands of those costs more than writing them
        await insert_many(self._s, AuditEventRow, values, lambda insert: insert)

    async def reachability(
        self, identity: Identity, channel: str, reachable: bool, actor_type: str = "channel"
    ) -> None:
        """A chat became (un)reachable: blocked the bot, undeliverable, or wrote again."""
        await self.record(
            actor_type=actor_type,
            actor_id=None,
            action="chat_reachability",
            outcome="reachable" if reachable else "unreachable",
            subject_type="participant" if identity.participant_id else "staff",
            subject_id=identity.participant_id or identity.staff_id,
            detail={"channel": channel},
        )

    async def by_scheduler(self, action: str, participant_id: int, detail: dict[str, Any], outcome: str = "ok") -> None:
        await self.record(
            actor_type="scheduler",
            actor_id=None,
            action=action,
            outcome=outcome,
            subject_type="participant",
            subject_id=participant_id,
            detail=detail,
        )

    async def search(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        staff_id: int | None = None,
        participant_id: int | None = None,
        action: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[AuditEventRow]:
        """Entries newest first, at most `limit`, with ids below `before` (the next page: one indexed range per
        page, never the whole log in memory). `staff_id` is the actor (a staff member in the console, or the
        operator's --as); `action` exactly, or every action starting with it when it ends with ":" ("denied:");
        `until` is exclusive."""
        stmt = select(AuditEventRow)
        if since is not None:
            stmt = stmt.where(AuditEventRow.at >= since)  # type: ignore[operator]
        if until is not None:
            stmt = stmt.where(AuditEventRow.at < until)  # type: ignore[operator]
        if staff_id is not None:
            stmt = stmt.where(
                AuditEventRow.actor_type.in_(("staff", "operator")),  # type: ignore[attr-defined]
                AuditEventRow.actor_id == staff_id,
            )
        if participant_id is not None:
            stmt = stmt.where(AuditEventRow.subject_type == "participant", AuditEventRow.subject_id == participant_id)
        if action:
            if action.endswith(":"):
                stmt = stmt.where(AuditEventRow.action.startswith(action, autoescape=True))  # type: ignore[attr-defined]
            else:
                stmt = stmt.where(AuditEventRow.action == action)
        if before is not None:
            stmt = stmt.where(AuditEventRow.id < before)  # type: ignore[operator]
        stmt = stmt.order_by(AuditEventRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        return list((await self._s.execute(stmt)).scalars())

    async def actions(self) -> list[str]:
        """Every action the log holds, sorted (to tell a mistyped action from one that never happened)."""
        stmt = select(AuditEventRow.action).distinct()
        return sorted(str(a) for a in (await self._s.execute(stmt)).scalars())

    async def recent(self, limit: int = 100) -> list[AuditEventRow]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        return list((await self._s.execute(stmt)).scalars())

    # --- tamper evidence ---------------------------------------------------------------------------------------

    def entry_mac(self, row: AuditEventRow, key: bytes | None = None) -> str:
        """The MAC the row's content should carry under the writing key (or `key`); compare with `row.entry_mac`."""
        return audit_mac.entry_mac(key or self._key, self._content(row))

    @staticmethod
    def _content(row: AuditEventRow) -> bytes:
        return audit_mac.canonical(
            at=row.at,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            outcome=row.outcome,
            detail=row.detail,
        )

    def redacted(self, row: AuditEventRow) -> bool:
        """The retention purge rewrote this entry (its subject made anonymous) and a redaction MAC, over its stored
        entry MAC and its present content, vouches for it under a key in use. Any other change still shows."""
        if row.redaction_mac is None or row.entry_mac is None:
            return False
        content = self._content(row)
        until = self._previous_until  # the same window as `valid_mac`: an old key vouches only for older entries
        keys = (self._key, *self._previous) if until is not None and row.at <= until else (self._key,)
        return any(
            audit_mac.same(row.redaction_mac, audit_mac.redaction_mac(key, row.entry_mac, content)) for key in keys
        )

    def redact(self, row: AuditEventRow, **changes: Any) -> None:
        """Rewrite an entry's subject, actor or detail (the purge's anonymous id for a person), keeping it provable:
        an entry that was valid gets a redaction MAC over its new content; one that was not stays invalid."""
        valid = self.valid_mac(row)
        for name, value in changes.items():
            setattr(row, name, value)
        row.redaction_mac = (
            audit_mac.redaction_mac(self._key, row.entry_mac, self._content(row))
            if valid and row.entry_mac is not None
            else None
        )

    def link(self, previous: str, mac: str, seq: int, row_id: int) -> str:
        return audit_mac.chain_link(self._key, previous, mac, seq, row_id)

    def valid_mac(self, row: AuditEventRow) -> bool:
        """The row's MAC holds under the writing key, or under a key a rotation still accepts for an entry written
        before the writing key was registered (see `load_key_window`); or a redaction vouches for it (`redacted`)."""
        until = self._previous_until
        keys = (self._key, *self._previous) if until is not None and row.at <= until else (self._key,)
        if any(audit_mac.same(row.entry_mac, self.entry_mac(row, key)) for key in keys):
            return True
        return self.redacted(row)

    def valid_link(self, previous: str, row: AuditEventRow) -> bool:
        """The row's chain hash links it to `previous` under the writing key or a key a rotation still accepts."""
        if row.entry_mac is None or row.seq is None or row.id is None:
            return False
        return any(
            audit_mac.same(row.chain, audit_mac.chain_link(key, previous, row.entry_mac, row.seq, row.id))
            for key in (self._key, *self._previous)
        )

    async def has_candidates(self) -> bool:
        """Is anything waiting to be sealed? A read only, so a tick with nothing to seal takes no lock and writes
        nothing; entries once refused carry `REJECTED` and are not looked at again."""
        return (await self._s.execute(self._candidates().limit(1))).first() is not None

    async def candidates(self, limit: int) -> Sequence[AuditEventRow]:
        """The oldest entries waiting to be sealed (call under `lock_head`)."""
        stmt = self._candidates().limit(limit).execution_options(populate_existing=True)
        return list((await self._s.execute(stmt)).scalars())

    @staticmethod
    def _candidates() -> Any:
        return (
            select(AuditEventRow)
            .where(AuditEventRow.seq.is_(None), AuditEventRow.chain.is_(None))  # type: ignore[union-attr]
            .order_by(AuditEventRow.id)  # type: ignore[arg-type]
        )

    @staticmethod
    def reject(row: AuditEventRow) -> None:
        """Mark an entry the sealer refused: its content (what the MAC covers) is left exactly as it was found."""
        row.chain = audit_mac.REJECTED

    async def lock_head(self) -> AuditChainHeadRow:
        """The chain's head, locked until the transaction ends: a write first, so SQLite takes its one write lock
        and PostgreSQL the row lock before anything is read (two sealers never extend the same head)."""
        await self._s.execute(
            insert_ignoring(self._s, AuditChainHeadRow, "id").values(id=1, seq=0, chain=audit_mac.GENESIS)
        )
        await self._s.execute(
            update(AuditChainHeadRow).where(AuditChainHeadRow.id == 1).values(seq=AuditChainHeadRow.seq)
        )
        stmt = select(AuditChainHeadRow).where(AuditChainHeadRow.id == 1).with_for_update()
        return (await self._s.execute(stmt.execution_options(populate_existing=True))).scalar_one()

    async def head(self) -> AuditChainHeadRow | None:
        stmt = select(AuditChainHeadRow).where(AuditChainHeadRow.id == 1).execution_options(populate_existing=True)
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def unsealed(self, after_id: int, limit: int) -> Sequence[AuditEventRow]:
        """Entries without a place in the chain (waiting, or refused), in id order; for verification."""
        stmt = (
            select(AuditEventRow)
            .where(AuditEventRow.seq.is_(None), AuditEventRow.id > after_id)  # type: ignore[union-attr,operator]
            .order_by(AuditEventRow.id)  # type: ignore[arg-type]
            .limit(limit)
        )
        return list((await self._s.execute(stmt)).scalars())

    async def sealed_page(self, after_seq: int, upto_seq: int, limit: int) -> Sequence[AuditEventRow]:
        stmt = (
            select(AuditEventRow)
            .where(AuditEventRow.seq > after_seq, AuditEventRow.seq <= upto_seq)  # type: ignore[operator]
            .order_by(AuditEventRow.seq)  # type: ignore[arg-type]
            .limit(limit)
        )
        return list((await self._s.execute(stmt)).scalars())

    async def first_sealed_after(self, seq: int) -> int | None:
        """The id of the lowest-numbered entry after `seq` in the chain, if any (one statement, one snapshot)."""
        stmt = (
            select(AuditEventRow.id)
            .where(AuditEventRow.seq > seq)  # type: ignore[operator]
            .order_by(AuditEventRow.seq)  # type: ignore[arg-type]
            .limit(1)
        )
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def count(self) -> int:
        return int((await self._s.execute(select(func.count()).select_from(AuditEventRow))).scalar_one())

    async def flush(self) -> None:
        await self._s.flush()
