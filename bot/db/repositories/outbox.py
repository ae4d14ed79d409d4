"""The outbox: messages the system sends on its own, each once, claimed under a lease."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.dialect import first_per_key_columns, insert_columns, is_postgres
from bot.db.models import (
    ChannelIdentityRow,
    EscalationRow,
    FieldReportRow,
    ObligationRow,
    OutboxRow,
    ParticipantRow,
    ReferralRow,
    RelayMessageRow,
    StaffRow,
    TestResultRow,
    TransferRow,
    UnitRow,
)
from bot.domain.planning import MessageKind


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"  # leased by a dispatcher; a lease that runs out makes the row claimable again
    SENT = "sent"
    CANCELLED = "cancelled"  # no longer wanted (done, rescheduled, consent withdrawn, term ended, nothing to say)
    UNDELIVERABLE = "undeliverable"  # the platform says this chat cannot be reached
    DEAD = "dead"  # gave up after every attempt; the officer is told
    # To a staff member with no chat the bot can reach yet (never linked, or unlinked since): kept, not a failure,
    # until they link one (`settle_held` puts it back in the queue) or it expires at `next_attempt_at`.
    HELD = "held"


# A staff notification is about the participant its payload names, directly or through the record it refers to.
_SUBJECTS: dict[str, Any] = {
    "escalation_id": EscalationRow,
    "referral_id": ReferralRow,
    "report_id": FieldReportRow,
    "transfer_id": TransferRow,
    "result_id": TestResultRow,
    "relay_id": RelayMessageRow,
}


_REVIVABLE = ("inactive", "replanned")

# PostgreSQL NOTIFY channel: an urgent row was queued (sent with the insert's transaction, so only once it is
# committed and claimable); the process sending the outbox LISTENs and sends it at once (bot/scheduler/leader.py).
URGENT_NOTIFY = "aftercare_outbox_urgent"


@dataclass(frozen=True, slots=True)
class NewMessage:
    key: str
    kind: MessageKind
    due_at: datetime
    participant_id: int | None = None
    staff_id: int | None = None
    payload: dict[str, Any] | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: str
    kind: MessageKind
    participant_id: int | None
    staff_id: int | None
    payload: dict[str, Any]
    attempts: int  # also the claim's token: every claim adds one, so a row someone else claimed since differs
    due_at: datetime
    urgent: bool = False
    leased_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A notification kept for a staff member until they link a chat, as their console home lists it: what kind,
    raised when, about which participant (None: about no one, e.g. a digest). No content."""

    id: int
    kind: MessageKind
    created_at: datetime
    participant_id: int | None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Planned:
    id: int
    due_at: datetime


class OutboxRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def add(self, messages: Sequence[NewMessage], *, revive: bool = False) -> None:
        """INSERT … ON CONFLICT DO NOTHING: planning twice, or in two processes, queues each message once.

        `revive`: a reminder the planner had cancelled because it was no longer wanted (consent withdrawn, replanned)
        comes back when it is wanted again; one cancelled for being done or stale stays closed."""
        if not messages:
            return
        count, due = len(messages), [m.due_at for m in messages]
        values = {  # column by column (`insert_columns`): the planner adds tens of thousands at once
            "key": [m.key for m in messages],
            "kind": [m.kind.value for m in messages],
            "participant_id": [m.participant_id for m in messages],
            "staff_id": [m.staff_id for m in messages],
            "payload": [m.payload or {} for m in messages],
            "urgent": [m.urgent for m in messages],
            "due_at": due,
            "next_attempt_at": due,
            "status": [OutboxStatus.PENDING] * count,
            "attempts": [0] * count,
            "created_at": [self._clock.now()] * count,
        }
        if is_postgres(self._s) and any(m.urgent for m in messages):
            await self._s.execute(text("SELECT pg_notify(:channel, '')"), {"channel": URGENT_NOTIFY})
        if not revive:
            await insert_columns(
                self._s, OutboxRow, values, lambda stmt: stmt.on_conflict_do_nothing(index_elements=["key"])
            )
            return

        def revived(stmt: Any) -> Any:
            return stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "status": OutboxStatus.PENDING,
                    "due_at": stmt.excluded.due_at,
                    "next_attempt_at": stmt.excluded.next_attempt_at,
                    "payload": stmt.excluded.payload,
                    "attempts": 0,
                    "last_error": None,
                },
                where=(OutboxRow.status == OutboxStatus.CANCELLED)
                & or_(*(OutboxRow.last_error == r for r in _REVIVABLE)),
            )

        await insert_columns(self._s, OutboxRow, first_per_key_columns(values), revived)

    async def pending_reminders(self, participant_ids: Sequence[int]) -> dict[str, Planned]:
        stmt = select(OutboxRow.key, OutboxRow.id, OutboxRow.due_at).where(
            OutboxRow.participant_id.in_(participant_ids),  # type: ignore[union-attr]
            OutboxRow.kind == MessageKind.REMINDER.value,
            OutboxRow.status == OutboxStatus.PENDING,
        )
        return {key: Planned(oid, due) for key, oid, due in (await self._s.execute(stmt)).all()}

    async def pending_reminders_in_range(self, first_id: int, last_id: int) -> dict[int, dict[str, Planned]]:
        """`pending_reminders` of the participants `first_id` … `last_id` (the planner's page), by participant: one
        indexed range read (see `ObligationRepository.of_participant_range` for why not an IN list)."""
        stmt = select(OutboxRow.participant_id, OutboxRow.key, OutboxRow.id, OutboxRow.due_at).where(
            OutboxRow.participant_id >= first_id,  # type: ignore[operator]
            OutboxRow.participant_id <= last_id,  # type: ignore[operator]
            OutboxRow.status == OutboxStatus.PENDING,
            OutboxRow.kind == MessageKind.REMINDER.value,
        )
        found: dict[int, dict[str, Planned]] = {}
        for pid, key, oid, due in (await self._s.execute(stmt)).all():
            found.setdefault(pid, {})[key] = Planned(oid, due)
        return found

    async def reschedule(self, changes: Sequence[tuple[int, datetime]]) -> None:
        for outbox_id, due in changes:
            await self._s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == outbox_id, OutboxRow.status == OutboxStatus.PENDING)
                .values(due_at=due, next_attempt_at=due)
            )

    async def cancel(self, ids: Sequence[int], reason: str) -> None:
        if ids:
            await self._s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(ids)), OutboxRow.status == OutboxStatus.PENDING)  # type: ignore[union-attr]
                .values(status=OutboxStatus.CANCELLED, last_error=reason)
            )

    async def cancel_reminders_of_inactive(self) -> None:
        """Consent withdrawn, unlinked, completed or transferred: their pending reminders go."""
        inactive = select(ParticipantRow.id).where(ParticipantRow.status != "active")
        await self._s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.PENDING,
                OutboxRow.kind == MessageKind.REMINDER.value,
                OutboxRow.participant_id.in_(inactive),  # type: ignore[union-attr]
            )
            .values(status=OutboxStatus.CANCELLED, last_error="inactive")
        )

    async def cancel_all_reminders_of(self, participant_id: int, reason: str) -> None:
        await self._s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.PENDING,
                OutboxRow.kind == MessageKind.REMINDER.value,
                OutboxRow.participant_id == participant_id,
            )
            .values(status=OutboxStatus.CANCELLED, last_error=reason)
        )

    async def cancel_all_to_staff(self, staff_id: int, reason: str) -> int:
        """A staff member's account was closed: nothing still pending or held for them goes out (digests, alerts,
        conversation pushes); how many were cancelled."""
        waiting = (OutboxStatus.PENDING, OutboxStatus.HELD)
        result = await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.status.in_(waiting), OutboxRow.staff_id == staff_id)  # type: ignore[attr-defined]
            .values(status=OutboxStatus.CANCELLED, last_error=reason)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def claim(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        urgent_only: bool = False,
        urgent_lease: timedelta | None = None,
    ) -> list[Claimed]:
        """Take up to `limit` due rows, urgent ones first (a crisis alert jumps a morning's reminders), then oldest
        first, in one statement: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` on PostgreSQL, so
        parallel dispatchers never take the same row; on SQLite the single statement runs under the database's one
        writer lock. A lease that ran out (a dispatcher died) is reclaimed.

        Urgent rows (crisis alerts, conversations) take `urgent_lease` when given: after a crash they are sent again
        within seconds, not after the normal lease."""
        due = or_(
            and_(OutboxRow.status == OutboxStatus.PENDING, OutboxRow.next_attempt_at <= now),
            and_(OutboxRow.status == OutboxStatus.SENDING, OutboxRow.leased_until <= now),  # type: ignore[operator]
        )
        until: Any = now + lease
        if urgent_lease is not None and urgent_lease != lease:
            column_type = OutboxRow.__table__.c.leased_until.type  # type: ignore[attr-defined]
            until = case(
                (OutboxRow.urgent.is_(True), literal(now + urgent_lease, column_type)),  # type: ignore[attr-defined]
                else_=literal(now + lease, column_type),
            )
        pick = select(OutboxRow.id).where(due)
        if urgent_only:
            pick = pick.where(OutboxRow.urgent.is_(True))  # type: ignore[attr-defined]
        pick = pick.order_by(OutboxRow.urgent.desc(), OutboxRow.due_at, OutboxRow.id).limit(limit)  # type: ignore[attr-defined]
        picked: Any = pick.scalar_subquery()
        if is_postgres(self._s):
            # Picked once, in a materialized CTE: as a plain IN (subquery), PostgreSQL may plan a nested loop that
            # runs the subquery again for each row it updates, and each run, no longer seeing the rows just claimed,
            # picks the next `limit`: one claim then took every due row (seen on a new table without statistics).
            chosen = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
            picked = select(chosen.c.id).scalar_subquery()
        stmt = (
            update(OutboxRow)
            .where(OutboxRow.id.in_(picked), due)  # type: ignore[union-attr]
            .values(status=OutboxStatus.SENDING, leased_until=until, attempts=OutboxRow.attempts + 1)
            .returning(
                OutboxRow.id,
                OutboxRow.key,
                OutboxRow.kind,
                OutboxRow.participant_id,
                OutboxRow.staff_id,
                OutboxRow.payload,
                OutboxRow.attempts,
                OutboxRow.due_at,
                OutboxRow.urgent,
                OutboxRow.leased_until,
            )
            .execution_options(synchronize_session=False)
        )
        rows = (await self._s.execute(stmt)).all()
        claimed = [
            Claimed(r[0], r[1], MessageKind(r[2]), r[3], r[4], dict(r[5] or {}), r[6], r[7], bool(r[8]), r[9])
            for r in rows
        ]
        return sorted(claimed, key=lambda c: (not c.urgent, c.due_at, c.id))

    async def release_leases(self, now: datetime, grace: timedelta) -> int:
        """Every row still leased becomes claimable `grace` from now (not at once, and not after its five-minute
        lease). Only for a process that has just taken the send lock: the one before it died or lost its lock
        connection. A live one may not know yet (up to the lock check's period and timeout, plus a platform call in
        progress): for `grace` it may still finish what it had started, and its write-backs stay its own (each is
        conditional on its claim). Only what it had in flight when it died is sent twice."""
        until = now + grace
        result = await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.status == OutboxStatus.SENDING, OutboxRow.leased_until > until)  # type: ignore[operator]
            .values(leased_until=until)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def preload(self, claimed: Sequence[Claimed]) -> list[object]:
        """Load what rendering a batch reads row by row (each recipient, a participant's unit, the obligation a
        payload names) in one query per table, into this session's identity map: the renderers' `session.get`s then
        find them there instead of asking the database three times per message. Only a cache: rendering reads the
        same rows either way, and a row missing here is simply fetched by its renderer. The caller holds the list
        returned while it renders (the identity map keeps only weak references)."""
        participants = sorted({c.participant_id for c in claimed if c.participant_id is not None})
        staff = sorted({c.staff_id for c in claimed if c.staff_id is not None})
        refs = (c.payload.get("obligation_id") for c in claimed)
        obligations = sorted({ref for ref in refs if isinstance(ref, int) and not isinstance(ref, bool)})
        loaded: list[Any] = []
        if participants:
            stmt = select(ParticipantRow).where(ParticipantRow.id.in_(participants))  # type: ignore[union-attr]
            loaded += (await self._s.execute(stmt)).scalars()
        if staff:
            loaded += (await self._s.execute(select(StaffRow).where(StaffRow.id.in_(staff)))).scalars()  # type: ignore[union-attr]
        units = sorted({row.unit_id for row in loaded if row.unit_id is not None})
        if obligations:
            stmt = select(ObligationRow).where(ObligationRow.id.in_(obligations))  # type: ignore[union-attr]
            loaded += (await self._s.execute(stmt)).scalars()
        if units:
            loaded += (await self._s.execute(select(UnitRow).where(UnitRow.id.in_(units)))).scalars()  # type: ignore[union-attr]
        return loaded

    async def extend_lease(self, held: Sequence[Claimed], until: datetime) -> set[int]:
        """Keep rows this dispatcher still holds leased until `until`: only those still `sending` under its own
        claim (same attempt count; a row another dispatcher reclaimed since is left to it). Returns the ids kept;
        a row missing from them must not be sent by the caller."""
        if not held:
            return set()
        stmt = (
            update(OutboxRow)
            .where(_mine(held), OutboxRow.status == OutboxStatus.SENDING)
            .values(leased_until=until)
            .returning(OutboxRow.id)
            .execution_options(synchronize_session=False)
        )
        return set((await self._s.execute(stmt)).scalars())

    async def finish(self, held: Sequence[Claimed], status: str, error: str | None = None) -> None:
        """Close leased rows: sent, cancelled, undeliverable or dead. Like every write-back, only rows still under
        this dispatcher's own claim (same attempt count): a row a new sender reclaimed meanwhile (this one lost the
        send lock) is that sender's, and writing it back would make it claimable and sent once more."""
        if not held:
            return
        values: dict[str, Any] = {"status": status, "leased_until": None, "last_error": error}
        if status == OutboxStatus.SENT:
            values["sent_at"] = self._clock.now()
        await self._s.execute(
            update(OutboxRow)
            .where(_mine(held), OutboxRow.status == OutboxStatus.SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def retry_at(self, item: Claimed, when: datetime, error: str, *, refund: bool = False) -> None:
        """Back to pending until `when` (under this dispatcher's claim only, see `finish`); `refund` when it was not
        even tried (the channel was paused)."""
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": when,
            "leased_until": None,
            "last_error": error,
        }
        if refund:
            values["attempts"] = OutboxRow.attempts - 1
        await self._s.execute(
            update(OutboxRow)
            .where(_mine([item]), OutboxRow.status == OutboxStatus.SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def hold(self, item: Claimed, until: datetime) -> None:
        """Keep a claimed staff notification until its staff member links a chat, at most until `until`: not a
        failed attempt (the claim's count is given back), retried by nothing but `settle_held`."""
        await self._s.execute(
            update(OutboxRow)
            .where(_mine([item]), OutboxRow.status == OutboxStatus.SENDING)
            .values(
                status=OutboxStatus.HELD,
                next_attempt_at=until,
                leased_until=None,
                last_error="no_chat",
                attempts=OutboxRow.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )

    async def settle_held(self, now: datetime) -> tuple[int, int]:
        """Held notifications past their time are cancelled ("expired"); those whose staff member now has a chat the
        bot can reach go back in the queue, due now (sent oldest first, within quiet hours, like any other).
        Returns (expired, released). One cheap read when nothing is held, so every dispatch can call it."""
        held = select(OutboxRow.id).where(OutboxRow.status == OutboxStatus.HELD).limit(1)
        if (await self._s.execute(held)).first() is None:
            return 0, 0
        expired = await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.status == OutboxStatus.HELD, OutboxRow.next_attempt_at <= now)
            .values(status=OutboxStatus.CANCELLED, last_error="expired")
            .execution_options(synchronize_session=False)
        )
        reachable = select(ChannelIdentityRow.staff_id).where(
            ChannelIdentityRow.staff_id.is_not(None),  # type: ignore[union-attr]
            ChannelIdentityRow.unreachable.is_(False),  # type: ignore[attr-defined]
        )
        released = await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.status == OutboxStatus.HELD, OutboxRow.staff_id.in_(reachable))  # type: ignore[union-attr]
            .values(status=OutboxStatus.PENDING, next_attempt_at=now, last_error="held")
            .execution_options(synchronize_session=False)
        )
        return int(expired.rowcount or 0), int(released.rowcount or 0)  # type: ignore[attr-defined]

    async def waiting_for_staff(self, staff_id: int, limit: int = 200) -> list[Waiting]:
        """What is kept for this staff member until they link a chat, oldest first (their console home lists it
        meanwhile): kind, when it was raised and about whom, never content. Expired ones are left out."""
        stmt = (
            select(
                OutboxRow.id,
                OutboxRow.kind,
                OutboxRow.created_at,
                OutboxRow.participant_id,
                OutboxRow.payload,
                OutboxRow.urgent,
            )
            .where(
                OutboxRow.staff_id == staff_id,
                OutboxRow.status == OutboxStatus.HELD,
                OutboxRow.next_attempt_at > self._clock.now(),
            )
            .order_by(OutboxRow.due_at, OutboxRow.id)
            .limit(limit)
        )
        rows = (await self._s.execute(stmt)).all()
        refs: dict[str, set[int]] = {}
        for row in rows:
            key, ref = _subject_ref(row.payload)
            if key in _SUBJECTS and ref is not None:  # a record to look the person up in (not the person's own id)
                refs.setdefault(key, set()).add(ref)
        found: dict[tuple[str, int], int] = {}
        for key, ids in refs.items():
            model = _SUBJECTS[key]
            pairs = await self._s.execute(select(model.id, model.participant_id).where(model.id.in_(sorted(ids))))
            found |= {(key, rid): pid for rid, pid in pairs.all()}
        waiting = []
        for row in rows:
            about = row.participant_id
            if about is None:
                key, ref = _subject_ref(row.payload)
                about = ref if key == "participant_id" else found.get((key or "", ref or 0))
            waiting.append(Waiting(row.id, MessageKind(row.kind), row.created_at, about, bool(row.urgent)))
        return waiting

    async def due(self, now: datetime, *, urgent_only: bool = False) -> tuple[int, float | None]:
        """(messages due at `now` and not yet sent, seconds the oldest of them has waited; None when none): one range
        of the (status, next_attempt_at) index, cheap enough for every metrics scrape. A retried message counts
        from its next attempt, the moment it became sendable again. `urgent_only` during quiet hours, when only
        urgent messages may go: the others wait for the morning by design, not because sending lags."""
        stmt = select(func.count(), func.min(OutboxRow.next_attempt_at)).where(
            OutboxRow.status == OutboxStatus.PENDING, OutboxRow.next_attempt_at <= now
        )
        if urgent_only:
            stmt = stmt.where(OutboxRow.urgent.is_(True))  # type: ignore[attr-defined]
        count, oldest = (await self._s.execute(stmt)).one()
        return int(count), (max(0.0, (now - oldest).total_seconds()) if oldest is not None else None)

    async def counts(self) -> dict[str, int]:
        stmt = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        return dict(Counter({status: int(n) for status, n in (await self._s.execute(stmt)).all()}))

    async def dead(self, unit_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Given-up messages (no content: kind, recipient record, attempts, last error) for the officer."""
        stmt = (
            select(OutboxRow)
            .outerjoin(ParticipantRow, ParticipantRow.id == OutboxRow.participant_id)  # type: ignore[arg-type]
            .outerjoin(StaffRow, StaffRow.id == OutboxRow.staff_id)  # type: ignore[arg-type]
            .where(OutboxRow.status.in_([OutboxStatus.DEAD, OutboxStatus.UNDELIVERABLE]))  # type: ignore[attr-defined]
        )
        if unit_id is not None:
            stmt = stmt.where(or_(ParticipantRow.unit_id == unit_id, StaffRow.unit_id == unit_id))
        stmt = stmt.order_by(OutboxRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "status": row.status,
                "participant_id": row.participant_id,
                "staff_id": row.staff_id,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "due_at": row.due_at.isoformat(),
            }
            for row in (await self._s.execute(stmt)).scalars()
        ]

    async def by_key(self, key: str) -> OutboxRow | None:
        return (await self._s.execute(select(OutboxRow).where(OutboxRow.key == key))).scalar_one_or_none()

    async def staff_keyed(self, prefix: str) -> set[int]:
        """Staff who already have a message whose key starts so (e.g. who was alerted about one referral)."""
        stmt = select(OutboxRow.staff_id).where(OutboxRow.key.startswith(prefix, autoescape=True))  # type: ignore[attr-defined]
        return {sid for sid in (await self._s.execute(stmt)).scalars() if sid is not None}

    async def latest_payload(self, prefix: str, field: str) -> object | None:
        """`field` of the newest payload among rows whose key starts so that has it: a decision recorded when rows
        were queued (e.g. who a crisis round alerted), read back as it was, never recomputed."""
        stmt = (
            select(OutboxRow.payload)
            .where(OutboxRow.key.startswith(prefix, autoescape=True))  # type: ignore[attr-defined]
            .order_by(OutboxRow.id.desc())  # type: ignore[union-attr]
            .limit(50)
        )
        for payload in (await self._s.execute(stmt)).scalars():
            if isinstance(payload, dict) and field in payload:
                return payload[field]
        return None


def _subject_ref(payload: object) -> tuple[str | None, int | None]:
    """Which record a notification's payload names ("participant_id", or a key of `_SUBJECTS`) and its id."""
    if not isinstance(payload, dict):
        return None, None
    for key in ("participant_id", *_SUBJECTS):
        value = payload.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return key, value
    return None, None


def _mine(held: Sequence[Claimed]) -> Any:
    """The rows as this dispatcher claimed them: each id with the attempt count its claim set."""
    return tuple_(OutboxRow.id, OutboxRow.attempts).in_([(item.id, item.attempts) for item in held])
