"""The cadre's side of a person's conversation with them ("Nhắn người đồng hành"): the person's words arrive as a
push, "Trả lời" opens the conversation (the latest messages, with dates), and what the cadre then types goes to the
person, who reads it from "Người đồng hành". Either side ends it.

Every step reads the records now, whatever a button or the chat's state says: the conversation must be one with a
cadre, opened with this cadre, still going on, and the authorisation table must let this cadre answer this person
(MESSAGE_PARTICIPANT: the cadre assigned to them now). A reassigned cadre, another cadre, an officer or a forged id get
one refusal, audited. As at the counsellor's desk, a reply typed after another person wrote meanwhile waits for a
confirmation that names its recipient.
"""

from __future__ import annotations

from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.db.repositories.referrals import Referral
from bot.domain.authz import Action
from bot.domain.entities import FOLLOWED, Participant
from bot.domain.planning import MessageKind
from bot.domain.referrals import CADRE_CONVERSATION
from bot.flows import caseload
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb, as_number
from bot.flows.pushing import WRONG_RECIPIENT, Push, Rendered, Skip, may
from bot.services import relay as service

FLOW = "cadre_chat"
HISTORY = 30  # messages shown when the conversation is opened


class Steps(Step):
    CHAT = "chat"  # what is typed goes to the person
    CONFIRM = "confirm"  # someone else wrote meanwhile: send the words kept to this person?
    ENDING = "ending"  # end the conversation? (a yes/no question)


class Verbs(Verb):
    OPEN = "cchat:open"  # :referral — into the conversation
    SEND = "cchat:send"  # :referral — the words kept, after the warning
    END = "cchat:end"  # :referral — asks to confirm
    END_CONFIRMED = "cchat:endok"  # :referral


def _not_open(ctx: Context) -> str:
    return ctx.t._("This conversation is not open for you.")


async def _mine(ctx: Context, referral_id: int | None) -> tuple[Referral, Participant] | str:
    """The conversation and its person, if this cadre may answer in it now; otherwise what to tell them (it has
    ended: not a denial; anything else: a denial, audited)."""
    assert ctx.staff is not None
    referral = await ctx.repos.referrals.get(referral_id) if referral_id is not None else None
    if referral is None or referral.kind != CADRE_CONVERSATION:
        await ctx.audit("denied:message_participant", "denied", detail={"reason": "no such conversation"})
        return _not_open(ctx)
    person = await ctx.permitted(Action.MESSAGE_PARTICIPANT, referral.participant_id)  # a denial is audited there
    if person is None:
        return _not_open(ctx)
    if referral.counsellor_id != ctx.staff.id:
        await ctx.audit("denied:message_participant", "denied", subject_type="participant", subject_id=person.id,
                        detail={"referral": referral.id, "reason": "another cadre's conversation"})  # fmt: skip
        return _not_open(ctx)
    if not referral.relaying or person.status not in FOLLOWED:  # ended, or the person has left the list
        return ctx.t._("This conversation has ended.")
    return referral, person


async def _refused(ctx: Context, why: str) -> Replies:
    ctx.leave()
    return [say(why), *await caseload.show_list(ctx)]


def _chat_buttons(ctx: Context, referral: Referral) -> tuple[Button, ...]:
    return (
        Button(ctx.t._("Open their card"), caseload.Verbs.OPEN(referral.participant_id)),
        Button(ctx.t._("Back to the list"), caseload.Verbs.LIST),
        Button(ctx.t._("End the conversation"), Verbs.END(referral.id)),  # last: a typed "1" is never the end
    )


def _into(ctx: Context, referral: Referral) -> None:
    ctx.state.flow, ctx.state.step = FLOW, Steps.CHAT
    ctx.state.data = {"referral": referral.id, "seen": ctx.clock.now().isoformat()}


async def chat(ctx: Context, referral_id: int | None) -> Replies:
    """Into the conversation: the latest messages with dates, then what is typed goes to the person."""
    t = ctx.t
    found = await _mine(ctx, referral_id)
    if isinstance(found, str):
        return await _refused(ctx, found)
    referral, person = found
    _into(ctx, referral)
    await ctx.audit("relay_opened", subject_type="participant", subject_id=person.id, detail={"referral": referral.id})
    name = caseload.label(person)
    lines = [t._("Conversation with {who}:", who=name)]
    messages = await ctx.repos.relay.of_referral(referral.id, limit=HISTORY + 1)
    if len(messages) > HISTORY:
        messages = messages[1:]
        lines.append(t._("(earlier messages are not shown)"))
    for message in messages:
        speaker = name if message.sender == "participant" else t._("Me")
        lines.append(f"{speaker} ({message.sent_at.astimezone(ctx.tz):%d/%m %H:%M}): {message.body}")
    if not messages:
        lines.append(t._("No messages yet."))
    lines += ["", t._("Type your reply here. They see you as “{label}”.", label=t._("Person accompanying you"))]
    return [OutboundMessage("\n".join(lines), _chat_buttons(ctx, referral), typed_by=TypedBy.NAME)]


async def send(ctx: Context, text: str, checked: bool = False) -> Replies:
    """To the person of the conversation the cadre is in. If another person wrote to them since they last looked,
    the words wait for a confirmation naming the recipient: a reply meant for one person never reaches another."""
    assert ctx.staff is not None
    t = ctx.t
    found = await _mine(ctx, as_number(ctx.state.data.get("referral", "")))
    if isinstance(found, str):
        return await _refused(ctx, found)
    referral, person = found
    name = caseload.label(person)
    if not checked:
        seen = str(ctx.state.data.get("seen", ""))
        others = await ctx.repos.relay.others_since(ctx.staff.id, referral.id, seen)
        if others:
            other_referral, other_id = others[0]
            other = await ctx.repos.participants.get(other_id)
            other_name = caseload.label(other) if other else "—"
            ctx.state.step = Steps.CONFIRM
            ctx.state.data = {**ctx.state.data, "pending": text}
            question = t._("{other} has written to you meanwhile. Send this to {who}?", other=other_name, who=name)
            choices = (
                Button(t._("Send to {who}", who=name), Verbs.SEND(referral.id)),
                Button(t._("Reply to {who}", who=other_name), Verbs.OPEN(other_referral)),
            )
            return [OutboundMessage(question, choices)]
    await service.from_counsellor(ctx.repos, referral, ctx.staff.id, text, ctx.clock.now())
    await ctx.audit("relay_sent", subject_type="participant", subject_id=person.id, detail={"referral": referral.id})
    _into(ctx, referral)
    return [OutboundMessage(t._("✓ Sent to {who}.", who=name), _chat_buttons(ctx, referral), typed_by=TypedBy.NAME)]


async def confirmed(ctx: Context, referral_id: int | None) -> Replies:
    """ "Send to …" after the warning: the words kept (sealed) in the state go to that conversation, only if it is
    the one the warning was about."""
    pending = ctx.state.data.get("pending")
    same = referral_id is not None and as_number(ctx.state.data.get("referral")) == referral_id
    if ctx.state.flow != FLOW or ctx.state.step != Steps.CONFIRM or not isinstance(pending, str) or not same:
        return await _refused(ctx, _not_open(ctx))
    return await send(ctx, pending, checked=True)


async def ask_end(ctx: Context, referral_id: int | None) -> Replies:
    """Asked twice (on Zalo a typed number could otherwise end it); read against the record first."""
    found = await _mine(ctx, referral_id)
    if isinstance(found, str):
        return await _refused(ctx, found)
    referral = found[0]
    ctx.state.flow, ctx.state.step = FLOW, Steps.ENDING
    ctx.state.data = {**ctx.state.data, "referral": referral.id}
    choices = (
        Button(ctx.t._("Yes, end it"), Verbs.END_CONFIRMED(referral.id)),
        Button(ctx.t._("No, carry on"), Verbs.OPEN(referral.id)),
    )
    return [OutboundMessage(ctx.t._("End the conversation? The person will be told."), choices)]


async def end(ctx: Context, referral_id: int | None) -> Replies:
    assert ctx.staff is not None
    found = await _mine(ctx, referral_id)
    if isinstance(found, str):
        return await _refused(ctx, found)
    ctx.leave()
    referral, person = found
    if not await service.end_with_cadre(ctx.repos, referral.id, "cadre", ("staff", ctx.staff.id)):
        return await _refused(ctx, ctx.t._("This conversation has ended."))  # the person ended it a moment before
    await ctx.audit("relay_ended", subject_type="participant", subject_id=person.id, detail={"referral": referral.id})
    return [say(ctx.t._("The conversation has ended; the person is told.")), *await caseload.card(ctx, person.id)]


async def on_card(ctx: Context, person: Participant) -> tuple[str, Button] | None:
    """For the person's card, shown to the cadre who may answer them: the conversation going on, and its button."""
    if ctx.staff is None or person.cadre_id != ctx.staff.id:
        return None
    for referral_id, _, cadre_id in await ctx.repos.relay.open_with_cadres(participant_id=person.id):
        if cadre_id == ctx.staff.id:
            line = ctx.t._("💬 They are writing to you through the assistant.")
            return line, Button(ctx.t._("Open the conversation"), Verbs.OPEN(referral_id))
    return None


async def pushed_to_cadre(push: Push, referral: Referral) -> Rendered:
    """RELAY and RELAY_ENDED to the cadre (the relay flow owns the kinds): only while the conversation is theirs and
    the person is still theirs to answer (the authorisation table, asked now); the words only if they belong to this
    very conversation and were written by the person."""
    member, repos, t, item = push.member, push.repos, push.t, push.item
    if member is None:
        return WRONG_RECIPIENT
    if referral.counsellor_id != member.id:
        return Skip("mismatch")
    person = await repos.participants.get(referral.participant_id)
    if person is None:
        return Skip("no_person")
    if not await may(push, Action.MESSAGE_PARTICIPANT, person.id, person.unit_id, person.cadre_id):
        return Skip("not_in_scope")  # reassigned or moved since it was queued: never to the old cadre
    named = caseload.label(person)
    if item.kind is MessageKind.RELAY_ENDED:
        card = Button(t._("Open their card"), caseload.Verbs.OPEN(person.id))
        return OutboundMessage(t._("{who} has ended the conversation with you.", who=named), (card,))
    message = await repos.relay.get(int(item.payload.get("relay_id", 0)))
    if message is None:
        return Skip("purged")
    if message.referral_id != referral.id or message.participant_id != person.id or message.sender != "participant":
        return Skip("mismatch")
    if referral.relay_ended_at is not None and message.sent_at > referral.relay_ended_at:
        return Skip("ended")  # never happens by the handlers; a last word before the end is still delivered
    reply = Button(t._("Reply"), Verbs.OPEN(referral.id))
    return OutboundMessage("\n".join([t._("💬 New message:"), f"{named}: {message.body}"]), (reply,),
                           typed_by=TypedBy.NAME)  # fmt: skip


class CadreChatFlow(Flow):
    """The cadre's side of a person's conversation with them through the bot."""

    name = FLOW
    audience = Audience.STAFF
    verbs = Verbs

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.SEND:
                return await confirmed(ctx, pressed.number)
            case Verbs.END:
                return await ask_end(ctx, pressed.number)
            case Verbs.END_CONFIRMED:
                return await end(ctx, pressed.number)
        return await chat(ctx, pressed.number)

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        if text:  # in the conversation, or asked whether to end it: words for the person
            return await send(ctx, text)
        return None

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if menu:  # the menu asked for: nothing half-written is lost (the conversation stays open)
            ctx.leave()
            return None
        found = await _mine(ctx, as_number(ctx.state.data.get("referral", "")))
        if isinstance(found, str):
            return await _refused(ctx, found)
        referral, person = found
        text = ctx.t._("You are in a conversation with {who}: what you type is sent to them, from “{label}”.",
                       who=caseload.label(person), label=ctx.t._("Person accompanying you"))  # fmt: skip
        return [OutboundMessage(text, _chat_buttons(ctx, referral), typed_by=TypedBy.NAME)]
