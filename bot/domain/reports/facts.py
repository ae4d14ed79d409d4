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

    def unit_on(self, day: date) -> int:
        """The commune whose list the person is on at the end of `day` (a move counts from its day)."""
        if len(self.homes) == 1:
            return self.homes[0][1]
        index = bisect_right([since for since, _ in self.homes], day) - 1
        return self.homes[max(index, 0)][1]

    def managed_on(self, day: date) -> bool:
        """Under management at the end of `day`: started on or before it, not completed by it, not past the
        expected end (unreported absences added)."""
        if self.term_start > day or day > self.expected_end:
            return False
        return self.completed_on is None or self.completed_on > day

    def due_for_completion_on(self, day: date) -> bool:
        """Past the expected end on `day` with no completion recorded: counted apart, never as under management."""
        return self.term_start <= day and self.expected_end < day and (
            self.completed_on is None or self.completed_on > day
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
