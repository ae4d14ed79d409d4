"""Safety checks against a real database: one open check per person (kept by the database), closed once whoever
closes it first; a message the crisis check is unsure about is never held back by the per-chat limit; the typed
answers to the question (read only while it is the latest thing the chat was offered)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import Application
from bot.core.messages import InboundMessage
from bot.db.repositories.conversations import ConversationState
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
        detector,
        "assess",
        lambda text, model_reads=None: Assessment(Verdict.UNSURE if "mọi thứ" in text else Verdict.NOTHING),
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


async def test_a_check_closed_while_it_is_asked_is_asked_anew(app: Application, clock: FakeClock) -> None:
    """The planner closes the open check between the insert that found it open and the read: the insert is tried
    again and the person is asked (a new check), not answered with an error."""
    commune = await seed_commune(app)
    async with app.store.transaction() as repos:
        first, _ = await repos.safety.ask(commune.an_id)
    clock.advance(minutes=10)
    async with app.store.transaction() as repos:
        safety_checks = repos.safety
        read = safety_checks.open_of
        raced = False

        async def closed_meanwhile(participant_id: int):  # type: ignore[no-untyped-def]
            nonlocal raced
            if not raced:  # once, between the first insert and its read: the planner's timeout
                raced = True
                assert await safety_checks.close(first.id, Outcome.SILENT)
            return await read(participant_id)

        safety_checks.open_of = closed_meanwhile  # type: ignore[method-assign]
        second, new = await safety_checks.ask(commune.an_id)
    assert raced and new and second.open and second.id != first.id and second.asked_at == clock.now()
    async with app.store.transaction() as repos:
        assert [c.outcome for c in await repos.safety.of_participant(commune.an_id)] == [Outcome.SILENT, None]


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("Tôi ổn", Outcome.OK), ("ổn", Outcome.OK), ("OK!", Outcome.OK), ("không sao", Outcome.OK),
        ("ko sao", Outcome.OK), ("I'm fine", Outcome.OK), ("im ok", Outcome.OK), ("Cần giúp", Outcome.HELP),
        ("giúp tôi!", Outcome.HELP), ("HELP", Outcome.HELP), ("Tôi cần giúp ngay", Outcome.HELP),
        ("có", Outcome.OK), ("không", Outcome.HELP), ("tôi không ổn", Outcome.HELP), ("no", Outcome.HELP),
        # Politeness before and after, and whoever the person calls themselves.
        ("em ổn ạ", Outcome.OK), ("dạ em ổn", Outcome.OK), ("ổn ạ", Outcome.OK), ("không sao đâu", Outcome.OK),
        ("mình ổn mà", Outcome.OK), ("vâng ạ", Outcome.OK), ("Dạ, em vẫn ổn ạ!", Outcome.OK), ("tớ ổn rồi", Outcome.OK),
        ("tui ko sao đâu", Outcome.OK), ("mik ổn nha", Outcome.OK), ("t ổn", Outcome.OK), ("chị không sao", Outcome.OK),
        ("em on a", Outcome.OK), ("dạ", Outcome.OK), ("ừ", Outcome.OK), ("có ạ", Outcome.OK),
        ("ổn, cảm ơn bạn", Outcome.OK), ("cảm ơn, mình ổn", Outcome.OK), ("I'm fine, thanks", Outcome.OK),
        ("tôi an toàn", Outcome.OK), ("I am safe", Outcome.OK),
        ("giúp em với", Outcome.HELP), ("em cần giúp", Outcome.HELP), ("ko ổn", Outcome.HELP),
        ("tôi không an toàn", Outcome.HELP), ("không an toàn", Outcome.HELP), ("k ổn", Outcome.HELP),
        ("dạ không", Outcome.HELP), ("không ạ", Outcome.HELP), ("em không ổn lắm", Outcome.HELP),
        ("chưa ổn", Outcome.HELP), ("cứu em với", Outcome.HELP), ("mình cần hỗ trợ ngay", Outcome.HELP),
        ("cần giúp, cảm ơn", Outcome.HELP), ("i need help now", Outcome.HELP), ("im not ok", Outcome.HELP),
        ("I am not safe", Outcome.HELP), ("tôi đang không an toàn", Outcome.HELP),
        # No answer: the question stays open (and is escalated if nothing answers it).
        ("ổn định rồi", None), ("giúp tôi điểm danh", None), ("không biết", None), ("", None), ("ờ", None),
        ("cảm ơn", None), ("không, cảm ơn", None), ("mình không biết có ổn không", None), ("ổn không", None),
        ("có sao không", None), ("em buồn", None),
    ],
)  # fmt: skip
def test_typed_answers(typed: str, outcome: Outcome | None) -> None:
    assert safety.typed(typed) is outcome


@pytest.mark.parametrize(
    ("offered", "latest"),
    [
        (["safe:ok", "safe:help"], True), (["safe:help", "safe:ok"], True), ([], False), (["safe:ok"], False),
        (["safe:ok", "safe:help", "relay:end"], False), (["checkin:1:q2:a:no", "checkin:later"], False),
    ],
)  # fmt: skip
def test_typed_answers_are_read_only_while_the_question_is_the_latest_thing_offered(
    offered: list[str], latest: bool
) -> None:
    assert safety.asked_last(ConversationState(offered=offered)) is latest
