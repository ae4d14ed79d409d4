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
    VIEW_TEST_RESULTS = "view_test_results"
    RECORD_IN_PERSON_CHECK = "record_in_person_check"
    RECORD_TEST_RESULT = "record_test_result"
    LOG_OBSERVATION = "log_observation"
    WRITE_REVIEW = "write_review"
    REPORT_ABSENCE_OR_MOVE = "report_absence_or_move"
    ACKNOWLEDGE_ESCALATION = "acknowledge_escalation"
    ACKNOWLEDGE_RESULT_ALERT = "acknowledge_result_alert"  # a positive/refused/missed test: the officer's to handle
    CONFIRM_REPORT = "confirm_report"
    ASSIGN_CADRE = "assign_cadre"
    ACCEPT_TRANSFER = "accept_transfer"
    MANAGE_LIST = "manage_list"
    HANDLE_REFERRAL = "handle_referral"  # a counsellor: accept, note, close a referral of their commune's people
    # The assigned cadre: answer the person in their conversation through the bot ("Nhắn người đồng hành").
    MESSAGE_PARTICIPANT = "message_participant"
    # Close or reopen a staff member's account and unlink their chats; asked with the staff member as the record
    # (`StaffScope`, ranked in STAFF_OVER_STAFF). A participant's chats are unlinked under MANAGE_LIST.
    MANAGE_STAFF = "manage_staff"
    # Set up the province's units: seed its communes, a commune's check-in due day and test place, counselling points
    # and their hours; asked with the unit as the record (`UnitScope`, ranked in UNIT_RULES).
    MANAGE_UNITS = "manage_units"
    # Reports (bot/services/reports.py), asked with the unit reported on: a commune's figures for its officer, a
    # province's (communes as rows, no names) for its admin; named lists (the register, the due list) only for the
    # commune's own officer; the province's targets for its admin; the number handed over for the commune's officer.
    VIEW_REPORT = "view_report"
    VIEW_NAMED_LIST = "view_named_list"
    SET_TARGETS = "set_targets"
    ENTER_HANDED_OVER = "enter_handed_over"
    # Retention (bot/services/retention.py): who of a commune will be purged soon, with names; asked with the unit.
    VIEW_RETENTION = "view_retention"
    # Role-level: lists the server filters by the actor's own scope (no single record to check).
    LIST_ASSIGNED = "list_assigned"
    LIST_COMMUNE = "list_commune"
    LIST_REFERRALS = "list_referrals"
    # A person's own data (Law 91/2025): what is kept about them, and asking for a copy or a correction.
    VIEW_OWN_DATA = "view_own_data"
    REQUEST_OWN_DATA = "request_own_data"
    # The commune's officer: approve or decline a person's request for a copy or a correction, and export a person's
    # data (the copy itself, or `aftercare participant export`).
    DECIDE_DATA_REQUEST = "decide_data_request"
    EXPORT_PERSONAL_DATA = "export_personal_data"


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
class StaffScope:
    """The facts about a staff member's account that decide who may close, reopen or unlink it: where they work and
    their rank (an officer is not managed by a fellow officer, nobody closes their own account)."""

    staff_id: int
    role: Role
    unit_id: int
    province_id: int | None


@dataclass(frozen=True, slots=True)
class UnitScope:
    """The facts about a unit (a province, a commune, or the unit a counselling point serves) that decide who may set
    it up: the unit itself and the province it belongs to (None for a province)."""

    unit_id: int
    province_id: int | None


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
    Action.VIEW_OWN_DATA,
    Action.REQUEST_OWN_DATA,
}


class Reach(StrEnum):
    """How far a staff role's permission for an action extends."""

    ASSIGNED = "assigned"  # the participants assigned to this cadre, and no one else
    COMMUNE = "commune"  # everyone listed in the staff member's commune
    PROVINCE = "province"  # everyone in the province the admin belongs to


_A, _C, _P = Reach.ASSIGNED, Reach.COMMUNE, Reach.PROVINCE
# The whole staff matrix: what each role may do to a participant record, and how far. Absent means denied.
# ACCEPT_TRANSFER is asked with the scope of the *receiving* commune (the record is arriving there).
STAFF_RULES: dict[Action, dict[Role, Reach]] = {
    Action.VIEW_PARTICIPANT: {Role.CADRE: _A, Role.OFFICER: _C, Role.ADMIN: _P},
    Action.VIEW_TEST_RESULTS: {Role.CADRE: _A, Role.OFFICER: _C, Role.ADMIN: _P},
    Action.RECORD_IN_PERSON_CHECK: {Role.CADRE: _A, Role.OFFICER: _C},
    Action.RECORD_TEST_RESULT: {Role.CADRE: _A, Role.OFFICER: _C},
    Action.LOG_OBSERVATION: {Role.CADRE: _A, Role.OFFICER: _C},
    Action.WRITE_REVIEW: {Role.CADRE: _A},
    Action.REPORT_ABSENCE_OR_MOVE: {Role.CADRE: _A, Role.OFFICER: _C},
    Action.ACKNOWLEDGE_ESCALATION: {Role.CADRE: _A, Role.OFFICER: _C, Role.ADMIN: _P},
    # Results go to the commune chairman through the officer (Law 73/2021 Art. 22(3)): a cadre cannot close it.
    Action.ACKNOWLEDGE_RESULT_ALERT: {Role.OFFICER: _C, Role.ADMIN: _P},
    Action.CONFIRM_REPORT: {Role.OFFICER: _C},
    Action.ASSIGN_CADRE: {Role.OFFICER: _C, Role.ADMIN: _P},
    Action.ACCEPT_TRANSFER: {Role.OFFICER: _C},
    Action.MANAGE_LIST: {Role.OFFICER: _C, Role.ADMIN: _P},
    Action.HANDLE_REFERRAL: {Role.COUNSELLOR: _C},
    Action.MESSAGE_PARTICIPANT: {Role.CADRE: _A},
    Action.DECIDE_DATA_REQUEST: {Role.OFFICER: _C},
    Action.EXPORT_PERSONAL_DATA: {Role.OFFICER: _C},
}
# Staff acting on a staff member's account: how far, and which ranks below them. Nobody acts on their own account
# (a closed account could not be reopened by its holder, and an officer cannot undo an admin's decision).
STAFF_OVER_STAFF: dict[Action, dict[Role, tuple[Reach, frozenset[Role]]]] = {
    Action.MANAGE_STAFF: {
        Role.OFFICER: (_C, frozenset({Role.CADRE, Role.COUNSELLOR})),
        Role.ADMIN: (_P, frozenset(Role)),
    },
}
# Staff setting up a unit (`UnitScope`): how far. An admin sets up their own province and its communes; a commune's
# officer keeps its list, not its setup.
UNIT_RULES: dict[Action, dict[Role, Reach]] = {
    Action.MANAGE_UNITS: {Role.ADMIN: _P},
    Action.VIEW_REPORT: {Role.OFFICER: _C, Role.ADMIN: _P},
    Action.VIEW_NAMED_LIST: {Role.OFFICER: _C},
    Action.SET_TARGETS: {Role.ADMIN: _P},
    Action.ENTER_HANDED_OVER: {Role.OFFICER: _C},
    Action.VIEW_RETENTION: {Role.OFFICER: _C, Role.ADMIN: _P},
}
# Role-level actions: the list is then filtered by the actor's own scope in the query.
ROLE_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_OWN_ROLE: frozenset(Role),
    Action.LIST_ASSIGNED: frozenset({Role.CADRE}),
    Action.LIST_COMMUNE: frozenset({Role.OFFICER, Role.ADMIN}),
    Action.LIST_REFERRALS: frozenset({Role.COUNSELLOR}),
}


def decide(
    actor: Actor, action: Action, target: ParticipantScope | StaffScope | UnitScope | None = None
) -> Decision:
    if action is Action.LINK_CHAT:
        return _allow("anyone may present a code") if actor.kind is ActorKind.UNLINKED else _deny("already linked")

    if actor.kind is ActorKind.UNLINKED:
        return _deny("not linked")

    if action in _SELF_SERVICE:
        if actor.kind is not ActorKind.PARTICIPANT:
            return _deny("participants only")
        if not isinstance(target, ParticipantScope) or target.participant_id != actor.id:
            return _deny("not own record")
        return _allow("own record")

    if action in ROLE_ACTIONS:
        if actor.kind is not ActorKind.STAFF or actor.role not in ROLE_ACTIONS[action]:
            return _deny("role may not")
        return _allow("role may")

    if actor.kind is not ActorKind.STAFF or target is None:
        return _deny("staff only, on a record")
    if isinstance(target, StaffScope):
        return _staff_on_staff(actor, action, target)
    if isinstance(target, UnitScope):
        return _staff_on_unit(actor, action, target)
    return _staff_on_participant(actor, action, target)


def _staff_on_participant(actor: Actor, action: Action, target: ParticipantScope) -> Decision:
    reach = STAFF_RULES.get(action, {}).get(actor.role) if actor.role else None
    if reach is None:
        return _deny("role may not")
    if reach is Reach.ASSIGNED:
        in_reach = target.cadre_id is not None and target.cadre_id == actor.id and actor.unit_id == target.unit_id
        return _allow("assigned cadre") if in_reach else _deny("not assigned")
    return _in_reach(actor, reach, target.unit_id, target.province_id)


def _staff_on_staff(actor: Actor, action: Action, target: StaffScope) -> Decision:
    rule = STAFF_OVER_STAFF.get(action, {}).get(actor.role) if actor.role else None
    if rule is None:
        return _deny("role may not")
    if target.staff_id == actor.id:
        return _deny("own account")
    reach, ranks = rule
    if target.role not in ranks:
        return _deny("rank")
    return _in_reach(actor, reach, target.unit_id, target.province_id)


def _staff_on_unit(actor: Actor, action: Action, target: UnitScope) -> Decision:
    reach = UNIT_RULES.get(action, {}).get(actor.role) if actor.role else None
    if reach is None:
        return _deny("role may not")
    return _in_reach(actor, reach, target.unit_id, target.province_id)


def _in_reach(actor: Actor, reach: Reach, unit_id: int, province_id: int | None) -> Decision:
    """Commune or province reach over a record in `unit_id` (a commune of `province_id`, or the province itself)."""
    if reach is Reach.COMMUNE:
        return _allow("commune") if actor.unit_id == unit_id else _deny("other commune")
    same_province = actor.unit_id is not None and actor.unit_id in (province_id, unit_id)
    return _allow("province") if same_province else _deny("other province")
