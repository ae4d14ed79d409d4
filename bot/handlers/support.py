"""“Cần hỗ trợ / Tư vấn”: hotlines and the person's counselling point, a counsellor on request, support requests
(vocational training, a job, livelihood support, health or methadone, legal papers); and the reply to a crisis.

Reachable from the menu, by typing "giúp", "hỗ trợ", "help" or /help, and — for a crisis — from any state: the
engine asks the crisis detector before any flow sees the message.
"""

from __future__ import annotations

from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.outbox import NewMessage
from bot.domain.authz import Action
from bot.domain.consent import Purpose
from bot.domain.entities import CounsellingPoint, Participant
from bot.domain.hotlines import tappable
from bot.domain.opening import read as read_hours
from bot.domain.planning import MessageKind
from bot.domain.text import fold
from bot.handlers import relay
from bot.handlers.actions import HELP_MENU
from bot.handlers.common import say
from bot.handlers.context import Context, Replies
from bot.handlers.home import HOME, participant_home
from bot.services import relay as relay_service
from bot.services.crisis import crisis_alert

TALK, SUPPORT, KIND = "help:talk", "help:support", "help:kind:"
MENU = HELP_MENU
WORDS = {"giup", "giup do", "giup toi", "ho tro", "can ho tro", "tro giup", "tu van", "help", "sos", "/help"}

SUPPORT_KINDS: dict[str, str] = {
    "training": N_("Vocational training"),
    "job": N_("Finding a job"),
    "livelihood": N_("Livelihood support or a loan"),
    "health": N_("Health care or methadone"),
    "papers": N_("Legal papers (residence, ID, records)"),
}


def asks_for_help(text: str | None) -> bool:
    return text is not None and fold(text).strip(" .!?") in WORDS


async def _point(ctx: Context, unit_id: int | None) -> CounsellingPoint | None:
    if unit_id is None:
        return None
    points = await ctx.repos.points.in_unit(unit_id)
    return points[0] if points else None


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
    ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}
    lines += ["", t._("Or I can arrange it for you:")]
    buttons = (
        Button(t._("Talk to a counsellor"), TALK),
        Button(t._("Ask for support (training, a job, …)"), SUPPORT),
        Button(t._("Back to menu"), HOME),
    )
    return [OutboundMessage("\n".join(lines), buttons)]


def support_menu(ctx: Context) -> Replies:
    buttons = [Button(ctx.t._(label), f"{KIND}{kind}") for kind, label in SUPPORT_KINDS.items()]
    text = ctx.t._("What kind of support would you like? The counselling point and your cadre will be told.")
    return [OutboundMessage(text, (*buttons, Button(ctx.t._("Back to menu"), HOME)))]


async def ask_for(ctx: Context, kind: str, source: str) -> Replies:
    """A referral for the person's counselling point, with their consent; the cadre (else the officers) is told."""
    person = ctx.participant
    assert person is not None
    if kind != "counselling" and kind not in SUPPORT_KINDS:
        return participant_home(ctx.t)
    if not await ctx.allowed(Action.REQUEST_REFERRAL, await ctx.own_scope()):
        return participant_home(ctx.t)
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
        return [say(text), *participant_home(ctx.t)]
    point = await _point(ctx, person.unit_id)
    if kind == "counselling":
        going_on = await relay.talking(ctx)
        if going_on is not None:
            return await relay.resume(ctx, going_on)
        waiting = await ctx.repos.referrals.open_counselling_of(person.id)
        if waiting is not None and waiting.status == "requested" and point is not None and waiting.point_id == point.id:
            # An urgent referral from a crisis message, nobody has taken it yet: the person now asks to talk in it.
            await ctx.repos.referrals.start_conversation(waiting.id, "participant", person.id)
            return await relay.opened(ctx, waiting.id, point, _hotline_lines(ctx, crisis_only=True))
    point_id = point.id if point else None
    referral_id = await ctx.repos.referrals.request(person.id, kind, source=source, point_id=point_id)
    await ctx.audit(
        "referral_requested",
        subject_type="participant",
        subject_id=person.id,
        detail={"referral": referral_id, "kind": kind},
    )
    recipients = [person.cadre_id] if person.cadre_id else await ctx.repos.escalations.officers_of(person.unit_id)
    await ctx.repos.outbox.add(
        [
            NewMessage(
                f"referral:{referral_id}:staff:{staff_id}",
                MessageKind.REFERRAL_NOTICE,
                ctx.clock.now(),
                staff_id=staff_id,
                payload={"participant_id": person.id, "referral_id": referral_id, "kind": kind},
            )
            for staff_id in recipients
            if staff_id is not None
        ]
    )
    if kind == "counselling" and point is not None:
        await ctx.repos.referrals.start_conversation(referral_id, "participant", person.id)
        return await relay.opened(ctx, referral_id, point, _hotline_lines(ctx, crisis_only=True))
    if kind == "counselling":
        text = ctx.t._("Done. Someone will get in touch with you soon to arrange a talk with a counsellor.")
    else:
        text = ctx.t._("Done. Your request was passed on; someone will get in touch with you about it soon.")
    return [say(text), *participant_home(ctx.t)]


async def crisis(ctx: Context) -> Replies:
    """The immediate, kind reply, whatever the person was doing; the alerts, once per episode."""
    t = ctx.t
    person: Participant | None = ctx.participant
    lines = [
        t._("Thank you for telling me. What you are going through matters, and you do not have to face it alone."),
        t._("If you are in danger right now, call 115 (emergency). To talk to someone who will listen:"),
        *_hotline_lines(ctx, crisis_only=True),
    ]
    point_line = _point_line(ctx, await _point(ctx, person.unit_id if person else None))
    if point_line:
        lines.append(point_line)
    if person is not None:
        referral = await crisis_alert(ctx.repos, person, ctx.clock.now())
        if referral is not None and ctx.msg.text:  # the words reach only the counsellor who takes it (vital interest)
            await relay_service.from_participant(ctx.repos, referral, ctx.msg.text, ctx.clock.now())
        lines += ["", t._("I have let a counsellor and the person accompanying you know, so they can reach you soon.")]
    lines.append(t._("If I misunderstood, never mind — I would rather ask than miss it."))
    return [OutboundMessage("\n".join(lines))]
