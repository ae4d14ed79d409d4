"""The purge's database work (bot/services/retention.py): who is due, their anonymous rows for the reports, every
other row of theirs deleted, their audit entries rewritten to the anonymous id; staff who left, their personal data
removed. Each call works on the batch it is given, inside the caller's (short) transaction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import String, Table, and_, cast, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import FORMER_STAFF
from bot.db.models import (
    AbsenceRow,
    AnonymousFactRow,
    AnonymousPersonRow,
    AuditEventRow,
    ChannelIdentityRow,
    ChatLockoutRow,
    CheckinRow,
    ConsentRow,
    ConsoleSessionRow,
    ConversationStateRow,
    DataRequestRow,
    EscalationRow,
    FieldReportRow,
    InboundUpdateRow,
    InPersonCheckRow,
    InviteCodeRow,
    LinkFailureRow,
    LoginLinkRow,
    ObligationRow,
    ObservationRow,
    OutboxRow,
    ParticipantRow,
    QuarterlyReviewRow,
    ReferralEventRow,
    ReferralRow,
    RelayMessageRow,
    SafetyCheckRow,
    StaffRow,
    TestResultRow,
    TransferRow,
)
from bot.db.repositories.audit import AuditRepository
from bot.db.repositories.people import LEFT, left_before
from bot.db.repositories.reports import ReportRepository
from bot.domain.data_requests import RequestStatus
from bot.domain.reports.facts import Facts
from bot.domain.terms import add_months

ANONYMOUS = "anonymous"  # the audit subject (or actor) type of a purged person
# stored in place of a purged staff member's name; texts and the console show it translated ("Cán bộ đã nghỉ")
FORMER_STAFF_NAME = FORMER_STAFF
# audit detail keys that hold a person's id, or a list of them (`refused`: the invite cards' ids out of reach)
_DETAIL_PEOPLE = ("participant", "participant_id", "participants", "refused")
# audit detail keys that hold a sealed row's reference ("id=5,participant=42": sealed_value_rejected)
_DETAIL_REFS = ("row",)
_REF_PERSON = re.compile(r"(?<![^,])participant=(-?\d+)(?=,|$)")
# outbox payload keys naming a record of the person (alerts to staff keyed by the record, not by the person)
_OUTBOX_REFS: tuple[tuple[str, Any], ...] = (
    ("escalation_id", EscalationRow),
    ("referral_id", ReferralRow),
    ("relay_id", RelayMessageRow),
    ("result_id", TestResultRow),
    ("report_id", FieldReportRow),
    ("transfer_id", TransferRow),
    ("check_id", SafetyCheckRow),
    ("request_id", DataRequestRow),
)
CADRE_NEEDED = "cadre_needed"  # bot/domain/planning.py MessageKind.CADRE_NEEDED: payload {"people": [ids]}
# every table with a participant_id: the purge deletes their rows (children before parents)
_OWNED: tuple[Any, ...] = (
    DataRequestRow,
    CheckinRow,
    TestResultRow,
    EscalationRow,
    RelayMessageRow,
    SafetyCheckRow,
    ConsentRow,
    InviteCodeRow,
    AbsenceRow,
    InPersonCheckRow,
    ObservationRow,
    QuarterlyReviewRow,
    FieldReportRow,
    TransferRow,
)


@dataclass(frozen=True, slots=True)
class Leaving:
    """Someone whose records go soon: for the officer's list (names opened by the caller)."""

    participant_id: int
    unit_id: int
    status: str
    left_on: date
    retain_from: date  # retention counts from here (the later of leaving and recording it)


def _anonymous_id() -> int:
    """Random, negative (never a live id), unrelated to the old one; within PostgreSQL's integer range."""
    return -secrets.randbelow(2**31 - 2) - 1


class RetentionRepository:
    def __init__(self, session: AsyncSession, clock: Clock, audit: AuditRepository, reports: ReportRepository) -> None:
        self._s = session
        self._clock = clock
        self._audit = audit
        self._reports = reports

    # --- people --------------------------------------------------------------------------------------------------

    async def due(self, cutoff: date, limit: int, *, claim: bool, skip: Sequence[int] = ()) -> list[int]:
        """Up to `limit` people who left the list before `cutoff`, lowest ids first, but for `skip`; `claim`: lock
        them for this transaction, skipping those another purge holds (PostgreSQL; SQLite has one writer anyway)."""
        # a request about their data still to answer (pending, or approved and not yet sent) holds the purge back:
        # the person is answered first (an undecided request keeps reminding the officers and admins)
        unanswered = exists().where(
            DataRequestRow.participant_id == ParticipantRow.id,
            or_(
                DataRequestRow.status == RequestStatus.PENDING.value,
                and_(DataRequestRow.status == RequestStatus.APPROVED.value, DataRequestRow.delivered_at.is_(None)),  # type: ignore[union-attr]
            ),
        )
        stmt = left_before(cutoff).where(~unanswered).order_by(ParticipantRow.id).limit(limit)
        if skip:
            stmt = stmt.where(ParticipantRow.id.not_in(list(skip)))  # type: ignore[union-attr]
        if claim:
            stmt = stmt.with_for_update(skip_locked=True)
        return list((await self._s.execute(stmt)).scalars())

    async def leaving(self, units: Sequence[int], first: date, last: date) -> list[Leaving]:
        """People of these communes whose retention started on a day in [first, last] (their purge in a window)."""
        stmt = (
            select(
                ParticipantRow.id,
                ParticipantRow.unit_id,
                ParticipantRow.status,
                ParticipantRow.left_on,
                ParticipantRow.retain_from,
            )
            .where(
                ParticipantRow.unit_id.in_(list(units)),  # type: ignore[attr-defined]
                ParticipantRow.status.in_(LEFT),  # type: ignore[attr-defined]
                ParticipantRow.retain_from >= first,  # type: ignore[operator]
                ParticipantRow.retain_from <= last,  # type: ignore[operator]
            )
            .order_by(ParticipantRow.retain_from, ParticipantRow.id)
        )
        return [Leaving(*row) for row in await self._s.execute(stmt)]

    async def keep_anonymous(self, participant_ids: Sequence[int], tz: tzinfo) -> dict[int, int]:
        """Write what the reports need of these people as anonymous rows: {participant id: anonymous id}."""
        facts = await self._reports.facts_of(participant_ids, tz)
        rows = list(
            (
                await self._s.execute(
                    select(ParticipantRow).where(ParticipantRow.id.in_(list(participant_ids)))  # type: ignore[attr-defined]
                )
            ).scalars()
        )
        # in no order an old id could be read back from: neither the anonymous rows' insertion order (their facts'
        # ids) nor the draws follow the old ids
        secrets.SystemRandom().shuffle(rows)
        last_entries = await self._last_entries(participant_ids)
        today = self._clock.now().astimezone(tz).date()
        ids: dict[int, int] = {}
        for row in rows:
            assert row.id is not None
            anonymous = _anonymous_id()
            while anonymous in ids.values() or await self._s.get(AnonymousPersonRow, anonymous) is not None:
                anonymous = _anonymous_id()
            ids[row.id] = anonymous
            chats = facts.chats.get(row.id)
            self._s.add(
                AnonymousPersonRow(
                    id=anonymous,
                    unit_id=row.unit_id,
                    term_start=row.term_start,
                    expected_end=row.expected_end,
                    completed_on=row.completed_on,
                    left_on=row.left_on,
                    chats_linked=chats.linked if chats else 0,
                    chats_unreachable=chats.unreachable if chats else 0,
                    last_entry_at=last_entries.get(row.id),
                    purged_on=today,
                )
            )
        await self._s.flush()
        made = _facts(facts, ids)
        secrets.SystemRandom().shuffle(made)
        self._s.add_all(made)
        await self._s.flush()
        return ids

    async def _last_entries(self, participant_ids: Sequence[int]) -> dict[int, datetime]:
        """Each person's last entry by staff (as `ReportRepository.last_entries` counts them per commune)."""
        ids = list(participant_ids)
        latest: dict[int, datetime] = {}
        sources: tuple[tuple[Any, Any], ...] = (
            (ParticipantRow.created_at, ParticipantRow.id),
            (InPersonCheckRow.recorded_at, InPersonCheckRow.participant_id),
            (TestResultRow.recorded_at, TestResultRow.participant_id),
            (ObservationRow.recorded_at, ObservationRow.participant_id),
            (QuarterlyReviewRow.written_at, QuarterlyReviewRow.participant_id),
            (AbsenceRow.recorded_at, AbsenceRow.participant_id),
        )
        for column, person in sources:
            stmt = select(person, func.max(column)).where(person.in_(ids)).group_by(person)
            for pid, at in await self._s.execute(stmt):
                if at is not None:
                    latest[pid] = max(latest.get(pid, at), at)
        return latest

    async def erase(self, participant_ids: Sequence[int]) -> int:
        """Delete every row of these people, their chats' traces and the staff alerts about them; the rows go."""
        ids = list(participant_ids)
        chats = list(
            await self._s.execute(
                select(ChannelIdentityRow.id, ChannelIdentityRow.chat_key).where(
                    ChannelIdentityRow.participant_id.in_(ids)  # type: ignore[union-attr]
                )
            )
        )
        identity_ids = [identity for identity, _ in chats]
        chat_keys = [key for _, key in chats]
        gone = 0

        async def run(stmt: Any) -> None:
            nonlocal gone
            gone += int((await self._s.execute(stmt)).rowcount or 0)

        await run(delete(ConversationStateRow).where(ConversationStateRow.identity_id.in_(identity_ids)))  # type: ignore[attr-defined]
        for table in (InboundUpdateRow, LinkFailureRow, ChatLockoutRow):
            await run(delete(table).where(table.chat_key.in_(chat_keys)))  # type: ignore[attr-defined]
        about = OutboxRow.payload["participant_id"].as_integer()
        await run(delete(OutboxRow).where(or_(OutboxRow.participant_id.in_(ids), about.in_(ids))))  # type: ignore[union-attr]
        # alerts to staff keyed by one of their records (an escalation, a referral, a result …), before those go
        for key, table in _OUTBOX_REFS:
            records = list((await self._s.execute(select(table.id).where(table.participant_id.in_(ids)))).scalars())
            if records:
                named = OutboxRow.payload[key].as_integer()
                await run(delete(OutboxRow).where(named.in_(records)))  # type: ignore[union-attr]
        gone += await self._out_of_cadre_needed(set(ids))
        referrals = select(ReferralRow.id).where(ReferralRow.participant_id.in_(ids))  # type: ignore[attr-defined]
        await run(delete(ReferralEventRow).where(ReferralEventRow.referral_id.in_(referrals)))  # type: ignore[attr-defined]
        for table in _OWNED:
            await run(delete(table).where(table.participant_id.in_(ids)))
        await run(delete(ReferralRow).where(ReferralRow.participant_id.in_(ids)))  # type: ignore[attr-defined]
        await run(delete(ObligationRow).where(ObligationRow.participant_id.in_(ids)))  # type: ignore[attr-defined]
        await run(delete(ChannelIdentityRow).where(ChannelIdentityRow.participant_id.in_(ids)))  # type: ignore[union-attr]
        await run(delete(ParticipantRow).where(ParticipantRow.id.in_(ids)))  # type: ignore[union-attr]
        return gone

    async def _out_of_cadre_needed(self, ids: set[int]) -> int:
        """The officers' "people who need a new cadre" notices name people in a list: these people leave it; a
        notice left naming nobody goes (how many rows went)."""
        stmt = select(OutboxRow).where(OutboxRow.kind == CADRE_NEEDED).execution_options(populate_existing=True)
        gone = 0
        for row in (await self._s.execute(stmt)).scalars():
            people = row.payload.get("people")
            if not isinstance(people, list) or not ids & set(people):
                continue
            kept = [p for p in people if p not in ids]
            if kept:
                row.payload = {**row.payload, "people": kept}
            else:
                await self._s.delete(row)
                gone += 1
        await self._s.flush()
        return gone

    async def redact_audit(self, anonymous: dict[int, int]) -> int:
        """Audit entries about these people (subject, actor, ids in the detail) name their anonymous id instead;
        under the chain head's lock (the sealer and a key rotation's re-keying hold it while they read and rewrite
        entries), then rows locked in id order: two purges, or a purge and the sealer, never lose each other's
        change."""
        await self._audit.lock_head()
        await self._audit.load_key_window()  # during a rotation an entry may still carry an older key's MAC
        ids = list(anonymous)
        text = cast(AuditEventRow.detail, String)  # type: ignore[arg-type]
        # a prefilter (a key that holds people, and one of the ids' digits somewhere); the exact check is below
        mentions = and_(
            or_(*(text.like(f'%"{key}"%') for key in (*_DETAIL_PEOPLE, *_DETAIL_REFS))),
            or_(*(text.like(f"%{pid}%") for pid in ids)),
        )
        # three lookups: by subject and by actor through their indexes (ix_audit_event_subject, _actor), by detail a
        # scan of the detail text (the one unindexed part; a few ids per batch, once a day)
        found: set[int] = set()
        for where in (
            (AuditEventRow.subject_type == "participant") & AuditEventRow.subject_id.in_(ids),  # type: ignore[union-attr]
            (AuditEventRow.actor_type == "participant") & AuditEventRow.actor_id.in_(ids),  # type: ignore[union-attr]
            mentions,
        ):
            found.update((await self._s.execute(select(AuditEventRow.id).where(where))).scalars())
        if not found:
            return 0
        stmt = (
            select(AuditEventRow)
            .where(AuditEventRow.id.in_(sorted(found)))  # type: ignore[union-attr]
            .order_by(AuditEventRow.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        changed = 0
        for row in (await self._s.execute(stmt)).scalars():
            changes: dict[str, Any] = {}
            if row.subject_type == "participant" and row.subject_id in anonymous:
                changes |= {"subject_type": ANONYMOUS, "subject_id": anonymous[row.subject_id]}
            if row.actor_type == "participant" and row.actor_id in anonymous:
                changes |= {"actor_type": ANONYMOUS, "actor_id": anonymous[row.actor_id]}
            detail = _redacted_detail(row.detail, anonymous)
            if detail is not None:
                changes["detail"] = detail
            if changes:
                self._audit.redact(row, **changes)
                changed += 1
        await self._s.flush()
        return changed

    # --- staff ---------------------------------------------------------------------------------------------------

    async def staff_due(self, before: datetime, limit: int, *, claim: bool = False) -> list[int]:
        """Staff deactivated before `before` and not yet purged, lowest ids first; `claim`: locked for this
        transaction, skipping those another purge holds (PostgreSQL)."""
        stmt = (
            select(StaffRow.id)
            .where(
                StaffRow.active.is_(False),  # type: ignore[attr-defined]
                StaffRow.purged_at.is_(None),  # type: ignore[union-attr]
                StaffRow.deactivated_at < before,  # type: ignore[operator]
            )
            .order_by(StaffRow.id)
            .limit(limit)
        )
        if claim:
            stmt = stmt.with_for_update(skip_locked=True)
        return list((await self._s.execute(stmt)).scalars())

    async def staff_names(self, staff_ids: Sequence[int]) -> list[str]:
        """Their names as stored (before a purge replaces them: to find them in other staff's chats)."""
        stmt = select(StaffRow.name).where(StaffRow.id.in_(list(staff_ids)))  # type: ignore[union-attr]
        return [str(n) for n in (await self._s.execute(stmt)).scalars() if n]

    async def purge_staff(self, staff_ids: Sequence[int]) -> list[int]:
        """Their name becomes a placeholder, their second factor, chats, codes, links and sessions go; the id stays
        (records they made still point at it). Only those still deactivated and not purged: someone reactivated
        since they were found is left alone (returned: who was purged)."""
        still = select(StaffRow.id).where(
            StaffRow.id.in_(list(staff_ids)),  # type: ignore[union-attr]
            StaffRow.active.is_(False),  # type: ignore[attr-defined]
            StaffRow.purged_at.is_(None),  # type: ignore[union-attr]
        )
        ids = list((await self._s.execute(still)).scalars())
        if not ids:
            return []
        chats = select(ChannelIdentityRow.id).where(ChannelIdentityRow.staff_id.in_(ids))  # type: ignore[union-attr]
        keys = select(ChannelIdentityRow.chat_key).where(ChannelIdentityRow.staff_id.in_(ids))  # type: ignore[union-attr]
        await self._s.execute(delete(ConversationStateRow).where(ConversationStateRow.identity_id.in_(chats)))  # type: ignore[attr-defined]
        for table in (InboundUpdateRow, LinkFailureRow, ChatLockoutRow):
            await self._s.execute(delete(table).where(table.chat_key.in_(keys)))  # type: ignore[attr-defined]
        tables: tuple[Table | Any, ...] = (ChannelIdentityRow, InviteCodeRow, LoginLinkRow, ConsoleSessionRow)
        for table in tables:
            await self._s.execute(delete(table).where(table.staff_id.in_(ids)))
        await self._s.execute(
            update(StaffRow)
            .where(
                StaffRow.id.in_(ids),  # type: ignore[union-attr]
                StaffRow.active.is_(False),  # type: ignore[attr-defined]
                StaffRow.purged_at.is_(None),  # type: ignore[union-attr]
            )
            .values(name=FORMER_STAFF_NAME, totp_secret_enc=None, totp_last_step=None, purged_at=self._clock.now())
        )
        return ids


def _redacted_detail(detail: dict[str, Any], anonymous: dict[int, int]) -> dict[str, Any] | None:
    """The detail with people's ids replaced (None: nothing to replace)."""
    out, changed = dict(detail), False
    for key in _DETAIL_PEOPLE:
        value = out.get(key)
        if isinstance(value, int) and value in anonymous:
            out[key], changed = anonymous[value], True
        elif isinstance(value, list) and any(isinstance(v, int) and v in anonymous for v in value):
            out[key] = [anonymous.get(v, v) if isinstance(v, int) else v for v in value]
            changed = True
    for key in _DETAIL_REFS:
        value = out.get(key)
        if isinstance(value, str):
            new = _REF_PERSON.sub(lambda m: f"participant={anonymous.get(int(m[1]), int(m[1]))}", value)
            if new != value:
                out[key], changed = new, True
    return out if changed else None


def _quarter_end(quarter: str) -> date:
    year, number = int(quarter[:4]), int(quarter[-1])
    return add_months(date(year, number * 3, 1), 1) - timedelta(days=1)


def _facts(facts: Facts, ids: dict[int, int]) -> list[AnonymousFactRow]:
    """The people's facts as anonymous rows, in the order the live queries give them."""
    rows: list[AnonymousFactRow] = []

    def add(pid: int, kind: str, day: date, **more: Any) -> None:
        if pid in ids:
            rows.append(AnonymousFactRow(person_id=ids[pid], kind=kind, day=day, **more))

    for m in facts.moves:
        add(m.participant_id, "move", m.moved_on, from_unit=m.from_unit, to_unit=m.to_unit)
    for a in facts.absences:
        add(a.participant_id, "absence", a.starts_on, until=a.ends_on, flag=a.reported)
    for d in facts.duties:
        add(d.participant_id, "duty", d.due_on, category=d.kind, label=d.status, flag=d.self_reported)
    for c in facts.in_person:
        add(c.participant_id, "in_person", c.checked_on, category=c.outcome, label=c.month)
    for r in facts.results:
        add(r.participant_id, "result", r.taken_on, category=r.outcome, flag=r.unannounced)
    for q in facts.requests:
        add(q.participant_id, "request", q.asked_on, until=q.accepted_on, category=q.kind, label=q.outcome)
    for e in facts.crises:
        add(e.participant_id, "crisis", e.raised_on, minutes=e.minutes_to_answer)
    for v in facts.reviews:
        add(v.participant_id, "review", _quarter_end(v.quarter), category=v.progress, label=v.quarter)
    return rows
