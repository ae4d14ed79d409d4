"""Retention's hard cases, on SQLite and PostgreSQL: what a purged person leaves in *other* people's rows — staff
chats that showed their card, list or a half-typed note (sealed), staff alerts keyed by their records, audit details
naming them — is gone too; every sealed value still opens; anonymous ids tell nothing of the old ones; a departure
backdated by a year is kept a year from the day it was recorded; a staff member reactivated meanwhile is not purged."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from structlog.testing import capture_logs

from bot.app import Application
from bot.db.models import (
    AuditEventRow,
    ChannelIdentityRow,
    ConversationStateRow,
    EscalationRow,
    OutboxRow,
    ParticipantRow,
    StaffRow,
    TestResultRow,
)
from bot.db.repositories import retention as retention_repository
from bot.db.repositories.conversations import ConversationState
from bot.db.repositories.retention import _redacted_detail
from bot.db.sealed import SEALED, page
from bot.domain.data_requests import RequestKind, RequestStatus
from bot.domain.entities import Role
from bot.services import completion, leaving, retention
from bot.services.access import deactivate_staff
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.at_rest import every_value
from tests.support.exercised import EngineChat, exercise
from tests.support.factories import add_person, add_staff

OP = Operator(os_user="test")
DAYS = 365
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
KHOA = ("Phan Văn Khoa", "001099012345", "0912345678", "gia đình ủng hộ", "đã gọi điện", "Xin sửa ngày sinh")


async def _opened(app: Application) -> tuple[list[str], list[str]]:
    """Every sealed value opened, and where one did not open (column and row): a purge must break none."""
    cipher = app.store.keyring.cipher
    opened: list[str] = []
    failed: list[str] = []
    async with app.store.transaction() as repos:
        for spec in SEALED:
            after = 0
            while True:
                found = await page(repos.session, spec, after_id=after, limit=200)
                for row_id, sealed, ref in found.values:
                    try:
                        opened.append(cipher.decrypt(sealed, spec.sealed_for, ref))
                    except Exception:
                        failed.append(f"{spec.name}#{row_id}")
                if found.last_id is None:
                    break
                after = found.last_id
    return opened, failed


def _press_containing(chat: EngineChat, part: str) -> str:
    for reply in chat.last:
        for button in reply.buttons:
            if part in button.label:
                return button.label
    raise AssertionError(f"no button with {part!r}")


async def _staff_of(app: Application, role: str) -> int:
    async with app.store.transaction() as repos:
        stmt = select(StaffRow.id).where(StaffRow.role == role).order_by(StaffRow.id)
        return (await repos.session.execute(stmt)).scalars().first()  # type: ignore[return-value]


async def _staff_identity(app: Application, staff_id: int) -> int:
    async with app.store.transaction() as repos:
        stmt = select(ChannelIdentityRow.id).where(ChannelIdentityRow.staff_id == staff_id)
        return (await repos.session.execute(stmt)).scalars().first()  # type: ignore[return-value]


async def _states(app: Application) -> dict[int, tuple[str, list[str], dict[str, Any], list[str]]]:
    """Every chat's state opened: identity id → (flow, offered actions, data, labels)."""
    out = {}
    async with app.store.transaction() as repos:
        for row in (await repos.session.execute(select(ConversationStateRow))).scalars().all():
            state = repos.conversations.adopt(row.identity_id, row)
            out[row.identity_id] = (state.flow, list(state.offered), dict(state.data), list(state.offered_labels))
    return out


async def test_a_purge_leaves_nothing_in_staff_chats_alerts_or_sealed_values(
    app: Application, clock: FakeClock
) -> None:
    done = await exercise(app)
    commune, cadre, khoa = done.commune, done.cadre, done.extra_id
    # The cadre opens the list, then Khoa's card, and starts a note about him (a category chosen, nothing typed).
    await cadre.say("/menu")
    await cadre.press("Người tôi đồng hành")
    await cadre.press(_press_containing(cadre, "Phan Văn Khoa"))
    await cadre.press("Ghi chú")
    await cadre.press("Gia đình")
    cadre_identity = await _staff_identity(app, commune.cadre_id)
    officer = await _staff_of(app, "officer")
    officer_identity = await _staff_identity(app, officer)
    counsellor_identity = await _staff_identity(app, await _staff_of(app, "counsellor"))
    async with app.store.transaction() as repos:
        # the officer typed a search for him; the counsellor's chat shows nothing of him
        await repos.conversations.save(
            officer_identity, ConversationState("caseload", "search", {"query": "Khoa"}, ["case:list"], ["Danh sách"])
        )
        # staff alerts keyed by his records, not by him; the officers' "needs a new cadre" naming him and An
        escalation = (
            await repos.session.execute(select(EscalationRow.id).where(EscalationRow.participant_id == khoa))
        ).scalar_one()
        referral = await repos.referrals.request(khoa, "counselling", source="test")
        copy = await repos.data_requests.add(khoa, RequestKind.COPY, clock.now() + timedelta(days=15))
        fix = await repos.data_requests.add(khoa, RequestKind.CORRECTION, clock.now(), text="Xin sửa ngày sinh")
        # answered (an unanswered one holds the purge back): the copy sent, the correction declined
        await repos.data_requests.decide(copy, RequestStatus.APPROVED, None, None)
        await repos.data_requests.delivered(copy)
        await repos.data_requests.decide(fix, RequestStatus.DECLINED, None, "not_needed")
        now = clock.now()

        def alert(key: str, kind: str, payload: dict[str, Any]) -> OutboxRow:
            return OutboxRow(key=key, kind=kind, staff_id=officer, payload=payload, due_at=now,
                             next_attempt_at=now, created_at=now)  # fmt: skip

        repos.session.add_all([
            alert(f"escalation:{escalation}", "escalation", {"escalation_id": escalation}),
            alert(f"referral:{referral}:staff:1", "referral_notice", {"referral_id": referral}),
            alert(f"data_request:{copy}", "data_request", {"request_id": copy}),
            alert(f"data_request:{fix}", "data_request", {"request_id": fix}),
            alert("cadre_needed:9:x", "cadre_needed", {"cadre_id": 9, "people": [khoa, commune.an_id]}),
            alert("cadre_needed:9:y", "cadre_needed", {"cadre_id": 9, "people": [khoa]}),
        ])  # fmt: skip
        await OP.record(repos, "sealed_value_rejected", outcome="denied",
                        detail={"column": "test_result.result", "row": f"id=5,participant={khoa}"})  # fmt: skip
        await OP.record(repos, "denied:manage_list", subject_type="participant", outcome="denied",
                        detail={"purpose": "invite_cards", "refused": [khoa], "asked": 1})  # fmt: skip
        await leaving.leave(repos, khoa, leaving.Reason.MOVED_OUT, clock.now().astimezone(ZONE).date(),
                            now=clock.now(), zone=ZONE, operator=OP)  # fmt: skip
    states = await _states(app)
    # Before: the cadre's chat names him (offered actions in the clear, labels and data sealed), the officer's too.
    flow, _, data, _ = states[cadre_identity]
    assert flow != "menu" and data.get("pid") in (khoa, str(khoa)), (flow, data)
    assert states[officer_identity][2] == {"query": "Khoa"}
    opened, failed = await _opened(app)
    assert all(secret in " ".join(opened) for secret in KHOA[:4])
    assert failed == []

    clock.advance(days=DAYS + 1)
    async with app.store.transaction() as repos:  # a chat in use today that never showed him
        await repos.conversations.save(
            counsellor_identity, ConversationState("menu", "", {"page": 1}, ["relay:list"], ["Trò chuyện"])
        )
        # every chat used today: what follows is the purge's own doing, not the idle chats' expiry
        await repos.session.execute(update(ConversationStateRow).values(updated_at=clock.now()))
    counsellor_before = (await _states(app))[counsellor_identity]
    purged = await retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test")
    assert purged.participants == [khoa]

    states = await _states(app)
    for identity in (cadre_identity, officer_identity):
        assert states[identity] == ("menu", [], {}, []), identity  # back to the menu, nothing of him offered
    assert states[counsellor_identity] == counsellor_before  # untouched (and not idle: not expired)
    for _, offered, _, _ in states.values():
        assert not any(str(khoa) in action.split(":") for action in offered)
    opened, failed = await _opened(app)
    assert failed == []  # every sealed value still opens: nothing half-rewritten
    text = " ".join(opened) + " ".join(str(v) for _, _, v in await every_value(app))
    for secret in KHOA:
        assert secret not in text, secret
    async with app.store.transaction() as repos:
        alerts = {row.key: row.payload for row in (await repos.session.execute(select(OutboxRow))).scalars()}
        details = [row.detail for row in (await repos.session.execute(select(AuditEventRow))).scalars()]
    assert f"escalation:{escalation}" not in alerts and f"referral:{referral}:staff:1" not in alerts
    assert f"data_request:{copy}" not in alerts and f"data_request:{fix}" not in alerts
    assert alerts["cadre_needed:9:x"]["people"] == [commune.an_id] and "cadre_needed:9:y" not in alerts
    assert not any(payload.get(key) == khoa for payload in alerts.values() for key in payload)
    assert not any(str(khoa) in key.split(":") for key in alerts), sorted(alerts)  # nor in a row's key
    for detail in details:
        assert detail.get("refused") != [khoa] and detail.get("row") != f"id=5,participant={khoa}"
        assert f"participant={khoa}," not in json.dumps(detail) and not json.dumps(detail).endswith(f"={khoa}")


def test_every_detail_key_that_names_people_is_redacted() -> None:
    """The audit details that carry a person's id (grep `detail=` in bot/): `participant`, `participant_id`,
    `participants` (invite cards printed), `refused` (invite cards refused), and a sealed row's reference `row`
    (sealed_value_rejected); other ids (a referral, a request, a count) are left alone."""
    anonymous = {42: -7, 5: -9}
    detail = {
        "participant": 42, "participant_id": 42, "participants": [42, 3], "refused": [42, 11],
        "row": "id=5,participant=42", "referral": 42, "count": 5, "people": 5,
    }  # fmt: skip
    assert _redacted_detail(detail, anonymous) == detail | {
        "participant": -7, "participant_id": -7, "participants": [-7, 3], "refused": [-7, 11],
        "row": "id=5,participant=-7",
    }  # fmt: skip
    assert _redacted_detail({"row": "chat=k,participant=420"}, anonymous) is None
    assert _redacted_detail({"row": "id=42"}, anonymous) is None


async def test_the_redaction_takes_the_chain_head_lock_first(app: Application, clock: FakeClock) -> None:
    """The sealer and a key rotation's re-keying hold the chain head's lock while they rewrite entries: the
    redaction takes it before it reads any entry, so they run one after the other."""
    await exercise(app)
    calls: list[str] = []
    async with app.store.transaction() as repos:
        original_lock, original_execute = repos.audit.lock_head, repos.session.execute

        async def lock() -> Any:
            calls.append("lock_head")
            return await original_lock()

        async def execute(stmt: Any, *args: Any, **kwargs: Any) -> Any:
            if "audit_event" in str(stmt) and "audit_chain_head" not in str(stmt):
                calls.append("audit_event")
            return await original_execute(stmt, *args, **kwargs)

        repos.audit.lock_head = lock  # type: ignore[method-assign]
        repos.session.execute = execute  # type: ignore[method-assign]
        await repos.retention.redact_audit({1: -5})
    assert calls and calls[0] == "lock_head" and "audit_event" in calls


async def test_a_backdated_departure_is_kept_from_the_day_it_was_recorded(app: Application, clock: FakeClock) -> None:
    done = await exercise(app)
    khoa = done.extra_id
    today = clock.now().astimezone(ZONE).date()
    async with app.store.transaction() as repos:
        await repos.session.execute(
            update(ParticipantRow).where(ParticipantRow.id == khoa).values(term_start=today - timedelta(days=800))
        )
        left = await leaving.leave(repos, khoa, leaving.Reason.REMOVED, today - timedelta(days=500), now=clock.now(),
                                   zone=ZONE, operator=OP)  # fmt: skip
        row = await repos.session.get(ParticipantRow, khoa)
    assert left.left_on == today - timedelta(days=500)  # the reports' day, as entered
    assert row is not None and row.retain_from == today  # retention counts from today
    assert (await retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test")).participants == []
    clock.advance(days=DAYS - 1)
    assert (await retention.due(app.store, now=clock.now(), tz=ZONE, days=DAYS)).participants == []
    clock.advance(days=2)
    assert (await retention.due(app.store, now=clock.now(), tz=ZONE, days=DAYS)).participants == [khoa]


async def test_a_staff_member_reactivated_after_being_found_due_is_not_purged(
    app: Application, clock: FakeClock
) -> None:
    done = await exercise(app)
    cadre = done.commune.cadre_id
    async with app.store.transaction() as repos:
        await deactivate_staff(repos, cadre, OP, clock.now())
    clock.advance(days=DAYS + 1)
    async with app.store.transaction() as repos:
        found = await repos.retention.staff_due(clock.now() - timedelta(days=DAYS), 10, claim=True)
        assert found == [cadre]
        # reactivated between being found and being purged (another transaction, in real life)
        await repos.session.execute(update(StaffRow).where(StaffRow.id == cadre).values(active=True))
        assert await repos.retention.purge_staff(found) == []
        row = await repos.session.get(StaffRow, cadre)
        assert row is not None and row.name == "Trần Thị Bình" and row.purged_at is None


async def test_a_purged_staff_member_s_name_leaves_other_staff_s_chats(app: Application, clock: FakeClock) -> None:
    done = await exercise(app)
    commune = done.commune
    officer_identity = await _staff_identity(app, await _staff_of(app, "officer"))
    async with app.store.transaction() as repos:
        await repos.conversations.save(
            officer_identity,
            ConversationState("officer", "assign", {"pid": commune.an_id}, ["assign:9"], ["Trần Thị Bình"]),
        )
        await deactivate_staff(repos, commune.cadre_id, OP, clock.now())
    clock.advance(days=DAYS + 1)
    async with app.store.transaction() as repos:  # used today: not the idle chats' expiry
        await repos.session.execute(update(ConversationStateRow).values(updated_at=clock.now()))
    purged = await retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test")
    assert purged.staff == [commune.cadre_id]
    states = await _states(app)
    assert states[officer_identity] == ("menu", [], {}, [])
    opened, failed = await _opened(app)
    assert failed == []
    text = " ".join(opened) + " ".join(str(v) for _, _, v in await every_value(app))
    assert "Trần Thị Bình" not in text


async def test_staff_chats_idle_for_a_month_go_back_to_their_menu(app: Application, clock: FakeClock) -> None:
    done = await exercise(app)
    officer_identity = await _staff_identity(app, await _staff_of(app, "officer"))
    cadre_identity = await _staff_identity(app, done.commune.cadre_id)
    async with app.store.transaction() as repos:
        await repos.conversations.save(
            officer_identity, ConversationState("caseload", "search", {"query": "Khoa"}, ["case:list"], ["Danh sách"])
        )
    clock.advance(days=31)
    async with app.store.transaction() as repos:
        await repos.conversations.save(cadre_identity, ConversationState("caseload", "x", {"query": "An"}))
    await retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test")
    states = await _states(app)
    assert states[officer_identity] == ("menu", [], {}, [])  # idle 31 days: reset, the row kept
    assert states[cadre_identity][2] == {"query": "An"}  # used today: kept


async def test_a_batch_is_shuffled_before_its_anonymous_ids_and_rows(
    app: Application, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the draws of anonymous ids nor the anonymous rows' insertion order follow the old ids: the batch's
    people and their facts are shuffled first (with the OS's randomness)."""
    done = await exercise(app)
    shuffled: list[list[Any]] = []

    class Recording(random.SystemRandom):
        def shuffle(self, x: Any) -> None:  # type: ignore[override]
            shuffled.append(list(x))
            x.reverse()

    monkeypatch.setattr(retention_repository.secrets, "SystemRandom", Recording)
    async with app.store.transaction() as repos:
        for pid in (done.commune.an_id, done.extra_id):
            await leaving.leave(repos, pid, leaving.Reason.REMOVED, clock.now().astimezone(ZONE).date(),
                                now=clock.now(), zone=ZONE, operator=OP)  # fmt: skip
    clock.advance(days=DAYS + 1)
    purged = await retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test")
    assert sorted(purged.participants) == sorted([done.commune.an_id, done.extra_id])
    people = shuffled[0]
    assert sorted(p.id for p in people) == sorted(purged.participants)  # the people, before any id was drawn
    assert len(shuffled) == 2  # then their facts, before they were inserted


async def test_a_failed_purge_logs_no_row_reference(app: Application, clock: FakeClock) -> None:
    done = await exercise(app)
    khoa = done.extra_id
    async with app.store.transaction() as repos:
        await leaving.leave(repos, khoa, leaving.Reason.REMOVED, clock.now().astimezone(ZONE).date(),
                            now=clock.now(), zone=ZONE, operator=OP)  # fmt: skip
        await repos.session.execute(
            update(TestResultRow).where(TestResultRow.participant_id == khoa).values(result_enc="tampered")
        )
    clock.advance(days=DAYS + 1)
    with capture_logs() as logs:
        purged = await retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test")
    assert purged.participants == []
    failed = [entry for entry in logs if entry["event"] == "retention_purge_failed"]
    assert failed and all("exc_info" not in entry for entry in failed)
    assert not any(f"participant={khoa}" in str(entry) for entry in failed)


async def test_a_completion_counts_from_the_commune_s_day_not_utc_s(app: Application, clock: FakeClock) -> None:
    """Recorded at 00:30 on 02/03/2027 in Hà Nội (17:30 UTC on 01/03): retention counts from 02/03, the local day."""
    await exercise(app)
    async with app.store.transaction() as repos:
        person, _ = await add_person(app.enrolment(repos), "Đỗ Văn Xong", start=date(2026, 1, 1), months=12)
    clock.set(datetime(2027, 3, 2, 0, 30, tzinfo=ZONE).astimezone(UTC))
    async with app.store.transaction() as repos:
        await completion.complete(repos, person.id, date(2027, 1, 1), now=clock.now(), zone=ZONE, operator=OP)
        row = await repos.session.get(ParticipantRow, person.id)
    assert row is not None and row.completed_on == date(2027, 1, 1)
    assert row.retain_from == row.left_on == date(2027, 3, 2)


@pytest.mark.slow
async def test_two_purges_at_once_purge_each_staff_member_once(app: Application, clock: FakeClock) -> None:
    if app.store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    await exercise(app)
    members = []
    for n in range(8):
        member, _ = await add_staff(app, f"Cán bộ {n}", Role.CADRE)
        members.append(member.id)
    async with app.store.transaction() as repos:
        for member_id in members:
            await deactivate_staff(repos, member_id, OP, clock.now())
    clock.advance(days=DAYS + 1)
    runs = await asyncio.gather(
        *(retention.purge(app.store, now=clock.now(), tz=ZONE, days=DAYS, actor_type="test", batch=1)
          for _ in range(2))
    )  # fmt: skip
    assert sorted(runs[0].staff + runs[1].staff) == sorted(members)  # each exactly once
    async with app.store.transaction() as repos:
        audited = (
            await repos.session.execute(select(AuditEventRow.subject_id).where(AuditEventRow.action == "staff_purged"))
        ).scalars().all()  # fmt: skip
    assert sorted(audited) == sorted(members)
