"""Plain records the repositories return; handlers and rules never touch ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Role(StrEnum):
    CADRE = "cadre"
    COUNSELLOR = "counsellor"
    OFFICER = "officer"
    ADMIN = "admin"


class UnitLevel(StrEnum):
    PROVINCE = "province"
    COMMUNE = "commune"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class ParticipantStatus(StrEnum):
    ENROLLED = "enrolled"  # on the list, chat not linked or consent not complete
    ACTIVE = "active"  # linked and consented to chat reminders
    COMPLETED = "completed"
    TRANSFERRED = "transferred"  # moved out of the province
    REMOVED = "removed"  # taken off the list (a decision ended, recorded in error)


FOLLOWED = (ParticipantStatus.ENROLLED, ParticipantStatus.ACTIVE)  # on a commune's list now: followed by its staff


class Wording(StrEnum):
    """How reminders read on a lock screen: neutral unless the participant asks otherwise."""

    NEUTRAL = "neutral"
    EXPLICIT = "explicit"


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    level: UnitLevel
    parent_id: int | None
    checkin_due_day: int = 10
    test_place: str = ""
    test_hours: str = ""


@dataclass(frozen=True, slots=True)
class CounsellingPoint:
    id: int
    unit_id: int
    name: str
    address: str
    phone: str
    hours: str


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    name: str
    role: Role
    unit_id: int
    point_id: int | None
    language: str
    active: bool
    on_duty: bool = False


@dataclass(frozen=True, slots=True)
class Participant:
    id: int
    unit_id: int
    name: str
    national_id: str | None
    term_start: date
    term_months: int
    expected_end: date
    risk_level: RiskLevel
    status: ParticipantStatus
    cadre_id: int | None
    language: str
    wording: Wording
    reminder_hour: int = 8
    completed_on: date | None = None
    register: Register = field(default_factory=lambda: Register())
    left_on: date | None = None  # left the list (completed, moved out of the province, removed)


@dataclass(frozen=True, slots=True)
class Register:
    """What the commune's register (Mẫu 52) holds beyond the name and term; every field may be unknown."""

    birth_year: int | None = None
    sex: Sex | None = None
    address: str | None = None
    phone: str | None = None
    decision_no: str | None = None
    decision_date: date | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """A linked chat: exactly one of participant_id / staff_id is set."""

    id: int
    channel: str
    participant_id: int | None
    staff_id: int | None
    linked_at: datetime
    unreachable: bool = False


@dataclass(frozen=True, slots=True)
class InviteTarget:
    """Whom a redeemed invite code links the chat to."""

    invite_id: int
    participant_id: int | None
    staff_id: int | None
