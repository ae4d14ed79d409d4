"""Transcripts: "Bạn có đang an toàn không?" — the gentle question after a message the crisis check is unsure about,
answered both ways and unanswered, in Vietnamese, through Telegram and Zalo.

The crisis detector here is the real one's patterns (phrases and rules) with a stand-in for its learned stage that is
unsure about exactly one message, "mệt mỏi với mọi thứ", and nothing else: the transcripts do not depend on the
shipped model's weights or thresholds.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import bot.app
from bot.app import Application
from bot.db.repositories.safety import Outcome, SafetyCheck
from bot.domain.crisis import Assessment, CrisisDetector, Verdict
from bot.domain.escalations import EscalationKind
from bot.domain.text import fold
from tests.e2e.zalo_client import ZaloChat
from tests.fakes.clock import FakeClock
from tests.support.chats import Chat, Chats, at_local, link_participant, on_duty, talking, tick_all
from tests.support.factories import Commune
from tests.support.records import audit_trail
from tests.support.texts import REVEALING, SAFETY, STALE

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

UNSURE = "mệt mỏi với mọi thứ"
QUESTION = ("Bạn có đang an toàn không?", "Mình hỏi vì mình quan tâm đến bạn.")
HOTLINES = ("115", "096 306 1414 (+84 96 306 1414)", "13:00–20:30")
CRISIS_REPLY = SAFETY[0]  # "Cảm ơn bạn đã nói với mình": the crisis reply, not the question
OK_REPLY = ("Cảm ơn bạn đã cho mình biết. Mình mừng là bạn ổn.",
            "Bạn có thể gõ “giúp” bất cứ lúc nào để xem các số điện thoại hỗ trợ.")  # fmt: skip
# Words a pushed message must not show on a lock screen, besides REVEALING.
ALARMING = ("an toàn", "khủng hoảng", "115", "tự tử", "chết")


class UnsureAboutWeariness(CrisisDetector):
    """The patterns as shipped; in place of the learned stage, unsure about `UNSURE` (however it is typed) only."""

    def assess(self, text: str, model_reads: int | None = None) -> Assessment:
        if fold(text).strip(" .!?") == fold(UNSURE):
            return Assessment(Verdict.UNSURE)
        return super().assess(text, model_reads)


@pytest.fixture(autouse=True)
def unsure_about_weariness(monkeypatch: pytest.MonkeyPatch) -> None:
    """The application builds this detector from the shipped patterns (whatever model it would load)."""
    monkeypatch.setattr(bot.app, "CrisisDetector", lambda lexicon, *_, **__: UnsureAboutWeariness(lexicon))


async def _checks(app: Application, person: int) -> list[SafetyCheck]:
    async with app.store.transaction() as repos:
        return await repos.safety.of_participant(person)


def _no_words(entries: list[object]) -> None:
    assert not any("mệt mỏi" in str(getattr(e, "detail", "")) or "moi thu" in str(getattr(e, "detail", ""))
                   for e in entries)  # fmt: skip


async def test_unsure_in_the_middle_of_a_check_in_then_i_am_ok(
    app: Application, chats: dict[str, Chat], clock: FakeClock, commune: Commune
) -> None:
    an, cadre = chats["an"], chats["cadre"]
    clock.set(at_local(date(2026, 12, 10), 22, 30))  # quiet hours: only what is urgent goes out
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    (await an.press("Tốt")).offers("Không")  # second question: cravings
    asked = await an.say(UNSURE)
    asked.says(*QUESTION, *HOTLINES).offers("Tôi ổn", "Tôi cần giúp ngay").never_says(CRISIS_REPLY)
    if isinstance(an, ZaloChat):
        asked.says("1. Tôi ổn", "2. Tôi cần giúp ngay")
    answered = await an.press("Tôi ổn")  # a button on Telegram, the typed number on Zalo
    answered.says(*OK_REPLY).never_says(*QUESTION)
    answered.offers("Không")  # the check-in question is asked again: nothing is lost
    await an.press("Không")
    (await an.press("Không")).offers("Đang đi làm")  # and it carries on
    clock.set(clock.now() + timedelta(minutes=30))
    assert (await cadre.during(app.scheduler.tick)).text == ""  # nobody is alerted, even after the wait
    (check,) = await _checks(app, commune.an_id)
    assert check.outcome is Outcome.OK and check.closed_at is not None
    trail = await audit_trail(app)
    assert [(e.action, e.detail.get("outcome")) for e in trail if e.action.startswith("safety_check")] == [
        ("safety_check_asked", None),
        ("safety_check_closed", "ok"),
    ]
    _no_words(trail)
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 0


async def test_typed_answers_close_the_question(app: Application, chats: dict[str, Chat], commune: Commune) -> None:
    an = chats["an"]
    await an.say("/menu")
    await an.say(UNSURE)
    (await an.say("Tôi ổn")).says(*OK_REPLY).offers("Điểm danh tháng này")  # then the menu they were at
    await an.say(UNSURE)
    (await an.say("ko sao!")).says(*OK_REPLY)
    await an.say(UNSURE)
    (await an.say("im fine")).says(*OK_REPLY)
    await an.say(UNSURE)
    (await an.say("Dạ em ổn ạ")).says(*OK_REPLY)  # politeness around the answer does not hide it
    await an.say(UNSURE)
    (await an.say("không sao đâu, cảm ơn bạn")).says(*OK_REPLY)
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.OK] * 5
    # With no question open the same words are nothing special.
    (await an.say("tôi ổn")).says("Xin lỗi, mình chưa hiểu ý bạn").never_says(*OK_REPLY)
    assert len(await _checks(app, commune.an_id)) == 5


async def test_unsure_then_i_need_help_now_alerts_like_a_crisis(
    app: Application, chats: dict[str, Chat], clock: FakeClock, commune: Commune
) -> None:
    an, cadre, counsellor = chats["an"], chats["cadre"], chats["counsellor"]
    clock.set(at_local(date(2026, 12, 10), 22, 30))  # quiet hours: the alerts still go out at once
    await an.say("/menu")
    await an.say(UNSURE)
    helped = await an.press("Tôi cần giúp ngay")
    helped.says(*SAFETY, "Điểm tư vấn Hà Đông")
    helped.says("Mình đã báo cho tư vấn viên và người đồng hành của bạn để họ liên hệ với bạn sớm nhất.")
    helped.never_says("Nếu mình hiểu nhầm").offers("Điểm danh tháng này")  # they asked: nothing was misunderstood
    pushed = await tick_all([cadre, counsellor], app.scheduler.tick)
    pushed[0].says("Nguyễn Văn An (#1) đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng").offers("Tôi nhận xử lý")
    pushed[1].says("Khẩn:\n", "Nguyễn Văn An (#1)", "Cán bộ đồng hành (Trần Thị Bình) cũng đã được báo.")
    (check,) = await _checks(app, commune.an_id)
    assert check.outcome is Outcome.HELP
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 1
        (referral,) = await repos.referrals.of_participant(commune.an_id)
        kept = await repos.relay.of_referral(referral.id)
    assert (referral.urgency, referral.source) == ("urgent", "crisis")
    assert kept == []  # the answer is not words for the counsellor, and the worrying message was never kept
    # Typed, on a second and a third occasion: the same escalation, no second alert in the open episode.
    await an.say(UNSURE)
    (await an.say("cần giúp")).says(*SAFETY, "Mình đã báo cho tư vấn viên và người đồng hành của bạn")
    await an.say(UNSURE)
    (await an.say("giúp em với")).says(*SAFETY, "Mình đã báo cho tư vấn viên và người đồng hành của bạn")
    assert (await cadre.during(app.scheduler.tick)).text == ""
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.HELP] * 3
    _no_words(await audit_trail(app))


async def test_an_unanswered_question_escalates_after_ten_minutes(
    app: Application, chats: dict[str, Chat], clock: FakeClock, commune: Commune
) -> None:
    an, cadre, counsellor = chats["an"], chats["cadre"], chats["counsellor"]
    start = at_local(date(2026, 12, 10), 22, 30)  # in quiet hours: nothing here waits for the morning
    clock.set(start)
    await an.say("/menu")
    (await an.say(UNSURE)).says(*QUESTION)
    clock.set(start + timedelta(minutes=9))
    quiet = await tick_all([an, cadre, counsellor], app.scheduler.tick)
    assert [said.text for said in quiet] == ["", "", ""]
    clock.set(start + timedelta(minutes=10))
    told, alerted, paged = await tick_all([an, cadre, counsellor], app.scheduler.tick)
    told.says(
        "Mình chưa thấy bạn trả lời, nên mình đã nhờ tư vấn viên và người đồng hành của bạn liên hệ với bạn.\n"
        "Bạn có thể nhắn cho mình ở đây bất cứ lúc nào."
    ).never_says(*REVEALING, *ALARMING)  # it may show on a lock screen
    alerted.says("Nguyễn Văn An (#1) đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng").offers("Tôi nhận xử lý")
    paged.says("Khẩn:\n", "Nguyễn Văn An (#1)")
    (check,) = await _checks(app, commune.an_id)
    assert check.outcome is Outcome.SILENT and check.closed_at == start + timedelta(minutes=10)
    clock.set(start + timedelta(minutes=30))
    assert [said.text for said in await tick_all([an, cadre], app.scheduler.tick)] == ["", ""]  # once
    # Answering late: a kind word, and nothing is undone or raised again.
    (await an.press("Tôi ổn")).says(*OK_REPLY)
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 1
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.SILENT]
    closed = await audit_trail(app, "safety_check_closed")
    assert [(e.actor_type, e.detail) for e in closed] == [("scheduler", {"check": check.id, "outcome": "silent"})]


async def test_asked_twice_one_check_and_the_same_deadline(
    app: Application, chats: dict[str, Chat], clock: FakeClock, commune: Commune
) -> None:
    an, cadre = chats["an"], chats["cadre"]
    start = at_local(date(2026, 12, 10), 10, 0)
    clock.set(start)
    (await an.say(UNSURE)).says(*QUESTION)
    clock.set(start + timedelta(minutes=6))
    (await an.say(UNSURE)).says(*QUESTION).offers("Tôi ổn", "Tôi cần giúp ngay")  # asked again
    (check,) = await _checks(app, commune.an_id)
    assert check.asked_at == start and check.outcome is None
    clock.set(start + timedelta(minutes=10))  # ten minutes after the first: the clock was not restarted
    (await cadre.during(app.scheduler.tick)).says("đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng")
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.SILENT]
    assert [e.detail["again"] for e in await audit_trail(app, "safety_check_asked")] == [False, True]


async def test_a_crisis_message_while_the_question_is_open(
    app: Application, chats: dict[str, Chat], clock: FakeClock, commune: Commune
) -> None:
    an, cadre = chats["an"], chats["cadre"]
    start = at_local(date(2026, 12, 10), 10, 0)
    clock.set(start)
    await an.say(UNSURE)
    (await an.say("em muốn chết")).says(*SAFETY, "Mình đã báo cho tư vấn viên và người đồng hành của bạn")
    (check,) = await _checks(app, commune.an_id)
    assert check.outcome is Outcome.CRISIS
    (await cadre.during(app.scheduler.tick)).says("đang gặp khủng hoảng")
    clock.set(start + timedelta(minutes=15))
    assert [said.text for said in await tick_all([an, cadre], app.scheduler.tick)] == ["", ""]  # nothing more
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 1
    assert [e.detail["outcome"] for e in await audit_trail(app, "safety_check_closed")] == ["crisis"]


async def test_in_a_conversation_with_a_counsellor_the_words_reach_them_and_nobody_asks(
    app: Application, chats: dict[str, Chat], commune: Commune
) -> None:
    """A counsellor reads what the person writes: a message the check is unsure about is not interrupted by the
    question (a crisis still is answered at once: test_counselling_relay)."""
    an, dung = chats["an"], chats["counsellor"]
    await on_duty(dung)
    await talking(app, an, dung)
    await an.during(app.scheduler.tick)  # "a counsellor has joined"
    (await an.say(UNSURE)).says("✓ Đã gửi.").never_says(QUESTION[0]).offers("Kết thúc trò chuyện")
    (await dung.during(app.scheduler.tick)).says(f"Nguyễn Văn An (#1): {UNSURE}")
    (await an.say("cảm ơn anh chị")).says("✓ Đã gửi.")
    assert await _checks(app, commune.an_id) == []


async def test_i_am_ok_never_asked_for_is_stale_i_need_help_is_always_heard(
    app: Application, sim: Chats, chats: dict[str, Chat], commune: Commune
) -> None:
    an, cadre = chats["an"], chats["cadre"]
    if isinstance(an, ZaloChat):
        pytest.skip("Zalo has no button payloads: typed answers without a question are tested above")
    await an.say("/menu")
    own_ok = app.store.keyring.button_ref(sim.channel, sim.external_id("an"), "safe:ok")  # this chat's own key
    for pressed in (own_ok, "safe:ok", "safe:help"):  # the bare actions are no button of this chat
        (await an.press_action(pressed)).says(STALE).never_says(*OK_REPLY, CRISIS_REPLY)
    assert await _checks(app, commune.an_id) == []
    # Asked and answered: "I'm OK" pressed again is stale (what it answered is closed) …
    await an.say(UNSURE)
    earlier_ok, earlier_help = an.buttons["Tôi ổn"], an.buttons["Tôi cần giúp ngay"]  # type: ignore[attr-defined]
    (await an.press("Tôi ổn")).says(*OK_REPLY)
    (await an.press_action(earlier_ok)).says(STALE).never_says(*OK_REPLY)
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.OK]
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 0
    # … but "I need help now", pressed later, is a request for help: escalated like a crisis, never turned away.
    helped = await an.press_action(earlier_help)
    helped.says(*SAFETY, "Mình đã báo cho tư vấn viên và người đồng hành của bạn").offers("Điểm danh tháng này")
    helped.never_says(STALE, "Nếu mình hiểu nhầm")  # they asked: nothing was misunderstood
    (await cadre.during(app.scheduler.tick)).says("đang gặp khủng hoảng")
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.OK]  # the answered check stays as it was
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 1
    assert [e.detail["via"] for e in await audit_trail(app, "safety_help_without_check")] == ["button"]
    assert len(await audit_trail(app, "stale_button")) == 4  # the help press is not among them


async def test_question_then_other_choices_then_i_need_help_now_is_escalated(
    app: Application, chats: dict[str, Chat], commune: Commune
) -> None:
    an, cadre, counsellor = chats["an"], chats["cadre"], chats["counsellor"]
    await an.say("/menu")
    (await an.say(UNSURE)).says(*QUESTION).offers("Tôi ổn", "Tôi cần giúp ngay")
    earlier = dict(an.buttons)  # type: ignore[attr-defined]
    (await an.say("/menu")).offers("Điểm danh tháng này").never_says(*QUESTION)  # other choices replace the answers
    if isinstance(an, ZaloChat):  # no buttons: the answer's own words name it once its number means something else
        helped = await an.say("Tôi cần giúp ngay")
    else:
        helped = await an.press_action(earlier["Tôi cần giúp ngay"])
    helped.says(*SAFETY, "Mình đã báo cho tư vấn viên và người đồng hành của bạn").never_says(STALE)
    pushed = await tick_all([cadre, counsellor], app.scheduler.tick)
    pushed[0].says("Nguyễn Văn An (#1) đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng")
    pushed[1].says("Khẩn:\n", "Nguyễn Văn An (#1)")
    (check,) = await _checks(app, commune.an_id)
    assert check.outcome is Outcome.HELP  # the open check is closed by the answer
    assert [e.detail["outcome"] for e in await audit_trail(app, "safety_check_closed")] == ["help"]
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 1


async def test_unsure_mid_check_in_then_the_check_in_answered_goes_to_the_check_in(
    app: Application, chats: dict[str, Chat], clock: FakeClock, commune: Commune
) -> None:
    an, cadre = chats["an"], chats["cadre"]
    start = at_local(date(2026, 12, 10), 10, 0)
    clock.set(start)
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    (await an.press("Tốt")).offers("Không")  # second question: cravings
    (await an.say(UNSURE)).says(*QUESTION).offers("Tôi ổn", "Tôi cần giúp ngay")
    # Neither answer: the check-in asks its own question again, and from then on words answer that question.
    (await an.say("để mình nghĩ đã")).says("Bạn hãy chọn một trong các lựa chọn bên dưới nhé.").offers("Không")
    no = await an.say("Không")  # "no" to the check-in's question, not "I am not safe"
    no.never_says(CRISIS_REPLY, *OK_REPLY, *QUESTION)
    if isinstance(an, ZaloChat):  # chosen by its name: the check-in's answer, on to its next question
        no.says("Câu 3/6")
    else:  # typed words are no choice there: the check-in asks for one
        no.says("Bạn hãy chọn một trong các lựa chọn bên dưới nhé.", "Câu 2/6")
        await an.press("Không")
    for word in ("ok", "dạ"):  # nor is "yes" "I am safe"
        (await an.say(word)).says("Bạn hãy chọn một trong các lựa chọn bên dưới nhé.").never_says(*OK_REPLY)
    (await an.press("Không")).offers("Đang đi làm")  # the check-in carries on
    (check,) = await _checks(app, commune.an_id)
    assert check.open and check.outcome is None  # the safety question is still open
    assert await audit_trail(app, "safety_check_closed") == []
    async with app.store.transaction() as repos:
        assert await repos.escalations.count_kind(commune.an_id, EscalationKind.CRISIS) == 0
    clock.set(start + timedelta(minutes=10))  # and, unanswered, it is escalated at its deadline as always
    (await cadre.during(app.scheduler.tick)).says("đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng")
    assert [c.outcome for c in await _checks(app, commune.an_id)] == [Outcome.SILENT]


async def test_staff_are_not_asked(app: Application, chats: dict[str, Chat], commune: Commune) -> None:
    cadre, counsellor = chats["cadre"], chats["counsellor"]
    await cadre.say("/menu")
    (await cadre.say(UNSURE)).never_says(*QUESTION, "115")
    (await cadre.say("tôi ổn")).never_says(*OK_REPLY)
    await counsellor.say("/menu")
    (await counsellor.say(UNSURE)).never_says(*QUESTION, "115")
    assert await audit_trail(app, "safety_check_asked") == []


async def test_an_unlinked_chat_gets_the_question_and_the_numbers(
    app: Application, sim: Chats, commune: Commune
) -> None:
    stranger = sim.chat("khach")
    said = await stranger.say(UNSURE)
    said.says(*QUESTION, *HOTLINES).never_says(CRISIS_REPLY, "Mình đã báo")
    assert [label for reply in said for label in reply.labels] == []  # nobody to alert, nothing to answer
    assert await audit_trail(app, "safety_check_asked") == []
    await link_participant(stranger, commune.an_code)  # and can still link
