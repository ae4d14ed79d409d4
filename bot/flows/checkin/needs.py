"""What the monthly check-in does with the needs the person stated (vocational training, a job, livelihood support,
health, papers): each becomes a support request of its kind, as if asked for in the help menu.

With the standing consent to referrals they are passed on at once. Without it the person is asked, once, whether to
pass these ones on: "yes" is a permission for these requests only (audited; the consent settings do not change), "no"
passes nothing on. What became of them is kept with the answers (`NEEDS_FATE`), so the question is answered once
whatever button is pressed again, and a need already waiting in an open request is not asked for twice.
"""

from __future__ import annotations

from bot.core.i18n import N_, Translator
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.obligations import Checkin
from bot.domain.authz import Action
from bot.domain.checkin import NEED_KINDS, NEEDS_FATE, NEEDS_OFFERED, NeedsFate, needs_to_request, stated_needs
from bot.domain.consent import Purpose
from bot.flows import support
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Verb
from bot.services import support_requests as requests

YES, NO = "yes", "no"
# The needs question's options, in the person's own neutral words: what they are told back about their needs uses
# these too (a chat preview on a lock screen shows "Health", never what the help menu spells out).
OPTION_LABELS: dict[str, str] = support.NEUTRAL_KINDS
_KIND_LABELS = {NEED_KINDS[value]: label for value, label in OPTION_LABELS.items()}


def kinds_text(t: Translator, kinds: list[str] | tuple[str, ...]) -> str:
    return ", ".join(t._(_KIND_LABELS.get(kind) or support.SUPPORT_KINDS[kind]) for kind in kinds)


async def at_finish(
    ctx: Context, obligation_id: int, answers: dict[str, object], verb: Verb
) -> tuple[list[str], OutboundMessage | None]:
    """On completing a check-in (`answers` not saved yet; `NEEDS_FATE` is set here): what to tell the person about
    the stated needs, and the question whether to pass them on (`verb` its action, the flow's), if it is asked."""
    person = ctx.participant
    assert person is not None
    stated = stated_needs(answers)
    if not stated or not await ctx.allowed(Action.REQUEST_REFERRAL, await ctx.own_scope()):
        return [], None
    if (await ctx.repos.consents.current(person.id)).get(Purpose.REFERRALS, False):
        answers[NEEDS_FATE] = NeedsFate.CONSENTED.value
        return [await _pass_on(ctx, obligation_id, stated, permission="consent")], None
    new, already = needs_to_request(stated, await ctx.repos.referrals.open_kinds_of(person.id))
    lines = [_already(ctx.t, already)] if already else []
    if not new:
        return lines, None
    answers[NEEDS_FATE], answers[NEEDS_OFFERED] = NeedsFate.ASKED.value, new
    return lines, _question(ctx.t, obligation_id, new, verb)


async def asked_again(ctx: Context, obligation_id: int, verb: Verb) -> OutboundMessage | None:
    """The question, asked again while it waits for its answer (after a sticker, a stale button); None: answered."""
    person = ctx.participant
    assert person is not None
    obligation = await ctx.repos.obligations.get(obligation_id)
    if obligation is None or obligation.participant_id != person.id:
        return None
    saved = await ctx.repos.checkins.for_obligation(obligation_id)
    if saved is None or saved.answers.get(NEEDS_FATE) != NeedsFate.ASKED:
        return None
    new, _ = needs_to_request(offered(saved.answers), await ctx.repos.referrals.open_kinds_of(person.id))
    return _question(ctx.t, obligation_id, new, verb) if new else None


def offered(answers: dict[str, object]) -> tuple[str, ...]:
    """The kinds the question asked about (a "yes" covers these and no other), as stored when it was asked."""
    kinds = answers.get(NEEDS_OFFERED)
    stated = stated_needs(answers)
    return tuple(k for k in stated if k in kinds) if isinstance(kinds, list) else stated


def _question(t: Translator, obligation_id: int, kinds: list[str], verb: Verb) -> OutboundMessage:
    text = t._(
        "You said you need help with: {what}. Shall I pass this on, so that someone can help you with it? Only these "
        "requests are passed on; your consent settings stay as they are.",
        what=kinds_text(t, kinds),
    )
    buttons = (
        Button(t._("Yes, pass it on"), verb(obligation_id, YES)),
        Button(t._("No, thank you"), verb(obligation_id, NO)),
    )
    return OutboundMessage(text, buttons)


async def answered(ctx: Context, obligation_id: int | None, choice: str) -> tuple[Replies, Checkin | None]:
    """The person's yes or no to passing their needs on, and the check-in it decided (None: nothing was decided —
    answered already, or not allowed). The payload is checked against the stored check-in: another's, a forged id or
    choice is refused (audited) with no reply, for the caller to answer as a stale button."""
    person = ctx.participant
    assert person is not None
    obligation = await ctx.repos.obligations.get(obligation_id) if obligation_id is not None else None
    saved = await ctx.repos.checkins.for_obligation(obligation.id) if obligation is not None else None
    if (
        obligation is None
        or saved is None
        or obligation.participant_id != person.id
        or saved.completed_at is None
        or choice not in (YES, NO)
    ):
        await ctx.audit("denied:pass_on_needs", "denied", detail={"reason": "not own check-in"})
        return [], None
    t = ctx.t
    if saved.answers.get(NEEDS_FATE) != NeedsFate.ASKED.value:
        return [say(t._("You have already answered this question. Thank you."))], None
    if not await ctx.allowed(Action.REQUEST_REFERRAL, await ctx.own_scope()):
        return [say(t._("Okay, I have not passed anything on."))], None
    answers = dict(saved.answers)
    if choice == YES:
        answers[NEEDS_FATE] = NeedsFate.PASSED_ON.value
        text = await _pass_on(ctx, obligation.id, offered(answers), permission="once")
    else:
        answers[NEEDS_FATE] = NeedsFate.KEPT.value
        await ctx.audit(
            "checkin_needs_kept", subject_type="participant", subject_id=person.id, detail={"obligation": obligation.id}
        )
        text = t._("Okay, I have not passed anything on. You can ask for support at any time from “Help”.")
    saved = await ctx.repos.checkins.save(obligation.id, person.id, answers, complete=False, risky=saved.risky)
    return [say(text)], saved


async def _pass_on(ctx: Context, obligation_id: int, stated: tuple[str, ...], permission: str) -> str:
    """Requests made and audited (`permission`: the standing consent, or "once" for these requests); what to say."""
    person = ctx.participant
    assert person is not None
    passed = await requests.pass_on_needs(ctx.repos, person, stated, ctx.clock.now())
    for kind, referral_id in passed.made:
        await ctx.audit(
            "referral_requested",
            subject_type="participant",
            subject_id=person.id,
            detail={"referral": referral_id, "kind": kind, "source": requests.CHECKIN_NEEDS},
        )
    await ctx.audit(
        "checkin_needs_passed_on",
        subject_type="participant",
        subject_id=person.id,
        detail={"obligation": obligation_id, "referrals": [r for _, r in passed.made], "permission": permission},
    )
    lines = [_went(ctx.t, kinds_text(ctx.t, [k for k, _ in passed.made]), passed)] if passed.made else []
    if passed.already_open:
        lines.append(_already(ctx.t, passed.already_open))
    return "\n".join(lines)


def _went(t: Translator, what: str, passed: requests.NeedsPassed) -> str:
    """Exactly where the requests went, nothing promised (the same rule as the help menu's requests)."""
    whom = support.WHOM[passed.heard]
    if passed.has_point and whom is not None:
        return t._("I have passed on what you need ({what}) to the counselling point and to {whom}.", what=what,
                   whom=t._(whom))  # fmt: skip
    if passed.has_point:
        return t._("I have passed on what you need ({what}) to the counselling point.", what=what)
    if whom is not None:
        return t._("There is no counselling point in your commune yet; I have passed on what you need ({what}) to "
                   "{whom}.", what=what, whom=t._(whom))  # fmt: skip
    return t._(NOBODY, what=what)


NOBODY = N_(
    "What you need ({what}) is recorded, but there is no counselling point in your commune yet and nobody could be "
    "told through the assistant. Please ask at the commune office."
)


def _already(t: Translator, kinds: list[str]) -> str:
    what = kinds_text(t, kinds)
    return t._("Your earlier request is still open for: {what}. I have not made a second one.", what=what)
