"""The person's side of a conversation with a counsellor through the bot.

Asking to talk opens (or resumes) the conversation; what they then type goes to the counsellor, shown to them as
"Tư vấn viên". A counsellor's reply reaches them through the outbox; with neutral wording (the default) the push only
says there is a reply and the words are shown after a tap, so nothing personal sits on a lock screen.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.i18n import Translator
from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.db.repositories.referrals import Referral
from bot.domain.entities import CounsellingPoint, Wording
from bot.domain.opening import read as read_hours
from bot.domain.referrals import ReferralStatus
from bot.flows import home, participant
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb
from bot.flows.relay import pushed
from bot.services import relay as service

FLOW = "relay"


class Steps(Step):
    WRITING = ""  # in the conversation: what is typed goes to the counsellor
    ENDING = "end"  # end the conversation? (asked twice)


class Verbs(Verb):
    END = "relay:end"  # asks to confirm
    END_CONFIRMED = "relay:end:yes"
    READ = "relay:read"  # the counsellor's words, after a discreet push; or "carry on"


def buttons(ctx: Context) -> tuple[Button, ...]:
    return (Button(ctx.t._("End the conversation"), Verbs.END), Button(ctx.t._("Back to menu"), participant.Verbs.HOME))


def _into(ctx: Context, referral_id: int) -> None:
    """The chat is in this conversation: what the person types goes to it."""
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.WRITING, {"referral": referral_id}


def talk_now(t: Translator, hotlines: list[str]) -> list[str]:
    """The hotlines, after a blank line, wherever nobody can answer at once."""
    return ["", t._("If you need to talk to someone now:"), *hotlines]


def counsellor_label(ctx: Context) -> str:
    return ctx.t._("Counsellor")


async def prompt(ctx: Context) -> Replies:
    """Where the person is, read from the database: still in the conversation, or it has ended meanwhile."""
    if await talking(ctx) is None:
        return over(ctx)
    return [
        OutboundMessage(
            ctx.t._("You are in a conversation with a counsellor: write here."), buttons(ctx), typed_by=TypedBy.NAME
        )
    ]


def over(ctx: Context) -> Replies:
    ctx.leave()
    text = ctx.t._("This conversation has ended. Whenever you need it, “Help / counselling” is in the menu.")
    return [say(text), *home.participant_home(ctx.t)]


async def opened(ctx: Context, referral_id: int, point: CounsellingPoint, hotlines: list[str]) -> Replies:
    """A new conversation: who will answer and when, in words that fit the hour."""
    t = ctx.t
    situation, opening = await service.ask_counsellors(
        ctx.repos, referral_id, ctx.participant.id if ctx.participant else 0, point, ctx.clock.now(), ctx.tz
    )
    _into(ctx, referral_id)
    _, everyone = await service.answerers(ctx.repos, point.id)
    if not everyone:  # a point nobody is attached to: nobody was told, nobody will answer until someone is
        situation = "nobody"
    if situation == "nobody":
        lines = [
            t._("No counsellor of your counselling point is using the assistant yet, so nobody has been told. You can "
                "leave your message here; it will be read when a counsellor joins."),
            *talk_now(t, hotlines),
        ]  # fmt: skip
    elif situation == "now":
        lines = [
            t._("I have told the counsellor on duty. Write here what you would like to share; the reply will come in "
                "this chat, from “{label}”.", label=counsellor_label(ctx)),
        ]  # fmt: skip
    elif situation == "no_one_on_duty":
        lines = [
            t._("No counsellor is on duty right now. The point's counsellors have been told; leave your message "
                "here and one of them will answer when they can."),
            *talk_now(t, hotlines),
        ]  # fmt: skip
    else:
        assert opening is not None
        local = opening.astimezone(ctx.tz)
        hours = read_hours(point.hours).describe(t)
        lines = [
            t._("The counselling point is closed now (open {hours}).", hours=hours),
            t._("The counsellors will be told when it opens, at {time} on {date}. You can leave your message here "
                "now.", time=f"{local:%H:%M}", date=t.date(local.date())),
            *talk_now(t, hotlines),
        ]  # fmt: skip
    if not _explicit(ctx):
        lines += ["", t._("To keep things private, replies are announced as “You have a new message” — tap to read.")]
    return [OutboundMessage("\n".join(lines), buttons(ctx), typed_by=TypedBy.NAME)]


async def resume(ctx: Context, referral: Referral) -> Replies:
    _into(ctx, referral.id)
    text = ctx.t._("Your conversation with a counsellor is still open. Write here; the counsellor will read it.")
    return [OutboundMessage(text, buttons(ctx), typed_by=TypedBy.NAME)]


def _explicit(ctx: Context) -> bool:
    return ctx.participant is not None and ctx.participant.wording is Wording.EXPLICIT


async def talking(ctx: Context) -> Referral | None:
    """The person's open conversation, read from the database (never from the chat's state alone)."""
    if ctx.participant is None:
        return None
    return await ctx.repos.referrals.relay_of(ctx.participant.id)


async def forward(ctx: Context, referral: Referral, text: str) -> Replies:
    """What the person typed goes to the conversation; the chat stays quiet once a counsellor is in it."""
    _into(ctx, referral.id)
    await service.from_participant(ctx.repos, referral, text, ctx.clock.now())
    await ctx.audit("relay_sent", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    if referral.status == ReferralStatus.ACCEPTED:
        return [OutboundMessage(ctx.t._("✓ Sent."), buttons(ctx), typed_by=TypedBy.NAME)]
    text = ctx.t._("Kept for the counsellor: they will read it when they take your conversation.")
    return [OutboundMessage(text, buttons(ctx), typed_by=TypedBy.NAME)]


async def read(ctx: Context) -> Replies:
    """The latest messages of the person's conversation, theirs and the counsellor's."""
    referral = await talking(ctx)
    if referral is None:
        ended = await _last_ended(ctx)
        if ended is None:
            return [say(ctx.t._("This conversation has ended.")), *home.participant_home(ctx.t)]
        referral = ended
    _into(ctx, referral.id)
    lines = []
    today = ctx.today()
    for message in await ctx.repos.relay.of_referral(referral.id, limit=10):
        who = ctx.t._("You") if message.sender == "participant" else counsellor_label(ctx)
        local = message.sent_at.astimezone(ctx.tz)
        when = f"{local:%H:%M}" if local.date() == today else f"{local:%d/%m %H:%M}"
        lines.append(f"{who} ({when}): {message.body}")
    await ctx.audit("relay_read", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    if not referral.relaying:
        return [OutboundMessage("\n".join([*lines, "", ctx.t._("This conversation has ended.")]),
                                home.participant_home(ctx.t)[0].buttons)]  # fmt: skip
    return [OutboundMessage("\n".join(lines) or ctx.t._("No messages yet."), buttons(ctx), typed_by=TypedBy.NAME)]


async def _last_ended(ctx: Context) -> Referral | None:
    assert ctx.participant is not None
    recent = await ctx.repos.referrals.of_participant(ctx.participant.id, limit=1)
    return recent[0] if recent and recent[0].kind == "counselling" else None


def confirm_end(ctx: Context) -> Replies:
    """Ending is asked twice: on Zalo a "1" typed as an answer would otherwise end the conversation."""
    ctx.state.flow, ctx.state.step = FLOW, Steps.ENDING
    text = ctx.t._("End the conversation with the counsellor?")
    buttons = (Button(ctx.t._("Yes, end it"), Verbs.END_CONFIRMED), Button(ctx.t._("No, carry on"), Verbs.READ))
    return [OutboundMessage(text, buttons)]


async def end(ctx: Context) -> Replies:
    """The person ends it. A request nobody had taken yet is withdrawn; an urgent one stays with the counsellors
    (someone should still reach out after a crisis), only the chat ends."""
    ctx.leave()
    referral = await talking(ctx)
    if referral is None:
        return [say(ctx.t._("This conversation has ended.")), *home.participant_home(ctx.t)]
    now: datetime = ctx.clock.now()
    await ctx.repos.referrals.end_relay(referral.id, "participant", referral.participant_id)
    if referral.status == ReferralStatus.REQUESTED and referral.urgency != "urgent":
        await ctx.repos.referrals.withdraw(referral.id, referral.participant_id)
    await service.ended(ctx.repos, referral, "participant", now)
    await ctx.audit("relay_ended", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    text = ctx.t._("The conversation has ended. Whenever you need it, “Help / counselling” is in the menu.")
    return [say(text), *home.participant_home(ctx.t)]


class RelayFlow(Flow):
    """The person's side of a conversation with a counsellor: what they type goes to the counsellor."""

    name = FLOW
    audience = Audience.PARTICIPANT
    verbs = Verbs
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.END:
                return confirm_end(ctx)
            case Verbs.END_CONFIRMED:
                return await end(ctx)
        return await read(ctx)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        conversation = await talking(ctx)
        if conversation is None:  # the counsellor ended it meanwhile: say so, do not drop the words silently
            return over(ctx)
        return await forward(ctx, conversation, text)

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if menu:  # the menu asked for: its numbers are choices again (words still go on to the counsellor)
            ctx.leave()
            return None
        return await prompt(ctx)
