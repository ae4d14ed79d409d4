"""What an outbox row says, rendered when it is sent: in the recipient's language and chosen wording, from the
records as they are at that moment (a check-in done since planning means no reminder at all).

Discretion: a participant's notification is neutral ("you have an appointment") unless they chose explicit wording;
staff notifications start with a neutral line, so a lock screen shows nothing about anyone's treatment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.core.i18n import N_, Catalogs, Translator
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.escalations import Escalation
from bot.db.repositories.obligations import Obligation
from bot.db.repositories.outbox import Claimed
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ActorKind, ParticipantScope, decide
from bot.domain.checkin import risk_reasons
from bot.domain.consent import Purpose
from bot.domain.entities import Participant, ParticipantStatus, Role, StaffMember, Wording
from bot.domain.planning import OPEN_STATUSES, MessageKind, ObligationKind
from bot.domain.schedule import Stage
from bot.flows import caseload, checkin, counsellor, inbox, officer, relay, reviews
from bot.flows.home import where_line
from bot.flows.support import SUPPORT_KINDS
from bot.scheduler import relay_texts
from bot.services.crisis import Alerted, OfficerWhy
from bot.services.escalations import Told, Why
from bot.services.relay import name_for_counsellor

RELAY_KINDS = (MessageKind.RELAY, MessageKind.RELAY_ENDED)

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

_WHAT: dict[ObligationKind, str] = {
    ObligationKind.CHECKIN: N_("monthly check-in"),
    ObligationKind.TEST: N_("scheduled check"),
    ObligationKind.RANDOM_TEST: N_("unannounced check"),
}

_RISK_REASONS = {
    "cravings": N_("strong cravings"),
    "use": N_("says they used"),
    "call": N_("would like a call"),
}


def _urgent(t: Translator, text: str) -> OutboundMessage:
    """A neutral first line (what a lock screen shows), then the matter."""
    return OutboundMessage("\n".join([t._("Urgent:"), text]))


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to send after all (done already, stale, nothing to report); the row is closed as cancelled."""

    reason: str


class Renderer:
    def __init__(self, catalogs: Catalogs, tz: tzinfo) -> None:
        self._catalogs = catalogs
        self._tz = tz

    async def render(self, repos: Repositories, item: Claimed, now: datetime) -> OutboundMessage | Skip:
        if item.participant_id is not None:
            person = await repos.participants.get(item.participant_id)
            if person is None:
                return Skip("no_person")
            t = self._catalogs.translator(person.language)
            if item.kind is MessageKind.REMINDER:
                result = await self._reminder(repos, t, person, item, now)
            elif item.kind is MessageKind.COMPLETION:
                result = self._completion(t, person)
            elif item.kind is MessageKind.SUPPORT_OFFER:
                result = self._support_offer(t, person)
            elif item.kind in RELAY_KINDS:
                rendered = await relay_texts.to_participant(repos, t, person, item)
                result = Skip(rendered) if isinstance(rendered, str) else rendered
            elif item.kind is MessageKind.REFERRAL_ACCEPTED and not await relay_texts.taken(repos, item):
                result = Skip("not_taken")  # handed over to another point since
            elif item.kind is MessageKind.REFERRAL_ACCEPTED and await relay_texts.talking(repos, item):
                result = OutboundMessage(
                    t._("A counsellor has joined your conversation and will answer you here."),
                    (Button(t._("End the conversation"), relay.Verbs.END),),
                    by_label=True,
                )
            elif item.kind is MessageKind.REFERRAL_ACCEPTED:
                result = OutboundMessage(
                    t._(
                        "A counsellor at your counselling point has taken your request. To reach the point, its "
                        "details are under “Help / counselling”."
                    )
                )
            else:
                return Skip("unknown_kind")
        elif item.staff_id is not None:
            member = await repos.staff.get(item.staff_id)
            if member is None or not member.active:
                return Skip("no_staff")
            t = self._catalogs.translator(member.language)
            result = await self._staff(repos, t, member, item, now)
        else:
            return Skip("no_recipient")
        if isinstance(result, Skip):
            return result
        return OutboundMessage(result.text, result.buttons, t.language, by_label=result.by_label)

    def _date(self, t: Translator, day: date) -> str:
        return t.date(day)

    async def _reminder(
        self, repos: Repositories, t: Translator, person: Participant, item: Claimed, now: datetime
    ) -> OutboundMessage | Skip:
        if person.status is not ParticipantStatus.ACTIVE:
            return Skip("inactive")
        stale_at = item.payload.get("stale_at")
        if isinstance(stale_at, str) and datetime.fromisoformat(stale_at) <= now:
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
        text = t._(template, date=self._date(t, obligation.due_on), where=where_line(t, unit)).strip()
        if "with_test" in item.payload:
            also = _WITH_TEST if person.wording is Wording.EXPLICIT else _WITH_VISIT
            text += "\n" + t._(also) + " " + where_line(t, unit)
        return OutboundMessage(text, self._reminder_buttons(t, obligation))

    def _reminder_buttons(self, t: Translator, obligation: Obligation) -> tuple[Button, ...]:
        if obligation.kind is ObligationKind.CHECKIN:
            return (
                Button(t._("Check in this month"), checkin.Verbs.START),
                Button(t._("My appointments"), checkin.Verbs.SCHEDULE),
            )
        if obligation.kind is ObligationKind.RANDOM_TEST:
            return (Button(t._("Got it"), checkin.Verbs.TEST_SEEN(obligation.id)),)
        return (Button(t._("My appointments"), checkin.Verbs.SCHEDULE),)

    def _completion(self, t: Translator, person: Participant) -> OutboundMessage:
        end = person.completed_on or person.expected_end
        text = "\n\n".join(
            [
                t._("Your time with Đồng Hành ended on {date}.", date=self._date(t, end)),
                t._(
                    "Thank you for walking this road with us. Reminders stop now; your commune will complete the "
                    "paperwork with you. We wish you and your family well."
                ),
            ]
        )
        return OutboundMessage(text)

    def _support_offer(self, t: Translator, person: Participant) -> OutboundMessage | Skip:
        """After a difficult result: an offer to talk, in words that reveal nothing on a lock screen."""
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

    async def _staff(
        self, repos: Repositories, t: Translator, member: StaffMember, item: Claimed, now: datetime
    ) -> OutboundMessage | Skip:
        if item.kind in RELAY_KINDS or item.kind is MessageKind.RELAY_REQUEST:
            rendered = await relay_texts.to_staff(repos, t, member, item)
            return Skip(rendered) if isinstance(rendered, str) else rendered
        if item.kind is MessageKind.DIGEST:
            return await self._digest(repos, t, member, item)
        if item.kind is MessageKind.ESCALATION:
            return await self._escalation(repos, t, member, item)
        workspace = await self._workspace(repos, t, member, item)
        if workspace is not None:
            return workspace
        subject = await repos.participants.get(int(item.payload.get("participant_id", 0)))
        if subject is None:
            return Skip("no_person")
        who = t._("{name} (#{id})", name=subject.name, id=subject.id)
        if item.kind is MessageKind.COMPLETION_NOTICE:
            end = date.fromisoformat(str(item.payload.get("end")))
            return OutboundMessage(
                "\n".join(
                    [
                        t._("For your list:"),
                        t._(
                            "{who} reached the end of their term on {date}. Please prepare the completion record "
                            "(Mẫu 54).",
                            who=who,
                            date=self._date(t, end),
                        ),
                    ]
                )
            )
        if item.kind is MessageKind.REFERRAL_NOTICE:
            kind = str(item.payload.get("kind", "counselling"))
            if item.payload.get("point") is False:  # decided when the request was made: nobody at a point sees it
                return OutboundMessage("\n".join([t._("Needs your attention:"), self._no_point_request(t, who, kind)]),
                                       (Button(t._("Open their card"), caseload.Verbs.OPEN(subject.id)),))  # fmt: skip
            if kind == "counselling":
                asked = t._(
                    "{who} would like to talk to a counsellor. Please help them get in touch with the counselling "
                    "point.",
                    who=who,
                )
            else:
                asked = t._(
                    "{who} asked for support: {what}. Please help them get in touch with the counselling point.",
                    who=who,
                    what=t._(SUPPORT_KINDS.get(kind, SUPPORT_KINDS["papers"])),
                )
            return OutboundMessage("\n".join([t._("Needs your attention:"), asked]))
        if item.kind is MessageKind.CRISIS_ALERT:
            referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
            if referral is None or referral.status == "closed":
                return Skip("closed")
            unanswered = item.payload.get("to") == "unanswered"
            if referral.status == "accepted" and not unanswered and referral.counsellor_id != member.id:
                return Skip("taken")  # someone took it since: nobody else is woken
            if unanswered:
                if referral.status != "accepted" or not await repos.relay.unanswered_since(
                    referral.id, str(item.payload.get("since", ""))
                ):
                    return Skip("answered")
                return _urgent(
                    t,
                    t._(
                        "{who} wrote about a crisis in a conversation with a counsellor, who has not answered for "
                        "{minutes} minutes. Please make sure someone reaches them.",
                        who=who,
                        minutes=item.payload.get("minutes", 0),
                    ),
                )
            if item.payload.get("to") == "officer":
                return await self._officer_crisis_alert(repos, t, who, subject, item)
            return await self._crisis_alert(repos, t, subject, referral.id, item)
        if item.kind is MessageKind.DEAD_LETTER:
            return OutboundMessage(
                "\n".join(
                    [
                        t._("For your attention:"),
                        t._(
                            "A message to {who} could not be delivered after {n} attempts. Please reach them "
                            "another way.",
                            who=who,
                            n=item.payload.get("attempts", 0),
                        ),
                    ]
                )
            )
        return Skip("unknown_kind")

    async def _escalation(
        self, repos: Repositories, t: Translator, member: StaffMember, item: Claimed
    ) -> OutboundMessage | Skip:
        escalation = await repos.escalations.get(int(item.payload.get("escalation_id", 0)))
        if escalation is None:
            return Skip("no_escalation")
        if escalation.acknowledged_at is not None:
            return Skip("acknowledged")
        subject = await repos.participants.get(escalation.participant_id)
        if subject is None:
            return Skip("no_person")
        to_officer = item.payload.get("to") == "officer"
        if not await self._still_in_scope(repos, member, escalation.unit_id, subject, to_officer):
            return Skip("not_in_scope")  # reassigned or moved since it was queued: never to the old recipient
        who = t._("{name} (#{id})", name=subject.name, id=subject.id)
        lines = [t._("Needs your attention:")]
        if escalation.kind == "missed_checkin":
            obligation = await repos.obligations.get(escalation.obligation_id or 0)
            due = self._date(t, obligation.due_on) if obligation else "—"
            lines.append(t._("{who} has not checked in this month (due {date}).", who=who, date=due))
        elif escalation.kind == "unreachable":
            lines.append(
                t._(
                    "Messages to {who} can no longer be delivered; they may have blocked or left the chat. "
                    "Please get in touch in person.",
                    who=who,
                )
            )
        elif escalation.kind == "risky_checkin" and to_officer:
            lines.append(t._("{who} may need support after this month's check-in.", who=who))
        elif escalation.kind == "risky_checkin":
            lines.append(await self._risky(repos, t, who, escalation.obligation_id, subject.id))
        elif escalation.kind == "crisis":
            # The bot holds no phone number: what the reader can do is go and see them (or have someone do it).
            at = escalation.raised_at.astimezone(self._tz)
            lines.append(
                t._(
                    "{who} wrote something at {time} on {date} that may mean they are in crisis. They were given the "
                    "emergency and support numbers.",
                    who=who,
                    time=f"{at:%H:%M}",
                    date=self._date(t, at.date()),
                )
            )
            if to_officer:
                lines.append(t._("Please make sure someone checks on them in person now."))
            else:
                lines.append(
                    t._("Please check on them in person now, or ask someone close to them to. If you cannot, tell "
                        "the commune officer.")
                )  # fmt: skip
        elif escalation.kind == "test_result":
            # The result itself is shown only in the chat, after a tap, never in a notification.
            lines.append(t._("Something about {who} needs your follow-up. Tap to see the details.", who=who))
            buttons = (
                Button(t._("See the details"), inbox.Verbs.OPEN(escalation.id)),
                Button(t._("I'm on it"), inbox.Verbs.ACK(escalation.id)),
            )
            return OutboundMessage("\n".join(lines), buttons)
        else:
            lines.append(t._("{who} needs follow-up.", who=who))
        if to_officer:
            lines += await self._why_officer(repos, t, escalation, item)
        buttons = (
            Button(t._("I'm on it"), inbox.Verbs.ACK(escalation.id)),
            Button(t._("Open their card"), caseload.Verbs.OPEN(subject.id)),
        )
        return OutboundMessage("\n".join(lines), buttons)

    async def _why_officer(
        self, repos: Repositories, t: Translator, escalation: Escalation, item: Claimed
    ) -> list[str]:
        """Why it reached the officer, as decided when it was queued: no cadre, a cadre the bot cannot reach (sent at
        once), or a cadre who was alerted at a stated time and has not acknowledged it."""
        if "why" not in item.payload:  # queued before reasons were recorded: only the "not acknowledged" path was
            why: Why | None = Why.not_acknowledged(escalation.cadre_id)
        else:
            why = Why.parse(item.payload["why"])
        if why not in (Why.NO_CADRE, Why.CADRE_UNREACHABLE, Why.CADRE_CLOSED, Why.NOT_ACKNOWLEDGED):
            return []  # a value another version wrote, or none that explains it: claim nothing
        if why == Why.NO_CADRE or escalation.cadre_id is None:
            return [t._("No cadre is assigned to this person, so this came straight to you.")]
        cadre = await repos.staff.get(escalation.cadre_id)
        name = cadre.name if cadre else "—"
        if why == Why.CADRE_UNREACHABLE:
            return [t._("Their cadre ({cadre}) cannot be reached through the assistant, so this came straight to you.",
                        cadre=name)]  # fmt: skip
        if why == Why.CADRE_CLOSED:
            return [t._("The account of their cadre ({cadre}) was closed before they acknowledged this, so it came "
                        "to you.", cadre=name)]  # fmt: skip
        at = escalation.raised_at.astimezone(self._tz)
        return [
            t._("Their cadre ({cadre}) was alerted at {time} on {date} and has not acknowledged it.",
                cadre=name, time=f"{at:%H:%M}", date=self._date(t, at.date()))
        ]  # fmt: skip

    async def _still_in_scope(
        self, repos: Repositories, member: StaffMember, unit_id: int, subject: Participant, to_officer: bool
    ) -> bool:
        unit = await repos.units.get(unit_id)
        scope = ParticipantScope(subject.id, subject.unit_id, unit.parent_id if unit else None, subject.cadre_id)
        actor = Actor(ActorKind.STAFF, member.id, member.role, member.unit_id)
        if not to_officer and member.role is not Role.CADRE:
            return False
        return decide(actor, Action.ACKNOWLEDGE_ESCALATION, scope).allowed  # result alerts go to officers only

    async def _risky(
        self, repos: Repositories, t: Translator, who: str, obligation_id: int | None, participant_id: int
    ) -> str:
        """The answers only with the person's consent to share them; without it only their wish to be called
        (the one thing that raises the alert then)."""
        consents = await repos.consents.current(participant_id)
        checkin = await repos.checkins.for_obligation(obligation_id or 0)
        if not consents.get(Purpose.SHARE_WITH_CADRE) or checkin is None:
            return t._("{who} asked to be called after this month's check-in. Please get in touch soon.", who=who)
        reasons = [t._(label) for key, label in _RISK_REASONS.items() if key in risk_reasons(checkin.answers)]
        return t._(
            "{who} may need support, from this month's check-in: {reasons}. Please get in touch soon.",
            who=who,
            reasons=", ".join(reasons),
        )

    async def _digest(
        self, repos: Repositories, t: Translator, member: StaffMember, item: Claimed
    ) -> OutboundMessage | Skip:
        day = date.fromisoformat(str(item.payload.get("day")))
        items = await repos.obligations.for_cadre(member.id, day - timedelta(days=31), day)
        today_lines: list[str] = []
        overdue_lines: list[str] = []
        missed_lines: list[str] = []
        names: dict[int, str] = {}
        for obligation, pid in items:
            if obligation.kind is ObligationKind.RANDOM_TEST and obligation.due_on > day:
                continue
            if pid not in names:
                person = await repos.participants.get(pid)
                names[pid] = person.name if person else "—"
            line = t._(
                "• {name} (#{id}): {what}, {date}",
                name=names[pid],
                id=pid,
                what=t._(_WHAT[obligation.kind]),
                date=self._date(t, obligation.due_on),
            )
            if obligation.status.value == "missed":
                missed_lines.append(line)
            elif obligation.due_on == day:
                today_lines.append(line)
            elif obligation.due_on < day:
                overdue_lines.append(line)
        if not (today_lines or overdue_lines or missed_lines):
            return Skip("nothing_due")
        lines = [t._("Good morning. Your list for {date}:", date=self._date(t, day))]
        for title, group in (
            (t._("Due today:"), today_lines),
            (t._("Overdue:"), overdue_lines),
            (t._("Missed:"), missed_lines),
        ):
            if group:
                lines += ["", title, *group]
        return OutboundMessage("\n".join(lines))

    async def _crisis_alert(
        self, repos: Repositories, t: Translator, subject: Participant, referral_id: int, item: Claimed
    ) -> OutboundMessage:
        """To the commune's counsellors: the name only if the person consented to referrals, else their code; who
        else was alerted as decided when the round's rows were queued (a later counsellor's row reads the round's)."""
        who = await name_for_counsellor(repos, t, subject)
        raw = item.payload.get("alerted")
        if raw is None:
            raw = await repos.outbox.latest_payload(f"crisis:{referral_id}:", "alerted")
        alerted = Alerted.from_payload(raw)
        lines = [
            t._("Urgent:"),
            t._(
                "{who} may be in crisis and was given the emergency numbers. An urgent counselling referral is open.",
                who=who,
            ),
        ]
        if alerted is not None:
            lines += await self._others_alerted(repos, t, alerted.told)
        return OutboundMessage("\n".join(lines), (Button(t._("See the referral"), counsellor.Verbs.OPEN(referral_id)),))

    async def _others_alerted(self, repos: Repositories, t: Translator, told: Told) -> list[str]:
        """What a crisis alert says about the cadre and the officers: only what was done (nothing when unknown)."""
        if told.cadre_id is not None:
            cadre = await repos.staff.get(told.cadre_id)
            return [t._("Their cadre, {cadre}, was alerted too.", cadre=cadre.name if cadre else "—")]
        if told.why == Why.NO_CADRE and told.officers:
            return [t._("They have no cadre; the commune officer was alerted instead.")]
        if told.why == Why.CADRE_UNREACHABLE and told.officers:
            return [
                t._("Their cadre cannot be reached through the assistant; the commune officer was alerted instead.")
            ]
        if told.why in (Why.NO_CADRE, Why.CADRE_UNREACHABLE):
            return [t._("Neither a cadre nor a commune officer could be alerted through the assistant.")]
        return []

    async def _officer_crisis_alert(
        self, repos: Repositories, t: Translator, who: str, subject: Participant, item: Claimed
    ) -> OutboundMessage:
        """To the officers: nobody took the urgent referral in time, or there was nobody who could (no point, no
        counsellor) and they are told at once; the time of the crisis message, and what else was done."""
        since = item.payload.get("since")
        at = datetime.fromisoformat(since).astimezone(self._tz) if isinstance(since, str) else None
        why = OfficerWhy.of(item.payload)
        if at is None:  # queued before this was recorded
            first = t._("{who} wrote a crisis message.", who=who)
        else:
            first = t._("{who} wrote a crisis message at {time} on {date}.", who=who, time=f"{at:%H:%M}",
                        date=self._date(t, at.date()))  # fmt: skip
        lines = [first, t._("They were given the emergency and support numbers.")]
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
            lines += await self._others_alerted(repos, t, alerted.told)
        elif alerted is not None and alerted.told.why == Why.NO_CADRE:
            lines.append(t._("They have no cadre."))
        elif alerted is not None and alerted.told.why == Why.CADRE_UNREACHABLE:
            lines.append(t._("Their cadre cannot be reached through the assistant."))
        lines.append(t._("Please make sure someone checks on them in person now."))
        return OutboundMessage(
            "\n".join([t._("Urgent:"), *lines]), (Button(t._("Open their card"), caseload.Verbs.OPEN(subject.id)),)
        )

    @staticmethod
    def _no_point_request(t: Translator, who: str, kind: str) -> str:
        if kind == "counselling":
            return t._(
                "{who} would like to talk to a counsellor, but there is no counselling point in your commune yet, "
                "so no counsellor has been told. Please help them find one; the hotlines are in their “Help” menu.",
                who=who,
            )
        return t._(
            "{who} asked for support: {what}. There is no counselling point in your commune yet, so nobody else has "
            "been told: please take it up with them, or pass it on to someone who can help.",
            who=who,
            what=t._(SUPPORT_KINDS.get(kind, SUPPORT_KINDS["papers"])),
        )

    async def _workspace(
        self, repos: Repositories, t: Translator, member: StaffMember, item: Claimed
    ) -> OutboundMessage | Skip | None:
        """Messages of the cadre's workspace; None when the kind is not one of them. Each is re-checked at send time
        (decided already, reassigned since): nothing stale goes out."""
        payload = item.payload
        if item.kind is MessageKind.REVIEW_REQUEST:
            return await self._review_request(repos, t, member, payload)
        if item.kind is MessageKind.REVIEWS_MISSING:
            return await self._reviews_missing(repos, t, member, payload)
        if item.kind is MessageKind.FIELD_REPORT:
            report = await repos.fieldwork.report(int(payload.get("report_id", 0)))
            if report is None or report.status.value != "pending" or report.unit_id != member.unit_id:
                return Skip("decided")
            return OutboundMessage(
                "\n".join([t._("For your confirmation:"), t._("A cadre reported a change for someone on your list.")]),
                (Button(t._("See and confirm"), officer.Verbs.REPORT(report.id)),),
            )
        if item.kind is MessageKind.TRANSFER_NOTICE:
            transfer = await repos.fieldwork.transfer(int(payload.get("transfer_id", 0)))
            if transfer is None or transfer.status.value != "pending" or transfer.to_unit_id != member.unit_id:
                return Skip("decided")
            return OutboundMessage(
                "\n".join([t._("For your list:"), t._("A record is being handed over to your commune.")]),
                (Button(t._("See the hand-over notice"), officer.Verbs.TRANSFER(transfer.id)),),
            )
        if item.kind is MessageKind.CADRE_NEEDED:  # re-read now: reactivated or reassigned since, nothing to say
            cadre = await repos.staff.get(int(payload.get("cadre_id", 0)))
            if cadre is None or cadre.active:
                return Skip("reactivated")
            people = await repos.participants.followed(member.unit_id, cadre.id)
            if not people:
                return Skip("reassigned")
            return OutboundMessage(
                "\n".join(
                    [
                        t._("For your list:"),
                        t.n_(
                            "The account of {cadre} was closed. {n} person they accompanied needs a new cadre.",
                            "The account of {cadre} was closed. {n} people they accompanied need a new cadre.",
                            len(people),
                            cadre=cadre.name,
                        ),
                    ]
                ),
                tuple(
                    Button(t._("{name} (#{id})", name=p.name, id=p.id), caseload.Verbs.OPEN(p.id)) for p in people[:8]
                ),
            )
        if item.kind is MessageKind.ASSIGNMENT:
            subject = await repos.participants.get(int(payload.get("participant_id", 0)))
            if subject is None or subject.cadre_id != member.id:
                return Skip("not_in_scope")
            return OutboundMessage(
                "\n".join(
                    [
                        t._("For your list:"),
                        t._("You now accompany {who}.", who=t._("{name} (#{id})", name=subject.name, id=subject.id)),
                    ]
                ),
                (Button(t._("Open their card"), caseload.Verbs.OPEN(subject.id)),),
            )
        return None

    async def _review_request(
        self, repos: Repositories, t: Translator, member: StaffMember, payload: dict[str, object]
    ) -> OutboundMessage | Skip:
        quarter = str(payload.get("quarter"))
        people = await repos.participants.followed(member.unit_id, member.id)
        missing = len(people) - len(await repos.fieldwork.reviewed(quarter, [p.id for p in people]))
        if missing <= 0:
            return Skip("written")
        year, q = quarter.split("-Q")
        text = "\n".join(
            [
                t._("For your list:"),
                t.n_(
                    "Quarterly review for quarter {q}/{year}: {n} person still needs your assessment (due {date}).",
                    "Quarterly review for quarter {q}/{year}: {n} people still need your assessment (due {date}).",
                    missing,
                    q=q,
                    year=year,
                    date=self._date(t, date.fromisoformat(str(payload.get("due")))),
                ),
            ]
        )
        return OutboundMessage(text, (Button(t._("Quarterly review"), reviews.Verbs.START),))

    async def _reviews_missing(
        self, repos: Repositories, t: Translator, member: StaffMember, payload: dict[str, object]
    ) -> OutboundMessage | Skip:
        quarter = str(payload.get("quarter"))
        people = await repos.participants.followed(member.unit_id)
        done = await repos.fieldwork.reviewed(quarter, [p.id for p in people])
        missing = [p for p in people if p.id not in done]
        if not missing:
            return Skip("written")
        year, q = quarter.split("-Q")
        text = "\n".join(
            [
                t._("For your attention:"),
                t.n_(
                    "The quarterly review for quarter {q}/{year} is past its deadline; {n} assessment is missing.",
                    "The quarterly review for quarter {q}/{year} is past its deadline; {n} assessments are missing.",
                    len(missing),
                    q=q,
                    year=year,
                ),
            ]
        )
        return OutboundMessage(text, (Button(t._("Quarterly review"), reviews.Verbs.START),))
