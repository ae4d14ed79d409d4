"""Retention on SQLite and PostgreSQL: people who left the list are purged `AFTERCARE_RETENTION_DAYS` later — nothing
of them is left anywhere in the database (sealed values opened), reports on past periods are exactly what they were,
the audit log still verifies with their entries made anonymous — while people still on the list are untouched; staff
who left lose their personal data; two purges at once never collide; the scheduler purges once a day."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.app import Application
from bot.db.crypto import Keyring
from bot.db.models import (
    AnonymousFactRow,
    AnonymousPersonRow,
    AuditEventRow,
    ConversationStateRow,
    DataRequestRow,
    EscalationRow,
    OutboxRow,
    ParticipantRow,
    StaffRow,
    TestResultRow,
)
from bot.db.sealed import SEALED, page
from bot.db.store import Store
from bot.domain.consent import Purpose
from bot.domain.data_requests import RequestKind, RequestStatus
from bot.domain.entities import ParticipantStatus, Register
from bot.domain.fieldwork import ObservationCategory, ReportKind
from bot.domain.reports.period import parse_period
from bot.services import keys, leaving, reports, retention
from bot.services.access import deactivate_staff
from bot.services.audit_chain import verify_chain
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.at_rest import every_value
from tests.support.config import TEST_KEY_BYTES
from tests.support.factories import add_person
from tests.support.reports import HANOI, build_communes, local

OP = Operator(os_user="test")
DAYS = 365
PERIODS = ("2026-09", "2026-10", "2026-11", "2026-12", "2026-Q3", "2026-Q4", "2026-11-10..2026-12-02")
# What must be gone with Giang: her name, national ID, phone, address and the words of her notes.
SECRETS = ("Bùi Văn Giang", "001099012345", "0912345678", "ngõ 7 Tô Hiệu", "chợ Xanh", "QĐ-77/2026")


async def _report_set(app: Application, ids: dict[str, int]) -> dict[str, Any]:
    """Every report the test compares: the three units for each period, as the CLI's JSON without its time."""
    out = {}
    async with app.store.transaction() as repos:
        for code in ("HD", "CG", "HN"):
            unit = await repos.units.get(ids[code])
            for label in PERIODS:
                made = await reports.build(repos, unit, parse_period(label), HANOI, app.clock.now())  # type: ignore[arg-type]
                body = made.as_dict()
                body.pop("made_at")
                out[f"{code}:{label}"] = body
    return out


async def _everything_about_giang(app: Application, ids: dict[str, int]) -> None:
    """Giang (crises in the fixture) gets a record in every table a person can have rows in."""
    giang, cadre = ids["giang"], ids["cadre"]
    async with app.store.transaction() as repos:
        await repos.participants.set_register(
            giang, name="Bùi Văn Giang", national_id="001099012345",
            register=Register(birth_year=1990, address="ngõ 7 Tô Hiệu", phone="0912345678", decision_no="QĐ-77/2026"),
        )  # fmt: skip
        await repos.fieldwork.add_observation(giang, cadre, ObservationCategory.FAMILY, "Hay ra chợ Xanh", False)
        await repos.fieldwork.add_report(giang, ids["HD"], ReportKind.ABSENCE, {"note": "đi chợ Xanh"}, cadre)
        escalation = (
            (await repos.session.execute(select(EscalationRow.id).where(EscalationRow.participant_id == giang)))
            .scalars()
            .first()
        )
        await repos.escalations.add_note(escalation, cadre, "Đã gặp ở chợ Xanh")  # type: ignore[arg-type]
        await repos.consents.record(giang, Purpose.REMINDERS, True, "v1")
        await repos.safety.ask(giang)
        referral = await repos.referrals.request(giang, "counselling", source="test")
        await repos.relay.add(referral, giang, "participant", "Tôi đang ở chợ Xanh")
        state = ConversationStateRow(identity_id=await _identity_of(repos, giang), data={"x": "chợ Xanh"},
                                     updated_at=app.clock.now())  # fmt: skip
        repos.session.add(state)
        await repos.inbound.record("telegram:1", "k1", [])
        now = app.clock.now()
        repos.session.add_all([
            OutboxRow(key="r:giang", kind="reminder", participant_id=giang, due_at=now, next_attempt_at=now,
                      created_at=now),
            OutboxRow(key="alert:giang", kind="crisis_alert", staff_id=ids["officer"],
                      payload={"participant_id": giang}, due_at=now, next_attempt_at=now, created_at=now),
        ])  # fmt: skip
        await OP.record(repos, "record_viewed", subject_type="participant", subject_id=giang)
        await OP.record(repos, "invite_cards_printed", detail={"participants": [giang, ids["ha"]], "count": 2})


async def _identity_of(repos: Any, participant_id: int) -> int:
    from bot.db.models import ChannelIdentityRow

    stmt = select(ChannelIdentityRow.id).where(ChannelIdentityRow.participant_id == participant_id)
    return (await repos.session.execute(stmt)).scalar_one()


async def _everyone_leaves_but_ha(app: Application, ids: dict[str, int]) -> None:
    """Cường completed on 30/11 in the fixture; the others leave now, Hà stays."""
    now = app.clock.now()
    async with app.store.transaction() as repos:
        for name, reason, on in (
            ("an", leaving.Reason.MOVED_OUT, date(2026, 12, 1)),
            ("binh", leaving.Reason.REMOVED, date(2026, 11, 25)),
            ("dung", leaving.Reason.MOVED_OUT, date(2026, 12, 1)),
            ("em", leaving.Reason.REMOVED, date(2026, 12, 2)),
            ("giang", leaving.Reason.REMOVED, date(2026, 12, 2)),
        ):
            await leaving.leave(repos, ids[name], reason, on, now=now, zone=HANOI, operator=OP)


async def _sealed_texts(app: Application) -> list[str]:
    """Every sealed value in the database, opened; one that does not open fails the test, but for the fixture's
    chats (build_communes stores "x" as their sealed external id: not a sealed value)."""
    cipher = app.store.keyring.cipher
    opened = []
    failed = []
    async with app.store.transaction() as repos:
        for spec in SEALED:
            after = 0
            while True:
                found = await page(repos.session, spec, after_id=after, limit=200)
                for row_id, sealed, ref in found.values:
                    try:
                        opened.append(cipher.decrypt(sealed, spec.sealed_for, ref))
                    except Exception:
                        if not (spec.name == "channel_identity.external_id_enc" and sealed == "x"):
                            failed.append(f"{spec.name}#{row_id}")
                if found.last_id is None:
                    break
                after = found.last_id
    assert failed == [], failed
    return opened


async def test_a_purge_leaves_nothing_of_the_person_and_the_past_reports_as_they_were(
    app: Application, clock: FakeClock
) -> None:
    ids = await build_communes(app, clock)
    await _everything_about_giang(app, ids)
    await _everyone_leaves_but_ha(app, ids)
    texts = " ".join(str(v) for _, _, v in await every_value(app)) + " ".join(await _sealed_texts(app))
    assert all(secret in texts for secret in SECRETS)  # the search finds them while they are kept
    before = await _report_set(app, ids)
    async with app.store.transaction() as repos:
        ha_before = await repos.participants.get(ids["ha"])

    # The day before the first is due (Bình, removed on 25/11/2026): nobody goes; a dry run lists who will.
    clock.set(local(date(2027, 11, 24), 9))
    assert (await _purge(app)).participants == []
    clock.set(local(date(2027, 12, 2), 9))  # 365 days after Em and Giang left: everyone who left is due
    due = await retention.due(app.store, now=clock.now(), tz=HANOI, days=DAYS)
    gone = sorted(ids[n] for n in ("an", "binh", "cuong", "dung", "em", "giang"))
    assert sorted(due.participants) == gone
    done = await retention.purge(app.store, now=clock.now(), tz=HANOI, days=DAYS, actor_type="test", batch=4)
    assert sorted(done.participants) == gone and done.done
    assert all(anonymous < 0 for anonymous in done.anonymous) and len(set(done.anonymous)) == 6

    # Reports on every past period: the same, to the last figure and indicator.
    after = await _report_set(app, ids)
    for key in before:
        assert after[key] == before[key], key
    # Nothing of Giang anywhere: every value of every table, and every sealed value opened.
    values = await every_value(app)
    texts = " ".join(str(v) for _, _, v in values) + " ".join(await _sealed_texts(app))
    for secret in SECRETS:
        assert secret not in texts, secret
    async with app.store.transaction() as repos:
        left = (await repos.session.execute(select(ParticipantRow.id))).scalars().all()
        assert left == [ids["ha"]]
        assert await repos.participants.get(ids["ha"]) == ha_before  # still on the list: untouched
        about = await repos.session.execute(
            select(func.count()).select_from(AuditEventRow).where(
                AuditEventRow.subject_type == "participant", AuditEventRow.subject_id.in_(gone)  # type: ignore[union-attr]
            )
        )  # fmt: skip
        assert about.scalar_one() == 0
        printed = (
            await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == "invite_cards_printed"))
        ).scalar_one()
        assert ids["giang"] not in printed.detail["participants"] and ids["ha"] in printed.detail["participants"]
        viewed = (
            await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == "record_viewed"))
        ).scalar_one()
        assert viewed.subject_type == "anonymous" and viewed.subject_id in done.anonymous
        assert (await repos.session.execute(select(func.count()).select_from(AnonymousPersonRow))).scalar_one() == 6
        assert (await repos.session.execute(select(func.count()).select_from(AnonymousFactRow))).scalar_one() > 10
        purges = (
            (await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == "retention_purged")))
            .scalars()
            .all()
        )
    assert sum(p.detail["count"] for p in purges) == 6 and len(purges) == 2  # batches of 4: two transactions
    assert all(set(p.detail) >= {"count", "anonymous"} for p in purges)
    assert not any(str(i) in str(p.detail["anonymous"]) for p in purges for i in gone if i > 9)

    # The audit log still verifies; a redacted entry changed by hand is still caught.
    report = await verify_chain(app.store)
    assert report.ok, report.reason
    async with app.store.transaction() as repos:
        await repos.session.execute(
            update(AuditEventRow).where(AuditEventRow.id == viewed.id).values(subject_id=viewed.subject_id + 1)
        )
    broken = await verify_chain(app.store)
    assert not broken.ok and broken.first_bad_id == viewed.id
    # A second purge finds nobody.
    assert (await _purge(app)).participants == []


async def test_leaving_the_list_stops_the_reports_counting_them_without_a_completion(
    app: Application, clock: FakeClock
) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        december = parse_period("2026-12")
        hd = await repos.units.get(ids["HD"])
        first = await reports.build(repos, hd, december, HANOI, clock.now())  # type: ignore[arg-type]
        left = await leaving.leave(repos, ids["an"], leaving.Reason.MOVED_OUT, date(2026, 12, 1), now=clock.now(),
                                   zone=HANOI, operator=OP)  # fmt: skip
        assert left.status is ParticipantStatus.TRANSFERRED
        second = await reports.build(repos, hd, december, HANOI, clock.now())  # type: ignore[arg-type]
        with pytest.raises(leaving.LeaveError):  # not on the list any more
            await leaving.leave(repos, ids["an"], leaving.Reason.REMOVED, date(2026, 12, 1), now=clock.now(),
                                zone=HANOI, operator=OP)  # fmt: skip
        with pytest.raises(leaving.LeaveError):  # in the future
            await leaving.leave(repos, ids["ha"], leaving.Reason.REMOVED, date(2027, 1, 1), now=clock.now(),
                                zone=HANOI, operator=OP)  # fmt: skip
        person = await repos.participants.get(ids["an"])
    assert second.counts["under_management_end"] == first.counts["under_management_end"] - 1
    assert second.counts["completed"] == first.counts["completed"]  # leaving is not completing
    assert person is not None and person.left_on == date(2026, 12, 1) and person.completed_on is None
    trail = [r for r in await _audit(app, "participant_left") if r.subject_id == ids["an"]]
    assert trail and trail[0].detail == {"os_user": "test", "reason": "moved_out", "on": "2026-12-01"}


async def _audit(app: Application, action: str) -> list[AuditEventRow]:
    async with app.store.transaction() as repos:
        found = await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == action))
        return list(found.scalars())


async def _purge(app: Application, **options: Any) -> retention.Purged:
    return await retention.purge(app.store, now=app.clock.now(), tz=HANOI, days=DAYS, actor_type="test", **options)


async def test_staff_who_left_lose_their_personal_data_after_the_same_time(app: Application, clock: FakeClock) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        await deactivate_staff(repos, ids["cadre"], OP, clock.now())
        row = await repos.session.get(StaffRow, ids["cadre"])
        assert row is not None and row.deactivated_at == clock.now()
        await repos.session.execute(update(StaffRow).where(StaffRow.id == ids["cadre"]).values(totp_secret_enc="s"))
    clock.advance(days=DAYS - 1)
    assert (await retention.purge(app.store, now=clock.now(), tz=HANOI, days=DAYS, actor_type="test")).staff == []
    clock.advance(days=2)
    done = await retention.purge(app.store, now=clock.now(), tz=HANOI, days=DAYS, actor_type="test")
    assert done.staff == [ids["cadre"]]
    async with app.store.transaction() as repos:
        row = await repos.session.get(StaffRow, ids["cadre"])
        member = await repos.staff.get(ids["cadre"])
        officer = await repos.staff.get(ids["officer"])
    assert row is not None and row.purged_at is not None and row.totp_secret_enc is None
    assert "Trần Thị Bình" not in " ".join(str(v) for _, _, v in await every_value(app))
    assert "Trần Thị Bình" not in " ".join(await _sealed_texts(app))
    assert member is not None and member.name == retention.FORMER_STAFF_NAME
    assert officer is not None and officer.name == "Lê Văn Cường"  # still active: untouched
    assert [r.subject_id for r in await _audit(app, "staff_purged")] == [ids["cadre"]]


async def test_a_dry_run_writes_nothing(app: Application, clock: FakeClock) -> None:
    ids = await build_communes(app, clock)
    clock.set(local(date(2027, 12, 2), 9))
    before = await every_value(app)
    due = await retention.due(app.store, now=clock.now(), tz=HANOI, days=DAYS)
    assert due.participants == [ids["cuong"]]  # completed 30/11/2026, recorded on 02/12/2026
    assert await every_value(app) == before


async def test_the_scheduler_purges_once_a_day(app: Application, clock: FakeClock) -> None:
    ids = await build_communes(app, clock)
    planner = app.scheduler.planner
    assert planner.policy.retention == timedelta(days=DAYS)
    clock.set(local(date(2027, 12, 1), 9))
    # The tick completes the terms that ended unrecorded (Em's on 13/11/2026): kept a year from today, not purged.
    assert "participants_purged" not in (await planner.run()).extra
    assert len(await _audit(app, retention.RUN)) == 1
    async with app.store.transaction() as repos:
        em = await repos.participants.get(ids["em"])
        assert em is not None and em.completed_on == date(2026, 11, 13) and em.left_on == date(2027, 12, 1)
        assert await repos.participants.get(ids["cuong"]) is not None  # completion recorded 02/12/2026: tomorrow
    # Tomorrow: Cường is due. A second process (a fresh planner, as `aftercare tick` from cron) sees it done today.
    clock.set(local(date(2027, 12, 2), 0, 5))
    assert (await planner.run()).extra.get("participants_purged") == 1
    clock.advance(hours=3)
    assert "participants_purged" not in (await planner.run()).extra
    again = type(planner)(app.store, clock, HANOI, planner.policy)
    await again.run()
    assert len(await _audit(app, retention.RUN)) == 2
    async with app.store.transaction() as repos:
        assert await repos.participants.get(ids["cuong"]) is None


@pytest.mark.slow
async def test_two_purges_at_once_never_take_the_same_person(app: Application, clock: FakeClock) -> None:
    if app.store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        extra = []
        for n in range(30):
            person, _ = await add_person(service, f"Người {n}", start=date(2025, 1, 1), months=12)
            extra.append(person.id)
        await repos.session.execute(
            update(ParticipantRow).where(ParticipantRow.id.in_(extra))  # type: ignore[union-attr]
            .values(status="completed", completed_on=date(2026, 1, 1), left_on=date(2026, 1, 1),
                    retain_from=date(2026, 1, 1))
        )  # fmt: skip
    clock.set(local(date(2027, 12, 2), 9))
    runs = await asyncio.gather(
        *(retention.purge(app.store, now=clock.now(), tz=HANOI, days=DAYS, actor_type="test", batch=3)
          for _ in range(2))
    )  # fmt: skip
    taken = runs[0].participants + runs[1].participants
    assert runs[0].participants and runs[1].participants  # both worked, side by side
    assert sorted(taken) == sorted([*extra, ids["cuong"]])  # each exactly once
    async with app.store.transaction() as repos:
        people = (await repos.session.execute(select(func.count()).select_from(AnonymousPersonRow))).scalar_one()
    assert people == len(taken) == len(set(runs[0].anonymous + runs[1].anonymous))


async def test_a_person_whose_records_do_not_open_is_kept_and_the_others_go(app: Application, clock: FakeClock) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        await leaving.leave(repos, ids["an"], leaving.Reason.MOVED_OUT, date(2026, 12, 1), now=clock.now(),
                            zone=HANOI, operator=OP)  # fmt: skip
        await repos.session.execute(
            update(TestResultRow).where(TestResultRow.participant_id == ids["an"]).values(result_enc="tampered")
        )
    clock.set(local(date(2027, 12, 2), 9))
    done = await _purge(app)
    assert done.participants == [ids["cuong"]] and done.done  # An's result will not open: An is kept, Cường goes
    async with app.store.transaction() as repos:
        assert await repos.participants.get(ids["an"]) is not None
        assert await repos.participants.get(ids["cuong"]) is None
    assert [e.detail for e in await _audit(app, "retention_failed")] == [{"count": 1}]


async def test_entries_made_anonymous_verify_through_a_key_rotation(app: Application, clock: FakeClock) -> None:
    """Redacted under the old key; the new key writes, the old still reads: the chain verifies, is re-made under
    the new key, and verifies again under the new key alone."""
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        await OP.record(repos, "record_viewed", subject_type="participant", subject_id=ids["cuong"])
    clock.set(local(date(2027, 12, 2), 9))
    assert (await _purge(app)).participants == [ids["cuong"]]
    assert (await verify_chain(app.store)).ok
    new_key = bytes(range(32, 64))
    rotating = Store(app.store.engine, Keyring(new_key, [TEST_KEY_BYTES]), clock)
    await keys.check_keys(rotating, clock)  # a worker restarted with the new key registers it
    assert (await verify_chain(rotating)).ok  # the redaction MAC holds under the key a rotation still accepts
    assert (await keys.rotate(rotating)).done
    alone = Store(app.store.engine, Keyring(new_key), clock)
    report = await verify_chain(alone)
    assert report.ok, report.reason


async def test_a_purge_during_a_rotation_keeps_the_chain_and_lets_the_rotation_finish(
    app: Application, clock: FakeClock
) -> None:
    """Workers restarted with the new key purge before the rotation re-made the audit log: the entries about the
    person still carry the old key's MAC; their redaction must still be provable, and the rotation must finish."""
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        await OP.record(repos, "record_viewed", subject_type="participant", subject_id=ids["cuong"])
    assert (await verify_chain(app.store)).ok  # sealed under the old key
    new_key = bytes(range(32, 64))
    rotating = Store(app.store.engine, Keyring(new_key, [TEST_KEY_BYTES]), clock)
    await keys.check_keys(rotating, clock)
    clock.set(local(date(2027, 12, 2), 9))
    purged = await retention.purge(rotating, now=clock.now(), tz=HANOI, days=DAYS, actor_type="test")
    assert purged.participants == [ids["cuong"]]
    report = await verify_chain(rotating)
    assert report.ok, report.reason
    await keys.mark_started(rotating)
    assert (await keys.rotate(rotating)).done
    alone = await verify_chain(Store(app.store.engine, Keyring(new_key), clock))
    assert alone.ok, alone.reason


async def test_a_request_about_their_data_still_to_answer_holds_the_purge_back(
    app: Application, clock: FakeClock
) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        request = await repos.data_requests.add(ids["cuong"], RequestKind.COPY, clock.now() + timedelta(days=3))
    clock.set(local(date(2027, 12, 2), 9))
    assert (await _purge(app)).participants == []  # the person is answered first
    async with app.store.transaction() as repos:
        await repos.session.execute(
            update(DataRequestRow).where(DataRequestRow.id == request).values(status=RequestStatus.DECLINED.value)
        )
    assert (await _purge(app)).participants == [ids["cuong"]]
