"""What follows a crisis message, besides the immediate reply: an urgent referral, the cadre alerted at once (quiet
hours do not hold it), the next counsellor on duty alerted (every counsellor of the point when none is on duty).
Once per episode: while the last crisis alert is open, further messages get the reply again but raise nothing new
(the people alerted are already on it).

Consent to referrals is not asked first: this protects someone's life (the vital-interest ground of the data
protection law), and the person is told who was alerted.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.repositories.escalations import Referral
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.entities import Participant, Role
from bot.domain.planning import MessageKind
from bot.services.escalations import EscalationKind, raise_escalation
from bot.services.relay import answerers, urgent_alert_prefix


async def crisis_alert(repos: Repositories, person: Participant, now: datetime) -> Referral | None:
    """The urgent referral the message belongs to: a new episode's, or (while one is open) the open one's."""
    if await repos.escalations.has_open(person.id, EscalationKind.CRISIS):
        await _audit(repos, person, "crisis_message_again", {})
        return await repos.referrals.open_counselling_of(person.id)
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
    escalation = await raise_escalation(
        repos,
        key=f"{EscalationKind.CRISIS}:{person.id}:{episode}",
        kind=EscalationKind.CRISIS,
        participant_id=person.id,
        unit_id=person.unit_id,
        cadre_id=person.cadre_id,
        now=now,
        urgent=True,
    )
    on_duty, everyone = await answerers(repos, referral.point_id)
    if not everyone:  # no counselling point (or nobody attached to it): the commune's counsellors
        everyone = await repos.staff.in_unit(person.unit_id, Role.COUNSELLOR)
    if referral.status == "accepted" and referral.counsellor_id is not None:
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
    await repos.outbox.add(
        [
            NewMessage(
                f"{urgent_alert_prefix(referral.id, since)}{member.id}",
                MessageKind.CRISIS_ALERT,
                now,
                staff_id=member.id,
                payload={"participant_id": person.id, "referral_id": referral.id},
                urgent=True,
            )
            for member in counsellors
        ]
    )
    await _audit(
        repos,
        person,
        "crisis_alert_raised",
        {"referral": referral.id, "escalation": escalation.id if escalation else None, "counsellors": len(counsellors)},
    )
    return referral


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
