"""The authorisation matrix, exhaustively: every actor kind and role × every action × own / other record."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.authz import Action, Actor, ActorKind, ParticipantScope, decide
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
ALLOWED: set[tuple[str, Action]] = {
    ("unlinked", Action.LINK_CHAT),
    ("participant", Action.VIEW_OWN_TERM),
    ("participant", Action.CHANGE_OWN_SETTINGS),
    ("participant", Action.CHANGE_OWN_CONSENT),
    ("participant", Action.CHECK_IN_SELF),
    ("participant", Action.ACKNOWLEDGE_OWN_TEST),
    ("participant", Action.REQUEST_REFERRAL),
    *((staff, Action.VIEW_OWN_ROLE) for staff in ACTORS if ACTORS[staff].kind is ActorKind.STAFF),
    ("cadre", Action.VIEW_PARTICIPANT),
    ("cadre", Action.ACKNOWLEDGE_ESCALATION),
    ("officer", Action.VIEW_PARTICIPANT),
    ("officer", Action.ACKNOWLEDGE_ESCALATION),
    ("officer", Action.MANAGE_LIST),
    ("admin", Action.VIEW_PARTICIPANT),
    ("admin", Action.ACKNOWLEDGE_ESCALATION),
    ("admin", Action.MANAGE_LIST),
}


@pytest.mark.parametrize(("actor_name", "action"), list(itertools.product(ACTORS, Action)))
def test_matrix(actor_name: str, action: Action) -> None:
    decision = decide(ACTORS[actor_name], action, OWN)
    assert decision.allowed is ((actor_name, action) in ALLOWED), decision.reason


@pytest.mark.parametrize(
    "action",
    [
        Action.VIEW_OWN_TERM,
        Action.CHANGE_OWN_SETTINGS,
        Action.CHANGE_OWN_CONSENT,
        Action.CHECK_IN_SELF,
        Action.ACKNOWLEDGE_OWN_TEST,
        Action.REQUEST_REFERRAL,
    ],
)
def test_self_service_needs_a_record(action: Action) -> None:
    assert not decide(ACTORS["participant"], action, None)


@pytest.mark.parametrize("action", [Action.VIEW_PARTICIPANT, Action.ACKNOWLEDGE_ESCALATION, Action.MANAGE_LIST])
def test_staff_actions_need_a_record(action: Action) -> None:
    assert not decide(ACTORS["officer"], action, None)


def test_reassigned_participant_is_out_of_the_old_cadres_scope() -> None:
    moved = ParticipantScope(participant_id=10, unit_id=COMMUNE, province_id=PROVINCE, cadre_id=101)
    assert not decide(ACTORS["cadre"], Action.VIEW_PARTICIPANT, moved)
    assert decide(ACTORS["other_cadre"], Action.VIEW_PARTICIPANT, moved)


def test_decisions_explain_themselves() -> None:
    denied = decide(ACTORS["other_officer"], Action.VIEW_PARTICIPANT, OWN)
    assert not denied and denied.reason == "other commune"
