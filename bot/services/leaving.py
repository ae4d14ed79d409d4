"""A person leaves the list without completing: moved out of the province (status `transferred`) or taken off it
(`removed`). From `left_on` they are no longer under management in any report, nothing is owed after that day, no
reminder goes out, and the retention purge counts from it (bot/services/retention.py).

`by` is the staff member acting from the console (MANAGE_LIST on the record as the database has it); None is the
server's operator (the CLI). A refusal raises `Refused` after recording it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from bot.db.store import Repositories
from bot.domain.authz import Actor
from bot.domain.entities import FOLLOWED, ParticipantStatus
from bot.services.access import Refused
from bot.services.completion import _managed, stop_reminders
from bot.services.operators import Operator


class Reason(StrEnum):
    MOVED_OUT = "moved_out"  # moved out of the province
    REMOVED = "removed"  # taken off the list


STATUS = {Reason.MOVED_OUT: ParticipantStatus.TRANSFERRED, Reason.REMOVED: ParticipantStatus.REMOVED}


class LeaveError(ValueError):
    """The departure cannot be recorded as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Left:
    participant_id: int
    reason: Reason
    left_on: date
    status: ParticipantStatus

    def as_dict(self) -> dict[str, object]:
        """The CLI's JSON."""
        return {"id": self.participant_id, "reason": self.reason.value, "left_on": self.left_on.isoformat(),
                "status": self.status.value}  # fmt: skip


async def leave(
    repos: Repositories,
    participant_id: int,
    reason: Reason,
    on: date,
    *,
    now: datetime,
    zone: tzinfo,
    operator: Operator,
    by: Actor | None = None,
) -> Left:
    """Record that the person left the list on `on` (their local today at the latest); audited."""
    try:
        person = await _managed(repos, participant_id, operator, by)
    except Refused:
        raise
    except ValueError as exc:
        raise LeaveError(str(exc)) from exc
    if person.status not in FOLLOWED:
        raise LeaveError(f"participant {participant_id} is not on the list ({person.status})")
    today = now.astimezone(zone).date()
    if on > today:
        raise LeaveError(f"a departure is recorded on or after its day (today is {today})")
    if on < person.term_start:
        raise LeaveError(f"the term started on {person.term_start.isoformat()}; they cannot leave before it")
    status = STATUS[reason]
    # Retention counts from the day it was recorded when that is later: a backdated departure is kept as long.
    await repos.participants.update(participant_id, status=status, left_on=on, retain_from=max(on, today))
    await stop_reminders(repos, participant_id, on, "left_list")
    await operator.record(
        repos, "participant_left", subject_type="participant", subject_id=participant_id,
        detail={"reason": reason.value, "on": on.isoformat()},
    )  # fmt: skip
    return Left(participant_id, reason, on, status)
