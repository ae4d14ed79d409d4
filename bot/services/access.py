"""Taking access away: close a staff member's account, unlink a person's chats (a lost or handed-on phone).

One place for the operations the CLI runs today and the console will offer: access ends in the same transaction
(every message reads its chat's identity and the person behind it afresh, so the next message or button press from an
unlinked chat is an unlinked chat's, mid-flow included), nothing still queued for a closed account goes out, and
whoever depended on that person is looked after: a cadre's people stay listed and the commune's officers are told
they need a new cadre; what a counsellor had taken waits again at their counselling point.

`by` is the staff member acting through a console, checked against the authorisation table; None is the server's
operator (shell access to the server), whose actions are recorded (`Operator`) but not restricted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ParticipantScope, decide, unit_scope
from bot.domain.entities import ParticipantStatus, Role, StaffMember
from bot.domain.planning import MessageKind
from bot.services.escalations import tell_officers
from bot.services.operators import Operator
from bot.services.relay import answerers

CHANNELS = ("telegram", "zalo", "simulator")


class AccessError(ValueError):
    """The change cannot be made as asked (unknown record, not allowed); the message says why."""


@dataclass(frozen=True, slots=True)
class Deactivated:
    staff_id: int
    active: bool
    unlinked: int  # chats unlinked now
    cancelled: int  # queued messages to them that will not go out
    invites_revoked: int
    people_without_cadre: list[int] = field(default_factory=list)  # a cadre's people, now for the officers to reassign
    referrals_released: list[int] = field(default_factory=list)  # a counsellor's, waiting again at their point

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stamp(now: datetime) -> str:
    return f"{now.astimezone(UTC):%Y%m%d%H%M%S%f}"


async def _staff(repos: Repositories, staff_id: int, by: Actor | None) -> StaffMember:
    member = await repos.staff.get(staff_id)
    if member is None:
        raise AccessError(f"no staff member {staff_id}")
    if by is not None:
        unit = await repos.units.get(member.unit_id)
        if not decide(by, Action.MANAGE_STAFF, unit_scope(member.unit_id, unit.parent_id if unit else None)):
            raise AccessError("not allowed")
    return member


async def _participant_scope(repos: Repositories, participant_id: int) -> ParticipantScope:
    person = await repos.participants.get(participant_id)
    if person is None:
        raise AccessError(f"no participant {participant_id}")
    unit = await repos.units.get(person.unit_id)
    return ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)


async def deactivate_staff(
    repos: Repositories, staff_id: int, operator: Operator, now: datetime, by: Actor | None = None
) -> Deactivated:
    """Close the account at once: inactive, every chat unlinked, unused invite codes revoked, nothing queued for them
    sent; a cadre's people stay listed (the officers are told they need a new cadre), a counsellor's taken referrals
    wait again at the point (its counsellors are told of each conversation). Running it again changes nothing more."""
    member = await _staff(repos, staff_id, by)
    await repos.staff.set_active(staff_id, False)
    unlinked = await repos.identities.unlink_person(staff_id=staff_id)
    cancelled = await repos.outbox.cancel_all_to_staff(staff_id, "deactivated")
    revoked = await repos.invites.revoke(staff_id=staff_id)
    result = Deactivated(staff_id, False, len(unlinked), cancelled, revoked)
    if member.role is Role.CADRE:
        people = [p.id for p in await repos.participants.followed(member.unit_id, staff_id)]
        if people and member.active:
            await tell_officers(
                repos, member.unit_id, f"cadre_needed:{staff_id}:{_stamp(now)}", MessageKind.CADRE_NEEDED, now,
                {"cadre_id": staff_id},
            )  # fmt: skip
        result.people_without_cadre.extend(people)
    if member.role is Role.COUNSELLOR:
        for referral in await repos.referrals.release(staff_id):
            result.referrals_released.append(referral.id)
            if referral.conversation:  # someone is talking, or waiting to: the point's counsellors hear of it
                on_duty, everyone = await answerers(repos, referral.point_id)
                await repos.outbox.add(
                    [
                        NewMessage(f"released:{referral.id}:{_stamp(now)}:staff:{m.id}", MessageKind.RELAY_REQUEST,
                                   now, staff_id=m.id, urgent=referral.urgency == "urgent",
                                   payload={"participant_id": referral.participant_id, "referral_id": referral.id})
                        for m in on_duty or everyone
                    ]
                )  # fmt: skip
    await operator.record(
        repos,
        "staff_deactivated",
        subject_type="staff",
        subject_id=staff_id,
        detail={
            "chats_unlinked": result.unlinked,
            "messages_cancelled": cancelled,
            "invites_revoked": revoked,
            "people_without_cadre": len(result.people_without_cadre),
            "referrals_released": len(result.referrals_released),
        },
    )
    return result


async def activate_staff(repos: Repositories, staff_id: int, operator: Operator, by: Actor | None = None) -> int:
    """Undo a deactivation: the account is active again; no chat comes back (a new invite links one). Returns how
    many chats are linked (0 after a deactivation)."""
    await _staff(repos, staff_id, by)
    await repos.staff.set_active(staff_id, True)
    await operator.record(repos, "staff_activated", subject_type="staff", subject_id=staff_id)
    return await repos.identities.count_of(staff_id=staff_id)


async def unlink_chats(
    repos: Repositories,
    operator: Operator,
    *,
    participant_id: int | None = None,
    staff_id: int | None = None,
    channel: str | None = None,
    reason: str = "unlinked",
    by: Actor | None = None,
) -> list[str]:
    """Unlink one person's chats (all, or the one on `channel`) with their conversation state; the channels unlinked.
    A participant left with no chat is back to "enrolled" (no reminders) until a new code links a phone."""
    if (participant_id is None) == (staff_id is None):
        raise AccessError("name exactly one participant or one staff member")
    if channel is not None and channel not in CHANNELS:
        raise AccessError(f"channel must be one of {', '.join(CHANNELS)}")
    if participant_id is not None:
        scope = await _participant_scope(repos, participant_id)
        if by is not None and not decide(by, Action.MANAGE_LIST, scope):
            raise AccessError("not allowed")
        unlinked = await repos.identities.unlink_person(participant_id=participant_id, channel=channel)
        person = await repos.participants.get(participant_id)
        left = await repos.identities.count_of(participant_id=participant_id)
        if person is not None and person.status is ParticipantStatus.ACTIVE and not left:
            await repos.participants.update(participant_id, status=ParticipantStatus.ENROLLED)
        subject_type, subject_id = "participant", participant_id
    else:
        assert staff_id is not None
        await _staff(repos, staff_id, by)
        unlinked = await repos.identities.unlink_person(staff_id=staff_id, channel=channel)
        subject_type, subject_id = "staff", staff_id
    await operator.record(
        repos,
        "chat_unlinked",
        subject_type=subject_type,
        subject_id=subject_id,
        detail={"reason": reason, "chats": len(unlinked), "channels": sorted(set(unlinked))},
    )
    return unlinked


async def linked_chats(repos: Repositories, *, participant_id: int | None = None, staff_id: int | None = None) -> int:
    return await repos.identities.count_of(participant_id=participant_id, staff_id=staff_id)
