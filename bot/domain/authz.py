"""Authorisation in one place: may this actor do this action to that record?

Every handler asks here; the answer never depends on what a button payload or chat id claims, only on the actor the
server resolved from its own identity table and on the record loaded from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.entities import Role


class ActorKind(StrEnum):
    UNLINKED = "unlinked"
    PARTICIPANT = "participant"
    STAFF = "staff"


class Action(StrEnum):
    LINK_CHAT = "link_chat"
    VIEW_OWN_TERM = "view_own_term"
    CHANGE_OWN_SETTINGS = "change_own_settings"
    CHANGE_OWN_CONSENT = "change_own_consent"
    VIEW_OWN_ROLE = "view_own_role"
    CHECK_IN_SELF = "check_in_self"
    ACKNOWLEDGE_OWN_TEST = "acknowledge_own_test"
    REQUEST_REFERRAL = "request_referral"
    VIEW_PARTICIPANT = "view_participant"
    ACKNOWLEDGE_ESCALATION = "acknowledge_escalation"
    MANAGE_LIST = "manage_list"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    role: Role | None = None
    unit_id: int | None = None
    province_id: int | None = None

    @classmethod
    def unlinked(cls) -> Actor:
        return cls(ActorKind.UNLINKED)


@dataclass(frozen=True, slots=True)
class ParticipantScope:
    """The facts about a participant record that decide who may touch it."""

    participant_id: int
    unit_id: int
    province_id: int | None
    cadre_id: int | None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


_SELF_SERVICE = {
    Action.VIEW_OWN_TERM,
    Action.CHANGE_OWN_SETTINGS,
    Action.CHANGE_OWN_CONSENT,
    Action.CHECK_IN_SELF,
    Action.ACKNOWLEDGE_OWN_TEST,
    Action.REQUEST_REFERRAL,
}
# What a cadre may do for the participants assigned to them (and only them).
_CADRE_ACTIONS = {Action.VIEW_PARTICIPANT, Action.ACKNOWLEDGE_ESCALATION}


def decide(actor: Actor, action: Action, target: ParticipantScope | None = None) -> Decision:
    if action is Action.LINK_CHAT:
        return _allow("anyone may present a code") if actor.kind is ActorKind.UNLINKED else _deny("already linked")

    if actor.kind is ActorKind.UNLINKED:
        return _deny("not linked")

    if action in _SELF_SERVICE:
        if actor.kind is not ActorKind.PARTICIPANT:
            return _deny("participants only")
        if target is None or target.participant_id != actor.id:
            return _deny("not own record")
        return _allow("own record")

    if action is Action.VIEW_OWN_ROLE:
        return _allow("own role") if actor.kind is ActorKind.STAFF else _deny("staff only")

    if actor.kind is not ActorKind.STAFF or target is None:
        return _deny("staff only, on a record")
    return _staff_on_participant(actor, action, target)


def _staff_on_participant(actor: Actor, action: Action, target: ParticipantScope) -> Decision:
    if actor.role is Role.ADMIN:
        same_province = actor.unit_id in (target.province_id, target.unit_id)
        return _allow("province admin") if same_province else _deny("other province")
    if actor.role is Role.OFFICER:
        return _allow("commune officer") if actor.unit_id == target.unit_id else _deny("other commune")
    if actor.role is Role.CADRE and action in _CADRE_ACTIONS:
        return _allow("assigned cadre") if target.cadre_id == actor.id else _deny("not assigned")
    return _deny("role may not")
