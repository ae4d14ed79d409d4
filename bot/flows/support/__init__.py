"""“Cần hỗ trợ / Tư vấn”: hotlines and the person's counselling point, a counsellor on request, support requests
(vocational training, a job, livelihood support, health or methadone, legal papers); and the reply to a crisis.

Reachable from the menu, by typing "giúp", "hỗ trợ", "help" or /help, and — for a crisis — from any state: the
engine asks the crisis detector before any flow sees the message.
"""

from __future__ import annotations

from bot.core.i18n import N_, Translator
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.consent import Purpose
from bot.domain.entities import CounsellingPoint, Participant
from bot.domain.hotlines import tappable
from bot.domain.opening import read as read_hours
from bot.domain.text import fold
from bot.flows import home, participant, relay
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Verb
from bot.flows.support import pushed
from bot.services import relay as relay_service
from bot.services import support_requests as requests
from bot.services.crisis import Alerted, crisis_alert


class Verbs(Verb):
    MENU = "help:menu"
    TALK = "help:talk"  # to a counsellor
    SUPPORT = "help:support"  # the kinds of support
    KIND = "help:kind"  # one kind of support asked for


WORDS = {"giup", "giup do", "giup toi", "ho tro", "can ho tro", "tro giup", "tu van", "help", "sos", "/help"}

SUPPORT_KINDS: dict[str, str] = {
    "training": N_("Vocational training"),
    "job": N_("Finding a job"),
    "livelihood": N_("Livelihood support or a loan"),
    "health": N_("Health care or methadone"),
    "papers": N_("Legal papers (residence, ID, records)"),
}
# The same kinds in a person's own neutral words (the check-in's needs options): what a message that may show on a
# lock screen says — the person's or the cadre's ("Health", never what the help menu spells out to choose from).
NEUTRAL_KINDS: dict[str, str] = {
    "training": N_("Vocational training"),
    "job": N_("A job"),
    "livelihood": N_("Livelihood support or a loan"),
    "health": N_("Health"),
    "papers": N_("Papers and documents"),
}


def asks_for_help(text: str | None) -> bool:
    return text is not None and fold(text).strip(" .!?") in WORDS


async def _point(ctx: Context, unit_id: int | None) -> CounsellingPoint | None:
    return await requests.point_of(ctx.repos, unit_id)


def _point_line(ctx: Context, point: CounsellingPoint | None) -> str | None:
    if point is None:
        return None
    parts = [point.name]
    if point.phone:
        parts.append(f"☎ {tappable(point.phone)}")
    if point.address:
        parts.append(point.address)
    if point.hours:
        hours = read_hours(point.hours)
        parts.append(hours.describe(ctx.t) if hours.fixed else point.hours)
    return ctx.t._("Your counselling point: {point}", point=" · ".join(parts))


def _hotline_lines(ctx: Context, crisis_only: bool) -> list[str]:
    return [h.line(ctx.t.language) for h in ctx.policies.hotlines if h.crisis or not crisis_only]


async def show(ctx: Context) -> Replies:
    """Numbers first (they work at once, at any hour), then what the bot can arrange."""
    t = ctx.t
    unit_id = ctx.participant.unit_id if ctx.participant else None
    lines = [t._("You can call at any time:"), *_hotline_lines(ctx, crisis_only=False)]
    point_line = _point_line(ctx, await _point(ctx, unit_id))
    if point_line:
        lines += ["", point_line]
    if ctx.participant is None:
        return [OutboundMessage("\n".join(lines))]
    ctx.leave()
    lines += ["", t._("Or I can arrange it for you:")]
    buttons = (
        Button(t._("Talk to a counsellor"), Verbs.TALK),
        Button(t._("Ask for support (training, a job, …)"), Verbs.SUPPORT),
        Button(t._("Back to menu"), participant.Verbs.HOME),
    )
    return [OutboundMessage("\n".join(lines), buttons)]


CADRE, OFFICER = N_("the person accompanying you"), N_("the commune officer")


WHOM: dict[requests.Heard, str | None] = {
    requests.Heard.CADRE: CADRE,
    requests.Heard.OFFICERS: OFFICER,
    requests.Heard.NOBODY: None,
}


async def _who_hears(ctx: Context, person: Participant) -> tuple[requests.Hearers, str | None]:
    """Who a request is passed to (`requests.who_hears`), and how the person is told who that is."""
    hearers = await requests.who_hears(ctx.repos, person)
    return hearers, WHOM[hearers.heard]


async def support_menu(ctx: Context) -> Replies:
    """Says who will see the request, as it stands now (the same rule `ask_for` follows)."""
    t = ctx.t
    buttons = [Button(t._(label), Verbs.KIND(kind)) for kind, label in SUPPORT_KINDS.items()]
    lines = [t._("What kind of support would you like?")]
    if ctx.participant is not None:
        point = await _point(ctx, ctx.participant.unit_id)
        _, whom = await _who_hears(ctx, ctx.participant)
        if point is not None and whom is not None:
            lines.append(t._("Your request will go to the counselling point and to {whom}.", whom=t._(whom)))
        elif point is not None:
            lines.append(t._("Your request will go to the counselling point."))
        elif whom is not None:
            lines.append(t._("There is no counselling point in your commune yet; your request will go to {whom}.",
                             whom=t._(whom)))  # fmt: skip
        else:
            lines.append(t._("There is no counselling point in your commune yet, and nobody can be told through the "
                             "assistant right now; your request will be recorded."))  # fmt: skip
    return [OutboundMessage("\n".join(lines), (*buttons, Button(t._("Back to menu"), participant.Verbs.HOME)))]


async def ask_for(ctx: Context, kind: str, source: str) -> Replies:
    """A referral for the person's counselling point, with their consent; the cadre (else the officers) is told."""
    person = ctx.participant
    assert person is not None
    if kind != "counselling" and kind not in SUPPORT_KINDS:
        return home.participant_home(ctx.t)
    if not await ctx.allowed(Action.REQUEST_REFERRAL, await ctx.own_scope()):
        return home.participant_home(ctx.t)
    if not (await ctx.repos.consents.current(person.id)).get(Purpose.REFERRALS):
        if kind == "counselling":
            text = ctx.t._(
                "To connect you with a counsellor I need your consent to counselling referrals. You can give it in "
                "Settings → Consent, then ask again."
            )
        else:
            text = ctx.t._(
                "To pass on your request I need your consent to referrals. You can give it in Settings → Consent, "
                "then ask again."
            )
        return [say(text), *home.participant_home(ctx.t)]
    point = await _point(ctx, person.unit_id)
    if kind == "counselling":
        going_on = await relay.talking(ctx)
        if going_on is not None:
            return await relay.resume(ctx, going_on)
        waiting = await ctx.repos.referrals.open_counselling_of(person.id)
        if waiting is not None and waiting.status == "requested" and point is not None and waiting.point_id == point.id:
            # An urgent referral from a crisis message, nobody has taken it yet: the person now asks to talk in it.
            await ctx.repos.referrals.start_relay(waiting.id, "participant", person.id)
            return await relay.opened(ctx, waiting.id, point, _hotline_lines(ctx, crisis_only=True))
    hearers, whom = await _who_hears(ctx, person)
    referral_id = await requests.record_request(
        ctx.repos, person, kind, source=source, now=ctx.clock.now(), point=point, hearers=hearers
    )
    await ctx.audit(
        "referral_requested",
        subject_type="participant",
        subject_id=person.id,
        detail={"referral": referral_id, "kind": kind},
    )
    if kind == "counselling" and point is not None:
        await ctx.repos.referrals.start_relay(referral_id, "participant", person.id)
        return await relay.opened(ctx, referral_id, point, _hotline_lines(ctx, crisis_only=True))
    return [say(_passed_on(ctx, kind, point is not None, whom)), *home.participant_home(ctx.t)]


def _passed_on(ctx: Context, kind: str, has_point: bool, whom: str | None) -> str:
    """What was done with a request, and nothing promised that nobody has agreed to (no "soon", no call)."""
    t = ctx.t
    if kind == "counselling":  # no point (with one, the conversation opens instead)
        lines = [t._("There is no counselling point in your commune yet, so I cannot connect you with a counsellor "
                     "here.")]  # fmt: skip
        if whom is not None:
            lines.append(t._("I have passed your request to {whom}, who can help you find one.", whom=t._(whom)))
        else:
            lines.append(
                t._("I could not pass your request to anyone through the assistant right now; it is recorded.")
            )
        return "\n".join([*lines, *relay.talk_now(t, _hotline_lines(ctx, True))])
    if has_point and whom is not None:
        return t._("Done. Your request went to the counselling point and to {whom}.", whom=t._(whom))
    if has_point:
        return t._("Done. Your request went to the counselling point.")
    if whom is not None:
        return t._("Done. There is no counselling point in your commune yet; your request went to {whom}.",
                   whom=t._(whom))  # fmt: skip
    return t._("Your request is recorded, but there is no counselling point in your commune yet and nobody could "
               "be told through the assistant. Please ask at the commune office.")  # fmt: skip


async def crisis(ctx: Context, *, asked: bool = False) -> Replies:
    """The immediate, kind reply, whatever the person was doing; the alerts, once per episode.

    `asked`: the person answered "I need help now" to the safety question (bot/flows/safety) — escalated exactly the
    same, but what they typed is an answer, not words for the counsellor, and nothing was misunderstood."""
    t = ctx.t
    person: Participant | None = ctx.participant
    lines = [
        t._("Thank you for telling me. What you are going through matters, and you do not have to face it alone."),
        *hotline_lines(ctx),
    ]
    point_line = _point_line(ctx, await _point(ctx, person.unit_id if person else None))
    if point_line:
        lines.append(point_line)
    if person is not None:
        outcome = await crisis_alert(ctx.repos, person, ctx.clock.now())
        if outcome.referral is not None and ctx.msg.text and not asked:  # the words reach only the counsellor
            await relay_service.from_participant(ctx.repos, outcome.referral, ctx.msg.text, ctx.clock.now())
        if ctx.msg.text and not asked:  # typed to their cadre: the cadre reads them too, in that conversation
            await relay.crisis_words(ctx, ctx.msg.text)
        told = _who_was_told(ctx, outcome.alerted)
        if told:
            lines += ["", *told]
    if not asked:
        lines.append(t._("If I misunderstood, never mind — I would rather ask than miss it."))
    return [OutboundMessage("\n".join(lines))]


def hotline_lines(ctx: Context) -> list[str]:
    """115 first, then the crisis hotlines: what the crisis reply and the safety question both give."""
    return [
        ctx.t._("If you are in danger right now, call 115 (emergency). To talk to someone who will listen:"),
        *_hotline_lines(ctx, crisis_only=True),
    ]


def whom_alerted(t: Translator, alerted: Alerted) -> str | None:
    """The cadre and the officers an alert went to, as the person calls them; None: neither."""
    if alerted.cadre and alerted.officers:
        return t._("the person accompanying you and the commune officer")
    if alerted.cadre or alerted.officers:
        return t._(CADRE if alerted.cadre else OFFICER)
    return None


def _who_was_told(ctx: Context, alerted: Alerted | None) -> list[str]:
    """Exactly who the alerts went to (the episode's round, for a repeat message): nobody is named who was not."""
    t = ctx.t
    if alerted is None:
        return []
    whom = whom_alerted(t, alerted)
    if alerted.counsellors:
        if whom is None:
            return [t._("I have let a counsellor know, so they can reach you here soon.")]
        return [t._("I have let a counsellor and {whom} know, so they can reach you soon.", whom=whom)]
    lines = [
        t._("There is no counselling point in your commune yet.")
        if not alerted.has_point
        else t._("No counsellor can be reached through the assistant right now.")
    ]
    if whom is None:
        return [*lines, t._("I could not let anyone know through the assistant. Please call one of the numbers above.")]
    return [*lines, t._("I have let {whom} know.", whom=whom)]


class SupportFlow(Flow):
    """Help and counselling: it holds no state (its answers are one step), so typed words never reach it; "giúp"
    or "help" typed anywhere is routed here by the flow the chat is in."""

    name = "support"
    audience = Audience.PARTICIPANT
    verbs = Verbs
    stays = frozenset({Verbs.SUPPORT, Verbs.KIND})  # asking for support keeps a check-in where it was
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.TALK:
                return await ask_for(ctx, "counselling", source="help")
            case Verbs.SUPPORT:
                return await support_menu(ctx)
            case Verbs.KIND:
                return await ask_for(ctx, pressed.arg, source="help")
        return await show(ctx)
