"""The shape every flow keeps: each action any flow offers is routed by exactly one flow, buttons are made from a
flow's typed actions (never a hand-built string), and every flow has a transcript test through a channel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.flows.flow import Audience, Flow, Pressed, Verb
from bot.flows.registry import Registry, build_registry

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"

# Every flow, and the transcript tests (file::function) in which a person uses it through a channel, in Vietnamese.
TRANSCRIPTS: dict[str, tuple[str, ...]] = {
    "linking": ("test_enrolment.py::test_five_wrong_codes_lock_the_chat_for_an_hour",),
    "onboarding": ("test_enrolment.py::test_participant_links_gives_consent_and_sees_their_term",),
    "home": ("test_settings.py::test_consent_can_be_changed_and_history_is_kept",),
    "checkin": ("test_schedule.py::test_checkin_is_resumable_one_per_month_and_rejects_bad_input",),
    "support": ("test_help_and_crisis.py::test_support_request_reaches_the_cadre",),
    "mydata": (
        "test_my_data.py::test_a_copy_of_my_data_approved_in_the_console_arrives_in_the_chat",
        "test_my_data.py::test_a_correction_goes_to_the_officer_and_a_decline_is_explained",
        "test_my_data.py::test_withdrawing_a_consent_shows_its_effects_first",
    ),
    "relay": ("test_counselling_relay.py::test_a_conversation_both_sides_day_and_night",),
    "staff_home": ("test_staff.py::test_staff_can_switch_language",),
    "caseload": ("test_cadre_workspace.py::test_list_card_search_and_in_person_check",),
    "fieldwork": ("test_cadre_workspace.py::test_positive_result_one_escalation_one_neutral_offer",),
    "inbox": ("test_cadre_workspace.py::test_alerts_inbox_note_stops_the_escalation",),
    "officer": ("test_cadre_workspace.py::test_absence_and_move_reported_confirmed_and_transferred",),
    "review": ("test_cadre_workspace.py::test_quarterly_review",),
    "absence": ("test_schedule.py::test_an_officer_records_an_absence_and_the_term_moves",),
    "counsel": ("test_help_and_crisis.py::test_counsellor_desk_urgent_first_taken_once_noted_and_closed",),
    "cadre_chat": ("test_cadre_relay.py::test_a_person_writes_to_their_cadre_and_the_cadre_answers",),
    "safety": (
        "test_safety_check.py::test_unsure_in_the_middle_of_a_check_in_then_i_am_ok",
        "test_safety_check.py::test_unsure_then_i_need_help_now_alerts_like_a_crisis",
        "test_safety_check.py::test_an_unanswered_question_escalates_after_ten_minutes",
    ),
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry()


def _all_flows(registry: Registry) -> list[Flow]:
    return [*registry.flows, registry.linking]


def test_every_verb_decodes_back_to_its_flow_with_its_arguments(registry: Registry) -> None:
    for flow in _all_flows(registry):
        for verb in flow.verbs or ():
            for action, arg in ((verb(), ""), (verb(42), "42"), (verb(7, "x"), "7:x")):
                routed = registry.decode(action)
                assert routed is not None, action
                assert (routed.flow, routed.pressed) == (flow, Pressed(verb, arg)), action


def test_no_verb_is_another_flows_verb_with_an_argument(registry: Registry) -> None:
    """Otherwise "a:b" with an argument could be read as the other flow's "a:b:…" (routing by the longest verb)."""
    owners = {verb.value: flow.name for flow in _all_flows(registry) for verb in flow.verbs or ()}
    clashes = [
        (short, long)
        for short in owners
        for long in owners
        if long.startswith(short + ":") and owners[short] != owners[long]
    ]
    assert not clashes


def test_an_action_no_flow_offers_decodes_to_nothing(registry: Registry) -> None:
    for action in ("", ":", "nope", "case", "case:", "menu", "!stale", "x:case:open:1"):
        assert registry.decode(action) is None, action


def test_two_flows_routing_one_action_are_refused() -> None:
    class First(Verb):
        GO = "go"

    class Second(Verb):
        GO = "go"

    class One(Flow):
        name, audience, verbs = "one", Audience.STAFF, First

    class Two(Flow):
        name, audience, verbs = "two", Audience.STAFF, Second

    home = One()
    with pytest.raises(ValueError, match="routed by both"):
        Registry([home, Two()], {Audience.STAFF: home, Audience.PARTICIPANT: home}, Two())


def test_each_audience_has_a_home_and_flow_names_are_unique(registry: Registry) -> None:
    names = [flow.name for flow in _all_flows(registry)]
    assert len(names) == len(set(names))
    for audience in Audience:
        assert registry.home(audience) in registry.flows


def test_every_flow_has_a_transcript(registry: Registry) -> None:
    assert sorted(TRANSCRIPTS) == sorted(flow.name for flow in _all_flows(registry))
    for name, tests in TRANSCRIPTS.items():
        assert tests, name
        for test in tests:
            file, function = test.split("::")
            tree = ast.parse((ROOT / "tests" / "e2e" / file).read_text(encoding="utf-8"))
            defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)}
            assert function in defined, f"{name}: {test} does not exist"


class _Handmade(ast.NodeVisitor):
    """`Button(label, action)` calls whose action is not made from a `Verbs` member (a literal or an f-string)."""

    def __init__(self) -> None:
        self.found: list[int] = []

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "Button" and len(node.args) == 2:
            action = node.args[1]
            if isinstance(action, ast.Constant | ast.JoinedStr | ast.BinOp):
                self.found.append(node.lineno)
        self.generic_visit(node)


def _handmade(source: str) -> list[int]:
    visitor = _Handmade()
    visitor.visit(ast.parse(source))
    return visitor.found


def test_buttons_are_made_from_typed_actions() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in BOT.rglob("*.py")
        for line in _handmade(path.read_text(encoding="utf-8"))
    }
    assert not offenders


def test_the_button_check_would_catch_a_handmade_action() -> None:
    sample = 'Button("Mở", "case:open:1")\nButton("Mở", f"case:open:{pid}")\nButton("Mở", Verbs.OPEN(pid))\n'
    assert _handmade(sample) == [1, 2]
