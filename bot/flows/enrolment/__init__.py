"""Linking a chat with a one-time code, then the participant's consent and language choice."""

from __future__ import annotations

from datetime import datetime

from bot.core.i18n import N_, SUPPORTED_LANGUAGES
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action, Actor, ActorKind
from bot.domain.consent import Purpose
from bot.domain.entities import ParticipantStatus
from bot.domain.invites import hash_code, normalize_code
from bot.flows import participant, staff, support
from bot.flows.common import say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb

ONBOARDING = "onboarding"
_START = "/start"


class Steps(Step):
    """One consent question per purpose, in `_STEPS` order (the step is the purpose's word), then the language."""

    REMINDERS = Purpose.REMINDERS.value
    SHARE_WITH_CADRE = Purpose.SHARE_WITH_CADRE.value
    REFERRALS = Purpose.REFERRALS.value
    LANGUAGE = "language"


class Verbs(Verb):
    AGREE = "consent:yes"
    DECLINE = "consent:no"
    LANGUAGE = "lang"


LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

_STEPS: tuple[tuple[Purpose, str], ...] = (
    (
        Purpose.REMINDERS,
        N_(
            "1/3. Reminders and monthly check-ins by chat.\n"
            "I will send you short reminders before your monthly appointments and let you check in here. "
            "Reminders are worded discreetly so that nobody who sees your phone learns what they are about. "
            "This one is needed to use the assistant: if you decline, I will stop here and you can keep in touch "
            "with your cadre in person.\n\nDo you agree?"
        ),
    ),
    (
        Purpose.SHARE_WITH_CADRE,
        N_(
            "2/3. Sharing your check-in answers with the cadre assigned to you.\n"
            "If you agree, the cadre who accompanies you can read your answers so they can help in time. "
            "If you decline, they only see whether you checked in.\n\nDo you agree?"
        ),
    ),
    (
        Purpose.REFERRALS,
        N_(
            "3/3. Counselling referrals (optional).\n"
            "If you ask for help, I can pass your name to a counsellor at the community counselling point so they "
            "can contact you. If you decline, you can still see hotline numbers at any time.\n\nDo you agree?"
        ),
    ),
)


async def handle_unlinked(ctx: Context, text: str) -> Replies:
    text = text.strip()
    chat_key = ctx.keyring.chat_key(ctx.msg.channel, ctx.msg.external_user_id)
    locked_until = await ctx.repos.chats.locked_until(ctx.keyring.chat_keys(ctx.msg.channel, ctx.msg.external_user_id))
    if locked_until is not None:
        return [_locked(ctx, locked_until)]

    if text[: len(_START)].lower() == _START:
        argument = text[len(_START) :].strip()
        if not argument:
            return [_welcome(ctx)]
        code = normalize_code(argument)
    else:
        code = normalize_code(text)
        if code is None:
            return [_welcome(ctx)]

    target = await ctx.repos.invites.redeem([hash_code(key, code) for key in ctx.keyring.code_keys]) if code else None
    if target is not None and target.participant_id is not None:
        person = await ctx.repos.participants.get(target.participant_id)
        if person is not None and person.status in (ParticipantStatus.ENROLLED, ParticipantStatus.ACTIVE):
            return await _link_participant(ctx, person.id)
    elif target is not None and target.staff_id is not None:
        member = await ctx.repos.staff.get(target.staff_id)
        if member is not None and member.active:
            return await _link_staff(ctx, member.id)
    return await _wrong_code(ctx, chat_key)


def _welcome(ctx: Context) -> OutboundMessage:
    return say(
        ctx.t._(
            "Hello! This is Đồng Hành, an automated assistant of the commune support team.\n"
            "To start, please send the invite code your cadre gave you (for example ABCDE-FGHJK)."
        )
    )


def _locked(ctx: Context, until_utc: datetime) -> OutboundMessage:
    local = until_utc.astimezone(ctx.tz)
    return say(
        ctx.t._(
            "Too many wrong codes were sent from this chat. For your safety, please wait until {time} and try "
            "again, or ask your cadre for a new code.",
            time=local.strftime("%H:%M"),
        )
    )


async def _wrong_code(ctx: Context, chat_key: str) -> Replies:
    policy = ctx.policies.lockout
    await ctx.repos.chats.add_failure(chat_key)
    now = ctx.clock.now()
    every_key = ctx.keyring.chat_keys(ctx.msg.channel, ctx.msg.external_user_id)  # during a key rotation too
    failures = await ctx.repos.chats.failures_since(every_key, policy.window_start(now))
    until = policy.lock_until(failures, now)
    await ctx.audit("link_failed", "denied")
    if until is not None:
        await ctx.repos.chats.lock(chat_key, until)
        await ctx.audit("chat_locked", "locked", detail={"minutes": int(policy.duration.total_seconds() // 60)})
        return [_locked(ctx, until)]
    left = policy.max_failures - len(failures)
    return [
        say(
            ctx.t.n_(
                "This code is not valid or is no longer valid. Please check it and try again, or ask your cadre "
                "for a new code. You have {n} try left.",
                "This code is not valid or is no longer valid. Please check it and try again, or ask your cadre "
                "for a new code. You have {n} tries left.",
                left,
            )
        )
    ]


async def _link_participant(ctx: Context, participant_id: int) -> Replies:
    identity = await ctx.repos.identities.link(ctx.msg.channel, ctx.msg.external_user_id, participant_id=participant_id)
    ctx.identity = identity
    ctx.participant = await ctx.repos.participants.get(participant_id)
    assert ctx.participant is not None
    ctx.actor = Actor(ActorKind.PARTICIPANT, participant_id, unit_id=ctx.participant.unit_id)
    ctx.use_language(ctx.participant.language)
    await ctx.repos.chats.clear_failures(ctx.keyring.chat_keys(ctx.msg.channel, ctx.msg.external_user_id))
    await ctx.audit("chat_linked", subject_type="participant", subject_id=participant_id)
    ctx.state.flow, ctx.state.step, ctx.state.data = ONBOARDING, Steps.REMINDERS, {}
    unit = await ctx.repos.units.get(ctx.participant.unit_id)
    intro = say(
        ctx.t._(
            "Welcome to Đồng Hành. This assistant is run by the support team of {unit}. "
            "It is an automated system, not a person: it reminds you of appointments, lets you check in by chat "
            "and helps you reach support.\n\n"
            "Before we start, I need your agreement for three things. You can change each answer later in "
            "Settings.",
            unit=unit.name if unit else "",
        )
    )
    return [intro, *prompt(ctx)]


async def _link_staff(ctx: Context, staff_id: int) -> Replies:
    identity = await ctx.repos.identities.link(ctx.msg.channel, ctx.msg.external_user_id, staff_id=staff_id)
    ctx.identity = identity
    ctx.staff = await ctx.repos.staff.get(staff_id)
    assert ctx.staff is not None
    ctx.actor = Actor(ActorKind.STAFF, staff_id, role=ctx.staff.role, unit_id=ctx.staff.unit_id)
    ctx.use_language(ctx.staff.language)
    await ctx.repos.chats.clear_failures(ctx.keyring.chat_keys(ctx.msg.channel, ctx.msg.external_user_id))
    await ctx.audit("chat_linked", subject_type="staff", subject_id=staff_id)
    return await staff.greeting(ctx)


def prompt(ctx: Context) -> Replies:
    """The question for the current onboarding step, asked again whenever the answer was unusable."""
    if ctx.state.step == Steps.LANGUAGE:
        return [
            OutboundMessage(
                ctx.t._("Which language would you like me to use?"),
                tuple(Button(LANGUAGE_NAMES[code], Verbs.LANGUAGE(code)) for code in SUPPORTED_LANGUAGES),
            )
        ]
    for purpose, question in _STEPS:
        if ctx.state.step == Steps(purpose):
            return [
                OutboundMessage(
                    ctx.t._(question),
                    (Button(ctx.t._("I agree"), Verbs.AGREE), Button(ctx.t._("I decline"), Verbs.DECLINE)),
                )
            ]
    ctx.state.step = Steps.REMINDERS
    return prompt(ctx)


async def handle_onboarding(ctx: Context, pressed: Pressed | None) -> Replies:
    assert ctx.participant is not None
    if pressed is None:
        return [say(ctx.t._("Please answer with one of the options.")), *prompt(ctx)]
    if ctx.state.step == Steps.LANGUAGE:
        return await _choose_language(ctx, pressed.arg if pressed.verb is Verbs.LANGUAGE else "")
    if pressed.verb not in (Verbs.AGREE, Verbs.DECLINE):
        return prompt(ctx)
    purpose = Purpose(ctx.state.step)
    scope = await ctx.own_scope()
    if not await ctx.allowed(Action.CHANGE_OWN_CONSENT, scope):
        return prompt(ctx)
    granted = pressed.verb is Verbs.AGREE
    await participant.record_consent(ctx, purpose, granted)
    if purpose is Purpose.REMINDERS and not granted:
        return await participant.leave_chat(ctx)
    order = [Steps(p) for p, _ in _STEPS]
    position = order.index(Steps(purpose))
    ctx.state.step = order[position + 1] if position + 1 < len(order) else Steps.LANGUAGE
    return prompt(ctx)


async def _choose_language(ctx: Context, language: str) -> Replies:
    assert ctx.participant is not None
    if language not in SUPPORTED_LANGUAGES:
        return prompt(ctx)
    ctx.participant = await ctx.repos.participants.update(
        ctx.participant.id, language=language, status=ParticipantStatus.ACTIVE
    )
    ctx.use_language(language)
    await ctx.audit("enrolment_completed", subject_type="participant", subject_id=ctx.participant.id)
    ctx.leave()
    done = say(
        ctx.t._(
            "Thank you, you are all set. I will message you before your appointments. "
            "You can open the menu at any time by typing /menu."
        )
    )
    return [done, *participant.home(ctx)]


class LinkingFlow(Flow):
    """An unlinked chat: a code links it; "help" shows the hotlines; anything else the welcome."""

    name = "linking"
    audience = Audience.PARTICIPANT  # nobody yet: its replies are for whoever holds the phone

    async def on_text(self, ctx: Context, text: str) -> Replies:
        if support.asks_for_help(text):
            return await support.show(ctx)
        return await handle_unlinked(ctx, text)


class OnboardingFlow(Flow):
    """Consent per purpose, then the language: it holds the chat until done (nothing else is offered before)."""

    name = ONBOARDING
    audience = Audience.PARTICIPANT
    verbs = Verbs
    exclusive = True

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        if not self.holds(ctx.state):  # a button left from onboarding, or an older version's language setting
            if pressed.verb is Verbs.LANGUAGE:
                return await participant.set_language(ctx, pressed.arg)
            return participant.home(ctx)
        return await handle_onboarding(ctx, pressed)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        return await handle_onboarding(ctx, None)

    async def prompt(self, ctx: Context, menu: bool) -> Replies:
        return prompt(ctx)
