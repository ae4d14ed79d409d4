"""What a handler gets for one message: the resolved actor, its records, state, repositories and translator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from bot.core.clock import Clock
from bot.core.i18n import Audience, Catalogs, Translator
from bot.core.messages import InboundMessage, OutboundMessage
from bot.db.repositories.conversations import ConversationState
from bot.db.store import Keyring, Repositories
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.canned import CannedReply
from bot.domain.crisis import CrisisDetector, Deferred
from bot.domain.entities import Identity, Participant, StaffMember
from bot.domain.hotlines import Hotline
from bot.domain.invites import InvitePolicy
from bot.domain.lockout import LockoutPolicy
from bot.flows.flow import as_number

HOME = "menu"  # the state of a chat at its home menu, in no flow


@dataclass(frozen=True, slots=True)
class Policies:
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    invites: InvitePolicy = field(default_factory=InvitePolicy)
    max_text_length: int = 4000
    inbound_per_minute: int = 30  # updates one chat may send in a minute before it is asked to slow down; 0: no limit
    staff_inbound_factor: int = 3  # a staff member's chat may send this many times `inbound_per_minute`
    crisis: CrisisDetector | Deferred | None = None  # None only in tests that do not need it; the app always sets it
    hotlines: tuple[Hotline, ...] = ()
    canned: tuple[CannedReply, ...] = ()
    # Where the staff console is reached (AFTERCARE_PUBLIC_URL, else http://HOST:PORT): its sign-in links start so.
    # None: no console here (a test's engine), so no link is offered.
    console_url: str | None = None
    # A person's own data: how long the officer has to decide a request (AFTERCARE_DATA_REQUEST_DAYS), and how long
    # records are kept after a person leaves the list (AFTERCARE_RETENTION_DAYS) — both said to the person.
    data_request_days: int = 3
    retention_days: int = 365

    def inbound_limit(self, *, staff: bool) -> int:
        """Updates a chat may send in a minute (0: no limit).

        An active staff member's chat gets `staff_inbound_factor` times the limit: a cadre entering results or
        working through a list presses several buttons per record, and a held press is input lost; at 60 a minute
        (one a second, sustained) no person working by hand is cut off. Presses are not counted at a discount
        instead: a valid button can be pressed over and over, so presses flood as cheaply as text, and a chat not
        linked to active staff (a stranger, a participant, a closed account) keeps the plain limit."""
        return self.inbound_per_minute * self.staff_inbound_factor if staff else self.inbound_per_minute


@dataclass(slots=True)
class Context:
    msg: InboundMessage
    repos: Repositories
    catalogs: Catalogs
    t: Translator
    clock: Clock
    tz: tzinfo
    keyring: Keyring
    policies: Policies
    actor: Actor
    identity: Identity | None = None
    participant: Participant | None = None
    staff: StaffMember | None = None
    state: ConversationState = field(default_factory=ConversationState)

    def leave(self) -> None:
        """Back to the home menu: the flow's half-entered values go, what it saved stays."""
        self.state.flow, self.state.step, self.state.data = HOME, "", {}

    def use_language(self, language: str) -> None:
        """Staff are addressed "anh/chị" (the catalog's "staff" variants), participants "bạn"."""
        self.t = self.catalogs.translator(language, Audience.STAFF if self.staff is not None else Audience.PARTICIPANT)

    async def audit(
        self,
        action: str,
        outcome: str = "ok",
        *,
        subject_type: str | None = None,
        subject_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.repos.audit.record(
            actor_type=self.actor.kind.value,
            actor_id=self.actor.id,
            action=action,
            outcome=outcome,
            subject_type=subject_type,
            subject_id=subject_id,
            detail={"channel": self.msg.channel, **(detail or {})},
        )

    async def allowed(self, action: Action, target: ParticipantScope | None = None) -> bool:
        """Ask the one authorisation rule; a denial is audited, never silent."""
        decision = decide(self.actor, action, target)
        if not decision:
            await self.audit(
                f"denied:{action.value}",
                "denied",
                subject_type="participant" if target else None,
                subject_id=target.participant_id if target else None,
                detail={"reason": decision.reason},
            )
        return decision.allowed

    async def scope_of(self, person: Participant) -> ParticipantScope:
        """The facts that decide who may touch this record, read from the database now (never from a payload)."""
        unit = await self.repos.units.get(person.unit_id)
        return ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)

    async def permitted(self, action: Action, participant_id: object) -> Participant | None:
        """The participant, if this actor may do this to them now; None (denial audited) otherwise, including for an
        id that does not exist or is not a number (a forged or guessed payload)."""
        pid = as_number(participant_id)
        person = await self.repos.participants.get(pid) if pid is not None else None
        if person is None:
            await self.audit(f"denied:{action.value}", "denied", detail={"reason": "no such record"})
            return None
        if not await self.allowed(action, await self.scope_of(person)):
            return None
        return person

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    async def own_scope(self) -> ParticipantScope | None:
        if self.participant is None:
            return None
        unit = await self.repos.units.get(self.participant.unit_id)
        return ParticipantScope(
            participant_id=self.participant.id,
            unit_id=self.participant.unit_id,
            province_id=unit.parent_id if unit else None,
            cadre_id=self.participant.cadre_id,
        )


Replies = list[OutboundMessage]
