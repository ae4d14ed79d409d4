"""Absences move the term end: unreported days do not count toward the term (Decree 116/2021 Art. 79)."""

from __future__ import annotations

from datetime import date

from bot.db.repositories.obligations import Absence
from bot.db.store import Repositories
from bot.domain.planning import unreported_absence_days
from bot.domain.terms import expected_end
from bot.services.operators import Operator

LONGEST = 366  # days: an absence longer than a year is a typo in the dates
FARTHEST = 3 * 366  # days between today and an absence's first day: further is a typo in the year


class AbsenceError(ValueError):
    """The absence cannot be recorded as given; the message says why."""


def implausible(first: date, last: date, today: date) -> bool:
    """Dates that look mistyped rather than lived: longer than a year away, or starting years from today. The chat
    and the console ask the officer to check them before anything is recorded."""
    return (last - first).days > LONGEST or abs((first - today).days) > FARTHEST


async def record_absence(
    repos: Repositories,
    participant_id: int,
    first: date,
    last: date,
    *,
    reported: bool,
    reason: str | None,
    by_staff: int | None,
    operator: Operator | None = None,
) -> tuple[Absence, date]:
    """Record it and recompute the expected end from the start, the term and every unreported absence
    (recomputed, so recording the same absence twice cannot double-count its days)."""
    if last < first:
        raise AbsenceError("an absence cannot end before it starts")
    person = await repos.participants.get(participant_id)
    if person is None:
        raise AbsenceError(f"no participant {participant_id}")
    absence = await repos.absences.add(participant_id, first, last, reported, reason, by_staff)
    spans = [(a.starts_on, a.ends_on, a.reported) for a in await repos.absences.of(participant_id)]
    end = expected_end(person.term_start, person.term_months, unreported_absence_days(spans))
    await repos.participants.update(participant_id, expected_end=end)
    detail = {"absence": absence.id, "reported": reported, "days": (last - first).days + 1}
    if operator is not None:  # the command line: who ran it
        await operator.record(repos, "absence_recorded", subject_type="participant", subject_id=participant_id,
                              detail=detail)  # fmt: skip
        return absence, end
    await repos.audit.record(
        actor_type="staff" if by_staff else "operator",
        actor_id=by_staff,
        action="absence_recorded",
        outcome="ok",
        subject_type="participant",
        subject_id=participant_id,
        detail=detail,
    )
    return absence, end
