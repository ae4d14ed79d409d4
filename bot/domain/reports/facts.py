"""What a report is computed from: clear, nameless rows the repository gathers for a set of communes and a period.

Nothing here names a person; a participant is an id. Days are local days; instants are converted by the repository
with the deployment's time zone before they get here."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Person:
    """One listed person and the communes they lived in: `homes` is ((since, unit_id), …) oldest first, the first
    `since` being date.min (their commune before any accepted move)."""

    id: int
    term_start: date
    expected_end: date  # the term's last day, moved by unreported absences
    completed_on: date | None
    homes: tuple[tuple[date, int], ...]
    left_on: date | None = None  # left the list (completed, moved out of the province, removed)

    def unit_on(self, day: date) -> int:
        """The commune whose list the person is on at the end of `day` (a move counts from its day)."""
        if len(self.homes) == 1:
            return self.homes[0][1]
        index = bisect_right([since for since, _ in self.homes], day) - 1
        return self.homes[max(index, 0)][1]

    def managed_on(self, day: date) -> bool:
        """Under management at the end of `day`: started on or before it, not completed or gone from the list by it,
        not past the expected end (unreported absences added)."""
        if self.term_start > day or day > self.expected_end or (self.left_on is not None and self.left_on <= day):
            return False
        return self.completed_on is None or self.completed_on > day

    def due_for_completion_on(self, day: date) -> bool:
        """Past the expected end on `day` with no completion recorded: counted apart, never as under management."""
        return (
            self.term_start <= day
            and self.expected_end < day
            and (self.completed_on is None or self.completed_on > day)
            and (self.left_on is None or self.left_on > day)
        )


@dataclass(frozen=True, slots=True)
class Move:
    participant_id: int
    from_unit: int
    to_unit: int
    moved_on: date


@dataclass(frozen=True, slots=True)
class Absence:
    participant_id: int
    starts_on: date
    ends_on: date
    reported: bool


@dataclass(frozen=True, slots=True)
class Duty:
    """A check-in or test the schedule asked for (cancelled ones are not gathered)."""

    participant_id: int
    kind: str  # checkin | test | random_test
    due_on: date
    status: str  # pending | done | missed
    self_reported: bool = False  # a check-in completed by chat


@dataclass(frozen=True, slots=True)
class InPerson:
    participant_id: int
    month: str  # "2026-11"
    checked_on: date
    outcome: str  # present | absent | unreachable


@dataclass(frozen=True, slots=True)
class Result:
    participant_id: int
    taken_on: date
    outcome: str  # negative | positive | refused | no_show | invalid
    unannounced: bool  # answers a random test


@dataclass(frozen=True, slots=True)
class Request:
    """A request for help (a referral); a conversation with one's own cadre is not one."""

    participant_id: int
    kind: str
    asked_on: date
    accepted_on: date | None
    outcome: str | None  # None while open


@dataclass(frozen=True, slots=True)
class Crisis:
    participant_id: int
    raised_on: date
    minutes_to_answer: float | None  # to the first human answer; None when nobody answered yet


@dataclass(frozen=True, slots=True)
class Review:
    participant_id: int
    quarter: str
    progress: str  # good | fair | concerning


@dataclass(frozen=True, slots=True)
class Chats:
    """A person's linked chats: how many, how many the platform says cannot be reached."""

    linked: int
    unreachable: int


@dataclass(slots=True)
class Facts:
    people: dict[int, Person] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    duties: list[Duty] = field(default_factory=list)
    in_person: list[InPerson] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    crises: list[Crisis] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    chats: dict[int, Chats] = field(default_factory=dict)


def by_month(facts: Facts, months: list[tuple[date, date]]) -> list[Facts]:
    """The facts of a span split into its months in one pass (a trend tallies each month from its own share, not
    from the whole span twelve times). People, chats, requests (earlier ones count for 'accessed services') and
    reviews are shared; an absence goes to every month it overlaps."""
    shares = [Facts(facts.people, [], [], [], [], [], facts.requests, [], facts.reviews, facts.chats) for _ in months]
    index = {(first.year, first.month): number for number, (first, _) in enumerate(months)}

    def share(day: date) -> Facts | None:
        number = index.get((day.year, day.month))
        return shares[number] if number is not None else None

    for move in facts.moves:
        if (s := share(move.moved_on)) is not None:
            s.moves.append(move)
    for absence in facts.absences:
        for number, (first, last) in enumerate(months):
            if absence.starts_on <= last and absence.ends_on >= first:
                shares[number].absences.append(absence)
    for duty in facts.duties:
        if (s := share(duty.due_on)) is not None:
            s.duties.append(duty)
    for check in facts.in_person:
        if (s := share(check.checked_on)) is not None:
            s.in_person.append(check)
    for result in facts.results:
        if (s := share(result.taken_on)) is not None:
            s.results.append(result)
    for crisis in facts.crises:
        if (s := share(crisis.raised_on)) is not None:
            s.crises.append(crisis)
    return shares
