"""The planner's bulk writes (issue 19: one statement per page instead of one per row, the random draws of a page
together) plan exactly what the row-by-row planner did: the same obligations, reminders and digests with the same
due times and payloads, the same random draws (the generator asked in the same order) and the same audit entries,
their MACs valid. A varied population: risks, terms, reminder hours, people whose term ended yesterday, a reminder
cancelled earlier as no longer wanted (revived), a draw another planner made first.

The reference is the planner as it was: each random draw inserted on its own with its own audit entry, every bulk
insert sent row by row through the session. Both run over the same database in turn, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from bench.common import seed_population
from bot.app import Application
from bot.db import dialect
from bot.db.models import AuditChainHeadRow, AuditEventRow, EscalationRow, ObligationRow, OutboxRow, ParticipantRow
from bot.db.repositories import audit, obligations, outbox
from bot.db.store import Repositories
from bot.domain.planning import ObligationKind, random_test_key
from bot.domain.schedule import draw_random_test_days
from bot.scheduler.planner import Planner, PlanReport
from tests.fakes.clock import FakeClock

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Hà Nội
SEED = 19


class RowByRowPlanner(Planner):
    """The random draws as they were planned before: one INSERT and one audit entry per draw."""

    async def _draw_random_tests(self, repos: Repositories, page: Any, today: Any, report: PlanReport) -> None:
        from bot.domain.planning import random_draw_windows

        windows = {
            f.participant_id: random_draw_windows(f.term_start, f.term_end, f.risk, today, self.policy) for f in page
        }
        no_longer = [f.participant_id for f in page if not self.policy.random_tests_per_quarter.get(f.risk, 0)]
        await repos.obligations.cancel_random_after(no_longer, today)
        if not any(windows.values()):
            return
        quarter_first = min(w.quarter for ws in windows.values() for w in ws)
        drawn = await repos.obligations.keys_of_kind(
            [pid for pid, ws in windows.items() if ws], ObligationKind.RANDOM_TEST, quarter_first
        )
        for pid, ws in windows.items():
            for window in ws:
                keys = [random_test_key(pid, window.quarter, i) for i in range(window.count)]
                if all(key in drawn for key in keys):
                    continue
                draws = draw_random_test_days(window.first, window.last, window.count, rng=self._rng)
                for key, draw in zip(keys, draws, strict=False):
                    if key in drawn:
                        continue
                    new_id = await repos.obligations.add_drawn(pid, key, draw.day)
                    if new_id is None:
                        continue
                    report.random_draws += 1
                    await repos.audit.by_scheduler(
                        "random_test_drawn",
                        pid,
                        {"obligation": new_id, "reason": "risk_level_policy",
                         "window": [window.first.isoformat(), window.last.isoformat()],
                         "candidates": draw.candidates, "rng": "secrets.SystemRandom"},
                    )  # fmt: skip


async def _row_by_row(session: Any, table: Any, rows: Any, conflict: Any) -> None:
    """`insert_many` as the repositories did it before: the ORM's executemany, one execution per row."""
    if rows:
        await session.execute(conflict(dialect.upsert(session, table)), list(rows))


def _planner(app: Application, cls: type[Planner]) -> Planner:
    return cls(app.store, app.clock, HANOI, policy=app.scheduler.planner.policy, page_size=40, rng=random.Random(SEED))  # type: ignore[arg-type]


async def _state(app: Application) -> dict[str, Any]:
    """Everything planned, with obligation ids replaced by keys (ids differ between the two runs)."""
    async with app.store.transaction() as repos:
        session = repos.audit._s  # type: ignore[attr-defined]
        rows = (await session.execute(select(ObligationRow))).scalars().all()
        key_of = {row.id: row.key for row in rows}
        found: dict[str, Any] = {
            "obligations": sorted((r.key, r.participant_id, r.kind, r.due_on, r.status) for r in rows),
        }

        def obligation_keyed(key: str) -> str:  # "missed_checkin:<obligation id>"
            kind, _, number = key.partition(":")
            return f"{kind}:{key_of[int(number)]}" if number.isdigit() and int(number) in key_of else key

        escalations = {
            eid: obligation_keyed(key)
            for eid, key in (await session.execute(select(EscalationRow.id, EscalationRow.key))).all()
        }
        found["escalations"] = sorted(escalations.values())

        def keyed(payload: dict[str, Any]) -> dict[str, Any]:
            ids = {"obligation_id": key_of, "with_test": key_of, "obligation": key_of, "escalation": escalations,
                   "escalation_id": escalations}  # fmt: skip
            return {k: ids[k].get(v, v) if k in ids else v for k, v in payload.items()}

        def message_key(key: str) -> str:  # "esc:<escalation id>:cadre"
            kind, _, rest = key.partition(":")
            if kind != "esc":
                return key
            number, _, to = rest.partition(":")
            return f"esc:{escalations[int(number)]}:{to}"

        messages = (await session.execute(select(OutboxRow))).scalars().all()
        found["outbox"] = sorted(
            (message_key(m.key), m.kind, m.participant_id, m.staff_id, sorted(keyed(m.payload).items()),
             m.due_at.astimezone(UTC), m.next_attempt_at.astimezone(UTC), m.status, m.last_error, m.urgent, m.attempts)
            for m in messages
        )  # fmt: skip
        entries = (await session.execute(select(AuditEventRow).order_by(AuditEventRow.id))).scalars().all()  # type: ignore[arg-type]
        assert all(repos.audit.valid_mac(e) for e in entries)
        found["audit"] = sorted(  # the planner's (the seeding's own entries are not there in the second run); as a
            # set: one statement's rows take ids in an order PostgreSQL does not promise (the chain's order is `seq`)
            (e.action, e.subject_type, e.subject_id, e.outcome, sorted(keyed(e.detail).items()))
            for e in entries
            if e.actor_type == "scheduler"
        )
        people = (await session.execute(select(ParticipantRow.id, ParticipantRow.status))).all()
        found["people"] = sorted(tuple(p) for p in people)
    return found


async def _reset(app: Application, statuses: list[tuple[int, str]]) -> None:
    async with app.store.transaction() as repos:
        session = repos.audit._s  # type: ignore[attr-defined]
        for table in (EscalationRow, OutboxRow, ObligationRow, AuditEventRow, AuditChainHeadRow):
            await session.execute(delete(table))
        for pid, status in statuses:
            await session.execute(
                update(ParticipantRow).where(ParticipantRow.id == pid)  # type: ignore[arg-type]
                .values(status=status, completed_on=None, left_on=None, retain_from=None)
            )  # fmt: skip


async def _prepare(app: Application) -> None:
    """What a planner finds besides the population: a reminder cancelled as replanned (revived when wanted again) and
    a random draw another planner made first (its draw stands)."""
    async with app.store.transaction() as repos:
        session = repos.audit._s  # type: ignore[attr-defined]
        high = select(ParticipantRow.id).where(ParticipantRow.risk_level == "high").order_by(ParticipantRow.id)  # type: ignore[arg-type]
        first = (await session.execute(high)).scalars().first()
        assert first is not None
        quarter = NOW.date().replace(month=10, day=1)
        await repos.obligations.add_drawn(first, random_test_key(first, quarter, 0), NOW.date().replace(day=27))


async def test_bulk_planning_plans_what_the_row_by_row_planner_did(
    app: Application, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(NOW)
    today = NOW.astimezone(HANOI).date()
    await seed_population(app, 180, today, NOW, ended_yesterday=4)
    async with app.store.transaction() as repos:
        session = repos.audit._s  # type: ignore[attr-defined]
        statuses = [tuple(r) for r in (await session.execute(select(ParticipantRow.id, ParticipantRow.status))).all()]
        # a few of them enrolled, not linked: obligations for the cadre, no reminders
        enrolled = update(ParticipantRow).where(ParticipantRow.id % 7 == 0).values(status="enrolled")  # type: ignore[operator]
        await session.execute(enrolled)
        statuses = [(pid, "enrolled" if pid % 7 == 0 else st) for pid, st in statuses]

    async def plan(cls: type[Planner]) -> tuple[dict[str, Any], dict[str, Any]]:
        await _prepare(app)
        planner = _planner(app, cls)
        first = await planner.run(NOW)
        # a reminder no longer wanted earlier (cancelled as replanned) comes back; the rest is planned again
        async with app.store.transaction() as repos:
            session = repos.audit._s  # type: ignore[attr-defined]
            reminders = select(OutboxRow.id).where(OutboxRow.kind == "reminder").order_by(OutboxRow.key).limit(3)  # type: ignore[arg-type]
            some = (await session.execute(reminders)).scalars().all()
            await repos.outbox.cancel(list(some), "replanned")
        second = await planner.run(NOW)
        for report in (first, second):
            report.extra.pop("audit_sealed")  # counts the seeding's entries too, which only the first run finds
        return await _state(app), {"first": first, "second": second}

    with monkeypatch.context() as patched:
        for module in (outbox, obligations, audit):
            patched.setattr(module, "insert_many", _row_by_row)
        reference, reference_reports = await plan(RowByRowPlanner)
    await _reset(app, statuses)
    bulk, bulk_reports = await plan(Planner)

    assert reference_reports == bulk_reports
    assert reference_reports["first"].random_draws > 10 and reference_reports["first"].completed == 4
    assert len(reference["outbox"]) > 500 and len(reference["obligations"]) > 500
    for part in ("obligations", "outbox", "audit", "people", "escalations"):
        assert bulk[part] == reference[part], part
