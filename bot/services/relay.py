"""The conversation between a person and a counsellor through the bot: who is asked to answer, and the messages.

Every message is stored encrypted (RelayRepository) and goes out through the outbox by reference, marked urgent: the
person started this conversation, so quiet hours do not hold its replies. The person never learns which counsellor
answers ("Tư vấn viên"); the counsellor sees the person's name only with their consent to referrals.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bot.core.i18n import Translator
from bot.db.repositories.outbox import NewMessage
from bot.db.repositories.referrals import Referral
from bot.db.store import Repositories
from bot.domain.consent import Purpose
from bot.domain.entities import CounsellingPoint, Participant, StaffMember
from bot.domain.opening import read as read_hours
from bot.domain.planning import MessageKind
from bot.domain.referrals import ReferralStatus


async def name_for_counsellor(repos: Repositories, t: Translator, person: Participant) -> str:
    """A counsellor sees a person's name only if they consented to referrals; otherwise their code."""
    if (await repos.consents.current(person.id)).get(Purpose.REFERRALS):
        return t._("{name} (#{id})", name=person.name, id=person.id)
    return t._("a person on the list (#{id})", id=person.id)


def urgent_alert_prefix(referral_id: int, since: datetime) -> str:
    """Keys of the alerts of one crisis episode on a referral (since = when it became urgent): a later episode on the
    same referral starts its own round of alerts."""
    return f"crisis:{referral_id}:{since.astimezone(UTC):%Y%m%d%H%M%S%f}:counsellor:"


async def answerers(repos: Repositories, point_id: int | None) -> tuple[list[StaffMember], list[StaffMember]]:
    """(on duty, everyone) among the counsellors of a point, in the fixed order "next on duty" follows."""
    if point_id is None:
        return [], []
    everyone = await repos.staff.counsellors_of(point_id)
    return [c for c in everyone if c.on_duty], everyone


async def ask_counsellors(
    repos: Repositories, referral_id: int, participant_id: int, point: CounsellingPoint, now: datetime, tz: tzinfo
) -> tuple[str, datetime | None]:
    """Tell the point someone wants to talk. Returns ("now" | "no_one_on_duty" | "closed", when the point opens).

    Open with someone on duty: those on duty, at once. Open but nobody on duty: every counsellor of the point (their
    phones may sleep: quiet hours apply). Closed: every counsellor of the point when it opens."""
    on_duty, everyone = await answerers(repos, point.id)
    hours = read_hours(point.hours)
    if hours.is_open(now, tz) and on_duty:
        situation, due, recipients, urgent = "now", now, on_duty, True
    elif hours.is_open(now, tz):
        situation, due, recipients, urgent = "no_one_on_duty", now, everyone, False
    else:
        opening = hours.next_opening(now, tz)
        assert opening is not None
        situation, due, recipients, urgent = "closed", opening, everyone, False
    payload = {"participant_id": participant_id, "referral_id": referral_id}
    await repos.outbox.add(
        [
            NewMessage(f"talk:{referral_id}:staff:{m.id}", MessageKind.RELAY_REQUEST, due, staff_id=m.id,
                       payload=payload, urgent=urgent)
            for m in recipients
        ]
    )  # fmt: skip
    return situation, None if situation != "closed" else due


async def from_participant(repos: Repositories, referral: Referral, text: str, now: datetime) -> int:
    """Kept for the counsellor; pushed to them only once one has taken the conversation (before, they read the
    waiting messages when they take it)."""
    message_id = await repos.relay.add(referral.id, referral.participant_id, "participant", text)
    if referral.status == ReferralStatus.ACCEPTED and referral.counsellor_id is not None:
        await repos.outbox.add(
            [
                NewMessage(f"relay:{message_id}", MessageKind.RELAY, now, staff_id=referral.counsellor_id,
                           payload={"relay_id": message_id, "referral_id": referral.id}, urgent=True)
            ]
        )  # fmt: skip
    return message_id


async def from_counsellor(repos: Repositories, referral: Referral, counsellor_id: int, text: str, now: datetime) -> int:
    message_id = await repos.relay.add(referral.id, referral.participant_id, "counsellor", text, staff_id=counsellor_id)
    await repos.referrals.replied(referral.id, counsellor_id)
    await repos.outbox.add(
        [
            NewMessage(f"relay:{message_id}", MessageKind.RELAY, now, participant_id=referral.participant_id,
                       payload={"relay_id": message_id, "referral_id": referral.id}, urgent=True)
        ]
    )  # fmt: skip
    return message_id


async def ended(repos: Repositories, referral: Referral, by: str, now: datetime) -> None:
    """The other side hears that the conversation is over (the one who ended it sees it in their chat)."""
    payload = {"referral_id": referral.id, "participant_id": referral.participant_id, "by": by}
    if by == "counsellor":
        message = NewMessage(f"relay_end:{referral.id}", MessageKind.RELAY_ENDED, now,
                             participant_id=referral.participant_id, payload=payload, urgent=True)  # fmt: skip
    elif referral.counsellor_id is not None:
        message = NewMessage(f"relay_end:{referral.id}", MessageKind.RELAY_ENDED, now,
                             staff_id=referral.counsellor_id, payload=payload, urgent=True)  # fmt: skip
    else:
        return
    await repos.outbox.add([message])
