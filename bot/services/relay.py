"""The conversation between a person and a counsellor through the bot: who is asked to answer, and the messages.
The same rows and messages carry a person's conversation with their own cadre ("Nhắn người đồng hành").

Every message is stored encrypted (RelayRepository) and goes out through the outbox by reference. Replies to the
person are marked urgent: the person started this conversation, so quiet hours do not hold them. The person never
learns which counsellor answers ("Tư vấn viên"); the counsellor sees the person's name only with their consent to
referrals.

With their cadre, the person writes to "Người đồng hành" (never a name), and only the cadre assigned to them now
answers (the authorisation table's MESSAGE_PARTICIPANT, asked with the record as it is): the conversation is bound
to the cadre it was opened with, so a reassignment, a move or a closed account ends it (the person is told), and a new
one starts with whoever accompanies them next — words said to one cadre are never shown to another. A cadre is not
on duty: the person's words reach them within the day's hours (quiet hours hold them), and the crisis net answers a
crisis at once whatever the conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bot.core.i18n import Translator
from bot.db.repositories.outbox import NewMessage
from bot.db.repositories.referrals import Referral
from bot.db.store import Repositories
from bot.domain.consent import Purpose
from bot.domain.entities import CounsellingPoint, Participant, Role, StaffMember
from bot.domain.opening import read as read_hours
from bot.domain.planning import MessageKind
from bot.domain.referrals import CADRE_CONVERSATION, ReferralStatus
from bot.services.escalations import note_crisis_answer, reachable


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


async def from_participant(
    repos: Repositories, referral: Referral, text: str, now: datetime, urgent: bool | None = None
) -> int:
    """Kept for the counsellor; pushed to them only once one has taken the conversation (before, they read the
    waiting messages when they take it). To a cadre at once, within the day's hours unless `urgent` (crisis words)."""
    message_id = await repos.relay.add(referral.id, referral.participant_id, "participant", text)
    if urgent is None:
        urgent = referral.kind != CADRE_CONVERSATION
    if referral.status == ReferralStatus.ACCEPTED and referral.counsellor_id is not None:
        await repos.outbox.add(
            [
                NewMessage(f"relay:{message_id}", MessageKind.RELAY, now, staff_id=referral.counsellor_id,
                           payload={"relay_id": message_id, "referral_id": referral.id}, urgent=urgent)
            ]
        )  # fmt: skip
    return message_id


def staff_sender(referral: Referral) -> str:
    """How the staff side of a conversation is stored as a message's sender."""
    return "cadre" if referral.kind == CADRE_CONVERSATION else "counsellor"


async def from_counsellor(repos: Repositories, referral: Referral, counsellor_id: int, text: str, now: datetime) -> int:
    """The staff side's words (a counsellor's, or the cadre's in a conversation with them), to the person."""
    sender = staff_sender(referral)
    message_id = await repos.relay.add(referral.id, referral.participant_id, sender, text, staff_id=counsellor_id)
    await repos.referrals.replied(referral.id, counsellor_id)
    if referral.urgency == "urgent" and referral.first_reply_at is None:  # perhaps a crisis's first answer (metrics)
        await note_crisis_answer(repos, referral.participant_id, now)
    await repos.outbox.add(
        [
            NewMessage(f"relay:{message_id}", MessageKind.RELAY, now, participant_id=referral.participant_id,
                       payload={"relay_id": message_id, "referral_id": referral.id}, urgent=True)
        ]
    )  # fmt: skip
    return message_id


async def ended(repos: Repositories, referral: Referral, by: str, now: datetime) -> None:
    """The other side hears that the conversation is over (the one who ended it sees it in their chat). `by`:
    "participant", "counsellor", "cadre", or `CHANGED` (the person's cadre changed or closed their account: only
    the person is told, within the day's hours)."""
    payload = {"referral_id": referral.id, "participant_id": referral.participant_id, "by": by}
    if by == CHANGED:
        message = NewMessage(f"relay_end:{referral.id}", MessageKind.RELAY_ENDED, now,
                             participant_id=referral.participant_id, payload=payload)  # fmt: skip
    elif by in ("counsellor", "cadre"):
        message = NewMessage(f"relay_end:{referral.id}", MessageKind.RELAY_ENDED, now,
                             participant_id=referral.participant_id, payload=payload, urgent=True)  # fmt: skip
    elif referral.counsellor_id is not None:
        message = NewMessage(f"relay_end:{referral.id}", MessageKind.RELAY_ENDED, now,
                             staff_id=referral.counsellor_id, payload=payload,
                             urgent=referral.kind != CADRE_CONVERSATION)  # fmt: skip
    else:
        return
    await repos.outbox.add([message])


# --- the person's conversation with their cadre --------------------------------------------------------------------

CHANGED = "changed"  # how `ended` is told a conversation ended because the cadre changed (RELAY_ENDED's "by")


async def cadre_to_write(repos: Repositories, person: Participant) -> StaffMember | None:
    """The cadre the person can write to now: assigned, an active cadre of their commune, with a chat the assistant
    can reach. None: nobody (the person is told whom to turn to instead)."""
    if person.cadre_id is None:
        return None
    cadre = await repos.staff.get(person.cadre_id)
    if cadre is None or not cadre.active or cadre.role is not Role.CADRE or cadre.unit_id != person.unit_id:
        return None
    return cadre if await reachable(repos, [cadre.id]) else None


def with_current_cadre(person: Participant, referral: Referral) -> bool:
    """The conversation is still with the cadre who accompanies the person now (the record, read now, decides)."""
    return referral.kind == CADRE_CONVERSATION and referral.counsellor_id == person.cadre_id


async def open_with_cadre(repos: Repositories, person: Participant, cadre_id: int) -> tuple[int, bool]:
    """The person's conversation with this cadre: the one going on, or a new one ((referral, opened now)). One left
    open with an earlier cadre is ended first (the person is told)."""
    for referral_id, _, with_cadre in await repos.relay.open_with_cadres(participant_id=person.id):
        if with_cadre == cadre_id:
            return referral_id, False
        await end_with_cadre(repos, referral_id, CHANGED, ("system", None))
    return await repos.relay.start_with_cadre(person.id, cadre_id), True


async def end_with_cadre(repos: Repositories, referral_id: int, by: str, actor: tuple[str, int | None]) -> bool:
    """End a conversation with a cadre and tell the other side (`by`, see `ended`) as of its end; False if it had
    already ended."""
    if not await repos.relay.end_with_cadre(referral_id, *actor):
        return False
    referral = await repos.referrals.get(referral_id)
    assert referral is not None and referral.relay_ended_at is not None
    await ended(repos, referral, by, referral.relay_ended_at)
    return True


async def cadre_changed(repos: Repositories, participant_id: int, cadre_id: int | None) -> int:
    """The person's cadre changed (`cadre_id`: the new one, None: nobody, a move): a conversation with any other
    cadre ends, and the person is told; the new cadre starts afresh. Returns how many ended."""
    count = 0
    for referral_id, _, with_cadre in await repos.relay.open_with_cadres(participant_id=participant_id):
        if with_cadre != cadre_id:
            count += await end_with_cadre(repos, referral_id, CHANGED, ("system", None))
    return count


async def cadre_closed(repos: Repositories, staff_id: int) -> int:
    """A cadre's account was closed: every conversation they were in ends, and each person is told. Returns how
    many ended."""
    count = 0
    for referral_id, _, _ in await repos.relay.open_with_cadres(cadre_id=staff_id):
        count += await end_with_cadre(repos, referral_id, CHANGED, ("operator", None))
    return count
