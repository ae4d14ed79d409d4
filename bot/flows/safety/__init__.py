"""“Bạn có đang an toàn không?”: the gentle question after a message the crisis check was unsure about, and its
answers.

The engine asks it before any flow sees such a message, whatever the chat was doing, with the crisis hotlines and two
answers, *Tôi ổn* and *Tôi cần giúp ngay* (an unlinked chat gets the question and the hotlines: nobody to alert, no
record to keep). Staff are not screened.

Design: the check is a database record (`safety_check`), not a step of the conversation. The chat's state is left
exactly as it was, so nothing of the person's place has to be saved and restored: asked in the middle of a check-in,
they answer and the engine asks the check-in's question again. The answers are this flow's `stays` actions (pressing
one never leaves the flow the chat is in) and a few typed words ("tôi ổn", "dạ em ổn ạ", "không sao đâu", "cần giúp",
"ko ổn", "help"), read only while the question is the latest thing the chat was offered (its two answers, nothing
else): once a flow has shown its own question again, "không" or "có" answer that question and go to that flow. The
engine hands an answer to `answer` before the flow holding the chat (even an exclusive one, and a closed record) and
then asks again where the person was. *Tôi cần giúp ngay* is never refused as a stale button in the person's own chat
(pressed after *Tôi ổn*, or after other choices were shown), nor its words typed: a request for help is never turned
away. A state step would have had to hold the chat (every other input then goes to it), remember the step it
displaced, and would not be visible to the planner, which must find unanswered checks without opening anyone's sealed
conversation state.

- *Tôi ổn*: closed (ok), a warm reply; "giúp" still brings the numbers at any time.
- *Tôi cần giúp ngay*: closed (help), escalated exactly like a crisis message (`support.crisis`: an urgent referral,
  the cadre and a counsellor alerted, the person told who).
- No answer within `PlanPolicy.safety_check_within`: the planner closes it (silent), escalates like a crisis and
  pushes a discreet message saying who will reach out (`pushed.py`).
- A crisis message while it is open: closed (crisis); the crisis reply and alerts take over, as always.

A second unsure message while one is open asks again, with the same record and the same deadline. What the person
wrote is never stored with the check, logged or audited. In a conversation with a counsellor nobody asks (the engine
leaves the words to the conversation: a person reads them).
"""

from __future__ import annotations

import re

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

# Typed answers to "are you safe?", read word by word once folded (no case, no diacritics, no apostrophes), and only
# while that question is the latest thing the chat was offered (see `answered`): so a bare "không" (no) asks for help,
# and "có" (yes) is safe. Politeness around an answer does not change it ("dạ em ổn ạ", "không sao đâu", "mình ổn mà",
# "ổn, cảm ơn"), and whatever the person calls themselves they are the one answering ("em", "mình", "tôi", "tớ", "tui",
# "mik", "t", "anh", "chị", "I"); "không", "ko", "k", "chưa", "not"… are one word. Anything else is no answer: the
# question stays open and, unanswered, is escalated by the planner, so what reads as OK is a short, closed list and
# words left unread err on the side of help.
_LEADING = frozenset({"da", "vang", "u", "o", "uhm", "um", "uh"})  # dạ, vâng, ừ, ờ: a yes, or only politeness
_YES = frozenset({"da", "vang", "u"})  # alone, a yes ("ờ", "ừm" alone say nothing)
_TRAILING = frozenset({"a", "ma", "dau", "nhe", "nha", "roi", "lam", "voi", "luon", "please", "pls", "now"})
_ME, _NOT = "<me>", "<not>"
_PRONOUNS = frozenset({"em", "minh", "toi", "to", "tui", "mik", "mk", "t", "anh", "chi", "i", "im"})
_NEGATIONS = frozenset({"khong", "ko", "k", "kh", "khg", "kg", "hong", "hok", "khum", "hem", "chua", "not"})
# Thanks around an answer (read once the answer alone is no answer): "ổn, cảm ơn bạn", "cảm ơn, mình ổn".
_THANKS = tuple(tuple(p.split()) for p in ("cam on ban nhieu", "cam on nhieu", "cam on ban", "cam on <me>", "cam on",
                                            "thank you", "thank u", "thanks", "thx", "tks", "ty"))  # fmt: skip
OK_WORDS = frozenset(
    tuple(phrase.split())
    for phrase in ("on", "van on", "cung on", "on ca", "<not> sao", "<not> sao ca", "van <not> sao", "binh thuong",
                   "an toan", "van an toan", "dang an toan", "co", "ok", "oke", "okie", "oki", "okay", "fine", "good",
                   "yes", "yeah", "safe", "am ok", "am okay", "am fine", "am safe")
)  # fmt: skip
HELP_WORDS = frozenset(
    tuple(phrase.split())
    for phrase in ("<not>", "no", "<not> on", "<not> on chut nao", "<not> an toan", "dang <not> an toan", "can giup",
                   "can giup ngay", "can giup do", "can tro giup", "can ho tro", "can ho tro ngay", "can nguoi giup",
                   "giup", "giup do", "giup <me>", "giup do <me>", "giup <me> ngay", "cuu", "cuu <me>", "cuu <me> ngay",
                   "help", "help me", "need help", "sos", "<not> ok", "<not> okay", "<not> fine", "<not> safe",
                   "am <not> ok", "am <not> okay", "am <not> fine", "am <not> safe")
)  # fmt: skip
_BARE_NO = frozenset({(_NOT,), ("no",)})  # "không, cảm ơn" declines something: no answer either way
_WORD = re.compile(r"[a-z0-9]+")


def _trimmed(words: tuple[str, ...]) -> tuple[str, ...]:
    """The answer in these words, politeness before and after it dropped, and who is speaking."""
    start, end, yes = 0, len(words), False
    while start < end and words[start] in _LEADING:
        yes = yes or words[start] in _YES
        start += 1
    while start < end and words[end - 1] in _TRAILING:
        end -= 1
    while start < end and words[start] == _ME:  # "em ổn", "tôi cần giúp", "I am fine"
        start += 1
    return ("co",) if yes and start == end else words[start:end]


def _words(text: str) -> tuple[str, ...]:
    """The folded words of a typed answer, a pronoun and a negation each one word, politeness dropped."""
    folded = fold(text).replace("'", "").replace("’", "")
    return _trimmed(tuple(_ME if w in _PRONOUNS else _NOT if w in _NEGATIONS else w for w in _WORD.findall(folded)))


def _thanked(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words without thanks before or after them (and the politeness then around the answer)."""
    for thanks in _THANKS:
        if len(words) > len(thanks) and words[: len(thanks)] == thanks:
            return _trimmed(words[len(thanks) :])
        if len(words) > len(thanks) and words[-len(thanks) :] == thanks:
            return _trimmed(words[: -len(thanks)])
    return words


def typed(text: str) -> Outcome | None:
    """The answer these typed words give to "are you safe?", if they give one."""
    words = _words(text)
    if words in HELP_WORDS:
        return Outcome.HELP
    if words in OK_WORDS:
        return Outcome.OK
    words = _thanked(words)
    if words in HELP_WORDS and words not in _BARE_NO:
        return Outcome.HELP
    if words in OK_WORDS:
        return Outcome.OK
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


def asked_last(state: ConversationState) -> bool:
    """The safety question is the latest thing this chat was offered: its two answers, nothing else."""
    return len(state.offered) == 2 and set(state.offered) == {Verbs.OK, Verbs.HELP}


async def answered(ctx: Context, pressed: Pressed | None) -> Outcome | None:
    """The answer this message gives to the safety question; None: it is no answer.

    A pressed answer (the engine checked it was offered, or it is "I need help now", accepted from the person's chat
    whenever pressed); typed words only while the question is the latest thing the chat was offered — once a flow has
    asked its own question again, "không" or "có" answer that question, not this one. The help button's own words
    ("Tôi cần giúp ngay", exactly) are a press of it, typed: on a channel without buttons that is how an earlier
    question's button is pressed once other choices have taken its number."""
    if pressed is not None:
        return _PRESSED.get(pressed.verb)
    text = ctx.msg.text
    if not text or ctx.participant is None:
        return None
    if asked_last(ctx.state):
        return typed(text)
    if _WORD.findall(fold(text)) == _WORD.findall(fold(ctx.t._("I need help now"))):  # those words, nothing else
        return Outcome.HELP
    return None


async def answer(ctx: Context, outcome: Outcome) -> Replies:
    """Closes the person's open check with their answer. "I need help now" is escalated even with no check open
    (answered already, closed by the wait, or an earlier question's button pressed after other choices were shown):
    a request for help is never turned away, and one with no check to close is audited on its own."""
    person = ctx.participant
    assert person is not None
    closed = await ctx.repos.safety.close_open(person.id, outcome)
    if closed is not None:
        await audit_closed(ctx, closed.id, outcome)
    elif outcome is Outcome.HELP:
        await ctx.audit("safety_help_without_check", subject_type="participant", subject_id=person.id,
                        detail={"via": "button" if ctx.msg.action else "words"})  # fmt: skip
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
