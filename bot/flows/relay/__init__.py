"""The person's side of a conversation through the bot: with a counsellor, or with their own cadre.

Asking to talk opens (or resumes) the conversation; what they then type goes to the counsellor, shown to them as
"Tư vấn viên". A counsellor's reply reaches them through the outbox; with neutral wording (the default) the push only
says there is a reply and the words are shown after a tap, so nothing personal sits on a lock screen.

"Nhắn người đồng hành" (the menu) opens the same kind of conversation with the cadre who accompanies them, shown as
"Người đồng hành", never by name; the cadre's side is `cadre.py`. Without a cadre the assistant can reach, the person is
told whom to turn to instead (the commune's officer, through the help menu) and given the numbers to call now.
Buttons of a conversation with a cadre name it (its id, checked against the person's own records): with a counsellor
and a cadre both in conversation, "read" and "end" act on the one they were shown for.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.i18n import Translator
from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.db.repositories.referrals import Referral
from bot.domain.entities import CounsellingPoint, Wording
from bot.domain.opening import read as read_hours
from bot.domain.referrals import CADRE_CONVERSATION, ReferralStatus
from bot.flows import home, participant, support
from bot.flows.common import say
from bot.flows.context import HOME, Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb, as_number
from bot.flows.relay import pushed
from bot.services import relay as service
from bot.services.escalations import reachable

FLOW = "relay"


class Steps(Step):
    WRITING = ""  # in the conversation: what is typed goes to the counsellor
    ENDING = "end"  # end the conversation? (asked twice)


class Verbs(Verb):
    END = "relay:end"  # asks to confirm
    END_CONFIRMED = "relay:end:yes"
    READ = "relay:read"  # the counsellor's words, after a discreet push; or "carry on"


def buttons(ctx: Context, referral: Referral | None = None) -> tuple[Button, ...]:
    """A conversation with a cadre names itself on its buttons; a counsellor's keeps the actions it always had."""
    end = Verbs.END(referral.id) if referral is not None and _with_cadre(referral) else Verbs.END
    return (Button(ctx.t._("End the conversation"), end), Button(ctx.t._("Back to menu"), participant.Verbs.HOME))


def _with_cadre(referral: Referral) -> bool:
    return referral.kind == CADRE_CONVERSATION


def _into(ctx: Context, referral_id: int) -> None:
    """The chat is in this conversation: what the person types goes to it."""
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.WRITING, {"referral": referral_id}


def talk_now(t: Translator, hotlines: list[str]) -> list[str]:
    """The hotlines, after a blank line, wherever nobody can answer at once."""
    return ["", t._("If you need to talk to someone now:"), *hotlines]


def _crisis_lines(ctx: Context) -> list[str]:
    """The crisis hotlines of the directory, in the person's language."""
    return [hotline.line(ctx.t.language) for hotline in ctx.policies.hotlines if hotline.crisis]


def counsellor_label(ctx: Context) -> str:
    return ctx.t._("Counsellor")


def cadre_label(ctx: Context) -> str:
    """Who answers in a conversation with one's cadre, as the person reads it: the role, never a name."""
    return ctx.t._("Person accompanying you")


def other_side(ctx: Context, referral: Referral) -> str:
    return cadre_label(ctx) if _with_cadre(referral) else counsellor_label(ctx)


def menu_label(ctx: Context) -> str:
    """The main menu's button that opens a conversation with one's cadre (participant.Verbs.CADRE)."""
    return ctx.t._("Message the person accompanying you")


async def prompt(ctx: Context) -> Replies:
    """Where the person is, read from the database: still in the conversation, or it has ended meanwhile."""
    referral = await conversation(ctx)
    if referral is None:
        return await over(ctx)
    if _with_cadre(referral):
        text = ctx.t._("You are in a conversation with the person accompanying you: write here.")
    else:
        text = ctx.t._("You are in a conversation with a counsellor: write here.")
    return [OutboundMessage(text, buttons(ctx, referral), typed_by=TypedBy.NAME)]


async def over(ctx: Context) -> Replies:
    """The conversation the chat was in has ended meanwhile (by the other side, a reassignment, a move)."""
    named = await _named(ctx)
    ctx.leave()
    if named is not None and _with_cadre(named):
        text = ctx.t._("This conversation has ended. Whenever you need to, “{label}” is in the menu.",
                       label=menu_label(ctx))  # fmt: skip
    else:
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
    """The person's open conversation with a counsellor, read from the database (never from the chat's state alone)."""
    if ctx.participant is None:
        return None
    return await ctx.repos.referrals.relay_of(ctx.participant.id)


async def _own(ctx: Context, referral_id: object) -> Referral | None:
    """A conversation of this person's, whatever its state (an id from a button or the chat's state is only a
    pointer: the record says whose it is)."""
    rid = as_number(referral_id)
    referral = await ctx.repos.referrals.get(rid) if rid is not None and ctx.participant is not None else None
    if referral is None or ctx.participant is None or referral.participant_id != ctx.participant.id:
        return None
    return referral if referral.kind in ("counselling", CADRE_CONVERSATION) else None


async def _named(ctx: Context) -> Referral | None:
    """The conversation the chat's state names, ended or not."""
    return await _own(ctx, ctx.state.data.get("referral")) if ctx.state.flow == FLOW else None


async def conversation(ctx: Context, referral_id: int | None = None) -> Referral | None:
    """Where the person's words go, read from the database: the conversation a button names (`referral_id`), else the
    one the chat is in, else their newest one going on (a counsellor's or their cadre's). None when that one has
    ended: words meant for one conversation never slip into another."""
    if ctx.participant is None:
        return None
    if referral_id is not None or (ctx.state.flow == FLOW and "referral" in ctx.state.data):
        named = await _own(ctx, referral_id if referral_id is not None else ctx.state.data.get("referral"))
        return named if named is not None and named.relaying else None
    newest = await ctx.repos.relay.newest_open(ctx.participant.id)
    return await _own(ctx, newest) if newest is not None else None


async def _cadre_still_answers(ctx: Context, referral: Referral) -> bool:
    """A conversation with a cadre holds only while that cadre accompanies the person and their account is open (the
    records, read now). Otherwise it ends here, without a push: the person is told in this reply."""
    assert ctx.participant is not None
    cadre = await ctx.repos.staff.get(referral.counsellor_id) if referral.counsellor_id is not None else None
    if service.with_current_cadre(ctx.participant, referral) and cadre is not None and cadre.active:
        return True
    await ctx.repos.relay.end_with_cadre(referral.id, "system", None)
    await ctx.audit("relay_ended", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id, "reason": "cadre_changed"})  # fmt: skip
    return False


def _cadre_changed(ctx: Context) -> Replies:
    ctx.leave()
    text = ctx.t._("The person accompanying you has changed, so this conversation has ended. Whenever you need to, "
                   "“{label}” is in the menu.", label=menu_label(ctx))  # fmt: skip
    return [say(text), *home.participant_home(ctx.t)]


async def forward(ctx: Context, referral: Referral, text: str) -> Replies:
    """What the person typed goes to the conversation; the chat stays quiet once a counsellor is in it."""
    if _with_cadre(referral):
        return await _to_cadre(ctx, referral, text)
    _into(ctx, referral.id)
    await service.from_participant(ctx.repos, referral, text, ctx.clock.now())
    await ctx.audit("relay_sent", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    if referral.status == ReferralStatus.ACCEPTED:
        return [OutboundMessage(ctx.t._("✓ Sent."), buttons(ctx), typed_by=TypedBy.NAME)]
    text = ctx.t._("Kept for the counsellor: they will read it when they take your conversation.")
    return [OutboundMessage(text, buttons(ctx), typed_by=TypedBy.NAME)]


async def _to_cadre(ctx: Context, referral: Referral, text: str) -> Replies:
    """To the cadre, while they still accompany the person; said honestly when the assistant cannot reach them."""
    if not await _cadre_still_answers(ctx, referral):
        return _cadre_changed(ctx)
    _into(ctx, referral.id)
    await service.from_participant(ctx.repos, referral, text, ctx.clock.now())
    await ctx.audit("relay_sent", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    assert referral.counsellor_id is not None
    if await reachable(ctx.repos, [referral.counsellor_id]):
        sent = ctx.t._("✓ Sent to the person accompanying you.")
    else:
        sent = ctx.t._("Kept for the person accompanying you, but the assistant cannot reach them right now. If it "
                       "is urgent, “{help}” in the menu has the numbers to call.",
                       help=ctx.t._("Help / counselling"))  # fmt: skip
    return [OutboundMessage(sent, buttons(ctx, referral), typed_by=TypedBy.NAME)]


async def to_cadre(ctx: Context) -> Replies:
    """ "Nhắn người đồng hành": the conversation with the cadre who accompanies the person, going on or new. Nobody
    the assistant can reach: whom to turn to instead, and the numbers to call now — never a dead end."""
    person = ctx.participant
    assert person is not None
    cadre = await service.cadre_to_write(ctx.repos, person)
    if cadre is None:  # an account closed since counts as nobody: the officers are finding them a new cadre
        assigned = await ctx.repos.staff.get(person.cadre_id) if person.cadre_id is not None else None
        reason = "cadre_unreachable" if assigned is not None and assigned.active else "no_cadre"
        await ctx.audit("cadre_chat_unavailable", subject_type="participant", subject_id=person.id,
                        detail={"reason": reason})  # fmt: skip
        return [_no_cadre(ctx, reason)]
    referral_id, new = await service.open_with_cadre(ctx.repos, person, cadre.id)
    referral = await ctx.repos.referrals.get(referral_id)
    assert referral is not None
    _into(ctx, referral.id)
    await ctx.audit("cadre_chat_opened", subject_type="participant", subject_id=person.id,
                    detail={"referral": referral.id, "new": new})  # fmt: skip
    t = ctx.t
    if not new:
        text = t._("Your conversation with the person accompanying you is still open. Write here; they will read it.")
        return [OutboundMessage(text, buttons(ctx, referral), typed_by=TypedBy.NAME)]
    lines = [
        t._("You are writing to the person accompanying you. Write here what you would like to tell them: they read "
            "messages during the day and will answer when they can, in this chat, as “{label}”.",
            label=cadre_label(ctx)),
        *talk_now(t, _crisis_lines(ctx)),
    ]  # fmt: skip
    if not _explicit(ctx):
        lines += ["", t._("To keep things private, replies are announced as “You have a new message” — tap to read.")]
    return [OutboundMessage("\n".join(lines), buttons(ctx, referral), typed_by=TypedBy.NAME)]


def _no_cadre(ctx: Context, reason: str) -> OutboundMessage:
    t = ctx.t
    if reason == "no_cadre":
        first = t._("Nobody has been assigned to accompany you yet, so there is no one to write to here.")
    else:
        first = t._("The person accompanying you cannot receive messages through the assistant yet, so a message "
                    "here would not reach them.")  # fmt: skip
    lines = [
        first,
        t._("Meanwhile your commune's officer can help you: choose “{help}”, then “{ask}” to send them a request.",
            help=t._("Help / counselling"), ask=t._("Ask for support (training, a job, …)")),
        *talk_now(t, _crisis_lines(ctx)),
    ]  # fmt: skip
    choices = (
        Button(t._("Help / counselling"), support.Verbs.MENU),
        Button(t._("Back to menu"), participant.Verbs.HOME),
    )
    return OutboundMessage("\n".join(lines), choices)


async def crisis_words(ctx: Context, text: str) -> None:
    """Crisis words typed to one's cadre reach the cadre too (the crisis net has answered them and alerted the
    counsellors and the cadre): where they would have gone — the conversation the chat is in, or at the menu the
    newest one going on — if that is a conversation with a cadre who still accompanies the person."""
    if ctx.participant is None:
        return
    if ctx.state.flow != FLOW and (ctx.state.flow != HOME or ctx.state.step):
        return  # in another flow (a check-in…): the words were not for the conversation
    referral = await conversation(ctx)
    if referral is None or not _with_cadre(referral) or not await _cadre_still_answers(ctx, referral):
        return
    await service.from_participant(ctx.repos, referral, text, ctx.clock.now(), urgent=True)
    await ctx.audit("relay_sent", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id, "crisis": True})  # fmt: skip


async def read(ctx: Context, referral_id: int | None = None) -> Replies:
    """The latest messages of the person's conversation, theirs and the other side's (`referral_id`: the one the
    button was shown for, ended or not)."""
    if referral_id is not None:
        referral = await _own(ctx, referral_id)
        if referral is None:
            return [say(ctx.t._("This conversation has ended.")), *home.participant_home(ctx.t)]
    else:
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
        who = ctx.t._("You") if message.sender == "participant" else other_side(ctx, referral)
        local = message.sent_at.astimezone(ctx.tz)
        when = f"{local:%H:%M}" if local.date() == today else f"{local:%d/%m %H:%M}"
        lines.append(f"{who} ({when}): {message.body}")
    await ctx.audit("relay_read", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    if not referral.relaying:
        return [OutboundMessage("\n".join([*lines, "", ctx.t._("This conversation has ended.")]),
                                home.participant_home(ctx.t)[0].buttons)]  # fmt: skip
    return [
        OutboundMessage("\n".join(lines) or ctx.t._("No messages yet."), buttons(ctx, referral), typed_by=TypedBy.NAME)
    ]


async def _last_ended(ctx: Context) -> Referral | None:
    assert ctx.participant is not None
    recent = await ctx.repos.referrals.of_participant(ctx.participant.id, limit=1)
    return recent[0] if recent and recent[0].kind == "counselling" else None


async def confirm_end(ctx: Context, referral_id: int | None = None) -> Replies:
    """Ending is asked twice: on Zalo a "1" typed as an answer would otherwise end the conversation."""
    if referral_id is not None:  # a conversation with a cadre, named by its button
        referral = await conversation(ctx, referral_id)
        if referral is None or not _with_cadre(referral):
            return [say(ctx.t._("This conversation has ended.")), *home.participant_home(ctx.t)]
        ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.ENDING, {"referral": referral.id}
        text = ctx.t._("End the conversation with the person accompanying you?")
        choices = (
            Button(ctx.t._("Yes, end it"), Verbs.END_CONFIRMED(referral.id)),
            Button(ctx.t._("No, carry on"), Verbs.READ(referral.id)),
        )
        return [OutboundMessage(text, choices)]
    ctx.state.flow, ctx.state.step = FLOW, Steps.ENDING
    text = ctx.t._("End the conversation with the counsellor?")
    buttons = (Button(ctx.t._("Yes, end it"), Verbs.END_CONFIRMED), Button(ctx.t._("No, carry on"), Verbs.READ))
    return [OutboundMessage(text, buttons)]


async def _end_with_cadre(ctx: Context, referral_id: int) -> Replies:
    """The person ends their conversation with their cadre; the cadre is told."""
    ctx.leave()
    referral = await conversation(ctx, referral_id)
    ended = referral is not None and await service.end_with_cadre(
        ctx.repos, referral.id, "participant", ("participant", referral.participant_id)
    )
    if referral is None or not ended:
        return [say(ctx.t._("This conversation has ended.")), *home.participant_home(ctx.t)]
    await ctx.audit("relay_ended", subject_type="participant", subject_id=referral.participant_id,
                    detail={"referral": referral.id})  # fmt: skip
    text = ctx.t._("The conversation with the person accompanying you has ended. Whenever you need to, “{label}” is "
                   "in the menu.", label=menu_label(ctx))  # fmt: skip
    return [say(text), *home.participant_home(ctx.t)]


async def end(ctx: Context, referral_id: int | None = None) -> Replies:
    """The person ends it. A request nobody had taken yet is withdrawn; an urgent one stays with the counsellors
    (someone should still reach out after a crisis), only the chat ends."""
    if referral_id is not None:
        return await _end_with_cadre(ctx, referral_id)
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
        arg = pressed.number if pressed.arg else None  # a mangled argument reads as no conversation at all
        if pressed.arg and arg is None:
            return [say(ctx.t._("This conversation has ended.")), *home.participant_home(ctx.t)]
        match pressed.verb:
            case Verbs.END:
                return await confirm_end(ctx, arg)
            case Verbs.END_CONFIRMED:
                return await end(ctx, arg)
        return await read(ctx, arg)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        going_on = await conversation(ctx)
        if going_on is None:  # the other side ended it meanwhile: say so, do not drop the words silently
            return await over(ctx)
        return await forward(ctx, going_on, text)

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if menu:  # the menu asked for: its numbers are choices again (words still go on to the counsellor)
            ctx.leave()
            return None
        return await prompt(ctx)
