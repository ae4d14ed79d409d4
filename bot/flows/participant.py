"""The participant's menu: their own term information and their settings (language, consent, wording)."""

from __future__ import annotations

from bot.core.i18n import N_, SUPPORTED_LANGUAGES
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.consent import CONSENT_TEXT_VERSION, PURPOSE_ORDER, REQUIRED_PURPOSES, Purpose
from bot.domain.entities import ParticipantStatus, Wording
from bot.flows import checkin, relay, support
from bot.flows.actions import (
    CHECKIN_START,
    MY_SCHEDULE,
    REFERRAL_DECLINE,
    REFERRAL_REQUEST,
    TEST_ACK,
)
from bot.flows.common import not_understood, say
from bot.flows.context import Context, Replies
from bot.flows.home import HOME, INFO, SETTINGS, participant_home

MENU = "menu"

SET_LANGUAGE, SET_CONSENT, SET_WORDING = "settings:language", "settings:consent", "settings:wording"
SET_HOUR, HOUR = "settings:hour", "hour:"
REMINDER_HOURS = (7, 8, 9, 12, 17, 19, 20)
WITHDRAW_CONFIRM, WITHDRAW_CANCEL = "withdraw:confirm", "withdraw:cancel"

PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.REMINDERS: N_("Reminders and check-ins by chat"),
    Purpose.SHARE_WITH_CADRE: N_("Share my check-in answers with my cadre"),
    Purpose.REFERRALS: N_("Counselling referrals"),
}
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def home(ctx: Context) -> Replies:
    return participant_home(ctx.t)


def _back(ctx: Context) -> tuple[Button, ...]:
    return (Button(ctx.t._("Back to menu"), HOME),)


async def handle(ctx: Context) -> Replies:
    action = ctx.msg.action
    if action == CHECKIN_START:
        return await checkin.start(ctx)
    if action is not None and action.startswith(TEST_ACK):
        return await checkin.acknowledge_test(ctx, action.removeprefix(TEST_ACK))
    if action == MY_SCHEDULE:
        ctx.state.flow, ctx.state.step = "menu", ""
        return await checkin.my_schedule(ctx)
    if action == REFERRAL_REQUEST:
        return await checkin.request_referral(ctx)
    if action is None and ctx.msg.text and ctx.state.flow != checkin.FLOW:
        conversation = await relay.talking(ctx)
        if conversation is not None:  # typed words, outside any other question: they are for the counsellor
            return await relay.forward(ctx, conversation, ctx.msg.text)
        if ctx.state.flow == relay.FLOW:  # the counsellor ended it meanwhile: say so, do not drop the words silently
            return relay.over(ctx)
    if action == support.MENU or (action is None and support.asks_for_help(ctx.msg.text)):
        return await support.show(ctx)
    if action == support.TALK:
        return await support.ask_for(ctx, "counselling", source="help")
    if action == support.SUPPORT:
        return await support.support_menu(ctx)
    if action is not None and action.startswith(support.KIND):
        return await support.ask_for(ctx, action.removeprefix(support.KIND), source="help")
    if action == REFERRAL_DECLINE:
        return [say(ctx.t._("Okay. If you change your mind, the main menu is always here.")), *home(ctx)]
    if ctx.state.flow == checkin.FLOW and (action is None or action.startswith("checkin:")):
        return await checkin.handle(ctx)
    if ctx.state.flow == checkin.FLOW:
        ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}  # left the check-in; answers stay saved
    if action == relay.END:
        return relay.confirm_end(ctx)
    if action == relay.END_CONFIRMED:
        return await relay.end(ctx)
    if action == relay.READ:
        return await relay.read(ctx)
    if action is None:
        return [not_understood(ctx.t), *home(ctx)]
    if ctx.state.flow == relay.FLOW:
        ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}  # the conversation stays open
    if action == HOME:
        return home(ctx)
    if action == INFO:
        return await my_information(ctx)
    if action == SETTINGS:
        return settings(ctx)
    if action == SET_LANGUAGE:
        return _language_menu(ctx)
    if action.startswith("lang:"):
        return await _set_language(ctx, action.removeprefix("lang:"))
    if action == SET_WORDING:
        return _wording_menu(ctx)
    if action == SET_HOUR:
        return _hour_menu(ctx)
    if action.startswith(HOUR):
        return await _set_hour(ctx, action.removeprefix(HOUR))
    if action.startswith("wording:"):
        return await _set_wording(ctx, action.removeprefix("wording:"))
    if action == SET_CONSENT:
        return await consent_menu(ctx)
    if action.startswith("consent:toggle:"):
        return await _toggle_consent(ctx, action.removeprefix("consent:toggle:"))
    if action == WITHDRAW_CONFIRM:
        return await _withdraw_reminders(ctx)
    if action == WITHDRAW_CANCEL:
        return await consent_menu(ctx)
    return home(ctx)


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
        "",
        t._("If anything here looks wrong, please tell your cadre."),
    ]
    return [OutboundMessage("\n".join(lines), _back(ctx))]


def settings(ctx: Context) -> Replies:
    t = ctx.t
    return [
        OutboundMessage(
            t._("Settings. What would you like to change?"),
            (
                Button(t._("Language"), SET_LANGUAGE),
                Button(t._("Consent"), SET_CONSENT),
                Button(t._("Notification wording"), SET_WORDING),
                Button(t._("Reminder time"), SET_HOUR),
                *_back(ctx),
            ),
        )
    ]


def _language_menu(ctx: Context) -> Replies:
    buttons = tuple(Button(LANGUAGE_NAMES[code], f"lang:{code}") for code in SUPPORTED_LANGUAGES)
    return [OutboundMessage(ctx.t._("Which language would you like me to use?"), (*buttons, *_back(ctx)))]


async def _set_language(ctx: Context, language: str) -> Replies:
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
    buttons = tuple(Button(f"{hour:02d}:00", f"{HOUR}{hour}") for hour in REMINDER_HOURS)
    return [OutboundMessage(text, (*buttons, *_back(ctx)))]


async def _set_hour(ctx: Context, value: str) -> Replies:
    assert ctx.participant is not None
    if not value.isdigit() or int(value) not in REMINDER_HOURS:
        return home(ctx)
    if not await ctx.allowed(Action.CHANGE_OWN_SETTINGS, await ctx.own_scope()):
        return home(ctx)
    ctx.participant = await ctx.repos.participants.update(ctx.participant.id, reminder_hour=int(value))
    await ctx.audit(
        "setting_changed",
        subject_type="participant",
        subject_id=ctx.participant.id,
        detail={"setting": "reminder_hour", "value": int(value)},
    )
    return [say(ctx.t._("Done. Reminders will come at about {hour}:00.", hour=f"{int(value):02d}")), *home(ctx)]


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
        Button(t._("Neutral wording"), "wording:neutral"),
        Button(t._("Explicit wording"), "wording:explicit"),
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
        buttons.append(Button(t._(PURPOSE_LABELS[purpose]), f"consent:toggle:{purpose.value}"))
    return [OutboundMessage("\n".join(lines), (*buttons, *_back(ctx)))]


async def _toggle_consent(ctx: Context, value: str) -> Replies:
    assert ctx.participant is not None
    if value not in {p.value for p in Purpose} or not await ctx.allowed(
        Action.CHANGE_OWN_CONSENT, await ctx.own_scope()
    ):
        return home(ctx)
    purpose = Purpose(value)
    current = await ctx.repos.consents.current(ctx.participant.id)
    if purpose in REQUIRED_PURPOSES and current.get(purpose):
        return [
            OutboundMessage(
                ctx.t._(
                    "Reminders by chat are what this assistant is for. If you withdraw this consent, I will stop "
                    "messaging you and unlink this chat. Your cadre will still meet you in person. "
                    "Do you want to withdraw?"
                ),
                (
                    Button(ctx.t._("Yes, withdraw and unlink"), WITHDRAW_CONFIRM),
                    Button(ctx.t._("No, keep it"), WITHDRAW_CANCEL),
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
