"""“Dữ liệu của tôi”: a person's own data (Law 91/2025/QH15, Decree 356/2025), from *My information*.

- What is kept about me: the categories, who can see each, how long they are kept, my consents now.
- A copy of my data: a request the commune's officer approves (bot/services/data_requests.py); the copy then comes
  in this chat (bot/flows/mydata/pushed.py: a PDF and the JSON on Telegram, a one-time link elsewhere).
- A correction: the person types what is wrong; it goes to the officer, who corrects the record or says why not.
- Withdrawing a consent: its effects in plain words first (what stops, what the commune still keeps and why).

Only a linked participant reaches any of it, and only their own record (every step asks the authorisation table);
a staff chat has no such menu. Everything is audited (the service), never a correction's words.
"""

from __future__ import annotations

from bot.core.channel_names import TAKES_FILES
from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.domain.authz import Action
from bot.domain.consent import PURPOSE_ORDER, REQUIRED_PURPOSES, Purpose
from bot.domain.data_requests import MAX_CORRECTION, RequestKind
from bot.flows import participant, support
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb
from bot.flows.mydata import pushed
from bot.services import data_requests

FLOW = "mydata"


class Verbs(Verb):
    MENU = "mydata:menu"
    KEPT = "mydata:kept"  # what is kept about me
    COPY = "mydata:copy"  # ask for a copy (then confirm)
    SEND = "mydata:send"  # yes, send my request for a copy
    FIX = "mydata:fix"  # ask for a correction (then typed)
    WITHDRAW = "mydata:withdraw"  # which consent to withdraw
    EFFECTS = "mydata:effects"  # what withdrawing this one means (then confirm)
    CONFIRM = "mydata:confirm"  # yes, withdraw it


class Steps(Step):
    FIX = "fix"  # typed words are what is wrong


# Who sees what, and why: one line per category, in the person's words.
CATEGORIES: tuple[str, ...] = (
    N_("Your register entry (name, national ID number, address, phone, the decision and your term): the person "
       "accompanying you, your commune's officers and the province's administrators."),
    N_("Your monthly check-ins: whether you did them is seen by the person accompanying you and your commune's "
       "officers; your answers only by the person accompanying you, and only if you agreed to share them."),
    N_("In-person checks, test results, notes and quarterly reviews written by the person accompanying you: they, "
       "your commune's officers and the province's administrators."),
    N_("Requests for help and conversations with counsellors: the counsellors of your counselling point (and the "
       "person accompanying you for your messages to them)."),
    N_("Your linked chats (Telegram or Zalo): only which app; the account number is kept encrypted."),
    N_("Your consents and your requests about your data: your commune's officers."),
)  # fmt: skip

# What withdrawing each consent stops, and what the commune still keeps (and why), in plain words.
EFFECTS: dict[Purpose, str] = {
    Purpose.REMINDERS: N_(
        "If you withdraw this, I will stop sending you reminders and this chat will be unlinked: you will not be able "
        "to check in by chat. Your commune still keeps your register entry and what was recorded so far, because the "
        "law requires it to manage your term; the person accompanying you will meet you in person."
    ),
    Purpose.SHARE_WITH_CADRE: N_(
        "If you withdraw this, the person accompanying you will no longer see your check-in answers, only whether "
        "you checked in. Reminders and check-ins continue. Answers already given stay on your record, because they "
        "are part of your term's file."
    ),
    Purpose.REFERRALS: N_(
        "If you withdraw this, I will not pass your requests to a counsellor. Hotline numbers are still shown to "
        "you whenever you ask for help. Requests already made stay on your record."
    ),
}


def _back(ctx: Context) -> tuple[Button, ...]:
    return (Button(ctx.t._("Back to menu"), participant.Verbs.HOME),)


async def _own(ctx: Context, action: Action) -> bool:
    """Only a linked participant, on their own record (a staff chat or a forged press is refused, audited)."""
    if ctx.participant is None:
        return False
    return await ctx.allowed(action, await ctx.own_scope())


async def menu(ctx: Context) -> Replies:
    if not await _own(ctx, Action.VIEW_OWN_DATA):
        return participant.home(ctx)
    t = ctx.t
    text = "\n".join([
        t._("My data. You have the right to know what is kept about you, to get a copy, to ask for a correction "
            "and to withdraw a consent."),
        t._("What would you like to do?"),
    ])  # fmt: skip
    buttons = (
        Button(t._("What is kept about me"), Verbs.KEPT),
        Button(t._("Get a copy of my data"), Verbs.COPY),
        Button(t._("Ask for a correction"), Verbs.FIX),
        Button(t._("Withdraw a consent"), Verbs.WITHDRAW),
        *_back(ctx),
    )
    return [OutboundMessage(text, buttons)]


async def kept(ctx: Context) -> Replies:
    if not await _own(ctx, Action.VIEW_OWN_DATA):
        return participant.home(ctx)
    assert ctx.participant is not None
    t = ctx.t
    current = await ctx.repos.consents.current(ctx.participant.id)
    history = await ctx.repos.consents.history(ctx.participant.id)
    when = {row.purpose: row.recorded_at for row in history}
    await ctx.audit("participant_viewed", subject_type="participant", subject_id=ctx.participant.id,
                    detail={"view": "own_data"})  # fmt: skip
    lines = [t._("What is kept about you, and who can see it:"), *(f"• {t._(line)}" for line in CATEGORIES)]
    lines += [
        "",
        t.n_("How long: while you are on the list, and {n} day after you leave it (completed, moved out of the "
             "province or removed). Then it is erased or made anonymous.",
             "How long: while you are on the list, and {n} days after you leave it (completed, moved out of the "
             "province or removed). Then it is erased or made anonymous.", ctx.policies.retention_days),
        "",
        t._("Your consents now:"),
    ]  # fmt: skip
    for purpose in PURPOSE_ORDER:
        label = t._(participant.PURPOSE_LABELS[purpose])
        at = when.get(purpose.value)
        if purpose not in current or at is None:
            lines.append(t._("• {item}: not answered", item=label))
        elif current[purpose]:
            lines.append(t._("• {item}: agreed on {date}", item=label, date=t.date(at.astimezone(ctx.tz).date())))
        else:
            lines.append(t._("• {item}: withdrawn on {date}", item=label, date=t.date(at.astimezone(ctx.tz).date())))
    return [OutboundMessage("\n".join(lines), (Button(t._("My data"), Verbs.MENU), *_back(ctx)))]


def _how_delivered(ctx: Context) -> str:
    if ctx.msg.channel in TAKES_FILES:
        return ctx.t._("Once approved, the copy comes in this chat: a PDF you can read and a JSON file.")
    return ctx.t._("Once approved, a one-time link to download the copy (a PDF you can read and a JSON file) comes "
                   "in this chat.")  # fmt: skip


async def ask_copy(ctx: Context) -> Replies:
    if not await _own(ctx, Action.REQUEST_OWN_DATA):
        return participant.home(ctx)
    t = ctx.t
    text = "\n".join([
        t.n_("Your commune's officer checks the request and decides within {n} day.",
             "Your commune's officer checks the request and decides within {n} days.", ctx.policies.data_request_days),
        _how_delivered(ctx),
        t._("Send the request?"),
    ])  # fmt: skip
    return [OutboundMessage(text, (Button(t._("Yes, send it"), Verbs.SEND), Button(t._("My data"), Verbs.MENU)))]


async def send_copy(ctx: Context) -> Replies:
    if not await _own(ctx, Action.REQUEST_OWN_DATA):
        return participant.home(ctx)
    assert ctx.participant is not None
    t = ctx.t
    made = await data_requests.ask(
        ctx.repos, ctx.participant, RequestKind.COPY, ctx.clock.now(), ctx.policies.data_request_days,
        channel=ctx.msg.channel,
    )  # fmt: skip
    due = t.date(made.request.due_at.astimezone(ctx.tz).date())
    if not made.new:
        done = t._("Your request for a copy is already with your commune's officer (the answer is due by {date}).",
                   date=due)  # fmt: skip
    else:
        done = t._("Sent. Your commune's officer will answer by {date}; I will tell you here.", date=due)
    return [say(done), *participant.home(ctx)]


async def ask_fix(ctx: Context) -> Replies:
    if not await _own(ctx, Action.REQUEST_OWN_DATA):
        return participant.home(ctx)
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.FIX.value, {}
    t = ctx.t
    text = "\n".join([
        t._("Please write what is wrong and what it should say, in one message (at most {n} characters).",
            n=MAX_CORRECTION),
        t._("Your commune's officer will read it, correct your record and tell you."),
    ])  # fmt: skip
    return [OutboundMessage(text, (Button(t._("Cancel"), Verbs.MENU),), typed_by=TypedBy.NAME)]


async def send_fix(ctx: Context, text: str) -> Replies:
    if not await _own(ctx, Action.REQUEST_OWN_DATA):
        ctx.leave()
        return participant.home(ctx)
    assert ctx.participant is not None
    t = ctx.t
    words = text.strip()
    if not words:
        return await ask_fix(ctx)
    if len(words) > MAX_CORRECTION:
        return [
            say(t._("That is too long for a correction (more than {n} characters). Please write it more briefly.",
                    n=MAX_CORRECTION)),
            *await ask_fix(ctx),
        ]  # fmt: skip
    ctx.leave()
    made = await data_requests.ask(
        ctx.repos, ctx.participant, RequestKind.CORRECTION, ctx.clock.now(), ctx.policies.data_request_days,
        text=words, channel=ctx.msg.channel,
    )  # fmt: skip
    due = t.date(made.request.due_at.astimezone(ctx.tz).date())
    return [say(t._("Sent to your commune's officer. You will get an answer here by {date}.", date=due)),
            *participant.home(ctx)]  # fmt: skip


async def withdraw_menu(ctx: Context) -> Replies:
    if not await _own(ctx, Action.CHANGE_OWN_CONSENT):
        return participant.home(ctx)
    assert ctx.participant is not None
    t = ctx.t
    current = await ctx.repos.consents.current(ctx.participant.id)
    given = [p for p in PURPOSE_ORDER if current.get(p)]
    if not given:
        return [OutboundMessage(t._("You have no consent in force to withdraw."),
                                (Button(t._("My data"), Verbs.MENU), *_back(ctx)))]  # fmt: skip
    buttons = tuple(Button(t._(participant.PURPOSE_LABELS[p]), Verbs.EFFECTS(p.value)) for p in given)
    return [OutboundMessage(t._("Which consent would you like to withdraw?"),
                            (*buttons, Button(t._("My data"), Verbs.MENU)))]  # fmt: skip


def _purpose(raw: str) -> Purpose | None:
    return Purpose(raw) if raw in {p.value for p in Purpose} else None


SETTINGS = "s"  # a withdrawal started from Settings → Consent goes back there


async def effects(ctx: Context, raw: str, origin: str = "") -> Replies:
    """What withdrawing this consent stops and what is still kept, then the choice (from My data, or from Settings →
    Consent when `origin` is SETTINGS: "No" goes back there)."""
    purpose = _purpose(raw)
    if purpose is None or not await _own(ctx, Action.CHANGE_OWN_CONSENT):
        return participant.home(ctx)
    t = ctx.t
    text = "\n\n".join([t._(EFFECTS[purpose]), t._("Do you want to withdraw it?")])
    yes = t._("Yes, withdraw and unlink") if purpose in REQUIRED_PURPOSES else t._("Yes, withdraw it")
    back = participant.Verbs.CONSENTS if origin == SETTINGS else Verbs.MENU
    confirm_action = Verbs.CONFIRM(purpose.value, SETTINGS) if origin == SETTINGS else Verbs.CONFIRM(purpose.value)
    return [OutboundMessage(text, (Button(yes, confirm_action), Button(t._("No, keep it"), back)))]


async def confirm(ctx: Context, raw: str) -> Replies:
    name, _, origin = raw.partition(":")
    purpose = _purpose(name)
    if purpose is None or not await _own(ctx, Action.CHANGE_OWN_CONSENT):
        return participant.home(ctx)
    assert ctx.participant is not None
    current = await ctx.repos.consents.current(ctx.participant.id)
    if not current.get(purpose):  # withdrawn already (a second press)
        return await withdraw_menu(ctx)
    await participant.record_consent(ctx, purpose, False)
    if purpose in REQUIRED_PURPOSES:
        return await participant.leave_chat(ctx)
    label = ctx.t._(participant.PURPOSE_LABELS[purpose])
    then = await participant.consent_menu(ctx) if origin == SETTINGS else await menu(ctx)
    return [say(ctx.t._('Saved: you withdrew "{item}".', item=label)), *then]


class MyDataFlow(Flow):
    """A person's own data; holds the chat only while a correction is being typed."""

    name = FLOW
    audience = Audience.PARTICIPANT
    verbs = Verbs
    pushes = pushed.PUSHES
    sent = pushed.SENT

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        if self.holds(ctx.state):  # a press instead of typing the correction: the half-typed one goes
            ctx.leave()
        match pressed.verb:
            case Verbs.KEPT:
                return await kept(ctx)
            case Verbs.COPY:
                return await ask_copy(ctx)
            case Verbs.SEND:
                return await send_copy(ctx)
            case Verbs.FIX:
                return await ask_fix(ctx)
            case Verbs.WITHDRAW:
                return await withdraw_menu(ctx)
            case Verbs.EFFECTS:
                return await effects(ctx, pressed.arg)
            case Verbs.CONFIRM:
                return await confirm(ctx, pressed.arg)
        return await menu(ctx)

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        if ctx.state.step == Steps.FIX.value:
            if support.asks_for_help(text):  # "giúp" is still a call for help, not a correction
                ctx.leave()
                return await support.show(ctx)
            return await send_fix(ctx, text)
        return None

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if ctx.state.step == Steps.FIX.value and not menu:
            return await ask_fix(ctx)
        ctx.leave()
        return None
