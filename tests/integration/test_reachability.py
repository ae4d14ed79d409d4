"""The reachability write (bot/services/reachability.py): the flag, its audit entry and the "unreachable" escalation
change together, whichever side notices (a platform's block or unblock, an undeliverable message, a new message)."""

from __future__ import annotations

from datetime import date

from bot.app import Application
from bot.domain.entities import RiskLevel
from bot.domain.escalations import EscalationKind
from bot.services import reachability
from bot.services.escalations import raise_unreachable
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi, add_person


async def _linked(app: Application) -> int:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        person, _ = await add_person(service, "Nguyễn Văn An", start=date(2025, 1, 15), risk=RiskLevel.LOW)
        await repos.identities.link("telegram", "1001", participant_id=person.id)
    return person.id


async def _reachability_entries(app: Application) -> list[tuple[str, str, str | None]]:
    async with app.store.transaction() as repos:
        entries = [e for e in await repos.audit.recent() if e.action == "chat_reachability"]
    return [(e.actor_type, e.outcome, e.subject_type) for e in reversed(entries)]


async def test_unreachable_then_reachable_again_marks_audits_and_resolves(app: Application, clock: FakeClock) -> None:
    person_id = await _linked(app)
    async with app.store.transaction() as repos:
        identity = await reachability.mark(repos, "telegram", "1001", reachable=False, actor_type="scheduler")
        assert identity is not None and identity.unreachable and identity.participant_id == person_id
        assert await repos.identities.is_unreachable("telegram", "1001")
        participant = await repos.participants.get(person_id)
        assert participant is not None
        assert await raise_unreachable(repos, person_id, participant.unit_id, None, clock.now()) is not None
    async with app.store.transaction() as repos:
        identity = await reachability.mark(repos, "telegram", "1001", reachable=True)
        assert identity is not None and not identity.unreachable
        assert not await repos.identities.is_unreachable("telegram", "1001")
        assert not await repos.escalations.has_open(person_id, EscalationKind.UNREACHABLE)
    assert await _reachability_entries(app) == [
        ("scheduler", "unreachable", "participant"),
        ("channel", "reachable", "participant"),
    ]


async def test_a_chat_nobody_linked_writes_nothing(app: Application) -> None:
    await _linked(app)
    async with app.store.transaction() as repos:
        assert await reachability.mark(repos, "telegram", "2002", reachable=False) is None
        assert await reachability.mark(repos, "zalo", "1001", reachable=True) is None
    assert await _reachability_entries(app) == []
