"""Safety checks against a real database: one open check per person (kept by the database), closed once whoever
closes it first; a message the crisis check is unsure about is never held back by the per-chat limit; the typed
answers that are read while a check is open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import Application
from bot.core.messages import InboundMessage
from bot.db.repositories.safety import Outcome
from bot.domain.crisis import Assessment, Verdict
from bot.flows import safety
from tests.fakes.clock import FakeClock
from tests.support.factories import seed_commune


async def test_one_open_check_per_person_closed_once(app: Application, clock: FakeClock) -> None:
    commune = await seed_commune(app)
    asked_at = clock.now()
    async with app.store.transaction() as repos:
        first, new = await repos.safety.ask(commune.an_id)
        assert new and first.open and first.asked_at == asked_at
        clock.advance(minutes=5)
        again, new = await repos.safety.ask(commune.an_id)
        assert (again.id, again.asked_at, new) == (first.id, asked_at, False)  # same record, same deadline
        assert [c.id for c in await repos.safety.unanswered(asked_at)] == [first.id]
        assert await repos.safety.unanswered(asked_at - timedelta(seconds=1)) == []
    async with app.store.transaction() as repos:
        assert await repos.safety.close(first.id, Outcome.OK)
        assert not await repos.safety.close(first.id, Outcome.SILENT)  # an answer and the planner: once
        assert await repos.safety.close_open(commune.an_id, Outcome.CRISIS) is None
        assert await repos.safety.unanswered(clock.now()) == []
        closed = await repos.safety.get(first.id)
        assert closed is not None and closed.outcome is Outcome.OK and not closed.open
        second, new = await repos.safety.ask(commune.an_id)  # a later worry opens a new one
        assert new and second.id != first.id
    async with app.store.transaction() as repos:
        assert [c.outcome for c in await repos.safety.of_participant(commune.an_id)] == [Outcome.OK, None]


async def test_an_unsure_message_is_never_held_back(app: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = app.conversation
    detector = engine.policies.crisis
    assert detector is not None
    monkeypatch.setattr(
        detector, "assess", lambda text, model_reads=None: Assessment(Verdict.UNSURE if "mọi thứ" in text else Verdict.NOTHING)
    )
    limit = engine.policies.inbound_per_minute

    def message(n: int, text: str) -> InboundMessage:
        return InboundMessage(channel="zalo", external_user_id="u-1", text=text, dedupe_key=f"zalo:{n}")

    for n in range(limit):
        assert await engine.handle(message(n, "xin chào")) != []
    assert "hơi nhanh" in (await engine.handle(message(limit, "xin chào")))[0].text
    assert await engine.handle(message(limit + 1, "xin chào")) == []  # a flood: held back
    (asked,) = await engine.handle(message(limit + 2, "mệt mỏi với mọi thứ"))
    assert "Bạn có đang an toàn không?" in asked.text and "096 306 1414" in asked.text and not asked.buttons


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("Tôi ổn", Outcome.OK), ("ổn", Outcome.OK), ("OK!", Outcome.OK), ("không sao", Outcome.OK),
        ("ko sao", Outcome.OK), ("I'm fine", Outcome.OK), ("im ok", Outcome.OK), ("Cần giúp", Outcome.HELP),
        ("giúp tôi!", Outcome.HELP), ("HELP", Outcome.HELP), ("Tôi cần giúp ngay", Outcome.HELP),
        ("có", Outcome.OK), ("không", Outcome.HELP), ("tôi không ổn", Outcome.HELP), ("no", Outcome.HELP),
        ("ổn định rồi", None), ("giúp tôi điểm danh", None), ("không biết", None), ("", None),
    ],
)  # fmt: skip
def test_typed_answers(typed: str, outcome: Outcome | None) -> None:
    assert safety.typed(typed) is outcome
