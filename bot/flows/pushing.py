"""What a pushed message (an outbox row) is rendered from, and the one scope check pushed messages make.

An outbox row holds only a kind and references; its words are written when it is sent, in the recipient's language,
from the records as they are at that moment (a check-in done since planning means no reminder at all). Each flow
renders the kinds it owns (`Flow.pushes`, in its `pushed.py`); the registry finds the one renderer of a kind, and the
scheduler's `Renderer` loads the recipient and asks it. A renderer returns the message, or a `Skip` with the reason
(done already, stale, no longer theirs) and the row is closed as cancelled.

Discretion: a participant's notification is neutral ("you have an appointment") unless they chose explicit wording;
staff notifications start with a neutral line, so a lock screen shows nothing about anyone's treatment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from bot.core.i18n import Translator
from bot.core.messages import OutboundMessage
from bot.db.repositories.outbox import Claimed
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ActorKind, ParticipantScope, decide
from bot.domain.entities import Participant, StaffMember
from bot.domain.planning import MessageKind


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to send after all (done already, stale, nothing to report); the row is closed as cancelled."""

    reason: str


# A row of a kind addressed to the other audience (never written so): nothing a renderer could say.
WRONG_RECIPIENT = Skip("unknown_kind")


@dataclass(frozen=True, slots=True)
class Links:
    """Where a one-time download link points (a person's copy of their data on a channel without files): the web
    app's base URL, and whether it is public (AFTERCARE_PUBLIC_URL) — a Zalo user cannot open a local address."""

    base: str
    public: bool
    valid_for_hours: int = 72


@dataclass(frozen=True, slots=True)
class Push:
    """One claimed outbox row, its recipient (loaded now: an active staff member or a participant) and what rendering
    it may read."""

    repos: Repositories
    t: Translator  # in the recipient's language
    item: Claimed
    now: datetime
    tz: tzinfo
    recipient: Participant | StaffMember
    channel: str | None = None  # the chat it goes to (a copy of a person's data: files on Telegram, a link elsewhere)
    links: Links | None = None

    @property
    def kind(self) -> MessageKind:
        return self.item.kind

    @property
    def payload(self) -> dict[str, Any]:
        return self.item.payload

    @property
    def participant(self) -> Participant | None:
        return self.recipient if isinstance(self.recipient, Participant) else None

    @property
    def member(self) -> StaffMember | None:
        return self.recipient if isinstance(self.recipient, StaffMember) else None

    def date(self, day: date) -> str:
        return self.t.date(day)


Rendered = OutboundMessage | Skip
PushRenderer = Callable[[Push], Awaitable[Rendered]]


@dataclass(frozen=True, slots=True)
class Sent:
    """An outbox row the platform accepted, in the transaction that closes it: what only a message that really went
    out may record (a copy delivered, an export on record). A failed send never gets here."""

    repos: Repositories
    item: Claimed
    channel: str
    now: datetime


SentHook = Callable[[Sent], Awaitable[None]]


def label(t: Translator, person: Participant) -> str:
    """How staff notifications name a person."""
    return t._("{name} (#{id})", name=person.name, id=person.id)


async def subject(push: Push) -> Participant | Skip:
    """The person a staff notification is about (`participant_id` in its payload)."""
    person = await push.repos.participants.get(int(push.payload.get("participant_id", 0)))
    return Skip("no_person") if person is None else person


async def may(push: Push, action: Action, participant_id: int, unit_id: int, cadre_id: int | None = None) -> bool:
    """Whether the staff recipient may still do `action` to that person's record (listed in `unit_id`, followed by
    `cadre_id`), as the authorisation table says now. The one scope check of pushed messages: a row queued before a
    reassignment, a move or a hand-over never reaches someone it is no longer for."""
    member = push.member
    if member is None:
        return False
    unit = await push.repos.units.get(unit_id)
    scope = ParticipantScope(participant_id, unit_id, unit.parent_id if unit else None, cadre_id)
    actor = Actor(ActorKind.STAFF, member.id, member.role, member.unit_id)
    return decide(actor, action, scope).allowed
