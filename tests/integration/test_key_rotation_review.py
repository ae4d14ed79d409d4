"""Key rotation, the review's findings: a value an old-key worker writes below a column's cursor is still rotated;
the scheduler only carries on a rotation an operator started; a retired key may not write again; `status` counts in
SQL (the JSON-shaped columns too); a previous key's audit MAC holds only for entries from before the writing key
was registered; two first batches of a column never collide on its cursor row."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.app import Application, build_application
from bot.config import ConfigError, Settings
from bot.db.crypto import FieldCipher, Keyring, key_id
from bot.db.models import AuditEventRow, KeyRotationRow
from bot.db.repositories.keys import Cursor, KeyRepository
from bot.db.sealed import SEALED, SealedColumn, page, table_of
from bot.db.store import Store
from bot.services import audit_chain, keys
from tests.fakes.clock import FakeClock
from tests.support.config import TEST_KEY, TEST_KEY_BYTES
from tests.support.exercised import exercise, opened_values

NEW_KEY_BYTES = bytes(range(140, 172))
NEW_KEY = base64.urlsafe_b64encode(NEW_KEY_BYTES).decode()
OLD_ID, NEW_ID = key_id(TEST_KEY_BYTES), key_id(NEW_KEY_BYTES)


def _settings(app: Application, key: str, previous: str | None) -> Settings:
    values: dict[str, Any] = {"previous_encryption_keys": previous} if previous else {}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=app.settings.database_url,
        data_dir=app.settings.data_dir,
        encryption_key=key,  # type: ignore[arg-type]
        environment="development",
        **values,
    )


@pytest.fixture
async def rotated(app: Application, clock: FakeClock) -> AsyncIterator[Application]:
    """The exercised database, the new key writing, the old one still configured."""
    await exercise(app)
    await audit_chain.seal(app.store)
    second = build_application(_settings(app, NEW_KEY, TEST_KEY), clock=clock)
    try:
        await second.migrate()
        yield second
    finally:
        await second.aclose()


def _spec(name: str) -> SealedColumn:
    return next(s for s in SEALED if s.name == name)


async def _rewrite_under_old_key(app: Application, new: Store, spec: SealedColumn) -> int:
    """What a worker not yet restarted does: (re)write the column in the table's FIRST row under the old key (below
    the cursor of a finished pass). Returns its row id."""
    table = table_of(spec)
    async with new.transaction() as repos:
        stmt = select(table.c.id, table.c[spec.column], *(table.c[n] for n in spec.uses)).order_by(table.c.id)
        row = (await repos.session.execute(stmt.limit(1))).mappings().one()
        ref, sealed = spec.ref(row), spec.stored(row[spec.column])
        plain = new.keyring.cipher.decrypt(sealed, spec.sealed_for, ref) if sealed else "{}"
        again = app.store.keyring.cipher.encrypt(plain, spec.sealed_for, ref)  # the old key, as that worker has
        await KeyRepository(repos.session).write(spec, int(row["id"]), {spec.column: spec.wrap(again)})
    return int(row["id"])


async def test_a_value_written_under_the_old_key_below_the_cursor_is_rotated_by_the_next_run(
    app: Application, rotated: Application, clock: FakeClock
) -> None:
    await keys.mark_started(rotated.store)
    first = await keys.rotate(rotated.store, batch=2)
    assert first.done and first.finished and (await keys.status(rotated.store, clock)).done
    assert await keys.continue_rotation(rotated.store) is None  # run to the end: the scheduler stops
    late = [_spec("participant.name_enc"), _spec("conversation_state.data"), _spec("conversation_state.offered_labels")]
    for spec in late:
        await _rewrite_under_old_key(app, rotated.store, spec)
    stuck = await keys.status(rotated.store, clock)
    assert stuck.remaining == 3 and not stuck.done
    assert all(stuck.columns[spec.name].get(OLD_ID) == 1 for spec in late)  # JSON-shaped columns counted too

    again = await keys.rotate(rotated.store, batch=2)
    status = await keys.status(rotated.store, clock)
    assert again.done is status.done is True and status.remaining == 0
    assert sum(again.resealed.values()) == 3 and again.unreadable == 0
    assert {kid for counts in status.columns.values() for kid in counts} == {NEW_ID}
    assert await opened_values(Store(rotated.engine, Keyring(NEW_KEY_BYTES), clock))


async def test_a_tampered_value_ends_the_pass_and_is_counted_once(
    app: Application, rotated: Application, clock: FakeClock
) -> None:
    """The pass that starts again from the first row passes over a value that does not open: it ends."""
    spec = _spec("participant.name_enc")
    await keys.rotate(rotated.store, batch=2)
    async with rotated.store.transaction() as repos:  # a value moved from another row, under the old key
        (first_id, _, _), (_, _, ref) = (await page(repos.session, spec, after_id=0, limit=2)).values
        moved = app.store.keyring.cipher.encrypt("x", spec.sealed_for, ref)
        await KeyRepository(repos.session).write(spec, first_id, {spec.column: moved})
    report = await keys.rotate(rotated.store, batch=1)
    assert report.finished and not report.done and report.unreadable == 1
    assert (await keys.status(rotated.store, clock)).remaining == 1


async def test_a_new_key_alone_starts_no_rotation(rotated: Application, clock: FakeClock) -> None:
    assert await keys.continue_rotation(rotated.store) is None
    assert not (await keys.status(rotated.store, clock)).done
    await keys.mark_started(rotated.store)
    assert await keys.continue_rotation(rotated.store, max_batches=1) is not None


async def test_a_retired_key_is_refused_as_the_writing_key(app: Application, rotated: Application) -> None:
    async with rotated.store.transaction() as repos:
        await KeyRepository(repos.session).retire(OLD_ID, rotated.clock.now())
    back = build_application(_settings(app, TEST_KEY, NEW_KEY), clock=rotated.clock)  # the keys swapped back
    try:
        with pytest.raises(ConfigError) as refused:
            await back.migrate()
    finally:
        await back.aclose()
    message = str(refused.value)
    assert "\n" not in message and OLD_ID in message and "retired" in message and "AFTERCARE_ENCRYPTION_KEY" in message


async def test_status_counts_in_sql_what_reading_every_value_counts(
    app: Application, rotated: Application, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await keys.rotate(rotated.store, batch=3, max_batches=4)  # half-way: both keys in use
    await _rewrite_under_old_key(app, rotated.store, _spec("conversation_state.offered_labels"))
    await _rewrite_under_old_key(app, rotated.store, _spec("conversation_state.data"))
    expected: dict[str, dict[str, int]] = {}
    for spec in SEALED:  # the former way: every value read into Python
        counts: dict[str, int] = {}
        after: int | None = 0
        while after is not None:
            async with rotated.store.transaction() as repos:
                found = await page(repos.session, spec, after_id=after, limit=100)
            for _, sealed, _ in found.values:
                kid = FieldCipher.key_of(sealed) or "unreadable"
                counts[kid] = counts.get(kid, 0) + 1
            after = found.last_id
        expected[spec.name] = dict(sorted(counts.items()))

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("status read the sealed values")

    monkeypatch.setattr(keys, "page", no_reading)
    status = await keys.status(rotated.store, clock)
    assert status.columns == expected
    kids = {kid for counts in expected.values() for kid in counts}
    assert {OLD_ID, NEW_ID} <= kids
    assert expected["conversation_state.offered_labels"].get(OLD_ID)
    assert expected["conversation_state.data"]


async def test_an_entry_written_after_the_rotation_with_an_old_key_mac_is_refused(
    app: Application, rotated: Application, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:  # before the new key was registered, by an old worker: fine
        await repos.audit.by_scheduler("key_review_before", 1, {})
    clock.advance(minutes=1)
    async with app.store.transaction() as repos:  # after: whoever holds the old key, not a restarted worker
        await repos.audit.by_scheduler("key_review_forged", 1, {})
    async with rotated.store.transaction() as repos:
        forged = (
            await repos.session.execute(select(AuditEventRow.id).where(AuditEventRow.action == "key_review_forged"))
        ).scalar_one()
        await repos.audit.by_scheduler("key_review_after", 1, {})  # the writing key: fine
    assert await audit_chain.seal(rotated.store) == 2
    report = await audit_chain.verify_chain(rotated.store)
    assert not report.ok and report.first_bad_id == forged and "MAC" in (report.reason or "")


async def test_two_first_batches_of_a_column_do_not_collide_on_its_cursor(
    rotated: Application, database_url: str
) -> None:
    """The second insert of the cursor row waits for the first and updates it (PostgreSQL: before, a primary key
    error)."""
    part = "sealed:test.collision"
    other = Store(rotated.engine, rotated.store.keyring, rotated.clock)
    async with rotated.store.transaction() as repos:
        await KeyRepository(repos.session).save_cursor(part, Cursor(NEW_ID, 5, "", ""))

        async def second() -> None:
            async with other.transaction() as mine:
                await KeyRepository(mine.session).save_cursor(part, Cursor(NEW_ID, 9, "", ""))

        task = asyncio.create_task(second())
        if database_url.startswith("postgresql"):
            async with rotated.engine.connect() as watcher:
                for _ in range(500):  # until the second insert waits on the first's row
                    waiting = "select count(*) from pg_locks where not granted"
                    if (await watcher.execute(text(waiting))).scalar_one():
                        break
                    await asyncio.sleep(0.01)
                else:
                    raise AssertionError("the second insert never waited")
        else:
            for _ in range(5):
                await asyncio.sleep(0)
    await task
    async with rotated.store.transaction() as repos:
        row = await repos.session.get(KeyRotationRow, part)
        assert row is not None and row.position == 9 and row.key_id == NEW_ID
