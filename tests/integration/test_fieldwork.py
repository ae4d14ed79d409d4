"""The workspace's services against a real database: transfers that cannot race, results that alert once, and
conversation state sealed at rest (older plain rows still read)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from bot.app import Application
from bot.core.messages import Button
from bot.db.models import ConversationStateRow, EscalationRow, FieldReportRow, OutboxRow
from bot.db.repositories.conversations import ConversationState
from bot.domain.entities import Participant, ParticipantStatus, Role
from bot.domain.fieldwork import ReportKind, SubstanceGroup, TestOutcome
from bot.services import fieldwork as records
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi, add_person


async def count_rows(app: Application, table: type, **where: object) -> int:
    stmt = select(func.count()).select_from(table)
    for column, value in where.items():
        stmt = stmt.where(getattr(table, column) == value)
    async with app.store.transaction() as repos:
        return int((await repos.session.execute(stmt)).scalar_one())


async def _setup(app: Application) -> tuple[Participant, int, dict[str, int]]:
    """Ha Dong and two other communes of Ha Noi, an officer in each, one person with a cadre in Ha Dong."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        wards = await add_hanoi(service, ("CG", "Phường Cầu Giấy"), ("TX", "Phường Thanh Xuân"))
        units = {unit.code: unit.id for unit in wards[1:]}
        officers = {code: (await service.add_staff(f"Công an {code}", Role.OFFICER, code, None, "vi"))[0].id
                    for code in units}  # fmt: skip
        cadre, _ = await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        person, _ = await add_person(service, "Nguyễn Văn An", cadre_id=cadre.id)
    return person, cadre.id, {**units, **{f"officer_{k}": v for k, v in officers.items()}}


async def test_one_transfer_at_a_time_and_acceptance_only_from_the_sending_commune(
    app: Application, clock: FakeClock
) -> None:
    person, _, ids = await _setup(app)
    async with app.store.transaction() as repos:
        first = await records.start_transfer(
            repos, person.id, ids["CG"], date(2026, 11, 20), ids["officer_HD"], clock.now()
        )
        with pytest.raises(records.FieldworkError, match="already waiting"):
            await records.start_transfer(
                repos, person.id, ids["TX"], date(2026, 11, 20), ids["officer_HD"], clock.now()
            )
        with pytest.raises(records.FieldworkError, match="already lives"):
            await records.start_transfer(
                repos, person.id, ids["HD"], date(2026, 11, 20), ids["officer_HD"], clock.now()
            )
        span = {"first": "2026-11-01", "last": "2026-11-02"}
        report = await repos.fieldwork.add_report(person.id, ids["HD"], ReportKind.ABSENCE, span, ids["officer_HD"])
    async with app.store.transaction() as repos:
        assert await records.decide_transfer(repos, first, True, ids["officer_CG"])
        moved = await repos.participants.get(person.id)
        assert moved is not None and moved.unit_id == ids["CG"] and moved.cadre_id is None
        assert not await records.decide_transfer(repos, first, False, ids["officer_CG"])  # decided once
        voided = await repos.fieldwork.report(report.id)
        assert voided is not None and voided.status.value == "void"  # Ha Dong has nothing left to decide
    # A transfer started from Ha Dong after the person left it is void when accepted (no pulling from elsewhere).
    async with app.store.transaction() as repos:
        stale = await repos.fieldwork.add_transfer(
            person.id, ids["HD"], ids["TX"], date(2026, 11, 25), ids["officer_HD"]
        )
    async with app.store.transaction() as repos:
        assert not await records.decide_transfer(repos, stale, True, ids["officer_TX"])
        still = await repos.participants.get(person.id)
        assert still is not None and still.unit_id == ids["CG"]
        record = await repos.fieldwork.transfer(stale)
        assert record is not None and record.status.value == "declined"
    assert await count_rows(app, FieldReportRow, status="pending") == 0


async def test_a_test_alerts_once_even_if_recorded_twice(app: Application, clock: FakeClock) -> None:
    person, cadre, _ = await _setup(app)
    async with app.store.transaction() as repos:
        obligation = await repos.obligations.add_drawn(person.id, "random_test:1:2026-10:0", date(2026, 11, 20))
        assert obligation is not None
        await repos.participants.update(person.id, status=ParticipantStatus.ACTIVE)
        fresh = await repos.participants.get(person.id)
        assert fresh is not None
        for outcome in (TestOutcome.NO_SHOW, TestOutcome.POSITIVE):  # a no-show, then the test done late
            await records.record_test_result(
                repos, fresh, obligation, outcome, SubstanceGroup.STIMULANTS, "Trạm y tế", date(2026, 11, 20), cadre,
                clock.now(),
            )  # fmt: skip
    assert await count_rows(app, EscalationRow, kind="test_result") == 1
    assert await count_rows(app, OutboxRow, kind="support_offer") == 1
    async with app.store.transaction() as repos:
        with pytest.raises(records.FieldworkError):  # somebody else's test
            await records.record_test_result(
                repos, fresh, 999_999, TestOutcome.NEGATIVE, None, "", date(2026, 11, 20), cadre, clock.now()
            )


async def test_conversation_state_is_sealed_and_plain_rows_are_refused(app: Application) -> None:
    """Migration 0008 seals what was stored in clear before; a plain row now was written by hand: refused, the chat
    starts again from its menu with nothing offered."""
    person, cadre, _ = await _setup(app)
    async with app.store.transaction() as repos:
        identity = await repos.identities.link("telegram", "4711", participant_id=None, staff_id=cadre)
        state = ConversationState(
            "observe", "flag", {"pid": person.id, "q": "Nguyễn"}, ["case:open:1"], ["Nguyễn Văn An (#1)"]
        )
        await repos.conversations.save(identity.id, state)
        await repos.conversations.offer(identity.id, [Button("Xem chi tiết", "inbox:open:9")])
    async with app.engine.connect() as connection:
        raw = " ".join(str(v) for v in (await connection.execute(text("SELECT * FROM conversation_state"))).one())
    assert "Nguyễn" not in raw and "Xem chi tiết" not in raw and "case:open:1" in raw
    async with app.store.transaction() as repos:
        found = await repos.identities.find_for_message("telegram", "4711")
        assert found is not None
        opened = repos.conversations.adopt(found.identity.id, found.state)
        assert opened.data == {"pid": person.id, "q": "Nguyễn"}
        assert opened.offered == ["inbox:open:9", "case:open:1"]
        assert opened.offered_labels == ["Xem chi tiết", "Nguyễn Văn An (#1)"]
        row = (await repos.session.execute(select(ConversationStateRow))).scalar_one()
        row.data, row.offered_labels = {"step_value": 3}, ["Tiếng Việt"]  # written in clear, by hand
        await repos.session.flush()
    async with app.store.transaction() as repos:
        found = await repos.identities.find_for_message("telegram", "4711")
        assert found is not None
        refused = repos.conversations.adopt(found.identity.id, found.state)
        assert (refused.flow, refused.data, refused.offered, refused.offered_labels) == ("menu", {}, [], [])
