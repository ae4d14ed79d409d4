"""The audit log's hash chain against a real database: whatever someone with write access but without the key does to
the table (edit, delete, insert, reorder) shows in `verify_chain`, and concurrent writers and sealers never fork it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from bot.app import Application, build_application
from bot.config import Settings, resolve_secrets
from bot.db import audit_mac, migrate
from bot.db.engine import make_engine
from bot.db.models import AuditEventRow
from bot.db.store import Repositories, Store
from bot.services.audit_chain import ChainReport, seal, verify_chain
from tests.fakes.clock import FakeClock

CHAIN_REVISION = "b09d2e3f4a51"
MIGRATION_KEY = "encryption_key"  # what `bot.db.migrate` hands the migrations in config.attributes


async def _write(app: Application, count: int, clock: FakeClock) -> list[int]:
    async with app.store.transaction() as repos:
        for n in range(count):
            clock.advance(seconds=1)
            await repos.audit.record(
                actor_type="staff", actor_id=n, action="list_opened", outcome="ok", detail={"page": n, "scope": "ô"}
            )
        rows = await repos.session.execute(select(AuditEventRow.id).order_by(AuditEventRow.id))  # type: ignore[arg-type]
        return [row_id for (row_id,) in rows]


async def _verify(app: Application) -> ChainReport:
    return await verify_chain(app.store)


async def _tamper(app: Application, statement: object) -> None:
    async with app.store.transaction() as repos:
        await repos.session.execute(statement)  # type: ignore[call-overload]


async def test_an_untouched_log_verifies_and_sealing_twice_seals_nothing_new(
    app: Application, clock: FakeClock
) -> None:
    ids = await _write(app, 5, clock)
    assert await seal(app.store) == 5
    assert await seal(app.store) == 0
    assert await _verify(app) == ChainReport(ok=True, entries=5, sealed=5)
    more = await _write(app, 3, clock)
    report = await _verify(app)  # verification seals what is pending first
    assert report == ChainReport(ok=True, entries=8, sealed=8)
    assert more[:5] == ids


async def test_an_edited_field_is_found(app: Application, clock: FakeClock) -> None:
    ids = await _write(app, 6, clock)
    await _verify(app)
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[3]).values(outcome="denied"))
    report = await _verify(app)
    assert (report.ok, report.first_bad_id) == (False, ids[3])
    assert report.reason is not None and "changed" in report.reason
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[3]).values(outcome="ok"))
    assert (await _verify(app)).ok
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[1]).values(detail={"page": 1, "scope": "o"}))
    assert (await _verify(app)).first_bad_id == ids[1]
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[1]).values(detail={"page": 1, "scope": "ô"}))
    later = ids[2]
    at = (await _row(app, later)).at
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == later).values(at=at + timedelta(seconds=1)))
    assert (await _verify(app)).first_bad_id == later


async def _row(app: Application, row_id: int) -> AuditEventRow:
    async with app.store.transaction() as repos:
        row = await repos.session.get(AuditEventRow, row_id)
        assert row is not None
        return row


async def test_a_deleted_sealed_entry_is_found_in_the_middle_and_at_the_end(app: Application, clock: FakeClock) -> None:
    ids = await _write(app, 6, clock)
    await _verify(app)
    await _tamper(app, delete(AuditEventRow).where(AuditEventRow.id == ids[-1]))
    report = await _verify(app)
    assert not report.ok and report.reason is not None and "end" in report.reason
    await _tamper(app, delete(AuditEventRow).where(AuditEventRow.id == ids[2]))
    report = await _verify(app)
    assert (report.ok, report.first_bad_id, report.sealed) == (False, ids[3], 2)
    assert report.reason is not None and "missing" in report.reason


async def test_an_entry_inserted_without_the_key_is_never_sealed_and_is_reported(
    app: Application, clock: FakeClock
) -> None:
    ids = await _write(app, 3, clock)
    await _verify(app)
    async with app.store.transaction() as repos:
        copied = await repos.session.get(AuditEventRow, ids[0])
        assert copied is not None
        values = {
            "at": clock.now(), "actor_type": "staff", "actor_id": 99, "action": "list_opened", "outcome": "ok",
            "detail": {}, "entry_mac": copied.entry_mac,  # a valid MAC, but of another entry
        }  # fmt: skip
        await repos.session.execute(insert(AuditEventRow).values(**values))
    report = await _verify(app)
    assert (report.ok, report.entries, report.sealed) == (False, 4, 3)
    assert report.first_bad_id == ids[-1] + 1 and report.reason is not None and "MAC" in report.reason
    assert await seal(app.store) == 0  # a forged entry never extends the chain
    async with app.store.transaction() as repos:
        await repos.audit.record(actor_type="system", actor_id=None, action="after", outcome="ok")
    assert await seal(app.store) == 1


async def test_an_entry_changed_before_it_was_sealed_is_not_sealed(app: Application, clock: FakeClock) -> None:
    ids = await _write(app, 2, clock)
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[0]).values(actor_id=7))
    report = await _verify(app)
    assert (report.ok, report.first_bad_id, report.sealed) == (False, ids[0], 1)


async def test_reordered_or_swapped_entries_break_the_chain(app: Application, clock: FakeClock) -> None:
    ids = await _write(app, 5, clock)
    await _verify(app)
    first, second = await _row(app, ids[1]), await _row(app, ids[2])
    # renumber: swap the two entries' places in the sequence (and their links)
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[1]).values(seq=-1))
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[2]).values(seq=first.seq, chain=first.chain))
    await _tamper(
        app, update(AuditEventRow).where(AuditEventRow.id == ids[1]).values(seq=second.seq, chain=second.chain)
    )
    report = await _verify(app)
    assert (report.ok, report.first_bad_id) == (False, ids[2])
    # put them back, then swap their whole content instead (MACs included)
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[1]).values(seq=-1))
    await _tamper(
        app, update(AuditEventRow).where(AuditEventRow.id == ids[2]).values(seq=second.seq, chain=second.chain)
    )
    await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == ids[1]).values(seq=first.seq, chain=first.chain))
    assert (await _verify(app)).ok
    content = ("at", "actor_type", "actor_id", "action", "outcome", "detail", "entry_mac")
    for target, source in ((ids[1], second), (ids[2], first)):
        values = {name: getattr(source, name) for name in content}
        await _tamper(app, update(AuditEventRow).where(AuditEventRow.id == target).values(**values))
    report = await _verify(app)
    assert (report.ok, report.first_bad_id) == (False, ids[1])
    assert report.reason is not None and "chain" in report.reason


async def test_concurrent_writers_and_sealers_in_two_workers_make_one_chain(
    app: Application, clock: FakeClock, database_url: str
) -> None:
    """Two workers (two engines, as two processes would have) each run many transactions that audit, and seal
    while others write: every entry ends up sealed once, in one unbroken chain."""
    other_engine = make_engine(database_url)
    other = Store(other_engine, app.store.keyring, clock)
    try:

        async def writer(store: Store, n: int) -> None:
            for round_ in range(4):
                async with store.transaction() as repos:
                    for k in range(3):
                        await repos.audit.record(
                            actor_type="staff", actor_id=n, action="list_opened", outcome="ok",
                            detail={"round": round_, "k": k},
                        )  # fmt: skip
                    await asyncio.sleep(0)

        async def sealer(store: Store) -> int:
            total = 0
            for _ in range(6):
                total += await seal(store, batch=7)
                await asyncio.sleep(0)
            return total

        stores = (app.store, other)
        results = await asyncio.gather(*(writer(stores[n % 2], n) for n in range(16)), sealer(app.store), sealer(other))
        early = sum(r for r in results if isinstance(r, int))
        late = await seal(other)
        assert early + late == 16 * 4 * 3
        report = await _verify(app)
        assert report == ChainReport(ok=True, entries=192, sealed=192)
        async with app.store.transaction() as repos:
            seqs = (await repos.session.execute(select(func.min(AuditEventRow.seq), func.max(AuditEventRow.seq)))).one()
        assert tuple(seqs) == (1, 192)
    finally:
        await other_engine.dispose()


async def test_the_plan_tick_seals_the_log(app: Application, clock: FakeClock) -> None:
    await _write(app, 4, clock)
    await app.scheduler.planner.run()
    async with app.store.transaction() as repos:
        unsealed = await repos.session.execute(
            select(func.count()).select_from(AuditEventRow).where(AuditEventRow.seq.is_(None))  # type: ignore[union-attr]
        )
        assert unsealed.scalar_one() == 0


async def _upgrade_with_entries_before_the_chain(database_url: str, master_key: bytes | None) -> list[int]:
    """Migrate to the revision before the chain, write entries as the old code did, then upgrade (with or without
    the key handed to the migration, as `Application.migrate` and a bare `alembic upgrade` do)."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    before = script.get_revision(CHAIN_REVISION).down_revision
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine, str(before))
        old = sa.table(
            "audit_event", *(sa.column(c) for c in ("at", "actor_type", "actor_id", "action", "outcome")),
            sa.column("detail", sa.JSON()),
        )  # fmt: skip
        async with engine.begin() as connection:
            for n in range(3):
                at = FakeClock().now() + timedelta(minutes=n)
                await connection.execute(
                    old.insert().values(at=at, actor_type="operator", actor_id=None, action="old", outcome="ok",
                                        detail={"n": n, "tên": "ẩn"})
                )  # fmt: skip

        def apply(connection: Connection) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            if master_key is not None:
                config.attributes[MIGRATION_KEY] = master_key
            command.upgrade(config, CHAIN_REVISION)

        async with engine.begin() as connection:
            await connection.run_sync(apply)
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            return list((await connection.execute(sa.select(AuditEventRow.seq))).scalars())  # type: ignore[call-overload]
    finally:
        await engine.dispose()


@pytest.mark.empty_database
async def test_entries_written_before_the_chain_are_sealed_by_the_migration_given_the_key(
    database_url: str, settings: Settings, clock: FakeClock
) -> None:
    seqs = await _upgrade_with_entries_before_the_chain(database_url, resolve_secrets(settings).encryption_key)
    assert sorted(seqs) == [1, 2, 3]
    application = build_application(settings, clock=clock)
    try:
        assert await _verify(application) == ChainReport(ok=True, entries=3, sealed=3)
    finally:
        await application.aclose()


@pytest.mark.empty_database
async def test_entries_written_before_the_chain_are_adopted_by_the_first_seal_without_the_key(
    database_url: str, settings: Settings, clock: FakeClock
) -> None:
    seqs = await _upgrade_with_entries_before_the_chain(database_url, None)
    assert seqs == [None, None, None]
    application = build_application(settings, clock=clock)
    try:
        async with application.store.transaction() as repos:
            await repos.audit.record(actor_type="system", actor_id=None, action="new", outcome="ok")
            # written after the upgrade without a MAC: never adopted
            await repos.session.execute(
                insert(AuditEventRow).values(at=clock.now(), actor_type="x", action="forged", outcome="ok", detail={})
            )
        report = await _verify(application)
        assert (report.ok, report.entries, report.sealed) == (False, 5, 4)
        assert report.reason is not None and "MAC" in report.reason
    finally:
        await application.aclose()


# --- issue 13 review: no long lock, no endless re-reading, odd details ----------------------------------------------


class _CountingStore:
    """The application's own store (same SQLite writer queue), counting the transactions a caller opens and saying
    when the `wake_at`-th one begins."""

    def __init__(self, store: Store, wake_at: int = 0) -> None:
        self.store = store
        self.opened = 0
        self.wake_at = wake_at
        self.woken = asyncio.Event()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        self.opened += 1
        if self.opened == self.wake_at:
            self.woken.set()
        async with self.store.transaction() as repos:
            yield repos


def _writes_to_the_chain(engine: AsyncEngine) -> tuple[list[str], Callable[[], None]]:
    """Every INSERT/UPDATE statement sent for the audit tables until the returned `stop` is called."""
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        text = statement.lstrip().upper()
        if text.startswith(("INSERT", "UPDATE")) and "AUDIT_" in text:
            seen.append(text.split("(")[0][:60])

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine.sync_engine, "before_cursor_execute", listen)


async def test_verification_holds_back_neither_a_message_nor_the_plan_ticks_seal(
    app: Application, clock: FakeClock
) -> None:
    """Before: verification sealed and walked the whole table in one transaction, so on SQLite every message waited
    for it, and on PostgreSQL the plan tick's seal blocked on the head row until it ended."""
    await _write(app, 1000, clock)
    assert await seal(app.store) == 1000
    counting = _CountingStore(app.store, wake_at=4)  # the seal's probe, the head, then pages of the walk
    verification = asyncio.create_task(verify_chain(counting, batch=20))  # type: ignore[arg-type]
    woken = asyncio.create_task(counting.woken.wait())
    await asyncio.wait([woken, verification], return_when=asyncio.FIRST_COMPLETED)
    woken.cancel()
    async with app.store.transaction() as repos:  # a message that audits, while the walk is under way
        await repos.audit.record(actor_type="participant", actor_id=1, action="checkin", outcome="ok")
    assert await seal(app.store) == 1  # the plan tick's seal
    assert not verification.done(), "the write had to wait for the whole verification"
    report = await verification
    assert report == ChainReport(ok=True, entries=1001, sealed=1001)  # followed the chain to its new head
    assert counting.opened > 40  # paged: one short read-only transaction per 20 entries


async def test_a_backlog_is_sealed_in_short_batches_into_one_valid_chain(app: Application, clock: FakeClock) -> None:
    await _write(app, 1234, clock)
    counting = _CountingStore(app.store)
    assert await seal(counting, batch=100, max_batches=2) == 200  # type: ignore[arg-type]
    assert counting.opened == 2  # one transaction per batch; the plan tick leaves the rest for the next tick
    counting.opened = 0
    assert await seal(counting, batch=500) == 1034  # type: ignore[arg-type]
    assert counting.opened == 3  # 500, 500, 34
    assert await _verify(app) == ChainReport(ok=True, entries=1234, sealed=1234)
    async with app.store.transaction() as repos:
        seqs = (await repos.session.execute(select(func.min(AuditEventRow.seq), func.max(AuditEventRow.seq)))).one()
        head = await repos.audit.head()
    assert tuple(seqs) == (1, 1234) and head is not None and head.seq == 1234


async def test_nothing_to_seal_writes_nothing_and_a_refused_entry_is_read_once(
    app: Application, clock: FakeClock
) -> None:
    """Before: every plan tick locked (wrote) the head row even with nothing to seal, and re-read and re-refused
    every entry without a valid MAC from id 0, logging it again, forever."""
    ids = await _write(app, 3, clock)
    assert await seal(app.store) == 3
    writes, stop = _writes_to_the_chain(app.store.engine)
    try:
        assert await seal(app.store) == 0
        assert writes == []  # no head lock taken: a tick with nothing to seal is a single read
        # an old-version worker during a rolling upgrade writes an entry without a MAC
        await _tamper(
            app, insert(AuditEventRow).values(at=clock.now(), actor_type="x", action="old", outcome="ok", detail={})
        )
        writes.clear()
        with capture_logs() as logs:
            assert await seal(app.store) == 0
            assert await seal(app.store) == 0
        refused = [line for line in logs if line["event"] == "audit_entries_without_valid_mac"]
        assert [(line["count"], line["first_id"]) for line in refused] == [(1, ids[-1] + 1)]  # reported once
        assert len(writes) == 3  # the one seal that marked it: head lock (2) and the mark; the next wrote nothing
        writes.clear()
        for _ in range(2):  # verification names it every time, without looping
            report = await _verify(app)
            assert (report.ok, report.first_bad_id, report.sealed, report.entries) == (False, ids[-1] + 1, 3, 4)
            assert report.reason is not None and "entry without a valid MAC" in report.reason
        assert writes == []
        async with app.store.transaction() as repos:
            await repos.audit.record(actor_type="system", actor_id=None, action="after", outcome="ok")
        assert await seal(app.store) == 1  # later entries are sealed past the refused one
    finally:
        stop()


class _Colour(StrEnum):
    RED = "red"


async def test_odd_detail_values_are_stored_as_macd_and_verify(app: Application, clock: FakeClock) -> None:
    """Before: mixed int and str keys raised TypeError inside record() (the business action failed with it), and a
    tuple, a non-string key or a datetime came back from the database different from what was MACed."""
    when = datetime(2026, 5, 17, 8, 30, tzinfo=UTC)
    odd: dict[Any, Any] = {
        7: "int key", "2": "str key", 2.5: "float key", True: "bool key", None: "null key",
        "mixed": {3: "x", "y": 4, (5, 6): "tuple key"},
        "tuple": (1, (2, 3)), "set": {3, 1, 2}, "frozen": frozenset({"b", "a"}), "when": when, "day": date(2026, 5, 17),
        "decimal": Decimal("1.10"), "colour": _Colour.RED, "float": 0.1, "big": 1e300, "negzero": -0.0,
        "nan": float("nan"), "inf": float("-inf"), "huge": 2**70, "surrogate": "a\ud800b", "đồng hành": ["ẩn", None],
        "nested": [[{"k": (1.5,)}]], "empty": {}, "object": _Colour, "nul": "a\x00b",
    }  # fmt: skip
    async with app.store.transaction() as repos:
        await repos.audit.record(actor_type="staff", actor_id=1, action="odd", outcome="ok", detail=odd)
        await repos.audit.record(actor_type="staff", actor_id=1, action="plain", outcome="ok", detail={"page": 1})
    async with app.store.transaction() as repos:
        rows = (await repos.session.execute(select(AuditEventRow).order_by(AuditEventRow.id))).scalars().all()  # type: ignore[arg-type]
        stored = rows[0].detail
    assert stored == audit_mac.plain_detail(odd)  # what was MACed is what the database gives back
    assert stored["7"] == "int key" and stored["true"] == "bool key" and stored["null"] == "null key"
    assert stored["mixed"] == {"3": "x", "y": 4, "(5, 6)": "tuple key"}
    assert stored["tuple"] == [1, [2, 3]] and stored["set"] == [1, 2, 3] and stored["frozen"] == ["a", "b"]
    assert (stored["when"], stored["nan"], stored["inf"], stored["colour"]) == (str(when), "nan", "-inf", "red")
    assert stored["surrogate"] == "a\ufffdb" and stored["float"] == 0.1 and stored["huge"] == 2**70
    assert await _verify(app) == ChainReport(ok=True, entries=2, sealed=2)


def _canonical_before_the_fix(**fields: Any) -> bytes:
    """canonical() as first written (and as migration 0009 computed it for the rows it sealed)."""
    values = ["v1", fields["at"].astimezone(UTC).isoformat(timespec="microseconds")]
    values += [fields[name] for name in ("actor_type", "actor_id", "action", "subject_type", "subject_id", "outcome")]
    values.append(fields["detail"] or {})
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def test_canonical_is_unchanged_for_what_a_database_gives_back_and_never_raises() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)
    base = {"at": at, "actor_type": "staff", "actor_id": 7, "action": "a", "subject_type": None, "subject_id": None}
    for detail in (
        None, {}, {"page": 1, "scope": "ô"}, {"b": [1, 2.5, None, True], "a": {"z": "Đ", "y": -0.0}},
        {"nan": float("nan"), "big": 1e300, "huge": 2**70, "nested": [[{"k": "v"}]]},
    ):  # fmt: skip
        assert audit_mac.canonical(outcome="ok", detail=detail, **base) == _canonical_before_the_fix(
            outcome="ok", detail=detail, **base
        )
    odd = {1: "x", "y": {2: "z"}, "t": (1, 2), "when": at}
    assert audit_mac.canonical(outcome="ok", detail=odd, **base)  # the first version raised TypeError here
    plain = audit_mac.plain_detail(odd)
    assert audit_mac.canonical(outcome="ok", detail=plain, **base) == _canonical_before_the_fix(
        outcome="ok", detail=plain, **base
    )
