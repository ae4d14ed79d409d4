"""The test suite's own shape: test modules do not import each other (what they share lives in tests/support and
tests/fakes), and end-to-end tests hold no SQL: they assert through the CLI, the repositories or what people are sent.

The few end-to-end checks that must look at rows as someone holding the database would (a value sealed at rest, a
row tampered with, a payload another version wrote) go through tests/support/at_rest.py, and only from the
functions allow-listed below, each with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
E2E = TESTS / "e2e"
GOLDEN = TESTS / "golden"
AT_REST = "tests.support.at_rest"

# (file in tests/e2e, function) → why it reads or writes rows directly. Converting any of these to the repositories
# would need a repository method that exists only for tests (bot/ is not changed for that).
SEALED = "a value sealed at rest: the stored text must not contain the words"
ANOTHER_VERSION = "outbox payloads rewritten as an earlier (or later) version of the assistant wrote them"
TAMPERED = "rows changed in SQL the way an attacker with write access would"
AT_REST_ALLOWED: dict[tuple[str, str], str] = {
    ("test_my_data.py", "test_a_copy_of_my_data_approved_in_the_console_arrives_in_the_chat"): (
        "a one-time link's token is never stored: the row holds only its hash"
    ),
    ("test_my_data.py", "test_a_correction_goes_to_the_officer_and_a_decline_is_explained"): (
        SEALED + " (the correction)"
    ),
    ("test_alert_payloads.py", "_rewrite"): ANOTHER_VERSION,
    ("test_alert_payloads.py", "test_an_officer_crisis_alert_queued_by_another_version"): ANOTHER_VERSION,
    ("test_alert_payloads.py", "test_an_officer_reason_another_version_wrote_claims_nothing"): ANOTHER_VERSION,
    ("test_cadre_workspace.py", "test_list_card_search_and_in_person_check"): SEALED + " (the absence reason)",
    ("test_cadre_workspace.py", "test_positive_result_one_escalation_one_neutral_offer"): SEALED + " (the result)",
    ("test_cadre_workspace.py", "test_observations_typed_in_a_button_flow_and_too_long"): SEALED + " (the notes)",
    ("test_cadre_workspace.py", "test_quarterly_review"): SEALED + " (the assessment)",
    ("test_counselling_relay.py", "test_a_conversation_both_sides_day_and_night"): (
        SEALED + " (the messages); the outbox rows hold references, never the words"
    ),
    ("test_cadre_relay.py", "test_a_person_writes_to_their_cadre_and_the_cadre_answers"): (
        SEALED + " (the messages to and from the cadre); the outbox rows hold references, never the words"
    ),
    ("test_cadre_relay.py", "test_the_person_gives_their_phone_and_the_cadre_can_call"): SEALED + " (the phone)",
    ("test_help_and_crisis.py", "test_counsellor_desk_urgent_first_taken_once_noted_and_closed"): (
        SEALED + " (the counsellor's private note)"
    ),
    ("test_hostile_chats.py", "test_telegram_update_ids_restarted_are_scoped_to_their_chat"): (
        "recorded update keys are scoped to the chat's keyed hash and hold no chat id in the clear"
    ),
    ("test_hostile_chats.py", "test_zalo_messages_without_a_message_id_are_counted_too"): (
        "each update without an id is recorded under a key of its own and keeps no reply text"
    ),
    ("test_hostile_chats.py", "test_a_tampered_chat_is_deduplicated_limited_and_audited_once_an_hour"): TAMPERED,
    ("test_revocation.py", "test_a_crisis_alert_waiting_for_a_closed_cadre_reaches_the_officer_at_once"): (
        "one queued row put in the state a dispatcher's claim leaves it in, mid-flight"
    ),
    ("test_sealed_rows.py", "test_test_results_swapped_between_two_people_are_refused"): TAMPERED,
    ("test_sealed_rows.py", "test_names_swapped_between_two_people_are_not_shown"): TAMPERED,
    (
        "test_sealed_rows.py",
        "test_no_platform_id_is_stored_in_the_clear",
    ): "every stored value, read as a copy of the database",
    ("test_telegram.py", "test_a_replayed_webhook_is_handled_once"): (
        "the recorded update keeps no reply text once delivered, under a key scoped to the chat"
    ),
    ("test_zalo.py", "test_a_retried_webhook_is_handled_once"): (
        "the recorded update keeps no reply text once delivered, under a key scoped to the chat"
    ),
}
RAW_MODULES = ("sqlalchemy", "sqlmodel", "bot.db.models")  # SQL, and the tables' row classes
RAW_ATTRIBUTES = ("session", "engine")  # repos.session.execute(…), app.engine.connect()


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import, `from x import y` counted as both x and x.y (y may be a module)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _is_test_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "tests" and any(p.startswith("test_") or p == "conftest" for p in parts[1:])


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    offending = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {module}"
        for path in _python_files(TESTS)
        for line, module in _imported(ast.parse(path.read_text(encoding="utf-8")))
        if _is_test_module(module)
    ]
    assert offending == [], "move what is shared into tests/support or tests/fakes:\n" + "\n".join(offending)


def _functions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """Top-level functions (and module-level code as "<module>")."""
    named = [(n.name, n) for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    rest = ast.Module(body=[n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)])
    return [*named, ("<module>", rest)]


def _at_rest_uses(path: Path) -> set[tuple[str, str]]:
    """(file, function) pairs that use a name imported from tests.support.at_rest."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == AT_REST
        for alias in node.names
    }
    uses = set()
    for function, node in _functions(tree):
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load) and inner.id in names:
                uses.add((path.name, function))
    return uses


def test_end_to_end_tests_hold_no_raw_sql() -> None:
    offending = []
    for path in _python_files(E2E):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(TESTS.parent)
        for line, module in _imported(tree):
            if any(module == raw or module.startswith(raw + ".") for raw in RAW_MODULES):
                offending.append(f"{where}:{line} imports {module}")
        for node in ast.walk(tree):
            whole_module = (isinstance(node, ast.Import) and any(a.name == AT_REST for a in node.names)) or (
                isinstance(node, ast.ImportFrom) and node.module == "tests.support"
                and any(a.name == "at_rest" for a in node.names)
            )  # fmt: skip
            if whole_module:
                offending.append(f"{where}:{node.lineno} imports {AT_REST} whole (import its functions by name)")
            if isinstance(node, ast.Attribute) and node.attr in RAW_ATTRIBUTES:
                offending.append(f"{where}:{node.lineno} uses .{node.attr}")
    assert offending == [], (
        "assert through the CLI, the repositories (tests/support/records.py) or what people are sent:\n"
        + "\n".join(offending)
    )


def test_rows_are_read_directly_only_where_allow_listed() -> None:
    used = set().union(*(_at_rest_uses(path) for path in _python_files(E2E)))
    unlisted = sorted(f"{file}::{function}" for file, function in used - AT_REST_ALLOWED.keys())
    assert unlisted == [], f"{AT_REST} is for checks no repository can make; say why in AT_REST_ALLOWED:\n" + "\n".join(
        unlisted
    )
    stale = sorted(f"{file}::{function}" for file, function in AT_REST_ALLOWED.keys() - used)
    assert stale == [], "no longer reads rows directly; take it off AT_REST_ALLOWED:\n" + "\n".join(stale)


def test_every_golden_transcript_belongs_to_a_journey() -> None:
    journeys = (E2E / "test_golden_transcripts.py").read_text(encoding="utf-8")
    stored = sorted(path.stem for path in GOLDEN.glob("*.txt"))
    assert stored, "no golden transcripts in tests/golden"
    orphans = [name for name in stored if f'"{name}"' not in journeys]
    assert orphans == [], f"golden transcripts no journey writes any more (delete them): {orphans}"
