"""Every flow of the conversation, and the questions asked about them: which flow owns this action, which flow is
this chat in (the engine), and which renderer words this pushed message (the scheduler). A new feature is a new
`Flow` listed in `build_registry`; nothing else routes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.flows.flow import Audience, Flow, Pressed

if TYPE_CHECKING:
    from bot.domain.planning import MessageKind
    from bot.flows.pushing import PushRenderer, SentHook


@dataclass(frozen=True, slots=True)
class Routed:
    flow: Flow
    pressed: Pressed


class Registry:
    def __init__(self, flows: Sequence[Flow], homes: dict[Audience, Flow], linking: Flow) -> None:
        """`homes`: the menu each audience returns to (its flow is the state of a chat in no other flow);
        `linking`: what an unlinked chat talks to."""
        self.flows = tuple(flows)
        self._homes = dict(homes)
        self.linking = linking
        self._verbs: dict[str, Routed] = {}
        for flow in (*self.flows, linking):
            for verb in flow.verbs or ():
                if verb.value in self._verbs:
                    other = self._verbs[verb.value].flow.name
                    raise ValueError(f"action {verb.value!r} is routed by both {other} and {flow.name}")
                self._verbs[verb.value] = Routed(flow, Pressed(verb))
        names = [flow.name for flow in self.flows]
        if len(set(names)) != len(names):
            raise ValueError("two flows share a name")
        self._pushes: dict[MessageKind, tuple[Flow, PushRenderer]] = {}
        for flow in (*self.flows, linking):
            for kind, render in flow.pushes.items():
                if kind in self._pushes:
                    other = self._pushes[kind][0].name
                    raise ValueError(f"pushed message {kind.value!r} is rendered by both {other} and {flow.name}")
                self._pushes[kind] = (flow, render)

    def decode(self, action: str) -> Routed | None:
        """The flow and verb of an offered action: the longest verb the action starts with (at a ":"), the rest its
        argument. None: no flow offers such an action."""
        head = action
        while True:
            routed = self._verbs.get(head)
            if routed is not None:
                return Routed(routed.flow, Pressed(routed.pressed.verb, action[len(head) + 1 :]))
            head, colon, _ = head.rpartition(":")
            if not colon:
                return None

    def renderer(self, kind: MessageKind) -> PushRenderer | None:
        """The one renderer of a pushed message's kind; None: no flow words it."""
        owned = self._pushes.get(kind)
        return owned[1] if owned else None

    def after_sent(self, kind: MessageKind) -> SentHook | None:
        """What the owner of a pushed kind records once such a message was accepted by the platform; None: nothing."""
        owned = self._pushes.get(kind)
        return owned[0].sent.get(kind) if owned else None

    def pushed_by(self, kind: MessageKind) -> Flow | None:
        """The flow that words a pushed message's kind."""
        owned = self._pushes.get(kind)
        return owned[0] if owned else None

    def home(self, audience: Audience) -> Flow:
        return self._homes[audience]

    def current(self, audience: Audience, state: object) -> Flow:
        """The flow holding the chat's state; the audience's home when none does (a state left by an older version
        or from a flow since removed starts again from the menu)."""
        for flow in self.flows:
            if flow.audience is audience and flow.holds(state):  # type: ignore[arg-type]
                return flow
        return self._homes[audience]


def build_registry() -> Registry:
    """The table of flows. Order matters only for `current` (the first flow holding a state); states are disjoint."""
    from bot.flows import (
        absences,
        caseload,
        checkin,
        counsellor,
        enrolment,
        fieldwork,
        inbox,
        mydata,
        officer,
        participant,
        relay,
        reviews,
        safety,
        staff,
        support,
    )
    from bot.flows.relay import cadre as cadre_chat

    participant_home = participant.HomeFlow()
    staff_home = staff.HomeFlow()
    flows: list[Flow] = [
        enrolment.OnboardingFlow(),
        participant_home,
        checkin.CheckinFlow(),
        support.SupportFlow(),
        mydata.MyDataFlow(),
        relay.RelayFlow(),
        safety.SafetyFlow(),
        staff_home,
        caseload.CaseloadFlow(),
        fieldwork.FieldworkFlow(),
        inbox.InboxFlow(),
        officer.OfficerFlow(),
        reviews.ReviewFlow(),
        absences.AbsenceFlow(),
        counsellor.CounsellorFlow(),
        cadre_chat.CadreChatFlow(),
    ]
    return Registry(
        flows,
        {Audience.PARTICIPANT: participant_home, Audience.STAFF: staff_home},
        enrolment.LinkingFlow(),
    )
