"""What the check-in flow pushes to a participant: reminders of an appointment (check-in or test), and the offer to
talk after a difficult result. Their buttons are the check-in's.

A reminder is rendered from the obligation as it is now: done or cancelled since planning, it is not sent at all.
The wording is neutral unless the person chose explicit wording in Settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core.i18n import N_, Translator
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.obligations import Obligation
from bot.domain.entities import ParticipantStatus, Wording
from bot.domain.planning import OPEN_STATUSES, MessageKind, ObligationKind
from bot.domain.schedule import Stage
from bot.flows import checkin, home
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip

_NEUTRAL: dict[tuple[ObligationKind, Stage], str] = {
    (ObligationKind.CHECKIN, Stage.BEFORE): N_(
        "A friendly reminder: you have an appointment on {date}. You can already reply in this chat whenever suits you."
    ),
    (ObligationKind.CHECKIN, Stage.DUE_DAY): N_(
        "Today, {date}, is your appointment day. It only takes a minute in this chat."
    ),
    (ObligationKind.CHECKIN, Stage.FOLLOW_UP): N_(
        "Your appointment was yesterday, {date}. When you have a moment, please reply in this chat. "
        "If something is in the way, the person accompanying you can help."
    ),
    (ObligationKind.TEST, Stage.BEFORE): N_("A friendly reminder: you have an appointment on {date}. {where}"),
    (ObligationKind.TEST, Stage.DUE_DAY): N_("Today, {date}, you have an appointment. {where}"),
    (ObligationKind.RANDOM_TEST, Stage.DUE_DAY): N_(
        "You have an appointment today, {date}. {where} Please tap “Got it” so we know you have seen this."
    ),
}

# Used only for a participant who chose explicit wording in Settings (the catalog check allows these words here).
_EXPLICIT: dict[tuple[ObligationKind, Stage], str] = {
    (ObligationKind.CHECKIN, Stage.BEFORE): N_(
        "Reminder: your monthly check-in is due on {date}. You can already do it in this chat."
    ),
    (ObligationKind.CHECKIN, Stage.DUE_DAY): N_(
        "Today, {date}, your monthly check-in is due. It only takes a minute in this chat."
    ),
    (ObligationKind.CHECKIN, Stage.FOLLOW_UP): N_(
        "Your monthly check-in was due yesterday, {date}. Please do it when you can; if something is in the way, "
        "the person accompanying you can help."
    ),
    (ObligationKind.TEST, Stage.BEFORE): N_("Reminder: you have a scheduled drug test on {date}. {where}"),
    (ObligationKind.TEST, Stage.DUE_DAY): N_("Today, {date}, you have a scheduled drug test. {where}"),
    (ObligationKind.RANDOM_TEST, Stage.DUE_DAY): N_(
        "You have been selected for an unannounced drug test today, {date}. {where} "
        "Please tap “Got it” so we know you have seen this."
    ),
}
_WITH_TEST = N_("The same day you also have a scheduled drug test.")
_WITH_VISIT = N_("That day you also have an appointment in person.")
EXPLICIT_MSGIDS = frozenset([*_EXPLICIT.values(), _WITH_TEST])


async def reminder(push: Push) -> Rendered:
    person, repos, t, item = push.participant, push.repos, push.t, push.item
    if person is None:
        return WRONG_RECIPIENT
    if person.status is not ParticipantStatus.ACTIVE:
        return Skip("inactive")
    stale_at = item.payload.get("stale_at")
    if isinstance(stale_at, str) and datetime.fromisoformat(stale_at) <= push.now:
        return Skip("stale")
    obligation = await repos.obligations.get(int(item.payload.get("obligation_id", 0)))
    if obligation is None or obligation.status.value not in OPEN_STATUSES:
        return Skip("not_open")
    stage = Stage(str(item.payload.get("stage")))
    templates = _EXPLICIT if person.wording is Wording.EXPLICIT else _NEUTRAL
    template = templates.get((obligation.kind, stage))
    if template is None:
        return Skip("no_template")
    unit = await repos.units.get(person.unit_id)
    text = t._(template, date=push.date(obligation.due_on), where=home.where_line(t, unit)).strip()
    if "with_test" in item.payload:
        also = _WITH_TEST if person.wording is Wording.EXPLICIT else _WITH_VISIT
        text += "\n" + t._(also) + " " + home.where_line(t, unit)
    return OutboundMessage(text, _reminder_buttons(t, obligation))


def _reminder_buttons(t: Translator, obligation: Obligation) -> tuple[Button, ...]:
    if obligation.kind is ObligationKind.CHECKIN:
        return (
            Button(t._("Check in this month"), checkin.Verbs.START),
            Button(t._("My appointments"), checkin.Verbs.SCHEDULE),
        )
    if obligation.kind is ObligationKind.RANDOM_TEST:
        return (Button(t._("Got it"), checkin.Verbs.TEST_SEEN(obligation.id)),)
    return (Button(t._("My appointments"), checkin.Verbs.SCHEDULE),)


async def support_offer(push: Push) -> Rendered:
    """After a difficult result: an offer to talk, in words that reveal nothing on a lock screen."""
    person, t = push.participant, push.t
    if person is None:
        return WRONG_RECIPIENT
    if person.status is not ParticipantStatus.ACTIVE:
        return Skip("inactive")
    text = "\n".join(
        [
            t._("Hello. We are here for you, whatever happens."),
            t._(
                "If you would like to talk with a counsellor, I can connect you. What you share stays between "
                "you and them."
            ),
        ]
    )
    buttons = (
        Button(t._("Yes, connect me with a counsellor"), checkin.Verbs.REFERRAL),
        Button(t._("Not now"), checkin.Verbs.NO_REFERRAL),
    )
    return OutboundMessage(text, buttons)


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.REMINDER: reminder,
    MessageKind.SUPPORT_OFFER: support_offer,
}
