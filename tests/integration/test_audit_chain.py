"""The audit log's hash chain against a real database: whatever someone with write access but without the key does to
the table (edit, delete, insert, reorder) shows in `verify_chain`, and concurrent writers and sealers never fork it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from bot.app import Application, build_application
from bot.config import Settings, resolve_secrets
from bot.db import migrate
from bot.db.engine import make_engine
from bot.db.models import AuditEventRow
from bot.db.store import Store
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
    async with app.store.transaction() as repos:
        return await verify_chain(repos)


async def _tamper(app: Application, statement: object) -> None:
    async with app.store.transaction() as repos:
        await repos.session.execute(statement)  # type: ignore[call-overload]


async def test_an_untouched_log_verifies_and_sealing_twice_seals_nothing_new(
    app: Application, clock: FakeClock
) -> None:
    ids = await _write(app, 5, clock)
    async with app.store.transaction() as repos:
        assert await seal(repos) == 5
        assert await seal(repos) == 0
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
    async with app.store.transaction() as repos:
        assert await seal(repos) == 0  # a forged entry never extends the chain
        await repos.audit.record(actor_type="system", actor_id=None, action="after", outcome="ok")
        assert await seal(repos) == 1


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
                async with store.transaction() as repos:
                    total += await seal(repos, batch=7)
                await asyncio.sleep(0)
            return total

        stores = (app.store, other)
        results = await asyncio.gather(*(writer(stores[n % 2], n) for n in range(16)), sealer(app.store), sealer(other))
        early = sum(r for r in results if isinstance(r, int))
        async with other.transaction() as repos:
            late = await seal(repos)
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
