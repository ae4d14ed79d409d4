"""The authorisation matrix, exhaustively: every actor kind and role × every action × own / other record."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.authz import Action, Actor, ActorKind, ParticipantScope, StaffScope, UnitScope, decide
from bot.domain.entities import Role

PROVINCE, COMMUNE, OTHER_COMMUNE, OTHER_PROVINCE = 1, 2, 3, 4
OWN = ParticipantScope(participant_id=10, unit_id=COMMUNE, province_id=PROVINCE, cadre_id=100)

ACTORS: dict[str, Actor] = {
    "unlinked": Actor.unlinked(),
    "participant": Actor(ActorKind.PARTICIPANT, 10, unit_id=COMMUNE),
    "other_participant": Actor(ActorKind.PARTICIPANT, 11, unit_id=COMMUNE),
    "cadre": Actor(ActorKind.STAFF, 100, Role.CADRE, COMMUNE),
    "other_cadre": Actor(ActorKind.STAFF, 101, Role.CADRE, COMMUNE),
    "counsellor": Actor(ActorKind.STAFF, 102, Role.COUNSELLOR, COMMUNE),
    "officer": Actor(ActorKind.STAFF, 103, Role.OFFICER, COMMUNE),
    "other_officer": Actor(ActorKind.STAFF, 104, Role.OFFICER, OTHER_COMMUNE),
    "admin": Actor(ActorKind.STAFF, 105, Role.ADMIN, PROVINCE),
    "other_admin": Actor(ActorKind.STAFF, 106, Role.ADMIN, OTHER_PROVINCE),
}

# Who may do what to participant 10 (in COMMUNE, province PROVINCE, cadre 100). Everything else is denied.
# Written out by hand, not derived from the rules table: this is the specification the table must meet.
_RECORD_WORK = (
    Action.VIEW_PARTICIPANT,
    Action.VIEW_TEST_RESULTS,
    Action.RECORD_IN_PERSON_CHECK,
    Action.RECORD_TEST_RESULT,
    Action.LOG_OBSERVATION,
    Action.REPORT_ABSENCE_OR_MOVE,
    Action.ACKNOWLEDGE_ESCALATION,
)
ALLOWED: set[tuple[str, Action]] = {
    ("unlinked", Action.LINK_CHAT),
    ("participant", Action.VIEW_OWN_TERM),
    ("participant", Action.CHANGE_OWN_SETTINGS),
    ("participant", Action.CHANGE_OWN_CONSENT),
    ("participant", Action.CHECK_IN_SELF),
    ("participant", Action.ACKNOWLEDGE_OWN_TEST),
    ("participant", Action.REQUEST_REFERRAL),
    ("participant", Action.VIEW_OWN_DATA),
    ("participant", Action.REQUEST_OWN_DATA),
    *((staff, Action.VIEW_OWN_ROLE) for staff in ACTORS if ACTORS[staff].kind is ActorKind.STAFF),
    # the assigned cadre: the record work and the quarterly review, nothing of the officer's
    *(("cadre", action) for action in _RECORD_WORK),
    ("cadre", Action.WRITE_REVIEW),
    ("cadre", Action.MESSAGE_PARTICIPANT),  # answer them in their conversation through the bot
    ("cadre", Action.LIST_ASSIGNED),
    ("other_cadre", Action.LIST_ASSIGNED),
    # the commune officer: the record work, confirmations, assignment, the list, transfers into the commune
    *(("officer", action) for action in _RECORD_WORK),
    ("officer", Action.ACKNOWLEDGE_RESULT_ALERT),
    ("officer", Action.CONFIRM_REPORT),
    ("officer", Action.ASSIGN_CADRE),
    ("officer", Action.ACCEPT_TRANSFER),
    ("officer", Action.MANAGE_LIST),
    ("officer", Action.LIST_COMMUNE),
    # a person's own data: only the commune's officer decides their requests and exports their data
    ("officer", Action.DECIDE_DATA_REQUEST),
    ("officer", Action.EXPORT_PERSONAL_DATA),
    ("other_officer", Action.LIST_COMMUNE),
    # the province admin: sees, acknowledges, manages the list and assignments; records nothing in the field
    ("admin", Action.VIEW_PARTICIPANT),
    ("admin", Action.VIEW_TEST_RESULTS),
    ("admin", Action.ACKNOWLEDGE_ESCALATION),
    ("admin", Action.ACKNOWLEDGE_RESULT_ALERT),
    ("admin", Action.ASSIGN_CADRE),
    ("admin", Action.MANAGE_LIST),
    ("admin", Action.LIST_COMMUNE),
    ("other_admin", Action.LIST_COMMUNE),
    # the counsellor: the referrals of their commune's people, nothing else of the record
    ("counsellor", Action.HANDLE_REFERRAL),
    ("counsellor", Action.LIST_REFERRALS),
}
# Role-level actions are decided without a record (the query is then scoped to the actor's own people).
ROLE_LEVEL = {Action.VIEW_OWN_ROLE, Action.LIST_ASSIGNED, Action.LIST_COMMUNE, Action.LIST_REFERRALS}


@pytest.mark.parametrize(("actor_name", "action"), list(itertools.product(ACTORS, Action)))
def test_matrix(actor_name: str, action: Action) -> None:
    target = None if action in ROLE_LEVEL else OWN
    decision = decide(ACTORS[actor_name], action, target)
    assert decision.allowed is ((actor_name, action) in ALLOWED), decision.reason


# Another cadre's person in the same commune, and a person in the neighbouring commune of the same province.
NEIGHBOUR = ParticipantScope(participant_id=12, unit_id=COMMUNE, province_id=PROVINCE, cadre_id=101)
FOREIGN = ParticipantScope(participant_id=13, unit_id=OTHER_COMMUNE, province_id=PROVINCE, cadre_id=107)
UNASSIGNED = ParticipantScope(participant_id=14, unit_id=COMMUNE, province_id=PROVINCE, cadre_id=None)
RECORD_ACTIONS = [a for a in Action if a not in ROLE_LEVEL and a is not Action.LINK_CHAT]


@pytest.mark.parametrize(("actor_name", "action"), list(itertools.product(ACTORS, RECORD_ACTIONS)))
@pytest.mark.parametrize("target_name", ["neighbour", "foreign", "unassigned"])
def test_matrix_on_records_out_of_scope(actor_name: str, action: Action, target_name: str) -> None:
    """Own/other scope: the cadre never reaches a person not assigned to them, an officer never another commune; an
    admin reaches the whole province. Participants never reach anyone else's record."""
    target = {"neighbour": NEIGHBOUR, "foreign": FOREIGN, "unassigned": UNASSIGNED}[target_name]
    actor = ACTORS[actor_name]
    expected = (actor_name, action) in ALLOWED and actor.kind is ActorKind.STAFF
    if actor_name == "cadre":
        expected = False  # none of these is assigned to cadre 100
    if actor_name == "other_cadre":
        expected = target_name == "neighbour" and (("cadre", action) in ALLOWED)
    if actor_name in ("officer", "counsellor"):
        expected = expected and target_name != "foreign"
    if actor_name == "other_officer":
        expected = target_name == "foreign" and (("officer", action) in ALLOWED)
    if actor_name == "other_admin":
        expected = False
    if action is Action.VIEW_OWN_ROLE:
        expected = False
    assert decide(actor, action, target).allowed is expected


@pytest.mark.parametrize("action", RECORD_ACTIONS)
def test_cadre_of_another_commune_with_the_same_id_is_refused(action: Action) -> None:
    """A staff id collides with cadre_id only if the unit matches too (a forged actor from another commune)."""
    impostor = Actor(ActorKind.STAFF, 100, Role.CADRE, OTHER_COMMUNE)
    assert not decide(impostor, action, OWN)


@pytest.mark.parametrize(
    "action",
    [
        Action.VIEW_OWN_TERM,
        Action.CHANGE_OWN_SETTINGS,
        Action.CHANGE_OWN_CONSENT,
        Action.CHECK_IN_SELF,
        Action.ACKNOWLEDGE_OWN_TEST,
        Action.REQUEST_REFERRAL,
        Action.VIEW_OWN_DATA,
        Action.REQUEST_OWN_DATA,
    ],
)
def test_self_service_needs_a_record(action: Action) -> None:
    assert not decide(ACTORS["participant"], action, None)


@pytest.mark.parametrize("action", [a for a in RECORD_ACTIONS if a.value not in {"view_own_role"}])
def test_staff_actions_need_a_record(action: Action) -> None:
    assert not decide(ACTORS["officer"], action, None)
    assert not decide(ACTORS["admin"], action, None)


def test_reassigned_participant_is_out_of_the_old_cadres_scope() -> None:
    moved = ParticipantScope(participant_id=10, unit_id=COMMUNE, province_id=PROVINCE, cadre_id=101)
    assert not decide(ACTORS["cadre"], Action.VIEW_PARTICIPANT, moved)
    assert decide(ACTORS["other_cadre"], Action.VIEW_PARTICIPANT, moved)


def test_decisions_explain_themselves() -> None:
    denied = decide(ACTORS["other_officer"], Action.VIEW_PARTICIPANT, OWN)
    assert not denied and denied.reason == "other commune"


# ---- staff acting on staff accounts (close, reopen, unlink their chats) -------------------------------------------
NEXT_DOOR_PROVINCE_COMMUNE = 5  # a commune of OTHER_PROVINCE
STAFF_TARGETS: dict[str, StaffScope] = {
    "cadre": StaffScope(100, Role.CADRE, COMMUNE, PROVINCE),
    "counsellor": StaffScope(102, Role.COUNSELLOR, COMMUNE, PROVINCE),
    "officer": StaffScope(103, Role.OFFICER, COMMUNE, PROVINCE),
    "other_officer": StaffScope(104, Role.OFFICER, OTHER_COMMUNE, PROVINCE),
    "admin": StaffScope(105, Role.ADMIN, PROVINCE, None),
    "fellow_admin": StaffScope(108, Role.ADMIN, PROVINCE, None),
    "cadre_next_door": StaffScope(110, Role.CADRE, OTHER_COMMUNE, PROVINCE),
    "counsellor_next_door": StaffScope(111, Role.COUNSELLOR, OTHER_COMMUNE, PROVINCE),
    "foreign_cadre": StaffScope(109, Role.CADRE, NEXT_DOOR_PROVINCE_COMMUNE, OTHER_PROVINCE),
}
# Written out by hand: an officer manages the cadres and counsellors of their own commune (never a fellow officer, an
# admin or themselves); an admin any staff of their province but themselves; nobody else anyone.
MANAGES: set[tuple[str, str]] = {
    ("officer", "cadre"),
    ("officer", "counsellor"),
    ("other_officer", "cadre_next_door"),
    ("other_officer", "counsellor_next_door"),
    *(
        ("admin", target)
        for target in STAFF_TARGETS
        if target not in ("admin", "foreign_cadre")  # not themselves, not another province
    ),
    ("other_admin", "foreign_cadre"),
}


@pytest.mark.parametrize(("actor_name", "target_name"), list(itertools.product(ACTORS, STAFF_TARGETS)))
def test_manage_staff_matrix(actor_name: str, target_name: str) -> None:
    decision = decide(ACTORS[actor_name], Action.MANAGE_STAFF, STAFF_TARGETS[target_name])
    assert decision.allowed is ((actor_name, target_name) in MANAGES), decision.reason


@pytest.mark.parametrize(("actor_name", "target_name"), list(itertools.product(ACTORS, STAFF_TARGETS)))
@pytest.mark.parametrize("action", [a for a in RECORD_ACTIONS if a is not Action.MANAGE_STAFF])
def test_no_other_action_applies_to_a_staff_account(actor_name: str, target_name: str, action: Action) -> None:
    """A staff account is no participant record: none of the record work reaches it, whatever the actor."""
    assert not decide(ACTORS[actor_name], action, STAFF_TARGETS[target_name])


@pytest.mark.parametrize("actor_name", ["officer", "admin"])
def test_nobody_manages_their_own_account(actor_name: str) -> None:
    denied = decide(ACTORS[actor_name], Action.MANAGE_STAFF, STAFF_TARGETS[actor_name])
    assert not denied and denied.reason == "own account"


def test_a_staff_account_is_managed_by_rank() -> None:
    denied = decide(ACTORS["officer"], Action.MANAGE_STAFF, STAFF_TARGETS["admin"])
    assert not denied and denied.reason == "rank"  # an officer cannot close (or reopen) an admin's account
    assert not decide(ACTORS["officer"], Action.MANAGE_STAFF, STAFF_TARGETS["other_officer"])
    assert decide(ACTORS["admin"], Action.MANAGE_STAFF, STAFF_TARGETS["fellow_admin"])


# ---- staff setting up units (seed communes, a commune's due day and test place, counselling points) --------------
UNIT_TARGETS: dict[str, UnitScope] = {
    "province": UnitScope(PROVINCE, None),
    "commune": UnitScope(COMMUNE, PROVINCE),
    "other_commune": UnitScope(OTHER_COMMUNE, PROVINCE),
    "other_province": UnitScope(OTHER_PROVINCE, None),
    "commune_next_door": UnitScope(NEXT_DOOR_PROVINCE_COMMUNE, OTHER_PROVINCE),
}
# Written out by hand: an admin sets up their province and every commune of it; nobody else sets up any unit (a
# commune's officer keeps its list, not its setup).
SETS_UP: set[tuple[str, str]] = {
    ("admin", "province"),
    ("admin", "commune"),
    ("admin", "other_commune"),
    ("other_admin", "other_province"),
    ("other_admin", "commune_next_door"),
}


@pytest.mark.parametrize(("actor_name", "target_name"), list(itertools.product(ACTORS, UNIT_TARGETS)))
def test_manage_units_matrix(actor_name: str, target_name: str) -> None:
    decision = decide(ACTORS[actor_name], Action.MANAGE_UNITS, UNIT_TARGETS[target_name])
    assert decision.allowed is ((actor_name, target_name) in SETS_UP), decision.reason


# Reports, by hand: a commune's officer sees their commune's figures, enters its number handed over and reads its named
# lists (register, due list); an admin sees their province's figures (and its communes') and sets its targets — a
# target is set on the province itself, checked by the service. Cadres and counsellors see no report.
REPORTS_ON_UNITS: dict[Action, set[tuple[str, str]]] = {
    Action.VIEW_REPORT: {("officer", "commune"), ("other_officer", "other_commune"), *SETS_UP},
    Action.VIEW_NAMED_LIST: {("officer", "commune"), ("other_officer", "other_commune")},
    Action.ENTER_HANDED_OVER: {("officer", "commune"), ("other_officer", "other_commune")},
    Action.SET_TARGETS: SETS_UP,
    # who will be purged soon: the commune's officer, the province's admin
    Action.VIEW_RETENTION: {("officer", "commune"), ("other_officer", "other_commune"), *SETS_UP},
}


@pytest.mark.parametrize(("actor_name", "target_name"), list(itertools.product(ACTORS, UNIT_TARGETS)))
@pytest.mark.parametrize("action", list(REPORTS_ON_UNITS))
def test_report_actions_matrix(actor_name: str, target_name: str, action: Action) -> None:
    decision = decide(ACTORS[actor_name], action, UNIT_TARGETS[target_name])
    assert decision.allowed is ((actor_name, target_name) in REPORTS_ON_UNITS[action]), decision.reason


@pytest.mark.parametrize(("actor_name", "target_name"), list(itertools.product(ACTORS, UNIT_TARGETS)))
@pytest.mark.parametrize(
    "action", [a for a in RECORD_ACTIONS if a is not Action.MANAGE_UNITS and a not in REPORTS_ON_UNITS]
)
def test_no_other_action_applies_to_a_unit(actor_name: str, target_name: str, action: Action) -> None:
    """A unit is neither a participant record nor an account: no other action reaches it, whatever the actor."""
    assert not decide(ACTORS[actor_name], action, UNIT_TARGETS[target_name])


def test_setting_up_units_needs_the_unit_and_says_why_not() -> None:
    assert not decide(ACTORS["admin"], Action.MANAGE_UNITS, None)  # no unit: nothing to decide on
    assert not decide(ACTORS["admin"], Action.MANAGE_UNITS, STAFF_TARGETS["cadre"])  # an account is no unit
    assert not decide(ACTORS["admin"], Action.MANAGE_UNITS, OWN)  # nor is a person's record
    denied = decide(ACTORS["other_admin"], Action.MANAGE_UNITS, UNIT_TARGETS["commune"])
    assert not denied and denied.reason == "other province"
    officer = decide(ACTORS["officer"], Action.MANAGE_UNITS, UNIT_TARGETS["commune"])
    assert not officer and officer.reason == "role may not"  # even their own commune
    forged = Actor(ActorKind.STAFF, 105, Role.ADMIN, None, PROVINCE)  # an admin with no unit resolved
    assert not decide(forged, Action.MANAGE_UNITS, UNIT_TARGETS["province"])
