"""The participant's menu: their own term information and their settings (language, consent, wording), their phone
number (given or corrected by typing it), and writing to the cadre who accompanies them (bot/flows/relay)."""

from __future__ import annotations

from bot.core.i18n import N_, SUPPORTED_LANGUAGES
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.conversations import ConversationState
from bot.domain.authz import Action
from bot.domain.consent import CONSENT_TEXT_VERSION, PURPOSE_ORDER, REQUIRED_PURPOSES, Purpose
from bot.domain.entities import ParticipantStatus, Wording
from bot.domain.phone import mobile, shown
from bot.flows import home as menus
from bot.flows import relay, support
from bot.flows.common import say
from bot.flows.context import HOME, Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Verb
from bot.flows.participant import pushed


class Verbs(Verb):
    HOME = "menu:home"
    INFO = "menu:info"
    SETTINGS = "menu:settings"
    LANGUAGES = "settings:language"
    LANGUAGE = "settings:lang"
    WORDINGS = "settings:wording"
    WORDING = "wording"
    HOURS = "settings:hour"
    HOUR = "hour"
    CONSENTS = "settings:consent"
    CONSENT = "consent:toggle"
    WITHDRAW = "withdraw:confirm"
    KEEP = "withdraw:cancel"
    CADRE = "menu:cadre"  # write to the person accompanying me
    PHONE = "settings:phone"  # give or correct my phone number (then typed)
    PHONE_REMOVE = "phone:remove"


PHONE_STEP = "phone"  # the home state's step while the person is asked to type their phone number


REMINDER_HOURS = (7, 8, 9, 12, 17, 19, 20)

PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.REMINDERS: N_("Reminders and check-ins by chat"),
    Purpose.SHARE_WITH_CADRE: N_("Share my check-in answers with my cadre"),
    Purpose.REFERRALS: N_("Counselling referrals"),
}
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def home(ctx: Context) -> Replies:
    return menus.participant_home(ctx.t)


def _back(ctx: Context) -> tuple[Button, ...]:
    return (Button(ctx.t._("Back to menu"), Verbs.HOME),)


async def my_information(ctx: Context) -> Replies:
    person = ctx.participant
    assert person is not None
    if not await ctx.allowed(Action.VIEW_OWN_TERM, await ctx.own_scope()):
        return home(ctx)
    t = ctx.t
    cadre = await ctx.repos.staff.get(person.cadre_id) if person.cadre_id else None
    unit = await ctx.repos.units.get(person.unit_id)
    await ctx.audit("participant_viewed", subject_type="participant", subject_id=person.id, detail={"view": "term"})
    lines = [
        t._("Your information"),
        t._("Commune/ward: {unit}", unit=unit.name if unit else "—"),
        t.n_("Term: {n} month", "Term: {n} months", person.term_months),
        t._("Start date: {date}", date=t.date(person.term_start)),
        t._("Expected end date: {date}", date=t.date(person.expected_end)),
        t._("Cadre accompanying you: {name}", name=cadre.name if cadre else t._("not assigned yet")),
        t._("Phone: {phone}", phone=shown(person.register.phone))
        if person.register.phone
        else t._("Phone: not given yet"),
        "",
        t._("If anything here looks wrong, please tell your cadre."),
    ]
    phone = t._("Change my phone number") if person.register.phone else t._("Add my phone number")
    from bot.flows.mydata import Verbs as MyData  # here: mydata builds on this module

    buttons = (Button(phone, Verbs.PHONE), Button(t._("My data"), MyData.MENU), *_back(ctx))
    return [OutboundMessage("\n".join(lines), buttons)]


def _phone_question(ctx: Context, first: str | None = None) -> Replies:
    """Asks for the number (the chat's next words are it), saying who will see it and why."""
    person = ctx.participant
    assert person is not None
    t = ctx.t
    ctx.state.flow, ctx.state.step, ctx.state.data = HOME, PHONE_STEP, {}
    lines = [first] if first else []
    if not first:
        lines += [
            t._("With your phone number, the person accompanying you can call you when needed. It is kept "
                "securely: only they, your commune's officer and the province's administrators can see it."),
            t._("Your number now: {phone}", phone=shown(person.register.phone))
            if person.register.phone
            else t._("You have not given a number yet."),
        ]  # fmt: skip
    lines.append(t._("Type your mobile number (for example 0912 345 678)."))
    remove = (Button(t._("Remove my phone number"), Verbs.PHONE_REMOVE),) if person.register.phone else ()
    return [OutboundMessage("\n".join(lines), (*remove, *_back(ctx)))]


async def _set_phone(ctx: Context, text: str | None) -> Replies:
    """The typed number (None: remove it), checked; never written to the audit, which says only that it changed."""
    person = ctx.participant
    assert person is not None
    t = ctx.t
    if not await ctx.allowed(Action.CHANGE_OWN_SETTINGS, await ctx.own_scope()):
        ctx.leave()
        return home(ctx)
    number = mobile(text) if text is not None else None
    if text is not None and number is None:
        return _phone_question(
            ctx,
            t._("That does not look like a mobile number. A Vietnamese mobile number has 10 digits and starts with 0 "
                "(or +84 instead of the 0)."),
        )  # fmt: skip
    ctx.leave()
    if text is None and not person.register.phone:
        return home(ctx)
    ctx.participant = await ctx.repos.participants.set_phone(person.id, number)
    await ctx.audit("setting_changed", subject_type="participant", subject_id=person.id,
                    detail={"setting": "phone", "removed": number is None})  # fmt: skip
    if number is None:
        return [say(t._("Done: your phone number is removed.")), *home(ctx)]
    return [say(t._("Saved: the person accompanying you can call you on {phone}.", phone=shown(number))), *home(ctx)]


def settings(ctx: Context) -> Replies:
    t = ctx.t
    return [
        OutboundMessage(
            t._("Settings. What would you like to change?"),
            (
                Button(t._("Language"), Verbs.LANGUAGES),
                Button(t._("Consent"), Verbs.CONSENTS),
                Button(t._("Notification wording"), Verbs.WORDINGS),
                Button(t._("Reminder time"), Verbs.HOURS),
                *_back(ctx),
            ),
        )
    ]


def _language_menu(ctx: Context) -> Replies:
    buttons = tuple(Button(LANGUAGE_NAMES[code], Verbs.LANGUAGE(code)) for code in SUPPORTED_LANGUAGES)
    return [OutboundMessage(ctx.t._("Which language would you like me to use?"), (*buttons, *_back(ctx)))]


async def set_language(ctx: Context, language: str) -> Replies:
    assert ctx.participant is not None
    if language not in SUPPORTED_LANGUAGES or not await ctx.allowed(Action.CHANGE_OWN_SETTINGS, await ctx.own_scope()):
        return home(ctx)
    ctx.participant = await ctx.repos.participants.update(ctx.participant.id, language=language)
    ctx.use_language(language)
    await ctx.audit(
        "setting_changed", subject_type="participant", subject_id=ctx.participant.id, detail={"setting": "language"}
    )
    return [say(ctx.t._("Done. I will write to you in English from now on.")), *home(ctx)]


def _hour_menu(ctx: Context) -> Replies:
    assert ctx.participant is not None
    t = ctx.t
    text = "\n".join(
        [
            t._("At what time of day should I send your reminders?"),
            t._("Currently: {hour}:00", hour=f"{ctx.participant.reminder_hour:02d}"),
        ]
    )
    buttons = tuple(Button(f"{hour:02d}:00", Verbs.HOUR(hour)) for hour in REMINDER_HOURS)
    return [OutboundMessage(text, (*buttons, *_back(ctx)))]


async def _set_hour(ctx: Context, hour: int | None) -> Replies:
    assert ctx.participant is not None
    if hour is None or hour not in REMINDER_HOURS:
        return home(ctx)
    if not await ctx.allowed(Action.CHANGE_OWN_SETTINGS, await ctx.own_scope()):
        return home(ctx)
    ctx.participant = await ctx.repos.participants.update(ctx.participant.id, reminder_hour=hour)
    await ctx.audit(
        "setting_changed",
        subject_type="participant",
        subject_id=ctx.participant.id,
        detail={"setting": "reminder_hour", "value": hour},
    )
    return [say(ctx.t._("Done. Reminders will come at about {hour}:00.", hour=f"{hour:02d}")), *home(ctx)]


def _wording_menu(ctx: Context) -> Replies:
    assert ctx.participant is not None
    t = ctx.t
    current = t._("Currently: neutral") if ctx.participant.wording is Wording.NEUTRAL else t._("Currently: explicit")
    text = "\n".join(
        [
            t._("How should reminders be worded? A reminder can be seen on your lock screen by others."),
            t._('Neutral (recommended): "You have an appointment on 12/12."'),
            t._("Explicit: says what the appointment is for."),
            current,
        ]
    )
    buttons = (
        Button(t._("Neutral wording"), Verbs.WORDING("neutral")),
        Button(t._("Explicit wording"), Verbs.WORDING("explicit")),
        *_back(ctx),
    )
    return [OutboundMessage(text, buttons)]


async def _set_wording(ctx: Context, value: str) -> Replies:
    assert ctx.participant is not None
    if value not in {w.value for w in Wording} or not await ctx.allowed(
        Action.CHANGE_OWN_SETTINGS, await ctx.own_scope()
    ):
        return home(ctx)
    wording = Wording(value)
    ctx.participant = await ctx.repos.participants.update(ctx.participant.id, wording=wording)
    await ctx.audit(
        "setting_changed",
        subject_type="participant",
        subject_id=ctx.participant.id,
        detail={"setting": "wording", "value": wording.value},
    )
    if wording is Wording.NEUTRAL:
        done = ctx.t._("Done. Reminders will use neutral wording.")
    else:
        done = ctx.t._("Done. Reminders will say what the appointment is for. You can switch back at any time.")
    return [say(done), *home(ctx)]


async def consent_menu(ctx: Context) -> Replies:
    assert ctx.participant is not None
    t = ctx.t
    current = await ctx.repos.consents.current(ctx.participant.id)
    lines = [t._("Your consent. Tap an item to change it.")]
    buttons = []
    for purpose in PURPOSE_ORDER:
        state = t._("agreed") if current.get(purpose) else t._("not agreed")
        lines.append(f"• {t._(PURPOSE_LABELS[purpose])}: {state}")
        buttons.append(Button(t._(PURPOSE_LABELS[purpose]), Verbs.CONSENT(purpose.value)))
    return [OutboundMessage("\n".join(lines), (*buttons, *_back(ctx)))]


async def _toggle_consent(ctx: Context, value: str) -> Replies:
    assert ctx.participant is not None
    if value not in {p.value for p in Purpose} or not await ctx.allowed(
        Action.CHANGE_OWN_CONSENT, await ctx.own_scope()
    ):
        return home(ctx)
    purpose = Purpose(value)
    current = await ctx.repos.consents.current(ctx.participant.id)
    if purpose not in REQUIRED_PURPOSES and current.get(purpose):  # its effects first, then the choice
        from bot.flows import mydata  # here: mydata builds on this module

        return await mydata.effects(ctx, purpose.value, mydata.SETTINGS)
    if purpose in REQUIRED_PURPOSES and current.get(purpose):
        return [
            OutboundMessage(
                ctx.t._(
                    "Reminders by chat are what this assistant is for. If you withdraw this consent, I will stop "
                    "messaging you and unlink this chat. Your cadre will still meet you in person. "
                    "Do you want to withdraw?"
                ),
                (
                    Button(ctx.t._("Yes, withdraw and unlink"), Verbs.WITHDRAW),
                    Button(ctx.t._("No, keep it"), Verbs.KEEP),
                ),
            )
        ]
    granted = not current.get(purpose, False)
    await record_consent(ctx, purpose, granted)
    label = ctx.t._(PURPOSE_LABELS[purpose])
    if granted:
        done = ctx.t._('Saved: you agreed to "{item}".', item=label)
    else:
        done = ctx.t._('Saved: you withdrew "{item}".', item=label)
    return [say(done), *await consent_menu(ctx)]


async def _withdraw_reminders(ctx: Context) -> Replies:
    if not await ctx.allowed(Action.CHANGE_OWN_CONSENT, await ctx.own_scope()):
        return home(ctx)
    await record_consent(ctx, Purpose.REMINDERS, False)
    return await leave_chat(ctx)


async def record_consent(ctx: Context, purpose: Purpose, granted: bool) -> None:
    """Append the decision with the text version shown, and audit it (without any message content)."""
    assert ctx.participant is not None
    await ctx.repos.consents.record(ctx.participant.id, purpose, granted, CONSENT_TEXT_VERSION)
    await ctx.audit(
        "consent_recorded",
        subject_type="participant",
        subject_id=ctx.participant.id,
        detail={"purpose": purpose.value, "granted": granted, "version": CONSENT_TEXT_VERSION},
    )


async def leave_chat(ctx: Context) -> Replies:
    """Without consent to chat reminders the bot must not keep the chat: unlink it and say where help still is."""
    assert ctx.participant is not None and ctx.identity is not None
    cadre = await ctx.repos.staff.get(ctx.participant.cadre_id) if ctx.participant.cadre_id else None
    unit = await ctx.repos.units.get(ctx.participant.unit_id)
    chats = len(await ctx.repos.identities.unlink_person(participant_id=ctx.participant.id))
    await ctx.repos.participants.update(ctx.participant.id, status=ParticipantStatus.ENROLLED)
    await ctx.audit(
        "chat_unlinked",
        subject_type="participant",
        subject_id=ctx.participant.id,
        detail={"reason": "reminders_declined", "chats": chats},
    )
    ctx.identity = None
    if cadre is not None:
        contact = ctx.t._("You can keep in touch in person with {cadre}, the cadre accompanying you.", cadre=cadre.name)
    else:
        contact = ctx.t._(
            "You can keep in touch in person with the support team at the {unit} People's Committee.",
            unit=unit.name if unit else "",
        )
    return [
        say(
            "\n\n".join(
                [
                    ctx.t._("Understood. I will not send you messages, and this chat is now unlinked."),
                    contact,
                    ctx.t._("If you change your mind, ask for a new invite code. Take care."),
                ]
            )
        )
    ]


class HomeFlow(Flow):
    """The participant's main menu and settings; typed words here are for a counsellor in a conversation, a call
    for help, or not understood."""

    name = "home"
    audience = Audience.PARTICIPANT
    verbs = Verbs

    def holds(self, state: ConversationState) -> bool:
        return state.flow == HOME

    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        if ctx.state.flow == HOME and ctx.state.step == PHONE_STEP:  # a press answers the phone question instead
            ctx.leave()
        match pressed.verb:
            case Verbs.CADRE:
                return await relay.to_cadre(ctx)
            case Verbs.PHONE:
                return _phone_question(ctx)
            case Verbs.PHONE_REMOVE:
                return await _set_phone(ctx, None)
            case Verbs.INFO:
                return await my_information(ctx)
            case Verbs.SETTINGS:
                return settings(ctx)
            case Verbs.LANGUAGES:
                return _language_menu(ctx)
            case Verbs.LANGUAGE:
                return await set_language(ctx, pressed.arg)
            case Verbs.WORDINGS:
                return _wording_menu(ctx)
            case Verbs.WORDING:
                return await _set_wording(ctx, pressed.arg)
            case Verbs.HOURS:
                return _hour_menu(ctx)
            case Verbs.HOUR:
                return await _set_hour(ctx, pressed.number)
            case Verbs.CONSENTS | Verbs.KEEP:
                return await consent_menu(ctx)
            case Verbs.CONSENT:
                return await _toggle_consent(ctx, pressed.arg)
            case Verbs.WITHDRAW:
                return await _withdraw_reminders(ctx)
        return home(ctx)

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        if ctx.state.step == PHONE_STEP:  # the phone question: "giúp" is still a call for help, not a number
            if support.asks_for_help(text):
                return await support.show(ctx)
            return await _set_phone(ctx, text)
        conversation = await relay.conversation(ctx)
        if conversation is not None:  # typed words, outside any other question: they are for the conversation
            return await relay.forward(ctx, conversation, text)
        if support.asks_for_help(text):
            return await support.show(ctx)
        return None

    async def prompt(self, ctx: Context, menu: bool) -> Replies:
        if ctx.state.flow == HOME and ctx.state.step == PHONE_STEP:
            if not menu:
                return _phone_question(ctx)
            ctx.leave()
        return home(ctx)
