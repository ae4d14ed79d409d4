"""A person's requests about their own data, shared by the chat (bot/flows/mydata), the console's request page and
the scheduler: asking for a copy or a correction, the commune's officer deciding, the overdue notice, and spending a
one-time download link.

Notifications are outbox rows holding only ids; their words are neutral (a lock screen shows nothing of anyone's
treatment). Every step is audited: who, whose, which request — never a correction's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.repositories.data_requests import DataRequest
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, decide
from bot.domain.data_requests import (
    DECLINE_REASONS,
    MAX_CORRECTION,
    REASONS_FOR,
    RequestKind,
    RequestStatus,
    deadline,
    link_hash,
    well_formed_token,
)
from bot.domain.entities import Participant
from bot.domain.planning import MessageKind
from bot.services.operators import Operator
from bot.services.record import scope_of


class TooLong(ValueError):
    """A correction longer than MAX_CORRECTION characters."""


@dataclass(frozen=True, slots=True)
class Made:
    request: DataRequest
    new: bool  # False: the same kind was already waiting (nothing new was sent to the officers)


async def ask(
    repos: Repositories,
    person: Participant,
    kind: RequestKind,
    now: datetime,
    days: int,
    *,
    text: str | None = None,
    channel: str | None = None,
) -> Made:
    """A request for a copy or a correction (the caller has asked REQUEST_OWN_DATA). One copy request waits at a
    time; corrections may be several (each says what is wrong). The officers of the person's commune are told."""
    if kind is RequestKind.COPY:
        waiting = await repos.data_requests.open_of(person.id, kind)
        if waiting is not None:
            return Made(waiting, new=False)
    words = (text or "").strip() if kind is RequestKind.CORRECTION else None
    if words is not None and len(words) > MAX_CORRECTION:
        raise TooLong(len(words))
    request_id = await repos.data_requests.add(person.id, kind, deadline(now, days), words or None)
    await repos.audit.record(
        actor_type="participant", actor_id=person.id, action="data_request_made", outcome="ok",
        subject_type="participant", subject_id=person.id,
        detail={"request": request_id, "kind": kind.value, **({"channel": channel} if channel else {})},
    )  # fmt: skip
    await repos.outbox.add([
        NewMessage(f"datareq:{request_id}:officer:{officer}", MessageKind.DATA_REQUEST, now, staff_id=officer,
                   payload={"request_id": request_id, "participant_id": person.id})
        for officer in await repos.escalations.officers_of(person.unit_id)
    ])  # fmt: skip
    request = await repos.data_requests.get(request_id)
    assert request is not None
    return Made(request, new=True)


@dataclass(frozen=True, slots=True)
class Decided:
    request: DataRequest
    person: Participant


@dataclass(frozen=True, slots=True)
class Refused:
    """Out of reach or unknown ("out_of_reach", audited), already decided ("decided"), or a reason not on the list
    ("reason", audited without the words given): nothing changed. Returned, not raised, so the refusal's audit
    entry is committed with the rest."""

    why: str


async def reachable(
    repos: Repositories, request_id: int, *, by: Actor, operator: Operator
) -> tuple[DataRequest, Participant] | None:
    """The request and its person, if `by` may decide it now (DECIDE_DATA_REQUEST, asked with the person's record as
    the database has it: another commune's officer is refused, the refusal audited); None otherwise."""
    request = await repos.data_requests.get(request_id)
    person = await repos.participants.get(request.participant_id) if request is not None else None
    reason = "no such request"
    if request is not None and person is not None:
        decision = decide(by, Action.DECIDE_DATA_REQUEST, await scope_of(repos, person))
        if decision:
            return request, person
        reason = decision.reason
    await operator.record(
        repos, f"denied:{Action.DECIDE_DATA_REQUEST.value}", outcome="denied",
        subject_type="participant" if person is not None else None, subject_id=person.id if person else None,
        detail={"reason": reason, "request": request_id},
    )  # fmt: skip
    return None


async def decide_request(
    repos: Repositories,
    request_id: int,
    *,
    approve: bool,
    reason: str | None,
    by: Actor,
    operator: Operator,
    now: datetime,
) -> Decided | Refused:
    """Approve (a copy: queued for the person's chat; a correction: marked done, after the officer corrected the
    record) or decline with a reason from the short list. The person is told."""
    found = await reachable(repos, request_id, by=by, operator=operator)
    if found is None:
        return Refused("out_of_reach")
    request, person = found
    if request.status is not RequestStatus.PENDING:
        return Refused("decided")
    if not approve and reason not in REASONS_FOR[request.kind]:
        await operator.record(
            repos, "data_request_decided", outcome="denied", subject_type="participant", subject_id=person.id,
            detail={"request": request.id, "reason": "not_on_list"},
        )  # fmt: skip
        return Refused("reason")
    if approve:
        status = RequestStatus.APPROVED if request.kind is RequestKind.COPY else RequestStatus.DONE
    else:
        status = RequestStatus.DECLINED
    if not await repos.data_requests.decide(request.id, status, by.id, None if approve else reason):
        return Refused("decided")
    await operator.record(
        repos, "data_request_decided", subject_type="participant", subject_id=person.id,
        detail={"request": request.id, "kind": request.kind.value, "status": status.value,
                **({"reason": reason} if not approve else {})},
    )  # fmt: skip
    kind = MessageKind.DATA_COPY if status is RequestStatus.APPROVED else MessageKind.DATA_REQUEST_DECIDED
    await repos.outbox.add([
        NewMessage(f"{kind.value}:{request.id}", kind, now, participant_id=person.id,
                   payload={"request_id": request.id})
    ])  # fmt: skip
    decided = await repos.data_requests.get(request.id)
    assert decided is not None
    return Decided(decided, person)


def reason_text(code: str | None) -> str | None:
    """The msgid of a decline reason (translated where it is shown)."""
    return DECLINE_REASONS.get(code or "")


async def plan_overdue(repos: Repositories, now: datetime) -> int:
    """Requests past their deadline without a decision: the officers reminded and the province's admins told, once
    per request (the flag is set in the same transaction). Returns how many requests were flagged."""
    flagged = 0
    for request in await repos.data_requests.overdue_unflagged(now):
        person = await repos.participants.get(request.participant_id)
        if person is None or not await repos.data_requests.flag_overdue(request.id):
            continue
        unit = await repos.units.get(person.unit_id)
        staff = await repos.escalations.officers_of(person.unit_id)
        if unit is not None and unit.parent_id is not None:
            staff += await repos.data_requests.admins_of(unit.parent_id)
        payload = {"request_id": request.id, "participant_id": person.id}
        await repos.outbox.add([
            NewMessage(f"dataoverdue:{request.id}:staff:{sid}", MessageKind.DATA_REQUEST_OVERDUE, now, staff_id=sid,
                       payload=payload)
            for sid in staff
        ])  # fmt: skip
        await repos.audit.record(
            actor_type="scheduler", actor_id=None, action="data_request_overdue", outcome="ok",
            subject_type="participant", subject_id=person.id, detail={"request": request.id, "told": len(staff)},
        )  # fmt: skip
        flagged += 1
    return flagged


async def copy_behind(repos: Repositories, token: str, now: datetime) -> DataRequest | None:
    """The approved copy a usable link would give, the link not spent (the copy is made before it is spent)."""
    return await repos.data_requests.usable_link(link_hash(token), now) if well_formed_token(token) else None


async def spend_link(repos: Repositories, token: str, now: datetime) -> DataRequest | None:
    """The approved copy behind a one-time link, the link spent now; None for an unknown, used or expired link (the
    refusal audited without the token)."""
    found = await repos.data_requests.spend_link(link_hash(token), now) if well_formed_token(token) else None
    await repos.audit.record(
        actor_type="anonymous", actor_id=None, action="data_copy_downloaded" if found else "data_copy_link_refused",
        outcome="ok" if found else "denied", subject_type="participant" if found else None,
        subject_id=found.participant_id if found else None, detail={"request": found.id} if found else {},
    )  # fmt: skip
    return found
