"""Obligations (check-ins and tests), absences and check-in answers."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.dialect import first_per_key_columns, insert_columns, insert_ignoring, insert_many
from bot.db.models import AbsenceRow, CheckinRow, ObligationRow, ParticipantRow
from bot.domain.planning import (
    OPEN_STATUSES,
    KnownObligation,
    ObligationKind,
    ObligationStatus,
    WantedObligation,
)


@dataclass(frozen=True, slots=True)
class Obligation:
    id: int
    key: str
    participant_id: int
    kind: ObligationKind
    due_on: date
    status: ObligationStatus
    done_at: datetime | None
    acknowledged_at: datetime | None

    def known(self) -> KnownObligation:
        return KnownObligation(self.id, self.key, self.kind, self.due_on, self.status)


def _obligation(row: ObligationRow) -> Obligation:
    assert row.id is not None
    return Obligation(
        row.id,
        row.key,
        row.participant_id,
        ObligationKind(row.kind),
        row.due_on,
        ObligationStatus(row.status),
        row.done_at,
        row.acknowledged_at,
    )


class ObligationRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def ensure(self, participant_id: int, wanted: Sequence[WantedObligation]) -> None:
        await self.ensure_many([(participant_id, w) for w in wanted])

    async def ensure_many(
        self, wanted: Sequence[tuple[int, WantedObligation]], known: Mapping[str, KnownObligation] | None = None
    ) -> None:
        """Bulk form of `ensure` for the planner: (participant id, wanted) pairs. A pending obligation whose day moved
        (new due day, start or end) takes the new day: recomputed, not kept stale.

        `known`: the stored obligations by key, as just read: those the statement would leave as they are (closed, or
        pending on the same day) are not sent. PostgreSQL locks (writes) every row an ON CONFLICT DO UPDATE meets,
        even when its WHERE then declines the update: a run with nothing to change would rewrite every obligation."""
        if known:
            wanted = [
                (pid, w)
                for pid, w in wanted
                if (stored := known.get(w.key)) is None
                or (stored.status is ObligationStatus.PENDING and stored.due_on != w.due_on)
            ]
        if not wanted:
            return
        count = len(wanted)
        columns = {
            "key": [w.key for _, w in wanted],
            "participant_id": [pid for pid, _ in wanted],
            "kind": [w.kind.value for _, w in wanted],
            "due_on": [w.due_on for _, w in wanted],
            "status": [ObligationStatus.PENDING.value] * count,
            "created_at": [self._clock.now()] * count,
        }

        def moved(stmt: Any) -> Any:
            return stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={"due_on": stmt.excluded.due_on},
                where=(ObligationRow.status == ObligationStatus.PENDING.value)
                & (ObligationRow.due_on != stmt.excluded.due_on),
            )

        await insert_columns(self._s, ObligationRow, first_per_key_columns(columns), moved)

    async def add_drawn(self, participant_id: int, key: str, due_on: date) -> int | None:
        """A random test; None when another planner already drew this one (its draw stands, ours is discarded)."""
        stmt = (
            insert_ignoring(self._s, ObligationRow)
            .values(
                key=key,
                participant_id=participant_id,
                kind=ObligationKind.RANDOM_TEST.value,
                due_on=due_on,
                status=ObligationStatus.PENDING.value,
                created_at=self._clock.now(),
            )
            .returning(ObligationRow.id)
        )
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def add_drawn_many(self, draws: Sequence[tuple[int, str, date]]) -> dict[str, int]:
        """Bulk form of `add_drawn`: (participant id, key, day) each; the ids of those inserted by key (a draw another
        planner already made is absent: its draw stands). One statement (`insert_many`), not one per draw."""
        if not draws:
            return {}
        now = self._clock.now()
        values = [
            {"key": key, "participant_id": pid, "kind": ObligationKind.RANDOM_TEST.value, "due_on": day,
             "status": ObligationStatus.PENDING.value, "created_at": now}
            for pid, key, day in draws
        ]  # fmt: skip
        rows = await insert_many(
            self._s,
            ObligationRow,
            values,
            lambda stmt: stmt.on_conflict_do_nothing(index_elements=["key"]),
            returning=(ObligationRow.id, ObligationRow.key),
        )
        return {key: oid for oid, key in rows}

    async def keys_of_kind(self, participant_ids: Iterable[int], kind: ObligationKind, since: date) -> set[str]:
        stmt = select(ObligationRow.key).where(
            ObligationRow.participant_id.in_(list(participant_ids)),  # type: ignore[attr-defined]
            ObligationRow.kind == kind.value,
            ObligationRow.due_on >= since,
        )
        return set((await self._s.execute(stmt)).scalars())

    async def of_participant_range(self, first_id: int, last_id: int, since: date) -> list[tuple[int, KnownObligation]]:
        """(participant id, obligation) of every obligation, any kind and status, due from `since` on, of the
        participants `first_id` … `last_id`: the planner's page (by id) in one indexed range read. The range may hold
        people who are not on the page (no longer on the list): the caller keeps only its own. A range, not an IN
        list: with the statistics of a table that was empty at the last ANALYZE, PostgreSQL plans `participant_id IN
        (1,000 ids)` as a scan of every row in the date range, and a first run grows the table page by page."""
        stmt = _KNOWN.where(
            ObligationRow.participant_id >= first_id,  # type: ignore[operator]
            ObligationRow.participant_id <= last_id,  # type: ignore[operator]
            ObligationRow.due_on >= since,
        )
        return [_known(row) for row in (await self._s.execute(stmt)).all()]

    async def cancel_ids(self, ids: Sequence[int], *, pending_only: bool = False) -> None:
        """Cancel these obligations (`pending_only`: those still pending when the statement runs)."""
        if not ids:
            return
        stmt = update(ObligationRow).where(ObligationRow.id.in_(list(ids)))  # type: ignore[union-attr]
        if pending_only:
            stmt = stmt.where(ObligationRow.status == ObligationStatus.PENDING.value)
        await self._s.execute(stmt.values(status=ObligationStatus.CANCELLED.value))

    async def open_for(self, participant_ids: Sequence[int], since: date) -> dict[int, list[KnownObligation]]:
        """Pending obligations from `since` on, by person: plain columns (a page of ORM rows is slow to build)."""
        stmt = _KNOWN.where(
            ObligationRow.participant_id.in_(participant_ids),  # type: ignore[attr-defined]
            ObligationRow.status == ObligationStatus.PENDING.value,
            ObligationRow.due_on >= since,
        )
        found: dict[int, list[KnownObligation]] = defaultdict(list)
        for pid, obligation in map(_known, (await self._s.execute(stmt)).all()):
            found[pid].append(obligation)
        return found

    async def mark_missed(self, before: date) -> list[tuple[int, int, ObligationKind]]:
        """Open obligations whose day is at or before `before` become missed, in one statement (a concurrent
        "done" wins: only rows still pending change); returns (id, participant id, kind) for escalation."""
        stmt = (
            update(ObligationRow)
            .where(ObligationRow.status == ObligationStatus.PENDING.value, ObligationRow.due_on <= before)
            .values(status=ObligationStatus.MISSED.value)
            .returning(ObligationRow.id, ObligationRow.participant_id, ObligationRow.kind)
            .execution_options(synchronize_session=False)
        )
        return [(oid, pid, ObligationKind(kind)) for oid, pid, kind in (await self._s.execute(stmt)).all()]

    async def cancel_open_after(self, participant_id: int, after: date) -> None:
        await self._s.execute(
            update(ObligationRow)
            .where(
                ObligationRow.participant_id == participant_id,
                ObligationRow.status == ObligationStatus.PENDING.value,
                ObligationRow.due_on > after,
            )
            .values(status=ObligationStatus.CANCELLED.value)
        )

    async def tests_to_record(self, participant_id: int, first: date, last: date) -> list[Obligation]:
        """Tests (scheduled or unannounced) due in [first, last] with no result yet: what a cadre may record against.
        An unannounced test appears only from its day on."""
        stmt = select(ObligationRow).where(
            ObligationRow.participant_id == participant_id,
            ObligationRow.kind.in_([ObligationKind.TEST.value, ObligationKind.RANDOM_TEST.value]),  # type: ignore[attr-defined]
            ObligationRow.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
            ObligationRow.due_on >= first,
            ObligationRow.due_on <= last,
        )
        rows = (await self._s.execute(stmt.order_by(ObligationRow.due_on, ObligationRow.id))).scalars()
        return [_obligation(r) for r in rows]

    async def get(self, obligation_id: int) -> Obligation | None:
        row = await self._s.get(ObligationRow, obligation_id)
        return _obligation(row) if row else None

    async def by_key(self, key: str) -> Obligation | None:
        row = (await self._s.execute(select(ObligationRow).where(ObligationRow.key == key))).scalar_one_or_none()
        return _obligation(row) if row else None

    async def of_participant(
        self, participant_id: int, first: date, last: date, kinds: Sequence[ObligationKind] | None = None
    ) -> list[Obligation]:
        stmt = select(ObligationRow).where(
            ObligationRow.participant_id == participant_id,
            ObligationRow.due_on >= first,
            ObligationRow.due_on <= last,
        )
        if kinds:
            stmt = stmt.where(ObligationRow.kind.in_([k.value for k in kinds]))  # type: ignore[attr-defined]
        rows = (await self._s.execute(stmt.order_by(ObligationRow.due_on, ObligationRow.id))).scalars()
        return [_obligation(r) for r in rows]

    async def set_done(self, obligation_id: int) -> bool:
        row = await self._s.get(ObligationRow, obligation_id)
        if row is not None and row.status in OPEN_STATUSES:
            row.status, row.done_at = ObligationStatus.DONE.value, self._clock.now()
            await self._s.flush()
            return True
        return False

    async def set_status(self, obligation_id: int, status: ObligationStatus) -> bool:
        """A recorded result: done (or missed, for a no-show) unless it was already closed or cancelled."""
        if status is ObligationStatus.DONE:
            return await self.set_done(obligation_id)
        row = await self._s.get(ObligationRow, obligation_id)
        if row is not None and row.status in OPEN_STATUSES:
            row.status = status.value
            await self._s.flush()
            return True
        return False

    async def acknowledge(self, obligation_id: int) -> None:
        row = await self._s.get(ObligationRow, obligation_id)
        if row is not None and row.acknowledged_at is None:
            row.acknowledged_at = self._clock.now()
            await self._s.flush()

    async def for_cadre(self, cadre_id: int, first: date, last: date) -> list[tuple[Obligation, int]]:
        """Open or missed obligations of a cadre's people on the list (with or without a chat) in [first, last]."""
        stmt = (
            select(ObligationRow, ParticipantRow.id)
            .join(ParticipantRow, ParticipantRow.id == ObligationRow.participant_id)  # type: ignore[arg-type]
            .where(
                and_(
                    ParticipantRow.cadre_id == cadre_id,
                    ParticipantRow.status.in_(["active", "enrolled"]),  # type: ignore[attr-defined]
                    ObligationRow.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
                    ObligationRow.due_on >= first,
                    ObligationRow.due_on <= last,
                )
            )
            .order_by(ObligationRow.due_on, ParticipantRow.id)
        )
        return [(_obligation(row), pid) for row, pid in (await self._s.execute(stmt)).all()]


@dataclass(frozen=True, slots=True)
class Checkin:
    id: int
    obligation_id: int
    answers: dict[str, Any]
    risky: bool
    completed_at: datetime | None


class CheckinRepository:
    _ANSWERS = "checkin_response.answers"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    def _record(self, row: CheckinRow) -> Checkin:
        assert row.id is not None
        ref = row_ref(obligation=row.obligation_id, participant=row.participant_id)
        answers = json.loads(self._cipher.decrypt(row.answers_enc, self._ANSWERS, ref))
        return Checkin(row.id, row.obligation_id, answers, row.risky, row.completed_at)

    async def for_obligation(self, obligation_id: int) -> Checkin | None:
        stmt = select(CheckinRow).where(CheckinRow.obligation_id == obligation_id)
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return self._record(row) if row else None

    async def save(
        self, obligation_id: int, participant_id: int, answers: dict[str, Any], *, complete: bool, risky: bool
    ) -> Checkin:
        stmt = select(CheckinRow).where(CheckinRow.obligation_id == obligation_id)
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        # sealed for the obligation (unique per row) and the person; a row found belongs to them (else: not opened)
        ref = row_ref(obligation=obligation_id, participant=row.participant_id if row else participant_id)
        sealed = self._cipher.encrypt(json.dumps(answers, sort_keys=True), self._ANSWERS, ref)
        if row is None:
            row = CheckinRow(
                obligation_id=obligation_id,
                participant_id=participant_id,
                answers_enc=sealed,
                started_at=self._clock.now(),
            )
            self._s.add(row)
        row.answers_enc = sealed
        row.risky = risky
        if complete:
            row.completed_at = self._clock.now()
        await self._s.flush()
        return self._record(row)


@dataclass(frozen=True, slots=True)
class Absence:
    id: int
    participant_id: int
    starts_on: date
    ends_on: date
    reported: bool


class AbsenceRepository:
    _REASON = "absence.reason"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def add(
        self, participant_id: int, first: date, last: date, reported: bool, reason: str | None, by: int | None
    ) -> Absence:
        row = AbsenceRow(
            participant_id=participant_id,
            starts_on=first,
            ends_on=last,
            reported=reported,
            recorded_by=by,
            recorded_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        assert row.id is not None
        if reason is not None:  # sealed for the row once it has its id
            row.reason_enc = self._cipher.encrypt(reason, self._REASON, row_ref(id=row.id, participant=participant_id))
            await self._s.flush()
        return Absence(row.id, participant_id, first, last, reported)

    async def of(self, participant_id: int) -> list[Absence]:
        stmt = select(AbsenceRow).where(AbsenceRow.participant_id == participant_id).order_by(AbsenceRow.starts_on)
        rows = (await self._s.execute(stmt)).scalars()
        return [Absence(r.id or 0, r.participant_id, r.starts_on, r.ends_on, r.reported) for r in rows]

    async def reasons_of(self, participant_id: int) -> dict[int, str]:
        """The reasons given for a person's absences, by absence id (sealed at rest; only a record shows them)."""
        stmt = select(AbsenceRow).where(
            AbsenceRow.participant_id == participant_id,
            AbsenceRow.reason_enc.is_not(None),  # type: ignore[union-attr]
        )
        rows = (await self._s.execute(stmt)).scalars()
        return {
            r.id or 0: self._cipher.decrypt(
                r.reason_enc or "", self._REASON, row_ref(id=r.id, participant=participant_id)
            )
            for r in rows
        }


# (participant id, obligation) as the planner reads them: plain columns (a page of ORM rows is slow to build).
_KNOWN = select(
    ObligationRow.participant_id,
    ObligationRow.id,
    ObligationRow.key,
    ObligationRow.kind,
    ObligationRow.due_on,
    ObligationRow.status,
)
_KINDS = {k.value: k for k in ObligationKind}
_STATUSES = {s.value: s for s in ObligationStatus}


def _known(row: Any) -> tuple[int, KnownObligation]:
    pid, oid, key, kind, due_on, status = row
    return pid, KnownObligation(oid, key, _KINDS[kind], due_on, _STATUSES[status])
