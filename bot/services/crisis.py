"""What follows a crisis message, besides the immediate reply: an urgent referral, the cadre alerted at once (quiet
hours do not hold it), the commune's counsellors alerted. Once per episode: while the last crisis alert is open,
further messages get the reply again but raise nothing new (the people alerted are already on it).

Consent to referrals is not asked first: this protects someone's life (the vital-interest ground of the data
protection law), and the person is told who was alerted.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.entities import Participant, Role
from bot.domain.planning import MessageKind
from bot.services.escalations import EscalationKind, raise_escalation


async def crisis_alert(repos: Repositories, person: Participant, now: datetime) -> bool:
    """Returns whether a new episode was raised (False: one is already open)."""
    if await repos.escalations.has_open(person.id, EscalationKind.CRISIS):
        await _audit(repos, person, "crisis_message_again", {})
        return False
    point_id = await repos.points.first_in(person.unit_id)
    referral_id = await repos.referrals.request(
        person.id, "counselling", source="crisis", urgency="urgent", point_id=point_id
    )
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
    everyone = await repos.staff.in_unit(person.unit_id, Role.COUNSELLOR)
    counsellors = [c for c in everyone if c.on_duty] or everyone  # on duty first; nobody on duty: all of them
    await repos.outbox.add(
        [
            NewMessage(
                f"crisis:{referral_id}:counsellor:{member.id}",
                MessageKind.CRISIS_ALERT,
                now,
                staff_id=member.id,
                payload={"participant_id": person.id, "referral_id": referral_id},
                urgent=True,
            )
            for member in counsellors
        ]
    )
    await _audit(
        repos,
        person,
        "crisis_alert_raised",
        {"referral": referral_id, "escalation": escalation.id if escalation else None, "counsellors": len(counsellors)},
    )
    return True


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
