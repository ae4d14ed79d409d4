"""Retention: `AFTERCARE_RETENTION_DAYS` after a person left the list (completed, moved out of the province,
removed) every record of theirs goes. What the reports need stays as anonymous rows (a random negative id, the
commune, dates and categories: bot/db/models.py AnonymousPersonRow, AnonymousFactRow), so a report on a past period
is the same before and after; audit entries keep the action and the time, their subject becomes the anonymous id
(with a redaction MAC, so the tamper-evident chain still verifies). Staff deactivated that long ago keep their id
(records point at it) but lose their name, second factor, chats, codes, links and sessions.

The work goes in bounded batches, each its own short transaction. On PostgreSQL each batch claims its people with
SELECT … FOR UPDATE SKIP LOCKED, so two purges at once never take the same person; SQLite has one writer at a time.
Every batch is audited with counts and anonymous ids only, and a finished run leaves a `retention_run` entry (the
scheduler's "already done today").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import structlog
from sqlalchemy import select

from bot.db.models import AuditEventRow
from bot.db.repositories.retention import FORMER_STAFF_NAME
from bot.db.store import Repositories, Store
from bot.domain.authz import Action, Actor
from bot.domain.entities import Unit, UnitLevel
from bot.services.operators import Operator
from bot.services.reports import unit_in_reach

__all__ = ["FORMER_STAFF_NAME", "Purged", "Upcoming", "due", "purge", "ran_today", "upcoming"]

log = structlog.get_logger(__name__)

BATCH = 50  # people per transaction: a few hundred rows each, a short lock
RUN = "retention_run"
UPCOMING_DAYS = 30  # the officer's list: who goes in the next 30 days


@dataclass
class Purged:
    participants: list[int] = field(default_factory=list)  # their old ids (the operator's output, never audited)
    staff: list[int] = field(default_factory=list)
    anonymous: list[int] = field(default_factory=list)
    done: bool = True  # False: batches were left for the next run

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON: {"purged": n, "participants": [ids], "staff": [ids]}."""
        return {"purged": len(self.participants), "participants": self.participants, "staff": self.staff}


def cutoff(today: date, days: int) -> date:
    """People who left before this day are due: the purge falls on `left_on + days`."""
    return today - timedelta(days=days - 1)


def purge_day(left_on: date, days: int) -> date:
    return left_on + timedelta(days=days)


async def due(store: Store, *, now: datetime, tz: tzinfo, days: int) -> Purged:
    """Who a purge would take now, writing nothing (the dry run)."""
    today = now.astimezone(tz).date()
    async with store.transaction() as repos:
        people = await repos.retention.due(cutoff(today, days), 10**9, claim=False)
        staff = await repos.retention.staff_due(now - timedelta(days=days), 10**9)
    return Purged(people, staff)


async def purge(
    store: Store,
    *,
    now: datetime,
    tz: tzinfo,
    days: int,
    actor_type: str,
    actor_id: int | None = None,
    detail: dict[str, Any] | None = None,
    batch: int = BATCH,
    max_batches: int | None = None,
) -> Purged:
    """Purge everyone due, `batch` people per transaction, at most `max_batches` batches (None: until done)."""
    today = now.astimezone(tz).date()
    out = Purged()
    batches = 0

    async def audit(repos: Repositories, action: str, extra: dict[str, Any]) -> None:
        await repos.audit.record(
            actor_type=actor_type, actor_id=actor_id, action=action, outcome="ok", detail=(detail or {}) | extra
        )

    skipped: list[int] = []  # people whose records would not open (a tampered row): kept, retried next run
    while max_batches is None or batches < max_batches:
        people: list[int] = []
        try:
            async with store.transaction() as repos:
                people = await repos.retention.due(cutoff(today, days), batch, claim=True, skip=skipped)
                if not people:
                    break
                ids = await _purge_people(repos, people, tz, audit)
        except Exception:
            if not people:  # nothing was claimed: the database itself failed
                raise
            if len(people) == 1:  # this one person's records fail: left for a person to look at, the rest go on
                skipped.extend(people)
                log.warning("retention_purge_failed", exc_info=True)
                async with store.transaction() as repos:
                    await audit(repos, "retention_failed", {"count": 1})
                continue
            batch = 1  # a batch failed: go one person at a time to find whom
            continue
        batches += 1
        out.participants.extend(people)
        out.anonymous.extend(ids)
    else:
        out.done = False
    while out.done and (max_batches is None or batches < max_batches):
        async with store.transaction() as repos:
            staff = await repos.retention.staff_due(now - timedelta(days=days), batch)
            if not staff:
                break
            await repos.retention.purge_staff(staff)
            for staff_id in staff:
                await repos.audit.record(
                    actor_type=actor_type, actor_id=actor_id, action="staff_purged", outcome="ok",
                    subject_type="staff", subject_id=staff_id, detail=detail,
                )  # fmt: skip
        batches += 1
        out.staff.extend(staff)
    else:
        out.done = False
    if out.done:
        async with store.transaction() as repos:
            await audit(repos, RUN, {"purged": len(out.participants), "staff": len(out.staff)})
    return out


async def _purge_people(repos: Repositories, people: list[int], tz: tzinfo, audit: Any) -> list[int]:
    """One batch: anonymous rows kept, audit entries rewritten, every other row deleted; the anonymous ids."""
    anonymous = await repos.retention.keep_anonymous(people, tz)
    redacted = await repos.retention.redact_audit(anonymous)
    rows = await repos.retention.erase(people)
    ids = sorted(anonymous.values())
    await audit(repos, "retention_purged", {"count": len(ids), "anonymous": ids, "rows": rows,
                                            "audit_redacted": redacted})  # fmt: skip
    return ids


async def ran_today(repos: Repositories, now: datetime, tz: tzinfo) -> bool:
    """A purge already finished on this local day (whichever process ran it)."""
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), time(0), tzinfo=tz)
    stmt = select(AuditEventRow.id).where(AuditEventRow.action == RUN, AuditEventRow.at >= start).limit(1)
    return (await repos.session.execute(stmt)).first() is not None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """Someone whose records go within `UPCOMING_DAYS` (or are due and wait for the next daily run)."""

    participant_id: int
    name: str
    commune: str
    status: str  # completed | transferred | removed
    left_on: date
    purge_on: date


async def upcoming(
    repos: Repositories, code: str, today: date, days: int, by: Actor, operator: Operator
) -> tuple[Unit, list[Upcoming]]:
    """Who of a commune (a province: of its communes) will be purged in the next `UPCOMING_DAYS`, for its officer
    or the province's admin (VIEW_RETENTION; anyone else, an unknown code alike, is `Refused`, audited). Showing
    the names is audited with the count only."""
    unit = await unit_in_reach(repos, code, by, operator, Action.VIEW_RETENTION)
    communes = await repos.units.communes_of(unit.id) if unit.level is UnitLevel.PROVINCE else [unit]
    names = {c.id: c.name for c in communes}
    last = today + timedelta(days=UPCOMING_DAYS) - timedelta(days=days)
    found = []
    for row in await repos.retention.leaving(list(names), date.min, last):
        person = await repos.participants.get(row.participant_id)
        name = person.name if person is not None else ""
        found.append(Upcoming(row.participant_id, name, names.get(row.unit_id, ""), row.status, row.left_on,
                              purge_day(row.left_on, days)))  # fmt: skip
    await operator.record(repos, "retention_listed", subject_type="unit", subject_id=unit.id,
                          detail={"count": len(found)})  # fmt: skip
    return unit, found
