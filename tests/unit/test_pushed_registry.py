"""Every pushed message (an outbox row's `MessageKind`) is worded by exactly one flow, found through the registry; the
scheduler's renderer knows no kind, no button and no scope rule of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.core.messages import OutboundMessage
from bot.domain.planning import MessageKind
from bot.flows import relay
from bot.flows.flow import Audience, Flow
from bot.flows.pushing import Push, Rendered
from bot.flows.registry import Registry, build_registry

ROOT = Path(__file__).resolve().parents[2]

# Kinds no flow words, each with the reason it is never sent. Empty: every kind is pushed.
NEVER_PUSHED: dict[MessageKind, str] = {}

# Who words what: one flow per kind (by the flow's name), decided by whose buttons the message carries or, without
# buttons, whose record it is about. A change here is a decision, not a side effect.
OWNERS: dict[MessageKind, str] = {
    MessageKind.REMINDER: "checkin",
    MessageKind.SUPPORT_OFFER: "checkin",
    MessageKind.COMPLETION: "home",
    MessageKind.RELAY: "relay",
    MessageKind.RELAY_ENDED: "relay",
    MessageKind.REFERRAL_ACCEPTED: "relay",
    MessageKind.RELAY_REQUEST: "counsel",
    MessageKind.CRISIS_ALERT: "counsel",
    MessageKind.REFERRAL_NOTICE: "support",
    MessageKind.SAFETY_FOLLOW_UP: "safety",
    MessageKind.ESCALATION: "inbox",
    MessageKind.DEAD_LETTER: "inbox",
    MessageKind.DIGEST: "caseload",
    MessageKind.ASSIGNMENT: "caseload",
    MessageKind.CADRE_NEEDED: "caseload",
    MessageKind.FIELD_REPORT: "officer",
    MessageKind.TRANSFER_NOTICE: "officer",
    MessageKind.COMPLETION_NOTICE: "officer",
    MessageKind.REVIEW_REQUEST: "review",
    MessageKind.REVIEWS_MISSING: "review",
    MessageKind.DATA_REQUEST: "mydata",
    MessageKind.DATA_REQUEST_OVERDUE: "mydata",
    MessageKind.DATA_COPY: "mydata",
    MessageKind.DATA_REQUEST_DECIDED: "mydata",
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry()


def test_every_kind_has_exactly_one_renderer(registry: Registry) -> None:
    flows = [*registry.flows, registry.linking]
    for kind in MessageKind:
        owners = [flow.name for flow in flows if kind in flow.pushes]
        if kind in NEVER_PUSHED:
            assert not owners and NEVER_PUSHED[kind], kind
            assert registry.renderer(kind) is None, kind
            continue
        assert len(owners) == 1, f"{kind}: {owners or 'no flow words it'}"
        assert registry.renderer(kind) is next(f for f in flows if kind in f.pushes).pushes[kind]
        pusher = registry.pushed_by(kind)
        assert pusher is not None and pusher.name == owners[0]


def test_the_owners_are_the_documented_ones(registry: Registry) -> None:
    assert set(OWNERS) | set(NEVER_PUSHED) == set(MessageKind)
    actual = {kind: flow.name for kind in MessageKind if (flow := registry.pushed_by(kind)) is not None}
    assert actual == OWNERS


def test_each_renderer_lives_in_its_flows_pushed_module(registry: Registry) -> None:
    for kind in OWNERS:
        pusher, render = registry.pushed_by(kind), registry.renderer(kind)
        assert pusher is not None and render is not None
        package = type(pusher).__module__
        assert render.__module__ == f"{package}.pushed", (kind, render.__module__)


async def _nothing(push: Push) -> Rendered:
    return OutboundMessage("")


def test_two_renderers_for_one_kind_are_refused() -> None:
    class One(Flow):
        name, audience, pushes = "one", Audience.STAFF, {MessageKind.DIGEST: _nothing}

    class Two(Flow):
        name, audience, pushes = "two", Audience.STAFF, {MessageKind.DIGEST: _nothing}

    home = One()
    with pytest.raises(ValueError, match="rendered by both one and two"):
        Registry([home, Two()], {Audience.STAFF: home, Audience.PARTICIPANT: home}, home)


def test_build_registry_refuses_a_kind_claimed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay.RelayFlow, "pushes", {**relay.RelayFlow.pushes, MessageKind.DIGEST: _nothing})
    with pytest.raises(ValueError, match="'digest' is rendered by both"):
        build_registry()


def test_the_scheduler_knows_no_kind_no_flow_and_no_scope_rule() -> None:
    """The scheduler's renderer only loads the recipient and asks the registry; scope is asked of the authorisation
    table in one helper (bot/flows/pushing.py `may`), never compared by hand in a renderer."""
    source = (ROOT / "bot" / "scheduler" / "texts.py").read_text("utf-8")
    tree = ast.parse(source)
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {
        "__future__",
        "dataclasses",
        "datetime",
        "bot.core.i18n",
        "bot.core.messages",
        "bot.db.repositories.outbox",
        "bot.db.store",
        "bot.domain.entities",
        "bot.flows.pushing",
        "bot.flows.registry",
    }, imported
    assert "MessageKind" not in source and "Verbs" not in source
    assert not (ROOT / "bot" / "scheduler" / "relay_texts.py").exists()
    for path in (ROOT / "bot" / "flows").glob("*/pushed.py"):
        text = path.read_text("utf-8")
        for hand_made in ("decide(", "ParticipantScope", "Role."):
            assert hand_made not in text, f"{path.relative_to(ROOT)}: {hand_made} (use pushing.may)"
