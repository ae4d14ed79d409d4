"""Staff notifications raised before the staff member linked a chat: kept ("held", not a failure), listed for their
console home, sent oldest first once they link one (within quiet hours), and dropped when stale: a digest or a review
request after its day, anything else after `DispatchPolicy.hold_for`, or one dealt with meanwhile.

On a real database (SQLite and PostgreSQL); the simulator is the channel the cadre links.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Application
from bot.db.models import OutboxRow
from bot.db.repositories.outbox import Claimed, NewMessage, OutboxStatus, Waiting
from bot.domain.escalations import EscalationKind
from bot.domain.planning import MessageKind
from bot.scheduler.dispatcher import held_until
from bot.services.access import deactivate_staff
from bot.services.escalations import raise_and_tell
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.chats import at_local
from tests.support.factories import Commune, seed_commune

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
KEEP = timedelta(days=30)


async def _alert(app: Application, commune: Commune, kind: str, key: str, now: datetime) -> int:
    """An escalation about An for her cadre (who has no chat), as the planner or a crisis raises it."""
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None
        escalation, _ = await raise_and_tell(
            repos, key=key, kind=kind, participant_id=person.id, unit_id=person.unit_id, cadre_id=commune.cadre_id,
            now=now, urgent=kind == EscalationKind.CRISIS,
        )  # fmt: skip
    assert escalation is not None
    return escalation.id


async def _row(app: Application, key: str) -> OutboxRow:
    async with app.store.transaction() as repos:
        row = await repos.outbox.by_key(key)
    assert row is not None, key
    return row


async def _waiting(app: Application, staff_id: int) -> list[Waiting]:
    async with app.store.transaction() as repos:
        return await repos.outbox.waiting_for_staff(staff_id)


async def _link_cadre(app: Application, commune: Commune, chat: str = "binh") -> None:
    async with app.store.transaction() as repos:
        await repos.identities.link("simulator", chat, staff_id=commune.cadre_id)


def _pushed(app: Application, chat: str) -> list[str]:
    return [entry.text for entry in app.simulator.history(chat) if entry.pushed]


async def test_an_alert_waits_for_the_cadre_and_reaches_them_when_they_link(app: Application, clock: FakeClock) -> None:
    commune = await seed_commune(app)
    clock.set(at_local(date(2026, 11, 24), 10))
    first = await _alert(app, commune, EscalationKind.UNREACHABLE, "unreachable:1:0", clock.now())
    clock.advance(hours=1)
    second = await _alert(app, commune, EscalationKind.CRISIS, "crisis:1:0", clock.now())
    report = await app.scheduler.dispatcher.run()
    # Hers, and the officer's copies (he has not linked a chat either): kept, none failed or cancelled.
    assert report.held_for_a_chat == 4 and report.dead == 0 and report.cancelled == 0
    for escalation in (first, second):
        row = await _row(app, f"esc:{escalation}:cadre")
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.HELD, 0, "no_chat")  # not a failed try
    # Dispatching again changes nothing: a held row is not claimed, not counted as an attempt.
    clock.advance(minutes=5)
    assert (await app.scheduler.dispatcher.run()).held_for_a_chat == 0
    assert (await _row(app, f"esc:{first}:cadre")).attempts == 0
    async with app.store.transaction() as repos:
        assert (await repos.outbox.counts())[OutboxStatus.HELD] == 4
    # Her console home lists them meanwhile: kind, when, about whom; oldest first; nothing else.
    waiting = await _waiting(app, commune.cadre_id)
    assert [(w.kind, w.participant_id, w.urgent) for w in waiting] == [
        (MessageKind.ESCALATION, commune.an_id, False),
        (MessageKind.ESCALATION, commune.an_id, True),
    ]
    assert waiting[0].created_at < waiting[1].created_at
    assert set(Waiting.__dataclass_fields__) == {"id", "kind", "created_at", "participant_id", "urgent"}
    async with app.store.transaction() as repos:  # the officer's list holds his own copies, never hers
        [officer] = await repos.escalations.officers_of((await repos.participants.get(commune.an_id)).unit_id)  # type: ignore[union-attr]
    his = {(await _row(app, f"esc:{e}:officer:{officer}")).id for e in (first, second)}
    assert {w.id for w in await _waiting(app, officer)} == his and his.isdisjoint(w.id for w in waiting)

    clock.advance(days=2)  # she links her chat two days later
    await _link_cadre(app, commune)
    report = await app.scheduler.dispatcher.run()
    assert report.released == 2 and report.sent == 2
    [message] = _pushed(app, "binh")  # one message, the crisis first (urgent rows go first), then the older alert
    assert message.index("khủng hoảng") < message.index("Tin nhắn không còn gửi được"), message
    assert "Nguyễn Văn An (#1)" in message
    for escalation in (first, second):
        row = await _row(app, f"esc:{escalation}:cadre")
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    assert await _waiting(app, commune.cadre_id) == []


async def test_the_officers_are_told_at_once_and_an_alert_dealt_with_meanwhile_is_not_sent(
    app: Application, clock: FakeClock
) -> None:
    commune = await seed_commune(app)
    async with app.store.transaction() as repos:  # the officer Cường has linked his chat
        person = await repos.participants.get(commune.an_id)
        assert person is not None
        [officer] = await repos.escalations.officers_of(person.unit_id)
        await repos.identities.link("simulator", "cuong", staff_id=officer)
    clock.set(at_local(date(2026, 11, 24), 10))
    escalation = await _alert(app, commune, EscalationKind.UNREACHABLE, "unreachable:1:0", clock.now())
    await app.scheduler.dispatcher.run()
    [told] = _pushed(app, "cuong")
    assert "Trần Thị Bình" in told  # "their cadre cannot be reached through the assistant, so it came to you"
    async with app.store.transaction() as repos:
        assert await repos.escalations.acknowledge(escalation, officer)
    await _link_cadre(app, commune)
    report = await app.scheduler.dispatcher.run()
    assert report.released == 1 and report.sent == 0
    row = await _row(app, f"esc:{escalation}:cadre")
    assert (row.status, row.last_error) == (OutboxStatus.CANCELLED, "acknowledged")
    assert _pushed(app, "binh") == []


async def test_a_stale_digest_is_dropped_and_an_old_alert_expires(app: Application, clock: FakeClock) -> None:
    commune = await seed_commune(app)
    day = date(2026, 11, 24)
    clock.set(at_local(day, 7, 30))
    async with app.store.transaction() as repos:
        await repos.outbox.add(
            [NewMessage("digest:test", MessageKind.DIGEST, clock.now(), staff_id=commune.cadre_id,
                        payload={"day": day.isoformat()})]
        )  # fmt: skip
    escalation = await _alert(app, commune, EscalationKind.UNREACHABLE, "unreachable:1:0", clock.now())
    await app.scheduler.dispatcher.run()
    digest = await _row(app, "digest:test")
    assert digest.status == OutboxStatus.HELD
    assert digest.next_attempt_at == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # midnight in Hà Nội
    assert [w.kind for w in await _waiting(app, commune.cadre_id)] == [MessageKind.DIGEST, MessageKind.ESCALATION]

    clock.set(at_local(day + timedelta(days=1), 9))  # she links the next morning: yesterday's list is not sent
    assert [w.kind for w in await _waiting(app, commune.cadre_id)] == [MessageKind.ESCALATION]
    await _link_cadre(app, commune)
    report = await app.scheduler.dispatcher.run()
    assert report.sent == 1
    digest = await _row(app, "digest:test")
    assert (digest.status, digest.last_error) == (OutboxStatus.CANCELLED, "expired")
    assert (await _row(app, f"esc:{escalation}:cadre")).status == OutboxStatus.SENT

    # An alert nobody linked a chat for is kept `hold_for`, then dropped (the inbox and the console list it).
    async with app.store.transaction() as repos:
        await repos.identities.unlink_person(staff_id=commune.cadre_id)
    later = await _alert(app, commune, EscalationKind.MISSED_CHECKIN, "missed_checkin:1:0", clock.now())
    await app.scheduler.dispatcher.run()
    assert (await _row(app, f"esc:{later}:cadre")).status == OutboxStatus.HELD
    clock.advance(days=29)
    await app.scheduler.dispatcher.run()
    assert (await _row(app, f"esc:{later}:cadre")).status == OutboxStatus.HELD
    clock.advance(days=1, minutes=1)
    await app.scheduler.dispatcher.run()
    row = await _row(app, f"esc:{later}:cadre")
    assert (row.status, row.last_error) == (OutboxStatus.CANCELLED, "expired")


async def test_released_at_night_only_what_is_urgent_goes_before_morning(app: Application, clock: FakeClock) -> None:
    commune = await seed_commune(app)
    clock.set(at_local(date(2026, 11, 24), 10))
    plain = await _alert(app, commune, EscalationKind.UNREACHABLE, "unreachable:1:0", clock.now())
    crisis = await _alert(app, commune, EscalationKind.CRISIS, "crisis:1:0", clock.now())
    await app.scheduler.dispatcher.run()
    clock.set(at_local(date(2026, 11, 24), 23))  # she links late at night
    await _link_cadre(app, commune)
    report = await app.scheduler.dispatcher.run()
    assert report.released == 2 and report.sent == 1
    assert (await _row(app, f"esc:{crisis}:cadre")).status == OutboxStatus.SENT
    assert (await _row(app, f"esc:{plain}:cadre")).status == OutboxStatus.PENDING
    clock.set(at_local(date(2026, 11, 25), 7, 1))
    assert (await app.scheduler.dispatcher.run()).sent == 1
    assert len(_pushed(app, "binh")) == 2


async def test_a_closed_account_keeps_nothing(app: Application, clock: FakeClock) -> None:
    commune = await seed_commune(app)
    escalation = await _alert(app, commune, EscalationKind.UNREACHABLE, "unreachable:1:0", clock.now())
    await app.scheduler.dispatcher.run()
    async with app.store.transaction() as repos:
        done = await deactivate_staff(repos, commune.cadre_id, Operator(staff_id=None, os_user="ops"), clock.now())
    assert done.cancelled == 1
    assert (await _row(app, f"esc:{escalation}:cadre")).status == OutboxStatus.CANCELLED
    assert await _waiting(app, commune.cadre_id) == []


async def test_participants_messages_are_not_kept(app: Application, clock: FakeClock) -> None:
    """A participant with no chat is no staff member waiting to link one: their reminder is cancelled as before."""
    commune = await seed_commune(app)
    async with app.store.transaction() as repos:
        await repos.outbox.add([NewMessage("completion:test", MessageKind.COMPLETION, clock.now(),
                                           participant_id=commune.an_id)])  # fmt: skip
    await app.scheduler.dispatcher.run()
    row = await _row(app, "completion:test")
    assert (row.status, row.last_error) == (OutboxStatus.CANCELLED, "no_chat")
    async with app.store.transaction() as repos:
        held = select(OutboxRow).where(OutboxRow.status == OutboxStatus.HELD)
        assert list((await repos.session.execute(held)).scalars()) == []


def _claimed(kind: MessageKind, due: datetime, payload: dict[str, object]) -> Claimed:
    return Claimed(1, "k", kind, None, 7, payload, 1, due)


def test_how_long_each_kind_is_kept() -> None:
    due = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội
    midnight = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert held_until(_claimed(MessageKind.DIGEST, due, {"day": "2026-11-24"}), HANOI, KEEP) == midnight
    assert held_until(_claimed(MessageKind.REVIEW_REQUEST, due, {"quarter": "2026Q4"}), HANOI, KEEP) == midnight
    assert held_until(_claimed(MessageKind.DIGEST, due, {"day": "not a day"}), HANOI, KEEP) == midnight
    for kind in (MessageKind.ESCALATION, MessageKind.ASSIGNMENT, MessageKind.FIELD_REPORT, MessageKind.RELAY_REQUEST):
        assert held_until(_claimed(kind, due, {}), HANOI, KEEP) == due + KEEP
