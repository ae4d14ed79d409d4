"""What the alerts inbox is pushed: escalations to the cadre or the officers, the officers' crisis alerts (worded
here, sent under the counsellor desk's urgent referral), and dead letters. Their buttons are the inbox's and the
person's card.

Each escalation is re-checked when it goes out: acknowledged since, or no longer the recipient's (reassigned, moved),
it is not sent. What the officers are told about who else was alerted is only what was done, as recorded when the
alert was queued. An alert that asks the reader to get in touch gives the person's phone number when the record
holds one (read now: a number the person corrected since is the one shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.escalations import Escalation
from bot.domain.authz import Action
from bot.domain.checkin import risk_reasons
from bot.domain.consent import Purpose
from bot.domain.entities import Participant
from bot.domain.phone import shown
from bot.domain.planning import MessageKind
from bot.flows import caseload, inbox
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip, label, may, subject
from bot.services.crisis import Alerted, OfficerWhy
from bot.services.escalations import Told, Why

_RISK_REASONS = {
    "cravings": N_("strong cravings"),
    "use": N_("says they used"),
    "call": N_("would like a call"),
}


def phone_line(push: Push, person: Participant) -> list[str]:
    """The number to call the person on, when the record holds one (tappable on Telegram)."""
    phone = person.register.phone
    return [push.t._("Phone: {phone}", phone=shown(phone))] if phone else []


def _urgent(push: Push, text: str) -> OutboundMessage:
    """A neutral first line (what a lock screen shows), then the matter."""
    return OutboundMessage("\n".join([push.t._("Urgent:"), text]))


async def escalation(push: Push) -> Rendered:
    member, repos, t, item = push.member, push.repos, push.t, push.item
    if member is None:
        return WRONG_RECIPIENT
    alert = await repos.escalations.get(int(item.payload.get("escalation_id", 0)))
    if alert is None:
        return Skip("no_escalation")
    if alert.acknowledged_at is not None:
        return Skip("acknowledged")
    person = await repos.participants.get(alert.participant_id)
    if person is None:
        return Skip("no_person")
    to_officer = item.payload.get("to") == "officer"
    # The cadre's row goes to the person's cadre, the officers' to their commune's officers; whoever it is, the
    # acknowledgement rule says whether it is still theirs (a cadre: only while assigned).
    if not await may(push, Action.ACKNOWLEDGE_ESCALATION, person.id, person.unit_id, person.cadre_id):
        return Skip("not_in_scope")  # reassigned or moved since it was queued: never to the old recipient
    named = label(t, person)
    lines = [t._("Needs your attention:")]
    if alert.kind == "missed_checkin":
        obligation = await repos.obligations.get(alert.obligation_id or 0)
        due = push.date(obligation.due_on) if obligation else "—"
        lines.append(t._("{who} has not checked in this month (due {date}).", who=named, date=due))
    elif alert.kind == "unreachable":
        lines.append(
            t._(
                "Messages to {who} can no longer be delivered; they may have blocked or left the chat. "
                "Please get in touch in person.",
                who=named,
            )
        )
        lines += phone_line(push, person)
    elif alert.kind == "risky_checkin" and to_officer:
        lines.append(t._("{who} may need support after this month's check-in.", who=named))
    elif alert.kind == "risky_checkin":
        lines.append(await _risky(push, named, alert.obligation_id, person.id))
        lines += phone_line(push, person)
    elif alert.kind == "crisis":
        # A call when the record holds their number; otherwise go and see them (or have someone do it).
        at = alert.raised_at.astimezone(push.tz)
        lines.append(
            t._(
                "{who} wrote something at {time} on {date} that may mean they are in crisis. They were given the "
                "emergency and support numbers.",
                who=named,
                time=f"{at:%H:%M}",
                date=push.date(at.date()),
            )
        )
        lines += phone_line(push, person)
        if to_officer:
            lines.append(t._("Please make sure someone checks on them in person now."))
        elif person.register.phone:
            lines.append(
                t._("Please call them now, or check on them in person or ask someone close to them to. If you "
                    "cannot reach them, tell the commune officer.")
            )  # fmt: skip
        else:
            lines.append(
                t._("Please check on them in person now, or ask someone close to them to. If you cannot, tell "
                    "the commune officer.")
            )  # fmt: skip
    elif alert.kind == "test_result":
        # The result itself is shown only in the chat, after a tap, never in a notification.
        lines.append(t._("Something about {who} needs your follow-up. Tap to see the details.", who=named))
        buttons = (
            Button(t._("See the details"), inbox.Verbs.OPEN(alert.id)),
            Button(t._("I'm on it"), inbox.Verbs.ACK(alert.id)),
        )
        return OutboundMessage("\n".join(lines), buttons)
    else:
        lines.append(t._("{who} needs follow-up.", who=named))
    if to_officer:
        lines += await _why_officer(push, alert)
    buttons = (
        Button(t._("I'm on it"), inbox.Verbs.ACK(alert.id)),
        Button(t._("Open their card"), caseload.Verbs.OPEN(person.id)),
    )
    return OutboundMessage("\n".join(lines), buttons)


async def _why_officer(push: Push, escalation: Escalation) -> list[str]:
    """Why it reached the officer, as decided when it was queued: no cadre, a cadre the bot cannot reach (sent at
    once), or a cadre who was alerted at a stated time and has not acknowledged it."""
    t, payload = push.t, push.payload
    if "why" not in payload:  # queued before reasons were recorded: only the "not acknowledged" path was
        why: Why | None = Why.not_acknowledged(escalation.cadre_id)
    else:
        why = Why.parse(payload["why"])
    if why not in (Why.NO_CADRE, Why.CADRE_UNREACHABLE, Why.CADRE_CLOSED, Why.NOT_ACKNOWLEDGED):
        return []  # a value another version wrote, or none that explains it: claim nothing
    if why == Why.NO_CADRE or escalation.cadre_id is None:
        return [t._("No cadre is assigned to this person, so this came straight to you.")]
    cadre = await push.repos.staff.get(escalation.cadre_id)
    name = cadre.name if cadre else "—"
    if why == Why.CADRE_UNREACHABLE:
        return [t._("Their cadre ({cadre}) cannot be reached through the assistant, so this came straight to you.",
                    cadre=name)]  # fmt: skip
    if why == Why.CADRE_CLOSED:
        return [t._("The account of their cadre ({cadre}) was closed before they acknowledged this, so it came "
                    "to you.", cadre=name)]  # fmt: skip
    at = escalation.raised_at.astimezone(push.tz)
    return [
        t._("Their cadre ({cadre}) was alerted at {time} on {date} and has not acknowledged it.",
            cadre=name, time=f"{at:%H:%M}", date=push.date(at.date()))
    ]  # fmt: skip


async def _risky(push: Push, named: str, obligation_id: int | None, participant_id: int) -> str:
    """The answers only with the person's consent to share them; without it only their wish to be called
    (the one thing that raises the alert then)."""
    repos, t = push.repos, push.t
    consents = await repos.consents.current(participant_id)
    checkin = await repos.checkins.for_obligation(obligation_id or 0)
    if not consents.get(Purpose.SHARE_WITH_CADRE) or checkin is None:
        return t._("{who} asked to be called after this month's check-in. Please get in touch soon.", who=named)
    reasons = [t._(label) for key, label in _RISK_REASONS.items() if key in risk_reasons(checkin.answers)]
    return t._(
        "{who} may need support, from this month's check-in: {reasons}. Please get in touch soon.",
        who=named,
        reasons=", ".join(reasons),
    )


async def dead_letter(push: Push) -> Rendered:
    """To the officers: a message to someone could not be delivered after every attempt."""
    if push.member is None:
        return WRONG_RECIPIENT
    person = await subject(push)
    if isinstance(person, Skip):
        return person
    t = push.t
    return OutboundMessage(
        "\n".join(
            [
                t._("For your attention:"),
                t._(
                    "A message to {who} could not be delivered after {n} attempts. Please reach them another way.",
                    who=label(t, person),
                    n=push.payload.get("attempts", 0),
                ),
            ]
        )
    )


async def others_alerted(push: Push, told: Told) -> list[str]:
    """What a crisis alert says about the cadre and the officers: only what was done (nothing when unknown)."""
    t = push.t
    if told.cadre_id is not None:
        cadre = await push.repos.staff.get(told.cadre_id)
        return [t._("Their cadre, {cadre}, was alerted too.", cadre=cadre.name if cadre else "—")]
    if told.why == Why.NO_CADRE and told.officers:
        return [t._("They have no cadre; the commune officer was alerted instead.")]
    if told.why == Why.CADRE_UNREACHABLE and told.officers:
        return [t._("Their cadre cannot be reached through the assistant; the commune officer was alerted instead.")]
    if told.why in (Why.NO_CADRE, Why.CADRE_UNREACHABLE):
        return [t._("Neither a cadre nor a commune officer could be alerted through the assistant.")]
    return []


def crisis_unanswered(push: Push, named: str) -> OutboundMessage:
    """To the officers: the counsellor who took an urgent conversation has not answered a crisis message."""
    t = push.t
    return _urgent(
        push,
        t._(
            "{who} wrote about a crisis in a conversation with a counsellor, who has not answered for "
            "{minutes} minutes. Please make sure someone reaches them.",
            who=named,
            minutes=push.payload.get("minutes", 0),
        ),
    )


async def crisis_to_officer(push: Push, named: str, person: Participant) -> OutboundMessage:
    """To the officers: nobody took the urgent referral in time, or there was nobody who could (no point, no
    counsellor) and they are told at once; the time of the crisis message, and what else was done."""
    repos, t, item = push.repos, push.t, push.item
    since = item.payload.get("since")
    at = datetime.fromisoformat(since).astimezone(push.tz) if isinstance(since, str) else None
    why = OfficerWhy.of(item.payload)
    if at is None:  # queued before this was recorded
        first = t._("{who} wrote a crisis message.", who=named)
    else:
        first = t._("{who} wrote a crisis message at {time} on {date}.", who=named, time=f"{at:%H:%M}",
                    date=push.date(at.date()))  # fmt: skip
    lines = [first, t._("They were given the emergency and support numbers."), *phone_line(push, person)]
    if why is OfficerWhy.NO_POINT:
        lines.append(t._("There is no counselling point in their commune, so no counsellor could be alerted."))
    elif why is OfficerWhy.NO_COUNSELLOR:
        lines.append(t._("No counsellor of their counselling point can be reached through the assistant."))
    elif why is OfficerWhy.NOT_TAKEN:
        lines.append(
            t._("No counsellor has taken the urgent referral in {minutes} minutes.",
                minutes=item.payload.get("minutes", 0))
        )  # fmt: skip
    raw = item.payload.get("alerted")
    if raw is None:  # the planner's row after the wait: the round's record
        raw = await repos.outbox.latest_payload(f"crisis:{item.payload.get('referral_id', 0)}:", "alerted")
    alerted = Alerted.from_payload(raw)
    if alerted is not None and alerted.told.cadre_id is not None:
        lines += await others_alerted(push, alerted.told)
    elif alerted is not None and alerted.told.why == Why.NO_CADRE:
        lines.append(t._("They have no cadre."))
    elif alerted is not None and alerted.told.why == Why.CADRE_UNREACHABLE:
        lines.append(t._("Their cadre cannot be reached through the assistant."))
    lines.append(t._("Please make sure someone checks on them in person now."))
    return OutboundMessage(
        "\n".join([t._("Urgent:"), *lines]), (Button(t._("Open their card"), caseload.Verbs.OPEN(person.id)),)
    )


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.ESCALATION: escalation,
    MessageKind.DEAD_LETTER: dead_letter,
}
