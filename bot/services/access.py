"""Taking access away: close a staff member's account, unlink a person's chats (a lost or handed-on phone).

One place for the operations the CLI runs today and the console will offer: access ends in the same transaction
(every message reads its chat's identity and the person behind it afresh, so the next message or button press from an
unlinked chat is an unlinked chat's, mid-flow included), nothing still queued for a closed account goes out, and
whoever depended on that person is looked after: a cadre's people stay listed and the commune's officers are told
they need a new cadre, and what was waiting on the cadre (alerts not yet acknowledged, a crisis included) goes to
them at once; what a counsellor had taken waits again at their counselling point.

`by` is the staff member acting through a console, checked against the authorisation table (MANAGE_STAFF ranks who
may close whose account; MANAGE_LIST a participant's chats); None is the server's operator (shell access to the
server), whose actions are recorded (`Operator`) but not restricted. A refusal raises `Refused` after recording the
denial in the caller's transaction, before anything was changed: the caller commits it (catch `Refused` inside the
transaction block, re-raise or answer after it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.channel_names import CHANNELS
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ParticipantScope, StaffScope, decide
from bot.domain.entities import ParticipantStatus, Role, StaffMember
from bot.domain.planning import MessageKind
from bot.services.escalations import Why, cadre_cannot_act, tell_officers
from bot.services.operators import Operator
from bot.services.relay import answerers, cadre_closed
from bot.services.signin import end_sessions


class AccessError(ValueError):
    """The change cannot be made as asked (unknown record, not allowed); the message says why."""


class Refused(AccessError):
    """The acting staff member may not do this; the denial is recorded in the caller's transaction (nothing else
    was changed), so the caller commits it."""


@dataclass(frozen=True, slots=True)
class Deactivated:
    staff_id: int
    active: bool
    unlinked: int  # chats unlinked now
    cancelled: int  # queued messages to them that will not go out
    invites_revoked: int
    alerts_to_officers: int = 0  # alerts that were waiting on them, now with the commune's officers
    people_without_cadre: list[int] = field(default_factory=list)  # a cadre's people, now for the officers to reassign
    referrals_released: list[int] = field(default_factory=list)  # a counsellor's, waiting again at their point

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON: chats are `unlinked_chats` / `linked_chats` in every command's output."""
        out = asdict(self)
        out["unlinked_chats"] = out.pop("unlinked")
        return out


def _stamp(now: datetime) -> str:
    return f"{now.astimezone(UTC):%Y%m%d%H%M%S%f}"


async def _refuse(
    repos: Repositories, operator: Operator, action: Action, subject: tuple[str, int], reason: str
) -> Refused:
    """Audit a staff actor's refused attempt (never silent) and return the error to raise."""
    await operator.record(
        repos, f"denied:{action.value}", subject_type=subject[0], subject_id=subject[1], outcome="denied",
        detail={"reason": reason},
    )  # fmt: skip
    return Refused("not allowed")


async def _staff(repos: Repositories, staff_id: int, operator: Operator, by: Actor | None) -> StaffMember:
    """The staff member to act on, if `by` (when given) may manage their account."""
    member = await repos.staff.get(staff_id)
    if member is None:
        if by is not None:  # a guessed or stale id from a console is a denial like any other
            raise await _refuse(repos, operator, Action.MANAGE_STAFF, ("staff", staff_id), "no such record")
        raise AccessError(f"no staff member {staff_id}")
    if by is not None:
        unit = await repos.units.get(member.unit_id)
        scope = StaffScope(member.id, member.role, member.unit_id, unit.parent_id if unit else None)
        decision = decide(by, Action.MANAGE_STAFF, scope)
        if not decision:
            raise await _refuse(repos, operator, Action.MANAGE_STAFF, ("staff", staff_id), decision.reason)
    return member


async def _participant_scope(
    repos: Repositories, participant_id: int, operator: Operator, by: Actor | None
) -> ParticipantScope:
    """The participant's scope, if `by` (when given) may manage their record (their chats among it)."""
    person = await repos.participants.get(participant_id)
    if person is None:
        if by is not None:
            raise await _refuse(repos, operator, Action.MANAGE_LIST, ("participant", participant_id), "no such record")
        raise AccessError(f"no participant {participant_id}")
    unit = await repos.units.get(person.unit_id)
    scope = ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)
    if by is not None:
        decision = decide(by, Action.MANAGE_LIST, scope)
        if not decision:
            raise await _refuse(repos, operator, Action.MANAGE_LIST, ("participant", participant_id), decision.reason)
    return scope


async def deactivate_staff(
    repos: Repositories, staff_id: int, operator: Operator, now: datetime, by: Actor | None = None
) -> Deactivated:
    """Close the account at once: inactive, every chat unlinked, unused invite codes revoked, nothing queued for them
    sent; a cadre's people stay listed (the officers are told they need a new cadre) and every alert still waiting on
    the cadre (queued, or sent and not acknowledged; a crisis included) goes to the commune's officers now, not after
    the "not acknowledged" wait; a counsellor's taken referrals wait again at the point (its counsellors are told of
    each conversation). Running it again changes nothing more."""
    member = await _staff(repos, staff_id, operator, by)
    await repos.staff.set_active(staff_id, False)
    await end_sessions(repos, now, staff_id, "deactivated")  # the console too: the next page asks them to sign in
    unlinked = await repos.identities.unlink_person(staff_id=staff_id)
    cancelled = await repos.outbox.cancel_all_to_staff(staff_id, "deactivated")
    revoked = await repos.invites.revoke(staff_id=staff_id)
    handed_on = 0
    for escalation_id in await repos.escalations.waiting_on_cadre(staff_id):
        handed_on += await cadre_cannot_act(repos, escalation_id, now, Why.CADRE_CLOSED)
    result = Deactivated(staff_id, False, len(unlinked), cancelled, revoked, handed_on)
    if member.role is Role.CADRE:
        people = [p.id for p in await repos.participants.followed(member.unit_id, staff_id)]
        if people and member.active:
            await tell_officers(
                repos, member.unit_id, f"cadre_needed:{staff_id}:{_stamp(now)}", MessageKind.CADRE_NEEDED, now,
                {"cadre_id": staff_id},
            )  # fmt: skip
        result.people_without_cadre.extend(people)
        await cadre_closed(repos, staff_id)  # their conversations with people end; each person is told
    if member.role is Role.COUNSELLOR:
        result.referrals_released.extend(await release_referrals(repos, staff_id, now))
    await operator.record(
        repos,
        "staff_deactivated",
        subject_type="staff",
        subject_id=staff_id,
        detail={
            "chats_unlinked": result.unlinked,
            "messages_cancelled": cancelled,
            "invites_revoked": revoked,
            "alerts_to_officers": handed_on,
            "people_without_cadre": len(result.people_without_cadre),
            "referrals_released": len(result.referrals_released),
        },
    )
    return result


async def release_referrals(repos: Repositories, staff_id: int, now: datetime) -> list[int]:
    """What a counsellor had taken waits again at its point (their account closed, or they left that point); the
    point's counsellors (on duty, else all) are told of each conversation someone is in. The referrals' ids."""
    released = []
    for referral in await repos.referrals.release(staff_id):
        released.append(referral.id)
        if referral.relaying:  # someone is talking, or waiting to: the point's counsellors hear of it
            on_duty, everyone = await answerers(repos, referral.point_id)
            await repos.outbox.add(
                [
                    NewMessage(f"released:{referral.id}:{_stamp(now)}:staff:{m.id}", MessageKind.RELAY_REQUEST,
                               now, staff_id=m.id, urgent=referral.urgency == "urgent",
                               payload={"participant_id": referral.participant_id, "referral_id": referral.id})
                    for m in on_duty or everyone
                ]
            )  # fmt: skip
    return released


async def activate_staff(repos: Repositories, staff_id: int, operator: Operator, by: Actor | None = None) -> int:
    """Undo a deactivation: the account is active again; no chat comes back (a new invite links one). Returns how
    many chats are linked (0 after a deactivation)."""
    await _staff(repos, staff_id, operator, by)
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
        await _participant_scope(repos, participant_id, operator, by)
        unlinked = await repos.identities.unlink_person(participant_id=participant_id, channel=channel)
        person = await repos.participants.get(participant_id)
        left = await repos.identities.count_of(participant_id=participant_id)
        if person is not None and person.status is ParticipantStatus.ACTIVE and not left:
            await repos.participants.update(participant_id, status=ParticipantStatus.ENROLLED)
        subject_type, subject_id = "participant", participant_id
    else:
        assert staff_id is not None
        await _staff(repos, staff_id, operator, by)
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
