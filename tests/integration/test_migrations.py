"""Stairway: every revision upgrades, downgrades and upgrades again, and head matches the models."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from bot.db import migrate
from bot.db.crypto import Keyring, derive_key
from bot.db.engine import make_engine
from bot.db.models import AbsenceRow, InboundUpdateRow
from bot.db.store import Store
from bot.db.types import UTCDateTime
from tests.fakes.clock import FakeClock

KEY = bytes(range(32))

pytestmark = pytest.mark.empty_database  # every test here starts before the first migration


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_stairway_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        revisions = _revisions()
        assert revisions, "no migrations found"
        for index, revision in enumerate(revisions):
            await migrate.upgrade(engine, revision)
            assert await migrate.current(engine) == revision
            await migrate.downgrade(engine, revisions[index - 1] if index else "base")
            await migrate.upgrade(engine, revision)
        assert await migrate.current(engine) == revisions[-1]
        await migrate.downgrade(engine, "base")
        assert await _tables(engine) <= {"alembic_version"}
        await migrate.upgrade(engine)
        assert {"participant", "channel_identity", "invite_code", "consent", "audit_event"} <= await _tables(engine)
    finally:
        await engine.dispose()


async def test_head_matches_the_models(database_url: str) -> None:
    """Autogenerate against head finds nothing: no model change is missing a migration."""
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), SQLModel.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


# --- 0008: values sealed before (v1, bound to their column only) and clear chat ids, read at head -----------------

BEFORE_0008 = "9f5a1b7d4e36"
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TELEGRAM_ID, ZALO_ID = "5000123", "zu000777"


def _v1(plain: str, column: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(derive_key(KEY, "aftercare/field-encryption/v1")).encrypt(nonce, plain.encode(), column.encode())
    return "v1:" + base64.b64encode(nonce + sealed).decode()


def _open_v1(stored: str, column: str) -> str:
    raw = base64.b64decode(stored.removeprefix("v1:"))
    return (
        AESGCM(derive_key(KEY, "aftercare/field-encryption/v1")).decrypt(raw[:12], raw[12:], column.encode()).decode()
    )


async def _seed_at_0007(engine: AsyncEngine) -> None:
    """One of everything sealed, written as the application did before 0008."""
    t = lambda name: SQLModel.metadata.tables[name]  # noqa: E731  (tables unchanged by 0008 are the models')
    identity = sa.table(
        "channel_identity", sa.column("id"), sa.column("channel"), sa.column("external_id"),
        sa.column("participant_id"), sa.column("staff_id"), sa.column("linked_at", UTCDateTime()),
        sa.column("unreachable"),
    )  # fmt: skip
    inbound = sa.table(
        "inbound_update", sa.column("key"), sa.column("received_at", UTCDateTime()), sa.column("replies_enc")
    )
    async with engine.begin() as c:
        await c.execute(
            insert(t("unit")), {"id": 1, "code": "HD", "name": "Hà Đông", "level": "ward", "created_at": NOW}
        )
        await c.execute(
            insert(t("staff_member")),
            {
                "id": 1,
                "name": "Bình",
                "role": "cadre",
                "unit_id": 1,
                "language": "vi",
                "active": True,
                "created_at": NOW,
            },
        )
        people = [
            {"id": pid, "unit_id": 1, "name_enc": _v1(name, "participant.name"), "term_start": date(2026, 1, 1),
             "national_id_enc": _v1(f"00109901234{pid}", "participant.national_id"), "term_months": 12,
             "expected_end": date(2027, 1, 1), "risk_level": "high", "status": "active", "cadre_id": 1,
             "language": "vi", "wording": "neutral", "created_at": NOW, "updated_at": NOW}
            for pid, name in ((1, "Nguyễn Văn An"), (2, "Đỗ Thị Bích"))
        ]  # fmt: skip
        await c.execute(insert(t("participant")), people)
        await c.execute(
            insert(identity),
            [
                {"id": 1, "channel": "telegram", "external_id": TELEGRAM_ID, "participant_id": 1, "staff_id": None,
                 "linked_at": NOW, "unreachable": False},
                {"id": 2, "channel": "zalo", "external_id": ZALO_ID, "participant_id": None, "staff_id": 1,
                 "linked_at": NOW, "unreachable": False},
            ],
        )  # fmt: skip
        await c.execute(
            insert(t("conversation_state")),
            [
                {"identity_id": 1, "flow": "checkin", "step": "q1", "offered": ["a"], "updated_at": NOW,
                 "data": {"sealed": _v1(json.dumps({"q": "đã"}), "conversation_state.data")},
                 "offered_labels": [_v1(json.dumps(["Có"]), "conversation_state.offered_labels")]},
                {"identity_id": 2, "flow": "search", "step": "", "offered": ["b"], "updated_at": NOW,
                 "data": {"query": "nva"}, "offered_labels": ["Về danh sách"]},  # written before sealing
            ],
        )  # fmt: skip
        await c.execute(
            insert(inbound),
            {"key": "telegram:9", "received_at": NOW, "replies_enc": _v1("[]", "inbound_update.replies")},
        )
        await c.execute(
            insert(t("obligation")),
            {"id": 1, "key": "checkin:1:2026-11", "participant_id": 1, "kind": "checkin", "due_on": date(2026, 11, 10),
             "status": "done", "created_at": NOW},
        )  # fmt: skip
        await c.execute(
            insert(t("checkin_response")),
            {"obligation_id": 1, "participant_id": 1, "answers_enc": _v1('{"mood": "ok"}', "checkin_response.answers"),
             "risky": False, "started_at": NOW},
        )  # fmt: skip
        results = [
            {"id": pid, "participant_id": pid, "taken_on": date(2026, 11, 2), "recorded_by": 1, "recorded_at": NOW,
             "result_enc": _v1(json.dumps({"outcome": outcome, "place": "Trạm", "substance": None}, sort_keys=True),
                               "test_result.result")}
            for pid, outcome in ((1, "negative"), (2, "positive"))
        ]  # fmt: skip
        await c.execute(insert(t("test_result")), results)
        await c.execute(
            insert(t("observation")),
            {"participant_id": 1, "staff_id": 1, "risk_flag": False, "recorded_at": NOW,
             "body_enc": _v1(json.dumps({"category": "other", "text": "ổn"}), "observation.body")},
        )  # fmt: skip
        await c.execute(
            insert(t("in_person_check")),
            {"participant_id": 1, "month": "2026-11", "outcome": "absent", "checked_on": date(2026, 11, 3),
             "recorded_by": 1, "recorded_at": NOW, "reason_enc": _v1("đi làm xa", "in_person_check.reason")},
        )  # fmt: skip
        await c.execute(
            insert(t("quarterly_review")),
            {"participant_id": 1, "quarter": "2026-Q4", "cadre_id": 1, "written_at": NOW,
             "assessment_enc": _v1(json.dumps({"progress": "good", "comment": "tốt"}), "quarterly_review.assessment")},
        )  # fmt: skip
        await c.execute(
            insert(t("field_report")),
            {"participant_id": 1, "unit_id": 1, "kind": "absence", "reported_by": 1, "reported_at": NOW,
             "status": "pending", "details_enc": _v1('{"days": 3}', "field_report.details")},
        )  # fmt: skip
        await c.execute(
            insert(t("escalation")),
            {"id": 1, "key": "e1", "participant_id": 1, "unit_id": 1, "kind": "missed", "raised_at": NOW,
             "note_enc": _v1("đã gọi", "escalation.note")},
        )  # fmt: skip
        await c.execute(
            insert(t("referral")),
            {"id": 1, "participant_id": 1, "kind": "talk", "urgency": "normal", "status": "accepted",
             "source": "menu", "created_at": NOW, "note_enc": _v1("riêng", "referral.note")},
        )  # fmt: skip
        await c.execute(
            insert(t("relay_message")),
            {"referral_id": 1, "participant_id": 1, "sender": "participant", "sent_at": NOW,
             "body_enc": _v1("xin chào", "relay.body:1")},
        )  # fmt: skip
        await c.execute(
            insert(t("absence")),
            {"participant_id": 1, "starts_on": date(2026, 11, 1), "ends_on": date(2026, 11, 3), "reported": True,
             "recorded_at": NOW, "reason_enc": _v1("về quê", "absence.reason")},
        )  # fmt: skip


async def _read_everything(engine: AsyncEngine) -> None:
    store = Store(engine, Keyring(KEY), FakeClock(NOW))
    async with store.transaction() as repos:
        an, bich = await repos.participants.get(1), await repos.participants.get(2)
        assert an is not None and bich is not None
        assert (an.name, an.national_id, bich.name) == ("Nguyễn Văn An", "001099012341", "Đỗ Thị Bích")
        assert await repos.identities.find("telegram", TELEGRAM_ID) is not None
        assert await repos.identities.find("zalo", ZALO_ID) is not None
        assert [p[0] for p in await repos.identities.for_channel("zalo")] == [ZALO_ID]
        by_participant, by_staff = await repos.planning.chats([1], [1])
        assert (by_participant[1].external_id, by_staff[1].external_id) == (TELEGRAM_ID, ZALO_ID)
        linked = await repos.identities.find_for_message("telegram", TELEGRAM_ID)
        assert linked is not None and repos.conversations.adopt(1, linked.state).data == {"q": "đã"}
        staff_chat = await repos.identities.find_for_message("zalo", ZALO_ID)
        assert staff_chat is not None
        state = repos.conversations.adopt(2, staff_chat.state)
        assert (state.data, state.offered_labels) == ({"query": "nva"}, ["Về danh sách"])
        checkin = await repos.checkins.for_obligation(1)
        assert checkin is not None and checkin.answers == {"mood": "ok"}
        assert [r.outcome.value for r in await repos.fieldwork.test_results_of(1)] == ["negative"]
        assert [r.outcome.value for r in await repos.fieldwork.test_results_of(2)] == ["positive"]
        assert [o.text for o in await repos.fieldwork.observations_of(1)] == ["ổn"]
        assert [c.reason for c in await repos.fieldwork.in_person_of(1)] == ["đi làm xa"]
        review = await repos.fieldwork.review_of(1, "2026-Q4")
        assert review is not None and review.comment == "tốt"
        report = await repos.fieldwork.report(1)
        assert report is not None and report.details == {"days": 3}
        escalation = await repos.escalations.get(1)
        assert escalation is not None and repos.escalations.note_of(escalation) == "đã gọi"
        assert await repos.referrals.note_of(1) == "riêng"
        message = await repos.relay.get(1)
        assert message is not None and message.body == "xin chào"
        replies = (await repos.session.execute(select(InboundUpdateRow))).scalar_one()
        assert (
            store.keyring.cipher.decrypt(replies.replies_enc or "", "inbound_update.replies", "key=telegram:9") == "[]"
        )
        absence = (await repos.session.execute(select(AbsenceRow))).scalar_one()
        assert absence.reason_enc and absence.reason_enc.startswith("v2:")
    async with engine.connect() as c:  # nothing left in the old format, no platform id in the clear
        for table in SQLModel.metadata.sorted_tables:
            for row in (await c.execute(select(table))).mappings():
                text_of_row = " ".join(str(v) for v in row.values())
                assert "v1:" not in text_of_row and TELEGRAM_ID not in text_of_row and ZALO_ID not in text_of_row


async def test_values_written_before_0008_read_at_head_and_survive_a_downgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine, BEFORE_0008)
        await _seed_at_0007(engine)
        await migrate.upgrade(engine, key=KEY)
        await _read_everything(engine)
        await migrate.downgrade(engine, BEFORE_0008, key=KEY)
        async with engine.connect() as c:
            ids = (await c.execute(sa.text("SELECT channel, external_id FROM channel_identity ORDER BY id"))).all()
            name = (await c.execute(sa.text("SELECT name_enc FROM participant WHERE id = 2"))).scalar_one()
            body = (await c.execute(sa.text("SELECT body_enc FROM relay_message"))).scalar_one()
        assert [tuple(r) for r in ids] == [("telegram", TELEGRAM_ID), ("zalo", ZALO_ID)]
        assert _open_v1(name, "participant.name") == "Đỗ Thị Bích" and _open_v1(body, "relay.body:1") == "xin chào"
        await migrate.upgrade(engine, key=KEY)
        await _read_everything(engine)
    finally:
        await engine.dispose()


async def _schema(engine: AsyncEngine) -> dict[str, object]:
    """The tables 0008 changes, as the database describes them: columns, indexes, unique constraints."""

    def describe(c: sa.Connection) -> dict[str, object]:
        found = inspect(c)
        return {
            table: (
                sorted(column["name"] for column in found.get_columns(table)),
                sorted(str(index["name"]) for index in found.get_indexes(table)),
                sorted(str(unique["name"]) for unique in found.get_unique_constraints(table)),
            )
            for table in ("inbound_update", "channel_identity", "conversation_state")
        }

    async with engine.connect() as c:
        return await c.run_sync(describe)


MORE_PEOPLE = 2_345  # more than two of 0008's pages of 1,000


async def _seed_more_people(engine: AsyncEngine) -> None:
    participant = SQLModel.metadata.tables["participant"]
    async with engine.begin() as c:
        await c.execute(
            insert(participant),
            [
                {"id": pid, "unit_id": 1, "name_enc": _v1(f"Người {pid}", "participant.name"), "cadre_id": 1,
                 "term_start": date(2026, 1, 1), "term_months": 12, "expected_end": date(2027, 1, 1),
                 "risk_level": "low", "status": "active", "language": "vi", "wording": "neutral", "created_at": NOW,
                 "updated_at": NOW}
                for pid in range(3, 3 + MORE_PEOPLE)
            ],
        )  # fmt: skip


async def test_0008_with_the_wrong_key_leaves_0007_and_runs_again_with_the_right_key(database_url: str) -> None:
    """A failed 0008 leaves the schema and every value exactly as at 0007 (on SQLite too, where a column added
    outside a transaction would stay and the retry would fail on "duplicate column name"); the right key then
    converts everything, page by page."""
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine, BEFORE_0008)
        await _seed_at_0007(engine)
        await _seed_more_people(engine)
        at_0007 = await _schema(engine)
        with pytest.raises(RuntimeError, match="does not open with this encryption key"):
            await migrate.upgrade(engine, key=bytes(32))
        assert await migrate.current(engine) == BEFORE_0008
        assert await _schema(engine) == at_0007
        async with engine.connect() as c:
            name = (await c.execute(sa.text("SELECT name_enc FROM participant WHERE id = 1"))).scalar_one()
            ids = (await c.execute(sa.text("SELECT external_id FROM channel_identity ORDER BY id"))).scalars().all()
        assert _open_v1(name, "participant.name") == "Nguyễn Văn An" and ids == [TELEGRAM_ID, ZALO_ID]
        await migrate.upgrade(engine, key=KEY)
        await _read_everything(engine)
        store = Store(engine, Keyring(KEY), FakeClock(NOW))
        async with store.transaction() as repos:
            for pid in (3, 1002, 1003, 2_345, 2 + MORE_PEOPLE):
                person = await repos.participants.get(pid)
                assert person is not None and person.name == f"Người {pid}"
    finally:
        await engine.dispose()


async def test_0008_without_a_key_refuses_and_creates_none(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare `alembic upgrade` with no key configured must not generate one (it could never open the data): it
    refuses, says what to set, and leaves 0007; the key kept in the data directory is used when there is one."""
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    monkeypatch.delenv("AFTERCARE_ENCRYPTION_KEY", raising=False)
    monkeypatch.setenv("AFTERCARE_ENVIRONMENT", "development")
    monkeypatch.setenv("AFTERCARE_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine, BEFORE_0008)
        await _seed_at_0007(engine)
        at_0007 = await _schema(engine)
        with pytest.raises(RuntimeError, match="AFTERCARE_ENCRYPTION_KEY"):
            await migrate.upgrade(engine)
        assert not (tmp_path / "data" / "encryption.key").exists()
        assert await migrate.current(engine) == BEFORE_0008 and await _schema(engine) == at_0007
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "encryption.key").write_text(base64.urlsafe_b64encode(KEY).decode() + "\n")
        await migrate.upgrade(engine)
        await _read_everything(engine)
    finally:
        await engine.dispose()


async def test_a_failed_migration_takes_its_ddl_back(database_url: str) -> None:
    """Schema changes and data changes of one upgrade commit or roll back together, SQLite included (its driver
    would otherwise commit DDL at once)."""
    engine = make_engine(database_url)

    def half_done(c: sa.Connection) -> None:
        c.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        c.exec_driver_sql("INSERT INTO half_done (x) VALUES (1)")
        raise RuntimeError("stopped")

    try:
        with pytest.raises(RuntimeError, match="stopped"):
            await migrate.in_one_transaction(engine, half_done)
        assert "half_done" not in await _tables(engine)
        async with engine.begin() as c:  # the connection went back to the pool as the application expects it
            await c.execute(sa.text("CREATE TABLE after_it (x INTEGER)"))
            await c.execute(sa.text("INSERT INTO after_it (x) VALUES (1)"))
        async with engine.connect() as c:
            assert (await c.execute(sa.text("SELECT x FROM after_it"))).scalar_one() == 1
    finally:
        await engine.dispose()


# --- 0015: the day people left the list and staff were deactivated, backfilled; nothing lost down and up ----------

BEFORE_RETENTION = "f14c3d4e5f62"  # the data requests migration (0014); retention is 0015


async def _seed_at_0012(engine: AsyncEngine) -> None:
    when = lambda name: sa.column(name, UTCDateTime())  # noqa: E731
    unit = sa.table(
        "unit", sa.column("id"), sa.column("code"), sa.column("name"), sa.column("level"), when("created_at")
    )
    staff = sa.table("staff_member", sa.column("id"), sa.column("name"), sa.column("role"), sa.column("unit_id"),
                     sa.column("language"), sa.column("active"), when("created_at"))  # fmt: skip
    person = sa.table(
        "participant", sa.column("id"), sa.column("unit_id"), sa.column("name_enc"), sa.column("term_start"),
        sa.column("term_months"), sa.column("expected_end"), sa.column("status"), sa.column("completed_on"),
        sa.column("risk_level"), sa.column("language"), sa.column("wording"), when("created_at"), when("updated_at"),
    )  # fmt: skip
    audit = sa.table(
        "audit_event", sa.column("id"), when("at"), sa.column("actor_type"), sa.column("action"),
        sa.column("subject_type"), sa.column("subject_id"), sa.column("outcome"), sa.column("detail", sa.JSON),
    )  # fmt: skip
    moved = datetime(2026, 6, 2, 10, tzinfo=UTC)
    async with engine.begin() as c:
        await c.execute(insert(unit), {"id": 1, "code": "HD", "name": "Hà Đông", "level": "ward", "created_at": NOW})
        await c.execute(insert(staff), [
            {"id": 1, "name": "Bình", "role": "cadre", "unit_id": 1, "language": "vi", "active": True,
             "created_at": NOW},
            {"id": 2, "name": "Cường", "role": "cadre", "unit_id": 1, "language": "vi", "active": False,
             "created_at": NOW},
        ])  # fmt: skip
        common = {"unit_id": 1, "name_enc": "x", "term_start": date(2025, 1, 1), "term_months": 12,
                  "expected_end": date(2026, 1, 1), "risk_level": "low", "language": "vi", "wording": "neutral",
                  "created_at": NOW}  # fmt: skip
        await c.execute(insert(person), [
            common | {"id": 1, "status": "completed", "completed_on": date(2026, 1, 2), "updated_at": NOW},
            common | {"id": 2, "status": "transferred", "completed_on": None, "updated_at": moved},
            common | {"id": 3, "status": "active", "completed_on": None, "updated_at": NOW},
        ])  # fmt: skip
        await c.execute(insert(audit), {"id": 1, "at": NOW, "actor_type": "operator", "action": "x",
                                        "subject_type": "participant", "subject_id": 1, "outcome": "ok",
                                        "detail": {"a": 1}})  # fmt: skip


async def _left(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as c:
        people = (await c.execute(sa.text("SELECT id, left_on, retain_from FROM participant ORDER BY id"))).all()
        staff = (await c.execute(sa.text("SELECT id, deactivated_at FROM staff_member ORDER BY id"))).all()
        audit = (await c.execute(sa.text("SELECT subject_id, redaction_mac FROM audit_event"))).all()
    return {
        "people": [
            (pid, str(left)[:10] if left is not None else None, str(kept)[:10] if kept is not None else None)
            for pid, left, kept in people
        ],
        "staff": [(sid, at is not None) for sid, at in staff],
        "audit": [tuple(row) for row in audit],
    }


async def test_0013_backfills_who_left_and_keeps_everything_down_and_up(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine, BEFORE_RETENTION)
        await _seed_at_0012(engine)
        await migrate.upgrade(engine, key=KEY)
        expected = {
            # completed, moved out, still listed; retention from the later of leaving and the last change (recorded)
            "people": [(1, "2026-01-02", "2026-11-20"), (2, "2026-06-02", "2026-06-02"), (3, None, None)],
            "staff": [(1, False), (2, True)],  # only the inactive one gets a deactivation time
            "audit": [(1, None)],
        }
        assert await _left(engine) == expected
        await migrate.downgrade(engine, BEFORE_RETENTION, key=KEY)
        async with engine.connect() as c:
            counts = [(await c.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one()  # noqa: S608
                      for t in ("participant", "staff_member", "audit_event")]  # fmt: skip
        assert counts == [3, 2, 1]
        await migrate.upgrade(engine, key=KEY)
        assert await _left(engine) == expected
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_processes_starting_at_once_migrate_once(database_url: str, tmp_path: Path) -> None:
    """Three containers start together on a new database: one migrates under the lock, the others wait for it and
    find the schema at head (no DDL twice, no failure)."""
    import asyncio

    from bot.app import build_application
    from bot.config import Settings
    from tests.support.config import TEST_KEY

    apps = [
        build_application(Settings(database_url=database_url, data_dir=tmp_path, encryption_key=TEST_KEY))
        for _ in range(3)
    ]
    try:
        await asyncio.gather(*(app.migrate() for app in apps))
        assert await migrate.current(apps[0].engine) == _revisions()[-1]
    finally:
        for app in apps:
            await app.aclose()
