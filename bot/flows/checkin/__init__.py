"""The monthly self-report check-in ("Điểm danh tháng này"), the participant's appointments, and acknowledging a
test announced today.

Answers are saved after every question, so a check-in interrupted by anything (a menu press, a day away) resumes
where it stopped. One per calendar month: a second attempt says it is done and when the next one is due.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.clock import local_today
from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.obligations import Obligation
from bot.domain.authz import Action
from bot.domain.checkin import (
    CALL,
    CRAVINGS,
    MOOD,
    NEEDS,
    QUESTIONS,
    SKIPPED,
    USE,
    WORK,
    next_question,
    risk_reasons,
    valid_answer,
)
from bot.domain.consent import Purpose
from bot.domain.entities import Wording
from bot.domain.planning import ObligationKind, ObligationStatus, WantedObligation, obligation_key
from bot.domain.schedule import monthly_due_dates, periodic_test_dates
from bot.flows import common, home, participant, support
from bot.flows.checkin import needs, pushed
from bot.flows.common import say
from bot.flows.context import HOME, Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb, as_number
from bot.services.escalations import EscalationKind, Told, Why, raise_and_tell

FLOW = "checkin"


class Steps(Step):
    """The question the person is on (its key in the domain's questions)."""

    MOOD = MOOD
    CRAVINGS = CRAVINGS
    USE = USE
    WORK = WORK
    NEEDS = NEEDS
    CALL = CALL
    NEEDS_ASKED = "needs_asked"  # the check-in is done; whether to pass its needs on waits for an answer
    OFFERED = "counsellor_offered"  # a risky check-in's counsellor offer, answered before its needs are asked about


class Verbs(Verb):
    START = "checkin:start"
    ANSWER = "checkin"  # obligation id, question, what (a, toggle, done, skip), value
    LATER = "checkin:later"
    SCHEDULE = "menu:schedule"
    TEST_SEEN = "test:ack"  # an unannounced appointment today: "Got it"
    NEEDS = "checkin:needs"  # obligation id, yes or no: pass the needs stated in it on
    REFERRAL = "referral:counselling"
    NO_REFERRAL = "referral:decline"


NONE = "none"  # "nothing needed", for the multiple-choice question


def _action(obligation_id: int, key: str, verb: str, value: str = "") -> str:
    """Answers name the check-in and the question, so a button left over from another month or question
    can never answer this one."""
    return Verbs.ANSWER(obligation_id, key, verb, value)


def _parse(pressed: Pressed) -> tuple[int, str, str, str] | None:
    parts = pressed.args
    obligation_id = as_number(parts[0]) if parts else None
    if pressed.verb is not Verbs.ANSWER or len(parts) != 4 or obligation_id is None:
        return None
    return obligation_id, parts[1], parts[2], parts[3]


EXPLICIT_TESTS_TITLE = N_("Scheduled drug tests:")  # shown only to someone who chose explicit wording
EXPLICIT_VIEW_MSGIDS = frozenset({EXPLICIT_TESTS_TITLE})

PROMPTS: dict[str, str] = {
    MOOD: N_("How have you been feeling this month?"),
    CRAVINGS: N_("Have you felt an urge to use again lately?"),
    USE: N_("Since your last check-in, have you used? Your honest answer helps us support you; it is not a test."),
    WORK: N_("What is your work or study situation now?"),
    NEEDS: N_("Is there anything you need help with? Choose all that apply, then tap “Done”."),
    CALL: N_("Would you like someone to call you for a chat?"),
}
LABELS: dict[tuple[str, str], str] = {
    (MOOD, "1"): N_("Very bad"),
    (MOOD, "2"): N_("Not good"),
    (MOOD, "3"): N_("Okay"),
    (MOOD, "4"): N_("Good"),
    (MOOD, "5"): N_("Very good"),
    (CRAVINGS, "none"): N_("No"),
    (CRAVINGS, "little"): N_("A little"),
    (CRAVINGS, "strong"): N_("Strongly, it is hard"),
    (USE, "no"): N_("No"),
    (USE, "yes"): N_("Yes"),
    (USE, "private"): N_("I'd rather not say"),
    (WORK, "working"): N_("Working"),
    (WORK, "studying"): N_("Studying or in training"),
    (WORK, "looking"): N_("Looking for work"),
    (WORK, "not_working"): N_("Not working now"),
    **{(NEEDS, value): label for value, label in needs.OPTION_LABELS.items()},
    (CALL, "yes"): N_("Yes, please call me"),
    (CALL, "no"): N_("No, thank you"),
}


async def current_obligation(ctx: Context) -> Obligation | None:
    """This calendar month's check-in, created on the spot if the planner has not run yet (None outside the term)."""
    person = ctx.participant
    assert person is not None
    today = local_today(ctx.clock, ctx.tz)
    key = obligation_key(ObligationKind.CHECKIN, person.id, today)
    found = await ctx.repos.obligations.by_key(key)
    if found is not None and found.status is not ObligationStatus.CANCELLED:
        return found
    if not person.term_start <= today <= person.expected_end:
        return None
    unit = await ctx.repos.units.get(person.unit_id)
    due_day = unit.checkin_due_day if unit else 10
    dues = [d for d in monthly_due_dates(person.term_start, person.expected_end, due_day) if d.month == today.month]
    if not dues or found is not None:
        return None
    await ctx.repos.obligations.ensure(person.id, [WantedObligation(key, ObligationKind.CHECKIN, dues[0])])
    return await ctx.repos.obligations.by_key(key)


async def next_checkin_day(ctx: Context, after: date) -> date | None:
    person = ctx.participant
    assert person is not None
    unit = await ctx.repos.units.get(person.unit_id)
    dues = monthly_due_dates(person.term_start, person.expected_end, unit.checkin_due_day if unit else 10)
    return next((d for d in dues if d > after and (d.year, d.month) != (after.year, after.month)), None)


async def start(ctx: Context) -> Replies:
    """Start, resume, or say it is already done."""
    if not await ctx.allowed(Action.CHECK_IN_SELF, await ctx.own_scope()):
        return []
    t = ctx.t
    obligation = await current_obligation(ctx)
    today = local_today(ctx.clock, ctx.tz)
    if obligation is None:
        return [say(t._("There is no check-in for this month.")), *await _home(ctx)]
    if obligation.status is ObligationStatus.DONE:
        following = await next_checkin_day(ctx, today)
        text = t._("You have already checked in this month. Thank you!")
        if following is not None:
            text += "\n" + t._("Next check-in: {date}.", date=t.date(following))
        return [say(text), *await _home(ctx)]
    saved = await ctx.repos.checkins.for_obligation(obligation.id)
    answers = dict(saved.answers) if saved else {}
    ctx.state.flow, ctx.state.data = FLOW, {"obligation_id": obligation.id, "picked": []}
    intro = (
        t._("Welcome back. Let's continue where you stopped.")
        if answers
        else t._("Monthly check-in: six short questions. You can skip any of them, or continue later.")
    )
    return [say(intro), *_ask(ctx, answers)]


def _ask(ctx: Context, answers: dict[str, object]) -> Replies:
    t = ctx.t
    key = next_question(answers)
    assert key is not None
    ctx.state.step = Steps(key)
    question = QUESTIONS[key]
    oid = int(ctx.state.data.get("obligation_id", 0))
    if question.many:
        picked = set(ctx.state.data.get("picked", []))
        options = tuple(
            Button(("✓ " if value in picked else "") + t._(LABELS[(key, value)]), _action(oid, key, "toggle", value))
            for value in question.options
        )
        options += (Button(t._("Nothing, thank you"), _action(oid, key, "a", NONE)),)
        options += (Button(t._("Done"), _action(oid, key, "done")),)
    else:
        options = tuple(Button(t._(LABELS[(key, value)]), _action(oid, key, "a", value)) for value in question.options)
    position = t._("Question {n} of {total}", n=list(QUESTIONS).index(key) + 1, total=len(QUESTIONS))
    return [
        OutboundMessage(
            f"{position}\n{t._(PROMPTS[key])}",
            (*options, Button(t._("Skip"), _action(oid, key, "skip")), Button(t._("Continue later"), Verbs.LATER)),
        )
    ]


async def prompt(ctx: Context, menu: bool = False) -> Replies:
    """The question the person is on (after a sticker, an empty or a too-long message)."""
    obligation_id = int(ctx.state.data.get("obligation_id", 0))
    if ctx.state.step == Steps.OFFERED:
        if menu:  # the person went to the menu: the offer (and the needs question after it) is left
            ctx.leave()
            return await _home(ctx)
        return [_counselling_offer(ctx, ctx.t._("Would you like to talk with a counsellor?"))]
    if ctx.state.step == Steps.NEEDS_ASKED:
        again = None if menu else await needs.asked_again(ctx, obligation_id, Verbs.NEEDS)
        if again is None:  # answered, or the person asked for the menu: the question is left
            ctx.leave()
            return await _home(ctx)
        return [again]
    saved = await ctx.repos.checkins.for_obligation(obligation_id)
    answers = dict(saved.answers) if saved else {}
    if next_question(answers) is None:
        return home.participant_home(ctx.t)
    return _ask(ctx, answers)


async def handle(ctx: Context, pressed: Pressed | None) -> Replies:
    """Inside the check-in flow: answers, skips, multiple choice, pause (`pressed` None: typed words)."""
    obligation_id = int(ctx.state.data.get("obligation_id", 0))
    obligation = await ctx.repos.obligations.get(obligation_id)
    person = ctx.participant
    assert person is not None
    if obligation is None or obligation.participant_id != person.id or obligation.status is ObligationStatus.DONE:
        ctx.leave()
        return await start(ctx)
    saved = await ctx.repos.checkins.for_obligation(obligation.id)
    answers: dict[str, object] = dict(saved.answers) if saved else {}
    key = next_question(answers)
    if key is None:
        return await _finish(ctx, obligation, answers)
    if pressed is None:
        return [say(ctx.t._("Please answer with one of the options.")), *_ask(ctx, answers)]
    if pressed.verb is Verbs.LATER:
        ctx.leave()
        text = ctx.t._("Okay, your answers so far are saved. Tap “Check in this month” whenever you are ready.")
        return [say(text), *await _home(ctx)]
    parsed = _parse(pressed)
    if parsed is None or parsed[0] != obligation.id or parsed[1] != key:
        return _ask(ctx, answers)  # another month's or another question's button: ask this one again
    _, _, verb, value = parsed
    question = QUESTIONS[key]
    if verb == "toggle" and question.many and value in question.options:
        picked = list(ctx.state.data.get("picked", []))
        picked = [p for p in picked if p != value] if value in picked else [*picked, value]
        ctx.state.data = {**ctx.state.data, "picked": picked}
        return _ask(ctx, answers)
    if verb == "done" and question.many:
        answers[key] = sorted(ctx.state.data.get("picked", []))
    elif verb == "a" and question.many and value == NONE:
        answers[key] = []
    elif verb == "skip":
        answers[key] = SKIPPED
    elif verb == "a" and not question.many and valid_answer(key, value):
        answers[key] = value
    else:
        return _ask(ctx, answers)
    ctx.state.data = {**ctx.state.data, "picked": []}
    if next_question(answers) is None:
        return await _finish(ctx, obligation, answers)
    await ctx.repos.checkins.save(obligation.id, person.id, answers, complete=False, risky=False)
    return _ask(ctx, answers)


async def _finish(ctx: Context, obligation: Obligation, answers: dict[str, object]) -> Replies:
    person = ctx.participant
    assert person is not None
    t = ctx.t
    reasons = risk_reasons(answers)
    # The needs first: whether they are passed on is kept with the answers (`needs.at_finish` sets it).
    of_needs, question = await needs.at_finish(ctx, obligation.id, answers, Verbs.NEEDS)
    await ctx.repos.checkins.save(obligation.id, person.id, answers, complete=True, risky=bool(reasons))
    await ctx.repos.obligations.set_done(obligation.id)
    # Checked in late: the "not checked in" alert is over (it is not sent on to the officer).
    await ctx.repos.escalations.resolve(obligation_id=obligation.id, kind=EscalationKind.MISSED_CHECKIN)
    await ctx.audit(
        "checkin_completed", subject_type="participant", subject_id=person.id, detail={"obligation": obligation.id}
    )
    ctx.leave()
    today = local_today(ctx.clock, ctx.tz)
    following = await next_checkin_day(ctx, today)
    thanks = t._("Thank you, your check-in for {month} is recorded.", month=today.strftime("%m/%Y"))
    if following is not None:
        thanks += "\n" + t._("Next check-in: {date}.", date=t.date(following))
    thanks = "\n".join([thanks, *of_needs])
    if not reasons and question:
        _wait_for_answer(ctx, obligation.id)
        return [say(thanks), question]
    if not reasons:
        return [say(thanks), *await _home(ctx)]
    shared = (await ctx.repos.consents.current(person.id)).get(Purpose.SHARE_WITH_CADRE, False)
    told = Told(why=Why.NONE)
    if shared or "call" in reasons:  # without consent to share answers, only a wish to be called is passed on
        _, told = await raise_and_tell(
            ctx.repos,
            key=f"{EscalationKind.RISKY_CHECKIN}:{obligation.id}",
            kind=EscalationKind.RISKY_CHECKIN,
            participant_id=person.id,
            unit_id=person.unit_id,
            cadre_id=person.cadre_id,
            now=ctx.clock.now(),
            obligation_id=obligation.id,
        )
    # Only who was actually told is named: nobody without consent to share (and no wish to be called), nobody the
    # bot cannot reach, nobody twice for the same check-in.
    lines = [t._("Thank you for being honest with us.")]
    if told.cadre_id is not None or told.officers:
        lines.append(t._("I have let {whom} know.", whom=t._(support.CADRE if told.cadre_id else support.OFFICER)))
    lines.append(t._("Would you also like to talk with a counsellor?"))
    if question:  # one question at a time, safety first: the counsellor offered now, passing the needs on after it
        ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.OFFERED, {"obligation_id": obligation.id}
    return [say(thanks), _counselling_offer(ctx, " ".join(lines))]


def _wait_for_answer(ctx: Context, obligation_id: int) -> None:
    """The chat holds the needs question until it is answered or the person goes elsewhere (asked again meanwhile)."""
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.NEEDS_ASKED, {"obligation_id": obligation_id}


def _counselling_offer(ctx: Context, text: str) -> OutboundMessage:
    t = ctx.t
    return OutboundMessage(
        text,
        (
            Button(t._("Yes, connect me with a counsellor"), Verbs.REFERRAL),
            Button(t._("Not now"), Verbs.NO_REFERRAL),
        ),
    )


async def answer_needs(ctx: Context, pressed: Pressed) -> Replies:
    """Yes or no to passing the stated needs on (after a risky check-in, the counsellor was offered first)."""
    obligation_id, choice = pressed.split()
    ctx.leave()
    replies, _ = await needs.answered(ctx, obligation_id, choice)
    if not replies:
        return [common.stale_button(ctx.t), *await _home(ctx)]
    return [*replies, *await _home(ctx)]


async def accept_counsellor(ctx: Context) -> Replies:
    """"Yes" to the counsellor: the request (or the conversation) first; the stated needs' question follows unless a
    conversation opened (the counsellor hears them there) — after a refusal for want of consent too."""
    waiting = int(ctx.state.data.get("obligation_id", 0)) if ctx.state.step == Steps.OFFERED else 0
    ctx.leave()
    replies = await request_referral(ctx)
    question = await needs.asked_again(ctx, waiting, Verbs.NEEDS) if waiting and ctx.state.flow == HOME else None
    if question is None:
        return replies
    _wait_for_answer(ctx, waiting)
    menu = {message.text for message in home.participant_home(ctx.t)}
    return [*(reply for reply in replies if reply.text not in menu), question]


async def decline_counsellor(ctx: Context) -> Replies:
    """"Not now" to the counsellor; the stated needs' question follows if it waited for this answer."""
    waiting = int(ctx.state.data.get("obligation_id", 0)) if ctx.state.step == Steps.OFFERED else 0
    ctx.leave()
    okay = say(ctx.t._("Okay. If you change your mind, the main menu is always here."))
    question = await needs.asked_again(ctx, waiting, Verbs.NEEDS) if waiting else None
    if question is None:
        return [okay, *await _home(ctx)]
    _wait_for_answer(ctx, waiting)
    return [okay, question]


async def request_referral(ctx: Context) -> Replies:
    """Recorded for the counselling point and the cadre told (see support.ask_for)."""
    return await support.ask_for(ctx, "counselling", source="checkin")


async def my_schedule(ctx: Context) -> Replies:
    """Upcoming check-ins, scheduled tests, a test announced for today, and the expected end of the term."""
    person = ctx.participant
    assert person is not None
    if not await ctx.allowed(Action.VIEW_OWN_TERM, await ctx.own_scope()):
        return await _home(ctx)
    t = ctx.t
    today = local_today(ctx.clock, ctx.tz)
    unit = await ctx.repos.units.get(person.unit_id)
    due_day = unit.checkin_due_day if unit else 10
    this_month = await ctx.repos.obligations.by_key(obligation_key(ObligationKind.CHECKIN, person.id, today))
    lines = [t._("Your appointments")]
    checkins = [
        d
        for d in monthly_due_dates(person.term_start, person.expected_end, due_day)
        if d >= today.replace(day=1) and d <= today + timedelta(days=100)
    ][:3]
    if checkins:
        lines += ["", t._("Monthly check-ins:")]
        for day in checkins:
            done = this_month is not None and this_month.status is ObligationStatus.DONE and day.month == today.month
            lines.append(t._("• {date} (done)", date=t.date(day)) if done else f"• {t.date(day)}")
    tests = [
        d
        for d in periodic_test_dates(person.term_start, person.expected_end, person.risk_level, due_day)
        if today <= d <= today + timedelta(days=100)
    ][:2]
    if tests:
        title = t._(EXPLICIT_TESTS_TITLE) if person.wording is Wording.EXPLICIT else t._("Other appointments:")
        lines += ["", title, *(f"• {t.date(d)}" for d in tests)]
    buttons: list[Button] = []
    for today_test in await ctx.repos.obligations.of_participant(person.id, today, today, [ObligationKind.RANDOM_TEST]):
        if today_test.status is ObligationStatus.PENDING:
            lines += ["", t._("Today: you have an appointment. {where}", where=home.where_line(t, unit))]
            if today_test.acknowledged_at is None:
                buttons.append(Button(t._("Got it"), Verbs.TEST_SEEN(today_test.id)))
    lines += ["", t._("Expected end of your term: {date}", date=t.date(person.expected_end))]
    if this_month is None or this_month.status is not ObligationStatus.DONE:
        buttons.append(Button(t._("Check in this month"), Verbs.START))
    return [OutboundMessage("\n".join(lines), (*buttons, Button(t._("Back to menu"), participant.Verbs.HOME)))]


async def acknowledge_test(ctx: Context, obligation_id: int | None) -> Replies:
    """The participant saw today's announcement. The id in the payload is checked against their own records."""
    person = ctx.participant
    assert person is not None
    obligation = await ctx.repos.obligations.get(obligation_id) if obligation_id is not None else None
    today = local_today(ctx.clock, ctx.tz)
    if (
        obligation is None
        or obligation.participant_id != person.id
        or obligation.kind not in (ObligationKind.RANDOM_TEST, ObligationKind.TEST)
        or obligation.due_on != today
    ):
        await ctx.audit("denied:acknowledge_own_test", "denied", detail={"reason": "not own test today"})
        return await _home(ctx)
    if not await ctx.allowed(Action.ACKNOWLEDGE_OWN_TEST, await ctx.own_scope()):
        return await _home(ctx)
    await ctx.repos.obligations.acknowledge(obligation.id)
    await ctx.audit(
        "test_acknowledged", subject_type="participant", subject_id=person.id, detail={"obligation": obligation.id}
    )
    unit = await ctx.repos.units.get(person.unit_id)
    return [say(ctx.t._("Thank you. {where}", where=home.where_line(ctx.t, unit))), *await _home(ctx)]


async def _home(ctx: Context) -> Replies:
    return home.participant_home(ctx.t)


class CheckinFlow(Flow):
    """The monthly check-in by chat, and the person's appointments (a test announced for today, "Got it")."""

    name = FLOW
    audience = Audience.PARTICIPANT
    verbs = Verbs
    stays = frozenset({Verbs.TEST_SEEN})  # a pushed "Got it" answered wherever the person is
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.START:
                return await start(ctx)
            case Verbs.SCHEDULE:
                ctx.leave()
                return await my_schedule(ctx)
            case Verbs.TEST_SEEN:
                return await acknowledge_test(ctx, pressed.number)
            case Verbs.NEEDS:
                return await answer_needs(ctx, pressed)
            case Verbs.REFERRAL:
                return await accept_counsellor(ctx)
            case Verbs.NO_REFERRAL:
                return await decline_counsellor(ctx)
        if not self.holds(ctx.state):  # an answer to a check-in left since: the menu
            return await _home(ctx)
        return await handle(ctx, pressed)

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        if support.asks_for_help(text):
            return await support.show(ctx)
        if ctx.state.step in (Steps.NEEDS_ASKED, Steps.OFFERED):
            return [say(ctx.t._("Please answer with one of the options.")), *await prompt(ctx)]
        return await handle(ctx, None)

    async def prompt(self, ctx: Context, menu: bool) -> Replies:
        return await prompt(ctx, menu)
