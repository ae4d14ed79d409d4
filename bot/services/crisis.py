"""What follows a crisis message, besides the immediate reply: an urgent referral, the cadre alerted at once (quiet
hours do not hold it), the next counsellor on duty alerted (every counsellor of the point when none is on duty).
Once per episode: while the last crisis alert is open, further messages get the reply again but raise nothing new
(the people alerted are already on it).

Consent to referrals is not asked first: this protects someone's life (the vital-interest ground of the data
protection law), and the person is told who was alerted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.db.repositories.outbox import NewMessage
from bot.db.repositories.referrals import Referral
from bot.db.store import Repositories
from bot.domain.entities import Participant
from bot.domain.escalations import EscalationKind
from bot.domain.planning import MessageKind
from bot.domain.referrals import ReferralStatus
from bot.services.escalations import Told, raise_and_tell, reachable, tell_officers
from bot.services.relay import answerers, urgent_alert_prefix


class OfficerWhy(StrEnum):
    """Why a crisis alert reached the officers (payload key "officer_why"; the cadre's side is `Told.why`)."""

    NO_POINT = "no_point"  # no counselling point in the commune: no counsellor could be alerted, told at once
    NO_COUNSELLOR = "no_counsellor"  # no counsellor of the point can be reached: told at once
    NOT_TAKEN = "not_taken"  # counsellors were alerted and nobody took the urgent referral in time (the planner)

    @classmethod
    def of(cls, payload: dict[str, object]) -> OfficerWhy | None:
        """Read leniently: rows queued before the key was split kept it under "why"; the planner's rows then carried
        only "minutes". None when the reason is not known (the text then claims none)."""
        raw = payload.get("officer_why", payload.get("why"))
        try:
            return cls(raw) if isinstance(raw, str) else (cls.NOT_TAKEN if "minutes" in payload else None)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Alerted:
    """Who a crisis episode's alerts went to, decided when the rows were queued: what the person is told, and what
    each alert says about the others (the same payload, by id)."""

    counsellors: int  # counsellors of the person's point alerted
    has_point: bool
    told: Told  # the cadre, or the officers when the cadre could not be reached
    officers_now: tuple[int, ...] = ()  # reachable officers alerted at once because no counsellor could be

    def payload(self) -> dict[str, object]:
        return {**self.told.payload(), "counsellors": self.counsellors, "point": self.has_point,
                "officers_now": list(self.officers_now)}  # fmt: skip

    @classmethod
    def from_payload(cls, value: object) -> Alerted | None:
        told = Told.from_payload(value)
        if told is None or not isinstance(value, dict):
            return None
        now = tuple(o for o in value.get("officers_now") or [] if isinstance(o, int))
        return cls(int(value.get("counsellors") or 0), bool(value.get("point")), told, now)

    @property
    def cadre(self) -> bool:
        return self.told.cadre_id is not None

    @property
    def officers(self) -> bool:
        return bool(self.told.officers or self.officers_now)


@dataclass(frozen=True, slots=True)
class CrisisOutcome:
    referral: Referral | None
    alerted: Alerted | None  # None: nothing new was raised and the earlier round's record was not found


async def crisis_alert(repos: Repositories, person: Participant, now: datetime) -> CrisisOutcome:
    """The urgent referral the message belongs to (a new episode's, or while one is open the open one's) and who was
    alerted (for a repeat: who was alerted in the episode's round)."""
    if await repos.escalations.has_open(person.id, EscalationKind.CRISIS):
        await _audit(repos, person, "crisis_message_again", {})
        open_referral = await repos.referrals.open_counselling_of(person.id)
        earlier = (
            await repos.outbox.latest_payload(f"crisis:{open_referral.id}:", "alerted") if open_referral else None
        )
        return CrisisOutcome(open_referral, Alerted.from_payload(earlier))
    # Already asking for a counsellor (or talking with one): that request becomes urgent, not a second one.
    referral = await repos.referrals.open_counselling_of(person.id)
    if referral is not None:
        since = await repos.referrals.make_urgent(referral.id)
    else:
        point_id = await repos.points.first_in(person.unit_id)
        referral_id = await repos.referrals.request(
            person.id, "counselling", source="crisis", urgency="urgent", point_id=point_id
        )
        referral = await repos.referrals.get(referral_id)
        assert referral is not None
        since = referral.created_at
    assert referral is not None
    episode = await repos.escalations.count_kind(person.id, EscalationKind.CRISIS)
    escalation, told = await raise_and_tell(
        repos,
        key=f"{EscalationKind.CRISIS}:{person.id}:{episode}",
        kind=EscalationKind.CRISIS,
        participant_id=person.id,
        unit_id=person.unit_id,
        cadre_id=person.cadre_id,
        now=now,
        urgent=True,
    )
    # Only a counsellor of the referral's point can take it: with no point (or nobody attached to it) nobody is told
    # something they cannot act on; the officers are told at once instead (below).
    on_duty, everyone = await answerers(repos, referral.point_id)
    if referral.status == ReferralStatus.ACCEPTED and referral.counsellor_id is not None:
        # The counsellor who took the conversation is the one to answer; if they do not, the officers hear of it.
        # Off duty (or gone from the point): the next counsellor on duty is told too.
        counsellors = [member for member in on_duty if member.id == referral.counsellor_id]
        if not counsellors:
            holder = [member for member in everyone if member.id == referral.counsellor_id]
            counsellors = holder + [member for member in on_duty[:1] if member not in holder]
    else:
        # The next counsellor on duty; every ten minutes nobody takes it, the planner wakes the following one.
        # Nobody on duty: all of them at once.
        counsellors = on_duty[:1] or everyone
    reached = await reachable(repos, [member.id for member in counsellors])
    prefix = urgent_alert_prefix(referral.id, since)
    officers_now: list[int] = []
    if not reached:  # nobody can take it: the officers now, under the key the planner would use after the wait
        officers_now = await reachable(repos, await repos.escalations.officers_of(person.unit_id))
    alerted = Alerted(len(reached), referral.point_id is not None, told, tuple(officers_now))
    payload = {"participant_id": person.id, "referral_id": referral.id, "alerted": alerted.payload()}
    await repos.outbox.add(
        [
            NewMessage(f"{prefix}{member.id}", MessageKind.CRISIS_ALERT, now, staff_id=member.id, payload=payload,
                       urgent=True)
            for member in counsellors
        ]
    )  # fmt: skip
    if not reached:
        why = OfficerWhy.NO_POINT if referral.point_id is None else OfficerWhy.NO_COUNSELLOR
        waited = {**payload, "to": "officer", "officer_why": why.value, "since": since.isoformat()}
        await tell_officers(repos, person.unit_id, f"{prefix}sla", MessageKind.CRISIS_ALERT, now, waited, True)
    await _audit(
        repos,
        person,
        "crisis_alert_raised",
        {"referral": referral.id, "escalation": escalation.id if escalation else None, "counsellors": len(counsellors)},
    )
    return CrisisOutcome(referral, alerted)


async def _audit(repos: Repositories, person: Participant, action: str, detail: dict[str, object]) -> None:
    """The person's own message set it off; what they wrote is never recorded."""
    await repos.audit.record(
        actor_type="participant",
        actor_id=person.id,
        action=action,
        outcome="ok",
        subject_type="participant",
        subject_id=person.id,
        detail=detail,
    )
