"""“Bạn có đang an toàn không?”: the gentle question after a message the crisis check was unsure about, and its
answers.

The engine asks it before any flow sees such a message, whatever the chat was doing, with the crisis hotlines and two
answers, *Tôi ổn* and *Tôi cần giúp ngay* (an unlinked chat gets the question and the hotlines: nobody to alert, no
record to keep). Staff are not screened.

Design: the check is a database record (`safety_check`), not a step of the conversation. The chat's state is left
exactly as it was, so nothing of the person's place has to be saved and restored: asked in the middle of a check-in,
they answer and the engine asks the check-in's question again. The answers are this flow's `stays` actions (pressing
one never leaves the flow the chat is in) and, only while a check is open, a few typed words ("tôi ổn", "ok",
"cần giúp", "help"); the engine hands either to `answer` before the flow holding the chat (even an exclusive one, and
a closed record) and then asks again where the person was. A state step would have had to hold the chat (every other
input then goes to it), remember the step it displaced, and would not be visible to the planner, which must find
unanswered checks without opening anyone's sealed conversation state.

- *Tôi ổn*: closed (ok), a warm reply; "giúp" still brings the numbers at any time.
- *Tôi cần giúp ngay*: closed (help), escalated exactly like a crisis message (`support.crisis`: an urgent referral,
  the cadre and a counsellor alerted, the person told who).
- No answer within `PlanPolicy.safety_check_within`: the planner closes it (silent), escalates like a crisis and
  pushes a discreet message saying who will reach out (`pushed.py`).
- A crisis message while it is open: closed (crisis); the crisis reply and alerts take over, as always.

A second unsure message while one is open asks again, with the same record and the same deadline. What the person
wrote is never stored with the check, logged or audited; in a conversation with a counsellor it still goes to the
counsellor, like anything else they write there.
"""

from __future__ import annotations

from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.conversations import ConversationState
from bot.db.repositories.safety import Outcome
from bot.domain.text import fold
from bot.flows import relay, support
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Verb
from bot.flows.safety import pushed


class Verbs(Verb):
    OK = "safe:ok"  # "Tôi ổn"
    HELP = "safe:help"  # "Tôi cần giúp ngay"


_PRESSED: dict[Verb, Outcome] = {Verbs.OK: Outcome.OK, Verbs.HELP: Outcome.HELP}

# Typed answers, folded (no case, no diacritics, no apostrophes): read only while a check is open, as answers to
# "are you safe?" — so a bare "không" (no) asks for help, and "có" (yes) is safe.
OK_WORDS = frozenset(
    {"toi on", "on", "minh on", "em on", "van on", "toi van on", "on roi", "toi on ma", "khong sao", "k sao",
     "ko sao", "hong sao", "toi khong sao", "minh khong sao", "em khong sao", "co", "co a", "vang", "da", "an toan",
     "toi an toan", "ok", "oke", "okay", "oki", "fine", "yes", "safe", "im ok", "im okay", "im fine", "im safe",
     "i am ok", "i am okay", "i am fine", "i am safe"}
)  # fmt: skip
HELP_WORDS = frozenset(
    {"can giup", "can giup ngay", "toi can giup", "toi can giup ngay", "giup", "giup do", "giup toi", "giup em",
     "giup minh", "can ho tro", "cuu", "cuu toi", "cuu em", "khong", "ko", "khong an toan", "khong on", "toi khong on",
     "minh khong on", "em khong on", "help", "help me", "i need help", "sos", "no", "not ok", "im not ok",
     "not safe", "im not safe"}
)  # fmt: skip


def typed(text: str) -> Outcome | None:
    """The answer these typed words give, if they give one."""
    words = fold(text).replace("'", "").replace("’", "").strip(" .!?,…")
    if words in OK_WORDS:
        return Outcome.OK
    if words in HELP_WORDS:
        return Outcome.HELP
    return None


def question(ctx: Context) -> OutboundMessage:
    t = ctx.t
    lines = [t._("Are you safe right now?"), t._("I am asking because I care how you are."), "",
             *support.hotline_lines(ctx)]  # fmt: skip
    if ctx.participant is None:  # nobody to alert, nothing to answer: the numbers are what there is
        return OutboundMessage("\n".join(lines))
    buttons = (Button(t._("I'm OK"), Verbs.OK), Button(t._("I need help now"), Verbs.HELP))
    return OutboundMessage("\n".join(lines), buttons)


async def ask(ctx: Context) -> Replies:
    """The question, before any flow sees the message; a participant's check opened (or, open already, asked
    again: same record, same deadline)."""
    person = ctx.participant
    if person is None:
        return [question(ctx)]
    check, new = await ctx.repos.safety.ask(person.id)
    await ctx.audit("safety_check_asked", subject_type="participant", subject_id=person.id,
                    detail={"check": check.id, "again": not new})  # fmt: skip
    replies = [question(ctx)]
    if ctx.state.flow == relay.FLOW and ctx.msg.text:  # words for the counsellor still reach the conversation
        conversation = await relay.talking(ctx)
        if conversation is not None:
            replies += await relay.forward(ctx, conversation, ctx.msg.text)
    return replies


async def answered(ctx: Context, pressed: Pressed | None) -> Outcome | None:
    """The answer this message gives to the safety question: a pressed answer (the engine checked it was offered),
    or typed words while the person's check is open; None: it is no answer."""
    if pressed is not None:
        return _PRESSED.get(pressed.verb)
    text, person = ctx.msg.text, ctx.participant
    outcome = typed(text) if text and person is not None else None
    if outcome is None or person is None or await ctx.repos.safety.open_of(person.id) is None:
        return None
    return outcome


async def answer(ctx: Context, outcome: Outcome) -> Replies:
    """Closes the person's open check with their answer. "I need help now" is escalated even with no check open
    (answered already, or closed by the wait): a request for help is never turned away."""
    person = ctx.participant
    assert person is not None
    closed = await ctx.repos.safety.close_open(person.id, outcome)
    if closed is not None:
        await audit_closed(ctx, closed.id, outcome)
    if outcome is Outcome.HELP:
        return await support.crisis(ctx, asked=True)
    t = ctx.t
    return [say("\n".join([t._("Thank you for letting me know. I am glad you are OK."),
                           t._("You can type “help” at any time to see the numbers to call.")]))]  # fmt: skip


async def overtaken(ctx: Context) -> None:
    """A crisis message while the person's check is open: it closes (crisis) and the crisis reply takes over."""
    if ctx.participant is None:
        return
    closed = await ctx.repos.safety.close_open(ctx.participant.id, Outcome.CRISIS)
    if closed is not None:
        await audit_closed(ctx, closed.id, Outcome.CRISIS)


async def audit_closed(ctx: Context, check_id: int, outcome: Outcome) -> None:
    assert ctx.participant is not None
    await ctx.audit("safety_check_closed", subject_type="participant", subject_id=ctx.participant.id,
                    detail={"check": check_id, "outcome": outcome.value})  # fmt: skip


class SafetyFlow(Flow):
    """The answers to the safety question. It never holds a chat's state (the check is a record); the engine hands
    it an answer, pressed or typed, before any other flow (see the module's docstring)."""

    name = "safety"
    audience = Audience.PARTICIPANT
    verbs = Verbs
    stays = frozenset({Verbs.OK, Verbs.HELP})  # answered where the person stands: their flow is not left
    pushes = pushed.PUSHES

    def holds(self, state: ConversationState) -> bool:
        return False

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        return await answer(ctx, _PRESSED[pressed.verb])
