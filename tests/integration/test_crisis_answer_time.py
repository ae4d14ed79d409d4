"""The time from a crisis alert to its first human answer, as the operator's metrics see it: observed once per
episode, whichever answer comes first (a counsellor taking the urgent referral, staff acknowledging the alert), and
only once the answer is committed."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext

import pytest

from bot.app import Application
from bot.domain.escalations import EscalationKind
from bot.services import referrals
from bot.services.crisis import crisis_alert
from bot.services.escalations import note_crisis_answer
from bot.services.relay import from_counsellor
from tests.fakes.clock import FakeClock
from tests.support.factories import Commune, seed_commune


class Recorded:
    def __init__(self) -> None:
        self.answers: list[float] = []

    def dispatched(self, results: Iterable[tuple[str, str, str]]) -> None:
        pass

    def sending(self, channel: str) -> AbstractContextManager[object]:
        return nullcontext()

    def job_ran(self, job: str) -> None:
        pass

    def crisis_answered(self, seconds: float) -> None:
        self.answers.append(seconds)


async def _crisis(app: Application, commune: Commune) -> int:
    """A crisis message from An now; the urgent referral's id."""
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None
        outcome = await crisis_alert(repos, person, app.clock.now())
        assert outcome.referral is not None
        return outcome.referral.id


async def _counsellor(app: Application) -> int:
    async with app.store.transaction() as repos:
        return next(member.id for member in await repos.staff.listed() if member.name == "Phạm Thu Dung")


async def test_taking_the_referral_is_the_first_answer_and_a_reply_after_it_is_not(
    app: Application, clock: FakeClock
) -> None:
    commune = await seed_commune(app)
    recorded = Recorded()
    app.store.telemetry = recorded
    counsellor = await _counsellor(app)
    referral_id = await _crisis(app, commune)
    clock.advance(minutes=7)
    async with app.store.transaction() as repos:
        referral = await repos.referrals.get(referral_id)
        assert referral is not None
        await referrals.take(repos, referral, counsellor, clock.now())
        assert recorded.answers == []  # not before the answer is committed
    assert recorded.answers == [420.0]
    clock.advance(minutes=1)
    async with app.store.transaction() as repos:
        referral = await repos.referrals.get(referral_id)
        assert referral is not None
        await from_counsellor(repos, referral, counsellor, "Mình ở đây", clock.now())  # the first reply
        (episode,) = await repos.escalations.open_for(participant_ids=[commune.an_id])
        await repos.escalations.acknowledge(episode.id, counsellor)
        await note_crisis_answer(repos, commune.an_id, clock.now())
    assert recorded.answers == [420.0]


async def test_an_acknowledgement_first_counts_and_a_rolled_back_one_does_not(
    app: Application, clock: FakeClock
) -> None:
    commune = await seed_commune(app)
    recorded = Recorded()
    app.store.telemetry = recorded
    counsellor = await _counsellor(app)
    await _crisis(app, commune)
    clock.advance(seconds=90)
    with pytest.raises(RuntimeError):
        async with app.store.transaction() as repos:
            episode = await repos.escalations.latest(commune.an_id, EscalationKind.CRISIS)
            assert episode is not None
            await repos.escalations.acknowledge(episode.id, counsellor)
            await note_crisis_answer(repos, commune.an_id, clock.now())
            raise RuntimeError("the transaction fails after all")
    assert recorded.answers == []
    async with app.store.transaction() as repos:
        episode = await repos.escalations.latest(commune.an_id, EscalationKind.CRISIS)
        assert episode is not None
        await repos.escalations.acknowledge(episode.id, counsellor)
        await note_crisis_answer(repos, commune.an_id, clock.now())
    assert recorded.answers == [90.0]
    async with app.store.transaction() as repos:  # nobody's crisis: nothing to observe
        await note_crisis_answer(repos, commune.binh_id, clock.now())
    assert recorded.answers == [90.0]
