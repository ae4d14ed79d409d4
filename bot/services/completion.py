"""The end of a management term: the person completes and leaves the list; the commune gives them the certificate
(Mẫu 54, Decree 116/2021/NĐ-CP).

The planner completes a term on its own the day after it ends (`finish_term`, shared with it); an officer may record
it by hand (`complete`) on or after the expected end — before it the law has not been served, and unreported
absences move that end (Decree 116/2021 Art. 79), so it is recomputed here from the start, the term and every
absence rather than trusted from a stored column. A completed or transferred person cannot complete (again).

`by` is the staff member acting from the console, checked against the one authorisation table (MANAGE_LIST, the
record's scope as the database has it now); None is the server's operator (the CLI). `operator` is who the audit
names. A refusal raises `Refused` after recording it in the caller's transaction (commit it), before any change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.documents.certificate import CompletionCertificate, render_certificate
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.entities import Participant, ParticipantStatus
from bot.domain.planning import MessageKind, unreported_absence_days
from bot.domain.terms import expected_end
from bot.services.access import Refused
from bot.services.operators import Operator


class Why(StrEnum):
    TOO_EARLY = "too_early"  # the term (moved by unreported absences) has not ended on that day
    IN_FUTURE = "in_future"  # a completion is recorded on or after the day it happens
    NOT_ON_LIST = "not_on_list"  # completed already, or moved to another commune
    NOT_COMPLETED = "not_completed"  # a certificate is for a completed term
    UNKNOWN = "unknown"


class CompletionError(ValueError):
    """The completion cannot be recorded as asked; `why` says which rule, the message says it in words."""

    def __init__(self, why: Why, message: str, *, expected_end: date | None = None) -> None:
        super().__init__(message)
        self.why = why
        self.expected_end = expected_end


@dataclass(frozen=True, slots=True)
class Completed:
    participant_id: int
    completed_on: date
    status: ParticipantStatus
    expected_end: date

    def as_dict(self) -> dict[str, object]:
        """The CLI's JSON."""
        return {"id": self.participant_id, "completed_on": self.completed_on.isoformat(), "status": self.status.value}


async def term_end(repos: Repositories, person: Participant) -> date:
    """The day the term ends: start + term, plus every day of unreported absence (overlaps counted once)."""
    spans = [(a.starts_on, a.ends_on, a.reported) for a in await repos.absences.of(person.id)]
    return expected_end(person.term_start, person.term_months, unreported_absence_days(spans))


async def finish_term(
    repos: Repositories, participant_id: int, *, term_end: date, completed_on: date, now: datetime, zone: tzinfo
) -> None:
    """What completing changes, whoever completes the term: the person leaves the list (completed on that day),
    nothing is owed after the term's end, no reminder goes out any more, and they are told once (the same message
    key as the planner's, so the planner and an officer can never both tell them)."""
    # Retention counts from the day the person left, but never from before the completion was recorded: a term found
    # ended long ago (an imported list, a planner that did not run) is not purged before anyone saw it. Reports go by
    # `completed_on`, so this later day changes no figure. The day is the commune's (AFTERCARE_TIMEZONE), not UTC's.
    left_on = max(completed_on, now.astimezone(zone).date())
    await repos.participants.update(
        participant_id, status=ParticipantStatus.COMPLETED, completed_on=completed_on, left_on=left_on,
        retain_from=left_on,
    )  # fmt: skip
    await stop_reminders(repos, participant_id, term_end, "term_ended")
    await repos.outbox.add(
        [NewMessage(f"completion:{participant_id}", MessageKind.COMPLETION, now, participant_id=participant_id)]
    )


async def stop_reminders(repos: Repositories, participant_id: int, after: date, reason: str) -> None:
    """Nothing is owed after `after` and no reminder goes out any more (completion, leaving the list)."""
    await repos.obligations.cancel_open_after(participant_id, after)
    await repos.outbox.cancel_all_reminders_of(participant_id, reason)


async def _managed(repos: Repositories, participant_id: int, operator: Operator, by: Actor | None) -> Participant:
    """The person, if `by` (when given) may manage their record; otherwise the refusal, on record."""
    person = await repos.participants.get(participant_id)
    reason = "no such record"
    if person is not None:
        if by is None:
            return person
        unit = await repos.units.get(person.unit_id)
        scope = ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)
        decision = decide(by, Action.MANAGE_LIST, scope)
        if decision:
            return person
        reason = decision.reason
    if by is None:
        raise CompletionError(Why.UNKNOWN, f"no participant {participant_id}")
    await operator.record(
        repos, f"denied:{Action.MANAGE_LIST.value}", subject_type="participant", subject_id=participant_id,
        outcome="denied", detail={"reason": reason},
    )  # fmt: skip
    raise Refused("not allowed")


async def complete(
    repos: Repositories,
    participant_id: int,
    on: date,
    *,
    now: datetime,
    zone: tzinfo,
    operator: Operator,
    by: Actor | None = None,
) -> Completed:
    """Record that the person completed their term on `on` (their local today at the latest)."""
    person = await _managed(repos, participant_id, operator, by)
    if person.status not in (ParticipantStatus.ENROLLED, ParticipantStatus.ACTIVE):
        raise CompletionError(Why.NOT_ON_LIST, f"participant {participant_id} is not on the list ({person.status})")
    today = now.astimezone(zone).date()
    if on > today:
        raise CompletionError(Why.IN_FUTURE, f"a completion is recorded on or after its day (today is {today})")
    end = await term_end(repos, person)
    if on < end:
        raise CompletionError(
            Why.TOO_EARLY,
            f"the term ends on {end.isoformat()} (unreported absences included); it cannot be completed before",
            expected_end=end,
        )
    if end != person.expected_end:  # an absence recorded without recomputing: the register says the truth again
        await repos.participants.update(participant_id, expected_end=end)
    await finish_term(repos, participant_id, term_end=end, completed_on=on, now=now, zone=zone)
    await operator.record(
        repos, "term_completed", subject_type="participant", subject_id=participant_id,
        detail={"on": on.isoformat(), "end": end.isoformat()},
    )  # fmt: skip
    return Completed(participant_id, on, ParticipantStatus.COMPLETED, end)


async def certificate(
    repos: Repositories, participant_id: int, *, operator: Operator, by: Actor | None = None
) -> CompletionCertificate:
    """What the certificate of a completed term says. It prints the person's name, national ID and address, so every
    printing is audited (who, whose; never the content)."""
    person = await _managed(repos, participant_id, operator, by)
    if person.status is not ParticipantStatus.COMPLETED or person.completed_on is None:
        raise CompletionError(Why.NOT_COMPLETED, f"participant {participant_id} has not completed their term")
    unit = await repos.units.get(person.unit_id)
    register = person.register
    await operator.record(repos, "certificate_printed", subject_type="participant", subject_id=participant_id)
    return CompletionCertificate(
        commune=unit.name if unit else "",
        name=person.name,
        sex=register.sex,
        birth_year=register.birth_year,
        national_id=person.national_id,
        address=register.address,
        decision_no=register.decision_no,
        decision_date=register.decision_date,
        term_start=person.term_start,
        term_end=person.completed_on,
    )


async def certificate_pdf(content: CompletionCertificate) -> bytes:
    """The PDF, drawn in a worker thread after the transaction (the event loop keeps serving)."""
    return await asyncio.to_thread(render_certificate, content)
