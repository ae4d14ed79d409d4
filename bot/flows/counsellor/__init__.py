"""The counsellor's desk: the referrals of their counselling point (urgent first), accept one (the others then see it
taken), keep a private note, close it with an outcome; and the duty switch.

A counsellor sees a person's name only if that person consented to referrals; otherwise their code. They never see
the person's record: no check-ins, results or notes.
"""

from __future__ import annotations

from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.db.repositories.referrals import Referral
from bot.domain.authz import Action
from bot.domain.entities import Participant, Role
from bot.domain.referrals import ReferralStatus
from bot.flows import staff, support
from bot.flows.common import audit_list, out_of_scope, say
from bot.flows.context import Context, Replies
from bot.flows.counsellor import pushed
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb, as_number
from bot.services import referrals as referral_service
from bot.services import relay as relay_service
from bot.services.referrals import NOTE_LIMIT, Took

FLOW = "counsel"


class Steps(Step):
    NOTE = "note"  # a private note about a referral, typed
    CHAT = "chat"  # in a conversation: what is typed goes to the person
    CONFIRM = "confirm"  # someone else wrote meanwhile: send the words kept to this person?
    ENDING = "ending"  # end the conversation? (a yes/no question)


IN_CONVERSATION = frozenset({Steps.CHAT, Steps.CONFIRM, Steps.ENDING})


class Verbs(Verb):
    LIST = "ref:list"
    OPEN = "ref:open"
    ACCEPT = "ref:ok"
    CLOSE = "ref:close"
    NOTE = "ref:note"
    CHAT = "ref:chat"
    END = "ref:end"
    END_CONFIRMED = "ref:endok"
    CANNED = "ref:canned"
    SEND = "ref:send"
    DUTY_ON = "ref:duty:on"
    DUTY_OFF = "ref:duty:off"
    CANCEL = "ref:cancel"


OUTCOMES: dict[str, str] = {
    "advised": N_("Advised"),
    "referred": N_("Referred onward"),
    "no_contact": N_("Could not make contact"),
    "declined": N_("Declined help"),
}
STATUS_NAMES: dict[str, str] = {
    ReferralStatus.REQUESTED: N_("waiting"),
    ReferralStatus.ACCEPTED: N_("taken"),
    ReferralStatus.CLOSED: N_("closed"),
}
KIND_NAMES: dict[str, str] = {"counselling": N_("counselling")}  # and the help flow's SUPPORT_KINDS, at call time


def menu_buttons(ctx: Context) -> list[Button]:
    assert ctx.staff is not None
    duty = (
        Button(ctx.t._("End my duty"), Verbs.DUTY_OFF)
        if ctx.staff.on_duty
        else Button(ctx.t._("Start my duty"), Verbs.DUTY_ON)
    )
    return [Button(ctx.t._("Referrals"), Verbs.LIST), duty]


async def who(ctx: Context, person: Participant) -> str:
    return await relay_service.name_for_counsellor(ctx.repos, ctx.t, person)


async def show_list(ctx: Context) -> Replies:
    assert ctx.staff is not None
    t = ctx.t
    ctx.leave()
    if not await ctx.allowed(Action.LIST_REFERRALS) or ctx.staff.point_id is None:
        return [say(t._("You are not attached to a counselling point yet. Please ask your administrator."))]
    referrals = await ctx.repos.referrals.open_for_point(ctx.staff.point_id)
    await audit_list(ctx, "referrals", len(referrals), point=True)
    if not referrals:
        return [OutboundMessage(t._("No open referrals right now."), (Button(t._("Back to menu"), staff.Verbs.HOME),))]
    lines = [t.n_("{n} open referral:", "{n} open referrals:", len(referrals))]
    buttons = []
    for referral in referrals[:10]:
        person = await ctx.repos.participants.get(referral.participant_id)
        name = await who(ctx, person) if person else "—"
        label = _summary(ctx, referral, name)
        lines.append(f"• {label}")
        buttons.append(Button(label, Verbs.OPEN(referral.id)))
    return [OutboundMessage("\n".join(lines), (*buttons, Button(t._("Back to menu"), staff.Verbs.HOME)))]


def _summary(ctx: Context, referral: Referral, name: str) -> str:
    t = ctx.t
    urgent = t._("URGENT") + " · " if referral.urgency == "urgent" else ""
    kind = t._(KIND_NAMES.get(referral.kind) or support.SUPPORT_KINDS.get(referral.kind, KIND_NAMES["counselling"]))
    return f"{urgent}{name} · {kind} · {t._(STATUS_NAMES.get(referral.status, STATUS_NAMES['requested']))}"


async def _in_scope(ctx: Context, referral_id: int | None) -> tuple[Referral, Participant] | None:
    """The referral, if it belongs to this counsellor's point and its person is in their commune — read now."""
    assert ctx.staff is not None
    referral = await ctx.repos.referrals.get(referral_id) if referral_id is not None else None
    if referral is None or referral.point_id is None or referral.point_id != ctx.staff.point_id:
        await ctx.audit("denied:handle_referral", "denied", detail={"reason": "not this point's referral"})
        return None
    person = await ctx.permitted(Action.HANDLE_REFERRAL, referral.participant_id)
    return (referral, person) if person is not None else None


async def open_referral(ctx: Context, referral_id: int | None) -> Replies:
    t = ctx.t
    # Looking at a card is not writing in a conversation: typed text after this goes nowhere until "Open the
    # conversation" (a reply meant for this person must not go to the conversation that was open before).
    ctx.leave()
    found = await _in_scope(ctx, referral_id)
    if found is None:
        return [out_of_scope(t), *await show_list(ctx)]
    referral, person = found
    await ctx.audit(
        "referral_viewed", subject_type="participant", subject_id=person.id, detail={"referral": referral.id}
    )
    lines = [
        _summary(ctx, referral, await who(ctx, person)),
        t._("Asked on {date}.", date=t.date(referral.created_at.astimezone(ctx.tz).date())),
    ]
    note = await ctx.repos.referrals.note_of(referral.id)
    if note:
        lines.append(t._("Your note: {note}", note=note[:500]))
    assert ctx.staff is not None
    buttons: list[Button] = []
    if referral.status == ReferralStatus.REQUESTED:
        buttons.append(Button(t._("I'll take it"), Verbs.ACCEPT(referral.id)))
    elif referral.status == ReferralStatus.ACCEPTED and referral.counsellor_id == ctx.staff.id:
        if referral.relaying:
            lines.append(t._("The conversation in the chat is open."))
            buttons += [Button(t._("Open the conversation"), Verbs.CHAT(referral.id)),
                        Button(t._("End the conversation"), Verbs.END(referral.id))]  # fmt: skip
        elif referral.kind == "counselling" and referral.relay_ended_at is not None:
            lines.append(t._("The conversation in the chat has ended. Close the referral with its outcome:"))
        buttons += [Button(t._(label), Verbs.CLOSE(referral.id, key)) for key, label in OUTCOMES.items()]
        buttons.append(Button(t._("Private note"), Verbs.NOTE(referral.id)))
    elif referral.status == ReferralStatus.ACCEPTED:
        lines.append(t._("Another counsellor has taken this referral."))
    buttons.append(Button(t._("Back to referrals"), Verbs.LIST))
    return [OutboundMessage("\n".join(lines), tuple(buttons))]


async def accept(ctx: Context, referral_id: int | None) -> Replies:
    assert ctx.staff is not None
    t = ctx.t
    found = await _in_scope(ctx, referral_id)
    if found is None:
        return [out_of_scope(t), *await show_list(ctx)]
    referral, person = found
    took = await referral_service.take(ctx.repos, referral, ctx.staff.id, ctx.clock.now())
    if took is Took.ALREADY:
        return [say(t._("Another counsellor has already taken this referral.")), *await show_list(ctx)]
    await ctx.audit(
        "referral_accepted", subject_type="participant", subject_id=person.id, detail={"referral": referral.id}
    )
    if took is Took.CONVERSATION:  # a crisis referral too: the counsellor can reach the person here
        return [say(t._("Taken. You can talk with the person here; they see you as “Counsellor”.")),
                *await chat(ctx, referral.id)]  # fmt: skip
    return [
        say(
            t._(
                "Taken. The person is told that a counsellor took it and that the point's details are in their "
                "“Help” menu. The assistant holds no phone number for them."
            )
        ),
        *await open_referral(ctx, referral.id),
    ]


async def close(ctx: Context, referral_id: int | None, outcome: str) -> Replies:
    assert ctx.staff is not None
    found = await _in_scope(ctx, referral_id)
    if found is None or outcome not in OUTCOMES:
        return [out_of_scope(ctx.t), *await show_list(ctx)]
    referral, person = found
    if not await referral_service.close(ctx.repos, referral, ctx.staff.id, outcome, ctx.clock.now()):
        return [say(ctx.t._("Only the counsellor who took it can close it.")), *await show_list(ctx)]
    await ctx.audit(
        "referral_closed",
        subject_type="participant",
        subject_id=person.id,
        detail={"referral": referral.id, "outcome": outcome},
    )
    return [say(ctx.t._("Closed: {outcome}.", outcome=ctx.t._(OUTCOMES[outcome]))), *await show_list(ctx)]


async def ask_note(ctx: Context, referral_id: int | None) -> Replies:
    found = await _in_scope(ctx, referral_id)
    if found is None:
        return [out_of_scope(ctx.t), *await show_list(ctx)]
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.NOTE, {"referral": found[0].id}
    return [prompt(ctx)]


def prompt(ctx: Context) -> OutboundMessage:
    if ctx.state.step in IN_CONVERSATION:
        text = ctx.t._("You are in a conversation: what you type is sent to the person as “Counsellor”.")
        return OutboundMessage(text, chat_buttons(ctx, ctx.state.data.get("referral", "")), typed_by=TypedBy.NAME)
    text = ctx.t._("Type your private note (only counsellors of this point can read it).")
    return OutboundMessage(text, (Button(ctx.t._("Cancel"), Verbs.CANCEL),))


async def typed(ctx: Context, text: str) -> Replies:
    if ctx.state.step in IN_CONVERSATION and text:
        return await send(ctx, text)
    if ctx.state.step != Steps.NOTE or not text:
        return await show_list(ctx)
    found = await _in_scope(ctx, as_number(ctx.state.data.get("referral", "")))
    ctx.leave()
    if found is None:
        return [out_of_scope(ctx.t)]
    referral, person = found
    await ctx.repos.referrals.add_note(referral.id, text[:NOTE_LIMIT])
    await ctx.audit(
        "referral_noted", subject_type="participant", subject_id=person.id, detail={"referral": referral.id}
    )
    return [say(ctx.t._("The note is saved.")), *await open_referral(ctx, referral.id)]


async def set_duty(ctx: Context, on_duty: bool) -> Replies:
    assert ctx.staff is not None
    if ctx.staff.role is not Role.COUNSELLOR:
        return [out_of_scope(ctx.t)]
    await ctx.repos.staff.set_duty(ctx.staff.id, on_duty)
    await ctx.audit("duty_changed", subject_type="staff", subject_id=ctx.staff.id, detail={"on_duty": on_duty})
    ctx.staff = await ctx.repos.staff.get(ctx.staff.id)
    text = ctx.t._("You are on duty: urgent referrals will reach you.") if on_duty else ctx.t._("You are off duty.")
    return [say(text)]


def in_chat(ctx: Context) -> bool:
    """Writing to a person: what is typed goes to them."""
    return ctx.state.flow == FLOW and ctx.state.step in IN_CONVERSATION


def chat_buttons(ctx: Context, referral_id: int) -> tuple[Button, ...]:
    """Ready replies name their conversation: a button under an older view still goes to the person it was for."""
    canned = [
        Button(reply.label_in(ctx.t.language), Verbs.CANNED(referral_id, reply.key)) for reply in ctx.policies.canned
    ]
    return (
        *canned,
        Button(ctx.t._("Back to referrals"), Verbs.LIST),
        Button(ctx.t._("End the conversation"), Verbs.END(referral_id)),  # last: a typed "1" is never the end
    )


async def _mine(ctx: Context, referral_id: int | None) -> tuple[Referral, Participant] | str:
    """The conversation, if this counsellor took it and it is still going on — read now, whatever the button says.
    Otherwise what to tell them: it has ended (not a denial), or it is not theirs (a denial, audited)."""
    assert ctx.staff is not None
    found = await _in_scope(ctx, referral_id)
    if found is None:
        return ctx.t._("This conversation is not open for you.")
    referral, person = found
    if referral.counsellor_id == ctx.staff.id and referral.relay_ended_at is not None:
        return ctx.t._("This conversation has ended.")
    if referral.counsellor_id != ctx.staff.id or not referral.relaying:
        reason = "not this counsellor's open conversation"
        await ctx.audit("denied:relay", "denied", subject_type="participant", subject_id=person.id,
                        detail={"referral": referral.id, "reason": reason})  # fmt: skip
        return ctx.t._("This conversation is not open for you.")
    return referral, person


async def _refused(ctx: Context, why: str) -> Replies:
    ctx.leave()
    return [say(why), *await show_list(ctx)]


async def chat(ctx: Context, referral_id: int | None) -> Replies:
    """Into the conversation: the messages so far (the latest 30, with dates), then what is typed goes to the person."""
    t = ctx.t
    found = await _mine(ctx, referral_id)
    if isinstance(found, str):
        return await _refused(ctx, found)
    referral, person = found
    ctx.state.flow, ctx.state.step = FLOW, Steps.CHAT
    ctx.state.data = {"referral": referral.id, "seen": ctx.clock.now().isoformat()}
    await ctx.audit("relay_opened", subject_type="participant", subject_id=person.id, detail={"referral": referral.id})
    name = await who(ctx, person)
    lines = [t._("Conversation with {who}:", who=name)]
    messages = await ctx.repos.relay.of_referral(referral.id, limit=HISTORY + 1)
    if len(messages) > HISTORY:
        messages = messages[1:]
        lines.append(t._("(earlier messages are not shown)"))
    for message in messages:
        speaker = name if message.sender == "participant" else t._("Counsellor")
        lines.append(f"{speaker} ({message.sent_at.astimezone(ctx.tz):%d/%m %H:%M}): {message.body}")
    if not messages:
        lines.append(t._("No messages yet."))
    lines += ["", t._("Type your reply, or choose a ready reply:")]
    return [OutboundMessage("\n".join(lines), chat_buttons(ctx, referral.id), typed_by=TypedBy.NAME)]


HISTORY = 30


async def send(ctx: Context, text: str, referral_id: int | None = None, checked: bool = False) -> Replies:
    """To the person of the conversation the counsellor is in (`referral_id`: a ready reply's, sent as it is). If
    someone else wrote to them since they last looked, the message waits for a confirmation naming the recipient: a
    reply meant for one person never reaches another."""
    assert ctx.staff is not None
    t = ctx.t
    target = referral_id if referral_id is not None else as_number(ctx.state.data.get("referral", ""))
    found = await _mine(ctx, target)
    if isinstance(found, str):
        return await _refused(ctx, found)
    referral, person = found
    name = await who(ctx, person)
    seen = str(ctx.state.data.get("seen", ""))
    if not checked and referral_id is None:
        others = await ctx.repos.relay.others_since(ctx.staff.id, referral.id, seen)
        if others:
            other_referral, other_id = others[0]
            other = await ctx.repos.participants.get(other_id)
            other_name = await who(ctx, other) if other else "—"
            ctx.state.step = Steps.CONFIRM
            ctx.state.data = {**ctx.state.data, "pending": text}
            question = t._("{other} has written to you meanwhile. Send this to {who}?", other=other_name, who=name)
            buttons = (
                Button(t._("Send to {who}", who=name), Verbs.SEND(referral.id)),
                Button(t._("Reply to {who}", who=other_name), Verbs.CHAT(other_referral)),
            )
            return [OutboundMessage(question, buttons)]
    await relay_service.from_counsellor(ctx.repos, referral, ctx.staff.id, text, ctx.clock.now())
    await ctx.audit("relay_sent", subject_type="participant", subject_id=person.id, detail={"referral": referral.id})
    ctx.state.flow, ctx.state.step = FLOW, Steps.CHAT
    ctx.state.data = {"referral": referral.id, "seen": ctx.clock.now().isoformat()}
    sent = t._("✓ Sent to {who}.", who=name)
    return [OutboundMessage(sent, chat_buttons(ctx, referral.id), typed_by=TypedBy.NAME)]


async def confirmed(ctx: Context, referral_id: int | None) -> Replies:
    """ "Send to …" after the warning: the words kept (sealed) in the state go to that conversation."""
    pending = ctx.state.data.get("pending")
    same = referral_id is not None and as_number(ctx.state.data.get("referral")) == referral_id
    if ctx.state.step != Steps.CONFIRM or not isinstance(pending, str) or not same:
        return await _refused(ctx, ctx.t._("This conversation is not open for you."))
    return await send(ctx, pending, checked=True)


async def canned(ctx: Context, referral_id: int | None, key: str) -> Replies:
    """A ready reply, in the person's language (not the counsellor's), to the conversation its button was shown in."""
    reply = next((r for r in ctx.policies.canned if r.key == key), None)
    found = await _mine(ctx, referral_id)
    if isinstance(found, str) or reply is None:
        return await _refused(
            ctx, found if isinstance(found, str) else ctx.t._("This conversation is not open for you.")
        )
    return await send(ctx, reply.text_in(found[1].language), referral_id=found[0].id)


async def ask_end(ctx: Context, referral_id: int | None) -> Replies:
    """Asked twice (on Zalo a typed number could otherwise end it); read against the record first."""
    found = await _mine(ctx, referral_id)
    if isinstance(found, str):
        return await _refused(ctx, found)
    ctx.state.flow, ctx.state.step = FLOW, Steps.ENDING  # a yes/no question: a typed number answers it
    ctx.state.data = {**ctx.state.data, "referral": found[0].id}
    text = ctx.t._("End the conversation? The person will be told.")
    buttons = (
        Button(ctx.t._("Yes, end it"), Verbs.END_CONFIRMED(found[0].id)),
        Button(ctx.t._("No, carry on"), Verbs.CHAT(found[0].id)),
    )
    return [OutboundMessage(text, buttons)]


async def end(ctx: Context, referral_id: int | None) -> Replies:
    found = await _mine(ctx, referral_id)
    if isinstance(found, str):
        return await _refused(ctx, found)
    ctx.leave()
    referral, person = found
    await ctx.repos.referrals.end_relay(referral.id, "staff", referral.counsellor_id)
    await relay_service.ended(ctx.repos, referral, "counsellor", ctx.clock.now())
    await ctx.audit("relay_ended", subject_type="participant", subject_id=person.id, detail={"referral": referral.id})
    return [say(ctx.t._("The conversation has ended; the person is told.")), *await open_referral(ctx, referral.id)]


class CounsellorFlow(Flow):
    """The counsellor's desk: the point's referrals, taking one, a conversation with the person through the bot,
    closing with an outcome, being on duty for crisis alerts."""

    name = FLOW
    audience = Audience.STAFF
    verbs = Verbs
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.DUTY_ON | Verbs.DUTY_OFF:
                return [*await set_duty(ctx, pressed.verb is Verbs.DUTY_ON), *staff.home(ctx)]
            case Verbs.OPEN:
                return await open_referral(ctx, pressed.number)
            case Verbs.ACCEPT:
                return await accept(ctx, pressed.number)
            case Verbs.CLOSE:
                return await close(ctx, *pressed.split())
            case Verbs.NOTE:
                return await ask_note(ctx, pressed.number)
            case Verbs.CHAT:
                return await chat(ctx, pressed.number)
            case Verbs.END:
                return await ask_end(ctx, pressed.number)
            case Verbs.END_CONFIRMED:
                return await end(ctx, pressed.number)
            case Verbs.CANNED:
                return await canned(ctx, *pressed.split())
            case Verbs.SEND:
                return await confirmed(ctx, pressed.number)
        return await show_list(ctx)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        return await typed(ctx, text)

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if menu and in_chat(ctx):
            ctx.leave()
            return None
        return [prompt(ctx)]
