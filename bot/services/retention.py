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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import structlog
from sqlalchemy import select

from bot.db.models import AuditEventRow, ParticipantRow
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
STAFF_CHAT_IDLE = timedelta(days=30)  # a staff chat's state (a card, a list, a half-typed note) kept this long idle
SEARCH_MIN = 3  # a typed search this long or longer, found in a purged name, resets the chat that typed it


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
        except Exception as error:
            if not people:  # nothing was claimed: the database itself failed
                raise
            if len(people) == 1:  # this one person's records fail: left for a person to look at, the rest go on
                skipped.extend(people)
                # the error's type only: its text may name a row (and so the person's old id)
                log.warning("retention_purge_failed", error=type(error).__name__)
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
            staff = await repos.retention.staff_due(now - timedelta(days=days), batch, claim=True)
            if not staff:
                break
            names = await repos.retention.staff_names(staff)
            staff = await repos.retention.purge_staff(staff)
            # their names in other staff's chats (a list of cadres to assign, a handover) go with them
            await repos.conversations.reset_staff_chats(mentions((), names))
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
            idle = await repos.conversations.expire_staff_chats(now - STAFF_CHAT_IDLE)
            await audit(repos, RUN, {"purged": len(out.participants), "staff": len(out.staff), "chats_reset": idle})
    return out


async def _purge_people(repos: Repositories, people: list[int], tz: tzinfo, audit: Any) -> list[int]:
    """One batch: anonymous rows kept, audit entries rewritten, every other row deleted; the anonymous ids."""
    names = await _names(repos, people)
    anonymous = await repos.retention.keep_anonymous(people, tz)
    rows = await repos.retention.erase(people)
    # staff chats that were showing them (a card, a list, a search, a half-typed note) start again from the menu
    chats = await repos.conversations.reset_staff_chats(mentions(people, names))
    redacted = await repos.retention.redact_audit(anonymous)  # last: it holds the audit chain's head until commit
    ids = sorted(anonymous.values())
    await audit(repos, "retention_purged", {"count": len(ids), "anonymous": ids, "rows": rows,
                                            "audit_redacted": redacted, "chats_reset": chats})  # fmt: skip
    return ids


async def _names(repos: Repositories, people: Sequence[int]) -> list[str]:
    """Their names, only the name column opened (one that does not open is looked for by id alone)."""
    stmt = select(ParticipantRow.id, ParticipantRow.name_enc).where(ParticipantRow.id.in_(list(people)))  # type: ignore[union-attr]
    names = []
    for pid, sealed in await repos.session.execute(stmt):
        name = repos.participants.open_name(pid, sealed) if sealed else ""
        if name and not name.startswith("⚠"):
            names.append(name)
    return names


def mentions(ids: Sequence[int], names: Sequence[str]) -> Callable[[list[str], dict[str, Any], list[str]], bool]:
    """Does a chat's state name one of these people (by id) or these names? An offered action with the id as one
    of its parts ("case:open:42"), a value of the flow's data equal to the id (`{"pid": 42}`) or holding a name (or
    part of one typed as a search), a button's label with "#42" or a name. Erring towards a reset is harmless: the
    chat only goes back to its menu."""
    wanted = {str(i) for i in ids}
    folded = [n.casefold() for n in names if n]
    by_id = re.compile(r"#(" + "|".join(sorted(wanted)) + r")\b") if wanted else None

    def named(text: str) -> bool:
        low = text.casefold()
        if any(n in low for n in folded):
            return True
        return bool(by_id and by_id.search(text))

    def in_data(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return str(value) in wanted
        if isinstance(value, str):
            stripped = value.strip().casefold()
            typed = len(stripped) >= SEARCH_MIN and any(stripped in n for n in folded)
            return stripped in wanted or typed or named(value)
        if isinstance(value, dict):
            return any(in_data(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(in_data(v) for v in value)
        return False

    def check(offered: list[str], data: dict[str, Any], labels: list[str]) -> bool:
        if any(part in wanted for action in offered for part in action.split(":")):
            return True
        return in_data(data) or any(named(label) for label in labels)

    return check


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
    leaving = await repos.retention.leaving(list(names), date.min, last)
    sealed = dict(
        (
            await repos.session.execute(
                select(ParticipantRow.id, ParticipantRow.name_enc).where(
                    ParticipantRow.id.in_([row.participant_id for row in leaving])  # type: ignore[union-attr]
                )
            )
        ).all()
    )
    for row in leaving:
        # only the name opened; one that does not open shows as "⚠ #id" (open_name), the page still answers
        stored = sealed.get(row.participant_id)
        name = repos.participants.open_name(row.participant_id, stored) if stored else ""
        found.append(Upcoming(row.participant_id, name, names.get(row.unit_id, ""), row.status, row.left_on,
                              purge_day(row.retain_from, days)))  # fmt: skip
    await operator.record(repos, "retention_listed", subject_type="unit", subject_id=unit.id,
                          detail={"count": len(found)})  # fmt: skip
    return unit, found
