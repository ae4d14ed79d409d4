"""The planner's bulk writes (issue 19: one statement per page instead of one per row, the random draws of a page
together; then one range read of the page's obligations instead of a read per question, and only the rows that
would change sent to the upserts) plan exactly what the row-by-row planner did: the same obligations, reminders and
digests with the same due times and payloads, the same random draws (the generator asked in the same order) and the
same audit entries, their MACs valid. A varied population: risks, terms, reminder hours, people whose term ended
yesterday, a reminder cancelled earlier as no longer wanted (revived), a draw another planner made first.

The reference is the planner as it was: a page planned with a read per question, each random draw inserted on its
own with its own audit entry, every bulk insert sent row by row through the session. Both run over the same database
in turn, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from bench.common import seed_population
from bot.app import Application
from bot.db import dialect
from bot.db.models import (
    AuditChainHeadRow,
    AuditEventRow,
    EscalationRow,
    ObligationRow,
    OutboxRow,
    ParticipantRow,
    UnitRow,
)
from bot.db.repositories import audit, obligations, outbox
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.planning import (
    MessageKind,
    ObligationKind,
    ObligationStatus,
    WantedObligation,
    random_draw_windows,
    random_test_key,
    wanted_obligations,
    wanted_reminders,
)
from bot.domain.schedule import draw_random_test_days
from bot.scheduler.planner import Planner, PlanReport
from tests.fakes.clock import FakeClock

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Hà Nội
SEED = 19


async def _cancel_unwanted(
    repos: Repositories, listed_on: dict[int, date], keep: set[str], first: date, last: date
) -> None:
    """The repository's former read-then-cancel of scheduled obligations the schedule no longer has."""
    stmt = select(ObligationRow.id, ObligationRow.key, ObligationRow.participant_id, ObligationRow.due_on).where(
        ObligationRow.participant_id.in_(list(listed_on)),  # type: ignore[attr-defined]
        ObligationRow.kind.in_([ObligationKind.CHECKIN.value, ObligationKind.TEST.value]),  # type: ignore[attr-defined]
        ObligationRow.status == ObligationStatus.PENDING.value,
        ObligationRow.due_on >= first,
        ObligationRow.due_on <= last,
    )
    rows = (await repos.session.execute(stmt)).all()
    drop = [oid for oid, key, pid, due in rows if key not in keep and due >= listed_on[pid]]
    if drop:
        await repos.session.execute(
            update(ObligationRow)
            .where(ObligationRow.id.in_(drop))  # type: ignore[union-attr]
            .values(status=ObligationStatus.CANCELLED.value)
        )


async def _cancel_random_after(repos: Repositories, participant_ids: list[int], after: date) -> None:
    """The repository's former cancellation of unannounced tests no longer called for."""
    if participant_ids:
        await repos.session.execute(
            update(ObligationRow)
            .where(
                ObligationRow.participant_id.in_(participant_ids),  # type: ignore[attr-defined]
                ObligationRow.kind == ObligationKind.RANDOM_TEST.value,
                ObligationRow.status == ObligationStatus.PENDING.value,
                ObligationRow.due_on > after,
            )
            .values(status=ObligationStatus.CANCELLED.value)
        )


class RowByRowPlanner(Planner):
    """A page planned as it was before: a read per question (IN lists of the page's ids), every wanted obligation
    sent to the upsert, each random draw inserted on its own with its own audit entry."""

    async def _plan_page(
        self, repos: Repositories, page: Any, now: datetime, report: PlanReport, turn: Any = None
    ) -> None:
        today = self._today(now).date()
        policy = self.policy
        ids = [facts.participant_id for facts in page]
        wanted: list[tuple[int, WantedObligation]] = []
        for facts in page:
            for obligation in wanted_obligations(
                facts.participant_id, facts.term_start, facts.term_end, facts.risk, facts.due_day, today, policy
            ):
                if obligation.due_on >= facts.listed_on:
                    wanted.append((facts.participant_id, obligation))
        await repos.obligations.ensure_many(wanted)
        report.obligations += len(wanted)
        window_first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        window_last = today + timedelta(days=policy.horizon_days)
        listed = {facts.participant_id: facts.listed_on for facts in page}
        await _cancel_unwanted(repos, listed, {w.key for _, w in wanted}, window_first, window_last)
        await self._draw_one_by_one(repos, page, today, report)
        open_obligations = await repos.obligations.open_for(
            ids, today - timedelta(days=policy.reminders.follow_up_after_days + 1)
        )
        planned = await repos.outbox.pending_reminders(ids)
        want: dict[str, NewMessage] = {}
        for facts in page:
            if not facts.active:
                continue
            preferred = time(facts.reminder_hour, 0)
            for message in wanted_reminders(
                open_obligations.get(facts.participant_id, []), preferred, self._tz, now, policy
            ):
                want[message.key] = NewMessage(
                    message.key, message.kind, message.due_at, participant_id=facts.participant_id,
                    payload=message.payload,
                )  # fmt: skip
        await repos.outbox.add([m for key, m in want.items() if key not in planned], revive=True)
        report.reminders_added += sum(1 for key in want if key not in planned)
        stale = [p.id for key, p in planned.items() if key not in want]
        await repos.outbox.cancel(stale, "replanned")
        report.reminders_cancelled += len(stale)
        moved = [(p.id, want[key].due_at) for key, p in planned.items() if key in want and want[key].due_at != p.due_at]
        await repos.outbox.reschedule(moved)
        report.reminders_moved += len(moved)
        report.participants += len(page)

    async def _draw_one_by_one(self, repos: Repositories, page: Any, today: Any, report: PlanReport) -> None:
        windows = {
            f.participant_id: random_draw_windows(f.term_start, f.term_end, f.risk, today, self.policy) for f in page
        }
        no_longer = [f.participant_id for f in page if not self.policy.random_tests_per_quarter.get(f.risk, 0)]
        await _cancel_random_after(repos, no_longer, today)
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


async def _row_by_row(session: Any, table: Any, rows: Any, conflict: Any, returning: Any = ()) -> list[Any]:
    """`insert_many` as the repositories did it before: the ORM's executemany, one execution per row."""
    assert not returning  # the reference inserts its draws one by one (`add_drawn`)
    if rows:
        await session.execute(conflict(dialect.upsert(session, table)), list(rows))
    return []


async def _row_by_row_columns(session: Any, table: Any, columns: Any, conflict: Any, returning: Any = ()) -> list[Any]:
    """`insert_columns` likewise, row by row."""
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return await _row_by_row(session, table, rows, conflict, returning)


def _planner(app: Application, cls: type[Planner]) -> Planner:
    """The reference plans one page after another; the planner as it is, two pages at a time on PostgreSQL (its
    draws still in page order: the same generator gives the same days)."""
    return cls(
        app.store, app.clock, HANOI, policy=app.scheduler.planner.policy, page_size=40, rng=random.Random(SEED),  # type: ignore[arg-type]
        page_workers=1 if cls is RowByRowPlanner else 2,
    )  # fmt: skip


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


async def _reset(app: Application, people: list[tuple[Any, ...]]) -> None:
    async with app.store.transaction() as repos:
        session = repos.audit._s  # type: ignore[attr-defined]
        for table in (EscalationRow, OutboxRow, ObligationRow, AuditEventRow, AuditChainHeadRow):
            await session.execute(delete(table))
        await session.execute(update(UnitRow).values(checkin_due_day=10))
        for pid, status, end, risk in people:
            await session.execute(
                update(ParticipantRow).where(ParticipantRow.id == pid)  # type: ignore[arg-type]
                .values(status=status, completed_on=None, left_on=None, retain_from=None, expected_end=end,
                        risk_level=risk)
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
        columns = (ParticipantRow.id, ParticipantRow.status, ParticipantRow.expected_end, ParticipantRow.risk_level)
        people = [tuple(r) for r in (await session.execute(select(*columns))).all()]
        # a few of them enrolled, not linked: obligations for the cadre, no reminders
        enrolled = update(ParticipantRow).where(ParticipantRow.id % 7 == 0).values(status="enrolled")  # type: ignore[operator]
        await session.execute(enrolled)
        people = [(pid, "enrolled" if pid % 7 == 0 else st, end, risk) for pid, st, end, risk in people]

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
        # then the records change: the commune's due day (pending obligations and their reminders move), shorter
        # terms (obligations no longer wanted are cancelled), risk lowered (undrawn random tests are cancelled)
        async with app.store.transaction() as repos:
            session = repos.audit._s  # type: ignore[attr-defined]
            await session.execute(update(UnitRow).values(checkin_due_day=3))
            shorter = update(ParticipantRow).where(ParticipantRow.id % 11 == 0)  # type: ignore[operator]
            await session.execute(shorter.values(expected_end=today + timedelta(days=5)))
            lowered = update(ParticipantRow).where(ParticipantRow.id % 3 == 0, ParticipantRow.risk_level == "high")  # type: ignore[operator]
            await session.execute(lowered.values(risk_level="low"))
        third = await planner.run(NOW)
        for report in (first, second, third):
            report.extra.pop("audit_sealed")  # counts the seeding's entries too, which only the first run finds
        return await _state(app), {"first": first, "second": second, "third": third}

    with monkeypatch.context() as patched:
        for module in (outbox, obligations, audit):
            for name, row_by_row in (("insert_many", _row_by_row), ("insert_columns", _row_by_row_columns)):
                if hasattr(module, name):
                    patched.setattr(module, name, row_by_row)
        reference, reference_reports = await plan(RowByRowPlanner)
    await _reset(app, people)
    bulk, bulk_reports = await plan(Planner)

    assert reference_reports == bulk_reports
    third = reference_reports["third"]
    assert third.reminders_moved > 100 and third.reminders_cancelled > 0
    cancelled = {(kind, status) for _, _, kind, _, status in reference["obligations"]}
    assert {("random_test", "cancelled"), ("checkin", "cancelled"), ("test", "cancelled")} <= cancelled
    assert reference_reports["first"].random_draws > 10 and reference_reports["first"].completed == 4
    assert len(reference["outbox"]) > 500 and len(reference["obligations"]) > 500
    for part in ("obligations", "outbox", "audit", "people", "escalations"):
        assert bulk[part] == reference[part], part


class _PageFailed(Exception):
    pass


async def test_a_failing_page_fails_the_run_with_its_own_error(app: Application, clock: FakeClock) -> None:
    """Pages planned two at a time still fail the run as one after another did: with the page's own exception, not
    wrapped in a group (the other worker is cancelled)."""
    clock.set(NOW)
    await seed_population(app, 60, NOW.astimezone(HANOI).date(), NOW)
    planner = Planner(app.store, app.clock, HANOI, policy=app.scheduler.planner.policy, page_size=10)
    pages = 0

    async def plan_page(*args: Any) -> None:
        nonlocal pages
        pages += 1
        if pages == 3:
            raise _PageFailed

    planner._plan_page = plan_page  # type: ignore[method-assign]
    with pytest.raises(_PageFailed):
        await planner.run(NOW)


async def test_bulk_inserts_keep_each_rows_json_as_it_was(app: Application, clock: FakeClock) -> None:
    """A column of equal values is sent once, but `{"n": 1} == {"n": True}` in Python: JSON keeps which it was."""
    clock.set(NOW)
    payloads = [{"n": 1}, {"n": True}, {"n": 1.0}]
    async with app.store.transaction() as repos:
        await repos.outbox.add(
            [NewMessage(f"json:{i}", MessageKind.DIGEST, NOW, payload=p) for i, p in enumerate(payloads)]
        )
    async with app.store.transaction() as repos:
        stored = [await repos.outbox.by_key(f"json:{i}") for i in range(len(payloads))]
    kept = [message.payload["n"] for message in stored if message is not None]
    assert [type(n) for n in kept] == [int, bool, float]
